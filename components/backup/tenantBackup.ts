import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SCHEDULE, type TenantBackupSettings } from "../../stacks/backupConfig";
import { labelSuffix } from "../naming";
import { TAG_STACK, TAG_TENANT } from "../tags";
import type { BackupVaultRef } from "./vaults";

/** Tag on every recovery point: the policy that made it (with `tenancy:stack` and `tenancy:tenant`). */
export const TAG_BACKUP_POLICY = "tenancy:backup-policy";

/**
 * Minutes a backup job may run before AWS Backup cancels it. The provider's default (180) can cancel the first, full
 * snapshot of a large instance; later ones are incremental.
 */
export const COMPLETION_WINDOW_MINUTES = 1440;

/**
 * Minutes a scheduled job may wait to start; AWS Backup retries a job that cannot start at least every 10 minutes until
 * then, after which it is EXPIRED. The provider's and the console's 60 is too short for RDS: an instance busy with its
 * own backup or maintenance window (30-minute windows RDS picks at random from an 8-hour block when none is set) does
 * not take a snapshot job, so a daily job that falls there would expire. Four hours outlast either window.
 */
export const START_WINDOW_MINUTES = 240;

export interface TenantBackupArgs {
    /** The tenant's slug: the `tenancy:tenant` tag its selections match, part of the plan's name. */
    tenant: string;
    /** The environment (`tenancy:stack` tag value, part of the plan's name). */
    env: string;
    /**
     * The tenant's placements that are RDS instances (hybrid, dedicated), its current one first: one plan and
     * selection per region (plans are regional and select resources of their own region only), named with the label
     * of the first placement in that region, so a tenant that never moved has `<name>-plan` and a region change
     * replaces it in place. A move within one region has one plan: its selection takes both instances by tag.
     */
    placements: { region: string; label: string }[];
    /** The tenant's plan, resolved from its policy and file (stacks/backupConfig.ts `tenantBackupSettings`). */
    settings: TenantBackupSettings;
    /** The environment's vault of every region (the platform's `backupVaults`): the plan's and the copy's. */
    vaults: pulumi.Input<Record<string, BackupVaultRef>>;
    /** The AWS Backup service role the selections run as (the platform's `backupRoleArn`). */
    roleArn: pulumi.Input<string>;
    tags: Record<string, string>;
}

/** `<env>-<slug>`: within AWS Backup's 50 characters for any slug (32) and environment an RDS identifier allows. */
export function backupPlanName(env: string, slug: string): string {
    return `${env}-${slug}`;
}

/** The plan rules of one region as plain data: `targetVaultName` there, a copy to `copyVaultArn` when given. */
export function backupRules(
    settings: TenantBackupSettings, vaultName: pulumi.Input<string>, copyVaultArn: pulumi.Input<string> | undefined, recoveryPointTags: Record<string, string>,
): aws.types.input.backup.PlanRule[] {
    // While offboarded the data no longer changes: snapshots on the offboarded schedule, kept the offboarded time.
    const snapshots = settings.offboarded
        ? { ruleName: "offboarded", schedule: settings.offboarded.schedule, retentionDays: settings.offboarded.retentionDays }
        : { ruleName: "snapshots", schedule: settings.schedule, retentionDays: settings.retentionDays };
    const copyDays = settings.offboarded ? settings.offboarded.retentionDays : settings.copy?.retentionDays;
    const rules: aws.types.input.backup.PlanRule[] = [{
        ruleName: snapshots.ruleName,
        schedule: snapshots.schedule,
        targetVaultName: vaultName,
        startWindow: START_WINDOW_MINUTES,
        completionWindow: COMPLETION_WINDOW_MINUTES,
        // Set when the recovery point is created: a later change of the plan applies to new points only.
        lifecycle: { deleteAfter: snapshots.retentionDays },
        recoveryPointTags,
        // The copy is re-encrypted with the destination vault's key (a KMS key never leaves its region).
        ...(copyVaultArn !== undefined ? { copyActions: [{ destinationVaultArn: copyVaultArn, lifecycle: { deleteAfter: copyDays } }] } : {}),
    }];
    if (settings.pointInTimeDays !== undefined) {
        // AWS Backup takes over the instance's automated backups and sets their retention to this rule's, which is the
        // instance's own backupRetentionPeriod (the tenant's database.backupRetentionDays): nothing drifts, and since RDS
        // then refuses that change from anyone but AWS Backup, the instance leaves it to this rule. Kept while
        // offboarded too: removing the rule would let AWS Backup delete the continuous recovery point when it expires,
        // which for RDS turns the instance's automated backups off. Its schedule only syncs, daily: more often than
        // the shortest window (7 days) expires, as AWS requires.
        rules.push({
            ruleName: "point-in-time",
            schedule: DEFAULT_SCHEDULE,
            enableContinuousBackup: true,
            targetVaultName: vaultName,
            startWindow: START_WINDOW_MINUTES,
            completionWindow: COMPLETION_WINDOW_MINUTES,
            lifecycle: { deleteAfter: settings.pointInTimeDays },
            recoveryPointTags,
        });
    }
    return rules;
}

/**
 * AWS Backup of one hybrid or dedicated tenant: in each region holding its data, a plan of its policy's rules and a
 * selection of the tenant's RDS instances by tag (`tenancy:stack` and `tenancy:tenant`, so another environment's
 * tenant of the same slug in the account is never taken), limited to RDS instances of that region.
 *
 * Recovery points outlive the plan: their lifecycle is fixed when each is created, so removing or changing the plan
 * (a policy change, an offboarded tenant removed from its file) leaves the existing points to expire on their own.
 */
export class TenantBackup extends pulumi.ComponentResource {
    readonly planIds: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: TenantBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        const byRegion = new Map<string, string>();
        for (const p of args.placements) if (!byRegion.has(p.region)) byRegion.set(p.region, p.label);
        if (!byRegion.size) throw new Error(`TenantBackup ${name}: placements must name at least one placement`);
        super("tenancy:backup:TenantBackup", name, {}, opts);
        const child = { parent: this };
        const partition = aws.getPartitionOutput({}, child).partition;
        const vaults = pulumi.output(args.vaults);
        // In a fleet, read from the platform stack: one deployed before backups existed exports none yet.
        const stale = (what: string) => new Error(`TenantBackup ${name}: the platform stack ${args.env} exports no ${what} (update it first: pulumi up -s ${args.env})`);
        const vault = (region: string) => vaults.apply((v) => {
            const found = v?.[region];
            if (!found) throw stale(`backup vault in ${region}`);
            return found;
        });
        const roleArn = pulumi.output(args.roleArn).apply((arn) => {
            if (!arn) throw stale("backup role");
            return arn;
        });
        const recoveryPointTags = { [TAG_STACK]: args.env, [TAG_TENANT]: args.tenant, [TAG_BACKUP_POLICY]: args.settings.policy };
        for (const [region, label] of byRegion) {
            const copyRegion = args.settings.copy?.region;
            // A placement in the copy region (the other side of a move) needs no copy into its own vault.
            const copyVaultArn = copyRegion !== undefined && copyRegion !== region ? vault(copyRegion).arn : undefined;
            const plan = new aws.backup.Plan(`${name}-plan${labelSuffix(label)}`, {
                name: backupPlanName(args.env, args.tenant),
                rules: backupRules(args.settings, vault(region).name, copyVaultArn, recoveryPointTags),
                region,
                tags: args.tags,
            }, child);
            // Every argument of a selection forces a new one (AWS has no update): harmless, it holds no data.
            new aws.backup.Selection(`${name}-selection${labelSuffix(label)}`, {
                name: `tenancy-${args.tenant}`,
                planId: plan.id,
                iamRoleArn: roleArn,
                resources: [pulumi.interpolate`arn:${partition}:rds:${region}:*:db:*`],
                conditions: [{
                    stringEquals: [
                        { key: `aws:ResourceTag/${TAG_STACK}`, value: args.env },
                        { key: `aws:ResourceTag/${TAG_TENANT}`, value: args.tenant },
                    ],
                }],
                region,
            }, child);
            this.planIds[region] = plan.id;
        }
        this.registerOutputs({ planIds: this.planIds });
    }
}
