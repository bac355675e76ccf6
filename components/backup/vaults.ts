import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { VaultLock } from "../../stacks/backupConfig";
import { EncryptionKey } from "../encryptionKey";

/** `tenancy-<env>`: the AWS Backup vault of an environment, the same name in every region (vault names are regional). */
export function backupVaultName(env: string): string {
    return `tenancy-${env}`;
}

/** AWS's managed policies for an AWS Backup service role (backups, then restores). */
export const BACKUP_SERVICE_POLICIES = ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"] as const;

export interface BackupVaultsArgs {
    /** The environment (`config.stack`): names the vaults. */
    env: string;
    /**
     * Every region the environment's data may be in or be copied to (the stack's allowed regions): one vault and one
     * key in each, since KMS keys and vaults are regional and a cross-region copy needs a vault in the copy region.
     */
    regions: string[];
    /**
     * Protected stack: vaults and keys protected in Pulumi, and every vault locked with `lock`. Off: no lock, and
     * deleting a vault deletes its recovery points (a throw-away stack can be destroyed).
     */
    protect: boolean;
    /** The vault lock of a protected stack; ignored otherwise. */
    lock: VaultLock;
    tags: Record<string, string>;
}

/** One region's vault, as tenant stacks need it. */
export interface BackupVaultRef {
    name: string;
    arn: string;
}

/**
 * The environment's AWS Backup vaults, one per region, each encrypted with a customer-managed key of its own region,
 * and the service role the tenants' backup selections run as.
 *
 * What the vault key encrypts: recovery points of resource types AWS Backup fully manages. An RDS snapshot in the
 * source region stays encrypted with the instance's own key (the tenant's), whatever the vault's key; its copy in
 * another region is re-encrypted with the destination vault's key, since a KMS key never leaves its region. So these
 * keys protect every cross-region copy, and the tenants' keys (retained on delete) their same-region recovery points.
 */
export class BackupVaults extends pulumi.ComponentResource {
    /** Vault name and ARN by region. */
    readonly vaults: Record<string, { name: pulumi.Output<string>; arn: pulumi.Output<string> }> = {};
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: BackupVaultsArgs, opts?: pulumi.ComponentResourceOptions) {
        if (!args.regions.length) throw new Error(`BackupVaults ${name}: regions must name at least one region`);
        super("tenancy:backup:BackupVaults", name, {}, opts);
        const child = { parent: this };
        const stateful = { parent: this, protect: args.protect };

        for (const region of args.regions) {
            // EncryptionKey retains the key on delete: recovery points and copies encrypted with it stay readable.
            const key = new EncryptionKey(`${name}-${region}-kms`, {
                description: `tenancy ${args.env}: AWS Backup vault in ${region}`, region, tags: args.tags, protect: args.protect,
            }, child);
            // Name and key force a new vault, which AWS refuses to delete while it holds recovery points: both stay fixed.
            const vault = new aws.backup.Vault(`${name}-${region}-vault`, {
                name: backupVaultName(args.env),
                kmsKeyArn: key.arn,
                // A protected stack's vault is never emptied to be deleted; an unprotected (throw-away) stack's
                // recovery points go with it, as its instances' automated backups and final snapshots do.
                forceDestroy: !args.protect,
                region,
                tags: args.tags,
            }, stateful);
            if (args.protect) {
                const lock = args.lock;
                // Governance without changeableForDays; compliance with it (after those days nobody can remove the lock).
                // Every argument forces a new lock, and the lock is the vault's one setting: created before the old one
                // is deleted, the delete would remove the new lock (DeleteBackupVaultLockConfiguration names the vault).
                new aws.backup.VaultLockConfiguration(`${name}-${region}-lock`, {
                    backupVaultName: vault.name,
                    minRetentionDays: lock.minRetentionDays,
                    maxRetentionDays: lock.maxRetentionDays,
                    ...(lock.mode === "compliance" ? { changeableForDays: lock.changeableForDays } : {}),
                    region,
                }, { ...stateful, deleteBeforeReplace: true });
            }
            this.vaults[region] = { name: vault.name, arn: vault.arn };
        }

        const invoke = { parent: this };
        const account = aws.getCallerIdentityOutput({}, invoke).accountId;
        const partition = aws.getPartitionOutput({}, invoke).partition;
        const trust = aws.iam.getPolicyDocumentOutput({
            statements: [{
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: ["backup.amazonaws.com"] }],
                // Only AWS Backup acting for this account (confused-deputy guard).
                conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account] }],
            }],
        }, invoke);
        const role = new aws.iam.Role(`${name}-role`, { description: `AWS Backup of tenancy ${args.env}`, assumeRolePolicy: trust.json, tags: args.tags }, child);
        // AWS's policies for a backup service role: scoped to the backup and restore calls of each supported service
        // (RDS snapshots and copies, KMS grants for AWS resources only, tag reads for selections) and kept current by
        // AWS as services change. A hand-written copy would be the same actions, and would break silently when they
        // change. The tenants' keys need no statement: their key policies leave use to IAM (EncryptionKey).
        for (const policy of BACKUP_SERVICE_POLICIES) {
            new aws.iam.RolePolicyAttachment(`${name}-role-${policy}`, {
                role: role.name,
                policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${policy}`,
            }, child);
        }
        this.roleArn = role.arn;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
