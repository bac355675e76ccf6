import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface EncryptionKeyArgs {
    /** What the key protects, shown in the KMS console. */
    description: string;
    /** AWS v7 per-resource region. Defaults to the provider's region. */
    region?: string;
    tags: Record<string, string>;
    /**
     * Protect the key in Pulumi. Either way the key is retained when its owner goes away: a deleted tenant's final
     * snapshot, retained backups and logs are encrypted with it, and without the key they are unreadable.
     */
    protect: boolean;
    /**
     * AWS services allowed to use the key on this account's behalf, beyond the account and CloudWatch Logs: e.g.
     * CloudWatch alarms publishing to an SNS topic encrypted with it. Each gets one statement (`sid`) with exactly
     * `actions`, which must be data-key actions (never kms:* or administration), narrowed by `conditions` where the
     * service supports them. Defaults to none.
     */
    servicePrincipals?: ServicePrincipalGrant[];
}

/** One AWS service allowed to use a key (see EncryptionKeyArgs.servicePrincipals). */
export interface ServicePrincipalGrant {
    /** Statement id, unique in the policy. */
    sid: string;
    /** Service principal, e.g. `cloudwatch.amazonaws.com`. */
    service: pulumi.Input<string>;
    /** Data-key actions only (see {@link SERVICE_KEY_ACTIONS}). */
    actions: string[];
    conditions?: { test: string; variable: string; values: pulumi.Input<string>[] }[];
}

/** What a service principal may be granted: using the key for data, never administering it. */
export const SERVICE_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"] as const;

const OWN_SIDS = ["AccountAdministers", "CloudWatchLogsOfThisAccount"];

/** Every problem of the service principal grants, as `servicePrincipals[i].field: what is wrong (allowed: …)`. */
export function servicePrincipalProblems(grants: readonly ServicePrincipalGrant[]): string[] {
    const problems: string[] = [];
    grants.forEach((g, i) => {
        const at = `servicePrincipals[${i}]`;
        if (OWN_SIDS.includes(g.sid) || grants.findIndex((o) => o.sid === g.sid) !== i) problems.push(`${at}.sid: ${g.sid} is taken (allowed: a Sid not otherwise in the policy)`);
        if (typeof g.service === "string" && !/^[a-z0-9.-]+\.amazonaws\.com$/.test(g.service)) problems.push(`${at}.service: '${g.service}' is not a service principal (allowed: such as cloudwatch.amazonaws.com)`);
        if (g.actions.length === 0) problems.push(`${at}.actions: must name at least one action`);
        for (const a of g.actions) {
            if (!(SERVICE_KEY_ACTIONS as readonly string[]).includes(a)) problems.push(`${at}.actions: ${a} is not allowed (allowed: ${SERVICE_KEY_ACTIONS.join(", ")})`);
        }
    });
    return problems;
}

/**
 * A customer-managed KMS key with rotation on, usable by its account (RDS, Secrets Manager, Performance Insights,
 * ECS), by CloudWatch Logs in its region for log groups of this account, and by the service principals it is given.
 */
export class EncryptionKey extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    readonly arn: pulumi.Output<string>;
    readonly keyId: pulumi.Output<string>;

    constructor(name: string, args: EncryptionKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = servicePrincipalProblems(args.servicePrincipals ?? []);
        if (problems.length) throw new Error(`EncryptionKey ${name}: ${problems.join("; ")}`);
        super("tenancy:security:EncryptionKey", name, {}, opts);
        const invokeOpts = { parent: this };
        const account = aws.getCallerIdentityOutput({}, invokeOpts).accountId;
        const partition = aws.getPartitionOutput({}, invokeOpts).partition;
        const region = args.region ?? aws.getRegionOutput({}, invokeOpts).region;
        const policy = aws.iam.getPolicyDocumentOutput(
            {
                statements: [
                    {
                        sid: "AccountAdministers",
                        principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition}:iam::${account}:root`] }],
                        actions: ["kms:*"],
                        resources: ["*"],
                    },
                    {
                        // Log groups are encrypted by the Logs service itself, which needs the key policy to allow it.
                        sid: "CloudWatchLogsOfThisAccount",
                        principals: [{ type: "Service", identifiers: [pulumi.interpolate`logs.${region}.amazonaws.com`] }],
                        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                        resources: ["*"],
                        conditions: [
                            {
                                test: "ArnLike",
                                variable: "kms:EncryptionContext:aws:logs:arn",
                                values: [pulumi.interpolate`arn:${partition}:logs:${region}:${account}:log-group:*`],
                            },
                        ],
                    },
                    ...(args.servicePrincipals ?? []).map((g) => ({
                        sid: g.sid,
                        principals: [{ type: "Service", identifiers: [g.service] }],
                        actions: g.actions,
                        resources: ["*"],
                        ...(g.conditions?.length ? { conditions: g.conditions } : {}),
                    })),
                ],
            },
            invokeOpts,
        );
        this.key = new aws.kms.Key(
            `${name}-key`,
            {
                description: args.description,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: policy.json,
                region: args.region,
                tags: args.tags,
            },
            { parent: this, protect: args.protect, retainOnDelete: true },
        );
        this.arn = this.key.arn;
        this.keyId = this.key.keyId;
        this.registerOutputs({ arn: this.arn });
    }
}
