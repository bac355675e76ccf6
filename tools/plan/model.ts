/**
 * The offline plan's JSON document: its types and the pure builder from a recording.
 *
 * Stable by construction: resources sorted by URN, tenants by slug, every object's keys sorted recursively, so two
 * plans of the same program and inputs serialize byte-identically and diff cleanly in review.
 */
import { estimate, type MonthlyCost, type PlatformCost } from "../../cost/estimate";
import { committedPrices } from "../../cost/prices";
import { joinPath, maskPaths } from "../../engine/paths";
import { tenantBackupSettings, type TenantBackupSettings } from "../../stacks/backupConfig";
import { COST_DEFAULTS, type CostAssumptions } from "../../stacks/costConfig";
import type { RecordedResource } from "../../engine/recorder";
import { samePlacement, type MoveReceipt, type Placement } from "../../tenants/moves";
import type { Tier } from "../../tenants/schema";
import type { Registry, Tenant } from "../../tenants/registry";

/** Bumped when a field changes meaning or disappears; new fields do not bump it. */
export const PLAN_VERSION = 1;

/** Type token of the component each tenant's resources live under (components/tenant.ts). */
export { TENANT_TYPE } from "../stackRecording";
import { attributeTenants } from "../stackRecording";
/** Type token of the shared side (components/sharedPlatform.ts). */
export const PLATFORM_TYPE = "tenancy:platform:SharedPlatform";
/** Written wherever a secret value was; the recorder masks secrets with the same marker. */
export const SECRET = "[secret]";

/** Resource options the engine received, including what Pulumi's mocks never show (protection). */
export interface PlanResourceOptions {
    protect: boolean;
    retainOnDelete: boolean;
    /** Explicit `dependsOn` URNs (not those implied by inputs). */
    dependsOn: string[];
    deleteBeforeReplace: boolean;
    replaceOnChanges: string[];
    ignoreChanges: string[];
    /** URN of the resource this one is deleted with, or null. */
    deletedWith: string | null;
}

/** One registered resource. */
export interface PlanResource {
    urn: string;
    /** The stack that declares it (`prod`, `prod.cell-main`, `prod.tyrell`; in the single layout, the environment). */
    stack: string;
    type: string;
    name: string;
    /** Parent URN; null only for the stack. */
    parent: string | null;
    /** False for components (and the stack). */
    custom: boolean;
    /** Explicit provider reference `urn::id`, or null for the default provider. */
    provider: string | null;
    /** Slug of the tenant whose component the resource lives under; null for the platform and the stack. */
    tenant: string | null;
    /** Declared inputs; every secret value is `"[secret]"`. */
    inputs: Record<string, unknown>;
    options: PlanResourceOptions;
}

/** One tenant as the registry resolved it, with what the program declared for it. */
export interface PlanTenant {
    slug: string;
    displayName: string;
    tier: string;
    region: string;
    status: string;
    /** Size preset of hybrid and dedicated tenants; null for shared. */
    size: string | null;
    /** CIDR of a dedicated tenant's own VPC; null otherwise. */
    network: string | null;
    hostnames: string[];
    releaseChannel: string;
    releaseVersion: string;
    /** Feature modules the tenant is entitled to, as in its file. */
    features: string[];
    /** Branding as in the tenant file (the runtime registry record carrying it is a secret SSM value, masked). */
    branding: { primaryColor?: string; logoUrl?: string };
    /** Resources under the tenant's component, the component itself included. */
    resourceCount: number;
    /** Of those, how many are protected from deletion. */
    protectedCount: number;
    /** Tenant file, relative to the repository root. */
    file: string;
    /** The database cell of a shared tenant; null for other tiers; absent from plans written before cells. */
    cell?: string | null;
    /**
     * A declared move (`move:` in the tenant file): the placement the data comes from; the tenant's own fields (tier,
     * cell, region, size, network) are where it goes. `cutover`: the receipt below is this move's verified one, so
     * the registry points at the target. Absent when no move is declared.
     */
    move?: PlanMove;
    /** The committed receipt of the tenant's last move (`tenants/<env>/.moves/<slug>.json`), summarized; absent without one. */
    receipt?: PlanReceipt;
    /** A shared tenant's runtime connection limit (its weight in the cost apportionment); null for other tiers. */
    connectionLimit?: number | null;
    /**
     * A hybrid or dedicated tenant's AWS Backup plan as resolved from its policy and file (stacks/backupConfig.ts):
     * what its backup cost follows. Null for shared tenants; absent from plans written before it.
     */
    backup?: PlanBackup | null;
    /**
     * The estimated monthly cost (cost/estimate.ts): its own resources by type plus its share of the platform
     * (`apportioned`). Absent from plans written before costs existed.
     */
    monthlyCost?: MonthlyCost;
}

/** The plan's cost estimate: what it rests on and the platform's part. Absent from plans written before costs existed. */
export interface PlanCost {
    currency: "USD";
    /** The date of the price table (cost/prices.json). */
    pricesAsOf: string;
    /** The usage assumptions: the stack's `tenancy:cost`, defaults filled in. */
    assumptions: CostAssumptions;
    /** The platform's resources (under no tenant), how they were apportioned and what no tenant carries. */
    platform: PlatformCost;
    /** The environment's month: every tenant's own cost plus the platform's. */
    total: number;
    /** False for a plan of one cell or tenant stack of a fleet: it holds no platform, so no tenant's share is known. */
    platformPlanned: boolean;
}

/** A tenant's backup plan in a plan: its policy, snapshot retention and copy region (null without a copy). */
export interface PlanBackup {
    policy: string;
    retentionDays: number;
    copyRegion: string | null;
}

/** One placement of a tenant in a plan (tenants/moves.ts `Placement`). */
export interface PlanPlacement {
    tier: string;
    /** Shared: the cell. */
    cell?: string;
    region: string;
    /** Hybrid and dedicated: the size preset. */
    size?: string;
    /** Dedicated: the CIDR of its VPC. */
    network?: string;
    /** Suffix of the names that would collide between two placements of the tenant; "" for a tenant that never moved. */
    label: string;
}

export interface PlanMove {
    from: PlanPlacement;
    cutover: boolean;
}

/** A placement as a receipt records it: the server always, the placement fields when the tool knew them. */
export interface PlanReceiptPlacement {
    server: string;
    tier?: string;
    cell?: string;
    region?: string;
    label?: string;
}

/** What the plan keeps of a move receipt: whose move it is and whether it verified; the per-table proof stays in the file. */
export interface PlanReceipt {
    from: PlanReceiptPlacement;
    to: PlanReceiptPlacement;
    verified: boolean;
    startedAt: string;
    finishedAt: string;
    writePauseMs: number;
    /** Tables verified and their rows on the target. */
    tables: number;
    rows: number;
}

/** What a stack holds (model/fleet.ts): in the single layout the environment's one stack is `platform` and holds every tenant. */
export type PlanStackRole = "platform" | "cell" | "tenant";

/** One planned stack. */
export interface PlanStack {
    name: string;
    role: PlanStackRole;
    /** Tenants whose resources the stack declares, sorted. */
    tenants: string[];
    /** Resources the stack declares, its root stack resource included. */
    resourceCount: number;
}

export interface Plan {
    planVersion: number;
    project: string;
    stack: string;
    /** The stack's own region (`aws:region`). */
    region: string;
    /** Sorted by slug. */
    tenants: PlanTenant[];
    /** The planned stacks in schedule order (platform, cells, tenants); one in the single layout. */
    stacks: PlanStack[];
    /** Every registered resource, sorted by URN. */
    resources: PlanResource[];
    /** The monthly cost estimate; absent from plans written before costs existed. */
    cost?: PlanCost;
}

/** A copy of `value` with every object's keys sorted (arrays keep their order). */
export function sortKeys<T>(value: T): T {
    if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as unknown as T;
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined) out[key] = sortKeys(v);
    }
    return out as T;
}

/** Serializes a plan: sorted keys, two-space indent, trailing newline. */
export function planToJson(plan: Plan): string {
    return `${JSON.stringify(sortKeys(plan), null, 2)}\n`;
}

/** What {@link planResources} needs of a recorded resource (engine/recorder `RecordedResource`). */
type RecordedLike = Pick<RecordedResource, "urn" | "type" | "name" | "parent" | "custom" | "provider" | "inputs" | "secretPaths" | "options">;

/**
 * One stack's recorded resources as plan resources: tenant attributed, secrets masked (whether or not the recorder
 * masked them), sorted by URN.
 */
export function planResources(stack: string, recorded: readonly RecordedLike[]): PlanResource[] {
    const owners = attributeTenants(recorded);
    return recorded
        .map((r): PlanResource => ({
            urn: r.urn,
            stack,
            type: r.type,
            name: r.name,
            parent: r.parent,
            custom: r.custom,
            provider: r.provider,
            tenant: owners.get(r.urn) ?? null,
            inputs: maskPaths(r.inputs, r.secretPaths),
            options: {
                protect: r.options.protect,
                retainOnDelete: r.options.retainOnDelete,
                dependsOn: [...r.options.dependsOn].sort(),
                deleteBeforeReplace: r.options.deleteBeforeReplace,
                replaceOnChanges: r.options.replaceOnChanges,
                ignoreChanges: r.options.ignoreChanges,
                deletedWith: r.options.deletedWith,
            },
        }))
        .sort((a, b) => compare(a.urn, b.urn));
}


export { joinPath };

/** One planned stack: its place in the environment and its resources ({@link planResources}). */
export interface StackPart {
    name: string;
    role: PlanStackRole;
    tenants: readonly string[];
    resources: readonly PlanResource[];
}

/**
 * Builds the plan document from the validated registry and the planned stacks (one for the single layout). `tenants`
 * limits the tenants listed (a plan of one tenant's stack); defaults to every tenant of the registry.
 */
export function buildPlan(args: { project: string; stack: string; registry: Registry; stacks: readonly StackPart[]; tenants?: readonly string[] }): Plan {
    const { registry } = args;
    const resources: PlanResource[] = args.stacks.flatMap((s) => s.resources).sort((a, b) => compare(a.urn, b.urn));
    const counts = new Map<string, { total: number; protected: number }>();
    for (const r of resources) {
        if (r.tenant === null) continue;
        const c = counts.get(r.tenant) ?? { total: 0, protected: 0 };
        c.total++;
        if (r.options.protect) c.protected++;
        counts.set(r.tenant, c);
    }
    const listed = args.tenants === undefined ? undefined : new Set(args.tenants);
    const tenants: PlanTenant[] = registry.tenants
        .filter((t) => listed === undefined || listed.has(t.slug))
        .sort((a, b) => compare(a.slug, b.slug))
        .map((t) => ({
            slug: t.slug,
            displayName: t.displayName,
            tier: t.tier,
            region: t.region,
            status: t.status,
            size: t.size ?? null,
            network: t.network?.cidr ?? null,
            hostnames: t.hostnames,
            releaseChannel: t.release.channel,
            releaseVersion: t.release.version,
            features: t.features,
            branding: t.branding,
            resourceCount: counts.get(t.slug)?.total ?? 0,
            protectedCount: counts.get(t.slug)?.protected ?? 0,
            file: t.file,
            cell: t.tier === "shared" ? (t.cell ?? null) : null,
            connectionLimit: t.tier === "shared" ? (t.database?.connectionLimit ?? null) : null,
            // A registry built by hand (tests) may carry no backup config: then the plan says nothing of backups.
            ...(registry.config.backup ? { backup: t.tier === "shared" ? null : planBackup(tenantBackupSettings(registry.config.backup, t)) } : {}),
            ...(t.move ? { move: planMove(t.move) } : {}),
            ...(t.receipt ? { receipt: planReceipt(t.receipt) } : {}),
        }));
    const stacks: PlanStack[] = args.stacks.map((s) => ({ name: s.name, role: s.role, tenants: [...s.tenants].sort(compare), resourceCount: s.resources.length }));
    const cost = planCost(registry, tenants, resources, args.stacks.some((s) => s.role === "platform"));
    return sortKeys({
        planVersion: PLAN_VERSION,
        project: args.project,
        stack: args.stack,
        region: registry.config.region,
        tenants,
        stacks,
        resources,
        cost,
    });
}

/**
 * Prices the plan (cost/estimate.ts) with the committed price table and the stack's `tenancy:cost`, writing each
 * tenant's `monthlyCost`. A hybrid tenant weighs, unless the stack says otherwise, as much as a shared tenant with
 * the stack's default connection limit.
 */
function planCost(registry: Registry, tenants: PlanTenant[], resources: readonly PlanResource[], platformPlanned: boolean): PlanCost {
    const config = registry.config as Partial<Registry["config"]>;
    const configured = config.cost ?? COST_DEFAULTS;
    const assumptions: CostAssumptions = {
        ...configured,
        apportion: { hybridWeight: configured.apportion.hybridWeight ?? config.shared?.database.tenantConnectionLimit },
    };
    if (assumptions.apportion.hybridWeight === undefined) delete assumptions.apportion.hybridWeight;
    const prices = committedPrices();
    const e = estimate({ region: registry.config.region, tenants, resources }, prices, assumptions);
    let cents = Math.round(e.platform.total * 100);
    for (const t of tenants) {
        const c = e.tenants[t.slug]!;
        t.monthlyCost = c;
        cents += Math.round((c.total - (c.apportioned ?? 0)) * 100);
    }
    return { currency: "USD", pricesAsOf: prices.asOf, assumptions, platform: e.platform, total: cents / 100, platformPlanned };
}

function planBackup(b: TenantBackupSettings): PlanBackup {
    return { policy: b.policy, retentionDays: b.retentionDays, copyRegion: b.copy?.region ?? null };
}

/** A tenant's declared move as the plan states it. */
function planMove(move: NonNullable<Tenant["move"]>): PlanMove {
    const from: Placement = move.from;
    return {
        from: {
            tier: from.tier,
            ...(from.cell !== undefined ? { cell: from.cell } : {}),
            region: from.region,
            ...(from.size !== undefined ? { size: from.size } : {}),
            ...(from.network ? { network: from.network.cidr } : {}),
            label: from.label,
        },
        cutover: move.cutover,
    };
}

/** A receipt without its per-table proof: the plan says whose move it is and whether it verified. */
function planReceipt(r: MoveReceipt): PlanReceipt {
    const side = (p: MoveReceipt["from"]): PlanReceiptPlacement => ({
        server: p.server,
        ...(p.tier !== undefined ? { tier: p.tier } : {}),
        ...(p.cell !== undefined ? { cell: p.cell } : {}),
        ...(p.region !== undefined ? { region: p.region } : {}),
        ...(p.label !== undefined ? { label: p.label } : {}),
    });
    return {
        from: side(r.from),
        to: side(r.to),
        verified: r.verified,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        writePauseMs: r.writePauseMs,
        tables: r.tables.length,
        rows: r.tables.reduce((n, t) => n + t.targetRows, 0),
    };
}

/** Where a plan's tenant is placed: its tier, and the cell (shared) or region that tells two placements apart. */
export function placementOf(t: Pick<PlanTenant, "tier" | "region" | "cell">): { tier: string; cell?: string; region: string } {
    return { tier: t.tier, ...(t.tier === "shared" && t.cell ? { cell: t.cell } : {}), region: t.region };
}

/** Same placement (tenants/moves.ts `samePlacement`) of plan data, whose tiers are strings and cells may be null. */
export function samePlanPlacement(a: { tier?: string; cell?: string | null; region?: string }, b: { tier?: string; cell?: string | null; region?: string }): boolean {
    const plain = (p: typeof a) => ({ tier: p.tier as Tier | undefined, cell: p.cell ?? undefined, region: p.region });
    return samePlacement(plain(a), plain(b));
}

/** A URN with its stack part written `<stack>`, so one resource has the same identity in every stack of its environment. */
export function identityOf(urn: string): string {
    const end = urn.indexOf("::");
    return end < 0 ? urn : `urn:pulumi:<stack>${urn.slice(end)}`;
}

/** What every stack of a fleet has by construction, under the same name in each: roots, providers, StackReference reads. */
export function byConstruction(r: { type: string }): boolean {
    return r.type === "pulumi:pulumi:Stack" || r.type === "pulumi:pulumi:StackReference" || r.type.startsWith("pulumi:providers:");
}

/** `fleet` when the plan has cell or tenant stacks, else `single` (one stack holding everything). */
export function layoutOf(plan: Pick<Plan, "stacks">): "single" | "fleet" {
    return plan.stacks.some((s) => s.role !== "platform") ? "fleet" : "single";
}

/** Code-point order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** Resources of one tenant (a slug) or of the platform (null). */
export function resourcesOf(plan: Plan, tenant: string | null): PlanResource[] {
    return plan.resources.filter((r) => r.tenant === tenant);
}

/** Count and protected count per type, sorted by type. */
export function countByType(resources: readonly PlanResource[]): { type: string; count: number; protected: number }[] {
    const m = new Map<string, { count: number; protected: number }>();
    for (const r of resources) {
        const c = m.get(r.type) ?? { count: 0, protected: 0 };
        c.count++;
        if (r.options.protect) c.protected++;
        m.set(r.type, c);
    }
    return [...m.entries()].sort(([a], [b]) => compare(a, b)).map(([type, c]) => ({ type, ...c }));
}

/** Totals of a set of resources. */
export function totals(resources: readonly PlanResource[]): { resources: number; custom: number; protected: number } {
    let custom = 0;
    let prot = 0;
    for (const r of resources) {
        if (r.custom) custom++;
        if (r.options.protect) prot++;
    }
    return { resources: resources.length, custom, protected: prot };
}

/**
 * Parses a plan written by `npm run plan -- --format json`. Throws an Error naming the file and what is wrong when the
 * text is not such a plan (a usage error for `plan:diff`).
 */
export function parsePlan(text: string, file: string): Plan {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new Error(`${file}: not JSON (${(e as Error).message})`);
    }
    const d = doc as Partial<Plan> | null;
    if (!d || typeof d !== "object" || Array.isArray(d)) throw new Error(`${file}: not a plan (expected an object from 'npm run plan -- --format json')`);
    if (d.planVersion !== PLAN_VERSION) throw new Error(`${file}: planVersion ${String(d.planVersion)} is not supported (allowed: ${PLAN_VERSION})`);
    for (const key of ["project", "stack"] as const) {
        if (typeof d[key] !== "string") throw new Error(`${file}: '${key}' must be a string`);
    }
    if (!Array.isArray(d.tenants) || !Array.isArray(d.resources)) throw new Error(`${file}: 'tenants' and 'resources' must be lists`);
    d.resources.forEach((r, i) => {
        if (!r || typeof r.urn !== "string" || typeof r.type !== "string" || typeof r.inputs !== "object" || typeof r.options !== "object") {
            throw new Error(`${file}: resources[${i}] lacks urn, type, inputs or options`);
        }
    });
    d.tenants.forEach((t, i) => {
        if (!t || typeof t.slug !== "string" || typeof t.status !== "string") throw new Error(`${file}: tenants[${i}] lacks slug or status`);
    });
    if (d.stacks !== undefined && !Array.isArray(d.stacks)) throw new Error(`${file}: 'stacks' must be a list`);
    // A plan written before fleets (no `stacks`, no `stack` per resource) is the single layout: one stack, the plan's.
    const stack = d.stack!;
    for (const r of d.resources) r.stack ??= stack;
    d.stacks ??= [{ name: stack, role: "platform", tenants: d.tenants.map((t) => t.slug), resourceCount: d.resources.length }];
    return d as Plan;
}
