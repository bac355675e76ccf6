/**
 * The real adapter: a pool of worker processes (fleet/worker.ts), each running one stack at a time through the
 * Automation API in a workspace directory of its own, and the `pulumi` CLI for `state move`. Thin by design: the
 * orchestrator's logic is in fleet/run.ts and is tested against a fake of {@link StackRunner}.
 */
import { fork, spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Target, WorkerJob } from "./stackOperations";
import type { Operation, PulumiCli, StackHistory, StackOutcome, StackRunner } from "./types";
import { loaderArgs } from "../tools/workerProcess";

/** Entries of the repository a workspace must not link: the fleet's own state and version control. */
const NOT_LINKED = new Set([".fleet", ".git"]);

/**
 * A workspace directory for worker `i`: a directory of symbolic links to the repository's entries. Pulumi keys its
 * workspace state on the project's directory, so each worker selecting stacks there cannot race another worker.
 */
export function workspaceDir(root: string, i: number): string {
    const dir = path.join(root, ".fleet", "workspaces", `w${i}`);
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of fs.readdirSync(root)) {
        if (NOT_LINKED.has(entry)) continue;
        const link = path.join(dir, entry);
        if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, entry), link);
    }
    return dir;
}

type Reply = { ok: true; result: unknown } | { ok: false; error: string };

/** Runs stacks in `size` worker processes; a worker takes the next job when its stack is done. */
export class WorkerPoolRunner implements StackRunner {
    private readonly workers: { child: ChildProcess; target: Target }[] = [];
    private readonly idle: number[] = [];
    private readonly waiting: ((slot: number) => void)[] = [];

    private readonly spawn: () => ChildProcess;

    /** `worker`: the worker script and its loader flags (tests use a stand-in); default fleet/worker.ts under tsx. */
    constructor(root: string, size: number, remote?: Omit<Extract<Target, { kind: "remote" }>, "kind">, worker: { workerPath?: string; execArgv?: string[] } = {}) {
        const workerPath = worker.workerPath ?? path.join(__dirname, "worker.ts");
        const execArgv = worker.execArgv ?? loaderArgs();
        this.spawn = () => fork(workerPath, [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
        for (let i = 0; i < size; i++) {
            const target: Target = remote ? { kind: "remote", ...remote } : { kind: "local", workDir: workspaceDir(root, i) };
            this.workers.push({ child: this.spawn(), target });
            this.idle.push(i);
        }
    }

    private async slot(): Promise<number> {
        const free = this.idle.shift();
        return free !== undefined ? free : new Promise((resolve) => this.waiting.push(resolve));
    }

    private release(slot: number): void {
        const next = this.waiting.shift();
        if (next) next(slot);
        else this.idle.push(slot);
    }

    private async call<T>(job: Omit<WorkerJob, "target">): Promise<T> {
        const slot = await this.slot();
        const w = this.workers[slot]!;
        // A worker that died on an earlier stack (out of memory, killed) is replaced: its death failed that stack only.
        if (w.child.exitCode !== null || w.child.signalCode !== null || !w.child.connected) w.child = this.spawn();
        const { child, target } = w;
        try {
            return await new Promise<T>((resolve, reject) => {
                const onMessage = (reply: Reply) => {
                    child.off("exit", onExit);
                    if (reply.ok) resolve(reply.result as T);
                    else reject(new Error(reply.error));
                };
                const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
                    child.off("message", onMessage);
                    reject(new Error(`worker for ${job.stack} exited (${signal ?? code})`));
                };
                child.once("exit", onExit);
                child.once("message", onMessage);
                child.send({ ...job, target });
            });
        } finally {
            this.release(slot);
        }
    }

    run(stack: string, operation: Operation): Promise<Omit<StackOutcome, "stack" | "startedAt" | "durationMs">> {
        return this.call({ kind: "run", stack, operation });
    }

    history(stack: string): Promise<StackHistory> {
        return this.call({ kind: "history", stack });
    }

    async close(): Promise<void> {
        for (const { child } of this.workers) child.kill();
    }
}

/** The `pulumi` CLI on PATH, run in the repository. */
export class PulumiCliProcess implements PulumiCli {
    constructor(private readonly cwd: string) {}

    run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            const child = spawn("pulumi", args, { cwd: this.cwd, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("error", (e) => resolve({ code: 127, stdout, stderr: `${stderr}${e.message}` }));
            child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        });
    }
}
