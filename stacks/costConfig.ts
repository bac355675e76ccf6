/**
 * `tenancy:cost`: the usage assumptions of the monthly cost estimate in `npm run plan` (cost/estimate.ts). Prices come
 * from the committed price table (cost/prices.json); what a price multiplies (hours, traffic, stored gigabytes) is
 * usage the program cannot know, so it is assumed here, with defaults, and a stack may override any of it.
 * README "Cost" explains each assumption.
 */
import { z } from "zod";

const range = (min: number, max: number, what: string) =>
    z.number(`must be a number (${what})`).min(min, `must be ${min} to ${max} (${what})`).max(max, `must be ${min} to ${max} (${what})`);
const gb = (what: string) => range(0, 10_000_000, `GB ${what}`);

/** The defaults, in one place: the schema's and the README's. */
export const COST_DEFAULTS = {
    /** Hours a month: AWS's pricing pages use 730 (365 × 24 / 12). */
    hoursPerMonth: 730,
    /** Average load-balancer capacity units an ALB uses per hour (new connections, active connections, bytes, rules). */
    alb: { lcuPerHour: 1 },
    /** Data a NAT gateway processes a month (image pulls, calls to AWS APIs and the internet), per gateway. */
    nat: { gbPerGatewayMonth: 100 },
    /** Data an interface VPC endpoint processes a month, per endpoint. */
    vpcEndpoints: { gbPerEndpointMonth: 10 },
    /** RDS storage: the part of the autoscaling headroom (allocated → maxAllocated) assumed in use; 0 bills the allocated size. */
    databases: { storageGrowth: 0 },
    /**
     * Aurora cells: the average Serverless v2 capacity as a point in min..max (0 = always at min, 1 = always at max),
     * and per cluster its stored data and I/O requests (Aurora Standard storage).
     */
    aurora: { acuUtilization: 0.25, storageGb: 50, ioMillionsPerMonth: 100 },
    /** CloudWatch Logs ingested a month per log group; stored data is that times the retention (capped at a year) in months. */
    logs: { ingestGbPerGroupMonth: 1 },
    /** Data an S3 bucket holds (access logs, dumps), per bucket. */
    s3: { gbPerBucket: 10 },
    /** Images an ECR repository holds, per repository. */
    ecr: { gbPerRepository: 5 },
    /**
     * AWS Backup: the part of a protected database that changes each day (each recovery point stores the change), and
     * the retention assumed when no backup plan of the selection states one.
     */
    backup: { dailyChangeFraction: 0.02, retentionDays: 35 },
    /** How long one run of a scheduled ECS task (e.g. a schema dump) lasts. */
    scheduledTasks: { minutesPerRun: 10 },
    /** Messages published to an SNS topic a month (alarm notifications). */
    sns: { publishesPerTopicMonth: 10_000 },
    /** Invocations of a Lambda function a month (the role managers run once per deploy) and their duration. */
    lambda: { invocationsPerFunctionMonth: 100, secondsPerInvocation: 5 },
    /**
     * How the platform's shared resources are split: a shared tenant weighs its runtime connection limit; a hybrid
     * tenant weighs `hybridWeight` (default: the stack's `shared.database.tenantConnectionLimit`, as much as a shared
     * tenant with the default limit).
     */
    apportion: {} as { hybridWeight?: number },
};

export const CostConfigSchema = z.strictObject({
    hoursPerMonth: range(1, 744, "hours in a month; AWS prices a month as 730").default(COST_DEFAULTS.hoursPerMonth),
    alb: z.strictObject({ lcuPerHour: range(0, 100_000, "LCUs per hour") .default(COST_DEFAULTS.alb.lcuPerHour) }).default(COST_DEFAULTS.alb),
    nat: z.strictObject({ gbPerGatewayMonth: gb("per NAT gateway a month").default(COST_DEFAULTS.nat.gbPerGatewayMonth) }).default(COST_DEFAULTS.nat),
    vpcEndpoints: z.strictObject({ gbPerEndpointMonth: gb("per endpoint a month").default(COST_DEFAULTS.vpcEndpoints.gbPerEndpointMonth) }).default(COST_DEFAULTS.vpcEndpoints),
    databases: z.strictObject({ storageGrowth: range(0, 1, "the part of allocated → maxAllocated storage in use").default(COST_DEFAULTS.databases.storageGrowth) }).default(COST_DEFAULTS.databases),
    aurora: z.strictObject({
        acuUtilization: range(0, 1, "0 = always at minCapacity, 1 = always at maxCapacity").default(COST_DEFAULTS.aurora.acuUtilization),
        storageGb: gb("stored per cluster").default(COST_DEFAULTS.aurora.storageGb),
        ioMillionsPerMonth: range(0, 10_000_000, "millions of I/O requests a month per cluster").default(COST_DEFAULTS.aurora.ioMillionsPerMonth),
    }).default(COST_DEFAULTS.aurora),
    logs: z.strictObject({ ingestGbPerGroupMonth: gb("ingested per log group a month").default(COST_DEFAULTS.logs.ingestGbPerGroupMonth) }).default(COST_DEFAULTS.logs),
    s3: z.strictObject({ gbPerBucket: gb("stored per bucket").default(COST_DEFAULTS.s3.gbPerBucket) }).default(COST_DEFAULTS.s3),
    ecr: z.strictObject({ gbPerRepository: gb("stored per repository").default(COST_DEFAULTS.ecr.gbPerRepository) }).default(COST_DEFAULTS.ecr),
    backup: z.strictObject({
        dailyChangeFraction: range(0, 1, "the part of a database that changes a day").default(COST_DEFAULTS.backup.dailyChangeFraction),
        retentionDays: z.int("must be a whole number of days").min(1, "must be 1 to 36500 days").max(36500, "must be 1 to 36500 days").default(COST_DEFAULTS.backup.retentionDays),
    }).default(COST_DEFAULTS.backup),
    scheduledTasks: z.strictObject({ minutesPerRun: range(0, 1440, "minutes per run").default(COST_DEFAULTS.scheduledTasks.minutesPerRun) }).default(COST_DEFAULTS.scheduledTasks),
    sns: z.strictObject({ publishesPerTopicMonth: range(0, 1e12, "messages a month").default(COST_DEFAULTS.sns.publishesPerTopicMonth) }).default(COST_DEFAULTS.sns),
    lambda: z.strictObject({
        invocationsPerFunctionMonth: range(0, 1e12, "invocations a month").default(COST_DEFAULTS.lambda.invocationsPerFunctionMonth),
        secondsPerInvocation: range(0, 900, "seconds; Lambda's limit is 900").default(COST_DEFAULTS.lambda.secondsPerInvocation),
    }).default(COST_DEFAULTS.lambda),
    apportion: z.strictObject({
        hybridWeight: range(0.001, 100_000, "a hybrid tenant's weight, in connections").optional(),
    }).default(COST_DEFAULTS.apportion),
}).default(COST_DEFAULTS);

/** The usage assumptions of a stack, defaults filled in. */
export type CostAssumptions = z.output<typeof CostConfigSchema>;
