/**
 * `tenancy:monitoring`: the alarm thresholds of every tenant by size preset (shared tenants have their own set), who
 * the environment's alarm topics notify, and whether tenants are monitored at all. A tenant file may override any
 * threshold that applies to its tier (`monitoring.thresholds`, tenants/registry.ts checks which).
 */
import { z } from "zod";

/** What a threshold measures, its bounds, and the tiers it applies to (the registry refuses an override elsewhere). */
export const THRESHOLD_SPECS = {
    /** 5xx responses as a percentage of requests: the ALB's (target and ELB 5xx) for dedicated tenants, the app's `Errors` for the others. */
    errorRatePercent: { min: 0.1, max: 100, tiers: ["shared", "hybrid", "dedicated"] },
    /** p99 response time in seconds: the ALB's TargetResponseTime (dedicated), the app's `Latency` (shared, hybrid). */
    latencyP99Seconds: { min: 0.01, max: 60, tiers: ["shared", "hybrid", "dedicated"] },
    /** Unhealthy targets of the tenant's own target group at which to alarm (dedicated). */
    unhealthyTargets: { min: 1, max: 100, tiers: ["dedicated"] },
    /** The tenant's ECS service's average CPU and memory utilization, in percent (dedicated). */
    serviceCpuPercent: { min: 1, max: 100, tiers: ["dedicated"] },
    serviceMemoryPercent: { min: 1, max: 100, tiers: ["dedicated"] },
    /** The tenant's RDS instance's CPU utilization, in percent (hybrid, dedicated). */
    dbCpuPercent: { min: 1, max: 100, tiers: ["hybrid", "dedicated"] },
    /** Free storage below this percentage of the size preset's allocated storage (hybrid, dedicated). */
    dbFreeStoragePercent: { min: 1, max: 50, tiers: ["hybrid", "dedicated"] },
    /** Connections above this percentage of what the instance class allows (`max_connections`; hybrid, dedicated). */
    dbConnectionsPercent: { min: 1, max: 100, tiers: ["hybrid", "dedicated"] },
    /** A shared tenant's open connections above this percentage of its runtime role's connection limit. */
    tenantConnectionsPercent: { min: 1, max: 100, tiers: ["shared"] },
} as const;

export type ThresholdName = keyof typeof THRESHOLD_SPECS;
export type Thresholds = Record<ThresholdName, number>;
/** The threshold sets: shared tenants', and one per size preset of hybrid and dedicated tenants. */
export const THRESHOLD_SETS = ["shared", "small", "medium", "large"] as const;
export type ThresholdSet = (typeof THRESHOLD_SETS)[number];

const BASE: Thresholds = {
    errorRatePercent: 5,
    latencyP99Seconds: 2,
    unhealthyTargets: 1,
    serviceCpuPercent: 85,
    serviceMemoryPercent: 85,
    dbCpuPercent: 80,
    // Half of storage autoscaling's trigger (free < 10% of what is allocated): 10 would fire on every normal autoscale.
    dbFreeStoragePercent: 5,
    dbConnectionsPercent: 80,
    tenantConnectionsPercent: 80,
};

/** Built-in thresholds; a larger preset is held to a faster p99 (more capacity, and customers who pay for it). */
export const DEFAULT_THRESHOLDS: Readonly<Record<ThresholdSet, Thresholds>> = {
    shared: { ...BASE },
    small: { ...BASE },
    medium: { ...BASE, latencyP99Seconds: 1.5 },
    large: { ...BASE, latencyP99Seconds: 1 },
};

/** Some thresholds, each within its bounds: a stack's preset or a tenant file's overrides. */
export const ThresholdOverridesSchema = z.strictObject(
    Object.fromEntries(Object.entries(THRESHOLD_SPECS).map(([k, s]) => [
        k,
        z.number(`must be a number from ${s.min} to ${s.max}`).min(s.min, `must be ${s.min} to ${s.max}`).max(s.max, `must be ${s.min} to ${s.max}`).optional(),
    ])) as { [K in ThresholdName]: z.ZodOptional<z.ZodNumber> },
);
export type ThresholdOverrides = Partial<Thresholds>;

/** An email address SNS can deliver to (a pragmatic check: one `@`, a dotted domain, no spaces). */
export const EMAIL = z.string().max(254, "must be at most 254 characters").regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "must be an email address such as ops@example.com");

export const MonitoringConfigSchema = z.strictObject({
    /** Declare alarms, dashboards and saved queries for tenants, and the environment's alarm topics. Defaults to true. */
    enabled: z.boolean().default(true),
    /**
     * Addresses subscribed (email) to the environment's alarm topic in every region of the stack. Each must confirm
     * the subscription from the email SNS sends. Defaults to none (subscribe your pager to the topics instead).
     */
    emails: z.array(EMAIL).default([]),
    /** Threshold overrides per set (`shared`, `small`, `medium`, `large`), merged over the built-in defaults. */
    thresholds: z.strictObject(Object.fromEntries(THRESHOLD_SETS.map((s) => [s, ThresholdOverridesSchema.optional()])) as Record<ThresholdSet, z.ZodOptional<typeof ThresholdOverridesSchema>>)
        .default({})
        .transform((t) => Object.fromEntries(THRESHOLD_SETS.map((s) => [s, { ...DEFAULT_THRESHOLDS[s], ...stripUndefined(t[s] ?? {}) }])) as Record<ThresholdSet, Thresholds>),
});
export type MonitoringConfig = z.output<typeof MonitoringConfigSchema>;

/** What `tenancy:monitoring` resolves to when a stack does not set it. */
export const MONITORING_DEFAULT = { enabled: true, emails: [], thresholds: {} } as const;

function stripUndefined<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The thresholds of one placement: its set's (the stack's) with the tenant file's overrides. */
export function placementThresholds(sets: Record<ThresholdSet, Thresholds>, set: ThresholdSet, overrides: ThresholdOverrides = {}): Thresholds {
    return { ...sets[set], ...stripUndefined(overrides) };
}
