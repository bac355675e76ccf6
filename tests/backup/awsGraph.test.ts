/**
 * AWS Backup on the recorded graph, in both layouts: a vault per region of the environment with a key of ours in that
 * region, locked (governance) only in protected stacks; one service role; per hybrid and dedicated tenant a plan and
 * a tag selection in each region its data is in, with the policy's rules, the tenant file's overrides, the copy to the
 * copy region's vault, and the offboarded rule.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fleetReferences, recordStack, removeDir, tenantOf } from "../stacks/harness";

const BACKUP = {
    policies: {
        standard: { retentionDays: 35 },
        critical: { schedule: "cron(0 */6 ? * * *)", retentionDays: 90, copyRetentionDays: 30 },
        snapshots: { pointInTime: false, retentionDays: 14 },
    },
    offboarded: { retentionDays: 400 },
};
const FILES = {
    "alpha.yaml": sharedTenant("alpha"),
    "charlie.yaml": sharedTenant("charlie", "tier: hybrid\ndatabase:\n  backupRetentionDays: 14\n"),
    "delta.yaml": sharedTenant("delta", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nbackup:\n  policy: critical\n  retentionDays: 120\n  copyRegion: us-east-1\n"),
    "echo.yaml": sharedTenant("echo", "tier: hybrid\nstatus: offboarded\n"),
    "hotel.yaml": sharedTenant("hotel", "tier: hybrid\nbackup:\n  policy: snapshots\n"),
};
const REGIONS = ["us-east-1", "eu-west-1"];

const roots: string[] = [];
const repo = (extra: Record<string, unknown> = {}, files: Record<string, string> = FILES) => {
    const root = makeRepo(files, baseStackConfig({ "tenancy:backup": BACKUP, ...extra }));
    roots.push(root);
    return root;
};
afterAll(() => roots.forEach(removeDir));

const ofType = (r: RecordResult, type: string) => r.resources.filter((x) => x.type === type);
const named = (r: RecordResult, name: string) => {
    const found = r.resources.find((x) => x.name === name);
    if (!found) throw new Error(`no resource ${name}`);
    return found;
};
const byUrn = (r: RecordResult) => new Map(r.resources.map((x) => [x.urn, x]));
/** Type chain of a resource's ancestors, nearest first. */
const ancestors = (r: RecordResult, x: RecordedResource) => {
    const map = byUrn(r);
    const out: RecordedResource[] = [];
    for (let p = x.parent; p; p = map.get(p)?.parent ?? null) out.push(map.get(p)!);
    return out;
};
const plansOf = (r: RecordResult, slug: string) => ofType(r, "aws:backup/plan:Plan").filter((p) => tenantOf(r)(p) === slug);
const selectionsOf = (r: RecordResult, slug: string) => ofType(r, "aws:backup/selection:Selection").filter((p) => tenantOf(r)(p) === slug);
const vaultArn = (region: string) => `arn:aws:backup:${region}:123456789012:backup-vault:tenancy-test`;

let single: RecordResult;
let protectedSingle: RecordResult;
beforeAll(async () => {
    single = await recordStack(repo(), "test");
    protectedSingle = await recordStack(repo({ "tenancy:protect": true }), "test");
});

describe("platform: vaults, keys, lock and role", () => {
    it("one vault per region of the environment, named tenancy-<env>, encrypted with a key of ours in that region", () => {
        const vaults = ofType(single, "aws:backup/vault:Vault");
        expect(vaults.map((v) => [v.name, v.inputs["region"], v.inputs["name"]])).toEqual(REGIONS.map((r) => [`shared-backup-${r}-vault`, r, "tenancy-test"]));
        for (const v of vaults) {
            const region = v.inputs["region"] as string;
            const key = named(single, `shared-backup-${region}-kms-key`);
            expect(key.type).toBe("aws:kms/key:Key");
            expect(key.inputs).toMatchObject({ region, enableKeyRotation: true });
            expect(v.inputs["kmsKeyArn"]).toBe(key.outputs["arn"]);
            expect(String(v.inputs["kmsKeyArn"])).toMatch(new RegExp(`^arn:aws:kms:${region}:`));
            // Unprotected (a throw-away stack): its recovery points go with the vault, as its automated backups do.
            expect(v.inputs["forceDestroy"]).toBe(true);
            expect(v.inputs["tags"]).toMatchObject({ "tenancy:stack": "test", "tenancy:tier": "platform" });
            // Under the platform: the fleet's platform stack still declares the SharedPlatform alone at its top.
            expect(ancestors(single, v).map((a) => a.type)).toEqual(["tenancy:backup:BackupVaults", "tenancy:platform:SharedPlatform", "pulumi:pulumi:Stack"]);
            expect(v.options.protect).toBe(false);
        }
    });

    it("an unprotected stack has no vault lock; a protected one locks every vault in governance mode (no changeableForDays), protected, replaced delete-first", () => {
        expect(ofType(single, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")).toEqual([]);
        const locks = ofType(protectedSingle, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
        expect(locks.map((l) => [l.inputs["region"], l.inputs["backupVaultName"]])).toEqual(REGIONS.map((r) => [r, "tenancy-test"]));
        for (const l of locks) {
            expect(l.inputs).toMatchObject({ minRetentionDays: 7, maxRetentionDays: 3650 });
            expect(l.inputs).not.toHaveProperty("changeableForDays");
            // Every argument forces a new lock; create-then-delete would put the new lock, then delete it (same vault).
            expect(l.options).toMatchObject({ protect: true, deleteBeforeReplace: true });
        }
        const vaults = ofType(protectedSingle, "aws:backup/vault:Vault");
        expect(vaults.map((v) => [v.options.protect, v.inputs["forceDestroy"]])).toEqual([[true, false], [true, false]]);
        for (const region of REGIONS) expect(named(protectedSingle, `shared-backup-${region}-kms-key`).options).toMatchObject({ protect: true, retainOnDelete: true });
    });

    it("compliance mode is opt-in and passes changeableForDays", async () => {
        const r = await recordStack(repo({ "tenancy:protect": true, "tenancy:backup": { ...BACKUP, vaultLock: { mode: "compliance", changeableForDays: 3 } } }), "test");
        const locks = ofType(r, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
        expect(locks.map((l) => l.inputs["changeableForDays"])).toEqual([3, 3]);
    });

    it("one service role AWS Backup assumes, with AWS's managed backup and restore policies for it", () => {
        const role = named(single, "shared-backup-role");
        const trust = JSON.parse(role.inputs["assumeRolePolicy"] as string);
        expect(trust.Statement).toEqual([expect.objectContaining({ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "backup.amazonaws.com" } })]);
        const attached = ofType(single, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs["role"] === role.outputs["name"] || a.inputs["role"] === role.inputs["name"] || a.name.startsWith("shared-backup-role"));
        expect(attached.map((a) => a.inputs["policyArn"]).sort()).toEqual([
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
        ]);
    });

    it("the platform output exports every region's vault and the role, for tenant stacks", () => {
        const platform = single.outputs["platform"] as Record<string, unknown>;
        expect(platform["backupVaults"]).toEqual(Object.fromEntries(REGIONS.map((r) => [r, { name: "tenancy-test", arn: vaultArn(r) }])));
        expect(platform["backupRoleArn"]).toBe(named(single, "shared-backup-role").outputs["arn"]);
    });
});

describe("tenants: plans and selections", () => {

    it("a shared tenant has none; every hybrid and dedicated tenant has its own, under its TenantBackup", () => {
        expect(plansOf(single, "alpha")).toEqual([]);
        for (const slug of ["charlie", "delta", "echo"]) {
            const [plan, ...more] = plansOf(single, slug);
            expect(more, slug).toEqual([]);
            expect(ancestors(single, plan!).slice(0, 2).map((a) => [a.type, a.name])).toEqual([["tenancy:backup:TenantBackup", `${slug}-backup`], ["tenancy:tenant:Tenant", slug]]);
            expect(plan!.inputs["name"]).toBe(`test-${slug}`);
        }
    });

    it("a hybrid tenant: snapshot rule of its policy into its region's vault, continuous rule as long as its instance's automated backups", () => {
        const [plan] = plansOf(single, "charlie");
        expect(plan!.inputs["region"]).toBe("us-east-1");
        const instance = ofType(single, "aws:rds/instance:Instance").find((i) => tenantOf(single)(i) === "charlie")!;
        expect(instance.inputs["backupRetentionPeriod"]).toBe(14);
        const rules = plan!.inputs["rules"] as Record<string, unknown>[];
        expect(rules).toEqual([
            expect.objectContaining({
                ruleName: "snapshots", schedule: "cron(0 5 ? * * *)", targetVaultName: "tenancy-test", lifecycle: { deleteAfter: 35 },
                recoveryPointTags: { "tenancy:stack": "test", "tenancy:tenant": "charlie", "tenancy:backup-policy": "standard" },
            }),
            expect.objectContaining({ ruleName: "point-in-time", enableContinuousBackup: true, targetVaultName: "tenancy-test", lifecycle: { deleteAfter: 14 } }),
        ]);
        expect(rules[0]).not.toHaveProperty("copyActions");
        expect(rules[0]!["enableContinuousBackup"]).toBeFalsy();
        // A job falling in the instance's own backup or maintenance window (30 minutes each, RDS's choice) still starts:
        // AWS Backup retries it for the start window, which must outlast both and fit in the completion window.
        for (const rule of rules) {
            expect(rule["startWindow"] as number).toBeGreaterThanOrEqual(180);
            expect(rule["startWindow"] as number).toBeLessThan(rule["completionWindow"] as number);
        }
    });

    it("the selection takes, by tag, the tenant's RDS instances of this environment in the plan's region, with the platform's role", () => {
        const [plan] = plansOf(single, "charlie");
        const [selection, ...more] = selectionsOf(single, "charlie");
        expect(more).toEqual([]);
        expect(selection!.inputs).toMatchObject({
            region: "us-east-1",
            planId: plan!.id,
            iamRoleArn: named(single, "shared-backup-role").outputs["arn"],
            resources: ["arn:aws:rds:us-east-1:*:db:*"],
            conditions: [{ stringEquals: [{ key: "aws:ResourceTag/tenancy:stack", value: "test" }, { key: "aws:ResourceTag/tenancy:tenant", value: "charlie" }] }],
        });
        // What it selects: the tenant's instance carries those tags.
        const instance = ofType(single, "aws:rds/instance:Instance").find((i) => tenantOf(single)(i) === "charlie")!;
        expect(instance.inputs["tags"]).toMatchObject({ "tenancy:stack": "test", "tenancy:tenant": "charlie" });
    });

    it("a dedicated tenant: its plan in its region with its file's longer retention, copied to the copy region's vault ARN", () => {
        const [plan] = plansOf(single, "delta");
        expect(plan!.inputs["region"]).toBe("eu-west-1");
        const [snapshots, pitr] = plan!.inputs["rules"] as Record<string, unknown>[];
        expect(snapshots).toMatchObject({
            schedule: "cron(0 */6 ? * * *)", lifecycle: { deleteAfter: 120 },
            copyActions: [{ destinationVaultArn: vaultArn("us-east-1"), lifecycle: { deleteAfter: 120 } }], // the tenant's 120 days, longer than the policy's 30-day copies
        });
        expect(pitr).toMatchObject({ enableContinuousBackup: true, lifecycle: { deleteAfter: 7 } });
        const [selection] = selectionsOf(single, "delta");
        expect(selection!.inputs).toMatchObject({ region: "eu-west-1", resources: ["arn:aws:rds:eu-west-1:*:db:*"] });
    });

    it("point-in-time by AWS Backup: the instance's backupRetentionPeriod is AWS Backup's to change, so Pulumi ignores its changes (set at creation)", () => {
        const instanceOf = (slug: string) => ofType(single, "aws:rds/instance:Instance").find((i) => tenantOf(single)(i) === slug)!;
        for (const slug of ["charlie", "delta", "echo"]) {
            expect(instanceOf(slug).options.ignoreChanges, slug).toContain("backupRetentionPeriod");
            expect(instanceOf(slug).inputs["backupRetentionPeriod"], slug).toBeGreaterThanOrEqual(7);
        }
        // Snapshots only: RDS keeps its automated backups, and the program their retention.
        expect(instanceOf("hotel").options.ignoreChanges ?? []).not.toContain("backupRetentionPeriod");
        expect((plansOf(single, "hotel")[0]!.inputs["rules"] as unknown[]).length).toBe(1);
    });

    it("an offboarded tenant: weekly snapshots kept the offboarded time replace its policy's; point-in-time stays so RDS keeps its automated backups", () => {
        const [plan] = plansOf(single, "echo");
        expect((plan!.inputs["rules"] as Record<string, unknown>[]).map((r) => [r["ruleName"], r["schedule"], r["lifecycle"], r["enableContinuousBackup"] ?? false])).toEqual([
            ["offboarded", "cron(0 5 ? * SUN *)", { deleteAfter: 400 }, false],
            // Its schedule only syncs, and must come more often than its window expires: daily, whatever the policy.
            ["point-in-time", "cron(0 5 ? * * *)", { deleteAfter: 7 }, true],
        ]);
    });

    it("while a move is declared both placements are backed up: a plan in each region holding data, each selecting the tenant by tag", async () => {
        const r = await recordStack(repo({}, {
            "foxtrot.yaml": sharedTenant("foxtrot", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.70.0.0/16}\nmove:\n  from:\n    tier: hybrid\n"),
            "golf.yaml": sharedTenant("golf", "tier: hybrid\nmove:\n  from:\n    tier: shared\n"),
        }), "test");
        const plans = plansOf(r, "foxtrot");
        expect(plans.map((p) => p.inputs["region"]).sort()).toEqual(["eu-west-1", "us-east-1"]);
        const instances = ofType(r, "aws:rds/instance:Instance").filter((i) => tenantOf(r)(i) === "foxtrot");
        expect(instances.map((i) => i.inputs["region"] ?? "us-east-1").sort()).toEqual(["eu-west-1", "us-east-1"]);
        for (const s of selectionsOf(r, "foxtrot")) {
            const covered = instances.filter((i) => (i.inputs["region"] ?? "us-east-1") === s.inputs["region"]);
            expect(covered.length).toBe(1);
            expect(covered[0]!.inputs["tags"]).toMatchObject({ "tenancy:stack": "test", "tenancy:tenant": "foxtrot" });
        }
        // shared → hybrid: only the hybrid placement is an RDS instance.
        expect(plansOf(r, "golf").map((p) => p.inputs["region"])).toEqual(["us-east-1"]);
        // Copies go to the copy region's vault, except from the placement already there (no copy into its own vault).
        const copies = (p: RecordedResource) => (p.inputs["rules"] as Record<string, unknown>[])[0]!["copyActions"];
        const india = await recordStack(repo({}, {
            "india.yaml": sharedTenant("india", "tier: hybrid\nbackup:\n  copyRegion: eu-west-1\nmove:\n  from:\n    tier: dedicated\n    region: eu-west-1\n    network: {cidr: 10.80.0.0/16}\n"),
        }), "test");
        const byRegion = Object.fromEntries(plansOf(india, "india").map((p) => [p.inputs["region"], p]));
        expect(copies(byRegion["us-east-1"]!)).toEqual([{ destinationVaultArn: vaultArn("eu-west-1"), lifecycle: { deleteAfter: 35 } }]);
        expect(copies(byRegion["eu-west-1"]!)).toBeUndefined();
    });
});

describe("fleet layout", () => {
    let fleetRoot: string;
    let references: Record<string, Record<string, unknown>>;
    beforeAll(() => {
        fleetRoot = repo({ "tenancy:layout": "fleet" });
        references = fleetReferences(single, "test", ["main"]);
    });

    it("the platform stack declares the vaults and role with the single stack's inputs and exports them alike", async () => {
        const fleet = await recordStack(fleetRoot, "test");
        const backupOf = (r: RecordResult) => r.resources.filter((x) => x.name.startsWith("shared-backup")).map((x) => [x.type, x.name, x.inputs]);
        expect(backupOf(fleet).length).toBeGreaterThan(6);
        expect(backupOf(fleet)).toEqual(backupOf(single));
        expect((fleet.outputs["platform"] as Record<string, unknown>)["backupVaults"]).toEqual((single.outputs["platform"] as Record<string, unknown>)["backupVaults"]);
    });

    it("a tenant stack declares its plan and selection, reading the vaults and role from the platform stack", async () => {
        const fleet = await record(() => main(fleetRoot), { project: "tenancy", stack: "test.delta", stackReferences: references, idSeedStack: "test" });
        const [plan] = ofType(fleet, "aws:backup/plan:Plan");
        const [selection] = ofType(fleet, "aws:backup/selection:Selection");
        expect(plan!.inputs).toEqual(plansOf(single, "delta")[0]!.inputs);
        expect(selection!.inputs["iamRoleArn"]).toBe((single.outputs["platform"] as Record<string, unknown>)["backupRoleArn"]);
        expect(selection!.inputs).toEqual(selectionsOf(single, "delta")[0]!.inputs);
        expect(ofType(fleet, "aws:backup/vault:Vault")).toEqual([]);
    });
});
