/**
 * The offline plan of an environment in either layout (model/fleet.ts): the single layout records its one stack; a
 * fleet records the platform stack first, hands its outputs to the cell stacks as StackReference answers, then both to
 * the tenant stacks, which run in a bounded pool of worker processes. Each stack is recorded on its own, so peak memory
 * follows the largest stack, not the fleet. Every stack's fake ids are seeded with the environment's name, so a
 * resource plans the same values in `prod` (single) and in `prod.tyrell` (fleet).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { fleetStacks, type FleetStack, type Layout } from "../../model/fleet";
import { CONFIG_NAMESPACE } from "../../stacks/config";
import { RegistryError } from "../../tenants/problems";
import { loadRegistry, readStackFile, type Registry } from "../../tenants/registry";
import { projectName } from "../stackRecording";
import { buildPlan, planResources, type Plan, type PlanResource, type StackPart } from "./model";
import { loaderArgs } from "../workerProcess";

export interface PlanEnvironmentOptions {
    /** Repository root: holds `Pulumi.<env>.yaml`; tenant directories are relative to it. */
    root: string;
    /** The environment (`prod`: every stack of it) or one stack of a fleet (`prod.tyrell`, `prod.cell-main`). */
    env: string;
    /** Tenant directory (relative to `root` or absolute) instead of the environment's `tenancy:tenantsDir`. */
    tenantsDir?: string;
    /** Plan in this layout instead of the environment's `tenancy:layout` (the `adopt` proof plans both). */
    layout?: Layout;
    /**
     * Worker processes recording tenant stacks at once. Defaults to 1: every stack in this process, one after another
     * (what tests use). More than 1 needs the process to run under tsx (the workers load TypeScript).
     */
    parallel?: number;
    /** Called once per recorded stack with its timing and the recording process's peak memory (the benchmark's view). */
    onStack?: (stat: StackStat) => void;
}

/** How recording one stack went. */
export interface StackStat {
    name: string;
    role: FleetStack["role"];
    resources: number;
    /** Recording and conversion to plan resources, in the process that did it. */
    wallMs: number;
    /** Peak resident set size of that process so far, MiB. */
    peakRssMiB: number;
    /** True when a worker process recorded it. */
    worker: boolean;
}

/** The default `--parallel` of the CLI: one worker per core. */
export function defaultParallelism(): number {
    return Math.max(1, os.availableParallelism());
}

/** What recording one stack needs; plain data, so a worker process can receive it. */
export interface StackJob {
    root: string;
    project: string;
    env: string;
    stack: string;
    /** Config for the environment's own stack (its stack file); fleet cell and tenant stacks read the file themselves. */
    config: Record<string, string>;
    secretKeys: string[];
    /** StackReference answers: stack name → outputs, secret parts as wire secrets (engine/recorder `referenceOutputs`). */
    references: Record<string, Record<string, unknown>>;
}

/** One recorded stack: its plan resources and its outputs as a StackReference answer. */
export interface StackResult {
    resources: PlanResource[];
    outputs: Record<string, unknown>;
    wallMs: number;
    peakRssMiB: number;
}

/** Peak resident set size of this process, MiB (`maxRSS` is KiB on Linux and macOS). */
export function peakRssMiB(): number {
    return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Records one stack of an environment under the mock engine (loads the SDK on first use). */
export async function recordStackJob(job: StackJob): Promise<StackResult> {
    const [{ record, referenceOutputs }, { main }] = await Promise.all([import("../../engine/recorder"), import("../../stacks/program")]);
    const start = process.hrtime.bigint();
    // Secrets kept while recording, so the outputs can be handed on as secrets; the plan masks them (planResources).
    const recording = await record(() => main(job.root), {
        project: job.project,
        stack: job.stack,
        config: job.config,
        secretKeys: job.secretKeys,
        stackReferences: job.references,
        idSeedStack: job.env,
    });
    const resources = planResources(job.stack, recording.resources);
    return { resources, outputs: referenceOutputs(recording), wallMs: Number(process.hrtime.bigint() - start) / 1e6, peakRssMiB: peakRssMiB() };
}

/** Runs `jobs` with at most `limit` at once, results in input order. */
export async function pooled<T, R>(items: readonly T[], limit: number, run: (item: T, slot: number) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const lane = async (slot: number) => {
        while (next < items.length) {
            const i = next++;
            results[i] = await run(items[i]!, slot);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, (_, slot) => lane(slot)));
    return results;
}

/** The environment of a stack name: everything before the first dot. */
export function envOf(stack: string): string {
    const dot = stack.indexOf(".");
    return dot < 0 ? stack : stack.slice(0, dot);
}

/**
 * A root that reads like `root` but whose `Pulumi.<env>.yaml` says `layout` and `tenantsDir`: every other entry is a
 * symbolic link to the original. Fleet cell and tenant stacks read the environment's stack file from the root, so a
 * forced layout or tenant directory must be in that file. Returns the original root when nothing is overridden.
 */
function overlayRoot(root: string, env: string, overrides: { layout?: Layout; tenantsDir?: string }): { root: string; cleanup: () => void } {
    if (overrides.layout === undefined && overrides.tenantsDir === undefined) return { root, cleanup: () => undefined };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tenancy-plan-${env}-`));
    const file = `Pulumi.${env}.yaml`;
    for (const entry of fs.readdirSync(root)) {
        if (entry !== file) fs.symlinkSync(path.join(root, entry), path.join(dir, entry));
    }
    const doc = parseDocument(fs.readFileSync(path.join(root, file), "utf8"));
    if (overrides.layout !== undefined) doc.setIn(["config", `${CONFIG_NAMESPACE}:layout`], overrides.layout);
    if (overrides.tenantsDir !== undefined) doc.setIn(["config", `${CONFIG_NAMESPACE}:tenantsDir`], path.resolve(root, overrides.tenantsDir));
    fs.writeFileSync(path.join(dir, file), doc.toString());
    return { root: dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The stacks of the environment in the given layout, from its validated registry. */
export function environmentStacks(registry: Registry, env: string, layout: Layout): FleetStack[] {
    return fleetStacks({ env, layout, cells: Object.keys(registry.config.cells), tenants: registry.tenants });
}

/**
 * Plans an environment (or one stack of a fleet) offline. Throws a RegistryError with every problem before anything
 * is recorded when the config or a tenant file is invalid, or when `env` names a stack the environment does not have.
 */
export async function planEnvironment(opts: PlanEnvironmentOptions): Promise<Plan> {
    const env = envOf(opts.env);
    const probe = loadRegistry({ root: opts.root, stack: env, tenantsDir: opts.tenantsDir });
    const layout = opts.layout ?? probe.config.layout;
    const stacks = environmentStacks(probe, env, layout);
    const only = opts.env === env ? undefined : stacks.find((s) => s.name === opts.env);
    if (opts.env !== env && only === undefined) {
        const allowed = layout === "single" ? env : `${env} (the whole fleet), ${stacks.slice(1).map((s) => s.name).join(", ")}`;
        throw new RegistryError([{ file: `Pulumi.${env}.yaml`, field: "", message: `stack ${opts.env}: environment ${env} (layout ${layout}) has no such stack (allowed: ${allowed})` }]);
    }
    // Loaded only now (it loads the SDK): a user's mistake above should not wait for it.
    const { withRegistrySnapshot } = await import("../../stacks/readConfig");
    // One plan is one snapshot of the files: fleet stacks validate the registry once per process, not once per stack.
    return withRegistrySnapshot(() => recordEnvironment(opts, env, layout, probe, stacks, only));
}

/** Records the stacks of a validated environment (see {@link planEnvironment}). */
async function recordEnvironment(
    opts: PlanEnvironmentOptions, env: string, layout: Layout, probe: Registry, stacks: FleetStack[], only: FleetStack | undefined,
): Promise<Plan> {
    const forced = layout !== probe.config.layout ? layout : undefined;
    const overlay = overlayRoot(opts.root, env, { layout: forced, tenantsDir: opts.tenantsDir });
    try {
        const root = overlay.root;
        const { stackFile } = readStackFile(root, env);
        const project = projectName(opts.root);
        const job = (stack: string, references: Record<string, Record<string, unknown>>): StackJob => ({
            root, project, env, stack,
            // The environment's own stack gets its stack file's config like `pulumi up -s <env>`; the fleet's other
            // stacks get none, exactly as after `pulumi stack init` (the program reads the environment's file).
            config: stack === env ? stackFile!.pulumiConfig : {},
            secretKeys: stack === env ? stackFile!.secretKeys : [],
            references,
        });
        const parts: StackPart[] = [];
        const keep = (s: FleetStack, r: StackResult, worker = false) => {
            opts.onStack?.({ name: s.name, role: s.role, resources: r.resources.length, wallMs: r.wallMs, peakRssMiB: r.peakRssMiB, worker });
            if (only === undefined || only.name === s.name) parts.push({ name: s.name, role: s.role, tenants: s.tenants, resources: r.resources });
        };
        const [platform, ...rest] = stacks;
        const references: Record<string, Record<string, unknown>> = {};
        const platformResult = await recordStackJob(job(platform!.name, {}));
        keep(platform!, platformResult);
        references[platform!.name] = platformResult.outputs;
        // A tenant stack reads only the platform and its cell: record only what the selection needs.
        const needed = (s: FleetStack) => only === undefined || only.name === s.name || only.dependsOn.includes(s.name);
        for (const cell of rest.filter((s) => s.role === "cell" && needed(s))) {
            const r = await recordStackJob(job(cell.name, { [platform!.name]: references[platform!.name]! }));
            keep(cell, r);
            references[cell.name] = r.outputs;
        }
        const tenantStacks = rest.filter((s) => s.role === "tenant" && needed(s));
        const jobs = tenantStacks.map((s) => job(s.name, Object.fromEntries(s.dependsOn.map((d) => [d, references[d]!]))));
        const parallel = Math.min(opts.parallel ?? 1, jobs.length);
        const results = parallel > 1 ? await runInWorkers<StackResult>(jobs.map((job) => ({ kind: "plan", job })), parallel) : await pooled(jobs, 1, (j) => recordStackJob(j));
        tenantStacks.forEach((s, i) => keep(s, results[i]!, parallel > 1));
        return buildPlan({ project, stack: opts.env, registry: probe, stacks: parts, ...(only ? { tenants: only.tenants } : {}) });
    } finally {
        overlay.cleanup();
    }
}

/** What a worker process does for one message: record a stack's plan, or the benchmark's floor of a planned stack. */
export type WorkerJob = { kind: "plan"; job: StackJob } | { kind: "floor"; project: string; stack: string; resources: PlanResource[]; config: Record<string, string> };

/** The stack a worker job is about, for error messages. */
const jobStack = (j: WorkerJob) => (j.kind === "plan" ? j.job.stack : j.stack);

/**
 * Runs jobs in `parallel` long-lived worker processes (tools/plan/worker.ts), each one stack at a time: a worker's
 * memory is that of its largest stack, and the SDK's per-run state is dropped between stacks. Results in job order.
 */
export async function runInWorkers<R>(jobs: readonly WorkerJob[], parallel: number): Promise<R[]> {
    const { fork } = await import("child_process");
    const workers = Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, () =>
        fork(path.join(__dirname, "worker.ts"), [], { execArgv: loaderArgs(), stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
    const call = (slot: number, job: WorkerJob) =>
        new Promise<R>((resolve, reject) => {
            const w = workers[slot]!;
            const onMessage = (msg: { ok: true; result: R } | { ok: false; error: string }) => {
                w.off("exit", onExit);
                if (msg.ok) resolve(msg.result);
                else reject(new Error(`stack ${jobStack(job)}: ${msg.error}`));
            };
            const onExit = (code: number | null) => {
                w.off("message", onMessage);
                reject(new Error(`stack ${jobStack(job)}: the plan worker exited (code ${code}) before answering`));
            };
            w.once("message", onMessage);
            w.once("exit", onExit);
            w.send(job);
        });
    try {
        return await pooled(jobs, workers.length, (job, slot) => call(slot, job));
    } finally {
        for (const w of workers) w.kill();
    }
}
