import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { cellUsage, suggestCell } from "../../model/cells";
import { loadRegistry } from "../../tenants/registry";
import { baseStackConfig, makeRepo, registryProblems, sharedTenant } from "./fixtures";

const SHARED = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 } };

function withCells(shared: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return baseStackConfig({ "tenancy:shared": { ...SHARED, ...shared }, ...extra });
}

function load(files: Record<string, string>, config = baseStackConfig(), stack = "test") {
    const root = makeRepo(files, config);
    if (stack !== "test") fs.copyFileSync(`${root}/Pulumi.test.yaml`, `${root}/Pulumi.${stack}.yaml`);
    try {
        return loadRegistry({ root, stack });
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

describe("shared database cells in the stack config", () => {
    it("a stack that declares no cell has one, main, with shared.database's settings, and shared tenants live on it", () => {
        const { config, tenants } = load({ "acme.yaml": sharedTenant("acme"), "big.yaml": sharedTenant("big", "tier: hybrid\n") });
        expect(Object.keys(config.cells)).toEqual(["main"]);
        expect(config.defaultCell).toBe("main");
        expect(config.cells["main"]).toMatchObject({ minCapacity: 0.5, maxCapacity: 4, reservedConnections: 50, readers: 0 });
        expect(config.layout).toBe("single");
        expect(tenants.map((t) => [t.slug, t.cell])).toEqual([["acme", "main"], ["big", undefined]]);
    });

    it("a cell overrides only its capacity, readers and reserve; a class replaces the base's capacity range", () => {
        const { config } = load({}, withCells({ cells: { main: null, b: { instanceClass: "db.r6g.large", readers: 1 }, c: { maxCapacity: 16, reservedConnections: 10 } }, defaultCell: "c" }));
        expect(config.defaultCell).toBe("c");
        expect(config.cells["main"]).toMatchObject({ minCapacity: 0.5, maxCapacity: 4, readers: 0 });
        expect(config.cells["b"]).toMatchObject({ instanceClass: "db.r6g.large", readers: 1, reservedConnections: 50, engineVersion: "16.6" });
        expect(config.cells["b"]).not.toHaveProperty("maxCapacity");
        expect(config.cells["c"]).toMatchObject({ minCapacity: 0.5, maxCapacity: 16, reservedConnections: 10 });
        expect(config.cells["c"]).not.toHaveProperty("instanceClass");
    });

    it("the default cell is main when declared, else the first by name", () => {
        expect(load({}, withCells({ cells: { zeta: {}, alpha: {} } })).config.defaultCell).toBe("alpha");
        expect(load({}, withCells({ cells: { zeta: {}, main: {} } })).config.defaultCell).toBe("main");
    });

    it("a fleet stack's name gives the environment every physical name uses", () => {
        const { config } = load({ "acme.yaml": sharedTenant("acme") }, baseStackConfig({ "tenancy:layout": "fleet" }), "prod");
        expect([config.stack, config.env, config.layout]).toEqual(["prod", "prod", "fleet"]);
    });

    it("bad cells are reported with file, line, field and what is allowed, all at once", () => {
        const out = registryProblems({}, withCells({
            cells: { "Main": {}, b: { instanceClass: "db.r6g.large", maxCapacity: 8 }, c: { minCapacity: 1.25 }, d: { minCapacity: 8 } },
            defaultCell: "x",
        }, { "tenancy:layout": "galaxy" }));
        expect(out).toEqual(expect.arrayContaining([
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:layout: .*galaxy.* \(allowed: single, fleet\)$/),
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.cells\.Main: .*must be a cell name/),
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.cells\.b\.instanceClass: set either instanceClass or minCapacity\/maxCapacity, not both$/),
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.cells\.c\.minCapacity: must be a multiple of 0\.5 ACU$/),
        ]));
        expect(out.length).toBeGreaterThanOrEqual(4);
        // The cross-field checks run once the fields are valid: an undeclared default cell, a range inverted by a cell.
        const later = registryProblems({}, withCells({ cells: { a: {}, d: { minCapacity: 8 } }, defaultCell: "x" }));
        expect(later).toEqual([
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.cells\.d\.minCapacity: must not exceed maxCapacity \(4\) \(cell d, with shared\.database's values\)$/),
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.defaultCell: 'x' is not a cell of this stack \(allowed: a, d\)$/),
        ]);
    });
});

describe("a tenant's cell", () => {
    const config = withCells({ cells: { a: {}, b: {} } });

    it("a shared tenant names a declared cell; others are refused with what is allowed", () => {
        const out = registryProblems({
            "acme.yaml": sharedTenant("acme", "cell: b\n"),
            "beta.yaml": sharedTenant("beta", "cell: z\n"),
            "gamma.yaml": sharedTenant("gamma", "tier: hybrid\ncell: a\n"),
            "delta.yaml": sharedTenant("delta", "cell: Nope\n"),
        }, config);
        expect(out).toEqual([
            "tenants/test/beta.yaml:3:7 cell: 'z' is not a cell of stack test (allowed: a, b)",
            expect.stringMatching(/^tenants\/test\/delta\.yaml:3:7 cell: must be a cell name such as main/),
            "tenants/test/gamma.yaml:4:7 cell: only shared tenants live on a cell; a hybrid tenant has its own database",
        ]);
        const { tenants } = load({ "acme.yaml": sharedTenant("acme", "cell: b\n"), "beta.yaml": sharedTenant("beta") }, config);
        expect(tenants.map((t) => [t.slug, t.cell])).toEqual([["acme", "b"], ["beta", "a"]]);
    });

    it("a slug may not start with cell-: that names a cell's stack", () => {
        expect(registryProblems({ "cell-a.yaml": sharedTenant("cell-a") })).toEqual([
            "tenants/test/cell-a.yaml:1:7 slug: must not start with 'cell-' (reserved for the stacks of shared database cells)",
        ]);
    });
});

describe("capacity per cell", () => {
    // 0.5-4 ACU: max_connections 823, 773 available after the reserve of 50; a tenant at 100 holds 105.
    const heavy = (slug: string, cell: string) => sharedTenant(slug, `cell: ${cell}\ndatabase: {connectionLimit: 100}\n`);

    it("each cell's guard counts only its own tenants: 8 tenants overflow one cell, not two", () => {
        const config = withCells({ cells: { a: {}, b: {} } });
        const split = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`t${i}x.yaml`, heavy(`t${i}x`, i % 2 ? "a" : "b")]));
        expect(registryProblems(split, config)).toEqual([]);
        const crowded = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`t${i}x.yaml`, heavy(`t${i}x`, "a")]));
        expect(registryProblems(crowded, config)).toEqual([
            "tenants/test database.connectionLimit: shared tenants on cell a may open 840 connections (runtime limits plus 5 per owner role) but its cluster accepts 773 " +
                "(max_connections 823 for Serverless v2 at 0.5-4 ACU, minus 50 reserved for the platform); lower connection limits, raise the cell's capacity, " +
                "put new tenants on another cell (cell: b), or move tenants to hybrid. Largest: t0x 100, t1x 100, t2x 100, t3x 100, t4x 100, t5x 100, t6x 100, t7x 100",
        ]);
    });

    it("usage counts served tenants' runtime and owner connections per cell, and the suggestion is the cell with most headroom", () => {
        const cells = { a: { minCapacity: 0.5, maxCapacity: 4, reservedConnections: 50 }, b: { minCapacity: 0.5, maxCapacity: 8, reservedConnections: 100 }, c: { instanceClass: "db.r6g.large", reservedConnections: 0 } };
        const t = (slug: string, cell: string, limit: number, status = "active") => ({ slug, tier: "shared", status, cell, database: { connectionLimit: limit } });
        const uses = cellUsage(cells, [t("x1", "a", 20), t("x2", "a", 40), t("x3", "b", 1000, "offboarded"), t("x4", "c", 1700), { ...t("h", "a", 99), tier: "hybrid" }]);
        expect(uses.map((u) => [u.cell, u.tenants, u.used, u.capacity.available, u.headroom])).toEqual([
            ["a", 2, 70, 773, 703],
            ["b", 1, 0, 1568, 1568],
            ["c", 1, 1705, 1622, -83],
        ]);
        expect(uses[0]!.consumers).toEqual([{ slug: "x2", connections: 45 }, { slug: "x1", connections: 25 }]);
        expect(suggestCell(uses, 25)).toBe("b");
        expect(suggestCell(uses, 2000)).toBeUndefined();
        expect(suggestCell([{ ...uses[0]!, cell: "z" }, { ...uses[0]!, cell: "y" }], 25)).toBe("y");
    });
});
