/**
 * `npm run bench [-- --cases shared:10,dedicated:1] [--out bench/RESULTS.md]`
 *
 * Benchmarks the offline plan on synthetic stacks (10, 100, 1000 shared tenants; 1, 10, 50 dedicated ones) next to the
 * floor: the same number of bare resources registered under the same mock monitor with no program logic. Each case runs
 * in its own child process, so peak memory is that case's alone. Writes a Markdown table.
 *
 * Synthetic stacks live in a temp directory (a `Pulumi.bench.yaml` and a `tenants/` directory), removed afterwards.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { EXIT_USAGE, parseFlags, ROOT } from "./cli";

const USAGE = "npm run bench [-- --cases shared:10,dedicated:1] [--out bench/RESULTS.md]";
const DEFAULT_CASES = ["shared:10", "shared:100", "shared:1000", "dedicated:1", "dedicated:10", "dedicated:50"];
const STACK = "bench";

interface Case {
    tier: "shared" | "dedicated";
    tenants: number;
}

/** What a child process reports for one measurement. */
interface Measurement {
    wallMs: number;
    /** Peak resident set size of the child process, in MiB (`process.resourceUsage().maxRSS`). */
    peakRssMiB: number;
    resources: number;
}

function parseCase(s: string): Case {
    const m = /^(shared|dedicated):(\d+)$/.exec(s);
    if (!m || Number(m[2]) < 1) {
        console.error(`'${s}' is not a case (allowed: shared:<n> or dedicated:<n>, n ≥ 1)\nusage: ${USAGE}`);
        process.exit(EXIT_USAGE);
    }
    if (m[1] === "dedicated" && Number(m[2]) > 150) {
        console.error(`dedicated:${m[2]}: at most 150 dedicated tenants (one /16 each in 10.100.0.0-10.249.0.0)`);
        process.exit(EXIT_USAGE);
    }
    return { tier: m[1] as Case["tier"], tenants: Number(m[2]) };
}

/** A synthetic stack config: the dev stack's shape, a shared cluster large enough for 1000 tenants. */
function benchConfig(): Record<string, unknown> {
    return {
        "aws:region": "us-east-1",
        "tenancy:domain": "bench.tenancy-example.com",
        "tenancy:hostedZoneId": "Z0BENCH0EXAMPLE0ZONE",
        "tenancy:regions": ["us-east-1", "eu-west-1"],
        "tenancy:tiers": { allowed: ["shared", "hybrid", "dedicated"], default: "shared" },
        "tenancy:channels": { stable: "2.14.3" },
        "tenancy:features": ["sso", "audit-log"],
        "tenancy:shared": {
            vpcCidr: "10.0.0.0/16",
            // 32 ACU → 5000 connections: 1000 tenants at 4 connections each fit next to the platform's reserve.
            database: { engineVersion: "16.6", minCapacity: 2, maxCapacity: 32, reservedConnections: 50, tenantConnectionLimit: 4 },
        },
        "tenancy:availabilityZoneIds": { "us-east-1": ["use1-az1", "use1-az2", "use1-az4"], "eu-west-1": ["euw1-az1", "euw1-az2", "euw1-az3"] },
        "tenancy:tenantsDir": "tenants",
        "tenancy:protect": true,
        "tenancy:logRetentionDays": 30,
    };
}

/** Writes a synthetic repository root for a case and returns its path. */
function synthesize(c: Case): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `tenancy-bench-${c.tier}-${c.tenants}-`));
    fs.writeFileSync(path.join(root, `Pulumi.${STACK}.yaml`), stringify({ config: benchConfig() }));
    const dir = path.join(root, "tenants");
    fs.mkdirSync(dir);
    const width = Math.max(3, String(c.tenants).length);
    for (let i = 0; i < c.tenants; i++) {
        const slug = `${c.tier === "shared" ? "s" : "d"}${String(i).padStart(width, "0")}`;
        const file: Record<string, unknown> = { slug, displayName: `Bench ${c.tier} tenant ${i}`, tier: c.tier, features: ["sso"] };
        if (c.tier === "dedicated") {
            file["region"] = i % 2 === 0 ? "us-east-1" : "eu-west-1";
            // Unique /16s in 10.0.0.0/8 clear of the shared VPC (10.0.0.0/16).
            file["network"] = { cidr: `10.${100 + i}.0.0/16` };
        }
        fs.writeFileSync(path.join(dir, `${slug}.yaml`), stringify(file));
    }
    return root;
}

function peakRssMiB(): number {
    // maxRSS is in KiB on Linux and macOS.
    return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Child: the offline plan of a synthetic root, modules loaded before the clock starts. */
async function childPlan(root: string): Promise<Measurement> {
    await Promise.all([import("../engine/recorder"), import("../stacks/program")]);
    const { runPlan } = await import("./plan/run");
    const start = process.hrtime.bigint();
    const plan = await runPlan({ root, stack: STACK });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { wallMs, peakRssMiB: peakRssMiB(), resources: plan.resources.length };
}

/** Child: the floor, `count` bare custom resources (the stack included) under the same recorder, no program logic. */
async function childFloor(count: number): Promise<Measurement> {
    const pulumi = await import("@pulumi/pulumi");
    const { record } = await import("../engine/recorder");
    class Bare extends pulumi.CustomResource {
        constructor(name: string) {
            super("bench:index:Bare", name, {}, {});
        }
    }
    const start = process.hrtime.bigint();
    const { resources } = await record(
        async () => {
            for (let i = 1; i < count; i++) new Bare(`r${i}`);
        },
        { project: "tenancy", stack: STACK, config: { "aws:region": "us-east-1" }, maskSecrets: true },
    );
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { wallMs, peakRssMiB: peakRssMiB(), resources: resources.length };
}

/** Runs one measurement in a fresh process (`tsx tools/bench.ts --child …`) and reads its JSON line. */
function measure(args: string[]): Measurement {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [__filename, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status !== 0 || !line.startsWith("{")) {
        throw new Error(`bench child ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr}`);
    }
    return JSON.parse(line) as Measurement;
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

function results(rows: { c: Case; plan: Measurement; floor: Measurement }[]): string {
    const cpus = os.cpus();
    const lines = [
        "# Offline plan benchmark",
        "",
        "Generated by `npm run bench` (tools/bench.ts). Each row is one synthetic stack planned in its own process:",
        "**plan** is `runPlan` (registry validation, the real stack program under the recording mock monitor, the plan",
        "document), modules already loaded; **floor** registers the same number of bare custom resources under the same",
        "recorder with no program logic. Peak RSS is the whole child process (Node, the Pulumi SDK and providers included).",
        "",
        "| Stack | Tenants | Resources | Resources / tenant | Plan wall (s) | Plan peak RSS (MiB) | Floor wall (s) | Floor peak RSS (MiB) | Plan ÷ floor (time) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ];
    for (const { c, plan, floor } of rows) {
        lines.push(
            `| ${c.tier} | ${c.tenants} | ${plan.resources} | ${(plan.resources / c.tenants).toFixed(1)} | ${seconds(plan.wallMs)} | ${plan.peakRssMiB} | ` +
                `${seconds(floor.wallMs)} | ${floor.peakRssMiB} | ${(plan.wallMs / floor.wallMs).toFixed(1)}× |`,
        );
    }
    lines.push(
        "",
        "Resources / tenant divides every resource of the stack (the shared platform's included) by the tenant count, so it",
        "falls towards the per-tenant cost as stacks grow.",
        "",
        `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, ` +
            `Node ${process.version}, ${os.platform()} ${os.release()}. Timings vary with load; no test asserts on them.`,
        "",
    );
    return lines.join("\n");
}

async function main(): Promise<void> {
    const { values } = parseFlags(USAGE, {
        cases: { type: "string" },
        out: { type: "string", default: path.join("bench", "RESULTS.md") },
        child: { type: "string" },
        root: { type: "string" },
        count: { type: "string" },
    });
    if (values.child === "plan") {
        console.log(JSON.stringify(await childPlan(values.root!)));
        return;
    }
    if (values.child === "floor") {
        console.log(JSON.stringify(await childFloor(Number(values.count))));
        return;
    }
    const cases = (values.cases?.split(",") ?? DEFAULT_CASES).map(parseCase);
    const rows: { c: Case; plan: Measurement; floor: Measurement }[] = [];
    for (const c of cases) {
        const root = synthesize(c);
        try {
            process.stderr.write(`${c.tier}:${c.tenants} plan … `);
            const plan = measure(["--child", "plan", "--root", root]);
            process.stderr.write(`${seconds(plan.wallMs)} s, ${plan.resources} resources; floor … `);
            const floor = measure(["--child", "floor", "--count", String(plan.resources)]);
            process.stderr.write(`${seconds(floor.wallMs)} s\n`);
            rows.push({ c, plan, floor });
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    }
    const out = path.resolve(ROOT, values.out!);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, results(rows));
    console.log(`Wrote ${path.relative(ROOT, out)}.`);
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
});
