/**
 * fleet/automation.ts WorkerPoolRunner with a stand-in worker (plain JavaScript, no Pulumi): a worker process that dies
 * mid-stack (killed for memory, say) fails that stack only; the next stack on its slot gets a new worker.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { WorkerPoolRunner } from "../../fleet/automation";
import { makeTempDir } from "../support/tempDirs";

const WORKER = `process.on("message", (job) => {
    if (job.stack === "crash") process.exit(137);
    process.send({ ok: true, result: { status: "ok", changes: { same: 1 }, message: String(process.pid) } });
});
`;

describe("WorkerPoolRunner", () => {
    it("a worker that dies fails its stack only; the next stack on that slot runs in a new worker", async () => {
        const root = makeTempDir("fleet-pool-");
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: tenancy\n");
        const workerPath = path.join(root, "worker.js");
        fs.writeFileSync(workerPath, WORKER);
        const runner = new WorkerPoolRunner(root, 1, undefined, { workerPath, execArgv: [] });
        try {
            const first = await runner.run("a", "up");
            expect(first.status).toBe("ok");
            await expect(runner.run("crash", "up")).rejects.toThrow(/worker for crash exited \(137\)/);
            const after = await runner.run("b", "up");
            expect(after.status).toBe("ok");
            expect(after.message).not.toBe(first.message);
        } finally {
            await runner.close();
        }
        // The workspace directory links the repository's entries.
        expect(fs.readlinkSync(path.join(root, ".fleet/workspaces/w0/Pulumi.yaml"))).toBe(path.join(root, "Pulumi.yaml"));
    }, 15_000);
});
