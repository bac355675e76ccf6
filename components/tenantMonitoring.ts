import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tenantDashboard } from "../model/dashboards";
import {
    alarmTopicName, APP_METRICS, APP_METRICS_NAMESPACE, connectionsThreshold, freeStorageThresholdBytes, MIN_REQUESTS_PER_MINUTE, tenantLogQuery,
    type AlarmKind, type MonitoringPlan, type PlannedAlarm,
} from "../model/monitoring";
import type { Tenant } from "../tenants/registry";
import { alarmTopic } from "./platformMonitoring";

/** What one placement of the tenant offers to watch (absent parts: the placement has none). */
export interface PlacementResources {
    /** Its RDS instance (hybrid, dedicated), with the size preset's class and storage the thresholds are relative to. */
    database?: { identifier: pulumi.Input<string>; instanceClass: string; allocatedStorageGb: number };
    /** Its own ALB and target group (dedicated): their ARN suffixes are the CloudWatch dimensions. */
    loadBalancer?: { arnSuffix: pulumi.Input<string>; targetGroupArnSuffix: pulumi.Input<string> };
    /** Its own ECS service (dedicated) and the service's log group. */
    service?: { clusterArn: pulumi.Input<string>; serviceName: pulumi.Input<string>; logGroupName: pulumi.Input<string> };
}

export interface TenantMonitoringArgs {
    /** The environment's name: part of every alarm, dashboard and topic name. */
    env: string;
    /** The tenant: slug, display name, status, release, contact. */
    tenant: Tenant;
    /** What to declare (model/monitoring.ts `monitoringPlan`): the same plan the platform's overview lists. */
    plan: MonitoringPlan;
    /** Per placement label (`""` for a tenant that never moved), what it offers to watch. */
    resources: Record<string, PlacementResources>;
    /** The environment's alarm topic ARN per region (PlatformOutputs.alarmTopics). */
    alarmTopics: pulumi.Input<Record<string, string>>;
    /** The topics' key ARN per region: encrypts the tenant's own contact topic. Required with a contact. */
    alarmKeyArns?: pulumi.Input<Record<string, string>>;
    /** The shared app's log group: the saved query of a tenant it serves. Required when the shared app serves the tenant. */
    appLogGroupName?: pulumi.Input<string>;
    /** Tags of the alarms and topics (ownershipTags of the tenant). */
    tags: Record<string, string>;
}

type Dimensions = Record<string, pulumi.Input<string>>;

/** How each alarm kind is measured: a metric (or metric math) and how it is compared. */
interface AlarmSpec {
    description: string;
    comparisonOperator: string;
    period: number;
    evaluationPeriods: number;
    datapointsToAlarm: number;
    treatMissingData: string;
    threshold: number;
    metric?: { namespace: string; metricName: string; dimensions: Dimensions; statistic?: string; extendedStatistic?: string };
    metricQueries?: aws.types.input.cloudwatch.MetricAlarmMetricQuery[];
}

function query(id: string, namespace: string, metricName: string, dimensions: Dimensions, period: number): aws.types.input.cloudwatch.MetricAlarmMetricQuery {
    return { id, returnData: false, metric: { namespace, metricName, dimensions, period, stat: "Sum" } };
}

/**
 * One tenant's monitoring, in the regions its placements live in: the alarms its plan names (tagged with the tenant,
 * notifying the environment's topic of their region and, with a contact, a topic of the tenant's own), its dashboard
 * `tenancy-<env>-<slug>` and a saved Logs Insights query of its log lines.
 */
export class TenantMonitoring extends pulumi.ComponentResource {
    /** Alarm names, as the plan has them (the rollout gate's list). */
    readonly alarmNames: string[];

    constructor(name: string, args: TenantMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        const { plan, tenant, env } = args;
        const missing = plan.alarms.flatMap((a) => {
            if (a.placement === undefined) return [];
            const r = args.resources[a.placement];
            const needs = a.kind.startsWith("db-") ? "database" : a.kind.startsWith("ecs-") ? "service" : "loadBalancer";
            return r?.[needs] ? [] : [`${a.name} needs the placement${a.placement ? ` '${a.placement}'` : ""}'s ${needs}`];
        });
        if (plan.app && args.appLogGroupName === undefined) missing.push("the shared app's log group (appLogGroupName)");
        if (tenant.monitoring?.contact && !args.alarmKeyArns) missing.push("the alarm topics' keys (alarmKeyArns) for the contact's topic");
        if (missing.length) throw new Error(`TenantMonitoring ${name}: ${missing.join("; ")}`);
        super("tenancy:tenant:TenantMonitoring", name, {}, opts);
        const child = { parent: this };
        const regions = [...new Set(plan.alarms.map((a) => a.region))];
        const envTopic = (region: string) => pulumi.output(args.alarmTopics).apply((t) => {
            const arn = t[region];
            if (!arn) throw new Error(`TenantMonitoring ${name}: the platform has no alarm topic in ${region} (deploy the platform stack first)`);
            return arn;
        });
        // The contact's own topic per region: a filter on the environment's topic cannot tell one tenant's alarm
        // notifications (CloudWatch sends no message attributes) from those of a tenant whose slug extends this one's.
        const contact = tenant.monitoring?.contact;
        const contactTopics = new Map<string, pulumi.Output<string>>();
        if (contact) {
            for (const region of regions) {
                const topic = alarmTopic(`${name}-contact-${region}`, {
                    topicName: alarmTopicName(env, tenant.slug),
                    region,
                    // Never an unencrypted topic: a region without the platform's key is an error, not a default.
                    kmsKeyArn: pulumi.output(args.alarmKeyArns!).apply((k) => {
                        const arn = k[region];
                        if (!arn) throw new Error(`TenantMonitoring ${name}: the platform has no alarm key in ${region} (deploy the platform stack first)`);
                        return arn;
                    }),
                    alarmNamePrefix: `tenancy-${env}-${tenant.slug}-`,
                    emails: [contact],
                    tags: args.tags,
                }, child);
                contactTopics.set(region, topic.arn);
            }
        }

        const alarms = plan.alarms.map((a) => {
            const spec = this.spec(a, args);
            const actions = [envTopic(a.region), ...(contactTopics.has(a.region) ? [contactTopics.get(a.region)!] : [])];
            return new aws.cloudwatch.MetricAlarm(`${name}-${a.kind}${a.placement ? `-${a.placement}` : ""}`, {
                name: a.name,
                alarmDescription: `${tenant.slug} (${env}): ${spec.description}`,
                comparisonOperator: spec.comparisonOperator,
                threshold: spec.threshold,
                evaluationPeriods: spec.evaluationPeriods,
                datapointsToAlarm: spec.datapointsToAlarm,
                treatMissingData: spec.treatMissingData,
                ...(spec.metric ? {
                    namespace: spec.metric.namespace,
                    metricName: spec.metric.metricName,
                    dimensions: spec.metric.dimensions,
                    period: spec.period,
                    ...(spec.metric.statistic ? { statistic: spec.metric.statistic } : {}),
                    ...(spec.metric.extendedStatistic ? { extendedStatistic: spec.metric.extendedStatistic, evaluateLowSampleCountPercentiles: "ignore" } : {}),
                } : { metricQueries: spec.metricQueries }),
                actionsEnabled: true,
                alarmActions: actions,
                okActions: actions,
                region: a.region,
                tags: args.tags,
            }, child);
        });
        this.alarmNames = plan.alarms.map((a) => a.name);

        // --- The tenant's log lines: the shared app's group filtered by the `tenant` field, or its own service's group.
        const live = plan.placements.find((p) => p.label === plan.live && p.tier === "dedicated");
        const ownLogs = live ? args.resources[live.label]?.service?.logGroupName : undefined;
        const logs = ownLogs !== undefined
            ? { region: live!.region, group: ownLogs, filter: false }
            : args.appLogGroupName !== undefined && plan.app ? { region: plan.app.region, group: args.appLogGroupName, filter: true } : undefined;
        if (logs) {
            new aws.cloudwatch.QueryDefinition(`${name}-logs`, {
                name: plan.query.name,
                queryString: tenantLogQuery(tenant.slug, logs.filter),
                logGroupNames: [logs.group],
                region: logs.region,
            }, child);
        }

        // --- The dashboard, in the live placement's region; each widget names its own.
        const dims = plan.placements.map((p) => {
            const r = args.resources[p.label] ?? {};
            return pulumi.all([
                r.database?.identifier, r.loadBalancer?.arnSuffix, r.loadBalancer?.targetGroupArnSuffix, r.service?.clusterArn, r.service?.serviceName,
            ]).apply(([db, lb, tg, cluster, service]) => ({
                label: p.label,
                region: p.region,
                ...(db ? { database: { identifier: db } } : {}),
                ...(lb && tg && p.serving ? { loadBalancer: { loadBalancer: lb, targetGroup: tg } } : {}),
                ...(cluster && service && p.serving ? { service: { cluster: cluster.split("/").pop()!, service } } : {}),
            }));
        });
        new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
            dashboardName: plan.dashboard.name,
            dashboardBody: pulumi.all([pulumi.all(alarms.map((a) => a.arn)), pulumi.all(dims), logs?.group]).apply(([arns, placements, group]) => JSON.stringify(tenantDashboard({
                env,
                slug: tenant.slug,
                displayName: tenant.displayName,
                tier: tenant.tier,
                status: tenant.status,
                releaseVersion: tenant.release.version,
                region: plan.dashboard.region,
                alarmArns: arns,
                ...(plan.app ? { app: { region: plan.app.region } } : {}),
                placements,
                ...(logs && group ? { logs: { region: logs.region, logGroupName: group, filterByTenant: logs.filter } } : {}),
            }))),
            region: plan.dashboard.region,
        }, child);
        this.registerOutputs({ alarmNames: this.alarmNames });
    }

    /** The metric, comparison and evaluation of one planned alarm, wired to its placement's resources. */
    private spec(a: PlannedAlarm, args: TenantMonitoringArgs): AlarmSpec {
        const r = a.placement !== undefined ? args.resources[a.placement]! : {};
        const appDims: Dimensions = { Environment: args.env, Tenant: args.tenant.slug };
        const lb = (): Dimensions => ({ LoadBalancer: r.loadBalancer!.arnSuffix });
        const tg = (): Dimensions => ({ LoadBalancer: r.loadBalancer!.arnSuffix, TargetGroup: r.loadBalancer!.targetGroupArnSuffix });
        const svc = (): Dimensions => ({ ClusterName: pulumi.output(r.service!.clusterArn).apply((arn) => arn.split("/").pop()!), ServiceName: r.service!.serviceName });
        const db = (): Dimensions => ({ DBInstanceIdentifier: r.database!.identifier });
        // Traffic alarms: 3 bad minutes of 5; no traffic is no problem. Resource alarms: 3 bad 5-minute periods in a row.
        const traffic = { period: 60, evaluationPeriods: 5, datapointsToAlarm: 3, treatMissingData: "notBreaching" };
        const load = { period: 300, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "missing" };
        const above = "GreaterThanThreshold";
        const specs: Record<AlarmKind, () => AlarmSpec> = {
            "app-errors": () => ({
                ...traffic, comparisonOperator: above, threshold: a.threshold,
                description: `the shared app's 5xx responses above ${a.threshold}% of its requests (minutes with at least ${MIN_REQUESTS_PER_MINUTE})`,
                metricQueries: [
                    query("requests", APP_METRICS_NAMESPACE, APP_METRICS.requests, appDims, 60),
                    query("errors", APP_METRICS_NAMESPACE, APP_METRICS.errors, appDims, 60),
                    { id: "rate", label: "5xx % of requests", returnData: true, expression: `IF(FILL(requests, 0) >= ${MIN_REQUESTS_PER_MINUTE}, 100 * FILL(errors, 0) / FILL(requests, 0), 0)` },
                ],
            }),
            "app-latency-p99": () => ({
                ...traffic, comparisonOperator: above, threshold: a.threshold * 1000,
                description: `the shared app's p99 response time above ${a.threshold} s`,
                metric: { namespace: APP_METRICS_NAMESPACE, metricName: APP_METRICS.latency, dimensions: appDims, extendedStatistic: "p99" },
            }),
            "app-connections": () => {
                const limit = args.plan.app!.connectionLimit!;
                return {
                    ...traffic, evaluationPeriods: 3, comparisonOperator: above, threshold: (a.threshold / 100) * limit,
                    description: `open connections above ${a.threshold}% of its runtime role's limit of ${limit} (Sum of DbConnections per minute: one sample per task per minute, its EMF Timestamp floored to the minute)`,
                    metric: { namespace: APP_METRICS_NAMESPACE, metricName: APP_METRICS.connections, dimensions: appDims, statistic: "Sum" },
                };
            },
            "alb-5xx": () => ({
                ...traffic, comparisonOperator: above, threshold: a.threshold,
                description: `5xx responses (targets' and the load balancer's) above ${a.threshold}% of requests`,
                // RequestCount counts requests for which a target was chosen: it has the ELB's 502 and 504 (the target
                // failed) but not its 503 (no healthy target) or 500: only those are added to the denominator.
                metricQueries: [
                    query("requests", "AWS/ApplicationELB", "RequestCount", lb(), 60),
                    query("target5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb(), 60),
                    query("elb5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb(), 60),
                    query("elb502", "AWS/ApplicationELB", "HTTPCode_ELB_502_Count", lb(), 60),
                    query("elb504", "AWS/ApplicationELB", "HTTPCode_ELB_504_Count", lb(), 60),
                    { id: "total", label: "requests", returnData: false, expression: "FILL(requests, 0) + FILL(elb5xx, 0) - FILL(elb502, 0) - FILL(elb504, 0)" },
                    {
                        id: "rate", label: "5xx % of requests", returnData: true,
                        expression: `IF(total >= ${MIN_REQUESTS_PER_MINUTE}, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / total, 0)`,
                    },
                ],
            }),
            "alb-latency-p99": () => ({
                ...traffic, comparisonOperator: above, threshold: a.threshold,
                description: `the load balancer's p99 target response time above ${a.threshold} s`,
                metric: { namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", dimensions: tg(), extendedStatistic: "p99" },
            }),
            // Fires on the outage the others miss: no target registered or none healthy reads as 0 unhealthy and a quiet
            // service's 5xx rate never counts; no datapoint at all (the target group not reporting) is an outage too.
            "alb-no-healthy-targets": () => ({
                ...traffic, treatMissingData: "breaching", comparisonOperator: "LessThanThreshold", threshold: 1,
                description: "no healthy target behind the load balancer",
                metric: { namespace: "AWS/ApplicationELB", metricName: "HealthyHostCount", dimensions: tg(), statistic: "Minimum" },
            }),
            "alb-unhealthy-targets": () => ({
                ...traffic, evaluationPeriods: 3, comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: a.threshold,
                description: `${a.threshold} or more unhealthy targets`,
                metric: { namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", dimensions: tg(), statistic: "Maximum" },
            }),
            "ecs-cpu": () => ({
                ...load, treatMissingData: "notBreaching", comparisonOperator: above, threshold: a.threshold,
                description: `the service's CPU above ${a.threshold}%`,
                metric: { namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: svc(), statistic: "Average" },
            }),
            "ecs-memory": () => ({
                ...load, treatMissingData: "notBreaching", comparisonOperator: above, threshold: a.threshold,
                description: `the service's memory above ${a.threshold}%`,
                metric: { namespace: "AWS/ECS", metricName: "MemoryUtilization", dimensions: svc(), statistic: "Average" },
            }),
            "db-cpu": () => ({
                ...load, comparisonOperator: above, threshold: a.threshold,
                description: `the database's CPU above ${a.threshold}%`,
                metric: { namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: db(), statistic: "Average" },
            }),
            "db-free-storage": () => ({
                ...load, evaluationPeriods: 2, datapointsToAlarm: 2, comparisonOperator: "LessThanThreshold",
                threshold: freeStorageThresholdBytes(a.threshold, r.database!.allocatedStorageGb),
                // FreeStorageSpace is bytes free on the current volume and CloudWatch has no allocated size to divide by, so
                // the threshold is absolute: below autoscaling's own trigger at the preset's size (10% of the volume, which
                // only grows), it means autoscaling did not act (6 h between modifications, or at maxAllocatedStorage).
                description: `the database's free storage below ${a.threshold}% of its preset's ${r.database!.allocatedStorageGb} GiB: storage autoscaling could not keep up (it acts below 10% of what is allocated, at most every 6 hours) or reached its ceiling`,
                metric: { namespace: "AWS/RDS", metricName: "FreeStorageSpace", dimensions: db(), statistic: "Minimum" },
            }),
            "db-connections": () => ({
                ...load, comparisonOperator: above, threshold: connectionsThreshold(a.threshold, r.database!.instanceClass),
                description: `the database's connections above ${a.threshold}% of what ${r.database!.instanceClass} allows`,
                metric: { namespace: "AWS/RDS", metricName: "DatabaseConnections", dimensions: db(), statistic: "Maximum" },
            }),
        };
        return specs[a.kind]();
    }
}
