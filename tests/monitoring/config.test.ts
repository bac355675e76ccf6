/**
 * `tenancy:monitoring` and a tenant file's `monitoring:`: thresholds by size preset with the stack's and the tenant's
 * overrides, and every mistake reported at its field, all at once.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS, placementThresholds } from "../../stacks/monitoringConfig";
import { baseStackConfig, loadFixtureRegistry, registryProblems, sharedTenant } from "../tenants/fixtures";

const load = loadFixtureRegistry;

const DEDICATED = "tier: dedicated\nnetwork: {cidr: 10.60.0.0/16}\nsize: large\n";

describe("tenancy:monitoring", () => {
    it("defaults: monitoring on, no emails, the built-in thresholds per set (a stack without the key validates unchanged)", () => {
        const { config } = load({ "acme.yaml": sharedTenant("acme") });
        expect(config.monitoring).toEqual({ enabled: true, emails: [], thresholds: DEFAULT_THRESHOLDS });
        // A larger preset is held to a faster p99.
        expect([DEFAULT_THRESHOLDS.small.latencyP99Seconds, DEFAULT_THRESHOLDS.medium.latencyP99Seconds, DEFAULT_THRESHOLDS.large.latencyP99Seconds]).toEqual([2, 1.5, 1]);
    });

    it("a set given in the stack is merged over the built-in one, field by field", () => {
        const { config } = load({ "acme.yaml": sharedTenant("acme") }, baseStackConfig({ "tenancy:monitoring": { thresholds: { large: { dbCpuPercent: 70 } }, emails: ["ops@example.com"] } }));
        expect(config.monitoring.thresholds.large).toEqual({ ...DEFAULT_THRESHOLDS.large, dbCpuPercent: 70 });
        expect(config.monitoring.thresholds.small).toEqual(DEFAULT_THRESHOLDS.small);
        expect(config.monitoring.emails).toEqual(["ops@example.com"]);
    });

    it("bad values are reported at their keys, all at once", () => {
        const problems = registryProblems({ "acme.yaml": sharedTenant("acme") }, baseStackConfig({
            "tenancy:monitoring": { thresholds: { huge: {}, small: { dbCpuPercent: 120, cpu: 3 } }, emails: ["not-an-email"] },
        }));
        expect(problems.some((p) => /tenancy:monitoring\.thresholds\.small\.dbCpuPercent: must be 1 to 100/.test(p))).toBe(true);
        expect(problems.some((p) => /tenancy:monitoring\.thresholds\.small\.cpu: unknown field/.test(p))).toBe(true);
        expect(problems.some((p) => /tenancy:monitoring\.thresholds\.huge: unknown field.*allowed: shared, small, medium, large/.test(p))).toBe(true);
        expect(problems.some((p) => /tenancy:monitoring\.emails\[0\]: must be an email address/.test(p)), problems.join("\n")).toBe(true);
    });
});

describe("a tenant file's monitoring:", () => {
    it("resolves the contact and the overrides; the placement's thresholds are its set's with them", () => {
        const { config, tenants } = load({ "tyrell.yaml": sharedTenant("tyrell", `${DEDICATED}monitoring:\n  contact: oncall@tyrell.example\n  thresholds: {latencyP99Seconds: 0.5, dbFreeStoragePercent: 20}\n`) });
        expect(tenants[0]!.monitoring).toEqual({ contact: "oncall@tyrell.example", thresholds: { latencyP99Seconds: 0.5, dbFreeStoragePercent: 20 } });
        expect(placementThresholds(config.monitoring.thresholds, "large", tenants[0]!.monitoring!.thresholds)).toEqual({
            ...DEFAULT_THRESHOLDS.large, latencyP99Seconds: 0.5, dbFreeStoragePercent: 20,
        });
    });

    it("a tenant without monitoring: resolves as before (no field)", () => {
        const { tenants } = load({ "acme.yaml": sharedTenant("acme") });
        expect(tenants[0]).not.toHaveProperty("monitoring");
    });

    it("every mistake at its field, line and column: a bad contact, an unknown or out-of-range threshold, one that does not apply to the tier", () => {
        const problems = registryProblems({
            "acme.yaml": sharedTenant("acme", "monitoring:\n  contact: nobody\n  thresholds:\n    dbCpuPercent: 50\n    serviceCpuPercent: 50\n    latencyP99Seconds: 0\n    p99: 1\n"),
            "globex.yaml": sharedTenant("globex", "tier: hybrid\nmonitoring:\n  thresholds: {tenantConnectionsPercent: 50, unhealthyTargets: 2}\n"),
        });
        expect(problems).toEqual(expect.arrayContaining([
            "tenants/test/acme.yaml:4:12 monitoring.contact: must be an email address such as ops@example.com",
            expect.stringMatching(/^tenants\/test\/acme\.yaml:9:5 monitoring\.thresholds\.p99: unknown field \(allowed: errorRatePercent, latencyP99Seconds, /),
            "tenants/test/acme.yaml:8:24 monitoring.thresholds.latencyP99Seconds: must be 0.01 to 60",
            "tenants/test/acme.yaml:6:19 monitoring.thresholds.dbCpuPercent: does not apply to a shared tenant (it applies to hybrid, dedicated)",
            "tenants/test/acme.yaml:7:24 monitoring.thresholds.serviceCpuPercent: does not apply to a shared tenant (it applies to dedicated)",
            "tenants/test/globex.yaml:5:42 monitoring.thresholds.tenantConnectionsPercent: does not apply to a hybrid tenant (it applies to shared)",
            "tenants/test/globex.yaml:5:64 monitoring.thresholds.unhealthyTargets: does not apply to a hybrid tenant (it applies to dedicated)",
        ]));
    });
});
