import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { certificateNames, coveredByZoneWildcard, tenantCertificates } from "../../tenants/certificates";
import { formatProblem, RegistryError } from "../../tenants/problems";
import { loadRegistry } from "../../tenants/registry";
import { baseStackConfig, makeRepo, sharedTenant } from "./fixtures";

const ZONE = "saas.example.com";
const long = (suffix: string) => `${"l".repeat(60)}.${suffix}`;

function load(files: Record<string, string>, config = baseStackConfig()): { tenants: ReturnType<typeof loadRegistry>["tenants"]; problems: string[] } {
    const root = makeRepo(files, config);
    try {
        return { tenants: loadRegistry({ root, stack: "test" }).tenants, problems: [] };
    } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        return { tenants: [], problems: e.problems.map(formatProblem) };
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

describe("certificate names", () => {
    it("keeps the first name as main name when it fits ACM's 64 characters, else the shortest, else a short lead", () => {
        expect(certificateNames(["*.saas.example.com", "saas.example.com"])).toEqual({ domainName: "*.saas.example.com", subjectAlternativeNames: ["saas.example.com"] });
        const l = long("acme.com");
        expect(l.length).toBeGreaterThan(64);
        expect(certificateNames([l, "b.acme.com", "a.acme.com"])).toEqual({ domainName: "b.acme.com", subjectAlternativeNames: [l, "a.acme.com"] });
        expect(certificateNames([l], "acme.saas.example.com")).toEqual({ domainName: "acme.saas.example.com", subjectAlternativeNames: [l] });
        expect(certificateNames([l])).toBeUndefined();
        expect(certificateNames([l], long("saas.example.com"))).toBeUndefined();
        expect(certificateNames(["x".repeat(52) + ".example.com"])?.domainName).toHaveLength(64);
    });

    it("the platform wildcard covers exactly one label under the zone", () => {
        expect(coveredByZoneWildcard("shop.saas.example.com", ZONE)).toBe(true);
        expect(coveredByZoneWildcard("a.b.saas.example.com", ZONE)).toBe(false);
        expect(coveredByZoneWildcard("evilsaas.example.com", ZONE)).toBe(false);
    });

    it("shared tenants: a certificate for uncovered in-zone names, one per out-of-zone domain; only attached ones count against the listener", () => {
        const plan = tenantCertificates({
            dedicated: false,
            hostname: `acme.${ZONE}`,
            zoneDomain: ZONE,
            customDomains: [
                { name: `shop.${ZONE}`, verified: false },
                { name: `a.b.${ZONE}`, verified: false },
                { name: "app.acme.com", verified: false },
                { name: "www.acme.com", verified: true },
            ],
        });
        expect(plan).toEqual({
            zone: { domainName: `a.b.${ZONE}`, subjectAlternativeNames: [] },
            external: [
                { domain: "app.acme.com", verified: false, domainName: "app.acme.com", subjectAlternativeNames: [] },
                { domain: "www.acme.com", verified: true, domainName: "www.acme.com", subjectAlternativeNames: [] },
            ],
            unfit: [],
            listenerCertificates: 2,
        });
    });

    it("dedicated tenants: the default certificate holds the host name and every in-zone name; it does not count against the quota", () => {
        const plan = tenantCertificates({
            dedicated: true,
            hostname: `acme.${ZONE}`,
            zoneDomain: ZONE,
            customDomains: [{ name: `shop.${ZONE}`, verified: false }, { name: "app.acme.com", verified: true }],
        });
        expect(plan.zone).toEqual({ domainName: `acme.${ZONE}`, subjectAlternativeNames: [`shop.${ZONE}`] });
        expect(plan.listenerCertificates).toBe(1);
    });

    it("a name over 64 characters rides as a SAN behind the tenant's shortest in-zone name; with none short enough it is unfit", () => {
        const l = long("acme.com");
        const ok = tenantCertificates({ dedicated: false, hostname: `acme.${ZONE}`, zoneDomain: ZONE, customDomains: [{ name: l, verified: true }] });
        expect(ok.external).toEqual([{ domain: l, verified: true, domainName: `acme.${ZONE}`, subjectAlternativeNames: [l] }]);
        const bad = tenantCertificates({ dedicated: true, hostname: long(ZONE), zoneDomain: ZONE, customDomains: [{ name: l, verified: true }] });
        expect(bad.unfit).toEqual([long(ZONE), l]);
    });
});

describe("custom domains in tenant files", () => {
    it("accepts the plain form as unverified and the mapping form with verified", () => {
        const { tenants, problems } = load({
            "acme.yaml": sharedTenant("acme", "customDomains:\n  - app.acme.com\n  - { name: www.acme.com, verified: true }\n  - { name: api.acme.com }\n"),
        });
        expect(problems).toEqual([]);
        expect(tenants[0]!.customDomains).toEqual([
            { name: "app.acme.com", verified: false },
            { name: "www.acme.com", verified: true },
            { name: "api.acme.com", verified: false },
        ]);
        expect(tenants[0]!.hostnames).toEqual([`acme.${ZONE}`, "app.acme.com", "www.acme.com", "api.acme.com"]);
    });

    it("reports a repeated name across both forms, an unknown key and a bad entry, each at its place", () => {
        expect(load({
            "acme.yaml": sharedTenant("acme", "customDomains:\n  - app.acme.com\n  - { name: app.acme.com, verified: true }\n  - { name: www.acme.com, verifed: true }\n"),
        }).problems).toEqual([
            "tenants/test/acme.yaml:5:5 customDomains[1]: 'app.acme.com' is listed twice",
            "tenants/test/acme.yaml:6:27 customDomains[2].verifed: unknown field (did you mean 'verified'?) (allowed: name, verified)",
        ]);
        expect(load({ "acme.yaml": sharedTenant("acme", "customDomains: [42, { verified: true }]\n") }).problems).toEqual([
            "tenants/test/acme.yaml:3:17 customDomains[0]: must be a host name such as app.customer.com, or a mapping { name: app.customer.com, verified: true }",
            "tenants/test/acme.yaml:3:21 customDomains[1]: must be a host name such as app.customer.com, or a mapping { name: app.customer.com, verified: true }",
        ]);
    });

    it("a name no certificate can lead is reported at its entry", () => {
        const l = long("acme.com");
        const sub = "s".repeat(50);
        const { problems } = load({
            "acme.yaml": sharedTenant("acme", `tier: dedicated\nnetwork: { cidr: 10.50.0.0/16 }\nsubdomain: ${sub}\ncustomDomains: [${l}]\n`),
        });
        expect(problems).toHaveLength(2);
        expect(problems[0]).toMatch(new RegExp(`^tenants/test/acme\\.yaml:5:12 subdomain: ${sub}\\.${ZONE.replace(/\./g, "\\.")} \\(67 characters\\) cannot lead a certificate: ACM allows at most 64 .* and no in-zone custom domain is short enough to lead it instead`));
        expect(problems[1]).toMatch(/^tenants\/test\/acme\.yaml:6:17 customDomains\[0\]: l+\.acme\.com \(69 characters\) cannot lead a certificate/);
    });

    it("the shared listener's certificates must fit tenancy:certificatesPerListener, reported at the tenant that crosses it", () => {
        const config = baseStackConfig({ "tenancy:certificatesPerListener": 2 });
        const verified = (slug: string, n: number) =>
            sharedTenant(slug, `customDomains: [${Array.from({ length: n }, (_, i) => `{ name: d${i}.${slug}.com, verified: true }`).join(", ")}]\n`);
        const fits = load({ "alpha.yaml": verified("alpha", 1), "bravo.yaml": verified("bravo", 1), "carol.yaml": sharedTenant("carol", "customDomains: [a.carol.com, b.carol.com]\n") }, config);
        expect(fits.problems).toEqual([]);
        const { problems } = load({
            "alpha.yaml": verified("alpha", 1),
            "bravo.yaml": sharedTenant("bravo", "tier: hybrid\ncustomDomains: [{ name: x.bravo.com, verified: true }, { name: a.b.saas.example.com }]\n"),
            "gone.yaml": sharedTenant("gone", "status: offboarded\ncustomDomains: [{ name: x.gone.com, verified: true }, { name: y.gone.com, verified: true }]\n"),
            "solo.yaml": sharedTenant("solo", "tier: dedicated\nnetwork: { cidr: 10.50.0.0/16 }\ncustomDomains: [{ name: x.solo.com, verified: true }, { name: y.solo.com, verified: true }]\n"),
        }, config);
        expect(problems).toEqual([
            "tenants/test/bravo.yaml:4:1 customDomains: the shared load balancer's HTTPS listener would carry more than 2 certificates besides its default one " +
                "(allowed: 2, tenancy:certificatesPerListener, the AWS quota \"Certificates per Application Load Balancer\"); so far: alpha 1, bravo 2; " +
                "mark fewer custom domains verified, use names under the stack's domain, or raise the quota with AWS and in tenancy:certificatesPerListener",
        ]);
        const own = load({ "solo.yaml": sharedTenant("solo", "tier: dedicated\nnetwork: { cidr: 10.50.0.0/16 }\ncustomDomains: [{ name: x.solo.com, verified: true }, { name: y.solo.com, verified: true }]\n") },
            baseStackConfig({ "tenancy:certificatesPerListener": 1 }));
        expect(own.problems).toEqual([
            "tenants/test/solo.yaml:5:1 customDomains: the tenant's load balancer would carry 2 certificates besides its default one (allowed: 1, tenancy:certificatesPerListener)",
        ]);
    });

    it("tenancy:certificatesPerListener defaults to AWS's 25", () => {
        const root = makeRepo({ "acme.yaml": sharedTenant("acme") });
        try {
            expect(loadRegistry({ root, stack: "test" }).config.certificatesPerListener).toBe(25);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
