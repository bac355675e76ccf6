import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Seconds between enhanced-monitoring samples of RDS and Aurora instances (Security Hub RDS.6 wants it on). */
export const ENHANCED_MONITORING_INTERVAL_SECONDS = 60;

/**
 * The IAM role RDS enhanced monitoring publishes OS metrics with: assumable only by RDS monitoring for this account
 * (confused-deputy guard), with AWS's managed AmazonRDSEnhancedMonitoringRole policy. Returns the role and its
 * attachment; instances must depend on the attachment, or RDS rejects the role as lacking permissions. `aliases` apply
 * to both (they share `name`).
 */
export function enhancedMonitoringRole(
    name: string,
    tags: Record<string, string>,
    opts: { parent: pulumi.Resource; aliases?: pulumi.Input<pulumi.Alias>[] },
): { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } {
    const invoke = { parent: opts.parent };
    const account = aws.getCallerIdentityOutput({}, invoke).accountId;
    const partition = aws.getPartitionOutput({}, invoke).partition;
    const trust = aws.iam.getPolicyDocumentOutput({
        statements: [{
            actions: ["sts:AssumeRole"],
            principals: [{ type: "Service", identifiers: ["monitoring.rds.amazonaws.com"] }],
            conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account] }],
        }],
    }, invoke);
    const role = new aws.iam.Role(name, { description: "RDS enhanced monitoring", assumeRolePolicy: trust.json, tags }, opts);
    const attachment = new aws.iam.RolePolicyAttachment(name, {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    }, opts);
    return { role, attachment };
}

/**
 * ECR lifecycle policy of the app repository: untagged images (superseded builds, failed pushes) expire after
 * `untaggedDays`; tagged images are releases that tenants may pin, so no rule ever touches them.
 */
export function ecrLifecyclePolicy(untaggedDays: number): { rules: Record<string, unknown>[] } {
    if (!Number.isInteger(untaggedDays) || untaggedDays < 1) throw new Error(`untaggedImageExpiryDays: ${untaggedDays} is not allowed (allowed: a whole number of days, at least 1)`);
    return {
        rules: [{
            rulePriority: 1,
            description: `Expire untagged images ${untaggedDays} days after push; tagged releases are kept`,
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedDays },
            action: { type: "expire" },
        }],
    };
}
