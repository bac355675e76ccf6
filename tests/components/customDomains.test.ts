import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource, RecordResult } from "../../engine/recorder";
import { inZone } from "../../tenants/certificates";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { recordStack, removeDir, tenantOf } from "../stacks/harness";

const ZONE = "saas.example.com";
const CERT = "aws:acm/certificate:Certificate";
const VALIDATION = "aws:acm/certificateValidation:CertificateValidation";
const ATTACHMENT = "aws:lb/listenerCertificate:ListenerCertificate";
const LISTENER = "aws:lb/listener:Listener";
const RECORD = "aws:route53/record:Record";
const LONG = `${"l".repeat(60)}.long-customer.example.org`;

/** Tenant files of a stack with every kind of custom domain: in zone and out, verified and not, shared, hybrid, dedicated. */
const FILES: Record<string, string> = {
    // Shared, mixed: covered by *.saas.example.com, in the zone but deeper, out of zone unverified (plain form) and verified.
    "mixed.yaml": sharedTenant("mixed", [
        "customDomains:",
        "  - shop.saas.example.com",
        "  - a.b.saas.example.com",
        "  - app.mixed-customer.com",
        "  - { name: www.mixed-customer.com, verified: true }",
        "",
    ].join("\n")),
    "hyb.yaml": sharedTenant("hyb", "tier: hybrid\ncustomDomains: [{ name: portal.hyb-customer.com, verified: true }]\n"),
    // Dedicated in another region than the stack's.
    "far.yaml": sharedTenant("far", [
        "tier: dedicated",
        "region: eu-west-1",
        "network: { cidr: 10.60.0.0/16 }",
        "customDomains: [app.far-customer.com, { name: secure.far-customer.com, verified: true }, x.far.saas.example.com]",
        "",
    ].join("\n")),
    // A name longer than ACM's 64-character main name.
    "lng.yaml": sharedTenant("lng", `customDomains: [{ name: ${LONG}, verified: true }]\n`),
    // Suspended, with the most custom domains a tenant may have: served from the maintenance page, certificates kept.
    "paused.yaml": sharedTenant("paused", [
        "status: suspended",
        "customDomains: [p1.paused-customer.com, { name: p2.paused-customer.com, verified: true }, pshop.saas.example.com, p3.paused-customer.com]",
        "",
    ].join("\n")),
    "gone.yaml": sharedTenant("gone", "status: offboarded\ncustomDomains: [{ name: app.gone-customer.com, verified: true }]\n"),
};

/** Out-of-zone names the fixture marks verified. */
const VERIFIED = new Set(["www.mixed-customer.com", "portal.hyb-customer.com", "secure.far-customer.com", "p2.paused-customer.com", LONG]);

const roots: string[] = [];
const record = async (files: Record<string, string>) => {
    const root = makeRepo(files, baseStackConfig());
    roots.push(root);
    return recordStack(root, "test");
};
afterAll(() => roots.forEach(removeDir));

let result: RecordResult;
beforeAll(async () => {
    result = await record(FILES);
});

const ofType = (r: RecordResult, type: string) => r.resources.filter((x) => x.type === type);
const namesOf = (cert: RecordedResource) => [cert.inputs.domainName as string, ...((cert.inputs.subjectAlternativeNames as string[] | undefined) ?? [])];
const certByArn = (r: RecordResult, arn: unknown) => ofType(r, CERT).find((c) => c.outputs.arn === arn || c.id === arn);
const certFor = (r: RecordResult, name: string) => ofType(r, CERT).find((c) => namesOf(c).includes(name) && !namesOf(c).some((n) => n !== name && !inZone(n, ZONE)));
const tenants = (r: RecordResult) =>
    r.outputs.tenants as Record<string, {
        certificateValidationRecords: { domainName: string; name: string; type: string; value: string; certificateArn: string }[];
        pendingCustomDomains: string[];
        loadBalancerDnsName?: string;
    }>;

describe("custom domains", () => {
    it("no certificate validation waits on an out-of-zone name the tenant file does not mark verified", () => {
        const validations = ofType(result, VALIDATION);
        expect(validations.length).toBeGreaterThanOrEqual(6);
        for (const v of validations) {
            const cert = certByArn(result, v.inputs.certificateArn);
            expect(cert, v.urn).toBeDefined();
            for (const name of namesOf(cert!)) {
                if (!inZone(name, ZONE)) expect(VERIFIED.has(name), `${v.urn} waits on ${name}`).toBe(true);
            }
        }
        // The unverified names still have a certificate, so their records exist from the first deploy.
        for (const name of ["app.mixed-customer.com", "app.far-customer.com"]) {
            const cert = certFor(result, name)!;
            expect(cert, name).toBeDefined();
            expect(validations.filter((v) => v.inputs.certificateArn === cert.outputs.arn), name).toEqual([]);
        }
    });

    it("every certificate validation lists every DNS record of its certificate, ours and the customer's (the provider refuses a partial list)", () => {
        const validations = ofType(result, VALIDATION);
        expect(validations.length).toBeGreaterThan(0);
        const trim = (n: string) => n.replace(/\.$/, "");
        for (const v of validations) {
            const cert = certByArn(result, v.inputs.certificateArn)!;
            const needed = new Set((cert.outputs.domainValidationOptions as { resourceRecordName: string }[]).map((o) => trim(o.resourceRecordName)));
            expect(new Set((v.inputs.validationRecordFqdns as string[]).map(trim)), v.urn).toEqual(needed);
        }
    });

    it("the platform's and a dedicated tenant's default certificates hold only names we validate, and are waited for", () => {
        const platform = ofType(result, CERT).find((c) => c.name === "shared-alb-cert")!;
        const far = ofType(result, CERT).find((c) => c.name === "far-dedicated-alb-cert")!;
        expect(namesOf(platform)).toEqual([`*.${ZONE}`, ZONE]);
        expect(namesOf(far)).toEqual([`far.${ZONE}`, `x.far.${ZONE}`]);
        for (const cert of [platform, far]) {
            const https = ofType(result, LISTENER).find((l) => l.inputs.port === 443 && l.parent === cert.parent)!;
            const validation = ofType(result, VALIDATION).find((v) => v.inputs.certificateArn === cert.outputs.arn)!;
            expect(https.inputs.certificateArn).toBe(cert.outputs.arn);
            expect(https.options.propertyDependencies.certificateArn).toEqual([validation.urn]);
        }
    });

    it("every tier exports its out-of-zone validation records, verified or not, as a stack output per tenant", () => {
        const out = tenants(result);
        const expected = (name: string) => {
            const cert = certFor(result, name)!;
            const o = (cert.outputs.domainValidationOptions as { domainName: string; resourceRecordName: string; resourceRecordType: string; resourceRecordValue: string }[])
                .find((x) => x.domainName === name)!;
            return { domainName: name, name: o.resourceRecordName, type: o.resourceRecordType, value: o.resourceRecordValue, certificateArn: cert.outputs.arn };
        };
        expect(out.mixed.certificateValidationRecords).toEqual([expected("app.mixed-customer.com"), expected("www.mixed-customer.com")]);
        expect(out.hyb.certificateValidationRecords).toEqual([expected("portal.hyb-customer.com")]);
        expect(out.far.certificateValidationRecords).toEqual([expected("app.far-customer.com"), expected("secure.far-customer.com")]);
        expect(out.lng.certificateValidationRecords).toEqual([expected(LONG)]);
        expect(out.gone.certificateValidationRecords).toEqual([]);
        expect(out.mixed.pendingCustomDomains).toEqual(["app.mixed-customer.com"]);
        expect(out.far.pendingCustomDomains).toEqual(["app.far-customer.com"]);
        expect(out.hyb.pendingCustomDomains).toEqual([]);
        // Where the customers point their names: the load balancer that serves the tenant.
        const albDns = (n: string) => ofType(result, "aws:lb/loadBalancer:LoadBalancer").find((l) => l.name === n)!.outputs.dnsName;
        expect(out.mixed.loadBalancerDnsName).toBe(albDns("shared-alb-alb"));
        expect(out.far.loadBalancerDnsName).toBe(albDns("far-dedicated-alb-alb"));
        expect(out.gone.loadBalancerDnsName).toBeUndefined();
        // Nobody but the owner can publish them: none is written to our zone.
        const ours = ofType(result, RECORD).map((r) => r.inputs.name);
        for (const slug of ["mixed", "hyb", "far"]) for (const r of out[slug].certificateValidationRecords) expect(ours).not.toContain(r.name);
    });

    it("a verified domain's certificate is attached to the listener that serves its tenant, only after validation; an unverified one is not", () => {
        const sharedListener = ofType(result, LISTENER).find((l) => l.name === "shared-alb-https")!;
        const farListener = ofType(result, LISTENER).find((l) => l.name === "far-dedicated-alb-https")!;
        const attachments = ofType(result, ATTACHMENT);
        const attachedNames = (listener: RecordedResource) =>
            attachments.filter((a) => a.inputs.listenerArn === listener.id).flatMap((a) => namesOf(certByArn(result, a.inputs.certificateArn)!)).sort();
        expect(attachedNames(sharedListener)).toEqual([`a.b.${ZONE}`, `lng.${ZONE}`, LONG, "p2.paused-customer.com", "portal.hyb-customer.com", "www.mixed-customer.com"].sort());
        expect(attachedNames(farListener)).toEqual(["secure.far-customer.com"]);
        for (const a of attachments) {
            const validation = ofType(result, VALIDATION).find((v) => v.inputs.certificateArn === a.inputs.certificateArn)!;
            expect(a.options.propertyDependencies.certificateArn, a.urn).toEqual([validation.urn]);
            // Replacement attaches the new certificate before removing the old one.
            expect(a.options.deleteBeforeReplace, a.urn).toBe(false);
        }
    });

    it("mixed domains: a name the platform wildcard covers needs no certificate; a deeper in-zone name gets one validated in our zone", () => {
        const owner = tenantOf(result);
        const mixedCerts = ofType(result, CERT).filter((c) => owner(c) === "mixed");
        expect(mixedCerts.map(namesOf).sort()).toEqual([[`a.b.${ZONE}`], ["app.mixed-customer.com"], ["www.mixed-customer.com"]]);
        const zoneCert = mixedCerts.find((c) => c.inputs.domainName === `a.b.${ZONE}`)!;
        const option = (zoneCert.outputs.domainValidationOptions as { resourceRecordName: string; resourceRecordValue: string }[])[0]!;
        const record = ofType(result, RECORD).find((r) => owner(r) === "mixed" && r.inputs.name === option.resourceRecordName)!;
        expect(record.inputs).toMatchObject({ zoneId: "Z0TEST0ZONE", type: "CNAME", records: [option.resourceRecordValue] });
        const validation = ofType(result, VALIDATION).find((v) => v.inputs.certificateArn === zoneCert.outputs.arn)!;
        expect(validation.options.propertyDependencies.validationRecordFqdns).toEqual([record.urn]);
        // Verified out-of-zone names: capped wait, so a wrong `verified` fails this tenant in minutes, not 75.
        const www = ofType(result, VALIDATION).find((v) => v.inputs.certificateArn === certFor(result, "www.mixed-customer.com")!.outputs.arn)!;
        expect(www.options.customTimeouts).toMatchObject({ create: "30m" });
        expect(validation.options.customTimeouts?.create).toBeUndefined();
    });

    it("DNS: the platform's *.<domain> answers for names one label under the zone; a tenant records only deeper in-zone names, to the shared ALB", () => {
        const owner = tenantOf(result);
        const alb = ofType(result, "aws:lb/loadBalancer:LoadBalancer").find((a) => owner(a) === null)!;
        const aRecords = ofType(result, RECORD).filter((r) => r.inputs.type === "A");
        const wildcard = aRecords.filter((r) => owner(r) === null);
        expect(wildcard.map((r) => r.inputs.name)).toEqual([`*.${ZONE}`]);
        const ofTenant = (slug: string) => aRecords.filter((r) => owner(r) === slug).map((r) => r.inputs.name);
        expect(ofTenant("mixed")).toEqual([`a.b.${ZONE}`]);
        expect(ofTenant("hyb")).toEqual([]);
        expect(ofTenant("gone")).toEqual([]);
        for (const r of [...wildcard, ...aRecords.filter((x) => owner(x) === "mixed")]) {
            expect((r.inputs.aliases as { name: string }[])[0]!.name, r.urn).toBe(alb.outputs.dnsName);
        }
        // A dedicated tenant's own records (exact names) win over the wildcard.
        expect(ofTenant("far")).toEqual(expect.arrayContaining([`far.${ZONE}`, `x.far.${ZONE}`]));
    });

    it("a dedicated tenant's certificates, validations and attachments live in its region", () => {
        const owner = tenantOf(result);
        const far = result.resources.filter((r) => owner(r) === "far" && [CERT, VALIDATION, ATTACHMENT].includes(r.type));
        expect(far.map((r) => r.type).sort()).toEqual([ATTACHMENT, CERT, CERT, CERT, VALIDATION, VALIDATION].sort());
        for (const r of far) expect(r.inputs.region, r.urn).toBe("eu-west-1");
    });

    it("every certificate's main name fits ACM's 64 characters; a longer name rides as a SAN behind the tenant's own host", () => {
        const certs = ofType(result, CERT);
        for (const c of certs) expect((c.inputs.domainName as string).length, c.urn).toBeLessThanOrEqual(64);
        const long = certs.find((c) => namesOf(c).includes(LONG))!;
        expect(long.inputs).toMatchObject({ domainName: `lng.${ZONE}`, subjectAlternativeNames: [LONG] });
    });

    it("a suspended tenant's maintenance rule matches every host name, verified or not, within an ALB condition's 5 values", () => {
        const rule = ofType(result, "aws:lb/listenerRule:ListenerRule").find((r) => r.name === "paused-maintenance")!;
        const values = (rule.inputs.conditions as { hostHeader: { values: string[] } }[]).flatMap((c) => c.hostHeader.values);
        expect(values).toEqual([`paused.${ZONE}`, "p1.paused-customer.com", "p2.paused-customer.com", `pshop.${ZONE}`, "p3.paused-customer.com"]);
        expect(values.length).toBeLessThanOrEqual(5);
        for (const v of values) expect(v.length).toBeLessThanOrEqual(128);
        expect(tenants(result).paused.pendingCustomDomains).toEqual(["p1.paused-customer.com", "p3.paused-customer.com"]);
    });

    it("validation records outlive their resource: another certificate of the name (another tenant, another tier) may still need them", () => {
        const records = ofType(result, RECORD).filter((r) => r.inputs.type === "CNAME");
        expect(records.length).toBeGreaterThanOrEqual(4);
        for (const r of records) expect(r.options.retainOnDelete, r.urn).toBe(true);
        // Alias records that route traffic are not validation records: they go with the tenant.
        const aliases = ofType(result, RECORD).filter((r) => r.inputs.type === "A");
        expect(aliases.length).toBeGreaterThan(0);
        for (const r of aliases) expect(r.options.retainOnDelete, r.urn).toBe(false);
    });

    it("an offboarded tenant requests and attaches nothing", () => {
        const owner = tenantOf(result);
        expect(result.resources.filter((r) => owner(r) === "gone" && [CERT, VALIDATION, ATTACHMENT, RECORD].includes(r.type))).toEqual([]);
    });
});

describe("changing a tenant's custom domains", () => {
    const files = {
        "acme.yaml": sharedTenant("acme", "customDomains: [{ name: app.acme-customer.com, verified: true }, { name: www.acme-customer.com, verified: true }]\n"),
        "beta.yaml": sharedTenant("beta", "customDomains: [{ name: app.beta-customer.com, verified: true }]\n"),
    };

    it("flipping verified to false detaches only that domain and keeps its certificate; removing one leaves every other resource as it was", async () => {
        const before = await record(files);
        const after = await record({
            ...files,
            "acme.yaml": sharedTenant("acme", "customDomains: [{ name: www.acme-customer.com, verified: false }]\n"),
        });
        const byUrn = (r: RecordResult) => new Map(r.resources.map((x) => [x.urn, x]));
        const [b, a] = [byUrn(before), byUrn(after)];
        const gone = [...b.keys()].filter((u) => !a.has(u)).map((u) => `${b.get(u)!.type} ${b.get(u)!.name}`).sort();
        expect(gone).toEqual([
            `${ATTACHMENT} acme-cert-app.acme-customer.com-attachment`,
            `${ATTACHMENT} acme-cert-www.acme-customer.com-attachment`,
            `${CERT} acme-cert-app.acme-customer.com`,
            `${VALIDATION} acme-cert-app.acme-customer.com-validation`,
            `${VALIDATION} acme-cert-www.acme-customer.com-validation`,
        ].sort());
        // Everything that stays keeps its inputs: no certificate is replaced, no other tenant or domain is touched.
        for (const [urn, r] of a) {
            if (r.type === "pulumi:pulumi:Stack" || r.type === "aws:ssm/parameter:Parameter") continue;
            expect(b.get(urn)?.inputs, urn).toEqual(r.inputs);
        }
        // Deletion runs dependents first: the attachment (and its validation) before the certificate it names.
        const attachment = b.get([...b.keys()].find((u) => u.endsWith("acme-cert-app.acme-customer.com-attachment"))!)!;
        const validation = [...b.values()].find((r) => r.name === "acme-cert-app.acme-customer.com-validation")!;
        const cert = [...b.values()].find((r) => r.name === "acme-cert-app.acme-customer.com")!;
        expect(attachment.options.dependencies).toContain(validation.urn);
        expect(validation.options.dependencies).toContain(cert.urn);
        expect(tenants(after).acme.pendingCustomDomains).toEqual(["www.acme-customer.com"]);
    });
});
