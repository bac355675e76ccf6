import { describe, expect, it } from "vitest";
import { estimate } from "../../cost/estimate";
import { committedPrices } from "../../cost/prices";
import { COST_DEFAULTS } from "../../stacks/costConfig";
import { dedicatedTenant, planOf, res, tenant } from "./fixtures";

const prices = committedPrices();
const A = COST_DEFAULTS;
const cents = (x: number) => Math.round(x * 100) / 100;

describe("a dedicated tenant of a known size, against a hand calculation from the price table", () => {
    const plan = planOf([tenant("tyrell", "dedicated", { region: "eu-central-1" } as never)], dedicatedTenant("tyrell"));
    const got = estimate(plan, prices, A).tenants.tyrell!;
    // Frankfurt's prices: every resource of the tenant carries `region: eu-central-1`.
    const P = prices.regions["eu-central-1"]!;
    const H = 730; // hours a month (assumption hoursPerMonth)

    it("prices each resource type from the table's numbers", () => {
        const expected = {
            // Multi-AZ db.r6g.large: primary and standby, each billed per hour, and the 100 GB of gp3 stored twice.
            "aws:rds/instance:Instance": 2 * P.rdsInstanceHour["db.r6g.large"]! * H + 2 * 100 * P.rdsStorageGbMonth.gp3!,
            // Two tasks (desiredCount) of 1 vCPU (1024 units) and 2 GB (2048 MiB), x86, all month.
            "aws:ecs/service:Service": 2 * H * (1 * P.fargateVcpuHour + 2 * P.fargateGbHour),
            // The ALB's hours and 1 LCU an hour (assumption alb.lcuPerHour), plus one public IPv4 address per AZ (2 subnets).
            "aws:lb/loadBalancer:LoadBalancer": H * P.albHour + H * 1 * P.albLcuHour + 2 * H * P.publicIpv4Hour,
            // Two NAT gateways: hours and 100 GB processed each (assumption nat.gbPerGatewayMonth).
            "aws:ec2/natGateway:NatGateway": 2 * (H * P.natHour + 100 * P.natGb),
            // Their two Elastic IPs: public IPv4 addresses.
            "aws:ec2/eip:Eip": 2 * H * P.publicIpv4Hour,
            "aws:kms/key:Key": 1 * P.kmsKeyMonth,
            "aws:secretsmanager/secret:Secret": 3 * P.secretMonth,
            // Two groups, 1 GB ingested each (logs.ingestGbPerGroupMonth), 30 days kept: 1 GB stored each.
            "aws:cloudwatch/logGroup:LogGroup": 2 * (1 * P.logsIngestGb + 1 * (30 / 30) * P.logsStorageGbMonth),
            // 10 GB in the bucket (s3.gbPerBucket).
            "aws:s3/bucket:Bucket": 10 * P.s3StandardGbMonth,
            // 100 invocations of 5 s at 256 MB: requests and GB-seconds (a fraction of a cent: rounds to 0).
            "aws:lambda/function:Function": 100 * P.lambdaRequestPerMillion / 1e6 + 100 * 5 * (256 / 1024) * P.lambdaGbSecond,
        };
        expect(got.byType).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, cents(v)])));
    });

    it("pinned in dollars: the hand calculation at the committed eu-central-1 prices (update with the table)", () => {
        // The same calculation written out with the table's numbers (cost/prices.json, eu-central-1), so a formula
        // error shared by the estimator and the test above, or a changed price, fails here.
        expect(got.byType).toEqual({
            "aws:rds/instance:Instance": 423.72, // 2 × 0.272 × 730 = 397.12, + 2 × 100 GB × 0.133 = 26.60
            "aws:ecs/service:Service": 82.9, // 2 tasks × 730 h × (1 vCPU × 0.04656 + 2 GB × 0.00511) = 82.8988
            "aws:lb/loadBalancer:LoadBalancer": 32.85, // 730 × 0.027 = 19.71, + 730 × 1 LCU × 0.008 = 5.84, + 2 IPv4 × 730 × 0.005 = 7.30
            "aws:ec2/natGateway:NatGateway": 86.32, // 2 × (730 × 0.052 + 100 GB × 0.052) = 2 × 43.16
            "aws:ec2/eip:Eip": 7.3, // 2 × 730 × 0.005
            "aws:kms/key:Key": 1, // 1 key × 1.00
            "aws:secretsmanager/secret:Secret": 1.2, // 3 × 0.40
            "aws:cloudwatch/logGroup:LogGroup": 1.32, // 2 × (1 GB × 0.63 + 1 GB-month × 0.0324) = 1.3248
            "aws:s3/bucket:Bucket": 0.25, // 10 GB × 0.0245 = 0.245
            "aws:lambda/function:Function": 0, // 100 × 0.20 / 1e6 + 100 × 5 s × 0.25 GB × 0.0000166667 = 0.0021
        });
        expect(got.total).toBe(636.86);
    });

    it("the total is the sum of its types; a dedicated tenant carries nothing of the platform", () => {
        const sum = Object.values(got.byType).reduce((a, b) => a + b, 0);
        expect(got.total).toBe(cents(sum));
        expect(got.apportioned).toBe(0);
        // 2×0.272×730 + 2×100×0.133 = 397.12 + 26.60 at the committed prices: the database dominates.
        expect(got.total).toBeGreaterThan(got.byType["aws:rds/instance:Instance"]!);
        expect(got.unpriced).toBeUndefined();
    });
});

describe("regions: a resource is priced where it lives", () => {
    const P = (r: string) => prices.regions[r]!;
    it("the resource's own region input, else its explicit provider's region, else the plan's region", () => {
        const provider = res("pulumi:providers:aws", "aws-eu", { region: "eu-west-1" }, { urn: "urn:pulumi:test::tenancy::pulumi:providers:aws::aws-eu" });
        const plan = planOf([tenant("a", "dedicated"), tenant("b", "dedicated"), tenant("c", "dedicated")], [
            provider,
            res("aws:kms/key:Key", "a-key", { region: "ap-southeast-2" }, { tenant: "a", provider: `${provider.urn}::id-1` }),
            res("aws:ec2/natGateway:NatGateway", "b-nat", {}, { tenant: "b", provider: `${provider.urn}::id-1` }),
            res("aws:ec2/natGateway:NatGateway", "c-nat", {}, { tenant: "c" }),
        ], "us-east-1");
        const e = estimate(plan, prices, A);
        expect(e.tenants.a!.byType["aws:kms/key:Key"]).toBe(cents(P("ap-southeast-2").kmsKeyMonth));
        expect(e.tenants.b!.byType["aws:ec2/natGateway:NatGateway"]).toBe(cents(730 * P("eu-west-1").natHour + 100 * P("eu-west-1").natGb));
        expect(e.tenants.c!.byType["aws:ec2/natGateway:NatGateway"]).toBe(cents(730 * P("us-east-1").natHour + 100 * P("us-east-1").natGb));
        expect(P("eu-west-1").natHour).not.toBe(P("us-east-1").natHour);
    });

    it("a region the table lacks is listed as unpriced, not silently zero", () => {
        const e = estimate(planOf([tenant("a", "dedicated")], [res("aws:ec2/natGateway:NatGateway", "a-nat", { region: "sa-east-1" }, { tenant: "a" })]), prices, A);
        expect(e.tenants.a!.byType).toEqual({});
        expect(e.tenants.a!.unpriced).toEqual({ "aws:ec2/natGateway:NatGateway": "1 resource: no prices for sa-east-1 (the price table has no such region: cost/prices.json)" });
    });
});

describe("what is priced and what is not", () => {
    it("types without a price of their own are free; unknown AWS types are listed as unpriced with a count", () => {
        const e = estimate(planOf([tenant("a", "dedicated")], [
            res("aws:ec2/vpc:Vpc", "a-vpc", {}, { tenant: "a" }),
            res("aws:iam/role:Role", "a-role", {}, { tenant: "a" }),
            res("random:index/randomPassword:RandomPassword", "a-pw", {}, { tenant: "a" }),
            res("aws:ec2/instance:Instance", "a-bastion", { instanceType: "t3.micro" }, { tenant: "a" }),
            res("aws:ec2/instance:Instance", "a-bastion-2", { instanceType: "t3.micro" }, { tenant: "a" }),
            res("aws:rds/instance:Instance", "a-db", { instanceClass: "db.x9.huge", allocatedStorage: 20 }, { tenant: "a" }),
        ]), prices, A);
        expect(e.tenants.a!.byType).toEqual({});
        expect(e.tenants.a!.total).toBe(0);
        expect(e.tenants.a!.unpriced).toEqual({
            "aws:ec2/instance:Instance": "2 resources: no price rule for this type",
            "aws:rds/instance:Instance": "1 resource: no price for instance class db.x9.huge in us-east-1",
        });
    });

    it("Aurora Serverless v2: ACU-hours at the assumed average within min..max per instance, plus the cluster's storage and I/O", () => {
        const P = prices.regions["us-east-1"]!;
        const cluster = res("aws:rds/cluster:Cluster", "cell-main-db", { clusterIdentifier: "tenancy-test-shared", serverlessv2ScalingConfiguration: { minCapacity: 2, maxCapacity: 10 } });
        const writer = res("aws:rds/clusterInstance:ClusterInstance", "cell-main-db-writer", { clusterIdentifier: "tenancy-test-shared", instanceClass: "db.serverless" });
        const reader = res("aws:rds/clusterInstance:ClusterInstance", "cell-main-db-reader-1", { clusterIdentifier: "tenancy-test-shared", instanceClass: "db.serverless" });
        const provisioned = res("aws:rds/clusterInstance:ClusterInstance", "cell-b-db-writer", { clusterIdentifier: "tenancy-test-cell-b", instanceClass: "db.r6g.large" });
        const p = estimate(planOf([], [cluster, writer, reader, provisioned]), prices, { ...A, aurora: { acuUtilization: 0.25, storageGb: 40, ioMillionsPerMonth: 30 } }).platform;
        // Average ACUs: 2 + 0.25 × (10 − 2) = 4 per instance, two instances; the provisioned one at its class's rate.
        expect(p.byType["aws:rds/clusterInstance:ClusterInstance"]).toBe(cents(2 * 4 * 730 * P.auroraAcuHour + 730 * P.auroraInstanceHour["db.r6g.large"]!));
        expect(p.byType["aws:rds/cluster:Cluster"]).toBe(cents(40 * P.auroraStorageGbMonth + 30 * P.auroraIoPerMillion));
    });

    it("a suspended dedicated service (desiredCount 0) costs no task hours; ARM tasks use the Graviton price", () => {
        const P = prices.regions["us-east-1"]!;
        const e = estimate(planOf([tenant("a", "dedicated"), tenant("b", "dedicated")], [
            res("aws:ecs/taskDefinition:TaskDefinition", "a-task", { family: "a-app", cpu: "512", memory: "1024" }, { tenant: "a" }),
            res("aws:ecs/service:Service", "a-svc", { desiredCount: 0, taskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/a-app:3" }, { tenant: "a" }),
            res("aws:ecs/taskDefinition:TaskDefinition", "b-task", { family: "b-app", cpu: "2048", memory: "4096", runtimePlatform: { cpuArchitecture: "ARM64" } }, { tenant: "b" }),
            res("aws:ecs/service:Service", "b-svc", { desiredCount: 1, taskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/b-app:1" }, { tenant: "b" }),
        ]), prices, A);
        expect(e.tenants.a!.byType["aws:ecs/service:Service"]).toBe(0);
        expect(e.tenants.b!.byType["aws:ecs/service:Service"]).toBe(cents(730 * (2 * P.fargateArmVcpuHour + 4 * P.fargateArmGbHour)));
    });
});

describe("shared resources are apportioned to shared and hybrid tenants by weight", () => {
    const platform = [
        res("aws:ec2/natGateway:NatGateway", "shared-net-nat-0"),
        res("aws:lb/loadBalancer:LoadBalancer", "shared-alb-alb", { loadBalancerType: "application", subnets: ["a", "b", "c"] }),
        res("aws:kms/key:Key", "shared-platform-key"),
        res("aws:rds/cluster:Cluster", "cell-main-db", { clusterIdentifier: "main", serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 } }),
        res("aws:rds/clusterInstance:ClusterInstance", "cell-main-db-writer", { clusterIdentifier: "main", instanceClass: "db.serverless" }),
        res("aws:rds/cluster:Cluster", "cell-b-db", { clusterIdentifier: "b", serverlessv2ScalingConfiguration: { minCapacity: 1, maxCapacity: 8 } }),
        res("aws:rds/clusterInstance:ClusterInstance", "cell-b-db-writer", { clusterIdentifier: "b", instanceClass: "db.serverless" }),
        res("aws:secretsmanager/secret:Secret", "cell-b-db-admin-secret"),
    ];
    const tenants = [
        tenant("alpha", "shared", { connectionLimit: 20 }),
        tenant("bravo", "shared", { connectionLimit: 60 }),
        tenant("bcell", "shared", { connectionLimit: 10, cell: "b" }),
        tenant("gone", "shared", { connectionLimit: 20, status: "offboarded" }),
        tenant("hyb", "hybrid"),
        tenant("ded", "dedicated"),
    ];
    const e = estimate(planOf(tenants, [...platform, ...dedicatedTenant("ded", "us-east-1")]), prices, { ...A, apportion: { hybridWeight: 20 } });

    it("what is apportioned adds up to the platform's total, to the cent", () => {
        const apportioned = Object.values(e.tenants).reduce((n, t) => n + Math.round(t.apportioned! * 100), 0);
        expect(e.platform.total).toBeGreaterThan(0);
        expect(apportioned + Math.round(e.platform.unapportioned * 100)).toBe(Math.round(e.platform.total * 100));
        expect(e.platform.unapportioned).toBe(0);
        expect(e.platform.total).toBe(cents(Object.values(e.platform.byType).reduce((a, b) => a + b, 0)));
    });

    it("a cell's cluster goes to its own shared tenants; the rest of the platform to every served shared and hybrid tenant; dedicated and offboarded tenants get none", () => {
        const cellB = e.platform.pools!.find((p) => p.pool === "cell b")!;
        const cellMain = e.platform.pools!.find((p) => p.pool === "cell main")!;
        const rest = e.platform.pools!.find((p) => p.pool === "platform")!;
        expect(cellB.tenants).toEqual(["bcell"]);
        expect(cellMain.tenants).toEqual(["alpha", "bravo"]);
        expect(rest.tenants).toEqual(["alpha", "bcell", "bravo", "hyb"]);
        expect(cellB.amount + cellMain.amount + rest.amount).toBeCloseTo(e.platform.total, 2);
        expect(e.tenants.ded!.apportioned).toBe(0);
        expect(e.tenants.gone!.apportioned).toBe(0);
        // Weights 20 and 60 on cell main: bravo carries three times alpha's share of it (give or take a cent of rounding).
        const ofPool = (_slug: string, pool: { amount: number }, weight: number, total: number) => (pool.amount * weight) / total;
        expect(e.tenants.alpha!.apportioned).toBeCloseTo(ofPool("alpha", cellMain, 20, 80) + ofPool("alpha", rest, 20, 110), 1);
        expect(e.tenants.bravo!.apportioned).toBeCloseTo(ofPool("bravo", cellMain, 60, 80) + ofPool("bravo", rest, 60, 110), 1);
        expect(e.tenants.hyb!.apportioned).toBeCloseTo(ofPool("hyb", rest, 20, 110), 1);
        expect(e.tenants.bcell!.apportioned).toBeCloseTo(cellB.amount + ofPool("bcell", rest, 10, 110), 1);
        expect(e.tenants.hyb!.total).toBe(e.tenants.hyb!.apportioned);
    });

    it("with no shared or hybrid tenant to carry it, the platform's cost stays unapportioned", () => {
        const alone = estimate(planOf([tenant("ded", "dedicated")], platform), prices, A);
        expect(alone.platform.unapportioned).toBe(alone.platform.total);
        expect(alone.tenants.ded!.apportioned).toBe(0);
    });
});

describe("the other day-two resources (backups, monitoring, dumps), on fixture graphs", () => {
    const P = prices.regions["us-east-1"]!;
    const E = prices.regions["eu-west-1"]!;

    it("alarms per metric (high resolution and metric math counted), composite alarms, dashboards, SNS topics", () => {
        const e = estimate(planOf([tenant("a", "dedicated")], [
            res("aws:cloudwatch/metricAlarm:MetricAlarm", "a-cpu", { metricName: "CPUUtilization", period: 60 }, { tenant: "a" }),
            res("aws:cloudwatch/metricAlarm:MetricAlarm", "a-fast", { metricName: "X", period: 10 }, { tenant: "a" }),
            res("aws:cloudwatch/metricAlarm:MetricAlarm", "a-rate", { metricQueries: [{ id: "e", expression: "m1/m2" }, { id: "m1", metric: {} }, { id: "m2", metric: {} }] }, { tenant: "a" }),
            res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "a-any", {}, { tenant: "a" }),
            res("aws:cloudwatch/dashboard:Dashboard", "a-dash", {}, { tenant: "a" }),
            res("aws:sns/topic:Topic", "a-topic", {}, { tenant: "a" }),
        ]), prices, A);
        expect(e.tenants.a!.byType).toEqual({
            "aws:cloudwatch/metricAlarm:MetricAlarm": cents(P.alarmMetricMonth + P.alarmHighResolutionMetricMonth + 2 * P.alarmMetricMonth),
            "aws:cloudwatch/compositeAlarm:CompositeAlarm": cents(P.compositeAlarmMonth),
            "aws:cloudwatch/dashboard:Dashboard": cents(P.dashboardMonth),
            "aws:sns/topic:Topic": cents(10_000 * P.snsPublishPerMillion / 1e6),
        });
    });

    it("AWS Backup: a selection's databases (by ARN or by tag) stored for the plan's retention, copied to the copy region with the transfer", () => {
        const db = res("aws:rds/instance:Instance", "a-db", { identifier: "tenancy-test-dedicated-a", instanceClass: "db.t4g.medium", allocatedStorage: 200, tags: { "tenancy:tenant": "a" } }, { tenant: "a" });
        const other = res("aws:rds/instance:Instance", "b-db", { identifier: "tenancy-test-dedicated-b", instanceClass: "db.t4g.medium", allocatedStorage: 50, tags: { "tenancy:tenant": "b" } }, { tenant: "b" });
        const parentA = "urn:pulumi:test::tenancy::tenancy:backup:TenantBackup::a-backup";
        const parentB = "urn:pulumi:test::tenancy::tenancy:backup:TenantBackup::b-backup";
        const e = estimate(planOf([tenant("a", "dedicated"), tenant("b", "hybrid")], [
            db, other,
            res("aws:backup/vault:Vault", "a-vault", {}, { tenant: "a" }),
            res("aws:backup/plan:Plan", "a-backup-plan", { rules: [{ lifecycle: { deleteAfter: 30 }, copyActions: [{ destinationVaultArn: "arn:aws:backup:eu-west-1:123456789012:backup-vault:copy" }] }] }, { tenant: "a", parent: parentA }),
            res("aws:backup/selection:Selection", "a-backup-selection", { resources: ["arn:aws:rds:us-east-1:123456789012:db:tenancy-test-dedicated-a"] }, { tenant: "a", parent: parentA }),
            res("aws:backup/plan:Plan", "b-backup-plan", { rules: [{ lifecycle: { deleteAfter: 7 } }] }, { tenant: "b", parent: parentB }),
            res("aws:backup/selection:Selection", "b-backup-selection", { selectionTags: [{ type: "STRINGEQUALS", key: "tenancy:tenant", value: "b" }] }, { tenant: "b", parent: parentB }),
        ]), prices, A);
        // Stored: a full copy plus each day's 2 % change, for the 30 days kept; the copy region stores the same, and the
        // month's changes (and the first full copy, averaged out) cross regions: 2 % a day × 30 days.
        const storedA = 200 * (1 + 0.02 * 30);
        expect(e.tenants.a!.byType["aws:backup/selection:Selection"]).toBe(cents(storedA * P.backupRdsGbMonth + storedA * E.backupRdsGbMonth + 200 * 0.02 * 30 * P.crossRegionTransferGb));
        expect(e.tenants.b!.byType["aws:backup/selection:Selection"]).toBe(cents(50 * (1 + 0.02 * 7) * P.backupRdsGbMonth));
        expect(e.tenants.a!.unpriced).toBeUndefined();
    });

    it("AWS Backup: a selection by conditions on tags over a wildcard ARN (the shape components/backup declares) selects only the tagged databases", () => {
        const db = (slug: string, gb: number) => res("aws:rds/instance:Instance", `${slug}-db`, { identifier: `tenancy-test-dedicated-${slug}`, instanceClass: "db.t4g.medium", allocatedStorage: gb, tags: { "tenancy:stack": "test", "tenancy:tenant": slug } }, { tenant: slug });
        const e = estimate(planOf([tenant("a", "dedicated"), tenant("b", "dedicated")], [
            db("a", 100), db("b", 400),
            res("aws:backup/plan:Plan", "a-backup-plan", { rules: [{ lifecycle: { deleteAfter: 10 } }, { enableContinuousBackup: true, lifecycle: { deleteAfter: 5 } }] }, { parent: "urn:a-backup" }),
            res("aws:backup/selection:Selection", "a-backup-selection", {
                resources: ["arn:aws:rds:us-east-1:*:db:*"],
                conditions: [{ stringEquals: [{ key: "aws:ResourceTag/tenancy:stack", value: "test" }, { key: "aws:ResourceTag/tenancy:tenant", value: "a" }] }],
            }, { parent: "urn:a-backup" }),
        ]), prices, A);
        // Under no tenant here: the platform pays for a's 100 GB kept for the longest rule (10 days); b's 400 GB are not selected.
        expect(e.platform.byType["aws:backup/selection:Selection"]).toBe(cents(100 * (1 + 0.02 * 10) * P.backupRdsGbMonth));
    });

    it("AWS Backup: a selection prices only the tagged databases of its own region (a tenant moving between regions is not counted twice)", () => {
        // A tenant under a cross-region move has a database in each region, both tagged with it; each region's plan selects its own.
        const db = (region: string, gb: number) => res("aws:rds/instance:Instance", `a-db-${region}`, { region, identifier: `tenancy-test-dedicated-a-${region}`, instanceClass: "db.t4g.medium", allocatedStorage: gb, tags: { "tenancy:tenant": "a" } }, { tenant: "a" });
        const e = estimate(planOf([tenant("a", "dedicated")], [
            db("us-east-1", 100), db("eu-west-1", 300),
            res("aws:backup/plan:Plan", "a-backup-plan", { region: "us-east-1", rules: [{ lifecycle: { deleteAfter: 10 } }] }, { tenant: "a", parent: "urn:a-us" }),
            res("aws:backup/selection:Selection", "a-backup-selection", {
                region: "us-east-1", resources: ["arn:aws:rds:us-east-1:*:db:*"],
                conditions: [{ stringEquals: [{ key: "aws:ResourceTag/tenancy:tenant", value: "a" }] }],
            }, { tenant: "a", parent: "urn:a-us" }),
            res("aws:backup/plan:Plan", "a-backup-plan-eu", { region: "eu-west-1", rules: [{ lifecycle: { deleteAfter: 10 } }] }, { tenant: "a", parent: "urn:a-eu" }),
            // Selected by tag only: its region is its own `region` input.
            res("aws:backup/selection:Selection", "a-backup-selection-eu", { region: "eu-west-1", selectionTags: [{ type: "STRINGEQUALS", key: "tenancy:tenant", value: "a" }] }, { tenant: "a", parent: "urn:a-eu" }),
        ]), prices, A);
        // us-east-1: 100 GB × (1 + 2 % × 10 days); eu-west-1: 300 GB × (1 + 2 % × 10 days), each at its own region's price.
        expect(e.tenants.a!.byType["aws:backup/selection:Selection"]).toBe(cents(100 * 1.2 * P.backupRdsGbMonth + 300 * 1.2 * E.backupRdsGbMonth));
    });

    it("an EventBridge rule's ECS target runs the task like a schedule (the rule is free; a target without ECS too)", () => {
        const e = estimate(planOf([], [
            res("aws:ecs/taskDefinition:TaskDefinition", "dump-task", { family: "dump", cpu: "512", memory: "1024" }),
            res("aws:cloudwatch/eventRule:EventRule", "dump-rule", { scheduleExpression: "rate(12 hours)" }),
            res("aws:cloudwatch/eventTarget:EventTarget", "dump-target", { rule: "dump-rule-1a2b3c4", ecsTarget: { taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/dump:1", taskCount: 2 } }),
            res("aws:cloudwatch/eventTarget:EventTarget", "notify-target", { rule: "dump-rule-1a2b3c4", arn: "arn:aws:sns:us-east-1:1:t" }),
        ]), prices, A);
        // Every 12 hours: 730 / 12 runs a month of two tasks, 10 minutes each, 0.5 vCPU and 1 GB.
        expect(e.platform.byType).toEqual({ "aws:cloudwatch/eventTarget:EventTarget": cents((730 / 12) * 2 * (10 / 60) * (0.5 * P.fargateVcpuHour + 1 * P.fargateGbHour)) });
    });

    it("a scheduled ECS task: runs a month from its expression × duration × the task's size, plus Scheduler invocations", () => {
        const e = estimate(planOf([], [
            res("aws:ecs/taskDefinition:TaskDefinition", "cell-main-dump-task", { family: "cell-main-dump", cpu: "1024", memory: "2048" }),
            res("aws:scheduler/schedule:Schedule", "cell-main-dump-schedule", {
                scheduleExpression: "cron(0 3 * * ? *)",
                target: { arn: "arn:aws:ecs:us-east-1:1:cluster/c", ecsParameters: { taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/cell-main-dump:2" } },
            }),
            res("aws:scheduler/schedule:Schedule", "hourly", { scheduleExpression: "rate(1 hour)", target: { arn: "arn:aws:lambda:us-east-1:1:function:f" } }),
            res("aws:s3/bucket:Bucket", "shared-dumps"),
            res("aws:s3/bucketV2:BucketV2", "shared-dumps-2"),
            res("aws:ec2/vpcEndpoint:VpcEndpoint", "shared-ecr", { vpcEndpointType: "Interface", subnetIds: ["a", "b"] }),
            res("aws:ec2/vpcEndpoint:VpcEndpoint", "shared-s3", { vpcEndpointType: "Gateway" }),
        ]), prices, A);
        // Daily at 03:00: 730 / 24 days a month (30.42) runs of 10 minutes of 1 vCPU and 2 GB; hourly: 730 invocations.
        const daily = 730 / 24;
        expect(e.platform.byType["aws:scheduler/schedule:Schedule"]).toBe(cents(daily * (10 / 60) * (P.fargateVcpuHour + 2 * P.fargateGbHour) + (daily + 730) * P.schedulerInvocationPerMillion / 1e6));
        expect(e.platform.byType["aws:s3/bucket:Bucket"]).toBe(cents(10 * P.s3StandardGbMonth));
        expect(e.platform.byType["aws:s3/bucketV2:BucketV2"]).toBe(cents(10 * P.s3StandardGbMonth));
        expect(e.platform.byType["aws:ec2/vpcEndpoint:VpcEndpoint"]).toBe(cents(2 * 730 * P.interfaceEndpointHour + 10 * P.interfaceEndpointGb));
    });
});
