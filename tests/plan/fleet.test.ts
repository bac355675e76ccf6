/**
 * The offline plan of a fleet environment: every stack recorded on its own (platform, cells, tenants), each resource
 * tagged with its stack, and a tenant's stack independent of every other tenant.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { withRegistrySnapshot } from "../../stacks/readConfig";
import { diffPlans } from "../../tools/plan/diff";
import { planEnvironment } from "../../tools/plan/environment";
import { compare, planToJson, type Plan, type PlanResource } from "../../tools/plan/model";
import { renderDiffMarkdown, renderDiffText } from "../../tools/plan/renderDiff";
import { renderMarkdown } from "../../tools/plan/renderMarkdown";
import { renderText } from "../../tools/plan/renderText";
import { RegistryError } from "../../tenants/problems";
import { FLEET_TENANTS, fleetRepo } from "./helpers";

/** A resource's identity apart from its stack. */
const identity = (r: PlanResource) => r.urn.replace(/^urn:pulumi:[^:]+::/, "urn:pulumi:ENV::");
const byStack = (plan: Plan, stack: string) => plan.resources.filter((r) => r.stack === stack);

let fleet: Plan;
let single: Plan;
let fleetRoot: string;
beforeAll(async () => {
    fleetRoot = fleetRepo("fleet");
    fleet = await planEnvironment({ root: fleetRoot, env: "test" });
    single = await planEnvironment({ root: fleetRepo("single"), env: "test" });
});

describe("offline plan of a fleet environment", () => {
    it("lists every stack in schedule order with its role, tenants and resource count, and tags each resource with its stack", () => {
        expect(fleet.stacks.map((s) => [s.name, s.role, s.tenants])).toEqual([
            ["test", "platform", []],
            ["test.cell-b", "cell", []],
            ["test.cell-main", "cell", []],
            ["test.alpha", "tenant", ["alpha"]],
            ["test.bravo", "tenant", ["bravo"]],
            ["test.charlie", "tenant", ["charlie"]],
            ["test.delta", "tenant", ["delta"]],
        ]);
        for (const s of fleet.stacks) {
            expect(s.resourceCount, s.name).toBe(byStack(fleet, s.name).length);
            expect(s.resourceCount, s.name).toBeGreaterThan(1);
        }
        expect(fleet.stacks.reduce((n, s) => n + s.resourceCount, 0)).toBe(fleet.resources.length);
        for (const r of fleet.resources) expect(r.urn.startsWith(`urn:pulumi:${r.stack}::`), r.urn).toBe(true);
        // A tenant's resources are in its own stack only.
        for (const t of fleet.tenants) {
            const stacks = new Set(fleet.resources.filter((r) => r.tenant === t.slug).map((r) => r.stack));
            expect([...stacks], t.slug).toEqual([`test.${t.slug}`]);
        }
        expect(fleet.tenants.map((t) => [t.slug, t.cell])).toEqual([["alpha", "main"], ["bravo", "b"], ["charlie", null], ["delta", null]]);
    });

    it("a single-layout plan is one stack holding everything", () => {
        expect(single.stacks).toEqual([{ name: "test", role: "platform", tenants: ["alpha", "bravo", "charlie", "delta"], resourceCount: single.resources.length }]);
        expect(new Set(single.resources.map((r) => r.stack))).toEqual(new Set(["test"]));
    });

    it("plans each tenant's resources with the same inputs as the single layout (ids seeded with the environment)", () => {
        const singleBy = new Map(single.resources.map((r) => [identity(r), r]));
        const tenantResources = fleet.resources.filter((r) => r.tenant !== null);
        expect(tenantResources.length).toBeGreaterThan(40);
        for (const r of tenantResources) {
            const twin = singleBy.get(identity(r));
            expect(twin, r.urn).toBeDefined();
            expect(r.inputs, r.urn).toEqual(twin!.inputs);
        }
    });

    it("a tenant stack reads the platform (and a shared tenant its cell) by StackReference, with the secret masked", () => {
        const refs = byStack(fleet, "test.alpha").filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => String(r.inputs["name"])).sort(compare);
        expect(refs).toEqual(["organization/tenancy/test", "organization/tenancy/test.cell-main"]);
        expect(JSON.stringify(fleet)).not.toMatch(/"password":"(?!\[secret\])/);
    });

    it("text groups by stack", () => {
        const text = renderText(fleet);
        expect(text).toContain("Stack test.alpha (tenant alpha): ");
        expect(renderMarkdown(fleet)).toContain("| _cell_ | | us-east-1 | | | | `test.cell-b` |");
        expect(text.indexOf("Stack test (platform)")).toBeLessThan(text.indexOf("Stack test.cell-b (cell)"));
    });

    it("--stack <env>.<slug> plans that one stack", async () => {
        const one = await planEnvironment({ root: fleetRoot, env: "test.bravo" });
        expect(one.stack).toBe("test.bravo");
        expect(one.stacks.map((s) => s.name)).toEqual(["test.bravo"]);
        expect(one.tenants.map((t) => t.slug)).toEqual(["bravo"]);
        expect(one.resources).toEqual(byStack(fleet, "test.bravo"));
        // Rendered as its stack, not as a platform.
        expect(renderText(one)).toContain("Stack test.bravo (tenant bravo): ");
        expect(renderText(one)).not.toContain("Platform (shared side and stack)");
    });

    it("a stack the environment does not have is refused before anything is recorded", async () => {
        const err = await planEnvironment({ root: fleetRoot, env: "test.nosuch" }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RegistryError);
        expect((err as RegistryError).message).toContain("stack test.nosuch: environment test (layout fleet) has no such stack (allowed: test (the whole fleet), test.cell-b");
    });
});

describe("plan:diff of a layout change (single → fleet)", () => {
    it("matches resources by identity: nothing deleted or replaced, the guard quiet, and the adopt step named", () => {
        const d = diffPlans(single, fleet);
        expect(d.layoutChange).toMatchObject({ from: "single", to: "fleet" });
        // Every cell's and tenant's resource moves; the platform's stay in `test`.
        expect(d.layoutChange!.moved).toBe(fleet.resources.filter((r) => r.stack !== "test" && !["pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"].includes(r.type) && !r.type.startsWith("pulumi:providers:")).length);
        expect(d.layoutChange!.moved).toBeGreaterThan(100);
        expect(d.risks).toEqual([]);
        expect(d.guardFires).toBe(false);
        // Only what fleet stacks have by construction is added or removed.
        const addedOrRemoved = d.tenants.flatMap((t) => [...t.added, ...t.removed]);
        for (const r of addedOrRemoved) expect(r.type, r.urn).toMatch(/^pulumi:(providers:|pulumi:)/);
        expect(renderDiffText(d)).toContain("!! Layout single → fleet:");
        expect(renderDiffMarkdown(d)).toContain("`npm run fleet -- adopt --env test`");
        // Without identity matching (same layout), the same plans would be every resource removed.
        expect(diffPlans(single, { ...fleet, stacks: [{ name: "test", role: "platform", tenants: [], resourceCount: 0 }] }).guardFires).toBe(true);
    });
});

describe("npm run plan over a fleet with worker processes", () => {
    it("writes the same plan as recording every stack in one process (--parallel 2)", async () => {
        const out = path.join(fleetRoot, "plan.json");
        const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
            execFile(process.execPath, ["--import", "tsx", "tools/plan.ts", "--stack", "test", "--parallel", "2", "--format", "json", "--out", out], {
                cwd: path.resolve(__dirname, "../.."), timeout: 120_000, env: { ...process.env, TENANCY_ROOT: fleetRoot },
            }, (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }));
        });
        expect(r.stderr).toContain("Wrote the json plan of stack test");
        expect(r.code).toBe(0);
        expect(fs.readFileSync(out, "utf8")).toBe(planToJson(fleet));
    });
});

describe("adding tenants to a fleet", () => {
    it("adds one stack per tenant (one of each tier) and changes no other stack's resources but the platform's fleet overview dashboard", async () => {
        const added = {
            "echo.yaml": "slug: echo\ndisplayName: Echo Inc\ncell: b\n",
            "foxtrot.yaml": "slug: foxtrot\ndisplayName: Foxtrot Inc\ntier: hybrid\n",
            "golf.yaml": "slug: golf\ndisplayName: Golf Inc\ntier: dedicated\nnetwork: {cidr: 10.61.0.0/16}\n",
        };
        const after = await planEnvironment({ root: fleetRepo("fleet", { ...FLEET_TENANTS, ...added }), env: "test" });
        const names = (p: Plan) => p.stacks.map((s) => s.name);
        expect(names(after).filter((n) => !names(fleet).includes(n)).sort()).toEqual(["test.echo", "test.foxtrot", "test.golf"]);
        expect(names(fleet).filter((n) => !names(after).includes(n))).toEqual([]);
        // The overview lists every tenant of the registry: the one resource of another stack that follows the new tenants.
        const overview = (r: { type: string; name: string }) => r.type === "aws:cloudwatch/dashboard:Dashboard" && r.name === "shared-monitoring-fleet";
        for (const stack of names(fleet)) expect(byStack(after, stack).filter((r) => !overview(r)), stack).toEqual(byStack(fleet, stack).filter((r) => !overview(r)));
        const body = String(after.resources.find((r) => overview(r))!.inputs["dashboardBody"]);
        for (const slug of ["echo", "foxtrot", "golf"]) expect(body).toContain(`tenancy-test-${slug}`);
        for (const slug of ["echo", "foxtrot", "golf"]) expect(byStack(after, `test.${slug}`).some((r) => r.tenant === slug)).toBe(true);
        const diff = diffPlans(fleet, after);
        expect(diff.stacks.map((s) => [s.name, s.change])).toEqual([["test", "changed"], ["test.echo", "added"], ["test.foxtrot", "added"], ["test.golf", "added"]]);
        expect(diff.guardFires).toBe(false);
    });
});

describe("a fleet's stacks recorded one after another in one process", () => {
    it("validate the registry once per plan (one snapshot of the files), and the next plan sees an edited file", async () => {
        const root = fleetRepo("fleet");
        const tagsOf = (plan: Plan) => plan.resources.filter((r) => r.type === "aws:secretsmanager/secret:Secret").map((r) => (r.inputs["tags"] as Record<string, string> | undefined)?.["team"]);
        const edit = () => fs.appendFileSync(path.join(root, "tenants/test/alpha.yaml"), "tags: {team: payments}\n");
        const [before, during] = await withRegistrySnapshot(async () => {
            const first = await planEnvironment({ root, env: "test.alpha" });
            edit();
            return [first, await planEnvironment({ root, env: "test.alpha" })];
        });
        expect(tagsOf(before).length).toBeGreaterThan(0);
        expect(tagsOf(before).every((t) => t === undefined)).toBe(true);
        // Inside one snapshot the tenant stack's program kept the registry it validated first.
        expect(tagsOf(during)).toEqual(tagsOf(before));
        const after = await planEnvironment({ root, env: "test.alpha" });
        expect(tagsOf(after).every((t) => t === "payments")).toBe(true);
    });
});
