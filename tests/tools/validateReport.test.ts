import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { loadRegistry } from "../../tenants/registry";
import { validationReport } from "../../tools/validate/report";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";

function report(files: Record<string, string>, overrides: Record<string, unknown>, receipts: Record<string, unknown> = {}): string {
    const root = makeRepo(files, baseStackConfig(overrides));
    try {
        if (Object.keys(receipts).length) fs.mkdirSync(`${root}/tenants/test/.moves`);
        for (const [slug, r] of Object.entries(receipts)) fs.writeFileSync(`${root}/tenants/test/.moves/${slug}.json`, JSON.stringify(r));
        return validationReport(loadRegistry({ root, stack: "test" }), "tenants/test");
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

describe("npm run validate's report", () => {
    const shared = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { a: {}, b: { maxCapacity: 8 } }, defaultCell: "a" };

    it("reports each cell's tenants and connections, and suggests the cell with the most headroom for a new tenant", () => {
        const out = report({
            "acme.yaml": sharedTenant("acme", "cell: b\ndatabase: {connectionLimit: 300}\n"),
            "beta.yaml": sharedTenant("beta"),
            "gone.yaml": sharedTenant("gone", "cell: b\nstatus: offboarded\n"),
        }, { "tenancy:shared": shared, "tenancy:layout": "fleet" });
        expect(out).toContain("3 tenants valid in stack test (tenants/test).");
        // a: 773 available, beta holds 20 + 5; b: 1618 available, acme holds 305 (gone is offboarded and holds none).
        expect(out).toMatch(/^a \(default\) +1 +25 +773 +748 +Serverless v2 at 0\.5-4 ACU: max_connections 823, 50 reserved$/m);
        expect(out).toMatch(/^b +2 +305 +1618 +1313 +Serverless v2 at 0\.5-8 ACU: max_connections 1668, 50 reserved$/m);
        expect(out).toContain("A new shared tenant (25 connections at the default limit) fits best on cell b: the most headroom. Add 'cell: b' to its file.");
        expect(out).toContain("Layout fleet: 6 stacks: test (platform), 2 cell stacks, 3 tenant stacks (npm run fleet -- schedule --env test).");
    });

    it("says when no cell has room for another shared tenant", () => {
        const full = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`t${i}x.yaml`, sharedTenant(`t${i}x`, "database: {connectionLimit: 103}\n")]));
        const out = report(full, { "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 } } });
        expect(out).toMatch(/^main \(default\) +7 +756 +773 +17 /m);
        expect(out).toContain("No cell has room for a new shared tenant (25 connections at the default limit): declare another cell under tenancy:shared.cells");
        expect(out).toContain("Layout single: one stack, test, holds the platform, 1 cell and every tenant.");
    });

    it("shows a moving tenant's both placements, both counted on their cells, and what the move waits for", () => {
        const receipt = {
            tenant: "done", schema: "t_done", from: { server: "a", tier: "shared", cell: "a", label: "" }, to: { server: "b", tier: "hybrid", label: "hybrid" },
            startedAt: "2026-11-23T10:00:00.000Z", finishedAt: "2026-11-23T10:01:00.000Z", writePauseMs: 900, tables: [], sequences: [], verified: true,
        };
        const out = report({
            "acme.yaml": sharedTenant("acme", "cell: b\nmove:\n  from: { tier: shared, cell: a }\n"),
            "done.yaml": sharedTenant("done", "tier: hybrid\nmove:\n  from: { tier: shared, cell: a }\n"),
            "wide.yaml": sharedTenant("wide", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nmove:\n  from: { tier: hybrid, size: large }\n"),
        }, { "tenancy:shared": shared }, { done: receipt });
        expect(out).toContain("Moves (both placements are live until the move is retired):");
        expect(out).toMatch(/^acme +shared, cell a +shared, cell b \(label shared-b\) +declared: copy with npm run move -- --tenant acme --env test --phase all$/m);
        expect(out).toMatch(/^done +shared, cell a +hybrid, us-east-1, small \(label hybrid\) +cut over \(tenants\/test\/\.moves\/done\.json verified\): remove move: to retire the source$/m);
        expect(out).toMatch(/^wide +hybrid, us-east-1, large +dedicated, eu-west-1, small \(label dedicated\) +declared: /m);
        // acme counts on a and b, done on a: a holds acme's and done's 25 each, b acme's.
        expect(out).toMatch(/^a \(default\) +2 +50 +/m);
        expect(out).toMatch(/^b +1 +25 +/m);
    });
});
