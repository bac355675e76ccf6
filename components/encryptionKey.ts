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
}

/**
 * A customer-managed KMS key with rotation on, usable by its account (RDS, Secrets Manager, Performance Insights,
 * ECS) and by CloudWatch Logs in its region for log groups of this account.
 */
export class EncryptionKey extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    readonly arn: pulumi.Output<string>;
    readonly keyId: pulumi.Output<string>;

    constructor(name: string, args: EncryptionKeyArgs, opts?: pulumi.ComponentResourceOptions) {
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
