/**
 * A plan worker process (forked by tools/plan/environment.ts `runInWorkers`): records one stack per message (its plan,
 * or for the benchmark its floor) and answers with the result. It lives for many stacks; the recorder drops each run's
 * state when the run ends.
 */
import { openRegistrySnapshot } from "../../stacks/readConfig";
import { peakRssMiB, recordStackJob, type WorkerJob } from "./environment";

// A worker lives for one plan: the tenant files are one snapshot for all its stacks.
openRegistrySnapshot();

async function run(job: WorkerJob): Promise<unknown> {
    if (job.kind === "plan") return recordStackJob(job.job);
    const { recordFloor } = await import("./floor");
    return { ...(await recordFloor(job)), peakRssMiB: peakRssMiB() };
}

process.on("message", (job: WorkerJob) => {
    run(job).then(
        (result) => process.send!({ ok: true, result }),
        (e: unknown) => process.send!({ ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
});
