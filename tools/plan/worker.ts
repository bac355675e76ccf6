/**
 * A plan worker process (forked by tools/plan/environment.ts): records one stack per message and answers with its
 * plan resources and outputs. It lives for many stacks; the recorder drops each run's state when the run ends.
 */
import { recordStackJob, type StackJob } from "./environment";

process.on("message", (job: StackJob) => {
    recordStackJob(job).then(
        (result) => process.send!({ ok: true, result }),
        (e: unknown) => process.send!({ ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
});
