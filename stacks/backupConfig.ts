/**
 * `tenancy:backup`: AWS Backup of hybrid and dedicated tenants' databases (README "Backups"). Named policies, the
 * default policy, the vault lock of protected stacks and how long offboarded tenants' recovery points are kept; plus
 * the rules a tenant file's `backup:` field must follow against them (`tenantBackupProblems`) and what one tenant's
 * plan is made of (`tenantBackupSettings`). Plain data, no Pulumi.
 */
import { z } from "zod";
import { AWS_REGION_PATTERN, type Status, type Tier } from "../tenants/schema";
import { SharedBackupSchema } from "./sharedBackupConfig";

/** AWS Backup keeps a recovery point at most 100 years. */
export const MAX_RECOVERY_POINT_DAYS = 36500;
/** A continuous (point-in-time) recovery point is kept 1 to 35 days, like RDS's automated backups. */
export const MAX_POINT_IN_TIME_DAYS = 35;

const days = (min: number, max: number) =>
    z.int("must be a whole number of days").min(min, `must be ${min} to ${max} days`).max(max, `must be ${min} to ${max} days`);

/** An AWS Backup schedule: a six-field `cron(...)` expression, evaluated in UTC. */
const schedule = z.string().regex(/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/, "must be an AWS cron expression with six fields such as cron(0 5 ? * * *) (daily at 05:00 UTC)");

export const POLICY_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const policyName = z.string().regex(POLICY_NAME_PATTERN, "must be a policy name: a lower-case letter, then up to 31 of a-z, 0-9 and '-'");

export const DEFAULT_SCHEDULE = "cron(0 5 ? * * *)";
export const DEFAULT_POLICY_NAME = "standard";

const PolicySchema = z.strictObject({
    /** When the snapshot rule runs (and the continuous rule syncs): an AWS cron expression in UTC. Defaults to daily at 05:00. */
    schedule: schedule.default(DEFAULT_SCHEDULE),
    /** Days each snapshot recovery point is kept. Defaults to 35. */
    retentionDays: days(1, MAX_RECOVERY_POINT_DAYS).default(35),
    /**
     * Continuous backup for point-in-time restore (to any second, RPO about 5 minutes), kept as long as the tenant's
     * `database.backupRetentionDays` (RDS's own window, 7 to 35 days; AWS Backup then manages that window). Defaults to true.
     */
    pointInTime: z.boolean().default(true),
    /**
     * Copy each snapshot to the vault of this region, so the data survives the loss of the tenant's region. Must be
     * a region of the stack; tenants in it must choose another one (`backup.copyRegion` in their file). Defaults to no copy.
     */
    copyRegion: z.string().regex(AWS_REGION_PATTERN, "must be an AWS region code such as eu-west-1").optional(),
    /**
     * Days each copy is kept (also the copies of tenants that choose their own `backup.copyRegion`); a tenant file's longer
     * `backup.retentionDays` lengthens its copies too. Defaults to the tenant's snapshot retention.
     */
    copyRetentionDays: days(1, MAX_RECOVERY_POINT_DAYS).optional(),
});
export type BackupPolicy = z.output<typeof PolicySchema>;

const DEFAULT_POLICY: BackupPolicy = { schedule: DEFAULT_SCHEDULE, retentionDays: 35, pointInTime: true };

const VaultLockSchema = z.strictObject({
    /**
     * `governance` (default): nobody can delete a recovery point before its retention ends or shorten it, except an
     * identity explicitly allowed to remove the lock (`backup:DeleteBackupVaultLockConfiguration`), so a mistake stays
     * repairable. `compliance`: once `changeableForDays` have passed, nobody, AWS included, can ever remove the lock or
     * delete the vault before every recovery point expires. Choose it only when a regulator asks.
     */
    mode: z.enum(["governance", "compliance"]).default("governance"),
    /** Compliance mode: days (3 or more) during which the lock can still be removed. Required for compliance, refused for governance. */
    changeableForDays: z.int("must be a whole number of days").min(3, "must be at least 3 days (AWS's minimum grace time)").optional(),
    /** Shortest retention the vault accepts; a backup or copy asking less fails. Defaults to 7. */
    minRetentionDays: days(1, MAX_RECOVERY_POINT_DAYS).default(7),
    /** Longest retention the vault accepts. Defaults to 3650 (10 years). */
    maxRetentionDays: days(1, MAX_RECOVERY_POINT_DAYS).default(3650),
});
export type VaultLock = z.output<typeof VaultLockSchema>;

const OffboardedSchema = z.strictObject({
    /**
     * Days every recovery point taken while a tenant is offboarded is kept (at least its policy's retention). The last
     * one taken before the tenant file is removed outlives the tenant by this much. Defaults to 365.
     */
    retentionDays: days(1, MAX_RECOVERY_POINT_DAYS).default(365),
    /** How often an offboarded tenant (its data no longer changes) is snapshotted. Defaults to weekly, Sundays 05:00 UTC. */
    schedule: schedule.default("cron(0 5 ? * SUN *)"),
});

/** `tenancy:backup`. Every key has a default: a stack without it backs up hybrid and dedicated tenants with `standard`. */
export const BackupConfigSchema = z.strictObject({
    /** Named policies tenant files choose with `backup.policy`. Defaults to one, `standard`: daily, 35 days, point-in-time. */
    policies: z.record(policyName, PolicySchema).default({ [DEFAULT_POLICY_NAME]: DEFAULT_POLICY })
        .refine((p) => Object.keys(p).length >= 1, "must declare at least one policy"),
    /** Policy of hybrid and dedicated tenants whose file names none. Defaults to `standard` when declared, else the only policy. */
    defaultPolicy: policyName.optional(),
    /** The vault lock of protected stacks (`tenancy:protect: true`), every region's vault alike; bounds are checked in every stack. */
    vaultLock: VaultLockSchema.default({ mode: "governance", minRetentionDays: 7, maxRetentionDays: 3650 }),
    offboarded: OffboardedSchema.default({ retentionDays: 365, schedule: "cron(0 5 ? * SUN *)" }),
    /** Shared tenants: the scheduled logical dumps of their schemas, per cell (stacks/sharedBackupConfig.ts). Every field defaults. */
    shared: SharedBackupSchema,
}).superRefine((b, ctx) => {
    const add = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const names = Object.keys(b.policies);
    if (b.defaultPolicy !== undefined && !names.includes(b.defaultPolicy)) {
        add(["defaultPolicy"], `'${b.defaultPolicy}' is not a policy of this stack (allowed: ${names.join(", ")})`);
    } else if (b.defaultPolicy === undefined && names.length > 1 && !names.includes(DEFAULT_POLICY_NAME)) {
        add(["defaultPolicy"], `is required with several policies and none named ${DEFAULT_POLICY_NAME} (allowed: ${names.join(", ")})`);
    }
    const lock = b.vaultLock;
    if (lock.mode === "compliance" && lock.changeableForDays === undefined) {
        add(["vaultLock", "changeableForDays"], "is required in compliance mode: the days during which the lock can still be removed (3 or more)");
    }
    if (lock.mode === "governance" && lock.changeableForDays !== undefined) {
        add(["vaultLock", "changeableForDays"], "applies to compliance mode only (a governance lock stays removable)");
    }
    if (lock.minRetentionDays > lock.maxRetentionDays) add(["vaultLock", "minRetentionDays"], `must not exceed maxRetentionDays (${lock.maxRetentionDays})`);
    // Checked whether or not the stack is protected, so that protecting it never makes its policies invalid.
    const within = (path: (string | number)[], n: number) => {
        if (n < lock.minRetentionDays || n > lock.maxRetentionDays) {
            add(path, `${n} days is outside the vault lock's bounds (allowed: ${lock.minRetentionDays} to ${lock.maxRetentionDays}, vaultLock)`);
        }
    };
    for (const [name, p] of Object.entries(b.policies)) {
        within(["policies", name, "retentionDays"], p.retentionDays);
        if (p.copyRetentionDays !== undefined) within(["policies", name, "copyRetentionDays"], p.copyRetentionDays);
    }
    within(["offboarded", "retentionDays"], b.offboarded.retentionDays);
});
export type BackupConfig = z.output<typeof BackupConfigSchema>;

/** The policy of tenants that name none. */
export function defaultPolicyOf(b: Pick<BackupConfig, "policies" | "defaultPolicy">): string {
    const names = Object.keys(b.policies);
    return b.defaultPolicy ?? (names.includes(DEFAULT_POLICY_NAME) ? DEFAULT_POLICY_NAME : names[0]!);
}

/** A tenant file's `backup:` field. */
export interface TenantBackupChoice {
    policy?: string;
    retentionDays?: number;
    copyRegion?: string;
}

/**
 * What one tenant's backup plan is made of, resolved: the snapshot rule (`schedule`, `retentionDays`, an optional copy
 * to another region), the continuous rule (`pointInTimeDays`, absent without point-in-time), and the offboarded rule
 * that replaces the snapshot rule while the tenant is offboarded.
 */
export interface TenantBackupSettings {
    policy: string;
    schedule: string;
    retentionDays: number;
    /** Days of point-in-time restore: the tenant's `database.backupRetentionDays`; absent when the policy has none. */
    pointInTimeDays?: number;
    copy?: { region: string; retentionDays: number };
    /** Present while the tenant is offboarded: its snapshots' schedule and retention. */
    offboarded?: { schedule: string; retentionDays: number };
}

/** The settings of a valid tenant's plan (its choice was checked by {@link tenantBackupProblems}). */
export function tenantBackupSettings(
    b: BackupConfig, tenant: { backup?: TenantBackupChoice; status: Status; database: { backupRetentionDays: number } },
): TenantBackupSettings {
    const policy = tenant.backup?.policy ?? defaultPolicyOf(b);
    const p = b.policies[policy];
    if (!p) throw new Error(`backup policy '${policy}' is not declared (policies: ${Object.keys(b.policies).join(", ")})`);
    const retentionDays = Math.max(p.retentionDays, tenant.backup?.retentionDays ?? 0);
    const copyRegion = tenant.backup?.copyRegion ?? p.copyRegion;
    return {
        policy,
        schedule: p.schedule,
        retentionDays,
        ...(p.pointInTime ? { pointInTimeDays: tenant.database.backupRetentionDays } : {}),
        // A tenant's own longer retention covers its copy too, else its data would outlive a region's loss only the policy's copy time.
        ...(copyRegion ? { copy: { region: copyRegion, retentionDays: Math.max(p.copyRetentionDays ?? retentionDays, tenant.backup?.retentionDays ?? 0) } } : {}),
        // Never shorter than what the tenant had while served.
        ...(tenant.status === "offboarded" ? { offboarded: { schedule: b.offboarded.schedule, retentionDays: Math.max(b.offboarded.retentionDays, retentionDays) } } : {}),
    };
}

/**
 * Problems of a tenant file's `backup:` field (and of its point-in-time window) against the stack: `[path, message]`
 * at the field at fault, every one of them. `region` is the tenant's own region.
 */
export function tenantBackupProblems(
    choice: TenantBackupChoice | undefined,
    tenant: { tier: Tier; region: string; backupRetentionDays?: number; retentionInFile?: boolean },
    stack: { stack: string; backup: BackupConfig; allowedRegions: string[] },
): [(string | number)[], string][] {
    const out: [(string | number)[], string][] = [];
    const { backup } = stack;
    if (tenant.tier === "shared") {
        if (choice !== undefined) {
            out.push([["backup"], "shared tenants are backed up by their cell's schema dumps (README \"Logical backups of shared tenants\"); backup applies to hybrid and dedicated tenants"]);
        }
        return out;
    }
    const names = Object.keys(backup.policies);
    const policyName = choice?.policy ?? defaultPolicyOf(backup);
    const policy = backup.policies[policyName];
    if (!policy) {
        out.push([["backup", "policy"], `'${policyName}' is not a backup policy of stack ${stack.stack} (allowed: ${names.join(", ")})`]);
    }
    const lock = backup.vaultLock;
    if (choice?.retentionDays !== undefined && policy) {
        if (choice.retentionDays < policy.retentionDays) {
            out.push([["backup", "retentionDays"], `${choice.retentionDays} is shorter than policy ${policyName}'s ${policy.retentionDays} days; a tenant may only ask for longer (allowed: ${policy.retentionDays} to ${lock.maxRetentionDays})`]);
        } else if (choice.retentionDays > lock.maxRetentionDays) {
            out.push([["backup", "retentionDays"], `${choice.retentionDays} is longer than the vault lock allows (allowed: ${policy.retentionDays} to ${lock.maxRetentionDays})`]);
        }
    }
    const others = stack.allowedRegions.filter((r) => r !== tenant.region);
    const copyRegion = choice?.copyRegion ?? policy?.copyRegion;
    if (choice?.copyRegion !== undefined && !stack.allowedRegions.includes(choice.copyRegion)) {
        out.push([["backup", "copyRegion"], `'${choice.copyRegion}' is not a region of stack ${stack.stack} (allowed: ${others.join(", ") || "none: the stack has one region"})`]);
    } else if (copyRegion !== undefined && copyRegion === tenant.region) {
        const where = choice?.copyRegion !== undefined ? ["backup", "copyRegion"] : choice?.policy !== undefined ? ["backup", "policy"] : [];
        out.push([where, `the backup copy would stay in ${tenant.region}, the tenant's own region, and not survive its loss${choice?.copyRegion === undefined ? ` (policy ${policyName} copies there): set backup.copyRegion` : ""} (allowed: ${others.join(", ") || "none: the stack has one region"})`]);
    }
    if (policy?.pointInTime && tenant.backupRetentionDays !== undefined && tenant.backupRetentionDays < lock.minRetentionDays) {
        const fromStack = !tenant.retentionInFile;
        out.push([["database", "backupRetentionDays"], `${tenant.backupRetentionDays} days of point-in-time restore (policy ${policyName}${fromStack ? ", the stack's shared.database.backupRetentionDays" : ""}) is below the vault lock's minimum (allowed: ${lock.minRetentionDays} to ${MAX_POINT_IN_TIME_DAYS})`]);
    }
    return out;
}

/** Problems of `tenancy:backup` that need the rest of the stack (its regions): `{ path under tenancy:, message }`. */
export function backupConfigProblems(config: { backup: BackupConfig; allowedRegions: string[] }): { path: (string | number)[]; message: string }[] {
    return Object.entries(config.backup.policies).flatMap(([name, p]) => (p.copyRegion !== undefined && !config.allowedRegions.includes(p.copyRegion)
        ? [{ path: ["backup", "policies", name, "copyRegion"], message: `'${p.copyRegion}' is not a region of this stack (allowed: ${config.allowedRegions.join(", ")})` }]
        : []));
}
