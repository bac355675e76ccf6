/**
 * CloudWatch dashboard bodies as plain data (the `DashboardBody` JSON of PutDashboard): a tenant's own and the
 * environment's fleet overview. Pure: resolved names and identifiers in, the body out.
 */
import type { Tier } from "../tenants/schema";
import { APP_DIMENSIONS, APP_METRICS, APP_METRICS_NAMESPACE, tenantLogQuery } from "./monitoring";

/** An alarm status widget shows at most this many alarms. */
export const ALARMS_PER_WIDGET = 100;
/** The fleet overview lists at most this many alarm widgets and tenant rows; beyond, it says how to list the rest. */
export const MAX_OVERVIEW_ALARM_WIDGETS = 20;
export const MAX_OVERVIEW_TENANT_ROWS = 300;

type Widget = Record<string, unknown>;
export interface DashboardBody {
    widgets: Widget[];
}

/** What a tenant's dashboard shows, resolved. */
export interface TenantDashboardInput {
    env: string;
    slug: string;
    displayName: string;
    tier: Tier;
    status: string;
    releaseVersion: string;
    /** Where the dashboard lives (the live placement's region); each widget names its own region. */
    region: string;
    /** ARNs of the tenant's alarms. */
    alarmArns: string[];
    /** The shared app serves the tenant: its per-tenant metrics, in that region. */
    app?: { region: string };
    placements: {
        label: string;
        region: string;
        database?: { identifier: string };
        loadBalancer?: { loadBalancer: string; targetGroup: string };
        service?: { cluster: string; service: string };
    }[];
    /** The tenant's log lines: the shared app's group filtered by tenant, or a dedicated service's own group. */
    logs?: { region: string; logGroupName: string; filterByTenant: boolean };
}

/** Lays widgets out in a 24-column grid: full-width ones on their own row, the others two per row. */
function layout(widgets: { widget: Widget; full?: boolean; height?: number }[]): Widget[] {
    const out: Widget[] = [];
    let x = 0;
    let y = 0;
    let rowHeight = 0;
    for (const { widget, full, height = 6 } of widgets) {
        const width = full ? 24 : 12;
        if (x + width > 24) {
            y += rowHeight;
            x = 0;
            rowHeight = 0;
        }
        out.push({ ...widget, x, y, width, height });
        x += width;
        rowHeight = Math.max(rowHeight, height);
        if (x >= 24) {
            y += rowHeight;
            x = 0;
            rowHeight = 0;
        }
    }
    return out;
}

function metricWidget(title: string, region: string, metrics: unknown[][], extra: Record<string, unknown> = {}): Widget {
    return { type: "metric", properties: { title, region, view: "timeSeries", stacked: false, period: 60, metrics, ...extra } };
}

function suffix(label: string): string {
    return label ? ` (${label})` : "";
}

export function tenantDashboard(d: TenantDashboardInput): DashboardBody {
    const w: { widget: Widget; full?: boolean; height?: number }[] = [];
    w.push({
        full: true,
        height: 2,
        widget: { type: "text", properties: { markdown: `# ${d.displayName} (${d.slug})\n${d.tier} · ${d.status} · release ${d.releaseVersion} · environment ${d.env}` } },
    });
    if (d.alarmArns.length) {
        w.push({ full: true, height: 4, widget: { type: "alarm", properties: { title: `Alarms of ${d.slug}`, alarms: d.alarmArns.slice(0, ALARMS_PER_WIDGET) } } });
    }
    if (d.app) {
        const dims = [APP_DIMENSIONS[0], d.env, APP_DIMENSIONS[1], d.slug];
        w.push({ widget: metricWidget("Requests and 5xx (shared app)", d.app.region, [[APP_METRICS_NAMESPACE, APP_METRICS.requests, ...dims, { stat: "Sum" }], [APP_METRICS_NAMESPACE, APP_METRICS.errors, ...dims, { stat: "Sum" }]]) });
        w.push({ widget: metricWidget("Latency p99, ms (shared app)", d.app.region, [[APP_METRICS_NAMESPACE, APP_METRICS.latency, ...dims, { stat: "p99" }]]) });
        w.push({ widget: metricWidget("Database connections (shared app)", d.app.region, [[APP_METRICS_NAMESPACE, APP_METRICS.connections, ...dims, { stat: "Sum" }]]) });
    }
    for (const p of d.placements) {
        if (p.loadBalancer) {
            const lb = ["LoadBalancer", p.loadBalancer.loadBalancer];
            const tg = [...lb, "TargetGroup", p.loadBalancer.targetGroup];
            w.push({ widget: metricWidget(`Load balancer requests and 5xx${suffix(p.label)}`, p.region, [
                ["AWS/ApplicationELB", "RequestCount", ...lb, { stat: "Sum" }],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ...lb, { stat: "Sum" }],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ...lb, { stat: "Sum" }],
            ]) });
            w.push({ widget: metricWidget(`Target response time p99, s${suffix(p.label)}`, p.region, [["AWS/ApplicationELB", "TargetResponseTime", ...tg, { stat: "p99" }]]) });
            w.push({ widget: metricWidget(`Healthy and unhealthy targets${suffix(p.label)}`, p.region, [
                ["AWS/ApplicationELB", "HealthyHostCount", ...tg, { stat: "Minimum" }],
                ["AWS/ApplicationELB", "UnHealthyHostCount", ...tg, { stat: "Maximum" }],
            ]) });
        }
        if (p.service) {
            const svc = ["ClusterName", p.service.cluster, "ServiceName", p.service.service];
            w.push({ widget: metricWidget(`Service CPU and memory, %${suffix(p.label)}`, p.region, [
                ["AWS/ECS", "CPUUtilization", ...svc, { stat: "Average" }],
                ["AWS/ECS", "MemoryUtilization", ...svc, { stat: "Average" }],
            ], { period: 300 }) });
        }
        if (p.database) {
            const db = ["DBInstanceIdentifier", p.database.identifier];
            w.push({ widget: metricWidget(`Database CPU, %${suffix(p.label)}`, p.region, [["AWS/RDS", "CPUUtilization", ...db, { stat: "Average" }]], { period: 300 }) });
            w.push({ widget: metricWidget(`Database free storage, bytes${suffix(p.label)}`, p.region, [["AWS/RDS", "FreeStorageSpace", ...db, { stat: "Minimum" }]], { period: 300 }) });
            w.push({ widget: metricWidget(`Database connections${suffix(p.label)}`, p.region, [["AWS/RDS", "DatabaseConnections", ...db, { stat: "Maximum" }]], { period: 300 }) });
        }
    }
    if (d.logs) {
        w.push({
            full: true,
            widget: {
                type: "log",
                properties: {
                    title: `Log lines of ${d.slug}`,
                    region: d.logs.region,
                    view: "table",
                    query: `SOURCE '${d.logs.logGroupName}' | ${tenantLogQuery(d.slug, d.logs.filterByTenant)}`,
                },
            },
        });
    }
    return { widgets: layout(w) };
}

/** One tenant's row of the fleet overview. */
export interface OverviewTenant {
    slug: string;
    tier: Tier;
    status: string;
    region: string;
    releaseVersion: string;
    /** Its dashboard (absent for an offboarded tenant). */
    dashboard?: { name: string; region: string };
}

export interface FleetOverviewInput {
    env: string;
    /** The environment's region: where the overview lives and the shared app's metrics are. */
    region: string;
    tenants: OverviewTenant[];
    /** Every tenant alarm of the environment, in name order. */
    alarmArns: string[];
    /** Console host of the partition, for the links to tenant dashboards. Defaults to console.aws.amazon.com. */
    consoleHost?: string;
}

/** The environment's overview: tenants by tier and status, each with its version and dashboard, and every tenant alarm. */
export function fleetOverviewDashboard(d: FleetOverviewInput): DashboardBody {
    const w: { widget: Widget; full?: boolean; height?: number }[] = [];
    const tiers: Tier[] = ["shared", "hybrid", "dedicated"];
    const statuses = ["active", "suspended", "offboarded"];
    const count = (tier: Tier, status: string) => d.tenants.filter((t) => t.tier === tier && t.status === status).length;
    const summary = [
        `# Tenants of ${d.env}: ${d.tenants.length}`,
        "",
        `| tier | ${statuses.join(" | ")} |`,
        `|---|${statuses.map(() => "---").join("|")}|`,
        ...tiers.map((tier) => `| ${tier} | ${statuses.map((s) => count(tier, s)).join(" | ")} |`),
    ].join("\n");
    w.push({ full: true, height: 5, widget: { type: "text", properties: { markdown: summary } } });

    const host = d.consoleHost ?? "console.aws.amazon.com";
    const rows = [...d.tenants].sort((a, b) => a.tier.localeCompare(b.tier) || a.slug.localeCompare(b.slug));
    const shown = rows.slice(0, MAX_OVERVIEW_TENANT_ROWS);
    const table = [
        "| tenant | tier | status | region | release | dashboard |",
        "|---|---|---|---|---|---|",
        ...shown.map((t) => `| ${t.slug} | ${t.tier} | ${t.status} | ${t.region} | ${t.releaseVersion} | ${t.dashboard
            ? `[${t.dashboard.name}](https://${host}/cloudwatch/home?region=${t.dashboard.region}#dashboards:name=${t.dashboard.name})` : "-"} |`),
        ...(rows.length > shown.length ? [`\n${rows.length - shown.length} more: \`npm run validate -- --stack ${d.env}\` lists every tenant.`] : []),
    ].join("\n");
    w.push({ full: true, height: Math.min(24, 2 + shown.length), widget: { type: "text", properties: { markdown: table } } });

    w.push({
        full: true,
        widget: metricWidget("5xx responses per tenant (shared app)", d.region, [[{
            expression: `SEARCH('{${APP_METRICS_NAMESPACE},${APP_DIMENSIONS.join(",")}} MetricName="${APP_METRICS.errors}" ${APP_DIMENSIONS[0]}="${d.env}"', 'Sum', 300)`,
            id: "errors",
        }]], { period: 300 }),
    });

    const chunks: string[][] = [];
    for (let i = 0; i < d.alarmArns.length; i += ALARMS_PER_WIDGET) chunks.push(d.alarmArns.slice(i, i + ALARMS_PER_WIDGET));
    chunks.slice(0, MAX_OVERVIEW_ALARM_WIDGETS).forEach((alarms, i) => {
        w.push({ full: true, height: 6, widget: { type: "alarm", properties: { title: `Tenant alarms${chunks.length > 1 ? ` (${i + 1}/${chunks.length})` : ""}`, alarms, sortBy: "stateUpdatedTimestamp" } } });
    });
    if (chunks.length > MAX_OVERVIEW_ALARM_WIDGETS) {
        const left = d.alarmArns.length - MAX_OVERVIEW_ALARM_WIDGETS * ALARMS_PER_WIDGET;
        w.push({ full: true, height: 2, widget: { type: "text", properties: { markdown: `${left} more alarms: the CloudWatch alarms list filtered by \`tenancy-${d.env}-\` shows them all.` } } });
    }
    return { widgets: layout(w) };
}

/** An alarm's ARN from its name (what a dashboard lists). */
export function alarmArn(partition: string, region: string, account: string, name: string): string {
    return `arn:${partition}:cloudwatch:${region}:${account}:alarm:${name}`;
}
