/**
 * `npm run bench [-- --cases shared:10,fleet:100] [--parallel <n>] [--timeout <seconds>] [--out bench/RESULTS.md]`
 *
 * Benchmarks the offline plan on synthetic environments next to an honest floor, and writes a Markdown report.
 * - `shared:<n>`, `dedicated:<n>`: the single layout (one stack), shared tenants spread over one cell per 100;
 * - `fleet:<n>`: the fleet layout, n shared tenants in one cell per 100: a platform stack, the cell stacks and one
 *   stack per tenant, tenant stacks in `--parallel` worker processes (default: one per core).
 * The floor (tools/plan/floor.ts) registers every planned resource again, stack by stack in the same processes, through
 * its own SDK class (so with the same outputs) with the same inputs, parents and providers, and no program logic.
 * Plan and floor each run in a fresh child process, capped by `--timeout`; a case that fails or times out is reported
 * and makes the run exit 1. Synthetic environments live in a temp directory, removed afterwards.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { EXIT_USAGE, parseFlags, ROOT } from "./cli";

const USAGE = "npm run bench [-- --cases shared:10,dedicated:1,fleet:100] [--parallel <n>] [--timeout <seconds>] [--out bench/RESULTS.md]\n" +
    "       npm run bench -- --moves [--move-mb 1024] [--out bench/RESULTS.md]   (a tenant moved between two PostgreSQL 15 servers)";
export const DEFAULT_CASES = ["shared:10", "shared:100", "shared:1000", "dedicated:1", "dedicated:10", "dedicated:50", "fleet:100", "fleet:1000"];
/** The synthetic environment's name. */
export const ENV = "bench";
/** Shared tenants per cell in the synthetic environments. */
export const TENANTS_PER_CELL = 100;

export interface Case {
    kind: "shared" | "dedicated" | "fleet";
    tenants: number;
}

/** Reads `shared:1000`; throws a usage message when it is not a case. */
export function parseCase(s: string): Case {
    const m = /^(shared|dedicated|fleet):(\d+)$/.exec(s);
    if (!m || Number(m[2]) < 1) throw new Error(`'${s}' is not a case (allowed: shared:<n>, dedicated:<n> or fleet:<n>, n ≥ 1)`);
    if (m[1] === "dedicated" && Number(m[2]) > 150) throw new Error(`dedicated:${m[2]}: at most 150 dedicated tenants (one /16 each in 10.100.0.0-10.249.0.0)`);
    return { kind: m[1] as Case["kind"], tenants: Number(m[2]) };
}

/** Cells of a case: one per 100 shared tenants (c0, c1, …), at least one. */
export function cellsOf(c: Case): string[] {
    const n = c.kind === "dedicated" ? 1 : Math.ceil(c.tenants / TENANTS_PER_CELL);
    return Array.from({ length: n }, (_, i) => `c${i}`);
}

/** A synthetic environment's config: the dev stack's shape, cells large enough for 100 shared tenants each. */
export function benchConfig(c: Case): Record<string, unknown> {
    return {
        "aws:region": "us-east-1",
        "tenancy:layout": c.kind === "fleet" ? "fleet" : "single",
        "tenancy:domain": "bench.tenancy-example.com",
        "tenancy:hostedZoneId": "Z0BENCH0EXAMPLE0ZONE",
        "tenancy:regions": ["us-east-1", "eu-west-1"],
        "tenancy:tiers": { allowed: ["shared", "hybrid", "dedicated"], default: "shared" },
        "tenancy:channels": { stable: "2.14.3" },
        "tenancy:features": ["sso", "audit-log"],
        "tenancy:shared": {
            vpcCidr: "10.0.0.0/16",
            // 16 ACU per cell: 100 tenants at 4 + 5 owner connections each fit next to the reserve.
            database: { engineVersion: "16.6", minCapacity: 2, maxCapacity: 16, reservedConnections: 50, tenantConnectionLimit: 4 },
            cells: Object.fromEntries(cellsOf(c).map((name) => [name, {}])),
            defaultCell: "c0",
        },
        "tenancy:availabilityZoneIds": { "us-east-1": ["use1-az1", "use1-az2", "use1-az4"], "eu-west-1": ["euw1-az1", "euw1-az2", "euw1-az3"] },
        "tenancy:tenantsDir": "tenants",
        "tenancy:protect": true,
        "tenancy:logRetentionDays": 30,
    };
}

/** Writes a synthetic repository root for a case (`Pulumi.bench.yaml`, `tenants/`) and returns its path. */
export function synthesize(c: Case): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `tenancy-bench-${c.kind}-${c.tenants}-`));
    fs.writeFileSync(path.join(root, `Pulumi.${ENV}.yaml`), stringify({ config: benchConfig(c) }));
    const dir = path.join(root, "tenants");
    fs.mkdirSync(dir);
    const width = Math.max(3, String(c.tenants).length);
    const cells = cellsOf(c);
    for (let i = 0; i < c.tenants; i++) {
        const dedicated = c.kind === "dedicated";
        const slug = `${dedicated ? "d" : "s"}${String(i).padStart(width, "0")}`;
        const file: Record<string, unknown> = { slug, displayName: `Bench tenant ${i}`, tier: dedicated ? "dedicated" : "shared", features: ["sso"] };
        if (dedicated) {
            file["region"] = i % 2 === 0 ? "us-east-1" : "eu-west-1";
            // Unique /16s in 10.0.0.0/8 clear of the shared VPC (10.0.0.0/16).
            file["network"] = { cidr: `10.${100 + i}.0.0/16` };
        } else {
            file["cell"] = cells[Math.floor(i / TENANTS_PER_CELL)];
        }
        fs.writeFileSync(path.join(dir, `${slug}.yaml`), stringify(file));
    }
    return root;
}

/** One stack as a child measured it. */
interface StackMeasure {
    name: string;
    role: string;
    resources: number;
    wallMs: number;
    peakRssMiB: number;
}

/** What a child process reports. */
interface Measurement {
    wallMs: number;
    /** Peak RSS of the child itself, MiB. */
    peakRssMiB: number;
    /** Peak RSS of the largest worker process, MiB (0 without workers). */
    workerPeakRssMiB: number;
    resources: number;
    stacks: StackMeasure[];
}

const peakRss = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Child: the offline plan of a synthetic root, modules loaded before the clock starts; writes the plan for the floor. */
async function childPlan(root: string, parallel: number, planOut: string): Promise<Measurement> {
    await Promise.all([import("../engine/recorder"), import("../stacks/program")]);
    const { planEnvironment } = await import("./plan/environment");
    const stacks: StackMeasure[] = [];
    const start = process.hrtime.bigint();
    const plan = await planEnvironment({ root, env: ENV, parallel, onStack: (s) => stacks.push(s) });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    fs.writeFileSync(planOut, JSON.stringify(plan));
    const workers = stacks.filter((s) => (s as { worker?: boolean }).worker);
    return { wallMs, peakRssMiB: peakRss(), workerPeakRssMiB: Math.max(0, ...workers.map((s) => s.peakRssMiB)), resources: plan.resources.length, stacks };
}

/** Child: the floor of a written plan, stack by stack in the same structure (tenant stacks in workers when parallel > 1). */
async function childFloor(planFile: string, parallel: number): Promise<Measurement> {
    const { recordFloor } = await import("./plan/floor");
    const { runInWorkers } = await import("./plan/environment");
    await Promise.all([import("@pulumi/aws"), import("@pulumi/postgresql"), import("@pulumi/random"), import("../engine/recorder")]);
    const plan = JSON.parse(fs.readFileSync(planFile, "utf8")) as import("./plan/model").Plan;
    const byStack = new Map<string, import("./plan/model").PlanResource[]>();
    for (const r of plan.resources) byStack.set(r.stack, [...(byStack.get(r.stack) ?? []), r]);
    const config = (name: string): Record<string, string> => (name === plan.stack ? { "aws:region": plan.region } : {});
    const stacks: StackMeasure[] = [];
    const start = process.hrtime.bigint();
    const local = plan.stacks.filter((s) => s.role !== "tenant" || parallel <= 1);
    for (const s of local) {
        const f = await recordFloor({ project: plan.project, stack: s.name, resources: byStack.get(s.name) ?? [], config: config(s.name) });
        stacks.push({ name: s.name, role: s.role, resources: f.resources, wallMs: f.wallMs, peakRssMiB: peakRss() });
    }
    const remote = plan.stacks.filter((s) => s.role === "tenant" && parallel > 1);
    let workerPeak = 0;
    if (remote.length > 0) {
        const results = await runInWorkers<{ resources: number; wallMs: number; peakRssMiB: number }>(
            remote.map((s) => ({ kind: "floor", project: plan.project, stack: s.name, resources: byStack.get(s.name) ?? [], config: config(s.name) })),
            parallel,
        );
        remote.forEach((s, i) => {
            const r = results[i]!;
            workerPeak = Math.max(workerPeak, r.peakRssMiB);
            stacks.push({ name: s.name, role: s.role, resources: r.resources, wallMs: r.wallMs, peakRssMiB: r.peakRssMiB });
        });
    }
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { wallMs, peakRssMiB: peakRss(), workerPeakRssMiB: workerPeak, resources: stacks.reduce((n, s) => n + s.resources, 0), stacks };
}

/** Runs one child (`tsx tools/bench.ts --child …`) with a time cap and reads its JSON line; an Error says why it failed. */
function measure(args: string[], timeoutSeconds: number): Measurement | Error {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [__filename, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, timeout: timeoutSeconds * 1000, killSignal: "SIGKILL" });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") return new Error(`timed out after ${timeoutSeconds} s`);
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status !== 0 || !line.startsWith("{")) return new Error(`exit ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`);
    return JSON.parse(line) as Measurement;
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const ratio = (plan: number, floor: number) => `${(plan / floor).toFixed(2)}×`;
const label = (c: Case) => `${c.kind}:${c.tenants}`;

interface Row {
    c: Case;
    plan: Measurement | Error;
    floor: Measurement | Error;
}

/** Per-role totals of a fleet measurement. */
function roles(m: Measurement): Map<string, { count: number; resources: number; maxResources: number; wallMs: number; maxWallMs: number; peakRssMiB: number }> {
    const out = new Map<string, { count: number; resources: number; maxResources: number; wallMs: number; maxWallMs: number; peakRssMiB: number }>();
    for (const s of m.stacks) {
        const r = out.get(s.role) ?? { count: 0, resources: 0, maxResources: 0, wallMs: 0, maxWallMs: 0, peakRssMiB: 0 };
        r.count++;
        r.resources += s.resources;
        r.maxResources = Math.max(r.maxResources, s.resources);
        r.wallMs += s.wallMs;
        r.maxWallMs = Math.max(r.maxWallMs, s.wallMs);
        r.peakRssMiB = Math.max(r.peakRssMiB, s.peakRssMiB);
        out.set(s.role, r);
    }
    return out;
}

function results(rows: readonly Row[], parallel: number): string {
    const cpus = os.cpus();
    const lines = [
        "# Offline plan benchmark",
        "",
        "Generated by `npm run bench` (tools/bench.ts). Each case is one synthetic environment: `shared:<n>` and",
        "`dedicated:<n>` in the single layout (one stack; shared tenants in one database cell per 100), `fleet:<n>` in the",
        `fleet layout (a platform stack, a stack per cell, a stack per tenant; tenant stacks in ${parallel} worker processes).`,
        "**Plan** is `planEnvironment` (registry validation, the real stack programs under the recording mock monitor, the plan",
        "document; modules loaded before the clock starts; workers load theirs inside the clock). **Floor** registers every",
        "planned resource again in the same stacks and processes, each through its own SDK class (same outputs) with the same",
        "inputs, parents and providers, and no program logic (tools/plan/floor.ts). Peak RSS is per process (Node, the Pulumi",
        "SDK and providers included): the parent, and the largest worker for fleets.",
        "",
        "## Whole environment",
        "",
        "| Case | Stacks | Resources | Plan wall (s) | Plan peak RSS, parent / largest worker (MiB) | Floor wall (s) | Floor peak RSS (MiB) | Plan ÷ floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ];
    for (const { c, plan, floor } of rows) {
        if (plan instanceof Error || floor instanceof Error) {
            lines.push(`| ${label(c)} | | | **failed** | ${plan instanceof Error ? `plan: ${plan.message}` : ""} | | ${floor instanceof Error ? `floor: ${floor.message}` : ""} | |`);
            continue;
        }
        const rss = (m: Measurement) => (m.workerPeakRssMiB ? `${m.peakRssMiB} / ${m.workerPeakRssMiB}` : `${m.peakRssMiB}`);
        lines.push(
            `| ${label(c)} | ${plan.stacks.length} | ${plan.resources} | ${seconds(plan.wallMs)} | ${rss(plan)} | ${seconds(floor.wallMs)} | ${rss(floor)} | ${ratio(plan.wallMs, floor.wallMs)} |`,
        );
    }
    const fleets = rows.filter((r): r is Row & { plan: Measurement; floor: Measurement } => r.c.kind === "fleet" && !(r.plan instanceof Error) && !(r.floor instanceof Error));
    if (fleets.length > 0) {
        lines.push(
            "",
            "## Fleets per stack",
            "",
            "Recording time summed over the stacks of each role (the stacks of a role run in parallel workers, so the sum",
            "exceeds their share of the wall), the slowest stack of the role, and the peak RSS of the processes that recorded them.",
            "",
            "| Case | Role | Stacks | Resources (largest stack) | Plan, sum / slowest (s) | Floor, sum / slowest (s) | Plan ÷ floor | Peak RSS (MiB) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        );
        for (const { c, plan, floor } of fleets) {
            const p = roles(plan);
            const f = roles(floor);
            for (const role of ["platform", "cell", "tenant"]) {
                const pr = p.get(role);
                const fr = f.get(role);
                if (!pr || !fr) continue;
                lines.push(
                    `| ${label(c)} | ${role} | ${pr.count} | ${pr.resources} (${pr.maxResources}) | ${seconds(pr.wallMs)} / ${seconds(pr.maxWallMs)} | ` +
                        `${seconds(fr.wallMs)} / ${seconds(fr.maxWallMs)} | ${ratio(pr.wallMs, fr.wallMs)} | ${pr.peakRssMiB} |`,
                );
            }
        }
    }
    lines.push(
        "",
        `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, ` +
            `Node ${process.version}, ${os.platform()} ${os.release()}. Timings vary with load (the machine may be shared); no test asserts on them.`,
        "",
    );
    return lines.join("\n");
}

async function main(): Promise<void> {
    const { values } = parseFlags(USAGE, {
        cases: { type: "string" },
        out: { type: "string", default: path.join("bench", "RESULTS.md") },
        parallel: { type: "string" },
        timeout: { type: "string", default: "900" },
        child: { type: "string" },
        root: { type: "string" },
        plan: { type: "string" },
        moves: { type: "boolean", default: false },
        "move-mb": { type: "string" },
    });
    if (values.moves) {
        // Loaded only here: the plan bench's child processes measure their memory without the move engine in it.
        const { benchMove, DEFAULT_MOVE_MIB, moveSection, withMoveSection } = await import("./benchMoves");
        const mib = values["move-mb"] === undefined ? DEFAULT_MOVE_MIB : Number(values["move-mb"]);
        if (!Number.isInteger(mib) || mib < 1) {
            console.error(`--move-mb must be a whole number of MiB ≥ 1\nusage: ${USAGE}`);
            process.exit(EXIT_USAGE);
        }
        const bench = await benchMove(mib);
        const out = path.resolve(ROOT, values.out!);
        const before = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "# Benchmarks\n";
        fs.writeFileSync(out, withMoveSection(before, moveSection(bench)));
        console.log(`Wrote the moves section of ${path.relative(ROOT, out)}.`);
        // A bench that loses a row or overruns the pause is a failing gate.
        if (bench.lost > 0 || !bench.verified || bench.writePauseMs > bench.maxPauseMs) process.exitCode = 1;
        return;
    }
    const parallel = values.parallel === undefined ? Math.max(1, os.availableParallelism()) : Number(values.parallel);
    if (values.child === "plan") {
        console.log(JSON.stringify(await childPlan(values.root!, parallel, values.plan!)));
        return;
    }
    if (values.child === "floor") {
        console.log(JSON.stringify(await childFloor(values.plan!, parallel)));
        return;
    }
    const timeout = Number(values.timeout);
    if (!Number.isInteger(parallel) || parallel < 1 || !(timeout > 0)) {
        console.error(`--parallel must be a whole number ≥ 1 and --timeout a number of seconds > 0\nusage: ${USAGE}`);
        process.exit(EXIT_USAGE);
    }
    let cases: Case[];
    try {
        cases = (values.cases?.split(",") ?? DEFAULT_CASES).map(parseCase);
    } catch (e) {
        console.error(`${(e as Error).message}\nusage: ${USAGE}`);
        process.exit(EXIT_USAGE);
    }
    const rows: Row[] = [];
    for (const c of cases) {
        const root = synthesize(c);
        const planFile = path.join(root, "plan.json");
        try {
            process.stderr.write(`${label(c)} plan … `);
            const plan = measure(["--child", "plan", "--root", root, "--plan", planFile, "--parallel", String(parallel)], timeout);
            process.stderr.write(plan instanceof Error ? `${plan.message}\n` : `${seconds(plan.wallMs)} s, ${plan.resources} resources; floor … `);
            const floor = plan instanceof Error ? new Error("no plan") : measure(["--child", "floor", "--plan", planFile, "--parallel", String(parallel)], timeout);
            if (!(plan instanceof Error)) process.stderr.write(floor instanceof Error ? `${floor.message}\n` : `${seconds(floor.wallMs)} s\n`);
            rows.push({ c, plan, floor });
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    }
    const out = path.resolve(ROOT, values.out!);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // The moves section (npm run bench -- --moves) is kept as it was.
    const previous = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "";
    const moves = previous.indexOf("## Moving a tenant");
    fs.writeFileSync(out, moves < 0 ? results(rows, parallel) : `${results(rows, parallel).trimEnd()}\n\n${previous.slice(moves)}`);
    console.log(`Wrote ${path.relative(ROOT, out)}.`);
    // A bench that cannot run is a failing gate.
    if (rows.some((r) => r.plan instanceof Error || r.floor instanceof Error)) process.exitCode = 1;
}

if (require.main === module) {
    main().catch((e) => {
        console.error(e instanceof Error ? e.message : String(e));
        process.exit(1);
    });
}
