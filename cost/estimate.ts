/**
 * The monthly cost estimate of a plan: a pure function of its recorded resources, a price table and usage assumptions.
 *
 * Each cloud resource is priced from its type and declared inputs (instance class, Multi-AZ, storage, task size,
 * desired count, ...) at the prices of the region it lives in: its `region` input (AWS v7), else its explicit
 * provider's region, else the plan's. What a price multiplies that the program cannot know (traffic, stored data, log
 * volume, the average Aurora capacity) comes from the assumptions (stacks/costConfig.ts). A resource's cost belongs to
 * its tenant; the platform's (resources under no tenant) is apportioned to shared and hybrid tenants by weight:
 * - a cell's resources (names `cell-<name>-…`: its cluster, instances, secrets, logs) to the served shared tenants of
 *   that cell, each weighing its runtime connection limit;
 * - everything else (network, NAT, ALB, the shared app, keys) to every served shared and hybrid tenant: shared tenants
 *   weigh their connection limit, hybrid tenants `apportion.hybridWeight`.
 * Served: active or suspended (their data and host names stay); offboarded tenants carry none. A pool nobody can carry
 * (a cell without tenants) joins the platform's; when no tenant can carry that, it stays `unapportioned`. Amounts are
 * split in whole cents (largest remainder), so the shares add up to the platform's total exactly.
 *
 * One pass to index, one to price: linear in the resources (backup selections look databases up by identifier and
 * by their `tenancy:tenant` tag).
 */
import type { CostAssumptions } from "../stacks/costConfig";
import type { PriceTable, RegionPrices } from "./prices";

/** What the estimate reads of a plan resource (tools/plan/model.ts `PlanResource`). */
export interface CostInputResource {
    urn: string;
    stack?: string;
    type: string;
    name: string;
    parent?: string | null;
    custom: boolean;
    provider: string | null;
    tenant: string | null;
    inputs: Record<string, unknown>;
}

/** What the estimate reads of a plan tenant. */
export interface CostInputTenant {
    slug: string;
    tier: string;
    status: string;
    /** The cell of a shared tenant. */
    cell?: string | null;
    /** A shared tenant's runtime connection limit: its weight. */
    connectionLimit?: number | null;
}

export interface CostInputPlan {
    /** The stack's region: where resources without a region of their own live. */
    region: string;
    tenants: readonly CostInputTenant[];
    resources: readonly CostInputResource[];
}

/** A month of one tenant or of the platform, in USD rounded to cents. */
export interface MonthlyCost {
    /** The sum of `byType` and `apportioned`. */
    total: number;
    /** Own resources' cost by resource type (types priced at 0, e.g. a service scaled to zero, included). */
    byType: Record<string, number>;
    /** A tenant's share of the platform's cost (0 for dedicated and offboarded tenants). */
    apportioned?: number;
    /** A tenant's apportionment weight (connections), 0 when it carries no share. */
    weight?: number;
    /** Resource types the table cannot price, with how many and why: not silently zero. */
    unpriced?: Record<string, string>;
}

/** One apportionment pool of the platform: what it costs and who carries it. */
export interface CostPool {
    /** `cell <name>` or `platform`. */
    pool: string;
    amount: number;
    /** Slugs of the tenants carrying it, sorted; empty when nobody can (then the amount is unapportioned). */
    tenants: string[];
}

export interface PlatformCost extends MonthlyCost {
    /** What no tenant carries (no served shared or hybrid tenant). */
    unapportioned: number;
    pools?: CostPool[];
}

export interface CostEstimate {
    tenants: Record<string, MonthlyCost>;
    platform: PlatformCost;
}

/** Weight of a hybrid tenant (and of a shared tenant without a known limit) when the assumptions name none: the schema's default tenant connection limit. */
export const DEFAULT_WEIGHT = 20;

/**
 * AWS types that cost nothing by themselves: network plumbing, IAM, certificates, listeners and target groups,
 * parameter and subnet groups, bucket and key settings, backup vaults and plans (their stored recovery points are
 * priced at the selection), task definitions (priced with the service or schedule that runs them).
 */
const FREE_AWS = new Set([
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/defaultRouteTable:DefaultRouteTable", "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl", "aws:ec2/networkAcl:NetworkAcl", "aws:ec2/flowLog:FlowLog",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule", "aws:lb/targetGroup:TargetGroup", "aws:lb/listenerCertificate:ListenerCertificate",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment", "aws:route53/record:Record",
    "aws:ecs/cluster:Cluster", "aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup", "aws:rds/clusterParameterGroup:ClusterParameterGroup", "aws:rds/optionGroup:OptionGroup",
    "aws:secretsmanager/secretVersion:SecretVersion", "aws:secretsmanager/secretPolicy:SecretPolicy", "aws:secretsmanager/secretRotation:SecretRotation",
    "aws:kms/alias:Alias", "aws:kms/keyPolicy:KeyPolicy", "aws:kms/grant:Grant",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:lambda/invocation:Invocation", "aws:lambda/permission:Permission",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/queryDefinition:QueryDefinition",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy",
    "aws:backup/vault:Vault", "aws:backup/plan:Plan", "aws:backup/vaultLockConfiguration:VaultLockConfiguration", "aws:backup/vaultPolicy:VaultPolicy",
    "aws:backup/vaultNotifications:VaultNotifications", "aws:backup/regionSettings:RegionSettings", "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault",
    "aws:scheduler/scheduleGroup:ScheduleGroup", "aws:ec2/eipAssociation:EipAssociation",
]);

/** Free by prefix: IAM and ACM (public certificates) have no charge; S3 buckets' settings resources neither. */
function isFree(type: string): boolean {
    if (!type.startsWith("aws:")) return true; // random, postgresql, tls, pulumi: not billed by AWS
    if (FREE_AWS.has(type) || type.startsWith("aws:iam/") || type.startsWith("aws:acm/") || type.startsWith("aws:appautoscaling/")) return true;
    return type.startsWith("aws:s3/bucket") && type !== "aws:s3/bucket:Bucket" && type !== "aws:s3/bucketV2:BucketV2";
}

/** A rule's answer: USD a month, free (null), or why it cannot be priced. */
type Priced = number | null | { unpriced: string };

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The region of an ARN (`arn:aws:backup:eu-west-1:…`), or undefined. */
const arnRegion = (arn: unknown): string | undefined => {
    const parts = str(arn)?.split(":");
    return parts && parts.length > 4 && parts[3] ? parts[3] : undefined;
};

/** A database a backup selection may protect. */
interface Database {
    resource: CostInputResource;
    kind: "rds" | "aurora";
    gb: number;
    region: string;
}

/** Runs a month of a Scheduler expression (`rate(1 day)`, `cron(0 3 * * ? *)`, `at(…)`: one-time, 0), or undefined. */
export function runsPerMonth(expression: string, hours: number): number | undefined {
    const days = hours / 24;
    const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
    if (rate) {
        const n = Number(rate[1]);
        if (n <= 0) return undefined;
        const unit = rate[2]!.replace(/s$/, "");
        return unit === "minute" ? (hours * 60) / n : unit === "hour" ? hours / n : days / n;
    }
    if (/^at\(/.test(expression.trim())) return 0;
    const cron = /^cron\((.+)\)$/.exec(expression.trim());
    if (!cron) return undefined;
    const f = cron[1]!.trim().split(/\s+/);
    if (f.length !== 6) return undefined;
    const [min, hour, dom, month, dow] = f as [string, string, string, string, string];
    const count = (field: string, lo: number, hi: number): number | undefined => {
        if (field === "*" || field === "?") return hi - lo + 1;
        let n = 0;
        for (const part of field.split(",")) {
            const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
            if (!m) return undefined; // names (MON, JAN), L, W, #: not counted
            const start = m[1] === "*" ? lo : Number(m[1]);
            const end = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined || m[1] === "*" ? hi : start;
            const step = m[3] !== undefined ? Number(m[3]) : 1;
            if (step <= 0 || end < start) return undefined;
            n += Math.floor((end - start) / step) + 1;
        }
        return n;
    };
    const minutes = count(min, 0, 59);
    const hrs = count(hour, 0, 23);
    const months = count(month, 1, 12);
    if (minutes === undefined || hrs === undefined || months === undefined) return undefined;
    let perMonth: number | undefined;
    if ((dom === "*" || dom === "?") && (dow === "*" || dow === "?")) perMonth = days;
    else if (dom !== "?" && dom !== "*") perMonth = count(dom, 1, 31);
    else {
        const d = count(dow, 1, 7);
        perMonth = d === undefined ? undefined : (d * days) / 7;
    }
    return perMonth === undefined ? undefined : minutes * hrs * perMonth * (months / 12);
}

/** Estimates a plan's monthly cost. See the module comment for the rules. */
export function estimate(plan: CostInputPlan, prices: PriceTable, assumptions: CostAssumptions): CostEstimate {
    const A = assumptions;
    const H = A.hoursPerMonth;
    const providerRegion = new Map<string, string>();
    const clusters = new Map<string, CostInputResource>();
    const taskDefs = new Map<string, CostInputResource[]>();
    const backupPlansByParent = new Map<string, CostInputResource[]>();
    const backupPlansByOwner = new Map<string, CostInputResource[]>();
    /** EventBridge rules by physical name (when set) and by logical name (an auto-name is it plus `-<7 hex>`). */
    const eventRules = new Map<string, CostInputResource>();
    for (const r of plan.resources) {
        if (r.type === "aws:cloudwatch/eventRule:EventRule") {
            eventRules.set(`logical:${r.name}`, r);
            const physical = str(r.inputs.name);
            if (physical) eventRules.set(`name:${physical}`, r);
        }
        if (r.type.startsWith("pulumi:providers:aws")) {
            const region = str(r.inputs.region);
            if (region) providerRegion.set(r.urn, region);
        } else if (r.type === "aws:rds/cluster:Cluster") {
            const id = str(r.inputs.clusterIdentifier);
            if (id) clusters.set(id, r);
        } else if (r.type === "aws:ecs/taskDefinition:TaskDefinition") {
            const family = str(r.inputs.family);
            if (family) taskDefs.set(family, [...(taskDefs.get(family) ?? []), r]);
        } else if (r.type === "aws:backup/plan:Plan") {
            if (r.parent) backupPlansByParent.set(r.parent, [...(backupPlansByParent.get(r.parent) ?? []), r]);
            const owner = `${r.stack ?? ""}\u0000${r.tenant ?? ""}`;
            backupPlansByOwner.set(owner, [...(backupPlansByOwner.get(owner) ?? []), r]);
        }
    }
    const regionOf = (r: CostInputResource): string => {
        const own = str(r.inputs.region);
        if (own) return own;
        if (r.provider) {
            const p = providerRegion.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
            if (p) return p;
        }
        return plan.region;
    };
    // Databases a backup selection may name: by identifier, and by the tenant tag the program puts on every tenant resource.
    const databasesById = new Map<string, Database>();
    const databasesByTenantTag = new Map<string, Database[]>();
    const databases: Database[] = [];
    for (const r of plan.resources) {
        let db: Database | undefined;
        if (r.type === "aws:rds/instance:Instance") {
            db = { resource: r, kind: "rds", gb: rdsStorageGb(r.inputs, A), region: regionOf(r) };
            const id = str(r.inputs.identifier);
            if (id) databasesById.set(`db:${id}`, db);
        } else if (r.type === "aws:rds/cluster:Cluster") {
            db = { resource: r, kind: "aurora", gb: A.aurora.storageGb, region: regionOf(r) };
            const id = str(r.inputs.clusterIdentifier);
            if (id) databasesById.set(`cluster:${id}`, db);
        }
        if (!db) continue;
        databases.push(db);
        const tag = str(obj(r.inputs.tags)["tenancy:tenant"]);
        if (tag) databasesByTenantTag.set(tag, [...(databasesByTenantTag.get(tag) ?? []), db]);
    }

    const taskDefOf = (ref: unknown, stack: string | undefined): CostInputResource | undefined => {
        const text = str(ref);
        if (!text) return undefined;
        const family = (text.includes("task-definition/") ? text.slice(text.indexOf("task-definition/") + "task-definition/".length) : text).replace(/:\d+$/, "");
        const candidates = taskDefs.get(family) ?? [];
        return candidates.find((t) => t.stack === stack) ?? candidates[0];
    };
    /** USD an hour of one Fargate task of a task definition, or why not. */
    const taskHour = (td: CostInputResource, p: RegionPrices): number | { unpriced: string } => {
        const cpu = num(td.inputs.cpu);
        const memory = num(td.inputs.memory);
        if (cpu === undefined || memory === undefined) return { unpriced: `task definition ${td.name} states no task-level cpu and memory` };
        const arm = str(obj(td.inputs.runtimePlatform).cpuArchitecture) === "ARM64";
        return (cpu / 1024) * (arm ? p.fargateArmVcpuHour : p.fargateVcpuHour) + (memory / 1024) * (arm ? p.fargateArmGbHour : p.fargateGbHour);
    };

    const selectedDatabases = (r: CostInputResource): Database[] => {
        const chosen = new Set<Database>();
        const resources = arr(r.inputs.resources).map(str).filter((s): s is string => s !== undefined);
        const tags: [string, string][] = [
            ...arr(r.inputs.selectionTags).map(obj).filter((t) => (str(t.type) ?? "STRINGEQUALS") === "STRINGEQUALS").map((t) => [str(t.key) ?? "", str(t.value) ?? ""] as [string, string]),
            ...arr(obj(r.inputs.condition).stringEquals ?? obj(arr(r.inputs.conditions)[0]).stringEquals).map(obj)
                .map((c) => [(str(c.key) ?? "").replace(/^aws:ResourceTag\//, ""), str(c.value) ?? ""] as [string, string]),
        ];
        for (const arn of resources) {
            const rest = arn.split(":").slice(5).join(":");
            const db = databasesById.get(rest);
            if (db) chosen.add(db);
        }
        // AWS Backup selects resources of its plan's region only: the region of its ARN pattern, else its own region.
        const region = resources.map(arnRegion).find((x) => x !== undefined && x !== "*") ?? regionOf(r);
        if (tags.length > 0 || resources.includes("*")) {
            const byTenant = tags.find(([k]) => k === "tenancy:tenant");
            const pool = (byTenant ? (databasesByTenantTag.get(byTenant[1]) ?? []) : databases).filter((db) => db.region === region);
            for (const db of pool) {
                const dbTags = obj(db.resource.inputs.tags);
                if (tags.every(([k, v]) => dbTags[k] === v)) chosen.add(db);
            }
        }
        // ARNs the plan cannot resolve (an output of another stack): the selection's tenant's own databases.
        if (chosen.size === 0 && r.tenant) {
            for (const db of (databasesByTenantTag.get(r.tenant) ?? databases.filter((d) => d.resource.tenant === r.tenant)).filter((d) => d.region === region)) chosen.add(db);
        }
        return [...chosen];
    };

    const rule = (r: CostInputResource, p: RegionPrices, region: string): Priced => {
        const i = r.inputs;
        switch (r.type) {
            case "aws:rds/instance:Instance": {
                const cls = str(i.instanceClass) ?? "";
                const hourly = p.rdsInstanceHour[cls];
                if (hourly === undefined) return { unpriced: `no price for instance class ${cls || "(none)"} in ${region}` };
                const storageType = str(i.storageType) ?? "gp2";
                const perGb = p.rdsStorageGbMonth[storageType];
                if (perGb === undefined) return { unpriced: `no price for storage type ${storageType} in ${region}` };
                const copies = i.multiAz === true ? 2 : 1;
                return copies * (hourly * H + rdsStorageGb(i, A) * perGb);
            }
            case "aws:rds/cluster:Cluster":
                return A.aurora.storageGb * p.auroraStorageGbMonth + A.aurora.ioMillionsPerMonth * p.auroraIoPerMillion;
            case "aws:rds/clusterInstance:ClusterInstance": {
                const cls = str(i.instanceClass) ?? "";
                if (cls === "db.serverless") {
                    const scaling = obj(clusters.get(str(i.clusterIdentifier) ?? "")?.inputs.serverlessv2ScalingConfiguration);
                    const min = num(scaling.minCapacity);
                    const max = num(scaling.maxCapacity);
                    if (min === undefined || max === undefined) return { unpriced: `serverless instance of cluster ${str(i.clusterIdentifier) ?? "?"} without a capacity range in the plan` };
                    return (min + A.aurora.acuUtilization * (max - min)) * H * p.auroraAcuHour;
                }
                const hourly = p.auroraInstanceHour[cls];
                return hourly === undefined ? { unpriced: `no Aurora price for instance class ${cls || "(none)"} in ${region}` } : hourly * H;
            }
            case "aws:ecs/service:Service": {
                const tasks = num(i.desiredCount) ?? 0;
                if (tasks === 0) return 0;
                const td = taskDefOf(i.taskDefinition, r.stack);
                if (!td) return { unpriced: `task definition ${str(i.taskDefinition) ?? "?"} not in the plan` };
                const hour = taskHour(td, p);
                return typeof hour === "number" ? tasks * H * hour : hour;
            }
            case "aws:scheduler/schedule:Schedule": {
                const expr = str(i.scheduleExpression) ?? "";
                const runs = runsPerMonth(expr, H);
                if (runs === undefined) return { unpriced: `schedule expression '${expr}' not understood` };
                let cost = (runs * p.schedulerInvocationPerMillion) / 1e6;
                const ecs = obj(obj(i.target).ecsParameters);
                if (Object.keys(ecs).length > 0) {
                    const td = taskDefOf(ecs.taskDefinitionArn, r.stack);
                    if (!td) return { unpriced: `task definition ${str(ecs.taskDefinitionArn) ?? "?"} not in the plan` };
                    const hour = taskHour(td, p);
                    if (typeof hour !== "number") return hour;
                    cost += runs * (num(ecs.taskCount) ?? 1) * (A.scheduledTasks.minutesPerRun / 60) * hour;
                }
                return cost;
            }
            case "aws:cloudwatch/eventTarget:EventTarget": {
                // Scheduled rules are free; a target that runs an ECS task costs its runs (like a Scheduler schedule).
                const ecs = obj(i.ecsTarget);
                if (Object.keys(ecs).length === 0) return null;
                const ruleName = str(i.rule) ?? "";
                const ev = eventRules.get(`name:${ruleName}`) ?? eventRules.get(`logical:${ruleName.replace(/-[0-9a-f]{7}$/, "")}`);
                if (!ev) return { unpriced: `rule ${ruleName || "?"} not in the plan` };
                const expr = str(ev.inputs.scheduleExpression);
                if (!expr) return { unpriced: `rule ${ev.name} runs on events, not a schedule: how often is unknown` };
                const runs = runsPerMonth(expr, H);
                if (runs === undefined) return { unpriced: `schedule expression '${expr}' not understood` };
                const td = taskDefOf(ecs.taskDefinitionArn, r.stack);
                if (!td) return { unpriced: `task definition ${str(ecs.taskDefinitionArn) ?? "?"} not in the plan` };
                const hour = taskHour(td, p);
                return typeof hour === "number" ? runs * (num(ecs.taskCount) ?? 1) * (A.scheduledTasks.minutesPerRun / 60) * hour : hour;
            }
            case "aws:lb/loadBalancer:LoadBalancer": {
                const kind = str(i.loadBalancerType) ?? "application";
                if (kind !== "application") return { unpriced: `${kind} load balancers have no price in the table` };
                const zones = Math.max(1, arr(i.subnets).length || arr(i.subnetMappings).length);
                return H * (p.albHour + A.alb.lcuPerHour * p.albLcuHour) + (i.internal === true ? 0 : zones * H * p.publicIpv4Hour);
            }
            case "aws:ec2/natGateway:NatGateway":
                return H * p.natHour + A.nat.gbPerGatewayMonth * p.natGb;
            case "aws:ec2/eip:Eip":
                return H * p.publicIpv4Hour;
            case "aws:ec2/vpcEndpoint:VpcEndpoint": {
                const kind = str(i.vpcEndpointType) ?? "Gateway";
                if (kind === "Gateway") return null;
                if (kind !== "Interface") return { unpriced: `${kind} endpoints have no price in the table` };
                return Math.max(1, arr(i.subnetIds).length) * H * p.interfaceEndpointHour + A.vpcEndpoints.gbPerEndpointMonth * p.interfaceEndpointGb;
            }
            case "aws:kms/key:Key":
                return p.kmsKeyMonth;
            case "aws:secretsmanager/secret:Secret":
                return p.secretMonth;
            case "aws:ssm/parameter:Parameter":
                return str(i.tier) === "Advanced" ? p.ssmAdvancedParameterMonth : null;
            case "aws:cloudwatch/logGroup:LogGroup": {
                // Kept for the retention (never expiring: a year's worth, the estimate's horizon), in months of ingestion.
                const days = Math.min(num(i.retentionInDays) || 365, 365);
                return A.logs.ingestGbPerGroupMonth * (p.logsIngestGb + (days / 30) * p.logsStorageGbMonth);
            }
            case "aws:cloudwatch/metricAlarm:MetricAlarm": {
                const queries = arr(i.metricQueries).map(obj).filter((q) => Object.keys(obj(q.metric)).length > 0 || q.metric !== undefined);
                const metrics = queries.length ? queries.map((q) => num(obj(q.metric).period) ?? num(i.period) ?? 60) : [num(i.period) ?? 60];
                return metrics.reduce((n, period) => n + (period < 60 ? p.alarmHighResolutionMetricMonth : p.alarmMetricMonth), 0);
            }
            case "aws:cloudwatch/compositeAlarm:CompositeAlarm":
                return p.compositeAlarmMonth;
            case "aws:cloudwatch/dashboard:Dashboard":
                return p.dashboardMonth;
            case "aws:sns/topic:Topic":
                return (A.sns.publishesPerTopicMonth * p.snsPublishPerMillion) / 1e6;
            case "aws:s3/bucket:Bucket":
            case "aws:s3/bucketV2:BucketV2":
                return A.s3.gbPerBucket * p.s3StandardGbMonth;
            case "aws:ecr/repository:Repository":
                return A.ecr.gbPerRepository * p.ecrStorageGbMonth;
            case "aws:lambda/function:Function": {
                const n = A.lambda.invocationsPerFunctionMonth;
                return (n * p.lambdaRequestPerMillion) / 1e6 + n * A.lambda.secondsPerInvocation * ((num(i.memorySize) ?? 128) / 1024) * p.lambdaGbSecond;
            }
            case "aws:backup/selection:Selection":
                return backupSelection(r, p);
            default:
                return isFree(r.type) ? null : { unpriced: "no price rule for this type" };
        }
    };

    /** Recovery points of a selection's databases for the retention of its plan(s), and their copies in other regions. */
    const backupSelection = (r: CostInputResource, p: RegionPrices): Priced => {
        const plans = (r.parent ? backupPlansByParent.get(r.parent) : undefined) ?? backupPlansByOwner.get(`${r.stack ?? ""}\u0000${r.tenant ?? ""}`) ?? [];
        const rules = plans.flatMap((pl) => arr(pl.inputs.rules).map(obj));
        const retention = Math.max(0, ...rules.map((ru) => num(obj(ru.lifecycle).deleteAfter) ?? A.backup.retentionDays)) || A.backup.retentionDays;
        const copies = rules.flatMap((ru) => arr(ru.copyActions).map(obj)).map((c) => ({
            region: arnRegion(c.destinationVaultArn),
            retention: num(obj(c.lifecycle).deleteAfter) ?? retention,
        }));
        const dbs = selectedDatabases(r);
        if (dbs.length === 0) return { unpriced: "selects no database of the plan" };
        const change = A.backup.dailyChangeFraction;
        let cost = 0;
        for (const db of dbs) {
            const at = prices.regions[db.region] ?? p;
            const perGb = (q: RegionPrices) => (db.kind === "rds" ? q.backupRdsGbMonth : q.backupAuroraGbMonth);
            cost += db.gb * (1 + change * retention) * perGb(at);
            for (const c of copies) {
                const to = c.region ? prices.regions[c.region] : undefined;
                if (!to) return { unpriced: `copy region ${c.region ?? "?"} not in the price table` };
                // The copy keeps its own retention; each month the changed data (2 %/day × 30 by default) crosses regions.
                cost += db.gb * (1 + change * c.retention) * perGb(to) + db.gb * change * 30 * at.crossRegionTransferGb;
            }
        }
        return cost;
    };

    // Price every resource into its owner's accumulator.
    interface Acc { byType: Map<string, number>; unpriced: Map<string, { count: number; reasons: Set<string> }>; pools: Map<string, number> }
    const newAcc = (): Acc => ({ byType: new Map(), unpriced: new Map(), pools: new Map() });
    const accs = new Map<string | null, Acc>();
    const accOf = (owner: string | null) => {
        let a = accs.get(owner);
        if (!a) accs.set(owner, (a = newAcc()));
        return a;
    };
    for (const r of plan.resources) {
        if (!r.custom || isFree(r.type)) continue;
        const region = regionOf(r);
        const p = prices.regions[region];
        const acc = accOf(r.tenant);
        const result: Priced = p ? rule(r, p, region) : { unpriced: `no prices for ${region} (the price table has no such region: cost/prices.json)` };
        if (result === null) continue;
        if (typeof result === "number") {
            acc.byType.set(r.type, (acc.byType.get(r.type) ?? 0) + result);
            if (r.tenant === null) {
                const pool = poolOf(r.name);
                acc.pools.set(pool, (acc.pools.get(pool) ?? 0) + result);
            }
        } else {
            const u = acc.unpriced.get(r.type) ?? { count: 0, reasons: new Set<string>() };
            u.count++;
            u.reasons.add(result.unpriced);
            acc.unpriced.set(r.type, u);
        }
    }

    const toCost = (acc: Acc | undefined): { byType: Record<string, number>; cents: number; unpriced?: Record<string, string> } => {
        const byType: Record<string, number> = {};
        let total = 0;
        for (const type of [...(acc?.byType.keys() ?? [])].sort()) {
            const c = Math.round(acc!.byType.get(type)! * 100);
            byType[type] = c / 100;
            total += c;
        }
        const unpriced = acc && acc.unpriced.size
            ? Object.fromEntries([...acc.unpriced].sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([type, u]) => [type, `${u.count} resource${u.count === 1 ? "" : "s"}: ${[...u.reasons].join("; ")}`]))
            : undefined;
        return { byType, cents: total, ...(unpriced ? { unpriced } : {}) };
    };

    // Weights and pools.
    const hybridWeight = A.apportion.hybridWeight ?? DEFAULT_WEIGHT;
    const weights = new Map<string, number>();
    for (const t of plan.tenants) {
        if (t.status === "offboarded") continue;
        if (t.tier === "shared") weights.set(t.slug, t.connectionLimit ?? DEFAULT_WEIGHT);
        else if (t.tier === "hybrid") weights.set(t.slug, hybridWeight);
    }
    const platformAcc = accs.get(null);
    const platform = toCost(platformAcc);
    const poolAmounts = [...(platformAcc?.pools ?? new Map<string, number>())];
    const carriers = (pool: string): string[] => plan.tenants
        .filter((t) => weights.has(t.slug) && (pool === "platform" ? true : t.tier === "shared" && `cell ${t.cell ?? ""}` === pool))
        .map((t) => t.slug).sort();
    // A pool nobody can carry joins the platform's.
    const merged = new Map<string, number>();
    for (const [pool, amount] of poolAmounts) {
        const target = pool === "platform" || carriers(pool).length > 0 ? pool : "platform";
        merged.set(target, (merged.get(target) ?? 0) + amount);
    }
    const poolNames = [...merged.keys()].sort((a, b) => (a === "platform" ? 1 : b === "platform" ? -1 : a < b ? -1 : 1));
    const poolCents = split(platform.cents, poolNames.map((n) => Math.max(0, merged.get(n)!)));
    const shares = new Map<string, number>();
    let unapportioned = 0;
    const pools: CostPool[] = poolNames.map((pool, k) => {
        const who = carriers(pool);
        const amount = poolCents[k]!;
        if (who.length === 0) unapportioned += amount;
        else split(amount, who.map((s) => weights.get(s)!)).forEach((c, j) => shares.set(who[j]!, (shares.get(who[j]!) ?? 0) + c));
        return { pool, amount: amount / 100, tenants: who };
    });

    const tenants: Record<string, MonthlyCost> = {};
    for (const t of plan.tenants) {
        const own = toCost(accs.get(t.slug));
        const share = shares.get(t.slug) ?? 0;
        tenants[t.slug] = {
            total: (own.cents + share) / 100,
            byType: own.byType,
            apportioned: share / 100,
            weight: weights.get(t.slug) ?? 0,
            ...(own.unpriced ? { unpriced: own.unpriced } : {}),
        };
    }
    return {
        tenants,
        platform: {
            total: platform.cents / 100,
            byType: platform.byType,
            unapportioned: unapportioned / 100,
            pools,
            ...(platform.unpriced ? { unpriced: platform.unpriced } : {}),
        },
    };
}

/** The apportionment pool of a platform resource: its cell's (`cell-<name>-…`), else the platform's. */
function poolOf(name: string): string {
    const m = /^cell-([a-z][a-z0-9]{0,11})(?:-|$)/.exec(name);
    return m ? `cell ${m[1]}` : "platform";
}

/** RDS storage billed: the allocated size, plus the assumed part of the autoscaling headroom. */
function rdsStorageGb(i: Record<string, unknown>, A: CostAssumptions): number {
    const allocated = num(i.allocatedStorage) ?? 20;
    const max = num(i.maxAllocatedStorage) ?? allocated;
    return allocated + A.databases.storageGrowth * Math.max(0, max - allocated);
}

/** Splits `cents` (a whole number) in proportion to `weights` into whole cents that add up to it (largest remainder). */
export function split(cents: number, weights: readonly number[]): number[] {
    const sum = weights.reduce((a, b) => a + b, 0);
    if (weights.length === 0) return [];
    if (sum <= 0) return weights.map((_, i) => (i === 0 ? cents : 0));
    const exact = weights.map((w) => (cents * w) / sum);
    const out = exact.map(Math.floor);
    let left = cents - out.reduce((a, b) => a + b, 0);
    const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k]![1]]! += 1;
    return out;
}
