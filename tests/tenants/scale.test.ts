import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { cellUsage } from "../../model/cells";
import { fleetStacks, scheduleSteps } from "../../model/fleet";
import { loadRegistry } from "../../tenants/registry";
import { baseStackConfig, makeRepo, sharedTenant } from "./fixtures";

/** 1000 shared tenants over 10 cells of 16 ACU (3360 connections, 3310 after the reserve): 100 tenants × 25 each. */
const CELLS = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`c${i}`, {}]));
const config = baseStackConfig({
    "tenancy:layout": "fleet",
    "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 2, maxCapacity: 16 }, cells: CELLS, defaultCell: "c0" },
});

describe("an environment of 1000 tenants in 10 cells", () => {
    it("validates, fits each cell, and schedules as 1 platform, 10 cell and 1000 tenant stacks", () => {
        const files = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => {
            const slug = `t${String(i).padStart(4, "0")}`;
            return [`${slug}.yaml`, sharedTenant(slug, i % 10 ? `cell: c${i % 10}\n` : "")];
        }));
        const root = makeRepo(files, config);
        let registry;
        try {
            registry = loadRegistry({ root, stack: "test" });
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
        const { config: c, tenants } = registry;
        expect(tenants).toHaveLength(1000);
        const uses = cellUsage(c.cells, tenants);
        expect(uses.map((u) => [u.tenants, u.used])).toEqual(Array.from({ length: 10 }, () => [100, 2500]));
        expect(uses.every((u) => u.headroom === 3360 - 50 - 2500)).toBe(true);
        const steps = scheduleSteps(fleetStacks({ env: c.stack, layout: c.layout, cells: Object.keys(c.cells), tenants }));
        expect(steps.map((s) => [s.name, s.stacks.length])).toEqual([["platform", 1], ["cells", 10], ["tenants", 1000]]);
        const t7 = steps[2]!.stacks.find((s) => s.name === "test.t0007")!;
        expect(t7).toEqual({ name: "test.t0007", role: "tenant", tenants: ["t0007"], cell: "c7", dependsOn: ["test", "test.cell-c7"] });
    });
});
