/**
 * Diff of two offline plans, per tenant, and the data-loss guard. Pure: plans in, plain data out.
 *
 * Tenants are matched by slug, resources by URN. A resource is "changed" when an input (or its protection) differs;
 * the changed input paths are listed with secrets still masked (both plans carry `[secret]`, so a secret that changed
 * shows no difference, and none leaks).
 *
 * The guard fires on a risk that is not exempt:
 * - removing a stateful resource (see replacements.ts: databases, clusters, schemas, roles, KMS keys, secrets, log groups);
 * - changing an input that makes the provider replace (or, for PostgreSQL names, rename) a resource of a listed type;
 * - in a protected stack (base protects any resource), lowering the protection of a stateful resource: `protect` or
 *   `retainOnDelete` turned off, deletion protection off, final snapshot skipped, automated backups deleted with it,
 *   backup, log or recovery retention shortened (see {@link loweredProtection}).
 * - a shared tenant whose database cell changes without a declared move (`move:` in the tenant file): its data would
 *   stay behind on the old cell.
 * Exempt: the resources of a tenant being offboarded through its status (head `offboarded`, base not); the removal (or
 * lowered protection) of a move's source placement when head has this move's verified receipt ({@link MoveNote}).
 * Never exempt: a tenant whose file was deleted (present in base, absent in head), whatever its status was.
 *
 * A custom resource whose provider changes is replaced, unless both providers' configurations are known and equal: the
 * default provider (the stack's region) and an explicit one with the same region, as a fleet's stacks use. Pulumi >= 3.150
 * asks the provider (DiffConfig, pulumi/pulumi#18509) and updates in place then.
 *
 * In a fleet, resources carry their stack: the diff names every stack a change touches ({@link StackDiff}).
 */
import {
    byConstruction, compare, identityOf, joinPath, layoutOf, placementOf, samePlanPlacement, type Plan, type PlanMove, type PlanReceipt, type PlanResource, type PlanTenant,
} from "./model";
import { placementKey } from "../../tenants/moves";
import type { Tier } from "../../tenants/schema";
import { effectOfChange, isAwsType, isStateful, matchesOption, REGION_INPUT, ruleFor, type ReplacementEffect } from "./replacements";

/** Exit code of `plan:diff` when the guard fires (0: nothing risky, 1: usage error). */
export const EXIT_RISKY = 2;

/** A resource named in a diff. */
export interface ResourceRef {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    protect: boolean;
}

export interface ChangedPath {
    /** `cidrBlock`, `tags.owner`, `rules[0].value`, or `options.protect` for a resource option. */
    path: string;
    /** Absent on a side where the path did not exist. Secrets are `[secret]`. */
    before?: unknown;
    after?: unknown;
    /** Set when the provider replaces (or renames) the resource for this change. */
    effect?: ReplacementEffect;
}

export interface ResourceChange extends ResourceRef {
    paths: ChangedPath[];
    /** The worst effect among the paths: replace > rename > update. */
    effect: ReplacementEffect | "update";
}

export type TenantChangeKind = "added" | "removed" | "changed" | "unchanged";

export interface TenantDiff {
    /** Tenant slug; null for the platform (resources under no tenant). */
    slug: string | null;
    change: TenantChangeKind;
    /** Status in base and head; null where the tenant is absent (and for the platform). */
    statusBefore: string | null;
    statusAfter: string | null;
    /** Head shows the tenant `offboarded` and base did not: its removals and replacements are exempt from the guard. */
    offboarding: boolean;
    /** Present in base, absent in head: the tenant file was deleted. Never exempt. */
    fileDeleted: boolean;
    /**
     * Tenant fields that differ (`status`, `features[1]`, `branding.primaryColor`, …): they reach the tenant's runtime
     * record, an SSM parameter whose value the AWS SDK always marks secret, so its resource diff cannot show them.
     */
    fields: ChangedPath[];
    added: ResourceRef[];
    removed: ResourceRef[];
    changed: ResourceChange[];
}

/**
 * `unprotect`: the resource stays, but a later deletion would lose data that is safe today. `blocked`: the deploy
 * would fail, because AWS refuses to delete a resource whose deletion protection is still on.
 */
export type RiskAction = "remove" | ReplacementEffect | "unprotect" | "blocked" | "move" | "update";

/** One thing that may lose data. */
export interface Risk {
    tenant: string | null;
    action: RiskAction;
    urn: string;
    type: string;
    name: string;
    /** What the resource holds ("database", "secret", …). */
    holds: string;
    /** Inputs whose change causes the replacement or rename; empty for removals. */
    paths: string[];
    /** One line for humans. */
    reason: string;
    /** True when the tenant is being offboarded through its status, or a move retires its source with this move's verified receipt: reported, but the guard does not fire. */
    exempt: boolean;
    /** Why it is exempt: `offboarding` (through status) or `move` (the source of a move with its verified receipt). Absent when not exempt. */
    exemptBy?: "offboarding" | "move";
}

/** A placement as a move note names it. */
export interface MovePlacement {
    tier: string;
    cell?: string;
    region: string;
}

/**
 * What a pull request does to a tenant's move (README "Moving a tenant"):
 * - `declared`: head declares it (base did not): the target is built, the source stays and is still served;
 * - `moving`: declared on both sides, no verified receipt of it yet;
 * - `cutover`: declared, and head has this move's verified receipt: the registry points at the target;
 * - `retired`: base declared it, head no longer does, with this move's verified receipt: the source is removed;
 * - `unproven`: base declared it, head no longer does, without this move's verified receipt: the guard fires.
 */
export interface MoveNote {
    tenant: string;
    phase: "declared" | "moving" | "cutover" | "retired" | "unproven";
    from: MovePlacement;
    to: MovePlacement;
    /** The receipt in head: this move's and verified, this move's but not verified, another move's, or none. */
    receipt: "verified" | "unverified" | "other" | "none";
    /** Head's receipt, when there is one. */
    receiptSummary?: PlanReceipt;
    /** The tenant's resources this change adds (the target being built), removes (the source retired) and keeps. */
    added: number;
    removed: number;
    /** Protected resources of the source placement kept by this change (what stays until retirement). */
    sourceKept: number;
}

/** What happened to one stack: it appears, disappears or has resources added, removed or changed. */
export interface StackDiff {
    name: string;
    change: "added" | "removed" | "changed";
    added: number;
    removed: number;
    changed: number;
    /** Tenants of the stack with a changed field or resource. */
    tenants: string[];
}

export interface PlanDiff {
    base: { project: string; stack: string };
    head: { project: string; stack: string };
    /**
     * Set when base and head plan the environment in different layouts: resources were matched by identity, and the
     * first deploy of head needs `npm run fleet -- adopt --env <env> --execute` first (it moves them between stacks).
     */
    layoutChange: { from: "single" | "fleet"; to: "single" | "fleet"; moved: number } | null;
    /** The stacks a change touches (in head's schedule order, then removed ones); a deploy needs only these. */
    stacks: StackDiff[];
    /** Platform first (when it changed), then tenants by slug; unchanged tenants included. */
    tenants: TenantDiff[];
    risks: Risk[];
    /** Tenants whose move this change declares, advances or retires (by slug). */
    moves: MoveNote[];
    /** True when any risk is not exempt: `plan:diff` exits 2. */
    guardFires: boolean;
    /** How the monthly cost estimate changes, from the two plans' estimates ({@link costDiff}; diffPlans always sets it). */
    cost?: CostDiff;
}

/** A month before and after, in USD; null where a plan has no estimate (written before costs existed) or no such tenant. */
export interface CostChange {
    before: number | null;
    after: number | null;
    /** after − before, when both are known. */
    delta: number | null;
}

/** One tenant's monthly change and what explains it (`size medium → large`, `new tenant`, `removed`). */
export interface TenantCostChange extends CostChange {
    slug: string;
    notes: string[];
}

export interface CostDiff {
    /** The environment's month (every tenant's own cost plus the platform's). */
    total: CostChange;
    platform: CostChange;
    /**
     * Tenants whose own cost changes, added and removed tenants, and (when base has no estimate) every tenant of head;
     * by slug.
     */
    tenants: TenantCostChange[];
    /** Tenants whose own cost is the same but whose share of the platform moves, with the smallest and largest change. */
    shareOnly: { tenants: string[]; min: number; max: number } | null;
}

export { joinPath } from "./model";

/** Type token of a tenant's component (components/tenant.ts). */
const TENANT_COMPONENT = "tenancy:tenant:Tenant";

/** The stack of a URN (`urn:pulumi:<stack>::…`). */
export function stackOfUrn(urn: string): string {
    return urn.slice("urn:pulumi:".length, urn.indexOf("::"));
}

/** Every stack a change touches, from the per-tenant diffs (whose resources carry their stack in their URN). */
function stackDiffs(base: Plan, head: Plan, tenants: readonly TenantDiff[]): StackDiff[] {
    const baseStacks = new Set(base.stacks.map((s) => s.name));
    const headStacks = new Set(head.stacks.map((s) => s.name));
    const tenantStack = new Map<string, string>();
    for (const p of [base, head]) for (const s of p.stacks) for (const t of s.tenants) tenantStack.set(t, s.name);
    const by = new Map<string, StackDiff>();
    const of = (name: string): StackDiff => {
        let d = by.get(name);
        if (!d) by.set(name, (d = { name, change: !baseStacks.has(name) ? "added" : !headStacks.has(name) ? "removed" : "changed", added: 0, removed: 0, changed: 0, tenants: [] }));
        return d;
    };
    const touch = (name: string, slug: string | null) => {
        const d = of(name);
        if (slug !== null && !d.tenants.includes(slug)) d.tenants.push(slug);
        return d;
    };
    for (const t of tenants) {
        for (const r of t.added) touch(stackOfUrn(r.urn), t.slug).added++;
        for (const r of t.removed) touch(stackOfUrn(r.urn), t.slug).removed++;
        for (const r of t.changed) touch(stackOfUrn(r.urn), t.slug).changed++;
        // A field change reaches the tenant's runtime record (a secret SSM value): its stack changes too.
        if (t.slug !== null && t.fields.length > 0) {
            const s = tenantStack.get(t.slug);
            if (s !== undefined) touch(s, t.slug);
        }
    }
    for (const name of [...baseStacks, ...headStacks]) if (baseStacks.has(name) !== headStacks.has(name)) of(name);
    const order = new Map([...head.stacks.map((s) => s.name), ...base.stacks.map((s) => s.name).filter((n) => !headStacks.has(n))].map((n, i) => [n, i]));
    const rank = (n: string) => order.get(n) ?? order.size;
    return [...by.values()].sort((a, b) => rank(a.name) - rank(b.name) || compare(a.name, b.name)).map((d) => ({ ...d, tenants: d.tenants.sort(compare) }));
}

const ref = (r: PlanResource): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name, custom: r.custom, protect: r.options.protect });

function isObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Leaf paths where `a` and `b` differ (objects by key, arrays by index). */
export function diffValues(a: unknown, b: unknown, path = ""): ChangedPath[] {
    if (a === b) return [];
    if (isObject(a) && isObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compare);
        return keys.flatMap((k) => {
            const p = joinPath(path, k);
            if (!(k in a)) return [{ path: p, after: b[k] }];
            if (!(k in b)) return [{ path: p, before: a[k] }];
            return diffValues(a[k], b[k], p);
        });
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        const out: ChangedPath[] = [];
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
            const p = joinPath(path, i);
            if (i >= a.length) out.push({ path: p, after: b[i] });
            else if (i >= b.length) out.push({ path: p, before: a[i] });
            else out.push(...diffValues(a[i], b[i], p));
        }
        return out;
    }
    if (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b)) return [];
    return [{ path: path || "(value)", before: a, after: b }];
}

/** Options whose change a reviewer must see; other options are bookkeeping. */
const WATCHED_OPTIONS = ["protect", "retainOnDelete", "deleteBeforeReplace"] as const;

/** Stack regions of both plans: an AWS resource without a `region` input lives in its plan's region. */
interface Regions {
    base: string;
    head: string;
}

/** Both plans' regions and resources by URN, to resolve provider references. */
interface Context {
    regions: Regions;
    base: Map<string, PlanResource>;
    head: Map<string, PlanResource>;
}

/** Values the SDK writes on an explicit provider that the default provider has too: not part of a difference. */
const PROVIDER_DEFAULTS: Record<string, Record<string, unknown>> = { aws: { skipCredentialsValidation: "false", skipRegionValidation: "true" } };

/**
 * The configuration of the provider a resource uses: an explicit provider's inputs (without `version` and SDK-written
 * defaults), or for the default AWS provider the stack's region. Undefined when unknown (another package's default
 * provider, or a provider not in the plan).
 */
export function providerConfig(resourceType: string, ref: string | null, region: string, resources: ReadonlyMap<string, PlanResource>): Record<string, unknown> | undefined {
    const pkg = resourceType.split(":")[0]!;
    if (ref === null) return pkg === "aws" ? { region } : undefined;
    const provider = resources.get(ref.slice(0, ref.lastIndexOf("::")));
    if (!provider) return undefined;
    const defaults = PROVIDER_DEFAULTS[provider.type.split(":")[2] ?? ""] ?? {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(provider.inputs)) if (k !== "version" && defaults[k] !== v) out[k] = v;
    return out;
}

/** A provider change the engine applies in place: both configurations known and equal (DiffConfig finds nothing). */
function sameProvider(before: PlanResource, after: PlanResource, ctx: Context): boolean {
    const b = providerConfig(before.type, before.provider, ctx.regions.base, ctx.base);
    const a = providerConfig(after.type, after.provider, ctx.regions.head, ctx.head);
    return b !== undefined && a !== undefined && diffValues(b, a).length === 0;
}

/** Changed paths of one resource present in both plans, each with its effect. */
function changeOf(before: PlanResource, after: PlanResource, ctx: Context): ResourceChange | undefined {
    const regions = ctx.regions;
    // Inputs under `ignoreChanges` are not acted on by the engine: left out. An absent region is the stack's region.
    const sameRegion = (c: ChangedPath) =>
        c.path === REGION_INPUT && isAwsType(after.type) && (c.before ?? regions.base) === (c.after ?? regions.head);
    const paths: ChangedPath[] = diffValues(before.inputs, after.inputs).filter((c) => !matchesOption(c.path, after.options.ignoreChanges) && !sameRegion(c)).map((c) => {
        const effect = effectOfChange(after.type, c.path, after.options.replaceOnChanges)?.effect;
        return effect ? { ...c, effect } : c;
    });
    for (const o of WATCHED_OPTIONS) {
        if (before.options[o] !== after.options[o]) paths.push({ path: `options.${o}`, before: before.options[o], after: after.options[o] });
    }
    // A custom resource moved to another provider (another region or database server) is replaced by the engine;
    // to one with the same configuration (default → explicit, as in a fleet's stacks) it is not.
    if (before.custom && before.provider !== after.provider) {
        const same = sameProvider(before, after, ctx);
        paths.push({ path: "(provider)", before: before.provider, after: after.provider, ...(same ? {} : { effect: "replace" as const }) });
    }
    if (paths.length === 0) return undefined;
    const effect = paths.some((p) => p.effect === "replace") ? "replace" : paths.some((p) => p.effect === "rename") ? "rename" : "update";
    return { ...ref(after), paths, effect };
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/**
 * How a change lowers the protection of a resource's data, one `path: why` per finding; empty when it does not.
 * Inputs are compared by name, so the same rule covers RDS instances and clusters, log groups, secrets and keys.
 */
export function loweredProtection(before: PlanResource, after: PlanResource): { path: string; why: string }[] {
    const b = before.inputs;
    const a = after.inputs;
    const out: { path: string; why: string }[] = [];
    if (before.options.protect && !after.options.protect) out.push({ path: "options.protect", why: "protect turned off" });
    if (before.options.retainOnDelete && !after.options.retainOnDelete) out.push({ path: "options.retainOnDelete", why: "no longer retained on delete" });
    if (b["deletionProtection"] === true && a["deletionProtection"] !== true) out.push({ path: "deletionProtection", why: "deletion protection turned off" });
    if (b["skipFinalSnapshot"] !== true && a["skipFinalSnapshot"] === true) out.push({ path: "skipFinalSnapshot", why: "no final snapshot on delete" });
    if (b["deleteAutomatedBackups"] === false && a["deleteAutomatedBackups"] !== false) {
        out.push({ path: "deleteAutomatedBackups", why: "automated backups deleted with it" });
    }
    // Shorter is lower; an absent value is the provider default, shorter than any explicit one here
    // (backups: 1 day or 0; secrets and keys: 30 days is the maximum) — except for log groups, where absent means forever.
    for (const [input, what] of [["backupRetentionPeriod", "backup retention"], ["recoveryWindowInDays", "recovery window"], ["deletionWindowInDays", "key deletion window"]] as const) {
        const was = num(b[input]);
        const now = num(a[input]);
        if (was !== undefined && (now === undefined ? input === "backupRetentionPeriod" : now < was)) {
            out.push({ path: input, why: `${what} shortened from ${was} to ${now ?? "the default"} days` });
        }
    }
    const logWas = num(b["retentionInDays"]);
    const logNow = num(a["retentionInDays"]);
    if (logNow !== undefined && logNow > 0 && (logWas === undefined || logWas === 0 || logNow < logWas)) {
        out.push({ path: "retentionInDays", why: `log retention shortened from ${logWas ? `${logWas} days` : "forever"} to ${logNow} days` });
    }
    return out;
}

/**
 * What a tenant is, without what the plan derives from it (counts, its cost estimate, the weight and backup plan behind it) or
 * where its file sits: these fields reach its runtime record. Cost changes are reported apart ({@link CostDiff}).
 */
function tenantFields(t: PlanTenant): Record<string, unknown> {
    const { resourceCount: _count, protectedCount: _protected, file: _file, monthlyCost: _cost, connectionLimit: _limit, backup: _backup, ...fields } = t;
    return fields;
}

const cents = (n: number) => Math.round(n * 100);
const change = (before: number | null, after: number | null): CostChange =>
    ({ before, after, delta: before !== null && after !== null ? (cents(after) - cents(before)) / 100 : null });

/** What explains a tenant's change of cost: a new or removed tenant, or the placement and status fields that price it. */
function costNotes(b: PlanTenant | undefined, h: PlanTenant | undefined): string[] {
    if (!b) return ["new tenant"];
    if (!h) return ["removed"];
    const notes: string[] = [];
    for (const k of ["tier", "size", "region", "cell", "status"] as const) {
        const x = b[k] ?? null;
        const y = h[k] ?? null;
        if (x !== y) notes.push(`${k} ${x ?? "–"} → ${y ?? "–"}`);
    }
    if ((b.connectionLimit ?? null) !== (h.connectionLimit ?? null)) notes.push(`connection limit ${b.connectionLimit ?? "–"} → ${h.connectionLimit ?? "–"}`);
    // Plans written before backups were summarized have none: no note rather than a made-up change.
    if (b.backup !== undefined && h.backup !== undefined) {
        const x = b.backup;
        const y = h.backup;
        if ((x?.policy ?? null) !== (y?.policy ?? null)) notes.push(`backup policy ${x?.policy ?? "–"} → ${y?.policy ?? "–"}`);
        if ((x?.retentionDays ?? null) !== (y?.retentionDays ?? null)) notes.push(`backup retention ${x?.retentionDays ?? "–"} → ${y?.retentionDays ?? "–"} days`);
        if ((x?.copyRegion ?? null) !== (y?.copyRegion ?? null)) notes.push(`backup copy ${x?.copyRegion ?? "–"} → ${y?.copyRegion ?? "–"}`);
    }
    return notes;
}

/** The monthly cost change of a diff, from the plans' estimates (cost/estimate.ts via tools/plan/model.ts). */
export function costDiff(base: Plan, head: Plan): CostDiff {
    const baseTenants = new Map(base.tenants.map((t) => [t.slug, t]));
    const headTenants = new Map(head.tenants.map((t) => [t.slug, t]));
    const estimated = base.cost !== undefined;
    const own = (c: PlanTenant["monthlyCost"]) => (c ? (cents(c.total) - cents(c.apportioned ?? 0)) / 100 : null);
    const tenants: TenantCostChange[] = [];
    const shares: { slug: string; delta: number }[] = [];
    for (const slug of [...new Set([...baseTenants.keys(), ...headTenants.keys()])].sort(compare)) {
        const b = baseTenants.get(slug);
        const h = headTenants.get(slug);
        const c = change(b?.monthlyCost?.total ?? null, h?.monthlyCost?.total ?? null);
        if (!b || !h || !estimated) {
            if (b?.monthlyCost || h?.monthlyCost) tenants.push({ slug, ...c, ...(!b || !h ? { delta: c.after !== null ? c.after : c.before !== null ? -c.before : null } : {}), notes: costNotes(b, h) });
            continue;
        }
        if (c.delta === null || c.delta === 0) continue;
        if (own(b.monthlyCost) !== own(h.monthlyCost)) tenants.push({ slug, ...c, notes: costNotes(b, h) });
        else shares.push({ slug, delta: c.delta });
    }
    return {
        total: change(base.cost?.total ?? null, head.cost?.total ?? null),
        platform: change(base.cost?.platform.total ?? null, head.cost?.platform.total ?? null),
        tenants,
        shareOnly: shares.length
            ? { tenants: shares.map((s) => s.slug), min: Math.min(...shares.map((s) => s.delta)), max: Math.max(...shares.map((s) => s.delta)) }
            : null,
    };
}

function groupByTenant(plan: Plan): Map<string | null, Map<string, PlanResource>> {
    const m = new Map<string | null, Map<string, PlanResource>>();
    for (const r of plan.resources) {
        let g = m.get(r.tenant);
        if (!g) m.set(r.tenant, (g = new Map()));
        g.set(r.urn, r);
    }
    return m;
}

/** Type tokens of the components that hold one placement of a tenant (components/tenant.ts), per tier. */
const PLACEMENT_TYPES: Record<string, string> = {
    shared: "tenancy:tenant:TenantDatabase",
    hybrid: "tenancy:tenant:HybridDatabase",
    dedicated: "tenancy:tenant:DedicatedInstance",
};
/** The deploy runner's access during a move (components/moveAccess.ts): removed with the move. */
const MOVE_ACCESS_TYPE = "tenancy:network:MoveAccess";

/** `shared (cell main)`, `hybrid`, `dedicated (us-east-1)`. */
export function describePlacement(p: MovePlacement): string {
    return p.tier === "shared" ? `shared (cell ${p.cell ?? "?"})` : p.tier === "dedicated" ? `dedicated (${p.region})` : p.tier;
}

/** How head's receipt relates to the move `from` → `to`. */
function receiptOf(receipt: PlanReceipt | undefined, from: MovePlacement, to: MovePlacement): MoveNote["receipt"] {
    if (!receipt) return "none";
    if (!samePlanPlacement(receipt.from, from) || !samePlanPlacement(receipt.to, to)) return "other";
    return receipt.verified ? "verified" : "unverified";
}

const movePlacement = (p: { tier: string; cell?: string | null; region: string }): MovePlacement => ({
    tier: p.tier, ...(p.tier === "shared" && p.cell ? { cell: p.cell } : {}), region: p.region,
});

/**
 * The source placement's components among a tenant's resources: the placement components of the source's tier,
 * except, when the target is of the same type (cell → cell), the target's, which carries the target's label.
 */
function sourceComponents(resources: Iterable<PlanResource>, move: PlanMove, to: MovePlacement, slug: string): Set<string> {
    const type = PLACEMENT_TYPES[move.from.tier];
    const targetSuffix = `-${placementKey({ tier: to.tier as Tier, ...(to.cell ? { cell: to.cell } : {}) })}`;
    const sameType = PLACEMENT_TYPES[to.tier] === type;
    const out = new Set<string>();
    for (const r of resources) {
        if (r.type !== type || !r.name.startsWith(slug)) continue;
        if (sameType && r.name.endsWith(targetSuffix)) continue;
        out.add(r.urn);
    }
    return out;
}

/** True when `urn` is one of `roots` or lies beneath one (by parent, in `resources`). */
function under(urn: string, roots: ReadonlySet<string>, resources: ReadonlyMap<string, PlanResource>): boolean {
    for (let u: string | null | undefined = urn; u; u = resources.get(u)?.parent) if (roots.has(u)) return true;
    return false;
}

/**
 * Diffs `head` against `base`. Resources are matched by URN across the whole stack, so a resource that moves between
 * tenants (it cannot, in practice: names carry the slug) shows as changed under its head tenant.
 */
export function diffPlans(base: Plan, head: Plan): PlanDiff {
    // Plans of two stacks share URNs only by accident of naming: such a "diff" would call every difference a change.
    if (base.stack !== head.stack || base.project !== head.project) {
        throw new Error(`cannot compare plans of different stacks: base is ${base.project}/${base.stack}, head is ${head.project}/${head.stack} (compare two plans of the same stack)`);
    }
    const baseUrns = new Map(base.resources.map((r) => [r.urn, r]));
    const headUrns = new Map(head.resources.map((r) => [r.urn, r]));
    // When the layout changes (single ↔ fleet), resources are matched by identity (the URN without its stack): `fleet
    // adopt` moves them between stacks with `pulumi state move`. What each stack has by construction keeps its URN.
    const layoutChange = layoutOf(base) === layoutOf(head) ? null : { from: layoutOf(base), to: layoutOf(head) };
    const key = (r: PlanResource) => (layoutChange === null || byConstruction(r) ? r.urn : identityOf(r.urn));
    const baseByKey = layoutChange === null ? baseUrns : new Map(base.resources.map((r) => [key(r), r]));
    const headByKey = layoutChange === null ? headUrns : new Map(head.resources.map((r) => [key(r), r]));
    const baseGroups = groupByTenant(base);
    const headGroups = groupByTenant(head);
    const baseTenants = new Map(base.tenants.map((t) => [t.slug, t]));
    const headTenants = new Map(head.tenants.map((t) => [t.slug, t]));

    const ctx: Context = { regions: { base: base.region, head: head.region }, base: baseUrns, head: headUrns };
    // A stack that protects anything is a protected stack (protect: true in its config); dev stacks protect nothing.
    const protectedStack = base.resources.some((r) => r.options.protect);

    const slugs = [...new Set([...baseTenants.keys(), ...headTenants.keys(), ...[...baseGroups.keys(), ...headGroups.keys()].filter((s): s is string => s !== null)])].sort(compare);
    const tenants: TenantDiff[] = [];
    const risks: Risk[] = [];
    const moves: MoveNote[] = [];

    for (const slug of [null, ...slugs]) {
        const b = baseGroups.get(slug) ?? new Map<string, PlanResource>();
        const h = headGroups.get(slug) ?? new Map<string, PlanResource>();
        const bt: PlanTenant | undefined = slug === null ? undefined : baseTenants.get(slug);
        const ht: PlanTenant | undefined = slug === null ? undefined : headTenants.get(slug);
        const inBase = slug !== null && (bt !== undefined || b.size > 0);
        const inHead = slug !== null && (ht !== undefined || h.size > 0);
        const fileDeleted = inBase && !inHead;
        const offboarding = !fileDeleted && ht?.status === "offboarded" && bt?.status !== "offboarded" && bt !== undefined;

        const added = [...h.values()].filter((r) => !baseByKey.has(key(r))).map(ref);
        const removed = [...b.values()].filter((r) => !headByKey.has(key(r))).map(ref);
        const changed: ResourceChange[] = [];
        const unprotected: { ref: ResourceRef; lowered: { path: string; why: string }[] }[] = [];
        for (const after of h.values()) {
            const before = baseByKey.get(key(after));
            if (!before) continue;
            const c = changeOf(before, after, ctx);
            if (c) changed.push(c);
            if (c && protectedStack && isStateful(after.type)) {
                const lowered = loweredProtection(before, after);
                if (lowered.length) unprotected.push({ ref: ref(after), lowered });
            }
        }
        const byTypeName = (x: ResourceRef, y: ResourceRef) => compare(x.type, y.type) || compare(x.name, y.name) || compare(x.urn, y.urn);
        added.sort(byTypeName);
        removed.sort(byTypeName);
        changed.sort(byTypeName);

        const fields = bt && ht ? diffValues(tenantFields(bt), tenantFields(ht)) : [];
        const change: TenantChangeKind =
            slug !== null && !inBase && inHead ? "added" : fileDeleted ? "removed" : added.length || removed.length || changed.length || fields.length ? "changed" : "unchanged";
        // The platform is listed only when something in it changed.
        if (slug !== null || change !== "unchanged") {
            tenants.push({
                slug, change, statusBefore: bt?.status ?? null, statusAfter: ht?.status ?? null, offboarding, fileDeleted, fields, added, removed, changed,
            });
        }

        const who = slug === null ? "platform" : `tenant ${slug}`;
        // A move this change declares, advances or retires: head's if declared there, else base's (being retired).
        const move = ht?.move ?? (ht ? bt?.move : undefined);
        const to = ht ? movePlacement(ht) : undefined;
        let note: MoveNote | undefined;
        let source = new Set<string>();
        let sourceResources = new Map<string, PlanResource>();
        if (slug !== null && move && to && bt) {
            const from = movePlacement(move.from);
            const receipt = receiptOf(ht!.receipt, from, to);
            const retiring = !ht!.move;
            // Retiring keeps the target as it was; a placement changed at the same time is no retirement of this move.
            const sameTarget = samePlanPlacement(placementOf(bt), to);
            if (!retiring || sameTarget) {
                sourceResources = retiring ? b : h;
                source = sourceComponents(sourceResources.values(), move, to, slug);
                if (retiring) for (const r of b.values()) if (r.type === MOVE_ACCESS_TYPE && !h.has(r.urn)) source.add(r.urn);
                const phase: MoveNote["phase"] = retiring ? (receipt === "verified" ? "retired" : "unproven")
                    : !bt.move || !samePlanPlacement(bt.move.from, from) || !samePlanPlacement(placementOf(bt), to) ? "declared"
                        : receipt === "verified" ? "cutover" : "moving";
                const sourceKept = [...h.values()].filter((r) => r.options.protect && under(r.urn, source, h)).length;
                note = {
                    tenant: slug, phase, from, to, receipt, ...(ht!.receipt ? { receiptSummary: ht!.receipt } : {}),
                    added: added.length, removed: removed.length, sourceKept,
                };
                moves.push(note);
            }
        }
        // The source's removal or lowered protection is exempt only with this move's verified receipt in head.
        const exemptByMove = (urn: string) => note !== undefined && note.receipt === "verified" && under(urn, source, sourceResources);
        const ofSource = (urn: string) => note !== undefined && under(urn, source, sourceResources);
        const moveText = note ? `the source placement ${describePlacement(note.from)} of its move to ${describePlacement(note.to)}` : "";
        // A placement change (tier, cell, dedicated region) without a declared move leaves the data behind: say how to declare it.
        const declared = !!ht?.move && !!bt && samePlanPlacement(ht.move.from, placementOf(bt));
        const undeclaredMove = bt && ht && !declared && !samePlanPlacement(placementOf(bt), placementOf(ht)) && !offboarding
            ? `: the tenant moves ${describePlacement(movePlacement(bt))} → ${describePlacement(movePlacement(ht))} without a declared move; ` +
              `declare it (move: { from: { tier: ${bt.tier}${bt.tier === "shared" && bt.cell ? `, cell: ${bt.cell}` : ""}${bt.tier === "dedicated" ? `, region: ${bt.region}${bt.network ? `, network: { cidr: ${bt.network} }` : ""}` : ""} } }) to keep the data and move it with npm run move`
            : "";
        // Declaring a move keeps the source exactly as it is: the file's `move.from` must state what base has (a size
        // left to its default would resize the live source, another CIDR would re-create its VPC).
        if (slug !== null && note?.phase === "declared" && ht?.move && bt && samePlanPlacement(ht.move.from, placementOf(bt))) {
            const wrong = [
                ...(bt.size !== null && (ht.move.from.size ?? null) !== bt.size ? [`move.from.size is ${ht.move.from.size ?? "unset"}, the tenant is ${bt.size}`] : []),
                ...(bt.network !== null && (ht.move.from.network ?? null) !== bt.network ? [`move.from.network.cidr is ${ht.move.from.network ?? "unset"}, the tenant's VPC is ${bt.network}`] : []),
            ];
            if (wrong.length) {
                const component = [...h.values()].find((r) => r.type === TENANT_COMPONENT);
                risks.push({
                    tenant: slug, action: "move", urn: component?.urn ?? "", type: component?.type ?? TENANT_COMPONENT, name: slug, holds: "placement", paths: ["move.from"], exempt: false,
                    reason: `${who}: the declared move's source is not the placement the tenant has: ${wrong.join("; ")}; the deploy would change the live source (state move.from exactly as the file had it)`,
                });
            }
        }
        // While a move is declared and not cut over, the source serves the tenant: what holds its data must not change.
        if (note && (note.phase === "declared" || note.phase === "moving")) {
            for (const c of changed) {
                if (c.effect !== "update" || !isStateful(c.type) || !ofSource(c.urn)) continue;
                // Tags, options and lowered protection are not the data's shape (the last is the unprotect rule's).
                const lowered = new Set(loweredProtection(baseByKey.get(key(headUrns.get(c.urn)!))!, headUrns.get(c.urn)!).map((l) => l.path));
                const paths = c.paths.map((p) => p.path).filter((p) => !/^tags(All)?(\.|$)/.test(p) && !p.startsWith("options.") && !lowered.has(p));
                if (!paths.length) continue;
                risks.push({
                    tenant: slug, action: "update", urn: c.urn, type: c.type, name: c.name, holds: ruleFor(c.type)!.holds, paths, exempt: false,
                    reason: `${who}: ${ruleFor(c.type)!.holds} ${c.name} of ${moveText} would change (${paths.join(", ")}) while the move is under way: the source stays as it was until the move is retired`,
                });
            }
        }
        for (const r of removed) {
            const before = baseUrns.get(r.urn)!;
            // Pulumi refuses to delete a protected resource: the deploy would stop half-way.
            if (before.options.protect) {
                risks.push({
                    tenant: slug, action: "blocked", urn: r.urn, type: r.type, name: r.name, holds: ruleFor(r.type)?.holds ?? r.type, paths: [], exempt: false,
                    reason: `${who}: ${r.name} is protected, so Pulumi refuses to delete it and the deploy stops part-way; lower its protection in one deploy, remove it in the next` +
                        (ofSource(r.urn) ? " (a move's source: commit the verified receipt with move: still declared, deploy, then remove move:)" : ""),
                });
            }
            if (before.inputs["enableDeletionProtection"] === true || before.inputs["deletionProtection"] === true) {
                const lb = r.type === "aws:lb/loadBalancer:LoadBalancer";
                risks.push({
                    tenant: slug, action: "blocked", urn: r.urn, type: r.type, name: r.name, holds: ruleFor(r.type)?.holds ?? r.type, paths: [], exempt: false,
                    reason: `${who}: ${r.name} has deletion protection on, so AWS refuses to delete it and the deploy fails; ` + (lb && slug !== null
                        ? "suspend the tenant first (that deploy turns deletion protection off), then offboard it"
                        : "turn its deletion protection off in one deploy, then remove it in the next"),
                });
            }
            if (!isStateful(r.type)) continue;
            const holds = ruleFor(r.type)!.holds;
            const byMove = !fileDeleted && exemptByMove(r.urn);
            const exempt = offboarding || byMove;
            risks.push({
                tenant: slug, action: "remove", urn: r.urn, type: r.type, name: r.name, holds, paths: [], exempt,
                ...(exempt ? { exemptBy: offboarding ? "offboarding" as const : "move" as const } : {}),
                reason: fileDeleted
                    ? `${who}: tenant file deleted; its ${holds} ${r.name} would be deleted`
                    : byMove
                      ? `${who}: ${holds} ${r.name} is deleted with ${moveText}, retired with this move's verified receipt`
                      : ofSource(r.urn)
                        ? `${who}: ${holds} ${r.name} would be deleted with ${moveText}, without this move's verified receipt in this change ` +
                          `(${note!.receipt === "none" ? "none committed" : note!.receipt === "other" ? "the receipt committed is of another move" : "the committed receipt is not verified"}): ` +
                          "run the move's cutover first and retire by removing move: together with the committed receipt"
                        : `${who}: ${holds} ${r.name} would be deleted${undeclaredMove}`,
            });
        }
        for (const c of changed) {
            const rule = ruleFor(c.type);
            // Replacing what holds no data (a subnet, a DNS record) is shown in the diff but is no data loss.
            if (c.effect === "update" || !rule) continue;
            const holds = rule.holds;
            const paths = c.paths.filter((p) => p.effect === c.effect).map((p) => p.path);
            risks.push({
                tenant: slug, action: c.effect, urn: c.urn, type: c.type, name: c.name, holds, paths, exempt: offboarding, ...(offboarding ? { exemptBy: "offboarding" as const } : {}),
                reason: c.effect === "replace"
                    ? `${who}: ${holds} ${c.name} would be replaced (deleted and created again) because ${paths.join(", ")} changed`
                    : `${who}: ${holds} ${c.name} would be renamed in place because ${paths.join(", ")} changed; everything using the old name breaks`,
            });
        }
        // A shared tenant's schema lives on its cell's cluster: a new cell is a new, empty schema there, the old one stays.
        const cellBefore = bt?.tier === "shared" ? bt.cell : undefined;
        const cellAfter = ht?.tier === "shared" ? ht.cell : undefined;
        // Declared (head's move comes from base's placement): the data engine moves it and the source stays meanwhile.
        if (slug !== null && cellBefore && cellAfter && cellBefore !== cellAfter && !declared) {
            const component = [...h.values()].find((r) => r.type === TENANT_COMPONENT) ?? [...b.values()].find((r) => r.type === TENANT_COMPONENT);
            risks.push({
                tenant: slug, action: "move", urn: component?.urn ?? "", type: component?.type ?? TENANT_COMPONENT, name: slug, holds: "schema", paths: ["cell"], exempt: false,
                reason: `${who}: moves from cell ${cellBefore} to cell ${cellAfter} without a declared move: its data stays on cell ${cellBefore} and an empty schema ` +
                    `is created on cell ${cellAfter}; declare it (move: { from: { tier: shared, cell: ${cellBefore} } }) and move the data with npm run move`,
            });
        }
        for (const { ref: r, lowered } of unprotected) {
            const holds = ruleFor(r.type)!.holds;
            // Offboarding keeps data, so it has no reason to lower its protection; a source whose move is proven does
            // (Pulumi and RDS refuse to delete protected resources when the move is retired).
            const byMove = exemptByMove(r.urn);
            risks.push({
                tenant: slug, action: "unprotect", urn: r.urn, type: r.type, name: r.name, holds, paths: lowered.map((l) => l.path), exempt: byMove,
                ...(byMove ? { exemptBy: "move" as const } : {}),
                reason: `${who}: ${holds} ${r.name} loses protection in a protected stack: ${lowered.map((l) => l.why).join("; ")}` +
                    (byMove ? ` (${moveText}, whose verified receipt is committed)` : ""),
            });
        }
    }
    return {
        base: { project: base.project, stack: base.stack },
        head: { project: head.project, stack: head.stack },
        layoutChange: layoutChange === null ? null : { ...layoutChange, moved: head.resources.filter((r) => !byConstruction(r) && baseByKey.get(key(r))?.stack !== undefined && baseByKey.get(key(r))!.stack !== r.stack).length },
        stacks: stackDiffs(base, head, tenants),
        tenants,
        risks,
        moves,
        guardFires: risks.some((r) => !r.exempt),
        cost: costDiff(base, head),
    };
}
