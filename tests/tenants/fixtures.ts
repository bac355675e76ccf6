import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { formatProblem, RegistryError, SourceFile } from "../../tenants/problems";
import { loadRegistry, validateStackConfig } from "../../tenants/registry";

/** Pinned zones of the fixture's regions, three each so highAvailability configs validate too. */
export const DEFAULT_ZONE_IDS = { "us-east-1": ["use1-az1", "use1-az2", "use1-az4"], "eu-west-1": ["euw1-az1", "euw1-az2", "euw1-az3"] };

/** A minimal valid stack config, as it would stand in `Pulumi.test.yaml`. */
export function baseStackConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        "aws:region": "us-east-1",
        "tenancy:domain": "saas.example.com",
        "tenancy:hostedZoneId": "Z0TEST0ZONE",
        "tenancy:regions": ["us-east-1", "eu-west-1"],
        "tenancy:tiers": { allowed: ["shared", "hybrid", "dedicated"], default: "shared" },
        "tenancy:channels": { stable: "1.2.3", beta: "1.3.0-rc.1" },
        "tenancy:features": ["sso", "audit-log"],
        "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 } },
        "tenancy:tenantsDir": "tenants/test",
        "tenancy:protect": false,
        ...overrides,
        // Last, so the lines of everything above stay where tests locate them.
        "tenancy:availabilityZoneIds": "tenancy:availabilityZoneIds" in overrides ? overrides["tenancy:availabilityZoneIds"] : DEFAULT_ZONE_IDS,
    };
}

/** A temporary repository root with `Pulumi.test.yaml` and `tenants/test/<file>` as given (strings are written verbatim). */
export function makeRepo(files: Record<string, string | Record<string, unknown>>, config = baseStackConfig()): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenancy-test-"));
    fs.writeFileSync(path.join(root, "Pulumi.test.yaml"), stringify({ config }));
    fs.mkdirSync(path.join(root, "tenants", "test"), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(root, "tenants", "test", name), typeof content === "string" ? content : stringify(content));
    }
    return root;
}

/** A valid shared tenant file as YAML text. */
export function sharedTenant(slug: string, extra = ""): string {
    return `slug: ${slug}\ndisplayName: ${slug} Inc\n${extra}`;
}

/** A host name of exactly `length` characters under `suffix`, in labels of at most 63. */
export function hostOfLength(length: number, suffix = "example.com"): string {
    let rest = length - suffix.length;
    const labels: string[] = [];
    while (rest > 0) {
        const n = Math.min(63, rest - 1);
        labels.push("a".repeat(Math.max(1, n)));
        rest -= Math.max(1, n) + 1;
    }
    const host = [...labels, suffix].join(".");
    if (host.length !== length) throw new Error(`hostOfLength(${length}) made ${host.length}`);
    return host;
}

/** Validates a temporary repo of `files` under `config` and returns the formatted problems (empty when valid). */
/** Loads a test repo of `files` under `config` (stack `test`) and returns its registry; throws its RegistryError. */
export function loadFixtureRegistry(files: Record<string, string>, config = baseStackConfig()): ReturnType<typeof loadRegistry> {
    const root = makeRepo(files, config);
    try {
        return loadRegistry({ root, stack: "test" });
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

export function registryProblems(files: Record<string, string>, config = baseStackConfig()): string[] {
    const root = makeRepo(files, config);
    try {
        loadRegistry({ root, stack: "test" });
        return [];
    } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        return e.problems.map(formatProblem);
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

/**
 * Validates the stack config `baseStackConfig(overrides)` as `Pulumi.test.yaml` (stack `test`) would be, problems
 * located in that file's text: what the config tests of every `tenancy:` key check.
 */
export function validateConfig(overrides: Record<string, unknown>): ReturnType<typeof validateStackConfig> {
    const all = baseStackConfig(overrides);
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) if (k.startsWith("tenancy:")) values[k.slice("tenancy:".length)] = v;
    const file = "Pulumi.test.yaml";
    return validateStackConfig(values, { stack: "test", region: all["aws:region"] as string, file, source: new SourceFile(file, stringify({ config: all })) });
}
