/**
 * The environment's monitoring on the recorded graph, in both layouts: one encrypted alarm topic per region the stack
 * allows, whose key lets CloudWatch use it and whose policy lets only this environment's alarms publish; and the
 * fleet overview dashboard, which names exactly the alarms the tenants' stacks declare.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fleetReferences, recordStack, removeDir } from "../stacks/harness";

const FILES = {
    "alpha.yaml": sharedTenant("alpha"),
    "bravo.yaml": sharedTenant("bravo", "status: suspended\n"),
    "charlie.yaml": sharedTenant("charlie", "tier: hybrid\n"),
    "delta.yaml": sharedTenant("delta", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nrelease: {version: 1.1.0}\n"),
    "golf.yaml": sharedTenant("golf", "status: offboarded\n"),
};
const SLUGS = ["alpha", "bravo", "charlie", "delta", "golf"];
const MONITORING = { emails: ["ops@example.com"] };

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));
const repo = (layout: "single" | "fleet", monitoring: Record<string, unknown> = MONITORING) => {
    const root = makeRepo(FILES, baseStackConfig({ "tenancy:layout": layout, "tenancy:monitoring": monitoring }));
    roots.push(root);
    return root;
};

let single: RecordResult;
beforeAll(async () => {
    single = await recordStack(repo("single"), "test");
});

const ofType = (r: RecordResult, type: string) => r.resources.filter((x) => x.type === type);
type Policy = { Statement: { Sid: string; Principal?: unknown; Action: unknown; Resource?: unknown; Condition?: Record<string, Record<string, string>> }[] };
const policyOf = (r: RecordedResource, key: string) => JSON.parse(r.inputs[key] as string) as Policy;
const overviewOf = (r: RecordResult) => {
    const d = r.resources.find((x) => x.type === "aws:cloudwatch/dashboard:Dashboard" && x.name === "shared-monitoring-fleet")!;
    return { resource: d, body: JSON.parse(d.inputs["dashboardBody"] as string) as { widgets: { type: string; properties: Record<string, unknown> }[] } };
};

describe("alarm topics", () => {
    it("one topic tenancy-<env>-alarms per region the stack allows, each encrypted with a key of its own region", () => {
        const topics = ofType(single, "aws:sns/topic:Topic").filter((t) => t.inputs["name"] === "tenancy-test-alarms");
        expect(topics.map((t) => t.inputs["region"]).sort()).toEqual(["eu-west-1", "us-east-1"]);
        const keys = ofType(single, "aws:kms/key:Key");
        for (const t of topics) {
            const key = keys.find((k) => k.outputs["arn"] === t.inputs["kmsMasterKeyId"]);
            expect(key, t.name).toBeDefined();
            expect(key!.inputs["region"]).toBe(t.inputs["region"]);
            expect(key!.options.retainOnDelete).toBe(true);
        }
        const platform = single.outputs["platform"] as { alarmTopics: Record<string, string>; alarmKeyArns: Record<string, string> };
        expect(Object.fromEntries(topics.map((t) => [t.inputs["region"], t.outputs["arn"]]))).toEqual(platform.alarmTopics);
        expect(Object.keys(platform.alarmKeyArns).sort()).toEqual(["eu-west-1", "us-east-1"]);
    });

    it("the key lets CloudWatch Decrypt and GenerateDataKey* only; the topic lets only this environment's alarms of this account publish", () => {
        const topic = ofType(single, "aws:sns/topic:Topic").find((t) => t.inputs["name"] === "tenancy-test-alarms" && t.inputs["region"] === "eu-west-1")!;
        const key = ofType(single, "aws:kms/key:Key").find((k) => k.outputs["arn"] === topic.inputs["kmsMasterKeyId"])!;
        const grant = policyOf(key, "policy").Statement.find((s) => s.Sid === "CloudWatchAlarmsPublishToEncryptedTopics");
        expect(grant).toEqual({
            Sid: "CloudWatchAlarmsPublishToEncryptedTopics", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*",
        });
        const statements = policyOf(topic, "policy").Statement;
        expect(statements.map((s) => s.Sid)).toEqual(["AccountManagesTopic", "CloudWatchAlarmsOfThisEnvironment"]);
        const cw = statements[1]!;
        expect(cw).toMatchObject({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "SNS:Publish", Resource: topic.outputs["arn"] });
        expect(cw.Condition).toEqual({
            StringEquals: { "aws:SourceAccount": "123456789012" },
            ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tenancy-test-*" },
        });
    });

    it("the stack's emails are subscribed to every region's topic (each waits for its confirmation)", () => {
        const subs = ofType(single, "aws:sns/topicSubscription:TopicSubscription").filter((s) => s.inputs["endpoint"] === "ops@example.com");
        expect(subs.map((s) => s.inputs["region"]).sort()).toEqual(["eu-west-1", "us-east-1"]);
        for (const s of subs) expect(s.outputs["pendingConfirmation"]).toBe(true);
    });
});

describe("the fleet overview dashboard", () => {
    it("tenancy-<env> in the environment's region: tenants by tier and status, each with its version and dashboard", () => {
        const { resource, body } = overviewOf(single);
        expect(resource.inputs).toMatchObject({ dashboardName: "tenancy-test", region: "us-east-1" });
        const [summary, table] = body.widgets.filter((w) => w.type === "text").map((w) => String(w.properties["markdown"]));
        expect(summary).toContain("# Tenants of test: 5");
        expect(summary).toContain("| shared | 1 | 1 | 1 |");
        expect(summary).toContain("| dedicated | 1 | 0 | 0 |");
        expect(table).toContain("| delta | dedicated | active | eu-west-1 | 1.1.0 | [tenancy-test-delta](https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=tenancy-test-delta) |");
        expect(table).toContain("| golf | shared | offboarded | us-east-1 | 1.2.3 | - |");
    });

    it("its alarm widget lists exactly the tenant alarms the stack declares, by their ARNs", () => {
        const { body } = overviewOf(single);
        const listed = body.widgets.filter((w) => w.type === "alarm").flatMap((w) => w.properties["alarms"] as string[]);
        // Tenant alarms carry the tenant's tag; the cells' dump alarms (platform) are not on the tenants' overview.
        const declared = ofType(single, "aws:cloudwatch/metricAlarm:MetricAlarm")
            .filter((a) => (a.inputs["tags"] as Record<string, string>)["tenancy:tenant"] !== undefined)
            .map((a) => a.outputs["arn"] as string);
        expect(declared.length).toBeGreaterThan(10);
        expect(listed.sort()).toEqual(declared.sort());
    });

    it("in a fleet, the platform stack's overview names exactly the alarms the tenant stacks declare", async () => {
        const root = repo("fleet");
        const platform = await recordStack(root, "test");
        expect(overviewOf(platform).resource.inputs).toEqual(overviewOf(single).resource.inputs);
        const references = fleetReferences(single, "test", ["main"]);
        const declared: string[] = [];
        // golf is offboarded: its stack declares no alarm (tests/monitoring/tenantMonitoring.test.ts), so it is not recorded here.
        for (const slug of SLUGS.filter((x) => x !== "golf")) {
            const stack = await record(() => main(root), { project: "tenancy", stack: `test.${slug}`, stackReferences: references, idSeedStack: "test" });
            declared.push(...ofType(stack, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.outputs["arn"] as string));
        }
        const listed = overviewOf(platform).body.widgets.filter((w) => w.type === "alarm").flatMap((w) => w.properties["alarms"] as string[]);
        expect(listed.sort()).toEqual(declared.sort());
    });
});

describe("tenancy:monitoring.enabled: false", () => {
    it("declares no topic, key, alarm, dashboard or query; the platform exports no topics", async () => {
        const root = makeRepo({ "alpha.yaml": FILES["alpha.yaml"], "delta.yaml": FILES["delta.yaml"] }, baseStackConfig({ "tenancy:monitoring": { enabled: false } }));
        roots.push(root);
        const off = await recordStack(root, "test");
        const monitoringTypes = ["aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/dashboard:Dashboard", "aws:cloudwatch/queryDefinition:QueryDefinition", "tenancy:platform:PlatformMonitoring", "tenancy:tenant:TenantMonitoring"];
        expect(off.resources.filter((r) => monitoringTypes.includes(r.type))).toEqual([]);
        expect((off.outputs["platform"] as { alarmTopics: unknown }).alarmTopics).toEqual({});
    });
});
