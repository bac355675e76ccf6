/** The pure decisions of monitoring (model/monitoring.ts, model/dashboards.ts), without the engine. */
import { describe, expect, it } from "vitest";
import { ALARMS_PER_WIDGET, fleetOverviewDashboard, MAX_OVERVIEW_ALARM_WIDGETS } from "../../model/dashboards";
import { ALARM_KINDS, alarmName, instanceMaxConnections, monitoringPlan } from "../../model/monitoring";
import { DEFAULT_THRESHOLDS } from "../../stacks/monitoringConfig";
import { maxConnectionsForMemory } from "../../tenants/capacity";
import type { Tenant } from "../../tenants/registry";

const tenant = (over: Partial<Tenant>): Tenant => ({
    slug: "acme", displayName: "Acme", tier: "shared", status: "active", region: "us-east-1", subdomain: "acme", hostnames: ["acme.example.com"],
    customDomains: [], cell: "main", release: { channel: "stable", version: "1.0.0" }, features: [], branding: {},
    database: { backupRetentionDays: 7, connectionLimit: 20, statementTimeoutSeconds: 30 }, tags: {}, file: "tenants/test/acme.yaml", ...over,
});

describe("alarm names", () => {
    it("no kind is the tail of another kind or of a labelled name after a '-', so a name never reads as another tenant's", () => {
        const labels = ["", "hybrid", "dedicated", "shared-main", "shared-b"];
        const whats = ALARM_KINDS.flatMap((k) => labels.map((l) => (l ? `${k}-${l}` : k)));
        for (const w of whats) {
            const parts = w.split("-");
            for (let i = 1; i < parts.length; i++) expect(whats, w).not.toContain(parts.slice(i).join("-"));
        }
        expect(alarmName("prod", "acme", "db-cpu")).toBe("tenancy-prod-acme-db-cpu");
        expect(alarmName("prod", "acme", "db-cpu", "dedicated")).toBe("tenancy-prod-acme-db-cpu-dedicated");
    });
});

describe("monitoringPlan", () => {
    const sets = DEFAULT_THRESHOLDS;

    it("a move hybrid → dedicated before its cutover: the app still serves from the source; both databases and the target's service are watched", () => {
        const plan = monitoringPlan("prod", tenant({
            tier: "dedicated", size: "large", region: "eu-west-1", label: "dedicated", cell: undefined,
            move: { from: { tier: "hybrid", region: "us-east-1", size: "small", label: "" }, cutover: false },
        }), sets)!;
        expect(plan.live).toBe("");
        expect(plan.dashboard.region).toBe("us-east-1");
        expect(plan.alarms.map((a) => a.name)).toEqual([
            "tenancy-prod-acme-app-errors", "tenancy-prod-acme-app-latency-p99",
            "tenancy-prod-acme-db-cpu", "tenancy-prod-acme-db-free-storage", "tenancy-prod-acme-db-connections",
            "tenancy-prod-acme-alb-5xx-dedicated", "tenancy-prod-acme-alb-latency-p99-dedicated", "tenancy-prod-acme-alb-no-healthy-targets-dedicated",
            "tenancy-prod-acme-alb-unhealthy-targets-dedicated",
            "tenancy-prod-acme-ecs-cpu-dedicated", "tenancy-prod-acme-ecs-memory-dedicated",
            "tenancy-prod-acme-db-cpu-dedicated", "tenancy-prod-acme-db-free-storage-dedicated", "tenancy-prod-acme-db-connections-dedicated",
        ]);
        // Each placement's thresholds are its own preset's: the large target is held to a faster p99.
        expect(plan.alarms.find((a) => a.kind === "alb-latency-p99")!.threshold).toBe(1);
        expect(plan.alarms.find((a) => a.kind === "app-latency-p99")!.threshold).toBe(2);
        expect(plan.alarms.filter((a) => a.placement === "dedicated").every((a) => a.region === "eu-west-1")).toBe(true);
    });

    it("after the cutover the retiring dedicated source keeps only its database's alarms; the app serves the target", () => {
        const plan = monitoringPlan("prod", tenant({
            tier: "shared", label: "shared-main",
            move: { from: { tier: "dedicated", region: "eu-west-1", size: "small", label: "" }, cutover: true },
        }), sets)!;
        expect(plan.live).toBe("shared-main");
        expect(plan.alarms.map((a) => a.name)).toEqual([
            "tenancy-prod-acme-app-errors", "tenancy-prod-acme-app-latency-p99", "tenancy-prod-acme-app-connections",
            "tenancy-prod-acme-db-cpu", "tenancy-prod-acme-db-free-storage", "tenancy-prod-acme-db-connections",
        ]);
    });

    it("an offboarded tenant is not monitored", () => {
        expect(monitoringPlan("prod", tenant({ status: "offboarded" }), sets)).toBeUndefined();
    });
});

describe("instanceMaxConnections", () => {
    it("follows the class's memory (RDS's default formula); an unknown class counts as the smallest, so its alarm fires early", () => {
        expect(instanceMaxConnections("db.r6g.large")).toBe(maxConnectionsForMemory(16));
        expect(instanceMaxConnections("db.x9z.huge")).toBe(maxConnectionsForMemory(4));
    });
});

describe("fleetOverviewDashboard", () => {
    it(`lists alarms ${ALARMS_PER_WIDGET} to a widget, at most ${MAX_OVERVIEW_ALARM_WIDGETS} widgets, then says how many more and where to see them`, () => {
        const arns = Array.from({ length: ALARMS_PER_WIDGET * MAX_OVERVIEW_ALARM_WIDGETS + 7 }, (_, i) => `arn:aws:cloudwatch:us-east-1:1:alarm:a${i}`);
        const body = fleetOverviewDashboard({ env: "prod", region: "us-east-1", tenants: [], alarmArns: arns });
        const alarmWidgets = body.widgets.filter((w) => w["type"] === "alarm");
        expect(alarmWidgets).toHaveLength(MAX_OVERVIEW_ALARM_WIDGETS);
        for (const w of alarmWidgets) expect(((w["properties"] as { alarms: string[] }).alarms).length).toBe(ALARMS_PER_WIDGET);
        const last = body.widgets[body.widgets.length - 1]!;
        expect((last["properties"] as { markdown: string }).markdown).toBe("7 more alarms: the CloudWatch alarms list filtered by `tenancy-prod-` shows them all.");
        // Widgets never overlap: each starts at or below the previous one's bottom when they share columns.
        const ys = body.widgets.map((w) => w["y"] as number);
        expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    });
});
