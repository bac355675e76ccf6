import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordResult } from "../../engine/recorder";
import { ACM_MAIN_NAME_MAX } from "../../tenants/certificates";
import {
    MAX_DISPLAY_NAME_CHARS, MAX_FEATURE_NAME_CHARS, MAX_FEATURES, MAX_HOST_HEADER_VALUES, MAX_HOSTNAME_CHARS,
    MAX_LOGO_URL_CHARS, MAX_TENANT_TAGS, MAX_VERSION_CHARS, PLATFORM_TAG_KEYS,
} from "../../tenants/schema";
import { recordStack, removeDir } from "../stacks/harness";
import { baseStackConfig, hostOfLength, makeRepo } from "./fixtures";

/** A Standard-tier SSM parameter holds at most 4 KB (4096 bytes). */
const STANDARD_PARAMETER_BYTES = 4096;
/** Real values the mock engine shortens: an RDS endpoint is at most ~115 characters, an ARN well under 256. */
const REAL_HOST_CHARS = 128;
const REAL_ARN_CHARS = 256;
/** The longest region codes (ap-southeast-5, us-isob-east-1) have 14 characters. */
const REAL_REGION_CHARS = 16;

// Built from the schema's bounds: raising one makes this test measure the new largest record.
// The tenant's own host leads the certificates of its long custom domains (ACM: main name <= 64), so it is the one short name.
const DOMAIN = hostOfLength(ACM_MAIN_NAME_MAX - 2, "example.com");
const FEATURES = Array.from({ length: MAX_FEATURES }, (_, i) => `f${String(i).padStart(3, "0")}${"x".repeat(MAX_FEATURE_NAME_CHARS - 4)}`);
const VERSION = `1.0.0-${"r".repeat(MAX_VERSION_CHARS - 6)}`;
const DISPLAY_NAME = "€".repeat(MAX_DISPLAY_NAME_CHARS); // 3 bytes each in UTF-8: the most a printable BMP character takes

/** The largest tenant file the schema accepts, for one tier: every bounded field at its bound, in bytes. */
function largest(slug: string, tier: string, extra: Record<string, unknown>): Record<string, unknown> {
    return {
        slug,
        displayName: DISPLAY_NAME,
        tier,
        subdomain: slug[0],
        customDomains: Array.from({ length: MAX_HOST_HEADER_VALUES - 1 }, (_, i) => hostOfLength(MAX_HOSTNAME_CHARS, `c${i}.${slug}.com`)),
        features: FEATURES,
        branding: { primaryColor: "#abcdef", logoUrl: `https://cdn.example.com/${"l".repeat(MAX_LOGO_URL_CHARS - 24)}` },
        tags: Object.fromEntries(Array.from({ length: MAX_TENANT_TAGS }, (_, i) => [`${String(i).padStart(3, "0")}${"k".repeat(125)}`, "v".repeat(256)])),
        ...extra,
    };
}

const slugs = { shared: `shared-${"a".repeat(25)}`, hybrid: `hybrid-${"b".repeat(25)}`, dedicated: `dedicated-${"c".repeat(22)}` };
// Subdomains are the slugs' first letters: distinct, and short enough to lead a certificate.

let root: string;
let result: RecordResult;

beforeAll(async () => {
    root = makeRepo(
        {
            [`${slugs.shared}.yaml`]: largest(slugs.shared, "shared", {}),
            [`${slugs.hybrid}.yaml`]: largest(slugs.hybrid, "hybrid", { size: "large" }),
            [`${slugs.dedicated}.yaml`]: largest(slugs.dedicated, "dedicated", {
                region: "eu-west-1", network: { cidr: "10.60.0.0/16" }, size: "large", release: { version: VERSION },
            }),
        },
        baseStackConfig({
            "tenancy:domain": DOMAIN,
            "tenancy:regions": ["us-east-1", "eu-west-1"],
            "tenancy:channels": { stable: VERSION },
            "tenancy:features": FEATURES,
        }),
    );
    result = await recordStack(root, "test");
});

afterAll(() => removeDir(root));

describe("the largest valid tenant of each tier", () => {
    it("fits its runtime record in a Standard SSM parameter (4 KB), with real-length endpoints and ARNs", () => {
        const records = result.resources.filter((r) => r.type === "aws:ssm/parameter:Parameter" && String(r.inputs.name).includes("/tenants/"));
        expect(records.map((r) => String(r.inputs.name).split("/").pop()).sort()).toEqual(Object.values(slugs).sort());
        for (const r of records) {
            expect(r.inputs.tier, r.urn).toBe("Standard");
            const record = JSON.parse(String(r.inputs.insecureValue)) as Record<string, unknown> & { database: { host: string } };
            // The record carries the bounded fields at their bounds (else this test would prove nothing).
            expect(record.displayName).toBe(DISPLAY_NAME);
            expect((record.hostnames as string[]).map((h) => h.length)).toEqual([ACM_MAIN_NAME_MAX, ...Array(MAX_HOST_HEADER_VALUES - 1).fill(MAX_HOSTNAME_CHARS)]);
            expect((record.branding as { logoUrl: string }).logoUrl).toHaveLength(MAX_LOGO_URL_CHARS);
            expect(record.features).toEqual(FEATURES);
            // Mock endpoints and ARNs are shorter than real ones can be: count them at their real maximum; every host
            // name at the most an ALB takes (whichever name leads a certificate, none is longer).
            record.database.host = "h".repeat(REAL_HOST_CHARS);
            record.region = "r".repeat(REAL_REGION_CHARS);
            record.hostnames = (record.hostnames as string[]).map(() => "n".repeat(MAX_HOSTNAME_CHARS));
            const padded = JSON.stringify(record, (_k, v) => (typeof v === "string" && v.startsWith("arn:") ? "a".repeat(REAL_ARN_CHARS) : v));
            expect(Buffer.byteLength(padded, "utf8"), r.urn).toBeLessThanOrEqual(STANDARD_PARAMETER_BYTES);
        }
    });

    it("puts at most 50 tags on every resource: the tenant's own plus only the platform's known keys", () => {
        const tagged = result.resources.filter((r) => r.custom && r.inputs.tags && typeof r.inputs.tags === "object");
        expect(tagged.length).toBeGreaterThan(20);
        const ownKeys = new Set(Object.keys(largest("x", "shared", {}).tags as object));
        for (const r of tagged) {
            const keys = Object.keys(r.inputs.tags as object);
            expect(keys.length, r.urn).toBeLessThanOrEqual(50);
            expect(keys.filter((k) => !ownKeys.has(k)).every((k) => (PLATFORM_TAG_KEYS as readonly string[]).includes(k)), `${r.urn}: ${keys.filter((k) => !ownKeys.has(k))}`).toBe(true);
        }
    });
});
