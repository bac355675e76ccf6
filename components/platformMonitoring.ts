import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmArn, fleetOverviewDashboard, type OverviewTenant } from "../model/dashboards";
import { alarmTopicName } from "../model/monitoring";
import { EncryptionKey } from "./encryptionKey";

/** What CloudWatch needs on the key of an encrypted topic it publishes alarms to (AWS's own SNS key cannot grant it). */
export const CLOUDWATCH_ALARMS_KEY_GRANT = {
    sid: "CloudWatchAlarmsPublishToEncryptedTopics",
    service: "cloudwatch.amazonaws.com",
    actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
};

export interface AlarmTopicArgs {
    /** Physical topic name (fixed: alarms and operators name it). */
    topicName: string;
    region: string;
    /** Customer-managed key the topic is encrypted with; its policy must let CloudWatch use it ({@link CLOUDWATCH_ALARMS_KEY_GRANT}). */
    kmsKeyArn: pulumi.Input<string>;
    /** Only alarms whose names start with this may publish (e.g. `tenancy-prod-`). */
    alarmNamePrefix: string;
    /** Email addresses subscribed to the topic; each must confirm from the email SNS sends. */
    emails: string[];
    tags: Record<string, string>;
}

/**
 * An SNS topic that CloudWatch alarms of this account, whose names start with `alarmNamePrefix`, may publish to, in
 * `region` (an alarm can only notify a topic of its own region), encrypted with a key of ours, with its email
 * subscriptions. Returns the topic. Children are named `<name>` and `<name>-email-<i>`.
 */
export function alarmTopic(name: string, args: AlarmTopicArgs, opts: { parent: pulumi.Resource }): aws.sns.Topic {
    const invoke = { parent: opts.parent };
    const account = aws.getCallerIdentityOutput({}, invoke).accountId;
    const partition = aws.getPartitionOutput({}, invoke).partition;
    const topicArn = pulumi.interpolate`arn:${partition}:sns:${args.region}:${account}:${args.topicName}`;
    const policy = aws.iam.getPolicyDocumentOutput({
        statements: [
            {
                // What the default topic policy gives the owner, and no one else.
                sid: "AccountManagesTopic",
                principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition}:iam::${account}:root`] }],
                actions: ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                resources: [topicArn],
            },
            {
                sid: "CloudWatchAlarmsOfThisEnvironment",
                principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
                actions: ["SNS:Publish"],
                resources: [topicArn],
                conditions: [
                    { test: "StringEquals", variable: "aws:SourceAccount", values: [account] },
                    { test: "ArnLike", variable: "aws:SourceArn", values: [pulumi.interpolate`arn:${partition}:cloudwatch:${args.region}:${account}:alarm:${args.alarmNamePrefix}*`] },
                ],
            },
        ],
    }, invoke);
    const topic = new aws.sns.Topic(name, {
        name: args.topicName,
        kmsMasterKeyId: args.kmsKeyArn,
        policy: policy.json,
        region: args.region,
        tags: args.tags,
    }, opts);
    args.emails.forEach((email, i) => {
        // SNS sends a confirmation: nothing is delivered until the recipient accepts it; SNS deletes one left unconfirmed after 48 hours.
        new aws.sns.TopicSubscription(`${name}-email-${i}`, { topic: topic.arn, protocol: "email", endpoint: email, region: args.region }, opts);
    });
    return topic;
}

export interface PlatformMonitoringArgs {
    /** The environment's name: topic, dashboard and alarm names. */
    env: string;
    /** The environment's region (the overview's) first, then every other region tenants may use: one topic and key each. */
    regions: string[];
    /** Subscribed by email to every region's topic. Defaults to none. */
    emails?: string[];
    /** Protect the topics' keys (they are retained on delete either way). */
    protect: boolean;
    tags: Record<string, string>;
    /** The fleet overview: every tenant's row and every tenant alarm (name, region), from the registry. */
    overview: { tenants: OverviewTenant[]; alarms: { name: string; region: string }[] };
}

/**
 * The environment's monitoring: in each region it allows, the alarm topic (`tenancy-<env>-alarms`, encrypted with a
 * key of its own that CloudWatch may use for it), and in its own region the fleet overview dashboard `tenancy-<env>`
 * (tenants by tier and status, their versions and dashboards, every tenant alarm).
 */
export class PlatformMonitoring extends pulumi.ComponentResource {
    /** Topic ARN per region. */
    readonly alarmTopics: pulumi.Output<Record<string, string>>;
    /** The topics' key ARN per region: a tenant's own (contact) topic in that region is encrypted with it too. */
    readonly alarmKeyArns: pulumi.Output<Record<string, string>>;
    readonly overview: aws.cloudwatch.Dashboard;

    constructor(name: string, args: PlatformMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        if (args.regions.length === 0) throw new Error(`PlatformMonitoring ${name}: regions must name at least the environment's region`);
        super("tenancy:platform:PlatformMonitoring", name, {}, opts);
        const child = { parent: this };
        const topics: Record<string, pulumi.Output<string>> = {};
        const keys: Record<string, pulumi.Output<string>> = {};
        for (const region of args.regions) {
            const key = new EncryptionKey(`${name}-kms-${region}`, {
                description: `tenancy ${args.env}: alarm notifications in ${region}`,
                region,
                tags: args.tags,
                protect: args.protect,
                servicePrincipals: [CLOUDWATCH_ALARMS_KEY_GRANT],
            }, child);
            const topic = alarmTopic(`${name}-topic-${region}`, {
                topicName: alarmTopicName(args.env),
                region,
                kmsKeyArn: key.arn,
                alarmNamePrefix: `tenancy-${args.env}-`,
                emails: args.emails ?? [],
                tags: args.tags,
            }, child);
            topics[region] = topic.arn;
            keys[region] = key.arn;
        }
        this.alarmTopics = pulumi.output(topics);
        this.alarmKeyArns = pulumi.output(keys);

        const home = args.regions[0]!;
        const account = aws.getCallerIdentityOutput({}, child).accountId;
        const partition = aws.getPartitionOutput({}, child).partition;
        const alarms = [...args.overview.alarms].sort((a, b) => a.name.localeCompare(b.name));
        this.overview = new aws.cloudwatch.Dashboard(`${name}-fleet`, {
            dashboardName: `tenancy-${args.env}`,
            dashboardBody: pulumi.all([partition, account]).apply(([p, a]) => JSON.stringify(fleetOverviewDashboard({
                env: args.env,
                region: home,
                tenants: args.overview.tenants,
                alarmArns: alarms.map((x) => alarmArn(p, x.region, a, x.name)),
                ...(p === "aws" ? {} : { consoleHost: p === "aws-cn" ? "console.amazonaws.cn" : "console.amazonaws-us-gov.com" }),
            }))),
            region: home,
        }, child);
        this.registerOutputs({ alarmTopics: this.alarmTopics, alarmKeyArns: this.alarmKeyArns });
    }
}
