/**
 * `tenancy:backup.shared`: the logical dumps of shared tenants' schemas, configured with safe defaults (every existing
 * stack validates unchanged and gets a nightly dump) and every mistake reported at once, at its field.
 */
import { describe, expect, it } from "vitest";
import { SHARED_BACKUP_DEFAULTS, SharedBackupSchema } from "../../stacks/sharedBackupConfig";
import { validateConfig as validate } from "../tenants/fixtures";


describe("tenancy:backup.shared", () => {
    it("a stack without it validates and gets the defaults: a nightly dump at 02:15 UTC kept 35 days", () => {
        const { config, problems } = validate({});
        expect(problems).toEqual([]);
        expect(config!.backup.shared).toEqual(SHARED_BACKUP_DEFAULTS);
        expect(SHARED_BACKUP_DEFAULTS).toMatchObject({
            enabled: true, schedule: "cron(15 2 * * ? *)", timezone: "UTC", retentionDays: 35, noncurrentVersionDays: 7, buildImage: false,
        });
        expect(config!.backup.shared.infrequentAccessAfterDays).toBeUndefined();
    });

    it("an empty backup or shared object takes every default", () => {
        expect(validate({ "tenancy:backup": {} }).config!.backup.shared).toEqual(SHARED_BACKUP_DEFAULTS);
        expect(validate({ "tenancy:backup": { shared: { retentionDays: 90 } } }).config!.backup.shared).toEqual({ ...SHARED_BACKUP_DEFAULTS, retentionDays: 90 });
    });

    it("every mistake is reported at once, at its field, located in the stack file", () => {
        const { config, problems } = validate({
            "tenancy:backup": {
                shared: { schedule: "every night", retentionDays: 0, infrequentAccessAfterDays: 10, cpu: 300, ephemeralStorageGiB: 500, colour: "red" },
            },
        });
        expect(config).toBeUndefined();
        const got = problems.map((p) => `${p.field}: ${p.message}`);
        expect(got).toEqual(expect.arrayContaining([
            expect.stringMatching(/^tenancy:backup\.shared\.schedule: must be an EventBridge Scheduler expression/),
            expect.stringMatching(/^tenancy:backup\.shared\.retentionDays: must be 1 to 3650/),
            expect.stringMatching(/^tenancy:backup\.shared\.infrequentAccessAfterDays: must be 30 to 3650/),
            expect.stringMatching(/^tenancy:backup\.shared\.cpu: /),
            expect.stringMatching(/^tenancy:backup\.shared\.ephemeralStorageGiB: must be 21 to 200/),
            expect.stringMatching(/^tenancy:backup\.shared\.colour: unknown field/),
        ]));
        expect(got).toHaveLength(6);
        expect(problems.every((p) => p.line !== undefined && p.line > 1)).toBe(true);
    });

    it("objects move to Standard-IA only before they expire, and a task size Fargate does not run is refused", () => {
        const ia = SharedBackupSchema.safeParse({ retentionDays: 30, infrequentAccessAfterDays: 30 });
        expect(ia.success).toBe(false);
        expect(ia.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([
            ["infrequentAccessAfterDays", "must be less than retentionDays (30): objects expire before they would move"],
        ]);
        expect(SharedBackupSchema.safeParse({ retentionDays: 90, infrequentAccessAfterDays: 30 }).success).toBe(true);
        const size = SharedBackupSchema.safeParse({ cpu: 256, memory: 4096 });
        expect(size.success).toBe(false);
        expect(size.error!.issues[0]!.path).toEqual(["memory"]);
    });

    it("rate and at expressions are schedules too", () => {
        for (const schedule of ["rate(12 hours)", "cron(0 */6 * * ? *)", "at(2030-01-01T00:00:00)"]) {
            expect(SharedBackupSchema.safeParse({ schedule }).success, schedule).toBe(true);
        }
        expect(SharedBackupSchema.safeParse({ timezone: "Mars/Olympus" }).success).toBe(false);
        expect(SharedBackupSchema.safeParse({ timezone: "Europe/Berlin" }).success).toBe(true);
    });
});
