/**
 * plan:diff and a declared move (issue 10): the PR comment explains it, and the data-loss guard lets the source
 * placement go only with this move's verified receipt. Plans are built here, resource by resource (the diff is pure).
 */
import { describe, expect, it } from "vitest";
import { diffPlans, type PlanDiff } from "../../tools/plan/diff";
import { buildPlan, type Plan, type PlanMove, type PlanReceipt, type PlanResource, type PlanTenant } from "../../tools/plan/model";
import { renderDiffMarkdown, renderDiffText } from "../../tools/plan/renderDiff";
import { renderMarkdown } from "../../tools/plan/renderMarkdown";
import { renderText } from "../../tools/plan/renderText";
import type { StackConfig } from "../../stacks/config";
import type { MoveReceipt } from "../../tenants/moves";
import type { Registry, Tenant } from "../../tenants/registry";

const STACK = "urn:pulumi:prod::tenancy";
const TENANT = "tenancy:tenant:Tenant";

function resource(type: string, name: string, parent: PlanResource | null, inputs: Record<string, unknown> = {}, protect = false): PlanResource {
    return {
        urn: `${STACK}::${type}::${name}`, stack: "prod", type, name, parent: parent?.urn ?? `${STACK}::pulumi:pulumi:Stack::tenancy-prod`,
        custom: !type.startsWith("tenancy:"), provider: null, tenant: "acme", inputs,
        options: { protect, retainOnDelete: false, dependsOn: [], deleteBeforeReplace: false, replaceOnChanges: [], ignoreChanges: [], deletedWith: null },
    };
}

const tenantComponent = resource(TENANT, "acme", null);
const registry = resource("aws:ssm/parameter:Parameter", "acme-registry", tenantComponent, { name: "/tenancy/prod/tenants/acme" });

/** A shared placement on `cell`: TenantDatabase `<name>` with its schema, roles and secret (protected). */
function sharedPlacement(name: string): PlanResource[] {
    const c = resource("tenancy:tenant:TenantDatabase", name, tenantComponent);
    return [
        c,
        resource("postgresql:index/schema:Schema", `${name}-schema`, c, { name: "t_acme" }, true),
        resource("postgresql:index/role:Role", `${name}-owner`, c, { name: "t_acme_owner" }, true),
        resource("postgresql:index/role:Role", `${name}-runtime`, c, { name: "t_acme_app" }, true),
        resource("aws:secretsmanager/secret:Secret", `${name}-db-runtime`, c, { recoveryWindowInDays: 30 }, true),
    ];
}

/** A dedicated placement: DedicatedInstance with its key and RDS instance (protected) and a VPC. */
function dedicatedPlacement(name = "acme-dedicated"): PlanResource[] {
    const c = resource("tenancy:tenant:DedicatedInstance", name, tenantComponent);
    const db = resource("tenancy:database:DatabaseInstance", `${name}-db`, c);
    return [
        c,
        db,
        resource("aws:kms/key:Key", `${name}-kms-key`, c, { deletionWindowInDays: 30 }, true),
        resource("aws:rds/instance:Instance", `${name}-db-instance`, db, { identifier: "tenancy-prod-dedicated-acme", deletionProtection: false, skipFinalSnapshot: false }, true),
        resource("aws:ec2/vpc:Vpc", `${name}-net-vpc`, c, { cidrBlock: "10.40.0.0/16" }),
    ];
}

/** The deploy runner's access while the move is declared (components/moveAccess.ts). */
function moveAccess(): PlanResource[] {
    const c = resource("tenancy:network:MoveAccess", "acme-move-access", tenantComponent);
    return [c, resource("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "acme-move-access-peering", c, { peerRegion: "us-east-1" })];
}

function tenant(fields: Partial<PlanTenant>): PlanTenant {
    return {
        slug: "acme", displayName: "Acme", tier: "shared", region: "eu-west-1", status: "active", size: null, network: null, cell: "main",
        hostnames: ["acme.example.com"], releaseChannel: "stable", releaseVersion: "1.0.0", features: [], branding: {},
        resourceCount: 0, protectedCount: 0, file: "tenants/prod/acme.yaml", ...fields,
    };
}

const DEDICATED: Partial<PlanTenant> = { tier: "dedicated", region: "us-east-1", size: "small", network: "10.40.0.0/16", cell: null };
const FROM_SHARED_MAIN = { from: { tier: "shared", cell: "main", region: "eu-west-1", label: "" }, cutover: false };

function receipt(fields: Partial<PlanReceipt> = {}): PlanReceipt {
    return {
        from: { server: "tenancy-prod-shared.cluster-x.eu-west-1.rds.amazonaws.com:5432/tenancy", tier: "shared", cell: "main", region: "eu-west-1", label: "" },
        to: { server: "tenancy-prod-dedicated-acme.x.us-east-1.rds.amazonaws.com:5432/app", tier: "dedicated", region: "us-east-1", label: "dedicated" },
        verified: true, startedAt: "2026-11-23T10:00:00.000Z", finishedAt: "2026-11-23T10:20:00.000Z", writePauseMs: 812, tables: 12, rows: 212200,
        ...fields,
    };
}

function plan(t: PlanTenant, resources: PlanResource[]): Plan {
    return { planVersion: 1, project: "tenancy", stack: "prod", region: "eu-west-1", tenants: [t], resources, stacks: [{ name: "prod", role: "platform", tenants: ["acme"], resourceCount: resources.length }] };
}

// The life of a move shared (cell main) → dedicated (us-east-1), one plan per pull request.
const before = plan(tenant({}), [tenantComponent, registry, ...sharedPlacement("acme-db")]);
const declared = plan(tenant({ ...DEDICATED, move: FROM_SHARED_MAIN }), [tenantComponent, registry, ...sharedPlacement("acme-db"), ...dedicatedPlacement(), ...moveAccess()]);
const cutOver = plan(tenant({ ...DEDICATED, move: { ...FROM_SHARED_MAIN, cutover: true }, receipt: receipt() }), declared.resources);
/** The receipt's deploy lowers the source's protection (Pulumi refuses to delete protected resources); retiring comes after. */
const lowered = (p: Plan, source = (r: PlanResource) => r.name.startsWith("acme-db-") || r.name === "acme-db"): Plan => ({
    ...p, resources: p.resources.map((r) => (source(r) ? { ...r, options: { ...r.options, protect: false } } : r)),
});
const cutOverLowered = lowered(cutOver);
/** move: removed: the source and the runner's access go; `r` is the receipt committed with it (or none). */
const retired = (r?: PlanReceipt) => plan(tenant({ ...DEDICATED, ...(r ? { receipt: r } : {}) }), [tenantComponent, registry, ...dedicatedPlacement()]);

const firing = (d: PlanDiff) => d.risks.filter((r) => !r.exempt);

describe("plan:diff explains a declared move", () => {
    it("declaring it builds the target and keeps the source: nothing removed, no guard, and the comment says what is built, what stays and how it is retired", () => {
        const d = diffPlans(before, declared);
        expect(d.risks).toEqual([]);
        expect(d.guardFires).toBe(false);
        expect(d.moves).toEqual([expect.objectContaining({ tenant: "acme", phase: "declared", from: { tier: "shared", cell: "main", region: "eu-west-1" }, to: { tier: "dedicated", region: "us-east-1" }, receipt: "none", removed: 0, added: 7, sourceKept: 4 })]);
        const text = renderDiffText(d);
        expect(text).toContain("tenant acme: moves shared (cell main) → dedicated (us-east-1) (declared in this change).");
        expect(text).toContain("Built: the dedicated (us-east-1) placement (7 resources added)");
        expect(text).toContain("Stays: the shared (cell main) placement, its data kept (4 protected resources) and still served");
        expect(text).toContain("npm run move -- --tenant acme --env prod --phase all");
        expect(text).toContain("Retire by removing move: together with the committed receipt (tenants/prod/.moves/acme.json)");
        const md = renderDiffMarkdown(d);
        expect(md).toContain("#### Moves");
        expect(md).toContain("- tenant acme: moves shared (cell main) → dedicated (us-east-1) (declared in this change).");
        expect(md).toContain("  - Retire by removing move: together with the committed receipt");
    });

    it("committing the verified receipt is the cutover: the comment names its figures and what retires next", () => {
        const d = diffPlans(declared, cutOver);
        expect(d.guardFires).toBe(false);
        expect(d.moves.map((m) => [m.phase, m.receipt])).toEqual([["cutover", "verified"]]);
        expect(renderDiffText(d)).toContain("this move's verified receipt is committed (write pause 812 ms, 12 tables, 212200 rows, finished 2026-11-23T10:20:00.000Z)");
    });

    it("an undeclared cell change still fires as a data move; the same change declared as a move does not", () => {
        const target = sharedPlacement("acme-db-shared-b");
        const undeclared = diffPlans(before, plan(tenant({ cell: "b" }), [tenantComponent, registry, ...sharedPlacement("acme-db"), ...target]));
        expect(firing(undeclared).map((r) => [r.action, r.paths])).toEqual([["move", ["cell"]]]);
        expect(firing(undeclared)[0]!.reason).toContain("moves from cell main to cell b without a declared move");
        const d = diffPlans(before, plan(tenant({ cell: "b", move: FROM_SHARED_MAIN }), [tenantComponent, registry, ...sharedPlacement("acme-db"), ...target]));
        expect(d.risks).toEqual([]);
        expect(d.moves.map((m) => [m.phase, m.to])).toEqual([["declared", { tier: "shared", cell: "b", region: "eu-west-1" }]]);
        // A move declared from somewhere the data is not (cell c) is no declaration of this change.
        const wrong = diffPlans(before, plan(tenant({ cell: "b", move: { from: { tier: "shared", cell: "c", region: "eu-west-1", label: "" }, cutover: false } }), [tenantComponent, registry, ...sharedPlacement("acme-db"), ...target]));
        expect(firing(wrong).map((r) => r.action)).toEqual(["move"]);
    });
});

describe("data-loss guard: a placement change without a declared move", () => {
    it("fires as before, and each removal says how to declare the move instead", () => {
        const d = diffPlans(before, plan(tenant(DEDICATED), [tenantComponent, registry, ...dedicatedPlacement()]));
        expect(d.guardFires).toBe(true);
        expect(d.moves).toEqual([]);
        // Each protected resource also fails the deploy (Pulumi refuses to delete it) besides losing data.
        expect(firing(d).map((r) => r.action).sort()).toEqual(["blocked", "blocked", "blocked", "blocked", "remove", "remove", "remove", "remove"]);
        for (const r of firing(d).filter((x) => x.action === "remove")) {
            expect(r.reason).toContain("the tenant moves shared (cell main) → dedicated (us-east-1) without a declared move; declare it (move: { from: { tier: shared, cell: main } })");
        }
        const back = diffPlans(retired(), plan(tenant({ tier: "hybrid", size: "small", cell: null }), [tenantComponent, registry]));
        expect(firing(back).find((r) => r.action === "remove")!.reason).toContain("declare it (move: { from: { tier: dedicated, region: us-east-1, network: { cidr: 10.40.0.0/16 } } })");
        // Offboarding is no move, and a declared move needs no hint.
        expect(diffPlans(before, declared).risks).toEqual([]);
    });
});

describe("data-loss guard: retiring a move", () => {
    it("fires without the receipt, and does not with this move's verified receipt committed", () => {
        const without = diffPlans(cutOverLowered, retired());
        expect(without.guardFires).toBe(true);
        const removed = ["acme-db-db-runtime", "acme-db-owner", "acme-db-runtime", "acme-db-schema"];
        expect(firing(without).map((r) => [r.action, r.name]).sort()).toEqual(removed.map((n) => ["remove", n]));
        expect(firing(without)[0]!.reason).toContain("without this move's verified receipt in this change (none committed)");
        expect(without.moves.map((m) => m.phase)).toEqual(["unproven"]);

        const withReceipt = diffPlans(cutOverLowered, retired(receipt()));
        expect(withReceipt.guardFires).toBe(false);
        expect(withReceipt.risks.map((r) => [r.action, r.name, r.exempt, r.exemptBy]).sort()).toEqual(removed.map((n) => ["remove", n, true, "move"]));
        expect(withReceipt.moves.map((m) => [m.phase, m.removed])).toEqual([["retired", 7]]);
        const text = renderDiffText(withReceipt);
        expect(text).toContain("Exempt (a move's source, with this move's verified receipt committed):");
        expect(text).toContain("move shared (cell main) → dedicated (us-east-1) retired");
        expect(text).toContain("Result: no data-loss risk");
        expect(renderDiffMarkdown(withReceipt)).toContain("Exempt (a move's source, with this move's verified receipt committed):");
    });

    it("fires with a receipt of a different move (another source cell, another target region) or with verified: false", () => {
        const others: [string, PlanReceipt, string][] = [
            ["another source cell", receipt({ from: { ...receipt().from, cell: "b" } }), "the receipt committed is of another move"],
            ["another target region", receipt({ to: { ...receipt().to, region: "eu-central-1" } }), "the receipt committed is of another move"],
            ["a receipt without placements (explicit URLs)", receipt({ from: { server: "db:5432/app" }, to: { server: "db2:5432/app" } }), "the receipt committed is of another move"],
            ["verified: false", receipt({ verified: false }), "the committed receipt is not verified"],
        ];
        for (const [what, r, why] of others) {
            const d = diffPlans(cutOverLowered, retired(r));
            expect(d.guardFires, what).toBe(true);
            expect(firing(d).map((x) => x.action), what).toEqual(["remove", "remove", "remove", "remove"]);
            expect(firing(d)[0]!.reason, what).toContain(why);
            expect(d.moves.map((m) => m.phase), what).toEqual(["unproven"]);
        }
    });

    it("the receipt exempts only the source: removing the target's resources, a deleted tenant file, or a target changed at once still fire", () => {
        // Cell → cell: the target TenantDatabase carries its label (shared-b); removing it instead of the source fires.
        const both = [tenantComponent, registry, ...sharedPlacement("acme-db"), ...sharedPlacement("acme-db-shared-b")];
        const toB = receipt({ to: { server: "b:5432/tenancy", tier: "shared", cell: "b", region: "eu-west-1", label: "shared-b" } });
        const moving = lowered(plan(tenant({ cell: "b", move: { ...FROM_SHARED_MAIN, cutover: true }, receipt: toB }), both), (r) => r.name.startsWith("acme-db-") && !r.name.startsWith("acme-db-shared-b"));
        const goodRetire = diffPlans(moving, plan(tenant({ cell: "b", receipt: toB }), [tenantComponent, registry, ...sharedPlacement("acme-db-shared-b")]));
        expect(goodRetire.guardFires).toBe(false);
        expect(goodRetire.risks.every((r) => r.exempt && r.name.startsWith("acme-db-") && !r.name.startsWith("acme-db-shared-b"))).toBe(true);
        const wrongSide = diffPlans(moving, plan(tenant({ cell: "b", receipt: toB }), [tenantComponent, registry, ...sharedPlacement("acme-db")]));
        expect(wrongSide.guardFires).toBe(true);
        expect(firing(wrongSide).filter((r) => r.action === "remove").map((r) => r.name).sort()).toEqual(["acme-db-shared-b-db-runtime", "acme-db-shared-b-owner", "acme-db-shared-b-runtime", "acme-db-shared-b-schema"]);
        expect(firing(wrongSide).filter((r) => r.action === "blocked")).toHaveLength(4);
        // A deleted tenant file is never exempt.
        const gone = diffPlans(cutOverLowered, { ...retired(receipt()), tenants: [], resources: [] });
        expect(gone.guardFires).toBe(true);
        // Retiring while the target changes (dedicated → hybrid) is no retirement of this move.
        const hybridNow = diffPlans(cutOverLowered, plan(tenant({ tier: "hybrid", region: "eu-west-1", size: "small", network: null, cell: null, receipt: receipt() }), [tenantComponent, registry]));
        expect(hybridNow.guardFires).toBe(true);
        expect(hybridNow.risks.filter((r) => r.exemptBy === "move")).toEqual([]);
    });

    it("lowering the source's protection after cutover is exempt only with this move's verified receipt in head", () => {
        const unprotect = (r: PlanResource) => (r.name.startsWith("acme-db-") ? { ...r, options: { ...r.options, protect: false } } : r);
        const withReceipt = diffPlans(declared, { ...cutOver, resources: cutOver.resources.map(unprotect) });
        expect(withReceipt.risks.map((r) => [r.action, r.exempt, r.exemptBy])).toEqual(Array(4).fill(["unprotect", true, "move"]));
        expect(withReceipt.guardFires).toBe(false);
        const withoutReceipt = diffPlans(declared, { ...declared, resources: declared.resources.map(unprotect) });
        expect(firing(withoutReceipt).map((r) => r.action)).toEqual(Array(4).fill("unprotect"));
    });
});

describe("data-loss guard: what a move must not do to its source", () => {
    it("retiring in the same change as the receipt is blocked: Pulumi refuses to delete the still-protected source", () => {
        const d = diffPlans(cutOver, retired(receipt()));
        expect(d.guardFires).toBe(true);
        const blocked = firing(d).filter((r) => r.action === "blocked");
        expect(blocked.map((r) => r.name).sort()).toEqual(["acme-db-db-runtime", "acme-db-owner", "acme-db-runtime", "acme-db-schema"]);
        expect(blocked[0]!.reason).toContain("is protected, so Pulumi refuses to delete it");
        expect(blocked[0]!.reason).toContain("commit the verified receipt with move: still declared, deploy, then remove move:");
    });

    it("a declared move whose from.size or from.network is not the tenant's fires: the deploy would resize or re-create the live source", () => {
        const dedicatedBefore = plan(tenant(DEDICATED), [tenantComponent, registry, ...dedicatedPlacement()]);
        const fromDedicated = (from: Partial<PlanMove["from"]>) =>
            plan(tenant({ cell: "main", move: { from: { tier: "dedicated", region: "us-east-1", label: "", size: "small", network: "10.40.0.0/16", ...from }, cutover: false } }),
                [tenantComponent, registry, ...dedicatedPlacement(), ...sharedPlacement("acme-db")]);
        expect(firing(diffPlans(dedicatedBefore, fromDedicated({}))).filter((r) => r.holds === "placement")).toEqual([]);
        const wrong = firing(diffPlans({ ...dedicatedBefore, tenants: [tenant({ ...DEDICATED, size: "medium" })] }, fromDedicated({ network: "10.41.0.0/16" })));
        expect(wrong.map((r) => [r.action, r.paths])).toEqual([["move", ["move.from"]]]);
        expect(wrong[0]!.reason).toContain("move.from.size is small, the tenant is medium; move.from.network.cidr is 10.41.0.0/16, the tenant's VPC is 10.40.0.0/16");
    });

    it("while the move is under way, an update of what holds the source's data fires; its tags and the receipt's lowered protection do not", () => {
        const resized = {
            ...declared,
            resources: declared.resources.map((r) => (r.name === "acme-db-schema" ? { ...r, inputs: { ...r.inputs, owner: "someone_else", tags: { a: "b" } } } : r)),
        };
        const d = diffPlans(declared, resized);
        expect(firing(d).map((r) => [r.action, r.name, r.paths])).toEqual([["update", "acme-db-schema", ["owner"]]]);
        expect(firing(d)[0]!.reason).toContain("while the move is under way");
        const tagsOnly = { ...declared, resources: declared.resources.map((r) => (r.name === "acme-db-schema" ? { ...r, inputs: { ...r.inputs, tags: { a: "b" } } } : r)) };
        expect(diffPlans(declared, tagsOnly).risks).toEqual([]);
    });
});

describe("offline plan: a tenant's move and receipt", () => {
    const config = { region: "eu-west-1" } as StackConfig;
    const base: Tenant = {
        slug: "acme", displayName: "Acme", tier: "dedicated", status: "active", region: "us-east-1", network: { cidr: "10.40.0.0/16" }, subdomain: "acme",
        hostnames: ["acme.example.com"], customDomains: [], size: "small", release: { channel: "stable", version: "1.0.0" }, features: [], branding: {},
        database: { backupRetentionDays: 7, connectionLimit: 20, statementTimeoutSeconds: 30 }, tags: {}, file: "tenants/prod/acme.yaml",
    };
    const fullReceipt: MoveReceipt = {
        tenant: "acme", schema: "t_acme", from: receipt().from as MoveReceipt["from"], to: receipt().to as MoveReceipt["to"],
        startedAt: "2026-11-23T10:00:00.000Z", finishedAt: "2026-11-23T10:20:00.000Z", writePauseMs: 812,
        tables: [{ name: "t_acme.orders", sourceRows: 200, targetRows: 200, sourceHash: "a", targetHash: "a" }, { name: "t_acme.items", sourceRows: 12, targetRows: 12, sourceHash: "b", targetHash: "b" }],
        sequences: [], verified: true,
    };
    const planOf = (t: Tenant) => buildPlan({ project: "tenancy", stack: "prod", registry: { config, tenants: [t] } as Registry, stacks: [] });

    it("the plan JSON states the declared move and a summary of the receipt, and leaves both out when there are none", () => {
        const moving = planOf({ ...base, move: { from: { tier: "shared", cell: "main", region: "eu-west-1", label: "" }, cutover: true }, receipt: fullReceipt });
        expect(moving.tenants[0]!.move).toEqual({ from: { tier: "shared", cell: "main", region: "eu-west-1", label: "" }, cutover: true });
        expect(moving.tenants[0]!.receipt).toEqual({
            from: fullReceipt.from, to: fullReceipt.to, verified: true, startedAt: fullReceipt.startedAt, finishedAt: fullReceipt.finishedAt, writePauseMs: 812, tables: 2, rows: 212,
        });
        const plain = planOf(base).tenants[0]!;
        expect("move" in plain || "receipt" in plain).toBe(false);
    });

    it("text and Markdown name the move's source and whether it has cut over", () => {
        const moving = planOf({ ...base, move: { from: { tier: "shared", cell: "main", region: "eu-west-1", label: "" }, cutover: false } });
        expect(renderText(moving)).toContain("  move: moving from shared (cell main): kept and served until cutover; no verified receipt of this move yet");
        const md = renderMarkdown(moving);
        expect(md).toContain("| `acme` | dedicated (moving from shared) |");
        expect(md).toContain("Move: moving from shared (cell main)");
        const done = planOf({ ...base, receipt: fullReceipt });
        expect(renderText(done)).toContain("  move: last move: shared (cell main) → dedicated (us-east-1), verified, finished 2026-11-23T10:20:00.000Z (write pause 812 ms)");
    });
});
