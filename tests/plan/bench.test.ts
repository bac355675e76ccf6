/**
 * `npm run bench` must be able to run: its synthetic environments validate (1000 shared tenants fit in 10 cells), the
 * fleet case partitions into the stacks it reports, and the floor registers exactly the planned resources. No timings.
 */
import * as fs from "fs";
import { afterAll, describe, expect, it } from "vitest";
import { fleetStacks } from "../../model/fleet";
import { loadRegistry } from "../../tenants/registry";
import { benchConfig, cellsOf, DEFAULT_CASES, ENV, parseCase, synthesize, type Case } from "../../tools/bench";
import { planEnvironment } from "../../tools/plan/environment";
import { recordFloor } from "../../tools/plan/floor";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
const make = (c: Case) => {
    const root = synthesize(c);
    roots.push(root);
    return root;
};

describe("bench: synthetic environments", () => {
    it.each(DEFAULT_CASES)("%s validates, with one cell per 100 shared tenants", (name) => {
        const c = parseCase(name);
        const registry = loadRegistry({ root: make(c), stack: ENV });
        expect(registry.tenants).toHaveLength(c.tenants);
        expect(Object.keys(registry.config.cells)).toEqual(cellsOf(c));
        expect(registry.config.layout).toBe(c.kind === "fleet" ? "fleet" : "single");
        const stacks = fleetStacks({ env: ENV, layout: registry.config.layout, cells: Object.keys(registry.config.cells), tenants: registry.tenants });
        expect(stacks).toHaveLength(c.kind === "fleet" ? 1 + cellsOf(c).length + c.tenants : 1);
    });

    it("shared:1000 needs its 10 cells: on one cell the capacity guard refuses it", () => {
        const c = parseCase("shared:1000");
        expect(cellsOf(c)).toHaveLength(10);
        const root = make(c);
        const config = benchConfig(c) as { "tenancy:shared": { cells: Record<string, unknown> } };
        const oneCell = { ...config, "tenancy:shared": { ...config["tenancy:shared"], cells: { c0: {} } } };
        fs.writeFileSync(`${root}/Pulumi.${ENV}.yaml`, JSON.stringify({ config: oneCell }));
        for (const f of fs.readdirSync(`${root}/tenants`)) fs.writeFileSync(`${root}/tenants/${f}`, fs.readFileSync(`${root}/tenants/${f}`, "utf8").replace(/^cell: .*$/m, "cell: c0"));
        expect(() => loadRegistry({ root, stack: ENV })).toThrow(/c0/);
    });

    it("refuses what is not a case", () => {
        expect(() => parseCase("fleet:0")).toThrow("'fleet:0' is not a case (allowed: shared:<n>, dedicated:<n> or fleet:<n>, n ≥ 1)");
        expect(() => parseCase("dedicated:151")).toThrow("at most 150 dedicated tenants");
    });
});

describe("bench: the floor", () => {
    it("registers as many resources as each stack planned, every type through its own class", async () => {
        const plan = await planEnvironment({ root: make({ kind: "fleet", tenants: 2 }), env: ENV });
        const stacks = plan.stacks.filter((s) => s.role !== "platform");
        expect(stacks.map((s) => s.role)).toEqual(["cell", "tenant", "tenant"]);
        for (const s of stacks) {
            const resources = plan.resources.filter((r) => r.stack === s.name);
            const floor = await recordFloor({ project: plan.project, stack: s.name, resources });
            expect(floor.resources, s.name).toBe(resources.length);
        }
    });
});
