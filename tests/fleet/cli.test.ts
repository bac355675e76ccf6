import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { fleetCommand, type FleetDeps } from "../../fleet/cli";
import { selectStacks } from "../../fleet/selection";
import type { Operation, StackRunner } from "../../fleet/types";
import { fleetStacks } from "../../model/fleet";
import type { AdoptionProof } from "../../tools/plan/adoption";
import { baseStackConfig, sharedTenant } from "../tenants/fixtures";
import { removeAfterFile } from "../support/tempDirs";
import { makeRepo } from "../tenants/fixtures";

const FLEET = baseStackConfig({
    "tenancy:layout": "fleet",
    "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { a: {}, b: {} } },
});
const FILES = {
    "acme.yaml": sharedTenant("acme", "cell: b\n"),
    "beta.yaml": sharedTenant("beta"),
    "cray.yaml": sharedTenant("cray", "tier: hybrid\n"),
};

function repo(config = FLEET, files: Record<string, string> = FILES): string {
    const root = makeRepo(files, config);
    removeAfterFile(root);
    return root;
}

class FakeRunner implements StackRunner {
    calls: string[] = [];
    constructor(private readonly failing: string[] = []) {}
    async run(stack: string, operation: Operation) {
        this.calls.push(`${operation} ${stack}`);
        return this.failing.includes(stack) ? { status: "failed" as const, message: `boom in ${stack}` } : { status: "ok" as const, changes: { same: 1 } };
    }
    async history(stack: string) {
        return stack.endsWith("acme")
            ? { stack, exists: true, last: { kind: "update", result: "failed", startTime: "2026-11-23T10:00:00.000Z", changes: { update: 1 } } }
            : { stack, exists: stack !== "test.cray" };
    }
    async close() {}
}

function deps(root: string, runner = new FakeRunner(), extra: Partial<FleetDeps> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const pulumiCalls: string[][] = [];
    const d: FleetDeps = {
        root,
        runner: () => runner,
        // A backend without these stacks: tag and history reads fail as the CLI does for a stack that does not exist.
        pulumi: { run: async (args) => (pulumiCalls.push(args), args[0] === "stack" && (args[1] === "tag" || args[1] === "history") && args[2] !== "set" ? { code: 255, stdout: "", stderr: "error: no stack named 'x' found" } : { code: 0, stdout: "", stderr: "" }) },
        proveAdoption: async () => { throw new Error("not expected"); },
        now: () => new Date("2026-11-23T15:00:00Z"),
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        ...extra,
    };
    return { d, out, err, pulumiCalls, runner };
}

describe("fleet schedule", () => {
    it("prints the ordered steps as JSON: env, layout, and each step's stacks with role, tenants and dependencies", async () => {
        const { d, out } = deps(repo());
        expect(await fleetCommand(["schedule", "--env", "test", "--format", "json"], d)).toBe(0);
        const doc = JSON.parse(out.join(""));
        expect(doc).toEqual({
            env: "test",
            layout: "fleet",
            steps: [
                { name: "platform", stacks: [{ name: "test", role: "platform", tenants: [], dependsOn: [] }] },
                { name: "cells", stacks: [
                    { name: "test.cell-a", role: "cell", tenants: [], dependsOn: ["test"] },
                    { name: "test.cell-b", role: "cell", tenants: [], dependsOn: ["test"] },
                ] },
                { name: "tenants", stacks: [
                    { name: "test.acme", role: "tenant", tenants: ["acme"], dependsOn: ["test", "test.cell-b"] },
                    { name: "test.beta", role: "tenant", tenants: ["beta"], dependsOn: ["test", "test.cell-a"] },
                    { name: "test.cray", role: "tenant", tenants: ["cray"], dependsOn: ["test"] },
                ] },
            ],
        });
    });

    it("a single-layout environment is one step of one stack holding every tenant", async () => {
        const { d, out } = deps(repo(baseStackConfig(), { ...FILES, "acme.yaml": sharedTenant("acme") }));
        expect(await fleetCommand(["schedule", "--env", "test", "--format", "json"], d)).toBe(0);
        expect(JSON.parse(out.join("")).steps).toEqual([{ name: "platform", stacks: [{ name: "test", role: "platform", tenants: ["acme", "beta", "cray"], dependsOn: [] }] }]);
    });

    it("usage mistakes and invalid tenants exit 1 with a clear message and run nothing", async () => {
        const cases: [string[], RegExp][] = [
            [["deploy", "--env", "test"], /'deploy' is not a command \(allowed: preview, up, refresh, status, schedule, adopt\)/],
            [["up"], /--env is required/],
            [["up", "--env", "test.acme"], /--env test\.acme: an environment, not a stack/],
            [["up", "--env", "test", "--tenant", "zed"], /--tenant zed: not a tenant of test \(tenants: acme, beta, cray\)/],
            [["up", "--env", "test", "--parallel", "0"], /--parallel 0: must be a whole number from 1 to 64/],
            [["up", "--env", "test", "--remote"], /--remote needs --repo-url and --commit/],
            [["up", "--env", "nope"], /Pulumi\.nope\.yaml: no such stack configuration/],
        ];
        for (const [args, message] of cases) {
            const { d, err, runner } = deps(repo());
            expect(await fleetCommand(args, d)).toBe(1);
            expect(err.join("")).toMatch(message);
            expect(runner.calls).toEqual([]);
        }
        const bad = repo(FLEET, { ...FILES, "zed.yaml": sharedTenant("zed", "cell: q\n") });
        const { d, err, runner } = deps(bad);
        expect(await fleetCommand(["up", "--env", "test"], d)).toBe(1);
        expect(err.join("")).toContain("tenants/test/zed.yaml:3:7 cell: 'q' is not a cell of stack test (allowed: a, b)");
        expect(runner.calls).toEqual([]);
    });
});

describe("fleet up", () => {
    it("reports per stack, exits 2 when a stack failed, keeps a record, and --resume runs only what did not end ok", async () => {
        const root = repo();
        const first = deps(root, new FakeRunner(["test.cell-b", "test.beta"]));
        expect(await fleetCommand(["up", "--env", "test", "--parallel", "2"], first.d)).toBe(2);
        const report = first.out.join("");
        expect(report).toMatch(/^test\.acme +skipped +\(test\.cell-b failed\)/m);
        expect(report).toMatch(/^test\.beta +failed/m);
        expect(report).toContain("    boom in test.beta");
        expect(report).toContain("Resume with: npm run fleet -- up --env test --resume .fleet/runs/2026-11-23T15-00-00Z-up.json");
        const file = path.join(root, ".fleet/runs/2026-11-23T15-00-00Z-up.json");
        const record = JSON.parse(fs.readFileSync(file, "utf8"));
        expect(Object.keys(record.stacks).sort()).toEqual(["test", "test.acme", "test.beta", "test.cell-a", "test.cell-b", "test.cray"]);
        expect(record.finishedAt).toBeDefined();

        const again = deps(root);
        expect(await fleetCommand(["up", "--env", "test", "--resume", ".fleet/runs/2026-11-23T15-00-00Z-up.json"], again.d)).toBe(0);
        expect(again.runner.calls.sort()).toEqual(["up test.acme", "up test.beta", "up test.cell-b"]);
        expect(again.out.join("")).toMatch(/^test\.cray +ok +\(done in the resumed run\)/m);
        const wrong = deps(root);
        expect(await fleetCommand(["preview", "--env", "test", "--resume", ".fleet/runs/2026-11-23T15-00-00Z-up.json"], wrong.d)).toBe(1);
        expect(wrong.err.join("")).toContain("that run was 'up --env test', not 'preview --env test'");
    });

    it("--tenant runs only that tenant's stack", async () => {
        const { d, runner } = deps(repo());
        expect(await fleetCommand(["preview", "--env", "test", "--tenant", "acme", "--tenant", "cray"], d)).toBe(0);
        expect(runner.calls).toEqual(["preview test.acme", "preview test.cray"]);
    });

    it("--changed-since runs the stacks whose inputs changed since a commit; unknown refs are a usage error", async () => {
        const root = repo();
        const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: "pipe", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@x", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@x" } });
        git("init", "-q");
        git("add", "-A");
        git("commit", "-qm", "base");
        fs.appendFileSync(path.join(root, "tenants/test/acme.yaml"), "features: [sso]\n");
        fs.writeFileSync(path.join(root, "README.md"), "docs only\n");
        git("add", "-A");
        git("commit", "-qm", "acme gets sso");
        const tenantOnly = deps(root);
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "HEAD~1"], tenantOnly.d)).toBe(0);
        expect(tenantOnly.runner.calls).toEqual(["up test.acme"]);

        fs.mkdirSync(path.join(root, "components"));
        fs.writeFileSync(path.join(root, "components/x.ts"), "export {};\n");
        git("add", "-A");
        git("commit", "-qm", "code");
        const code = deps(root);
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "HEAD~1", "--parallel", "1"], code.d)).toBe(0);
        expect(code.runner.calls).toEqual(["up test", "up test.cell-a", "up test.cell-b", "up test.acme", "up test.beta", "up test.cray"]);

        const none = deps(root);
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "HEAD"], none.d)).toBe(0);
        expect(none.out.join("")).toContain("nothing that any stack reads changed since HEAD");
        const bad = deps(root);
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "no-such-ref"], bad.d)).toBe(1);
        expect(bad.err.join("")).toContain("--changed-since no-such-ref: not a commit of this repository");
    });

    it("status shows each stack's last update and exits 2 when one failed", async () => {
        const { d, out } = deps(repo());
        expect(await fleetCommand(["status", "--env", "test"], d)).toBe(2);
        expect(out.join("")).toMatch(/^test\.acme +update failed +2026-11-23T10:00:00\.000Z +update 1$/m);
        expect(out.join("")).toMatch(/^test\.cray +not created$/m);
    });
});

describe("selection", () => {
    const stacks = fleetStacks({ env: "p", layout: "fleet", cells: ["a"], tenants: [{ slug: "x", tier: "shared", cell: "a" }, { slug: "y", tier: "dedicated" }] });
    const ctx = { env: "p", tenantsDir: "tenants/p" };
    const names = (r: ReturnType<typeof selectStacks>) => r.stacks.map((s) => s.name);

    it("maps changed files to stacks: a tenant file to its stack, the env's config and program code to all, other files to none", () => {
        expect(names(selectStacks(stacks, { changedFiles: ["tenants/p/y.yaml", "README.md", "tests/a.test.ts", "Pulumi.q.yaml", "tenants/q/x.yaml"] }, ctx))).toEqual(["p.y"]);
        expect(names(selectStacks(stacks, { changedFiles: ["Pulumi.p.yaml"] }, ctx))).toEqual(["p", "p.cell-a", "p.x", "p.y"]);
        for (const f of ["components/tenant.ts", "stacks/cell.ts", "model/fleet.ts", "tenants/registry.ts", "package-lock.json", "Pulumi.yaml"]) {
            expect(names(selectStacks(stacks, { changedFiles: [f] }, ctx))).toHaveLength(4);
        }
        const removed = selectStacks(stacks, { changedFiles: ["tenants/p/gone.yaml"] }, ctx);
        expect([names(removed), removed.removedTenants]).toEqual([[], ["gone"]]);
    });

    it("a move's receipt selects its tenant's stack: committing it is a deploy (the registry and the source's protection follow it)", () => {
        const r = selectStacks(stacks, { changedFiles: ["tenants/p/.moves/x.json"] }, ctx);
        expect(names(r)).toEqual(["p.x"]);
        expect(r.reasons.get("p.x")).toBe("move receipt changed (tenants/p/.moves/x.json)");
        const single = fleetStacks({ env: "p", layout: "single", cells: ["a"], tenants: [{ slug: "x", tier: "shared", cell: "a" }] });
        expect(names(selectStacks(single, { changedFiles: ["tenants/p/.moves/x.json"] }, ctx))).toEqual(["p"]);
        // Receipts of another environment, or of a tenant without a stack, select nothing (and destroy nothing).
        expect(names(selectStacks(stacks, { changedFiles: ["tenants/q/.moves/x.json", "tenants/p/.moves/gone.json", "tenants/p/.moves/notes.txt"] }, ctx))).toEqual([]);
    });

    it("--tenant and --changed-since together select the asked tenants that changed", () => {
        const r = selectStacks(stacks, { tenants: ["x", "y"], changedFiles: ["tenants/p/y.yaml"] }, ctx);
        expect(names(r)).toEqual(["p.y"]);
        expect(r.reasons.get("p.y")).toBe("--tenant y; tenant file changed (tenants/p/y.yaml)");
    });
});

describe("fleet adopt", () => {
    const proof = (ok: boolean): AdoptionProof => ({
        env: "test",
        moves: [{ stack: "test.cell-a", urns: ["urn:pulumi:test::tenancy::tenancy:cell:DatabaseCell::cell-a"], resourceCount: 20 },
            { stack: "test.acme", urns: ["urn:pulumi:test::tenancy::tenancy:tenant:Tenant::acme"], resourceCount: 18 }],
        replaced: ok ? [] : [{ identity: "urn:pulumi:<stack>::tenancy::x", type: "aws:rds/cluster:Cluster", name: "cell-a-db", stack: "test.cell-a", paths: [{ path: "clusterIdentifier" }] }],
        created: [], deleted: [], updated: [], infrastructureOfTheFleet: [], ok,
    });

    it("prints the stack init and state move commands once the offline proof holds, and runs them with --execute", async () => {
        const { d, out, pulumiCalls } = deps(repo(), new FakeRunner(), { proveAdoption: async () => proof(true) });
        expect(await fleetCommand(["adopt", "--env", "test"], d)).toBe(0);
        expect(out.join("")).toContain("pulumi state move --source test --dest test.cell-a --yes urn:pulumi:test::tenancy::tenancy:cell:DatabaseCell::cell-a");
        expect(pulumiCalls).toEqual([]);
        const run = deps(repo(), new FakeRunner(), { proveAdoption: async () => proof(true) });
        expect(await fleetCommand(["adopt", "--env", "test", "--execute"], run.d)).toBe(0);
        // Tenants before cells: a cell moves with its PostgreSQL provider, which tenants left behind still use
        // (state move copies only providers that stay, and then refuses the source state's integrity).
        expect(run.pulumiCalls).toEqual([
            ["stack", "init", "test.acme", "--no-select"],
            ["state", "move", "--source", "test", "--dest", "test.acme", "--yes", "urn:pulumi:test::tenancy::tenancy:tenant:Tenant::acme"],
            ["stack", "init", "test.cell-a", "--no-select"],
            ["state", "move", "--source", "test", "--dest", "test.cell-a", "--yes", "urn:pulumi:test::tenancy::tenancy:cell:DatabaseCell::cell-a"],
            ["stack", "tag", "set", "tenancy:layout", "fleet", "--stack", "test"],
        ]);
    });

    it("refuses, runs nothing and exits 2 when the move would replace something", async () => {
        const { d, out, pulumiCalls } = deps(repo(), new FakeRunner(), { proveAdoption: async () => proof(false) });
        expect(await fleetCommand(["adopt", "--env", "test", "--execute"], d)).toBe(2);
        expect(out.join("")).toMatch(/Would be REPLACED \(1\):\n {2}test\.cell-a +aws:rds\/cluster:Cluster +cell-a-db +\[clusterIdentifier\]/);
        expect(out.join("")).toContain("Not adopting");
        expect(pulumiCalls).toEqual([]);
    });

    it("stops at the first failing command and says how to continue", async () => {
        const { d, err } = deps(repo(), new FakeRunner(), {
            proveAdoption: async () => proof(true),
            pulumi: { run: async (args) => (args[0] === "state" ? { code: 255, stdout: "", stderr: "error: no resources found" } : { code: 0, stdout: "", stderr: "" }) },
        });
        expect(await fleetCommand(["adopt", "--env", "test", "--execute"], d)).toBe(2);
        expect(err.join("")).toContain("exited 255; the commands before it are done, re-run adopt --execute to continue");
    });
});

/** A `pulumi` CLI fake with stack tags and histories: `stack tag get|set|ls`, `stack history`. */
function pulumiWithTags(tags: Record<string, Record<string, string>> = {}, history: Record<string, unknown[]> = {}) {
    const calls: string[][] = [];
    const stackOf = (args: string[]) => args[args.indexOf("--stack") + 1]!;
    const run = async (args: string[]) => {
        calls.push(args);
        const stack = stackOf(args);
        if (args[0] === "stack" && args[1] === "tag" && args[2] === "get") {
            const v = tags[stack]?.[args[3]!];
            return v === undefined ? { code: 255, stdout: "", stderr: `error: stack tag '${args[3]}' not found` } : { code: 0, stdout: `${v}\n`, stderr: "" };
        }
        if (args[0] === "stack" && args[1] === "tag" && args[2] === "set") {
            (tags[stack] ??= {})[args[3]!] = args[4]!;
            return { code: 0, stdout: "", stderr: "" };
        }
        if (args[0] === "stack" && args[1] === "history") {
            const h = history[stack];
            return h === undefined ? { code: 255, stdout: "", stderr: `error: no stack named '${stack}' found` } : { code: 0, stdout: JSON.stringify(h), stderr: "" };
        }
        return { code: 0, stdout: "", stderr: "" };
    };
    return { pulumi: { run }, calls, tags };
}

function gitRepo(): { root: string; git: (...args: string[]) => string; commit: (m: string) => string } {
    const root = repo();
    const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: "pipe", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@x", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@x" } }).trim();
    git("init", "-q");
    fs.writeFileSync(path.join(root, ".gitignore"), ".fleet/\n");
    const commit = (m: string) => (git("add", "-A"), git("commit", "-q", "--allow-empty", "-m", m), git("rev-parse", "HEAD"));
    commit("base");
    return { root, git, commit };
}

describe("fleet up --changed-since deployed", () => {
    it("runs every stack while no deployed commit is recorded, records HEAD after a complete up, then runs only what changed since", async () => {
        const { root, commit, git } = gitRepo();
        const p = pulumiWithTags();
        const first = deps(root, new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "deployed"], first.d)).toBe(0);
        expect(first.runner.calls).toHaveLength(6);
        expect(first.err.join("")).toContain("no deployed commit recorded on stack test (tag tenancy:deployed-commit): every stack");
        expect(p.tags["test"]?.["tenancy:deployed-commit"]).toBe(git("rev-parse", "HEAD"));

        fs.appendFileSync(path.join(root, "tenants/test/beta.yaml"), "features: [sso]\n");
        const head = commit("beta gets sso");
        const second = deps(root, new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "deployed"], second.d)).toBe(0);
        expect(second.runner.calls).toEqual(["up test.beta"]);
        expect(p.tags["test"]?.["tenancy:deployed-commit"]).toBe(head);
    });

    it("a recorded commit missing from the checkout (history rewritten) or not a commit id runs every stack, with a note, instead of failing every deploy", async () => {
        const { root } = gitRepo();
        const p = pulumiWithTags({ test: { "tenancy:deployed-commit": "f".repeat(40) } });
        const r = deps(root, new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "deployed"], r.d)).toBe(0);
        expect(r.runner.calls).toHaveLength(6);
        expect(r.err.join("")).toContain(`deployed commit ${"f".repeat(12)} (tag tenancy:deployed-commit) is not in this checkout: every stack`);
        const edited = pulumiWithTags({ test: { "tenancy:deployed-commit": "--output=/tmp/x" } });
        const e = deps(root, new FakeRunner(), { pulumi: edited.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "deployed"], e.d)).toBe(0);
        expect(e.runner.calls).toHaveLength(6);
        expect(e.err.join("")).toContain('tag tenancy:deployed-commit on stack test is "--output=/tmp/x", not a commit id: every stack');
        // An explicit ref stays a usage error: the user named it.
        const bad = deps(root);
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "f".repeat(40)], bad.d)).toBe(1);
    });

    it("keeps the recorded commit when a stack failed, after a --tenant run and after a preview", async () => {
        const { root, commit } = gitRepo();
        const p = pulumiWithTags({ test: { "tenancy:deployed-commit": "0".repeat(40) } });
        const base = commit("x");
        p.tags["test"]!["tenancy:deployed-commit"] = base;
        fs.appendFileSync(path.join(root, "tenants/test/beta.yaml"), "features: [sso]\n");
        commit("beta");
        const failed = deps(root, new FakeRunner(["test.beta"]), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "deployed"], failed.d)).toBe(2);
        const tenant = deps(root, new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--tenant", "beta"], tenant.d)).toBe(0);
        const preview = deps(root, new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["preview", "--env", "test"], preview.d)).toBe(0);
        expect(p.tags["test"]!["tenancy:deployed-commit"]).toBe(base);
        expect(p.calls.filter((c) => c[2] === "set" && c[3] === "tenancy:deployed-commit")).toEqual([]);
    });

    it("a resume continues from the commit the run diffed from, and refuses a checkout at another commit", async () => {
        const { root, commit } = gitRepo();
        const p = pulumiWithTags();
        const base = commit("x");
        p.tags["test"] = { "tenancy:deployed-commit": base };
        fs.appendFileSync(path.join(root, "tenants/test/beta.yaml"), "features: [sso]\n");
        commit("beta");
        const failed = deps(root, new FakeRunner(["test.beta"]), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--changed-since", "deployed"], failed.d)).toBe(2);
        const file = ".fleet/runs/2026-11-23T15-00-00Z-up.json";
        expect(JSON.parse(fs.readFileSync(path.join(root, file), "utf8")).selection).toMatchObject({ changedSince: "deployed", base });
        // Someone moved the mark meanwhile: the resume still runs the run's own selection.
        p.tags["test"] = { "tenancy:deployed-commit": commit("later") };
        const moved = deps(root, new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test", "--resume", file], moved.d)).toBe(1);
        expect(moved.err.join("")).toMatch(/--resume .*: that run deployed commit [0-9a-f]{12}, this checkout is at [0-9a-f]{12}/);
        expect(moved.runner.calls).toEqual([]);
    });
});

describe("fleet up over an environment deployed as a single stack", () => {
    const deployed = [{ kind: "update", result: "succeeded" }];

    it("is refused until adopt moved its cells and tenants: the platform program would delete them", async () => {
        const p = pulumiWithTags({}, { test: deployed });
        const { d, err, runner } = deps(repo(), new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["up", "--env", "test"], d)).toBe(1);
        expect(err.join("")).toContain("stack test was deployed in the single layout (no tag tenancy:layout=fleet)");
        expect(err.join("")).toContain("npm run fleet -- adopt --env test");
        expect(runner.calls).toEqual([]);
        // A preview changes nothing: it may show what the fleet would do.
        const preview = deps(repo(), new FakeRunner(), { pulumi: p.pulumi });
        expect(await fleetCommand(["preview", "--env", "test"], preview.d)).toBe(0);
    });

    it("runs a new environment (no stack yet, or never updated) and tags it a fleet once its platform deployed", async () => {
        for (const history of [{}, { test: [] }] as Record<string, unknown[]>[]) {
            const p = pulumiWithTags({}, history);
            const { d } = deps(repo(), new FakeRunner(), { pulumi: p.pulumi });
            expect(await fleetCommand(["up", "--env", "test"], d)).toBe(0);
            expect(p.tags["test"]?.["tenancy:layout"]).toBe("fleet");
        }
    });

    it("runs once tagged; adopt --execute tags the environment after its last move", async () => {
        const tagged = pulumiWithTags({ test: { "tenancy:layout": "fleet" } }, { test: deployed });
        expect(await fleetCommand(["up", "--env", "test"], deps(repo(), new FakeRunner(), { pulumi: tagged.pulumi }).d)).toBe(0);
        const p = pulumiWithTags({}, { test: deployed });
        const proof: AdoptionProof = { env: "test", moves: [{ stack: "test.acme", urns: ["urn:pulumi:test::tenancy::tenancy:tenant:Tenant::acme"], resourceCount: 3 }], replaced: [], created: [], deleted: [], updated: [], infrastructureOfTheFleet: [], ok: true };
        const { d } = deps(repo(), new FakeRunner(), { pulumi: p.pulumi, proveAdoption: async () => proof });
        expect(await fleetCommand(["adopt", "--env", "test", "--execute"], d)).toBe(0);
        expect(p.calls.at(-1)).toEqual(["stack", "tag", "set", "tenancy:layout", "fleet", "--stack", "test"]);
    });
});
