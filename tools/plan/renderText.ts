/** The plan as plain text: the default output of `npm run plan`. */
import { countByType, resourcesOf, totals, type Plan, type PlanResource, type PlanStack, type PlanTenant } from "./model";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** USD as `$1,234.56` (`-$12.00`). */
export function money(n: number): string {
    const abs = Math.abs(n).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return `${n < 0 ? "-" : ""}$${abs}`;
}

/** `rds/instance` of `aws:rds/instance:Instance`: short, and still tells an RDS instance from an EC2 one. */
export function shortType(type: string): string {
    return type.split(":")[1] ?? type;
}

/** A cost's types, dearest first: `rds/instance $397.12, ecs/service $82.90, and 6 more`. */
export function typeSummary(byType: Record<string, number>, max = 3): string {
    const rows = Object.entries(byType).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
    const shown = rows.slice(0, max).map(([t, v]) => `${shortType(t)} ${money(v)}`).join(", ");
    return rows.length > max ? `${shown} and ${rows.length - max} more` : shown;
}

/**
 * A tenant's monthly cost in one line, or undefined for a plan written before costs existed. `platformPlanned` false:
 * the plan (one stack of a fleet) holds no platform, so the tenant's share is not known.
 */
export function costLine(t: PlanTenant, platformPlanned = true): string | undefined {
    const c = t.monthlyCost;
    if (!c) return undefined;
    const share = c.apportioned ?? 0;
    const own = Math.round((c.total - share) * 100) / 100;
    const parts = [`own ${money(own)}${Object.keys(c.byType).length ? `: ${typeSummary(c.byType)}` : ""}`];
    if (!platformPlanned && (c.weight ?? 0) > 0) parts.push("platform share: not in this plan");
    else if (share > 0 || (c.weight ?? 0) > 0) parts.push(`platform share ${money(share)} (weight ${c.weight ?? 0})`);
    return `monthly cost: ${money(c.total)} (${parts.join("; ")})`;
}

/** Types the estimate could not price, one line each; empty when everything was priced. */
export function unpricedLines(unpriced: Record<string, string> | undefined): string[] {
    return Object.entries(unpriced ?? {}).map(([type, why]) => `unpriced: ${type} (${why})`);
}

/** The platform's cost and where it went, then the environment's total and what it rests on; empty without an estimate. */
export function platformCostLines(plan: Plan): string[] {
    const c = plan.cost;
    if (!c) return [];
    const p = c.platform;
    const pools = (p.pools ?? []).map((x) => `${x.pool} ${money(x.amount)} → ${x.tenants.length ? x.tenants.join(", ") : "nobody (unapportioned)"}`);
    if (c.platformPlanned === false) {
        const env = plan.stack.split(".")[0];
        return [
            `Platform monthly cost: not in this plan (plan the environment, e.g. --stack ${env}, for the platform and every tenant's share)`,
            `Monthly cost (estimate): ${money(c.total)} for this stack's own resources: AWS list prices of ${c.pricesAsOf} (cost/prices.json; no discounts, free tier or taxes).`,
        ];
    }
    return [
        `Platform monthly cost: ${money(p.total)}${Object.keys(p.byType).length ? ` (${typeSummary(p.byType, 5)})` : ""}`,
        ...(pools.length ? [`  apportioned by weight (connection limits; hybrid tenants ${c.assumptions.apportion.hybridWeight ?? "20"}): ${pools.join("; ")}`] : []),
        ...unpricedLines(p.unpriced).map((l) => `  ${l}`),
        `Monthly cost (estimate): ${money(c.total)} for the plan's stacks: AWS list prices of ${c.pricesAsOf} (cost/prices.json; no discounts, free tier or taxes), ` +
            "usage as assumed by tenancy:cost (README \"Cost\").",
    ];
}

/** Per type: count, type token and how many are protected; right-aligned counts. */
function typeLines(resources: readonly PlanResource[], indent: string): string[] {
    const rows = countByType(resources);
    const width = Math.max(1, ...rows.map((r) => String(r.count).length));
    return rows.map((r) => `${indent}${String(r.count).padStart(width)}  ${r.type}${r.protected ? `  (${r.protected} protected)` : ""}`);
}

/** One line on where a tenant runs, e.g. `dedicated · eu-west-1 · own VPC 10.20.0.0/16 · size small`. */
export function placement(t: PlanTenant): string {
    if (t.tier === "shared") return t.cell ? `schema on the shared cluster of cell ${t.cell}` : "schema on the shared cluster";
    if (t.tier === "hybrid") return `own RDS instance in the shared VPC (size ${t.size ?? "small"})`;
    return `own VPC ${t.network ?? "?"} in ${t.region} (size ${t.size ?? "small"})`;
}

/** `shared (cell main)`, `dedicated (us-east-1)`; a receipt's side without placement fields (explicit URLs) by its server. */
function side(p: { tier?: string; cell?: string; region?: string; server?: string }): string {
    if (!p.tier) return p.server ?? "?";
    return p.tier === "shared" ? `shared (cell ${p.cell ?? "?"})` : p.tier === "dedicated" ? `dedicated (${p.region ?? "?"})` : p.tier;
}

/**
 * A tenant's move in one line, or undefined: where its data comes from and what the registry serves, or the last move's
 * receipt. E.g. `moving from shared (cell main): kept and served until cutover; no verified receipt of this move yet`.
 */
export function moveLine(t: PlanTenant): string | undefined {
    if (t.move) {
        const from = side(t.move.from);
        return t.move.cutover
            ? `moving from ${from}: cut over (this move's verified receipt is committed), the source kept read-only until the move is retired`
            : `moving from ${from}: kept and served until cutover; no verified receipt of this move yet`;
    }
    const r = t.receipt;
    if (r) return `last move: ${side(r.from)} → ${side(r.to)}, ${r.verified ? "verified" : "NOT verified"}, finished ${r.finishedAt} (write pause ${r.writePauseMs} ms)`;
    return undefined;
}

function tenantBlock(plan: Plan, t: PlanTenant): string[] {
    const resources = resourcesOf(plan, t.slug);
    const move = moveLine(t);
    return [
        `${t.slug} — ${t.displayName}`,
        `  tier ${t.tier} · region ${t.region} · status ${t.status} · release ${t.releaseVersion}`,
        `  placement: ${placement(t)}`,
        ...(move ? [`  move: ${move}`] : []),
        `  hosts: ${t.hostnames.join(", ")}`,
        ...(costLine(t, plan.cost?.platformPlanned !== false) ? [`  ${costLine(t, plan.cost?.platformPlanned !== false)}`] : []),
        ...unpricedLines(t.monthlyCost?.unpriced).map((l) => `  ${l}`),
        `  ${plural(t.resourceCount, "resource")}, ${t.protectedCount} protected:`,
        ...typeLines(resources, "    "),
    ];
}

/** `prod.cell-b (cell)`, `prod.tyrell (tenant tyrell)`. */
export function stackTitle(s: PlanStack): string {
    return `${s.name} (${s.role}${s.role === "tenant" ? ` ${s.tenants.join(", ")}` : ""})`;
}

/** A fleet's stacks, each with what it declares outside tenants, then its tenants. */
function stackBlocks(plan: Plan): string[] {
    const lines: string[] = [];
    const tenants = new Map(plan.tenants.map((t) => [t.slug, t]));
    for (const s of plan.stacks) {
        const mine = plan.resources.filter((r) => r.stack === s.name);
        const own = mine.filter((r) => r.tenant === null);
        const st = totals(mine);
        lines.push(`Stack ${stackTitle(s)}: ${plural(st.resources, "resource")}, ${st.protected} protected`);
        if (own.length > 0) lines.push(`  ${s.role === "tenant" ? "stack and references" : "declared outside tenants"}: ${plural(own.length, "resource")}:`, ...typeLines(own, "    "));
        for (const slug of s.tenants) {
            const t = tenants.get(slug);
            if (t) lines.push(...tenantBlock(plan, t).map((l) => `  ${l}`));
        }
        lines.push("");
    }
    return lines;
}

export function renderText(plan: Plan): string {
    const all = totals(plan.resources);
    const platform = resourcesOf(plan, null);
    const pt = totals(platform);
    const byTier = (tier: string) => plan.tenants.filter((t) => t.tier === tier).length;
    const byStatus = (status: string) => plan.tenants.filter((t) => t.status === status).length;
    // Grouped by stack for a fleet, and for one stack of it (a tenant stack has no platform of its own).
    const fleet = plan.stacks.length > 1 || plan.stacks.some((s) => s.role !== "platform");
    const lines = [
        `Offline plan of stack ${plan.stack} (project ${plan.project}, ${plan.region}): ${fleet ? `${plural(plan.stacks.length, "stack")}, ` : ""}` +
            `${plural(plan.tenants.length, "tenant")}, ${plural(all.resources, "resource")}, ${all.protected} protected`,
        "",
    ];
    if (fleet) lines.push(...stackBlocks(plan));
    else {
        for (const t of plan.tenants) lines.push(...tenantBlock(plan, t), "");
        lines.push(`Platform (shared side and stack): ${plural(pt.resources, "resource")}, ${pt.protected} protected:`, ...typeLines(platform, "    "), "");
    }
    const cost = platformCostLines(plan);
    if (cost.length) lines.push(...cost, "");
    lines.push(
        `Totals: ${plural(plan.tenants.length, "tenant")} (${byTier("shared")} shared, ${byTier("hybrid")} hybrid, ${byTier("dedicated")} dedicated; ` +
            `${byStatus("active")} active, ${byStatus("suspended")} suspended, ${byStatus("offboarded")} offboarded)`,
        `        ${plural(all.resources, "resource")} (${all.custom} cloud resources, ${all.resources - all.custom} components), ${all.protected} protected`,
        "",
        "Declared by the program under mocks: no credentials, no cloud calls. Run `pulumi preview` for what differs from the live stack.",
    );
    return `${lines.join("\n")}\n`;
}
