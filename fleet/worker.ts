/** A fleet worker process: runs one stack's job at a time for the parent (fleet/automation.ts), over IPC. */
import { runOperation, stackHistory, type WorkerJob } from "./stackOperations";

process.on("message", (job: WorkerJob) => {
    const work = job.kind === "history" ? stackHistory(job.stack, job.target) : runOperation(job.stack, job.operation!, job.target);
    work.then(
        (result) => process.send!({ ok: true, result }),
        (e: unknown) => process.send!({ ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
});
