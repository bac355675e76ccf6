import { z } from "zod";
import { CELL_NAME_PATTERN, CELL_STACK_PREFIX } from "../model/fleet";
import { EMAIL, ThresholdOverridesSchema } from "../stacks/monitoringConfig";

/** The three placements a tenant can have. */
export const TIERS = ["shared", "hybrid", "dedicated"] as const;
export type Tier = (typeof TIERS)[number];

/** `active` is served; `suspended` keeps data and answers from a maintenance page; `offboarded` keeps data, not served. */
export const STATUSES = ["active", "suspended", "offboarded"] as const;
export type Status = (typeof STATUSES)[number];

export const SIZES = ["small", "medium", "large"] as const;
export type SizeName = (typeof SIZES)[number];

/** Host labels the platform keeps for itself: a tenant may not take them as slug or subdomain. */
export const RESERVED_NAMES = [
    "www", "api", "admin", "app", "auth", "login", "logout", "signup", "static", "assets", "cdn", "mail", "smtp", "imap",
    "pop", "ftp", "ns1", "ns2", "mx", "status", "internal", "platform", "shared", "tenancy", "console", "dashboard",
    "billing", "support", "help", "docs", "blog", "root", "system", "default", "public", "metrics", "grafana", "vpn",
    "maintenance", "health", "sso", "oauth", "webhooks",
] as const;

/** A host name under the stack's domain that the platform keeps (`admin.<domain>`, `api.<domain>`, ...): no custom domain may take it. */
export function isReservedHost(host: string, domain: string): boolean {
    return (RESERVED_NAMES as readonly string[]).some((label) => host === `${label}.${domain}`);
}

// AWS limits the tenant file's fields respect, so that what validates also deploys.
/** ALB listener rules: a host-header value has at most 128 characters, a condition at most 5 values. */
export const MAX_HOSTNAME_CHARS = 128;
export const MAX_HOST_HEADER_VALUES = 5;
/** Tag keys the program sets itself on a tenant's resources (components/tags.ts, plus `Name` on network and load-balancer resources). */
export const PLATFORM_TAG_KEYS = ["tenancy:stack", "tenancy:tier", "tenancy:tenant", "Name"] as const;
/** AWS allows 50 tags per resource; the platform's own count. */
export const MAX_TENANT_TAGS = 50 - PLATFORM_TAG_KEYS.length;
/** Characters AWS accepts in tag keys and values across services: letters, digits, spaces and `_ . : / = + - @`. */
export const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/**
 * Bounds that keep a tenant's runtime record (the SSM parameter the shared app reads) within a Standard parameter's
 * 4 KB; tests/tenants/record.test.ts measures the record of the largest valid tenant.
 */
export const MAX_DISPLAY_NAME_CHARS = 100;
export const MAX_LOGO_URL_CHARS = 512;
export const MAX_FEATURES = 20;
export const MAX_FEATURE_NAME_CHARS = 32;
export const MAX_VERSION_CHARS = 64;
/** RFC 3986 characters: a URL of these needs no escaping in JSON and takes one byte each. */
const URL_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

export const SLUG_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;
/** One DNS label (RFC 1123), lower case. */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A lower-case fully qualified host name with at least two labels. */
export const HOSTNAME_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
/** Semantic version 2.0.0, without a leading `v`. */
export const SEMVER_PATTERN =
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
export const IPV4_CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
export const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

const slug = z
    .string()
    .min(3, "must be 3 to 32 characters")
    .max(32, "must be 3 to 32 characters")
    .regex(SLUG_PATTERN, "must start with a letter, end with a letter or digit, and use only a-z, 0-9 and '-'")
    .refine((s) => !s.includes("--"), "must not contain '--'")
    // `<env>.cell-<name>` is a cell's stack in the fleet layout, `<env>.<slug>` a tenant's.
    .refine((s) => !s.startsWith(CELL_STACK_PREFIX), `must not start with '${CELL_STACK_PREFIX}' (reserved for the stacks of shared database cells)`)
    .refine((s) => !(RESERVED_NAMES as readonly string[]).includes(s), {
        message: `is a reserved name (reserved: ${RESERVED_NAMES.join(", ")})`,
    });

/** A list whose entries must be unique: each repeat is reported at its own index. */
function uniqueList<T extends z.ZodType<string>>(item: T) {
    return z.array(item).superRefine((list, ctx) => {
        list.forEach((v, i) => {
            if (list.indexOf(v) !== i) ctx.addIssue({ code: "custom", path: [i], message: `'${v}' is listed twice`, input: v });
        });
    });
}

const hostname = z.string().regex(HOSTNAME_PATTERN, "must be a lower-case fully qualified host name such as app.customer.com")
    .max(MAX_HOSTNAME_CHARS, `must be at most ${MAX_HOSTNAME_CHARS} characters (an ALB host-header value)`);

/** `app.acme.com` (unverified) or `{ name: app.acme.com, verified: true }`; both read as `{ name, verified }`. */
const customDomain = z
    .union([
        hostname,
        z.strictObject({
            name: hostname.describe("The host name, e.g. app.customer.com."),
            verified: z.boolean().default(false).describe(
                "The owner has published the DNS validation record: attach the certificate to the load balancer. " +
                "Default false (the certificate is requested and its records exported, nothing waits for it). " +
                "Names in the stack's domain are validated by the platform and need no flag.",
            ),
        }),
    ], { error: "must be a host name such as app.customer.com, or a mapping { name: app.customer.com, verified: true }" })
    .transform((d) => (typeof d === "string" ? { name: d, verified: false } : d));

const cidr = z.string().regex(IPV4_CIDR_PATTERN, "must be an IPv4 CIDR block such as 10.20.0.0/16");

/** Where a moving tenant's data is now: the placement the file had before the move (its own fields, same rules). */
const moveFrom = z.strictObject({
    tier: z.enum(TIERS).describe("The tier the data is on now."),
    cell: z.string().regex(CELL_NAME_PATTERN, "must be a cell name such as main").optional()
        .describe("A shared source: its cell. Defaults to the stack's default cell."),
    region: z.string().regex(AWS_REGION_PATTERN, "must be an AWS region code such as eu-west-1").optional()
        .describe("A dedicated source: its region. Defaults to the stack's region."),
    size: z.enum(SIZES).optional().describe("A hybrid or dedicated source: its size preset. Defaults to small."),
    network: z.strictObject({
        cidr: cidr.describe("The dedicated source's VPC block (as its file had it)."),
    }).optional().describe("A dedicated source (required there): its VPC."),
});

/** The fields of one tenant file, `tenants/<stack>/<slug>.yaml`. Rules that need the stack or other files live in registry.ts. */
export const TenantFileSchema = z
    .strictObject({
        slug: slug.describe("Tenant identifier: 3-32 characters, a-z 0-9 and '-', no '--'; equals the file name."),
        displayName: z.string().trim().min(1, "must not be empty").max(MAX_DISPLAY_NAME_CHARS, `must be at most ${MAX_DISPLAY_NAME_CHARS} characters`)
            .refine((s) => !/\p{Cc}/u.test(s), "must not contain control characters")
            .describe("Human-readable tenant name."),
        tier: z.enum(TIERS).optional().describe("Placement. Defaults to the stack's default tier."),
        status: z.enum(STATUSES).default("active")
            .describe("active (default) | suspended (data kept, maintenance page) | offboarded (data kept, not served)."),
        region: z.string().regex(AWS_REGION_PATTERN, "must be an AWS region code such as eu-west-1").optional()
            .describe("Dedicated tenants only: AWS region. Defaults to the stack's region."),
        network: z.strictObject({
            cidr: cidr.describe("Private (RFC 1918) IPv4 block, /16 to /24, overlapping no other network of the stack."),
        }).optional().describe("Dedicated tenants only (required there): the tenant's own VPC."),
        subdomain: z.string().regex(DNS_LABEL_PATTERN, "must be a DNS label: a-z, 0-9 and '-', 1-63 characters").optional()
            .describe("Host label under the stack's domain. Defaults to the slug."),
        customDomains: z.array(customDomain)
            .superRefine((list, ctx) => {
                const names = list.map((d) => d.name);
                names.forEach((v, i) => {
                    if (names.indexOf(v) !== i) ctx.addIssue({ code: "custom", path: [i], message: `'${v}' is listed twice`, input: v });
                });
            })
            .max(MAX_HOST_HEADER_VALUES - 1, `at most ${MAX_HOST_HEADER_VALUES - 1} custom domains (an ALB rule matches at most ${MAX_HOST_HEADER_VALUES} host names)`)
            .default([]).describe(
                "Extra host names served for this tenant; unique across tenants. A name outside the stack's domain is " +
                "served over HTTPS once its owner has published the DNS validation record (stack output " +
                "tenants.<slug>.certificateValidationRecords) and the entry says verified: true.",
            ),
        cell: z.string().regex(CELL_NAME_PATTERN, "must be a cell name such as main").optional()
            .describe("Shared tenants: the shared database cell (its own Aurora cluster) holding the tenant's schema. Defaults to the stack's default cell. Changing it moves data (npm run move)."),
        size: z.enum(SIZES).optional().describe("Hybrid and dedicated tenants: size preset. Defaults to small."),
        move: z.strictObject({
            from: moveFrom.describe("The placement the tenant's data is in now (tier, cell, region, size, network as that file had them)."),
        }).optional().describe(
            "A move under way: the program keeps the `from` placement (data kept, still served) and builds the one this " +
            "file states; `npm run move` copies the data and flips the registry. Remove it, with the move's receipt " +
            "(tenants/<env>/.moves/<slug>.json), to retire the old placement.",
        ),
        release: z.strictObject({
            channel: z.string().min(1).optional().describe("Release channel defined by the stack. Defaults to stable."),
            version: z.string().max(MAX_VERSION_CHARS, `must be at most ${MAX_VERSION_CHARS} characters`)
                .regex(SEMVER_PATTERN, "must be a semantic version such as 2.14.3").optional()
                .describe("Dedicated tenants only: pin the application version."),
        }).default({}).describe("Which application release serves this tenant."),
        features: uniqueList(z.string().min(1)).max(MAX_FEATURES, `at most ${MAX_FEATURES} features`).default([]).describe("Feature modules from the stack's catalog."),
        branding: z.strictObject({
            primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a colour as #rrggbb").optional(),
            logoUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" })
                .max(MAX_LOGO_URL_CHARS, `must be at most ${MAX_LOGO_URL_CHARS} characters`)
                .regex(URL_CHARS, "must use only URL characters (percent-encode others)").optional(),
        }).default({}).describe("Look and feel of the tenant's pages."),
        database: z.strictObject({
            backupRetentionDays: z.int("must be a whole number").min(7, "must be 7 to 35").max(35, "must be 7 to 35").optional()
                .describe("Hybrid and dedicated: days of automated backups (7-35), also the point-in-time window of AWS Backup. Defaults to the stack's value."),
            connectionLimit: z.int("must be a whole number").min(1, "must be 1 to 500").max(500, "must be 1 to 500").optional()
                .describe("Shared tenants: maximum connections of the runtime role. Defaults to the stack's value."),
            statementTimeoutSeconds: z.int("must be a whole number").min(1, "must be 1 to 3600").max(3600, "must be 1 to 3600").optional()
                .describe("Shared tenants: default statement timeout of the runtime role (a session may raise it). Defaults to the stack's value."),
        }).default({}).describe("Database overrides."),
        backup: z.strictObject({
            policy: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "must be a policy name such as standard").optional()
                .describe("A backup policy of the stack (tenancy:backup.policies). Defaults to the stack's defaultPolicy."),
            retentionDays: z.int("must be a whole number of days").min(1, "must be 1 to 36500 days").max(36500, "must be 1 to 36500 days").optional()
                .describe("Keep this tenant's snapshots longer than its policy does (at least the policy's retention)."),
            copyRegion: z.string().regex(AWS_REGION_PATTERN, "must be an AWS region code such as eu-west-1").optional()
                .describe("Copy each snapshot to this region of the stack (not the tenant's own), so the data survives the loss of its region."),
        }).optional().describe("Hybrid and dedicated tenants: AWS Backup of the tenant's database (README \"Backups\")."),
        monitoring: z.strictObject({
            contact: EMAIL.optional().describe(
                "Email address told of this tenant's alarms (a topic of the tenant's own, subscribed by email: SNS sends a " +
                "confirmation that must be accepted before anything is delivered).",
            ),
            thresholds: ThresholdOverridesSchema.optional().describe(
                "Overrides of the stack's alarm thresholds for this tenant (tenancy:monitoring.thresholds of its size, or shared); only those that apply to its tier.",
            ),
        }).optional().describe("Monitoring of this tenant: who is told of its alarms, and thresholds of its own."),
        tags: z.record(
            z.string()
                .min(1, "tag keys must be 1 to 128 characters").max(128, "tag keys must be 1 to 128 characters")
                .refine((k) => TAG_PATTERN.test(k), "tag keys use letters, digits, spaces and _ . : / = + - @")
                .refine((k) => !k.toLowerCase().startsWith("aws:"), "tag keys must not start with 'aws:' (reserved by AWS)")
                .refine((k) => !k.startsWith("tenancy:"), "tag keys must not start with 'tenancy:' (set by the platform)")
                .refine((k) => !(PLATFORM_TAG_KEYS as readonly string[]).includes(k), { error: (i) => `'${String(i.input)}' is set by the platform` }),
            z.string()
                .max(256, "tag values must be at most 256 characters")
                .refine((v) => TAG_PATTERN.test(v), "tag values use letters, digits, spaces and _ . : / = + - @"),
        ).refine((t) => Object.keys(t).length <= MAX_TENANT_TAGS, {
            message: `at most ${MAX_TENANT_TAGS} tags (AWS allows 50 per resource and the platform sets ${PLATFORM_TAG_KEYS.length})`,
        }).default({}).describe(`Cost-allocation tags added to every resource of this tenant: at most ${MAX_TENANT_TAGS}; keys 1-128 and values 0-256 characters of letters, digits, spaces and _ . : / = + - @.`),
    })
    .describe("A tenant of the tenancy platform.");

export type TenantFile = z.output<typeof TenantFileSchema>;
/** The `move.from` block of a tenant file. */
export type MoveFrom = z.output<typeof moveFrom>;
