/**
 * plan:diff on the real program's plans of a move's life, in a protected stack: committing its receipt (cutover: the
 * source loses its protection) and retiring it, with and without the receipt (declaring it: tests/stacks/moves.test.ts
 * proves the source unchanged, tests/plan/moves.test.ts what the diff says). Proves the guard finds the
 * source placement the program declares (names, labels, nesting) and never exempts the target's resources.
 */
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { MoveReceipt } from "../../tenants/moves";
import { diffPlans, type PlanDiff } from "../../tools/plan/diff";
import type { Plan } from "../../tools/plan/model";
import { runPlan } from "../../tools/plan/run";
import { removeAfterFile } from "../support/tempDirs";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";

const CONFIG = baseStackConfig({
    "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 8 }, cells: { main: {}, b: {} } },
    "tenancy:protect": true,
});

/** Three directions that cover both cells (same component type), a dedicated target in another region, a dedicated source. */
const DIRECTIONS: Record<string, { moving: string; from: MoveReceipt["from"]; to: MoveReceipt["to"] }> = {
    c2c: {
        moving: "cell: b\nmove:\n  from: { tier: shared, cell: main }\n",
        from: { server: "a:5432/tenancy", tier: "shared", cell: "main", label: "" }, to: { server: "b:5432/tenancy", tier: "shared", cell: "b", label: "shared-b" },
    },
    s2d: {
        moving: "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nmove:\n  from: { tier: shared }\n",
        from: { server: "a:5432/tenancy", tier: "shared", cell: "main", label: "" }, to: { server: "d:5432/app", tier: "dedicated", region: "eu-west-1", label: "dedicated" },
    },
    d2s: {
        moving: "cell: b\nmove:\n  from: { tier: dedicated, network: {cidr: 10.62.0.0/16} }\n",
        from: { server: "d:5432/app", tier: "dedicated", region: "us-east-1", label: "" }, to: { server: "b:5432/tenancy", tier: "shared", cell: "b", label: "shared-b" },
    },
};
const SLUGS = Object.keys(DIRECTIONS);

const receipt = (slug: string): MoveReceipt => ({
    tenant: slug, schema: `t_${slug}`, from: DIRECTIONS[slug]!.from, to: DIRECTIONS[slug]!.to,
    startedAt: "2026-11-23T10:00:00.000Z", finishedAt: "2026-11-23T10:01:00.000Z", writePauseMs: 900, tables: [], sequences: [], verified: true,
});

/** The plan of the files at one step of the move, with the receipts committed (or none). */
async function planOf(step: "moving" | "retired", receipts: boolean): Promise<Plan> {
    const files = Object.fromEntries(SLUGS.map((s) => {
        const d = DIRECTIONS[s]!;
        return [`${s}.yaml`, sharedTenant(s, step === "retired" ? d.moving.replace(/move:\n {2}from: .*\n/, "") : d[step])];
    }));
    const root = makeRepo(files, CONFIG);
    removeAfterFile(root);
    if (receipts) {
        fs.mkdirSync(path.join(root, "tenants/test/.moves"));
        for (const s of SLUGS) fs.writeFileSync(path.join(root, "tenants/test/.moves", `${s}.json`), JSON.stringify(receipt(s), null, 2));
    }
    return runPlan({ root, stack: "test" });
}

const firing = (d: PlanDiff) => d.risks.filter((r) => !r.exempt);
const phases = (d: PlanDiff) => d.moves.map((m) => [m.tenant, m.phase]);

let moving: Plan;
let cutover: Plan;
let retired: Plan;
let unproven: Plan;
beforeAll(async () => {
    // One after another: the plan runs the program in this process's Pulumi runtime.
    moving = await planOf("moving", false);
    cutover = await planOf("moving", true);
    retired = await planOf("retired", true);
    unproven = await planOf("retired", false);
}, 180_000);

describe("plan:diff over the program's plans of a move", () => {
    it("the plan states each tenant's move and, once committed, its receipt", () => {
        expect(moving.tenants.map((t) => [t.slug, t.move?.from.tier, t.move?.cutover, t.receipt?.verified])).toEqual([
            ["c2c", "shared", false, undefined], ["d2s", "dedicated", false, undefined], ["s2d", "shared", false, undefined],
        ]);
        expect(cutover.tenants.map((t) => [t.slug, t.move?.cutover, t.receipt?.verified])).toEqual([["c2c", true, true], ["d2s", true, true], ["s2d", true, true]]);
    });

    it("committing the receipts unprotects only the sources, exempt by this move's verified receipt", () => {
        const d = diffPlans(moving, cutover);
        expect(phases(d)).toEqual([["c2c", "cutover"], ["d2s", "cutover"], ["s2d", "cutover"]]);
        expect(firing(d)).toEqual([]);
        const exempt = d.risks.filter((r) => r.exemptBy === "move");
        expect(exempt.length).toBeGreaterThan(0);
        expect(new Set(exempt.map((r) => r.action))).toEqual(new Set(["unprotect"]));
        // c2c: the target's TenantDatabase carries its label; only the source's (unlabelled) resources lose protection.
        expect(exempt.filter((r) => r.tenant === "c2c").every((r) => !r.urn.includes("shared-b"))).toBe(true);
    });

    it("retiring with the receipts removes the sources and the runner's access without firing; without them it fires for every tenant, exempting nothing", () => {
        const ok = diffPlans(cutover, retired);
        expect(phases(ok)).toEqual([["c2c", "retired"], ["d2s", "retired"], ["s2d", "retired"]]);
        expect(firing(ok)).toEqual([]);
        expect(ok.risks.length).toBeGreaterThan(0);
        expect(ok.risks.every((r) => r.action === "remove" && r.exemptBy === "move")).toBe(true);
        for (const slug of SLUGS) expect(ok.risks.some((r) => r.tenant === slug), slug).toBe(true);
        const removedUrns = ok.tenants.flatMap((t) => t.removed.map((r) => r.urn));
        expect(removedUrns.some((u) => u.includes("tenancy:network:MoveAccess"))).toBe(true);

        const bad = diffPlans(cutover, unproven);
        expect(bad.guardFires).toBe(true);
        expect(phases(bad)).toEqual([["c2c", "unproven"], ["d2s", "unproven"], ["s2d", "unproven"]]);
        // Each tenant's data is at risk and nothing is exempt (without the receipt the target's names also lose their
        // label: the labelled target shows as removed, and a cell → cell tenant's source as replaced on the other cell).
        for (const slug of SLUGS) expect(firing(bad).some((r) => r.tenant === slug), slug).toBe(true);
        expect(bad.risks.filter((r) => r.exemptBy === "move")).toEqual([]);

    });
});
