/** model/fleet.ts: stack names, the partition of an environment into stacks, and the steps they run in. */
import { describe, expect, it } from "vitest";
import { cellStackName, fleetStacks, parseStackName, scheduleSteps, tenantStackName, type PartitionTenant } from "../../model/fleet";

const TENANTS: PartitionTenant[] = [
    { slug: "umbrella", tier: "shared", cell: "main" },
    { slug: "acme", tier: "shared", cell: "b" },
    { slug: "tyrell", tier: "dedicated" },
    { slug: "globex", tier: "hybrid" },
];

describe("stack names", () => {
    it("reads the environment, the role and the cell or tenant from a stack name", () => {
        expect(parseStackName("prod", "fleet")).toEqual({ name: "prod", env: "prod", role: "platform" });
        expect(parseStackName("prod", "single")).toEqual({ name: "prod", env: "prod", role: "single" });
        expect(parseStackName("prod.cell-b", "fleet")).toEqual({ name: "prod.cell-b", env: "prod", role: "cell", cell: "b" });
        expect(parseStackName("prod.tyrell", "fleet")).toEqual({ name: "prod.tyrell", env: "prod", role: "tenant", tenant: "tyrell" });
        expect(cellStackName("prod", "main")).toBe("prod.cell-main");
        expect(tenantStackName("prod", "acme")).toBe("prod.acme");
    });
});

describe("fleetStacks", () => {
    it("a moving tenant's stack reads its source's cell stack too (shared → shared, shared → hybrid), deduplicated", () => {
        const stacks = fleetStacks({
            env: "prod", layout: "fleet", cells: ["main", "b"], tenants: [
                { slug: "acme", tier: "shared", cell: "b", move: { from: { tier: "shared", cell: "main" } } },
                { slug: "globex", tier: "hybrid", move: { from: { tier: "shared", cell: "b" } } },
                { slug: "tyrell", tier: "shared", cell: "main", move: { from: { tier: "dedicated" } } },
            ],
        }).filter((s) => s.role === "tenant");
        expect(stacks.map((s) => [s.name, s.dependsOn])).toEqual([
            ["prod.acme", ["prod", "prod.cell-b", "prod.cell-main"]],
            ["prod.globex", ["prod", "prod.cell-b"]],
            ["prod.tyrell", ["prod", "prod.cell-main"]],
        ]);
    });

    it("single: one stack holding every tenant, sorted", () => {
        expect(fleetStacks({ env: "dev", layout: "single", cells: ["main", "b"], tenants: TENANTS })).toEqual([
            { name: "dev", role: "platform", tenants: ["acme", "globex", "tyrell", "umbrella"], dependsOn: [] },
        ]);
    });

    it("fleet: platform, cells sorted, tenants sorted; a shared tenant depends on the platform and its cell, others on the platform", () => {
        const stacks = fleetStacks({ env: "prod", layout: "fleet", cells: ["main", "b"], tenants: TENANTS });
        expect(stacks.map((s) => [s.name, s.role, s.dependsOn])).toEqual([
            ["prod", "platform", []],
            ["prod.cell-b", "cell", ["prod"]],
            ["prod.cell-main", "cell", ["prod"]],
            ["prod.acme", "tenant", ["prod", "prod.cell-b"]],
            ["prod.globex", "tenant", ["prod"]],
            ["prod.tyrell", "tenant", ["prod"]],
            ["prod.umbrella", "tenant", ["prod", "prod.cell-main"]],
        ]);
        expect(stacks.find((s) => s.name === "prod.acme")).toMatchObject({ tenants: ["acme"], cell: "b" });
        expect(stacks.find((s) => s.name === "prod.tyrell")!.cell).toBeUndefined();
    });

    it("every dependency of a stack is a stack of an earlier step", () => {
        const steps = scheduleSteps(fleetStacks({ env: "prod", layout: "fleet", cells: ["main", "b"], tenants: TENANTS }));
        const seen = new Set<string>();
        expect(steps.length).toBe(3);
        for (const step of steps) {
            for (const s of step.stacks) for (const d of s.dependsOn) expect(seen.has(d), `${s.name} after ${d}`).toBe(true);
            for (const s of step.stacks) seen.add(s.name);
        }
    });
});

describe("scheduleSteps", () => {
    it("groups platform, cells, tenants in that order and leaves empty steps out", () => {
        const fleet = scheduleSteps(fleetStacks({ env: "prod", layout: "fleet", cells: ["main"], tenants: TENANTS }));
        expect(fleet.map((s) => [s.name, s.stacks.length])).toEqual([["platform", 1], ["cells", 1], ["tenants", 4]]);
        const single = scheduleSteps(fleetStacks({ env: "dev", layout: "single", cells: ["main"], tenants: TENANTS }));
        expect(single.map((s) => s.name)).toEqual(["platform"]);
        const noTenants = scheduleSteps(fleetStacks({ env: "prod", layout: "fleet", cells: ["main"], tenants: [] }));
        expect(noTenants.map((s) => s.name)).toEqual(["platform", "cells"]);
    });
});
