/**
 * `tenancy:backup.shared`: the scheduled logical dumps of shared tenants' schemas (components/backup/schemaDumps.ts,
 * README "Logical backups of shared tenants"). Every field has a default, so a stack that says nothing gets a nightly
 * dump of every shared tenant kept 35 days.
 */
import { z } from "zod";
import { fargateSizeProblem } from "../model/fargate";

const int = (min: number, max: number) =>
    z.int("must be a whole number").min(min, `must be ${min} to ${max}`).max(max, `must be ${min} to ${max}`);

/** EventBridge Scheduler's three forms: `cron(min hour day-of-month month day-of-week year)`, `rate(n unit)`, `at(…)`. */
const SCHEDULE_PATTERN = /^(cron\((\S+ ){5}\S+\)|rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/;

/** An IANA time zone the runtime knows (Scheduler takes the same names). */
function isTimeZone(tz: string): boolean {
    try {
        new Intl.DateTimeFormat("en", { timeZone: tz });
        return true;
    } catch {
        return false;
    }
}

const CPU = z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)], {
    error: "must be a Fargate CPU value (256, 512, 1024, 2048, 4096)",
});
const MEMORY = int(512, 30720);

/** The values a stack gets when it says nothing. */
export const SHARED_BACKUP_DEFAULTS = {
    enabled: true,
    schedule: "cron(15 2 * * ? *)",
    timezone: "UTC",
    retentionDays: 35,
    noncurrentVersionDays: 7,
    cpu: 512,
    memory: 1024,
    ephemeralStorageGiB: 21,
    buildImage: false,
} as const;

export const SharedBackupSchema = z.strictObject({
    /** Dump every cell's shared tenants on the schedule. Defaults to true; false declares no bucket and no jobs. */
    enabled: z.boolean().default(SHARED_BACKUP_DEFAULTS.enabled),
    /** When each cell's job runs: an EventBridge Scheduler expression. Defaults to `cron(15 2 * * ? *)`, 02:15 daily. */
    schedule: z.string().regex(SCHEDULE_PATTERN, "must be an EventBridge Scheduler expression such as cron(15 2 * * ? *) or rate(12 hours)")
        .default(SHARED_BACKUP_DEFAULTS.schedule),
    /** Time zone of `schedule` (IANA name). Defaults to UTC. */
    timezone: z.string().refine(isTimeZone, "must be an IANA time zone such as UTC or Europe/Berlin").default(SHARED_BACKUP_DEFAULTS.timezone),
    /** Days a dump (and its manifest) is kept before the bucket's lifecycle expires it. Defaults to 35. */
    retentionDays: int(1, 3650).default(SHARED_BACKUP_DEFAULTS.retentionDays),
    /** Days an overwritten or expired object's noncurrent version is kept (the bucket is versioned). Defaults to 7. */
    noncurrentVersionDays: int(1, 365).default(SHARED_BACKUP_DEFAULTS.noncurrentVersionDays),
    /** Move dumps to S3 Standard-IA after this many days (S3's minimum is 30); must be less than `retentionDays`. Defaults to never. */
    infrequentAccessAfterDays: int(30, 3650).optional(),
    /** Fargate CPU units and memory (MiB) of a dump task. Defaults to 512 and 1024. */
    cpu: CPU.default(SHARED_BACKUP_DEFAULTS.cpu),
    memory: MEMORY.default(SHARED_BACKUP_DEFAULTS.memory),
    /** Task storage (GiB) where a dump is written before its upload: must hold the largest tenant's compressed dump. Defaults to 21. */
    ephemeralStorageGiB: int(21, 200).default(SHARED_BACKUP_DEFAULTS.ephemeralStorageGiB),
    /**
     * Build the dump image from `backup/` and push it to the platform's dump repository with @pulumi/docker (Docker where
     * `pulumi up` runs). Defaults to false: the image is expected in that repository (README, "Logical backups").
     */
    buildImage: z.boolean().default(SHARED_BACKUP_DEFAULTS.buildImage),
}).superRefine((s, ctx) => {
    const problem = typeof s.cpu === "number" && typeof s.memory === "number" ? fargateSizeProblem(s.cpu, s.memory) : undefined;
    if (problem) ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
    if (s.infrequentAccessAfterDays !== undefined && s.infrequentAccessAfterDays >= s.retentionDays) {
        ctx.addIssue({
            code: "custom", path: ["infrequentAccessAfterDays"],
            message: `must be less than retentionDays (${s.retentionDays}): objects expire before they would move`,
        });
    }
}).prefault({});

export type SharedBackupConfig = z.output<typeof SharedBackupSchema>;
