/**
 * Declaring a move in a tenant file (`move: { from: … }`) and reading move receipts (`.moves/<slug>.json`): every bad
 * block reported at once at its field, the resolved placements and labels, both placements counted on their cells.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { formatProblem, RegistryError } from "../../tenants/problems";
import { loadRegistry } from "../../tenants/registry";
import { placementLabels, type MoveReceipt } from "../../tenants/moves";
import { baseStackConfig, makeRepo, sharedTenant } from "./fixtures";

const CELLS = { "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { main: {}, b: {} } } };

/** Loads a repo of tenant files plus receipts (`.moves/<name>` → content): tenants, or problems and notices, formatted. */
function load(files: Record<string, string>, receipts: Record<string, string> = {}, config = baseStackConfig(CELLS)) {
    const root = makeRepo(files, config);
    try {
        if (Object.keys(receipts).length) fs.mkdirSync(path.join(root, "tenants/test/.moves"));
        for (const [name, text] of Object.entries(receipts)) fs.writeFileSync(path.join(root, "tenants/test/.moves", name), text);
        try {
            const r = loadRegistry({ root, stack: "test" });
            return { tenants: r.tenants, problems: [] as string[], notices: r.notices.map(formatProblem) };
        } catch (e) {
            if (!(e instanceof RegistryError)) throw e;
            return { tenants: [], problems: e.problems.map(formatProblem), notices: e.notices.map(formatProblem) };
        }
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

export function receipt(over: Partial<MoveReceipt> = {}): MoveReceipt {
    return {
        tenant: "acme",
        schema: "t_acme",
        from: { server: "a:5432/tenancy", tier: "shared", cell: "main", label: "" },
        to: { server: "b:5432/app", tier: "hybrid", label: "hybrid" },
        startedAt: "2026-11-23T10:00:00.000Z",
        finishedAt: "2026-11-23T10:05:00.000Z",
        writePauseMs: 812,
        tables: [{ name: "t_acme.orders", sourceRows: 3, targetRows: 3, sourceHash: "aa", targetHash: "aa" }],
        sequences: [{ name: "t_acme.orders_id_seq", source: 3, target: 3 }],
        verified: true,
        ...over,
    };
}

describe("move: validation", () => {
    it("every problem of a bad move block is reported at once, each at its field with what is allowed", () => {
        const out = load({
            // An unknown cell, a region and a size for a shared source.
            "acme.yaml": sharedTenant("acme", "tier: hybrid\nmove:\n  from:\n    tier: shared\n    cell: nosuch\n    region: eu-west-1\n    size: large\n"),
            // Dedicated source without its network.
            "bravo.yaml": sharedTenant("bravo", "move:\n  from:\n    tier: dedicated\n"),
            // A move to where the file already is.
            "charlie.yaml": sharedTenant("charlie", "tier: hybrid\nmove:\n  from: { tier: hybrid }\n"),
            // Not a supported direction.
            "delta.yaml": sharedTenant("delta", "tier: dedicated\nnetwork: {cidr: 10.60.0.0/16}\nmove:\n  from: { tier: dedicated, region: eu-west-1, network: {cidr: 10.61.0.0/16} }\n"),
            // An offboarded tenant, an unknown key.
            "echo.yaml": sharedTenant("echo", "status: offboarded\nmove:\n  from: { tier: hybrid, sise: small }\n"),
        });
        expect(out.problems).toEqual([
            "tenants/test/acme.yaml:7:11 move.from.cell: 'nosuch' is not a cell of stack test (allowed: b, main)",
            "tenants/test/acme.yaml:8:13 move.from.region: only a dedicated source has a region of its own; a shared source runs in us-east-1",
            "tenants/test/acme.yaml:9:11 move.from.size: a shared source has no size (sizes are for hybrid and dedicated)",
            "tenants/test/bravo.yaml:5:11 move.from.tier: a dedicated source needs move.from.network.cidr: the block of its VPC, as its file had it",
            "tenants/test/charlie.yaml:5:17 move.from.tier: is the placement this file states (hybrid); move.from is where the data is now, which must differ",
            "tenants/test/delta.yaml:6:17 move.from.tier: a move dedicated → dedicated is not supported (allowed: shared → shared on another cell, shared → hybrid, shared → dedicated, hybrid → shared, hybrid → dedicated, dedicated → shared, dedicated → hybrid)",
            "tenants/test/echo.yaml:5:3 move: an offboarded tenant is not served and cannot move; set status active or suspended for the move, or remove move",
            "tenants/test/echo.yaml:5:25 move.from.sise: unknown field (did you mean 'size'?) (allowed: tier, cell, region, size, network)",
        ]);
    });

    it("an offboarded tenant cannot move", () => {
        const out = load({ "echo.yaml": sharedTenant("echo", "status: offboarded\nmove:\n  from: { tier: hybrid }\n") });
        expect(out.problems).toEqual([
            "tenants/test/echo.yaml:5:3 move: an offboarded tenant is not served and cannot move; set status active or suspended for the move, or remove move",
        ]);
    });

    it("a cell to the same cell (explicit or by default) is no move; a dedicated source's network is checked and counted in overlaps", () => {
        const out = load({
            "acme.yaml": sharedTenant("acme", "move:\n  from: { tier: shared, cell: main }\n"),
            "bravo.yaml": sharedTenant("bravo", "move:\n  from: { tier: dedicated, network: {cidr: 10.0.4.0/24} }\n"),
            "charlie.yaml": sharedTenant("charlie", "tier: dedicated\nnetwork: {cidr: 10.70.0.0/16}\n"),
            "delta.yaml": sharedTenant("delta", "tier: hybrid\nmove:\n  from: { tier: dedicated, network: {cidr: 10.70.1.0/24} }\n"),
        });
        expect(out.problems).toEqual([
            "tenants/test/acme.yaml:4:17 move.from.tier: is the placement this file states (shared-main); move.from is where the data is now, which must differ",
            "tenants/test/bravo.yaml:4:44 move.from.network.cidr: 10.0.4.0/24 overlaps the shared VPC 10.0.0.0/16",
            "tenants/test/delta.yaml:5:44 move.from.network.cidr: 10.70.1.0/24 overlaps 10.70.0.0/16 of tenants/test/charlie.yaml",
        ]);
    });

    it("every allowed direction validates and resolves both placements with their defaults", () => {
        const out = load({
            "aa1.yaml": sharedTenant("aa1", "cell: b\nmove:\n  from: { tier: shared }\n"),
            "aa2.yaml": sharedTenant("aa2", "tier: hybrid\nsize: medium\nmove:\n  from: { tier: shared, cell: b }\n"),
            "aa3.yaml": sharedTenant("aa3", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nmove:\n  from: { tier: shared }\n"),
            "aa4.yaml": sharedTenant("aa4", "tier: dedicated\nnetwork: {cidr: 10.61.0.0/16}\nmove:\n  from: { tier: hybrid, size: large }\n"),
            "aa5.yaml": sharedTenant("aa5", "move:\n  from: { tier: hybrid }\n"),
            "aa6.yaml": sharedTenant("aa6", "move:\n  from: { tier: dedicated, region: eu-west-1, network: {cidr: 10.62.0.0/16} }\n"),
            "aa7.yaml": sharedTenant("aa7", "tier: hybrid\nmove:\n  from: { tier: dedicated, network: {cidr: 10.63.0.0/16} }\n"),
        });
        expect(out.problems).toEqual([]);
        const bySlug = Object.fromEntries(out.tenants.map((t) => [t.slug, t]));
        expect(bySlug["aa1"]!.move).toEqual({ from: { tier: "shared", cell: "main", region: "us-east-1", label: "" }, cutover: false });
        expect(bySlug["aa1"]!.label).toBe("shared-b");
        expect(bySlug["aa2"]!.move!.from).toEqual({ tier: "shared", cell: "b", region: "us-east-1", label: "" });
        expect(bySlug["aa2"]!.label).toBe("hybrid");
        expect(bySlug["aa3"]!.label).toBe("dedicated");
        expect(bySlug["aa4"]!.move!.from).toEqual({ tier: "hybrid", region: "us-east-1", size: "large", label: "" });
        expect(bySlug["aa6"]!.move!.from).toEqual({ tier: "dedicated", region: "eu-west-1", size: "small", network: { cidr: "10.62.0.0/16" }, label: "" });
        expect(bySlug["aa6"]!.label).toBe("shared-main");
        expect(bySlug["aa7"]!.move!.from.region).toBe("us-east-1");
        for (const t of out.tenants) expect(t.receipt).toBeUndefined();
    });

    it("a moving shared tenant counts on both cells: a move that would overfill the source's cell is refused", () => {
        // 4 ACU: 823 connections, 50 reserved by default → 773 for tenants; each tenant here holds 400 + 5.
        const limit = "database: { connectionLimit: 400 }\n";
        const files = {
            "acme.yaml": sharedTenant("acme", `cell: b\n${limit}move:\n  from: { tier: shared, cell: main }\n`),
            "bravo.yaml": sharedTenant("bravo", limit),
        };
        const out = load(files);
        expect(out.problems).toHaveLength(1);
        expect(out.problems[0]).toMatch(/^tenants\/test database\.connectionLimit: shared tenants on cell main may open 810 connections/);
        expect(out.problems[0]).toContain("acme 400, bravo 400");
        // Without the move the same files fit.
        expect(load({ ...files, "acme.yaml": sharedTenant("acme", `cell: b\n${limit}`) }).problems).toEqual([]);
    });
});

describe("move receipts (.moves/<slug>.json)", () => {
    const moving = { "acme.yaml": sharedTenant("acme", "tier: hybrid\nmove:\n  from: { tier: shared }\n") };

    it("this move's verified receipt marks the move cut over and keeps the source's label", () => {
        const out = load(moving, { "acme.json": JSON.stringify(receipt(), null, 2) });
        expect(out.problems).toEqual([]);
        expect(out.notices).toEqual([]);
        const acme = out.tenants[0]!;
        expect(acme.receipt).toEqual(receipt());
        expect(acme.move).toEqual({ from: { tier: "shared", cell: "main", region: "us-east-1", label: "" }, cutover: true });
        expect(acme.label).toBe("hybrid");
    });

    it("an unverified receipt, or one of another move, does not cut over", () => {
        expect(load(moving, { "acme.json": JSON.stringify(receipt({ verified: false })) }).tenants[0]!.move!.cutover).toBe(false);
        const other = receipt({ from: { server: "x", tier: "shared", cell: "b" } });
        expect(load(moving, { "acme.json": JSON.stringify(other) }).tenants[0]!.move!.cutover).toBe(false);
    });

    it("after retirement (move removed, receipt kept) the tenant keeps the label it had as the move's target", () => {
        const out = load({ "acme.yaml": sharedTenant("acme", "tier: hybrid\n") }, { "acme.json": JSON.stringify(receipt()) });
        expect(out.tenants[0]!.label).toBe("hybrid");
        expect(out.tenants[0]!.move).toBeUndefined();
    });

    it("a tenant moving again: the source keeps the label it got from the last move", () => {
        const out = load(
            { "acme.yaml": sharedTenant("acme", "tier: dedicated\nnetwork: {cidr: 10.60.0.0/16}\nmove:\n  from: { tier: hybrid }\n") },
            { "acme.json": JSON.stringify(receipt()) },
        );
        expect(out.tenants[0]!.move!.from.label).toBe("hybrid");
        expect(out.tenants[0]!.move!.cutover).toBe(false);
        expect(out.tenants[0]!.label).toBe("dedicated");
    });

    it("invalid JSON and a receipt of the wrong shape are problems at their line; the .moves directory is no stray entry", () => {
        const out = load(
            { ...moving, "bravo.yaml": sharedTenant("bravo") },
            {
                "acme.json": '{\n  "tenant": "acme",\n  "verified": true,\n}\n',
                "bravo.json": JSON.stringify({ ...receipt({ tenant: "bravo" }), writePauseMs: "fast" }, null, 2),
            },
        );
        expect(out.problems).toHaveLength(2);
        expect(out.problems[0]).toBe("tenants/test/.moves/acme.json:4:1: invalid JSON: Expected double-quoted property name");
        expect(out.problems[1]).toBe('tenants/test/.moves/bravo.json:17:19 writePauseMs: must be a number (got "fast") (a move receipt as npm run move writes it)');
        expect(out.notices).toEqual([]);
    });

    it("a receipt naming another tenant is a problem; one without a tenant file and other entries are notices", () => {
        const out = load(moving, {
            "acme.json": JSON.stringify(receipt({ tenant: "bravo" }), null, 2),
            "gone.json": JSON.stringify(receipt({ tenant: "gone" })),
            "notes.txt": "x",
        });
        expect(out.problems).toEqual(["tenants/test/.moves/acme.json:2:13 tenant: 'bravo' must equal the file name 'acme'"]);
        expect(out.notices).toEqual([
            "tenants/test/.moves: receipts of tenants without a file, kept but unused: gone.json",
            "tenants/test/.moves: ignored an entry that is not a receipt (<slug>.json): notes.txt",
        ]);
    });
});

describe("placement labels (tenants/moves.ts)", () => {
    const shared = { tier: "shared" as const, cell: "main", region: "us-east-1" };
    const hybrid = { tier: "hybrid" as const, region: "us-east-1" };
    it("a tenant that never moved has no label; a move's target has its placement key", () => {
        expect(placementLabels(shared, undefined, undefined)).toEqual({ current: "" });
        expect(placementLabels(hybrid, shared, undefined)).toEqual({ current: "hybrid", from: "" });
        expect(placementLabels(shared, hybrid, undefined)).toEqual({ current: "shared-main", from: "" });
    });
    it("a receipt without labels (explicit-URL mode) still gives the target its key", () => {
        const r = receipt({ to: { server: "b", tier: "hybrid" } });
        expect(placementLabels(hybrid, undefined, r)).toEqual({ current: "hybrid" });
    });
});
