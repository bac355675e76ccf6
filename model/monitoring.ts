/**
 * What is monitored of a tenant, as plain data: which alarms exist (their names, regions and thresholds), where its
 * dashboard and saved log query live, and the contracts the shared app follows (its per-tenant metrics and
 * structured logs, docs/monitoring.md). The tenant's stack declares exactly this plan (components/tenantMonitoring.ts)
 * and the platform's fleet overview lists the same alarms by name, so both agree without reading each other.
 */
import { placementThresholds, type ThresholdSet, type Thresholds } from "../stacks/monitoringConfig";
import type { Placement, Tenant } from "../tenants/registry";
import type { Tier } from "../tenants/schema";
import { maxConnectionsForMemory, INSTANCE_CLASS_MEMORY_GIB } from "../tenants/capacity";

/** CloudWatch namespace of the shared app's per-tenant metrics (embedded metric format, docs/monitoring.md). */
export const APP_METRICS_NAMESPACE = "Tenancy/App";
/** The app's metrics: requests served, of them 5xx responses, response time, and open database connections. */
export const APP_METRICS = { requests: "RequestCount", errors: "Errors", latency: "Latency", connections: "DbConnections" } as const;
/** Dimension set of every app metric, in this order: the environment's name and the tenant's slug. */
export const APP_DIMENSIONS = ["Environment", "Tenant"] as const;
/** A rate alarm counts a minute only when it saw at least this many requests: one failed request of two is no outage. */
export const MIN_REQUESTS_PER_MINUTE = 10;
/** The field of the shared app's JSON log lines that names the tenant (docs/monitoring.md). */
export const LOG_TENANT_FIELD = "tenant";

/**
 * Every alarm kind, its name's `<what>`. No kind is another's tail after a `-` (so `tenancy-<env>-<slug>-<what>` never
 * reads as another tenant's name: tenant `acme-app` cannot produce an alarm tenant `acme` also has).
 */
export const ALARM_KINDS = [
    "app-errors", "app-latency-p99", "app-connections",
    "alb-5xx", "alb-latency-p99", "alb-no-healthy-targets", "alb-unhealthy-targets", "ecs-cpu", "ecs-memory",
    "db-cpu", "db-free-storage", "db-connections",
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

/** `tenancy-<env>-<slug>-<what>`, with `-<label>` at the end for a moved placement's alarms (both placements are monitored). */
export function alarmName(env: string, slug: string, kind: AlarmKind, label = ""): string {
    return `tenancy-${env}-${slug}-${kind}${label ? `-${label}` : ""}`;
}

/** The tenant's dashboard, `tenancy-<env>-<slug>` (dashboard names: letters, digits, `-` and `_`). */
export function dashboardName(env: string, slug: string): string {
    return `tenancy-${env}-${slug}`;
}

/** The saved Logs Insights query of the tenant, in the console's folder `tenancy/<env>`. */
export function queryName(env: string, slug: string): string {
    return `tenancy/${env}/${slug}/app-logs`;
}

/** The environment's alarm topic in each region: `tenancy-<env>-alarms`; a tenant's own (its contact's) `tenancy-<env>-<slug>-alarms`. */
export function alarmTopicName(env: string, slug?: string): string {
    return slug ? `tenancy-${env}-${slug}-alarms` : `tenancy-${env}-alarms`;
}

/** One placement of the tenant as monitoring sees it. */
export interface MonitoredPlacement {
    /** "" for a tenant that never moved; a move's target keeps its label (tenants/moves.ts). */
    label: string;
    tier: Tier;
    region: string;
    /** Hybrid and dedicated: its size preset's name (its thresholds' set). */
    size?: Placement["size"];
    /** The source of a move whose cutover is committed: it serves no one and is to be removed. */
    retiring: boolean;
    /** A dedicated placement whose service takes traffic: the tenant is active and the placement not retiring. */
    serving: boolean;
    thresholds: Thresholds;
}

export interface PlannedAlarm {
    kind: AlarmKind;
    name: string;
    region: string;
    /** The placement it watches (its label), or undefined for the shared app's alarms of the tenant. */
    placement?: string;
    /** In the threshold's own unit (percent, seconds, count); components turn percentages of storage or connections into absolute values. */
    threshold: number;
}

export interface MonitoringPlan {
    placements: MonitoredPlacement[];
    /** The label of the placement that serves the tenant (the source until a declared move's cutover). */
    live: string;
    /** The shared app serves the tenant (its live placement is shared or hybrid, and it is active): its per-tenant metrics. */
    app?: { region: string; thresholds: Thresholds; /** A shared live placement: its runtime role's connection limit. */ connectionLimit?: number };
    alarms: PlannedAlarm[];
    dashboard: { name: string; region: string };
    /** The saved log query: over the shared app's log group (shared, hybrid) or the tenant's own service (dedicated). */
    query: { name: string; region: string };
}

/** The threshold set of a placement: `shared`, or its size preset. */
function setOf(p: { tier: Tier; size?: Placement["size"] }): ThresholdSet {
    return p.tier === "shared" ? "shared" : (p.size ?? "small");
}

/**
 * What is monitored of `tenant` in environment `env`; undefined for an offboarded tenant (nothing serves, its kept
 * data does not change). Both placements of a declared move are monitored, the source under its own label.
 */
export function monitoringPlan(env: string, tenant: Tenant, sets: Record<ThresholdSet, Thresholds>): MonitoringPlan | undefined {
    if (tenant.status === "offboarded") return undefined;
    const overrides = tenant.monitoring?.thresholds ?? {};
    const active = tenant.status === "active";
    const move = tenant.move;
    const place = (p: Omit<Placement, "network" | "cell">, retiring: boolean): MonitoredPlacement => ({
        label: p.label,
        tier: p.tier,
        region: p.region,
        ...(p.size !== undefined ? { size: p.size } : {}),
        retiring,
        serving: p.tier === "dedicated" && active && !retiring,
        thresholds: placementThresholds(sets, setOf(p), overrides),
    });
    const current = place({ tier: tenant.tier, region: tenant.region, ...(tenant.size ? { size: tenant.size } : {}), label: tenant.label ?? "" }, false);
    const source = move ? place(move.from, move.cutover) : undefined;
    const placements = source ? [source, current] : [current];
    // Whose traffic the app serves: the source until the move's cutover is committed.
    const live = source && !move!.cutover ? source : current;
    const app = active && live.tier !== "dedicated"
        ? { region: live.region, thresholds: live.thresholds, ...(live.tier === "shared" ? { connectionLimit: tenant.database.connectionLimit } : {}) }
        : undefined;

    const alarms: PlannedAlarm[] = [];
    const add = (kind: AlarmKind, region: string, threshold: number, placement?: MonitoredPlacement) =>
        alarms.push({ kind, name: alarmName(env, tenant.slug, kind, placement?.label), region, threshold, ...(placement ? { placement: placement.label } : {}) });
    if (app) {
        add("app-errors", app.region, app.thresholds.errorRatePercent);
        add("app-latency-p99", app.region, app.thresholds.latencyP99Seconds);
        if (app.connectionLimit !== undefined) add("app-connections", app.region, app.thresholds.tenantConnectionsPercent);
    }
    for (const p of placements) {
        const t = p.thresholds;
        if (p.serving) {
            add("alb-5xx", p.region, t.errorRatePercent, p);
            add("alb-latency-p99", p.region, t.latencyP99Seconds, p);
            // A service with no healthy target trips none of the others at low traffic (UnHealthyHostCount is 0 with no targets).
            add("alb-no-healthy-targets", p.region, 1, p);
            add("alb-unhealthy-targets", p.region, t.unhealthyTargets, p);
            add("ecs-cpu", p.region, t.serviceCpuPercent, p);
            add("ecs-memory", p.region, t.serviceMemoryPercent, p);
        }
        // A database holds data whatever serves: watched while the placement exists. No ReplicaLag: no placement has read replicas.
        if (p.tier !== "shared") {
            add("db-cpu", p.region, t.dbCpuPercent, p);
            add("db-free-storage", p.region, t.dbFreeStoragePercent, p);
            add("db-connections", p.region, t.dbConnectionsPercent, p);
        }
    }
    return {
        placements,
        live: live.label,
        ...(app ? { app } : {}),
        alarms,
        dashboard: { name: dashboardName(env, tenant.slug), region: live.region },
        query: { name: queryName(env, tenant.slug), region: live.region },
    };
}

/**
 * `max_connections` of an RDS for PostgreSQL instance of `instanceClass` with the default parameter group:
 * LEAST({DBInstanceClassMemory/9531392}, 5000). An unknown class counts as the smallest (4 GiB), so its alarm fires early, not late.
 */
export function instanceMaxConnections(instanceClass: string): number {
    return maxConnectionsForMemory(INSTANCE_CLASS_MEMORY_GIB[instanceClass] ?? 4);
}

/**
 * Free storage (bytes) below which a database alarms: `percent` of the preset's allocated storage. Absolute, as
 * FreeStorageSpace is: the volume only grows, so under autoscaling's trigger (10%) it means autoscaling did not act.
 */
export function freeStorageThresholdBytes(percent: number, allocatedStorageGb: number): number {
    return Math.floor((percent / 100) * allocatedStorageGb * 1024 ** 3);
}

/** Connections above which a database alarms: `percent` of what its class allows. */
export function connectionsThreshold(percent: number, instanceClass: string): number {
    return Math.floor((percent / 100) * instanceMaxConnections(instanceClass));
}

/** The Logs Insights query of one tenant's lines in the shared app's log group (the app's JSON log contract). */
export function tenantLogQuery(slug: string, filterByTenant: boolean): string {
    return [
        "fields @timestamp, level, msg, status, method, path, durationMs, requestId",
        ...(filterByTenant ? [`filter ${LOG_TENANT_FIELD} = "${slug}"`] : []),
        "sort @timestamp desc",
        "limit 200",
    ].join("\n| ");
}
