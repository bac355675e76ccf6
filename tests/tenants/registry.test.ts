import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRegistry } from "../../tenants/registry";
import { fixtureRepo, type FixtureRepo } from "../support/fixtureRepo";
import { baseStackConfig, loadFixtureRegistry, sharedTenant, registryProblems } from "./fixtures";

/** Loads a test repo and returns the formatted problems (empty when valid). */
const problems = registryProblems;

const load = loadFixtureRegistry;

describe("the fixture stacks (tests/support/fixtureRepo.ts)", () => {
    let fixture: FixtureRepo;
    beforeAll(() => {
        fixture = fixtureRepo();
    });
    afterAll(() => fixture.remove());

    it("the dev stack's tenants validate: one of each tier", () => {
        const { tenants } = loadRegistry({ root: fixture.root, stack: "dev" });
        expect(tenants.map((t) => t.tier).sort()).toEqual(["dedicated", "hybrid", "shared"]);
    });

    it("the prod stack's tenants validate: several shared, a hybrid, a dedicated elsewhere, a suspended one", () => {
        const { config, tenants } = loadRegistry({ root: fixture.root, stack: "prod" });
        expect(config.protect).toBe(true);
        expect(tenants.filter((t) => t.tier === "shared").length).toBeGreaterThanOrEqual(3);
        expect(tenants.some((t) => t.tier === "hybrid")).toBe(true);
        const dedicated = tenants.find((t) => t.tier === "dedicated")!;
        expect(dedicated.region).not.toBe(config.region);
        expect(dedicated.network?.cidr).toBeDefined();
        expect(tenants.some((t) => t.status === "suspended")).toBe(true);
    });

    it("a stack never picks up another stack's tenants", () => {
        const dev = loadRegistry({ root: fixture.root, stack: "dev" }).tenants.map((t) => t.file);
        expect(dev.length).toBeGreaterThan(0);
        expect(dev.every((f) => f.startsWith("tenants/dev/"))).toBe(true);
    });
});

describe("defaults", () => {
    it("resolves tier, status, subdomain, hostnames, release and database defaults from the stack", () => {
        const { tenants } = load({ "acme.yaml": sharedTenant("acme", "customDomains: [app.acme.com]\n") });
        expect(tenants[0]).toMatchObject({
            slug: "acme",
            tier: "shared",
            status: "active",
            region: "us-east-1",
            subdomain: "acme",
            hostnames: ["acme.saas.example.com", "app.acme.com"],
            release: { channel: "stable", version: "1.2.3" },
            database: { connectionLimit: 20, statementTimeoutSeconds: 30 },
            file: "tenants/test/acme.yaml",
        });
        expect(tenants[0].size).toBeUndefined();
    });

    it("a dedicated tenant gets size small and the stack's region by default", () => {
        const { tenants } = load({ "big.yaml": sharedTenant("big", "tier: dedicated\nnetwork: {cidr: 10.50.0.0/16}\n") });
        expect(tenants[0]).toMatchObject({ size: "small", region: "us-east-1", network: { cidr: "10.50.0.0/16" } });
    });

    it("the stack's default tier applies to tenants that name none", () => {
        const config = baseStackConfig({ "tenancy:tiers": { allowed: ["shared", "hybrid"], default: "hybrid" } });
        expect(load({ "acme.yaml": sharedTenant("acme") }, config).tenants[0].tier).toBe("hybrid");
    });
});

describe("slug", () => {
    it.each([
        ["ab", "must be 3 to 32 characters"],
        ["a".repeat(33), "must be 3 to 32 characters"],
        ["1abc", "must start with a letter"],
        ["abc-", "must start with a letter"],
        ["Abc", "must start with a letter"],
        ["ab--cd", "must not contain '--'"],
        ["admin", "is a reserved name"],
        ["www", "is a reserved name"],
    ])("rejects %s", (slug, message) => {
        const out = problems({ [`${slug}.yaml`]: `slug: ${slug}\ndisplayName: X\n` });
        expect(out.some((p) => p.startsWith(`tenants/test/${slug}.yaml:1:7 slug: `) && p.includes(message))).toBe(true);
    });

    it("must equal the file name", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme-corp") })).toEqual([
            "tenants/test/acme.yaml:1:7 slug: 'acme-corp' must equal the file name 'acme'",
        ]);
    });

    it("tenant files end in .yaml", () => {
        expect(problems({ "acme.yml": sharedTenant("acme") })).toEqual(["tenants/test/acme.yml: tenant files end in .yaml: rename it"]);
    });
});

describe("fields", () => {
    it("displayName is required", () => {
        expect(problems({ "acme.yaml": "slug: acme\n" })).toEqual(["tenants/test/acme.yaml:1:1 displayName: is required"]);
    });

    it("wrong types name the expected type and what was given", () => {
        expect(problems({ "acme.yaml": "slug: acme\ndisplayName: [a, b]\n" })).toEqual([
            "tenants/test/acme.yaml:2:14 displayName: must be a string (got a list)",
        ]);
    });

    it("unknown keys are errors with a did-you-mean", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "feautres: [sso]\n") })).toEqual([
            "tenants/test/acme.yaml:3:1 feautres: unknown field (did you mean 'features'?)",
        ]);
    });

    it("unknown nested keys are errors at the key", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "branding:\n  color: '#ffffff'\n") })).toEqual([
            "tenants/test/acme.yaml:4:3 branding.color: unknown field (allowed: primaryColor, logoUrl)",
        ]);
    });

    it("tier must be one of the three placements", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: premium\n") })).toEqual([
            'tenants/test/acme.yaml:3:7 tier: "premium" is not allowed (allowed: shared, hybrid, dedicated)',
        ]);
    });

    it("tier must be allowed by the stack", () => {
        const config = baseStackConfig({ "tenancy:tiers": { allowed: ["shared"], default: "shared" } });
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: hybrid\n") }, config)).toEqual([
            "tenants/test/acme.yaml:3:7 tier: 'hybrid' is not allowed in stack test (allowed: shared)",
        ]);
    });

    it("status must be active, suspended or offboarded", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "status: paused\n") })).toEqual([
            'tenants/test/acme.yaml:3:9 status: "paused" is not allowed (allowed: active, suspended, offboarded)',
        ]);
    });

    it("region is for dedicated tenants only", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "region: eu-west-1\n") })).toEqual([
            "tenants/test/acme.yaml:3:9 region: only dedicated tenants choose a region; shared tenants run in us-east-1",
        ]);
    });

    it("region must be allowed by the stack", () => {
        expect(problems({ "big.yaml": sharedTenant("big", "tier: dedicated\nregion: ap-south-1\nnetwork: {cidr: 10.50.0.0/16}\n") })).toEqual([
            "tenants/test/big.yaml:4:9 region: 'ap-south-1' is not allowed (allowed: us-east-1, eu-west-1)",
        ]);
    });

    it("dedicated tenants need a network", () => {
        expect(problems({ "big.yaml": sharedTenant("big", "tier: dedicated\n") })).toEqual([
            "tenants/test/big.yaml:1:1 network: dedicated tenants need network.cidr: a private /16 to /24 block for their VPC",
        ]);
    });

    it("other tiers must not have a network", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "network:\n  cidr: 10.50.0.0/16\n") })).toEqual([
            "tenants/test/acme.yaml:4:3 network: only dedicated tenants have their own network; remove it for a shared tenant",
        ]);
    });

    it.each([
        ["10.50.0.0/8", "/8 is not allowed (allowed: /16 to /24)"],
        ["10.50.0.0/25", "/25 is not allowed (allowed: /16 to /24)"],
        ["8.8.0.0/16", "8.8.0.0/16 is not private (allowed: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"],
        ["10.50.1.0/16", "host bits are set (did you mean 10.50.0.0/16?)"],
        ["10.0.0.0/16", "10.0.0.0/16 overlaps the shared VPC 10.0.0.0/16"],
        ["10.0.4.0/24", "10.0.4.0/24 overlaps the shared VPC 10.0.0.0/16"],
        ["10.300.0.0/16", "must be an IPv4 CIDR block such as 10.20.0.0/16"],
    ])("network.cidr %s is rejected", (cidr, message) => {
        expect(problems({ "big.yaml": sharedTenant("big", `tier: dedicated\nnetwork:\n  cidr: ${cidr}\n`) })).toEqual([
            `tenants/test/big.yaml:5:9 network.cidr: ${message}`,
        ]);
    });

    it("subdomain must be a DNS label and not reserved", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "subdomain: Acme_Corp\n") })).toEqual([
            "tenants/test/acme.yaml:3:12 subdomain: must be a DNS label: a-z, 0-9 and '-', 1-63 characters",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "subdomain: api\n") })).toEqual([
            "tenants/test/acme.yaml:3:12 subdomain: 'api' is reserved by the platform",
        ]);
    });

    it("custom domains must be host names, listed once", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "customDomains:\n  - app.acme.com\n  - app.acme.com\n  - not_a_host\n") })).toEqual([
            "tenants/test/acme.yaml:5:5 customDomains[1]: 'app.acme.com' is listed twice",
            "tenants/test/acme.yaml:6:5 customDomains[2]: must be a lower-case fully qualified host name such as app.customer.com",
        ]);
    });

    it("size is not for shared tenants and must be a preset", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "size: small\n") })).toEqual([
            "tenants/test/acme.yaml:3:7 size: shared tenants have no size: they run on the shared platform (sizes are for hybrid and dedicated)",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: hybrid\nsize: huge\n") })).toEqual([
            'tenants/test/acme.yaml:4:7 size: "huge" is not allowed (allowed: small, medium, large)',
        ]);
    });

    it("release channel must exist; version pins are for dedicated tenants and must be semver", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "release:\n  channel: nightly\n") })).toEqual([
            "tenants/test/acme.yaml:4:12 release.channel: 'nightly' is not a release channel of stack test (allowed: stable, beta)",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "release:\n  version: 1.2.0\n") })).toEqual([
            "tenants/test/acme.yaml:4:12 release.version: only dedicated tenants pin a version; shared tenants run the shared app's stable release",
        ]);
        expect(problems({ "big.yaml": sharedTenant("big", "tier: dedicated\nnetwork: {cidr: 10.50.0.0/16}\nrelease:\n  version: v1.2\n") })).toEqual([
            "tenants/test/big.yaml:6:12 release.version: must be a semantic version such as 2.14.3",
        ]);
    });

    it("features come from the catalog, once each", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "features: [sso, ssso]\n") })).toEqual([
            "tenants/test/acme.yaml:3:17 features[1]: 'ssso' is not in the feature catalog (did you mean 'sso'?) (allowed: sso, audit-log)",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "features: [sso, audit-log, sso]\n") })).toEqual([
            "tenants/test/acme.yaml:3:28 features[2]: 'sso' is listed twice",
        ]);
    });

    it("branding colour and logo URL are checked", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "branding:\n  primaryColor: red\n  logoUrl: http://x.example/logo.png\n") })).toEqual([
            "tenants/test/acme.yaml:4:17 branding.primaryColor: must be a colour as #rrggbb",
            "tenants/test/acme.yaml:5:12 branding.logoUrl: must be an https:// URL",
        ]);
    });

    it("database overrides are range-checked and tier-checked", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "database:\n  connectionLimit: 0\n") })).toEqual([
            "tenants/test/acme.yaml:4:20 database.connectionLimit: must be 1 to 500",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: hybrid\ndatabase:\n  backupRetentionDays: 3\n") })).toEqual([
            "tenants/test/acme.yaml:5:24 database.backupRetentionDays: must be 7 to 35",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "database:\n  backupRetentionDays: 10\n") })).toEqual([
            "tenants/test/acme.yaml:4:24 database.backupRetentionDays: shared tenants use the shared cluster's backups; only hybrid and dedicated tenants set a retention",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: hybrid\ndatabase:\n  connectionLimit: 10\n") })).toEqual([
            "tenants/test/acme.yaml:5:20 database.connectionLimit: only shared tenants set connectionLimit; a hybrid tenant has its own database",
        ]);
    });

    it("tag keys must not start with aws:", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "tags:\n  aws:cost: x\n") })).toEqual([
            "tenants/test/acme.yaml:4:13 tags.aws:cost: tag keys must not start with 'aws:' (reserved by AWS)",
        ]);
    });
});

describe("files", () => {
    it("YAML syntax errors are located", () => {
        expect(problems({ "acme.yaml": "slug: [acme\n" })).toEqual([
            "tenants/test/acme.yaml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
        ]);
    });

    it("duplicate keys are errors", () => {
        const out = problems({ "acme.yaml": "slug: acme\nslug: acme\ndisplayName: A\n" });
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(/^tenants\/test\/acme\.yaml:2:1: invalid YAML: Map keys must be unique/);
    });

    it("empty files are errors", () => {
        expect(problems({ "acme.yaml": "# nothing here\n" })).toEqual([
            "tenants/test/acme.yaml:1:1: file is empty: a tenant file needs at least slug and displayName",
        ]);
    });

    it("a file must be a mapping", () => {
        expect(problems({ "acme.yaml": "- slug: acme\n" })).toEqual([
            "tenants/test/acme.yaml:1:1: a tenant file must be a mapping of fields (slug, displayName, ...)",
        ]);
    });
});

describe("across files", () => {
    it("subdomains and custom domains are unique across tenants", () => {
        expect(problems({
            "acme.yaml": sharedTenant("acme", "customDomains: [app.shared.com]\n"),
            "beta.yaml": sharedTenant("beta", "subdomain: acme\ncustomDomains: [app.shared.com]\n"),
        })).toEqual([
            "tenants/test/beta.yaml:3:12 subdomain: host name acme.saas.example.com is already used by tenants/test/acme.yaml (slug)",
            "tenants/test/beta.yaml:4:17 customDomains[0]: host name app.shared.com is already used by tenants/test/acme.yaml (customDomains[0])",
        ]);
    });

    it("tenant networks must not overlap each other", () => {
        expect(problems({
            "big.yaml": sharedTenant("big", "tier: dedicated\nnetwork: {cidr: 10.50.0.0/16}\n"),
            "huge.yaml": sharedTenant("huge", "tier: dedicated\nnetwork: {cidr: 10.50.128.0/20}\n"),
        })).toEqual([
            "tenants/test/huge.yaml:4:17 network.cidr: 10.50.128.0/20 overlaps 10.50.0.0/16 of tenants/test/big.yaml",
        ]);
    });

    it("every problem in every file is reported in one run", () => {
        const out = problems({
            "acme.yaml": sharedTenant("acme", "tier: premium\n"),
            "beta.yaml": "slug: beta\n",
            "gamma.yaml": "slug: [\n",
            "delta.yaml": sharedTenant("delta", "features: [nope]\nfoo: 1\n"),
        });
        expect(out).toEqual([
            'tenants/test/acme.yaml:3:7 tier: "premium" is not allowed (allowed: shared, hybrid, dedicated)',
            "tenants/test/beta.yaml:1:1 displayName: is required",
            "tenants/test/delta.yaml:3:12 features[0]: 'nope' is not in the feature catalog (allowed: sso, audit-log)",
            expect.stringMatching(/^tenants\/test\/delta\.yaml:4:1 foo: unknown field \(allowed: slug, displayName, tier, .*, tags\)$/),
            expect.stringMatching(/^tenants\/test\/gamma\.yaml:\d+:\d+: invalid YAML: /),
        ]);
    });

    it("shared tenants' connection limits must fit the shared cluster", () => {
        const files = Object.fromEntries(
            Array.from({ length: 12 }, (_, i) => [`t${i}x.yaml`, sharedTenant(`t${i}x`, "database: {connectionLimit: 500}\n")]),
        );
        const out = problems(files);
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(
            /^tenants\/test database\.connectionLimit: shared tenants on cell main may open 6060 connections \(runtime limits plus 5 per owner role\) but its cluster accepts 773 \(max_connections 823 for Serverless v2 at 0.5-4 ACU, minus 50 reserved for the platform\)/,
        );
    });
});

describe("stack configuration", () => {
    it("errors name the key, its position, what is wrong and what is allowed", () => {
        const config = baseStackConfig({
            "tenancy:tiers": { allowed: ["shared"], default: "dedicated" },
            "tenancy:channels": { beta: "1.0.0" },
            "tenancy:logRetentionDays": 10,
            "tenancy:domian": "x.com",
        });
        const out = problems({}, config);
        expect(out).toEqual([
            "Pulumi.test.yaml:11:14 tenancy:tiers.default: must be one of tiers.allowed",
            "Pulumi.test.yaml:13:5 tenancy:channels: must define the 'stable' channel",
            expect.stringMatching(/^Pulumi\.test\.yaml:24:29 tenancy:logRetentionDays: must be a CloudWatch retention period \(1, 3, 5, 7, 14, 30/),
            "Pulumi.test.yaml:25:3 tenancy:domian: unknown field (did you mean 'domain'?)",
        ]);
    });

    it("aws:region is required", () => {
        const { ["aws:region"]: _r, ...config } = baseStackConfig();
        expect(problems({}, config)).toEqual(["Pulumi.test.yaml aws:region: is required: the stack's AWS region, e.g. us-east-1"]);
    });

    it("the shared database needs a capacity range or an instance class, not both", () => {
        const config = baseStackConfig({
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 1, maxCapacity: 4, instanceClass: "db.r6g.large" } },
        });
        expect(problems({}, config)).toEqual([
            expect.stringMatching(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.database\.instanceClass: set either instanceClass or minCapacity\/maxCapacity, not both$/),
        ]);
    });

    it("a secret value must be stored as a secret", () => {
        expect(problems({}, baseStackConfig({ "tenancy:appSecretKey": "plaintext" }))).toEqual([
            expect.stringMatching(/tenancy:appSecretKey: must be a secret: set it with 'pulumi config set --secret tenancy:appSecretKey \.\.\.'$/),
        ]);
        expect(problems({}, baseStackConfig({ "tenancy:appSecretKey": { secure: "v1:abc" } }))).toEqual([]);
    });

    it("an unknown stack names the stacks that exist", () => {
        const fixture = fixtureRepo();
        try {
            expect(() => loadRegistry({ root: fixture.root, stack: "staging" })).toThrow(/Pulumi\.staging\.yaml: no such stack configuration \(stacks: dev, prod\)/);
        } finally {
            fixture.remove();
        }
    });
});
