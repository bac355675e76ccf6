/**
 * Per-tenant monitoring on the recorded graph of the real stack program, in both layouts: the alarm set of each tier
 * with its dimensions wired to the tenant's own resources, thresholds from presets and overrides, each alarm in its
 * tenant's region notifying that region's topic, the dashboard and the saved log query.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { maxConnectionsForMemory } from "../../tenants/capacity";
import { main } from "../../stacks/program";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fleetReferences, recordStack, removeDir, tenantOf } from "../stacks/harness";

const FILES = {
    "alpha.yaml": sharedTenant("alpha", "database: {connectionLimit: 30}\nmonitoring:\n  thresholds: {errorRatePercent: 2}\n"),
    "charlie.yaml": sharedTenant("charlie", "tier: hybrid\nsize: medium\n"),
    "delta.yaml": sharedTenant("delta", "tier: dedicated\nregion: eu-west-1\nsize: large\nnetwork: {cidr: 10.60.0.0/16}\n" +
        "monitoring:\n  contact: oncall@delta.example\n  thresholds: {latencyP99Seconds: 0.5}\n"),
    "echo.yaml": sharedTenant("echo", "tier: dedicated\nstatus: suspended\nnetwork: {cidr: 10.61.0.0/16}\n"),
    "foxtrot.yaml": sharedTenant("foxtrot", "status: offboarded\n"),
};

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));
const repo = (layout: "single" | "fleet") => {
    const root = makeRepo(FILES, baseStackConfig({ "tenancy:layout": layout }));
    roots.push(root);
    return root;
};

let single: RecordResult;
let singleRoot: string;
beforeAll(async () => {
    singleRoot = repo("single");
    single = await recordStack(singleRoot, "test");
});

const alarmsOf = (r: RecordResult, slug: string) => {
    const owner = tenantOf(r);
    return r.resources.filter((x) => x.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && owner(x) === slug);
};
const named = (r: RecordResult, type: string, name: string): RecordedResource => {
    const found = r.resources.find((x) => x.type === type && x.name === name);
    if (!found) throw new Error(`no ${type} ${name}`);
    return found;
};
const alarm = (r: RecordResult, name: string) => {
    const found = r.resources.find((x) => x.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && x.inputs["name"] === name);
    if (!found) throw new Error(`no alarm ${name}`);
    return found;
};
const queryDims = (a: RecordedResource) => Object.fromEntries((a.inputs["metricQueries"] as { id: string; metric?: { dimensions: Record<string, string> } }[])
    .filter((q) => q.metric).map((q) => [q.id, q.metric!.dimensions]));

describe("the alarm set per tier", () => {
    it("shared: the app's errors, p99 and connection share; hybrid: the app's and its database's; dedicated: load balancer, service and database; suspended: the database only; offboarded: nothing", () => {
        const names = (slug: string) => alarmsOf(single, slug).map((a) => a.inputs["name"]).sort();
        expect(names("alpha")).toEqual(["tenancy-test-alpha-app-connections", "tenancy-test-alpha-app-errors", "tenancy-test-alpha-app-latency-p99"]);
        expect(names("charlie")).toEqual([
            "tenancy-test-charlie-app-errors", "tenancy-test-charlie-app-latency-p99",
            "tenancy-test-charlie-db-connections", "tenancy-test-charlie-db-cpu", "tenancy-test-charlie-db-free-storage",
        ]);
        expect(names("delta")).toEqual([
            "tenancy-test-delta-alb-5xx", "tenancy-test-delta-alb-latency-p99", "tenancy-test-delta-alb-no-healthy-targets", "tenancy-test-delta-alb-unhealthy-targets",
            "tenancy-test-delta-db-connections", "tenancy-test-delta-db-cpu", "tenancy-test-delta-db-free-storage",
            "tenancy-test-delta-ecs-cpu", "tenancy-test-delta-ecs-memory",
        ]);
        expect(names("echo")).toEqual(["tenancy-test-echo-db-connections", "tenancy-test-echo-db-cpu", "tenancy-test-echo-db-free-storage"]);
        expect(names("foxtrot")).toEqual([]);
    });

    it("alarms are children of the tenant's TenantMonitoring '<slug>-monitoring', tagged with the tenant", () => {
        const monitoring = named(single, "tenancy:tenant:TenantMonitoring", "delta-monitoring");
        const tenant = named(single, "tenancy:tenant:Tenant", "delta");
        expect(monitoring.parent).toBe(tenant.urn);
        const alarms = alarmsOf(single, "delta");
        expect(alarms.length).toBe(9);
        for (const a of alarms) {
            expect(a.parent, a.name).toBe(monitoring.urn);
            expect(a.inputs["tags"]).toMatchObject({ "tenancy:tenant": "delta", "tenancy:tier": "dedicated", "tenancy:stack": "test" });
        }
    });
});

describe("dimensions are the tenant's own resources", () => {
    it("dedicated: ALB metrics by the ALB's and target group's ARN suffixes, ECS by cluster and service name, RDS by the instance identifier", () => {
        const lb = named(single, "aws:lb/loadBalancer:LoadBalancer", "delta-dedicated-alb-alb");
        const tg = named(single, "aws:lb/targetGroup:TargetGroup", "delta-dedicated-alb-tg");
        const cluster = named(single, "aws:ecs/cluster:Cluster", "delta-dedicated-ecs");
        const service = named(single, "aws:ecs/service:Service", "delta-dedicated-app-service");
        const instance = named(single, "aws:rds/instance:Instance", "delta-dedicated-db-instance");
        expect(lb.outputs["arnSuffix"]).toMatch(/^app\/[^/]+\/[0-9a-f]+$/);
        expect(tg.outputs["arnSuffix"]).toMatch(/^targetgroup\/[^/]+\/[0-9a-f]+$/);

        const fivexx = alarm(single, "tenancy-test-delta-alb-5xx");
        expect(queryDims(fivexx)).toEqual({
            requests: { LoadBalancer: lb.outputs["arnSuffix"] },
            target5xx: { LoadBalancer: lb.outputs["arnSuffix"] },
            elb5xx: { LoadBalancer: lb.outputs["arnSuffix"] },
            elb502: { LoadBalancer: lb.outputs["arnSuffix"] },
            elb504: { LoadBalancer: lb.outputs["arnSuffix"] },
        });
        const metrics = (fivexx.inputs["metricQueries"] as { id: string; metric?: { metricName: string; namespace: string; stat: string } }[]).filter((q) => q.metric);
        expect(metrics.map((q) => [q.id, q.metric!.namespace, q.metric!.metricName, q.metric!.stat])).toEqual([
            ["requests", "AWS/ApplicationELB", "RequestCount", "Sum"],
            ["target5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum"],
            ["elb5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum"],
            ["elb502", "AWS/ApplicationELB", "HTTPCode_ELB_502_Count", "Sum"],
            ["elb504", "AWS/ApplicationELB", "HTTPCode_ELB_504_Count", "Sum"],
        ]);
        const rate = (fivexx.inputs["metricQueries"] as { id: string; expression?: string; returnData?: boolean }[]).find((q) => q.id === "rate")!;
        // ELB 502/504 had a target chosen, so RequestCount has them already; only the other ELB 5xx (503, 500…) are added.
        const total = (fivexx.inputs["metricQueries"] as { id: string; expression?: string; returnData?: boolean }[]).find((q) => q.id === "total")!;
        expect(total).toMatchObject({ returnData: false, expression: "FILL(requests, 0) + FILL(elb5xx, 0) - FILL(elb502, 0) - FILL(elb504, 0)" });
        expect(rate).toMatchObject({ returnData: true, expression: "IF(total >= 10, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / total, 0)" });

        const tgDims = { LoadBalancer: lb.outputs["arnSuffix"], TargetGroup: tg.outputs["arnSuffix"] };
        expect(alarm(single, "tenancy-test-delta-alb-latency-p99").inputs).toMatchObject({ namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", extendedStatistic: "p99", dimensions: tgDims });
        expect(alarm(single, "tenancy-test-delta-alb-unhealthy-targets").inputs).toMatchObject({
            metricName: "UnHealthyHostCount", statistic: "Maximum", dimensions: tgDims, comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1,
        });
        // No healthy target at all: UnHealthyHostCount is 0 then and a quiet service's 5xx rate never counts; missing data is an outage too.
        const delta = alarm(single, "tenancy-test-delta-alb-5xx").inputs;
        expect(alarm(single, "tenancy-test-delta-alb-no-healthy-targets").inputs).toMatchObject({
            namespace: "AWS/ApplicationELB", metricName: "HealthyHostCount", statistic: "Minimum", dimensions: tgDims,
            comparisonOperator: "LessThanThreshold", threshold: 1, period: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "breaching",
            alarmActions: delta["alarmActions"], okActions: delta["okActions"], region: "eu-west-1",
        });
        const ecs = { ClusterName: cluster.outputs["name"], ServiceName: service.outputs["name"] };
        expect(alarm(single, "tenancy-test-delta-ecs-cpu").inputs).toMatchObject({ namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: ecs });
        expect(alarm(single, "tenancy-test-delta-ecs-memory").inputs).toMatchObject({ namespace: "AWS/ECS", metricName: "MemoryUtilization", dimensions: ecs });
        for (const what of ["db-cpu", "db-free-storage", "db-connections"]) {
            expect(alarm(single, `tenancy-test-delta-${what}`).inputs["dimensions"]).toEqual({ DBInstanceIdentifier: instance.outputs["identifier"] });
        }
        expect(instance.outputs["identifier"]).toBe("tenancy-test-dedicated-delta");
    });

    it("hybrid: RDS by its own instance; shared and hybrid: the app's metrics by Environment and Tenant in the Tenancy/App namespace", () => {
        const instance = named(single, "aws:rds/instance:Instance", "charlie-db-db-instance");
        expect(alarm(single, "tenancy-test-charlie-db-cpu").inputs["dimensions"]).toEqual({ DBInstanceIdentifier: instance.outputs["identifier"] });
        expect(alarm(single, "tenancy-test-alpha-app-latency-p99").inputs).toMatchObject({
            namespace: "Tenancy/App", metricName: "Latency", extendedStatistic: "p99", dimensions: { Environment: "test", Tenant: "alpha" },
        });
        expect(queryDims(alarm(single, "tenancy-test-charlie-app-errors"))).toEqual({
            requests: { Environment: "test", Tenant: "charlie" }, errors: { Environment: "test", Tenant: "charlie" },
        });
        expect(alarm(single, "tenancy-test-alpha-app-connections").inputs).toMatchObject({ metricName: "DbConnections", statistic: "Sum", dimensions: { Environment: "test", Tenant: "alpha" } });
        // A per-task gauge summed per minute is exact only with one sample per task per minute (docs/monitoring.md).
        expect(alarm(single, "tenancy-test-alpha-app-connections").inputs["alarmDescription"]).toContain("Timestamp floored to the minute");
    });
});

describe("thresholds from presets and overrides", () => {
    it("a large dedicated tenant: its preset's storage and class, its own p99; a medium hybrid one its preset's; a shared one its override and its role's limit", () => {
        expect(alarm(single, "tenancy-test-delta-alb-latency-p99").inputs["threshold"]).toBe(0.5);
        expect(alarm(single, "tenancy-test-delta-alb-5xx").inputs["threshold"]).toBe(5);
        // large: 200 GiB, db.r6g.xlarge (32 GiB); medium: db.r6g.large (16 GiB).
        expect(alarm(single, "tenancy-test-delta-db-free-storage").inputs).toMatchObject({ comparisonOperator: "LessThanThreshold", threshold: Math.floor(0.05 * 200 * 1024 ** 3) });
        // Half of storage autoscaling's own trigger (free < 10% of what is allocated): a normal autoscale never fires it.
        expect(alarm(single, "tenancy-test-delta-db-free-storage").inputs["alarmDescription"]).toContain("storage autoscaling could not keep up");
        expect(alarm(single, "tenancy-test-delta-db-connections").inputs["threshold"]).toBe(Math.floor(0.8 * maxConnectionsForMemory(32)));
        expect(alarm(single, "tenancy-test-charlie-db-connections").inputs["threshold"]).toBe(Math.floor(0.8 * maxConnectionsForMemory(16)));
        expect(alarm(single, "tenancy-test-charlie-app-latency-p99").inputs["threshold"]).toBe(1500);
        expect(alarm(single, "tenancy-test-alpha-app-errors").inputs["threshold"]).toBe(2);
        expect(alarm(single, "tenancy-test-alpha-app-connections").inputs["threshold"]).toBe(24);
    });
});

describe("regions and notifications", () => {
    it("every alarm is in its tenant's region and notifies the environment's topic of that region (and the tenant's own contact topic there)", () => {
        const topics = single.resources.filter((x) => x.type === "aws:sns/topic:Topic" && x.inputs["name"] === "tenancy-test-alarms");
        const topicIn = (region: string) => topics.find((t) => t.inputs["region"] === region)!.outputs["arn"];
        expect(topicIn("eu-west-1")).toMatch(/^arn:aws:sns:eu-west-1:/);
        const contact = named(single, "aws:sns/topic:Topic", "delta-monitoring-contact-eu-west-1");
        expect(contact.inputs).toMatchObject({ name: "tenancy-test-delta-alarms", region: "eu-west-1" });
        for (const a of alarmsOf(single, "delta")) {
            expect(a.inputs["region"], a.name).toBe("eu-west-1");
            expect(a.inputs["alarmActions"]).toEqual([topicIn("eu-west-1"), contact.outputs["arn"]]);
            expect(a.inputs["okActions"]).toEqual(a.inputs["alarmActions"]);
        }
        for (const slug of ["alpha", "charlie", "echo"]) {
            for (const a of alarmsOf(single, slug)) {
                expect(a.inputs["region"], a.name).toBe("us-east-1");
                expect(a.inputs["alarmActions"]).toEqual([topicIn("us-east-1")]);
            }
        }
    });

    it("the contact is an email subscription of the tenant's own topic, encrypted with the region's alarm key, which only this tenant's alarms may publish to", () => {
        const contact = named(single, "aws:sns/topic:Topic", "delta-monitoring-contact-eu-west-1");
        const sub = named(single, "aws:sns/topicSubscription:TopicSubscription", "delta-monitoring-contact-eu-west-1-email-0");
        expect(sub.inputs).toMatchObject({ topic: contact.outputs["arn"], protocol: "email", endpoint: "oncall@delta.example", region: "eu-west-1" });
        expect(sub.outputs["pendingConfirmation"]).toBe(true);
        const key = single.resources.find((x) => x.type === "aws:kms/key:Key" && x.inputs["region"] === "eu-west-1" && String(x.inputs["description"]).includes("alarm notifications"))!;
        expect(contact.inputs["kmsMasterKeyId"]).toBe(key.outputs["arn"]);
        const policy = JSON.parse(contact.inputs["policy"] as string) as { Statement: { Sid: string; Condition?: Record<string, Record<string, string>> }[] };
        const cw = policy.Statement.find((s) => s.Sid === "CloudWatchAlarmsOfThisEnvironment")!;
        expect(cw.Condition!["ArnLike"]!["aws:SourceArn"]).toMatch(/^arn:aws:cloudwatch:eu-west-1:\d{12}:alarm:tenancy-test-delta-\*$/);
    });
});

describe("dashboard and saved query", () => {
    it("a dedicated tenant's dashboard lives in its region with its alarms and its own resources' metrics; its query reads its own service's log group", () => {
        const d = named(single, "aws:cloudwatch/dashboard:Dashboard", "delta-monitoring-dashboard");
        expect(d.inputs).toMatchObject({ dashboardName: "tenancy-test-delta", region: "eu-west-1" });
        const body = JSON.parse(d.inputs["dashboardBody"] as string) as { widgets: { type: string; properties: Record<string, unknown> }[] };
        const alarmWidget = body.widgets.find((w) => w.type === "alarm")!;
        expect([...(alarmWidget.properties["alarms"] as string[])].sort()).toEqual(alarmsOf(single, "delta").map((a) => a.outputs["arn"]).sort());
        const lb = named(single, "aws:lb/loadBalancer:LoadBalancer", "delta-dedicated-alb-alb");
        const metricsText = JSON.stringify(body.widgets.filter((w) => w.type === "metric").map((w) => w.properties["metrics"]));
        expect(metricsText).toContain(lb.outputs["arnSuffix"] as string);
        expect(metricsText).toContain("tenancy-test-dedicated-delta");
        for (const w of body.widgets.filter((x) => x.type === "metric")) expect(w.properties["region"]).toBe("eu-west-1");
        const logGroup = named(single, "aws:cloudwatch/logGroup:LogGroup", "delta-dedicated-app-logs");
        const q = named(single, "aws:cloudwatch/queryDefinition:QueryDefinition", "delta-monitoring-logs");
        expect(q.inputs).toMatchObject({ name: "tenancy/test/delta/app-logs", region: "eu-west-1", logGroupNames: [logGroup.outputs["name"]] });
        expect(q.inputs["queryString"]).not.toContain("filter tenant");
    });

    it("a shared tenant's query reads the shared app's log group filtered by its tenant field; its dashboard shows the app's metrics and that query", () => {
        const appLogs = named(single, "aws:cloudwatch/logGroup:LogGroup", "shared-app-logs");
        const q = named(single, "aws:cloudwatch/queryDefinition:QueryDefinition", "alpha-monitoring-logs");
        expect(q.inputs).toMatchObject({ name: "tenancy/test/alpha/app-logs", region: "us-east-1", logGroupNames: [appLogs.outputs["name"]] });
        expect(q.inputs["queryString"]).toBe("fields @timestamp, level, msg, status, method, path, durationMs, requestId\n| filter tenant = \"alpha\"\n| sort @timestamp desc\n| limit 200");
        const body = JSON.parse(named(single, "aws:cloudwatch/dashboard:Dashboard", "alpha-monitoring-dashboard").inputs["dashboardBody"] as string) as { widgets: { type: string; properties: Record<string, unknown> }[] };
        expect(JSON.stringify(body.widgets.filter((w) => w.type === "metric").map((w) => w.properties["metrics"]))).toContain('["Tenancy/App","RequestCount","Environment","test","Tenant","alpha",{"stat":"Sum"}]');
        const log = body.widgets.find((w) => w.type === "log")!;
        expect(log.properties["query"]).toBe(`SOURCE '${appLogs.outputs["name"]}' | ${q.inputs["queryString"]}`);
    });

    it("an offboarded tenant has no monitoring at all", () => {
        expect(single.resources.filter((x) => x.name.startsWith("foxtrot-monitoring"))).toEqual([]);
    });
});

describe("fleet layout", () => {
    it("a tenant stack declares the same monitoring as the single stack, notifying the topics the platform stack exports", async () => {
        const references = fleetReferences(single, "test", ["main"]);
        const fleet = await record(() => main(repo("fleet")), { project: "tenancy", stack: "test.delta", stackReferences: references, idSeedStack: "test" });
        const inFleet = alarmsOf(fleet, "delta");
        expect(inFleet.map((a) => a.inputs)).toEqual(alarmsOf(single, "delta").map((a) => a.inputs));
        const platform = single.outputs["platform"] as { alarmTopics: Record<string, string> };
        expect(inFleet[0]!.inputs["alarmActions"]).toContain(platform.alarmTopics["eu-west-1"]);
    });
});
