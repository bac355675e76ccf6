/**
 * Declaring a move in the fleet layout: a moving tenant's stack reads the source's cell too, connects to each cell
 * with a PostgreSQL provider of its own (the target's labelled), declares the single stack's resources with the same
 * inputs, and exports `moves.<slug>`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fleetReferences, recordStack, removeDir, stackRef, tenantOf } from "./harness";

const SHARED = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 8 }, cells: { main: {}, b: {} } };
const FILES = {
    "c2c.yaml": sharedTenant("c2c", "cell: b\nmove:\n  from: { tier: shared, cell: main }\n"),
    "s2h.yaml": sharedTenant("s2h", "tier: hybrid\nmove:\n  from: { tier: shared, cell: b }\n"),
    "d2s.yaml": sharedTenant("d2s", "move:\n  from: { tier: dedicated, network: {cidr: 10.62.0.0/16} }\n"),
};

const roots: string[] = [];
const repo = (layout: "single" | "fleet") => {
    const root = makeRepo(FILES, baseStackConfig({ "tenancy:layout": layout, "tenancy:shared": SHARED }));
    roots.push(root);
    return root;
};
afterAll(() => roots.forEach(removeDir));

const ref = stackRef;
const identity = (urn: string, stack: string) => urn.replace(`urn:pulumi:${stack}::`, "urn:pulumi:ENV::");

let single: RecordResult;
let references: Record<string, Record<string, unknown>>;
let fleetRoot: string;
beforeAll(async () => {
    single = await recordStack(repo("single"), "test");
    fleetRoot = repo("fleet");
    references = fleetReferences(single, "test", ["main", "b"]);
}, 60_000);

const recordFleet = (stack: string) => record(() => main(fleetRoot), { project: "tenancy", stack, stackReferences: references, idSeedStack: "test" });

describe("fleet: a moving tenant's stack", () => {
    it.each([
        ["c2c", ["test", "test.cell-b", "test.cell-main"], ["c2c-pg", "c2c-pg-shared-b"]],
        ["s2h", ["test", "test.cell-b"], ["s2h-pg"]],
        ["d2s", ["test", "test.cell-main"], ["d2s-pg-shared-main"]],
    ] as const)("%s reads the platform and every cell of its two placements, each cell through a PostgreSQL provider of its own", async (slug, reads, providers) => {
        const fleet = await recordFleet(`test.${slug}`);
        const refs = fleet.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
        expect(refs.map((r) => r.name).sort()).toEqual(reads.map(ref));
        const pg = fleet.resources.filter((r) => r.type === "pulumi:providers:postgresql");
        expect(pg.map((r) => r.name).sort()).toEqual([...providers]);
        // Each placement's SQL goes through the provider of its cell: the labelled one for the target.
        const roles = fleet.resources.filter((r) => r.type === "postgresql:index/role:Role");
        expect(roles.length).toBeGreaterThan(0);
        for (const r of roles) {
            const provider = pg.find((p) => r.provider?.startsWith(`${p.urn}::`));
            expect(provider, r.urn).toBeDefined();
            const target = r.name.includes("-db-shared-");
            expect(provider!.name, r.urn).toBe(target ? providers.find((p) => p.includes("-shared-")) : `${slug}-pg`);
        }
    });

    it.each(["c2c", "s2h", "d2s"])("%s's stack declares the single stack's resources of the tenant with the same inputs, and exports moves.%s", async (slug) => {
        const stack = `test.${slug}`;
        const fleet = await recordFleet(stack);
        const owner = tenantOf(fleet);
        const declared = fleet.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.read && !r.type.startsWith("pulumi:providers:"));
        expect(declared.length).toBeGreaterThan(10);
        for (const r of declared) expect(owner(r), r.urn).toBe(slug);
        const singleOwner = tenantOf(single);
        const expected = single.resources.filter((r) => singleOwner(r) === slug);
        expect(declared.map((r) => identity(r.urn, stack)).sort()).toEqual(expected.map((r) => identity(r.urn, "test")).sort());
        const byIdentity = new Map(expected.map((r) => [identity(r.urn, "test"), r]));
        for (const r of declared) expect(r.inputs, r.urn).toEqual(byIdentity.get(identity(r.urn, stack))!.inputs);
        expect(fleet.outputs["moves"]).toEqual({ [slug]: (single.outputs["moves"] as Record<string, unknown>)[slug] });
    });
});
