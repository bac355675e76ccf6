import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { loadRegistry } from "../../tenants/registry";
import { MAX_TENANT_TAGS, PLATFORM_TAG_KEYS } from "../../tenants/schema";
import { baseStackConfig, hostOfLength, makeRepo, sharedTenant, registryProblems } from "./fixtures";

const problems = registryProblems;

const dedicated = (slug: string, extra = "") => sharedTenant(slug, `tier: dedicated\nnetwork: {cidr: 10.50.0.0/16}\n${extra}`);

describe("host names (ALB host-header values; ACM main names: tests/tenants/certificates.test.ts)", () => {
    it("a custom domain longer than 128 characters cannot be an ALB host-header value", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", `customDomains: [${hostOfLength(129)}]\n`) })).toEqual([
            "tenants/test/acme.yaml:3:17 customDomains[0]: must be at most 128 characters (an ALB host-header value)",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", `customDomains: [${hostOfLength(128)}, app.acme.com]\n`) })).toEqual([]);
    });

    it.each([["admin"], ["api"], ["www"], ["status"]])("a custom domain may not take the platform's %s.<domain>", (label) => {
        expect(problems({ "acme.yaml": sharedTenant("acme", `customDomains: [${label}.saas.example.com]\n`) })).toEqual([
            `tenants/test/acme.yaml:3:17 customDomains[0]: '${label}.saas.example.com' is reserved by the platform`,
        ]);
    });
});

describe("custom domains: every entry's problems at once", () => {
    it("a reserved name is reported beside a malformed entry of the same list", () => {
        const out = problems({ "acme.yaml": sharedTenant("acme", "customDomains: [admin.saas.example.com, 'not a host', app.acme.com]\n") });
        expect(out).toEqual(expect.arrayContaining([
            expect.stringMatching(/^tenants\/test\/acme\.yaml:3:\d+ customDomains\[1\]/),
            "tenants/test/acme.yaml:3:17 customDomains[0]: 'admin.saas.example.com' is reserved by the platform",
        ]));
        expect(out).toHaveLength(2);
    });

    it("a reserved name and the stack's own domain are reported beside a list that is too long", () => {
        const list = ["a.acme.com", "b.acme.com", "api.saas.example.com", "c.acme.com", "saas.example.com"];
        const out = problems({ "acme.yaml": sharedTenant("acme", `customDomains:\n${list.map((d) => `  - ${d}\n`).join("")}`) });
        expect(out).toEqual(expect.arrayContaining([
            expect.stringMatching(/^tenants\/test\/acme\.yaml:\d+:\d+ customDomains: /),
            "tenants/test/acme.yaml:6:5 customDomains[2]: 'api.saas.example.com' is reserved by the platform",
            "tenants/test/acme.yaml:8:5 customDomains[4]: 'saas.example.com' is the stack's own domain",
        ]));
        expect(out).toHaveLength(3);
    });
});

describe("tags (AWS: 50 per resource, the platform's included)", () => {
    const tags = (n: number) => `tags:\n${Array.from({ length: n }, (_, i) => `  k${i}: v\n`).join("")}`;

    it(`a tenant has at most ${MAX_TENANT_TAGS} tags: the platform sets ${PLATFORM_TAG_KEYS.join(", ")}`, () => {
        expect(MAX_TENANT_TAGS).toBe(50 - PLATFORM_TAG_KEYS.length);
        expect(problems({ "acme.yaml": sharedTenant("acme", tags(MAX_TENANT_TAGS)) })).toEqual([]);
        expect(problems({ "acme.yaml": sharedTenant("acme", tags(MAX_TENANT_TAGS + 1)) })).toEqual([
            `tenants/test/acme.yaml:4:3 tags: at most ${MAX_TENANT_TAGS} tags (AWS allows 50 per resource and the platform sets ${PLATFORM_TAG_KEYS.length})`,
        ]);
    });

    it.each([
        ["'cost#center': x", "tags.cost#center: tag keys use letters, digits, spaces and _ . : / = + - @"],
        ["cost-center: 'a;b'", "tags.cost-center: tag values use letters, digits, spaces and _ . : / = + - @"],
        [`${"k".repeat(129)}: x`, `tags.${"k".repeat(129)}: tag keys must be 1 to 128 characters`],
        [`k: ${"v".repeat(257)}`, "tags.k: tag values must be at most 256 characters"],
        ["Name: x", "tags.Name: 'Name' is set by the platform"],
        ["'Kostenstelle Ü': 'Straße 5'", undefined],
    ])("tag %s", (yaml, message) => {
        const out = problems({ "acme.yaml": sharedTenant("acme", `tags:\n  ${yaml}\n`) });
        if (message === undefined) expect(out).toEqual([]);
        else {
            expect(out).toHaveLength(1);
            expect(out[0]).toMatch(/^tenants\/test\/acme\.yaml:4:\d+ /);
            expect(out[0].replace(/^\S+ /, "")).toBe(message);
        }
    });
});

describe("the runtime record's fields are bounded (it must fit a Standard SSM parameter)", () => {
    it("logoUrl: at most 512 characters of URL text", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", `branding: {logoUrl: 'https://cdn.example.com/${"a".repeat(500)}.svg'}\n`) })).toEqual([
            "tenants/test/acme.yaml:3:21 branding.logoUrl: must be at most 512 characters",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "branding: {logoUrl: 'https://cdn.example.com/lögo.svg'}\n") })).toEqual([
            "tenants/test/acme.yaml:3:21 branding.logoUrl: must use only URL characters (percent-encode others)",
        ]);
    });

    it("displayName has no control characters", () => {
        expect(problems({ "acme.yaml": 'slug: acme\ndisplayName: "Acme\\u0007Inc"\n' })).toEqual([
            "tenants/test/acme.yaml:2:14 displayName: must not contain control characters",
        ]);
    });

    it("features: at most 20 per tenant", () => {
        const catalog = Array.from({ length: 25 }, (_, i) => `f${i}`);
        const config = baseStackConfig({ "tenancy:features": catalog });
        expect(problems({ "acme.yaml": sharedTenant("acme", `features: [${catalog.slice(0, 20).join(", ")}]\n`) }, config)).toEqual([]);
        expect(problems({ "acme.yaml": sharedTenant("acme", `features: [${catalog.slice(0, 21).join(", ")}]\n`) }, config)).toEqual([
            "tenants/test/acme.yaml:3:11 features: at most 20 features",
        ]);
    });

    it("a pinned version has at most 64 characters", () => {
        expect(problems({ "big.yaml": dedicated("big", `release: {version: 1.2.3-${"a".repeat(60)}}\n`) })).toEqual([
            "tenants/test/big.yaml:5:20 release.version: must be at most 64 characters",
        ]);
    });
});

describe("release channels: the registry states the version that serves the tenant", () => {
    it("a shared or hybrid tenant cannot follow a channel the shared app does not run", () => {
        expect(problems({ "acme.yaml": sharedTenant("acme", "release: {channel: beta}\n") })).toEqual([
            "tenants/test/acme.yaml:3:20 release.channel: shared tenants are served by the shared app, which runs stable (1.2.3); channel 'beta' (1.3.0-rc.1) is for dedicated tenants",
        ]);
        expect(problems({ "acme.yaml": sharedTenant("acme", "tier: hybrid\nrelease: {channel: beta}\n") })).toEqual([
            "tenants/test/acme.yaml:4:20 release.channel: hybrid tenants are served by the shared app, which runs stable (1.2.3); channel 'beta' (1.3.0-rc.1) is for dedicated tenants",
        ]);
    });

    it("a channel at the stable version is fine on the shared app; a dedicated tenant follows any channel", () => {
        const config = baseStackConfig({ "tenancy:channels": { stable: "1.2.3", lts: "1.2.3", beta: "1.3.0" } });
        const root = makeRepo({ "acme.yaml": sharedTenant("acme", "release: {channel: lts}\n"), "big.yaml": dedicated("big", "release: {channel: beta}\n") }, config);
        try {
            const { tenants } = loadRegistry({ root, stack: "test" });
            expect(tenants.map((t) => [t.slug, t.release])).toEqual([
                ["acme", { channel: "lts", version: "1.2.3" }],
                ["big", { channel: "beta", version: "1.3.0" }],
            ]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("stack configuration limits", () => {
    it("a size preset's CPU and memory must be a Fargate task size", () => {
        const small = { dbInstanceClass: "db.t4g.medium", allocatedStorageGb: 20, maxAllocatedStorageGb: 100, cpu: 256, memory: 4096, minTasks: 1, maxTasks: 2 };
        const out = problems({}, baseStackConfig({ "tenancy:sizes": { small } }));
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:sizes\.small\.memory: 4096 MiB does not fit cpu 256 \(allowed: 512, 1024, 2048\)$/);
    });

    it("a preset's cross-field checks run whatever its other fields' problems: all are reported at once", () => {
        // minTasks is missing (an aborting problem): the checks that do not read it still run.
        const large = { dbInstanceClass: "db.r6g.xlarge", allocatedStorageGb: 200, maxAllocatedStorageGb: 100, cpu: 256, memory: 4096, maxTasks: 2 };
        const out = problems({}, baseStackConfig({ "tenancy:sizes": { large } })).map((p) => p.replace(/^\S+ /, ""));
        expect(out).toEqual(expect.arrayContaining([
            expect.stringMatching(/^tenancy:sizes\.large\.minTasks: /),
            "tenancy:sizes.large.memory: 4096 MiB does not fit cpu 256 (allowed: 512, 1024, 2048)",
            "tenancy:sizes.large.maxAllocatedStorageGb: maxAllocatedStorageGb must be at least allocatedStorageGb",
        ]));
        expect(out).toHaveLength(3);
        const app = problems({}, baseStackConfig({
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, app: { cpu: 1024, memory: 1024, desiredCount: 0 } },
        })).map((p) => p.replace(/^\S+ /, ""));
        expect([...app].sort()).toEqual([
            "tenancy:shared.app.desiredCount: must be 1 to 100",
            "tenancy:shared.app.memory: 1024 MiB does not fit cpu 1024 (allowed: 2048 to 8192 in steps of 1024)",
        ]);
    });

    it("the shared app's CPU and memory must be a Fargate task size", () => {
        const out = problems({}, baseStackConfig({
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, app: { cpu: 1024, memory: 1024 } },
        }));
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(/^Pulumi\.test\.yaml:\d+:\d+ tenancy:shared\.app\.memory: 1024 MiB does not fit cpu 1024 \(allowed: 2048 to 8192 in steps of 1024\)$/);
    });

    it("nested unknown keys of the stack config get a did-you-mean and the allowed keys; whole numbers say so", () => {
        const out = problems({}, baseStackConfig({
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4, readerz: 1 }, app: { desiredCount: "2" } },
        }));
        expect(out.map((p) => p.replace(/^\S+ /, ""))).toEqual([
            expect.stringMatching(/^tenancy:shared\.database\.readerz: unknown field \(did you mean 'readers'\?\) \(allowed: engineVersion, .*readers.*\)$/),
            'tenancy:shared.app.desiredCount: must be a whole number (got "2")',
        ]);
    });

    it("feature names and channel versions are bounded", () => {
        const out = problems({}, baseStackConfig({ "tenancy:features": ["f".repeat(33)], "tenancy:channels": { stable: `1.0.0-${"a".repeat(60)}` } }));
        expect(out.map((p) => p.replace(/^\S+ /, ""))).toEqual([
            "tenancy:channels.stable: must be at most 64 characters",
            "tenancy:features[0]: must be at most 32 characters",
        ]);
    });
});
