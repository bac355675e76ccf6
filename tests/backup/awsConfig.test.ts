/**
 * `tenancy:backup` and a tenant file's `backup:` field: safe defaults (a stack without the key gets `standard`), every
 * problem located at its field (file:line:col) and reported at once, and what one tenant's plan is made of.
 */
import { describe, expect, it } from "vitest";
import { BackupConfigSchema, tenantBackupSettings } from "../../stacks/backupConfig";
import { SHARED_BACKUP_DEFAULTS } from "../../stacks/sharedBackupConfig";
import { baseStackConfig, registryProblems, sharedTenant } from "../tenants/fixtures";

const POLICIES = {
    policies: {
        standard: {},
        critical: { schedule: "cron(0 */6 ? * * *)", retentionDays: 90, copyRetentionDays: 30, copyRegion: "eu-west-1" },
        snapshots: { pointInTime: false, retentionDays: 14 },
    },
};
const config = (backup: Record<string, unknown> = POLICIES, extra: Record<string, unknown> = {}) => baseStackConfig({ "tenancy:backup": backup, ...extra });

describe("tenancy:backup", () => {
    it("defaults: a stack without the key backs up with standard (daily, 35 days, point-in-time), a governance-mode lock of 7 to 3650 days, offboarded 365 days", () => {
        expect(BackupConfigSchema.parse({})).toEqual({
            policies: { standard: { schedule: "cron(0 5 ? * * *)", retentionDays: 35, pointInTime: true } },
            vaultLock: { mode: "governance", minRetentionDays: 7, maxRetentionDays: 3650 },
            offboarded: { retentionDays: 365, schedule: "cron(0 5 ? * SUN *)" },
            // The shared tenants' schema dumps (stacks/sharedBackupConfig.ts, tests/backup/dumpConfig.test.ts).
            shared: SHARED_BACKUP_DEFAULTS,
        });
        expect(registryProblems({ "hyb.yaml": sharedTenant("hyb", "tier: hybrid\n") }, baseStackConfig())).toEqual([]);
    });

    it("every problem of the stack's backup config is located at its key, all at once", () => {
        const out = registryProblems({}, config({
            policies: {
                daily: { schedule: "every day", retentionDays: 5000, copyRegion: "ap-south-1" },
                weekly: { retentionDays: 3, copyRetentionDays: 30 },
            },
            vaultLock: { mode: "compliance", minRetentionDays: 7, maxRetentionDays: 4000 },
        }));
        expect(out.map((p) => p.replace(/^Pulumi\.test\.yaml:\d+:\d+ /, ""))).toEqual([
            "tenancy:backup.defaultPolicy: is required with several policies and none named standard (allowed: daily, weekly)",
            "tenancy:backup.policies.daily.schedule: must be an AWS cron expression with six fields such as cron(0 5 ? * * *) (daily at 05:00 UTC)",
            "tenancy:backup.policies.daily.retentionDays: 5000 days is outside the vault lock's bounds (allowed: 7 to 4000, vaultLock)",
            "tenancy:backup.policies.weekly.retentionDays: 3 days is outside the vault lock's bounds (allowed: 7 to 4000, vaultLock)",
            "tenancy:backup.vaultLock.changeableForDays: is required in compliance mode: the days during which the lock can still be removed (3 or more)",
        ]);
        expect(out[0]).toMatch(/^Pulumi\.test\.yaml:\d+:\d+ /);
        const regions = registryProblems({}, config({ policies: { standard: { copyRegion: "ap-south-1" } } }));
        expect(regions).toEqual([expect.stringMatching(/tenancy:backup\.policies\.standard\.copyRegion: 'ap-south-1' is not a region of this stack \(allowed: us-east-1, eu-west-1\)$/)]);
    });

    it("a defaultPolicy that names no policy is refused; a governance lock refuses changeableForDays", () => {
        expect(registryProblems({}, config({ ...POLICIES, defaultPolicy: "gold", vaultLock: { changeableForDays: 3 } })).map((p) => p.replace(/^\S+ /, ""))).toEqual([
            "tenancy:backup.defaultPolicy: 'gold' is not a policy of this stack (allowed: standard, critical, snapshots)",
            "tenancy:backup.vaultLock.changeableForDays: applies to compliance mode only (a governance lock stays removable)",
        ]);
    });
});

describe("a tenant file's backup field", () => {
    it("is valid for hybrid and dedicated tenants within the stack's policies and regions", () => {
        expect(registryProblems({
            "hyb.yaml": sharedTenant("hyb", "tier: hybrid\nbackup:\n  policy: critical\n  retentionDays: 400\n"),
            "ded.yaml": sharedTenant("ded", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nbackup:\n  copyRegion: us-east-1\n"),
        }, config())).toEqual([]);
    });

    it("every problem is located at its field, in every file, at once", () => {
        expect(registryProblems({
            "acme.yaml": sharedTenant("acme", "backup:\n  policy: standard\n"),
            "hyb.yaml": sharedTenant("hyb", "tier: hybrid\nbackup:\n  policy: gold\n  copyRegion: ap-south-1\n"),
            "kilo.yaml": sharedTenant("kilo", "tier: hybrid\nbackup:\n  policy: critical\n  retentionDays: 30\n  copyRegion: us-east-1\n"),
            "lima.yaml": sharedTenant("lima", "tier: hybrid\nbackup:\n  retentionDays: 5000\n"),
        }, config())).toEqual([
            "tenants/test/acme.yaml:4:3 backup: shared tenants are backed up by their cell's schema dumps (README \"Logical backups of shared tenants\"); backup applies to hybrid and dedicated tenants",
            "tenants/test/hyb.yaml:5:11 backup.policy: 'gold' is not a backup policy of stack test (allowed: standard, critical, snapshots)",
            "tenants/test/hyb.yaml:6:15 backup.copyRegion: 'ap-south-1' is not a region of stack test (allowed: eu-west-1)",
            "tenants/test/kilo.yaml:6:18 backup.retentionDays: 30 is shorter than policy critical's 90 days; a tenant may only ask for longer (allowed: 90 to 3650)",
            "tenants/test/kilo.yaml:7:15 backup.copyRegion: the backup copy would stay in us-east-1, the tenant's own region, and not survive its loss (allowed: eu-west-1)",
            "tenants/test/lima.yaml:5:18 backup.retentionDays: 5000 is longer than the vault lock allows (allowed: 35 to 3650)",
        ]);
    });

    it("a policy's copy region that is the tenant's own region asks the tenant for another; point-in-time below the lock's minimum is refused", () => {
        expect(registryProblems({
            "ded.yaml": sharedTenant("ded", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nbackup:\n  policy: critical\n"),
            "hyb.yaml": sharedTenant("hyb", "tier: hybrid\ndatabase:\n  backupRetentionDays: 10\n"),
        }, config({ ...POLICIES, vaultLock: { minRetentionDays: 14 } }))).toEqual([
            "tenants/test/ded.yaml:1:1 database.backupRetentionDays: 7 days of point-in-time restore (policy critical, the stack's shared.database.backupRetentionDays) is below the vault lock's minimum (allowed: 14 to 35)",
            "tenants/test/ded.yaml:7:11 backup.policy: the backup copy would stay in eu-west-1, the tenant's own region, and not survive its loss (policy critical copies there): set backup.copyRegion (allowed: us-east-1)",
            "tenants/test/hyb.yaml:5:24 database.backupRetentionDays: 10 days of point-in-time restore (policy standard) is below the vault lock's minimum (allowed: 14 to 35)",
        ]);
    });

    it("the JSON schema of tenant files describes the field", async () => {
        const { tenantJsonSchema } = await import("../../tenants/jsonSchema");
        const schema = JSON.parse(tenantJsonSchema()) as { properties: Record<string, { properties?: Record<string, unknown> }> };
        expect(Object.keys(schema.properties["backup"]!.properties!)).toEqual(["policy", "retentionDays", "copyRegion"]);
    });
});

describe("tenantBackupSettings", () => {
    const b = BackupConfigSchema.parse(POLICIES);
    const tenant = (extra: Record<string, unknown> = {}) => ({ status: "active" as const, database: { backupRetentionDays: 14 }, ...extra });

    it("the default policy; point-in-time as long as the tenant's RDS backup retention", () => {
        expect(tenantBackupSettings(b, tenant())).toEqual({ policy: "standard", schedule: "cron(0 5 ? * * *)", retentionDays: 35, pointInTimeDays: 14 });
    });

    it("a tenant's longer retention and copy region override its policy; its copy is kept as long as the longer of the tenant's retention and the policy's copy retention", () => {
        // The tenant asked 400 days: a copy kept only the policy's 30 would lose the region-loss protection after a month.
        expect(tenantBackupSettings(b, tenant({ backup: { policy: "critical", retentionDays: 400, copyRegion: "us-east-1" } }))).toEqual({
            policy: "critical", schedule: "cron(0 */6 ? * * *)", retentionDays: 400, pointInTimeDays: 14, copy: { region: "us-east-1", retentionDays: 400 },
        });
        // Without a longer retention of its own, the tenant's copy keeps the policy's (shorter) copy retention.
        expect(tenantBackupSettings(b, tenant({ backup: { policy: "critical", copyRegion: "us-east-1" } })).copy).toEqual({ region: "us-east-1", retentionDays: 30 });
        // A tenant retention shorter than the policy's copy retention does not shorten the copy.
        const longCopies = BackupConfigSchema.parse({ policies: { standard: { retentionDays: 30, copyRetentionDays: 365, copyRegion: "eu-west-1" } } });
        expect(tenantBackupSettings(longCopies, tenant({ backup: { retentionDays: 60 } })).copy).toEqual({ region: "eu-west-1", retentionDays: 365 });
        expect(tenantBackupSettings(b, tenant({ backup: { policy: "snapshots", copyRegion: "eu-west-1" } }))).toEqual({
            policy: "snapshots", schedule: "cron(0 5 ? * * *)", retentionDays: 14, copy: { region: "eu-west-1", retentionDays: 14 },
        });
    });

    it("offboarded: snapshots on the offboarded schedule, kept the offboarded time and never less than while served", () => {
        expect(tenantBackupSettings(b, tenant({ status: "offboarded" })).offboarded).toEqual({ schedule: "cron(0 5 ? * SUN *)", retentionDays: 365 });
        expect(tenantBackupSettings(b, tenant({ status: "offboarded", backup: { retentionDays: 500 } })).offboarded).toEqual({ schedule: "cron(0 5 ? * SUN *)", retentionDays: 500 });
    });
});
