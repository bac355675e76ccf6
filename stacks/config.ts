import { z } from "zod";
import { fargateSizeProblem } from "../model/fargate";
import { CostConfigSchema } from "./costConfig";
import { CELL_NAME_PATTERN, DEFAULT_CELL, LAYOUTS, type Layout } from "../model/fleet";
import { isPrivate, parseCidr } from "../tenants/cidr";
import { BackupConfigSchema } from "./backupConfig";
import { MonitoringConfigSchema } from "./monitoringConfig";
import { DEFAULT_CERTIFICATES_PER_LISTENER } from "../tenants/certificates";
import {
    AWS_REGION_PATTERN, HOSTNAME_PATTERN, IPV4_CIDR_PATTERN, MAX_FEATURE_NAME_CHARS, MAX_VERSION_CHARS, SEMVER_PATTERN, SIZES, TIERS,
} from "../tenants/schema";

/** Config namespace of every key below: `tenancy:<key>` in `Pulumi.<stack>.yaml`. */
export const CONFIG_NAMESPACE = "tenancy";

/** Keys whose values are secrets: read with `getSecret`, shown as `[secret]` offline. */
export const SECRET_CONFIG_KEYS = ["appSecretKey"] as const;

/** Where `pulumi up` finds the RDS CA bundle unless `shared.database.adminTls.rootCertPath` says otherwise. */
export const DEFAULT_RDS_CA_BUNDLE = "/tmp/rds-global-bundle.pem";

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const int = (min: number, max: number) =>
    z.int("must be a whole number").min(min, `must be ${min} to ${max}`).max(max, `must be ${min} to ${max}`);

/** An IP address or a loopback name: never a name on an RDS certificate. */
function isAddressOrLocal(host: string): boolean {
    return /^localhost$/i.test(host) || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/** A task's CPU/memory pair must be one Fargate runs: reported at the field at fault, before anything is registered. */
function fargateTaskSize(s: { cpu: number; memory: number }, ctx: z.RefinementCtx): void {
    const problem = fargateSizeProblem(s.cpu, s.memory);
    if (problem) ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
}

/**
 * A cross-field check that runs whenever the fields it reads are valid, whatever problems the object's other fields
 * have (zod skips object refinements after any aborting problem): every problem is reported at once.
 */
function whenValid(fields: Record<string, z.ZodType>): { when: (payload: { value: unknown }) => boolean } {
    return {
        when: ({ value }) =>
            typeof value === "object" && value !== null && Object.entries(fields).every(([k, schema]) => schema.safeParse((value as Record<string, unknown>)[k]).success),
    };
}

const PRESET_FIELDS = {
    /** RDS instance class of hybrid and dedicated databases. */
    dbInstanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.t4g.medium"),
    allocatedStorageGb: int(20, 65536),
    /** Storage autoscaling ceiling. */
    maxAllocatedStorageGb: int(20, 65536),
    /** Fargate task CPU units and memory (MiB) of a dedicated service. */
    cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096), z.literal(8192), z.literal(16384)], {
        error: "must be a Fargate CPU value (256, 512, 1024, 2048, 4096, 8192, 16384)",
    }),
    memory: int(512, 122880),
    /** Autoscaling bounds of a dedicated service. */
    minTasks: int(1, 100),
    maxTasks: int(1, 100),
};
const { allocatedStorageGb, maxAllocatedStorageGb, minTasks, maxTasks } = PRESET_FIELDS;

const SizePresetSchema = z.strictObject(PRESET_FIELDS).refine((s) => s.maxAllocatedStorageGb >= s.allocatedStorageGb, {
    message: "maxAllocatedStorageGb must be at least allocatedStorageGb", path: ["maxAllocatedStorageGb"],
    ...whenValid({ allocatedStorageGb, maxAllocatedStorageGb }),
}).refine((s) => s.maxTasks >= s.minTasks, { message: "maxTasks must be at least minTasks", path: ["maxTasks"], ...whenValid({ minTasks, maxTasks }) })
    .superRefine(fargateTaskSize, whenValid({ cpu: PRESET_FIELDS.cpu, memory: PRESET_FIELDS.memory }));

export type SizePreset = z.output<typeof SizePresetSchema>;

/** How a cluster is sized: a Serverless v2 range or a provisioned class, never both, never neither. */
export function capacityProblems(d: { minCapacity?: number; maxCapacity?: number; instanceClass?: string }): { field: string; message: string }[] {
    const out: { field: string; message: string }[] = [];
    const add = (field: string, message: string) => out.push({ field, message });
    const serverless = d.minCapacity !== undefined || d.maxCapacity !== undefined;
    if (serverless && d.instanceClass) {
        add("instanceClass", "set either instanceClass or minCapacity/maxCapacity, not both");
    }
    if (!serverless && !d.instanceClass) {
        add("maxCapacity", "set minCapacity and maxCapacity (Serverless v2 ACUs) or instanceClass");
    }
    if (serverless && (d.minCapacity === undefined || d.maxCapacity === undefined)) {
        add(d.minCapacity === undefined ? "minCapacity" : "maxCapacity", "minCapacity and maxCapacity go together");
    }
    if (d.minCapacity !== undefined && d.maxCapacity !== undefined && d.minCapacity > d.maxCapacity) {
        add("minCapacity", `must not exceed maxCapacity (${d.maxCapacity})`);
    }
    for (const k of ["minCapacity", "maxCapacity"] as const) {
        const v = d[k];
        if (v !== undefined && (v * 2) % 1 !== 0) add(k, "must be a multiple of 0.5 ACU");
    }
    return out;
}

/** What a cell may set for itself; everything else of its cluster comes from `shared.database`. */
const CELL_SIZE_FIELDS = {
    /** Serverless v2 capacity range in ACUs; mutually exclusive with instanceClass. */
    minCapacity: z.number().min(0, "must be 0 to 256 ACUs").max(256, "must be 0 to 256 ACUs").optional(),
    maxCapacity: z.number().min(1, "must be 1 to 256 ACUs").max(256, "must be 1 to 256 ACUs").optional(),
    /** Provisioned instance class, e.g. db.r6g.large; mutually exclusive with the capacity range. */
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.r6g.large").optional(),
    readers: int(0, 15).optional(),
    reservedConnections: int(0, 5000).optional(),
};

/**
 * One shared database cell: its own Aurora cluster. A cell states only how it differs from `shared.database` (its
 * capacity, readers and reserve); a capacity range replaces the base's instance class and the other way round.
 */
const CellSchema = z.strictObject(CELL_SIZE_FIELDS).superRefine((c, ctx) => {
    for (const k of ["minCapacity", "maxCapacity"] as const) {
        const v = c[k];
        if (v !== undefined && (v * 2) % 1 !== 0) ctx.addIssue({ code: "custom", path: [k], message: "must be a multiple of 0.5 ACU" });
    }
    if (c.instanceClass && (c.minCapacity !== undefined || c.maxCapacity !== undefined)) {
        ctx.addIssue({ code: "custom", path: ["instanceClass"], message: "set either instanceClass or minCapacity/maxCapacity, not both" });
    }
});
export type CellOverrides = z.output<typeof CellSchema>;

const cellName = z.string().regex(CELL_NAME_PATTERN, "must be a cell name: a lower-case letter, then up to 11 letters or digits (e.g. main, b, eu2)");

const SharedDatabaseSchema = z.strictObject({
    /** Aurora PostgreSQL engine version. */
    engineVersion: z.string().regex(/^\d+\.\d+$/, "must be an Aurora PostgreSQL version such as 16.6").default("16.6"),
    /**
     * Let a change of `engineVersion` to another major version reach the cluster. Off, the cluster keeps the version
     * RDS's automatic minor upgrades gave it and ignores `engineVersion` (it is then the creation version). Turn it on
     * for the one deploy that upgrades, with the new full version, then off again.
     */
    allowMajorVersionUpgrade: z.boolean().default(false),
    ...CELL_SIZE_FIELDS,
    /** Reader instances in addition to the writer, each in another AZ. */
    readers: CELL_SIZE_FIELDS.readers.default(0),
    /** Name of the application database inside the cluster. */
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a PostgreSQL identifier: a-z, 0-9, '_'").default("tenancy"),
    /**
     * Host the PostgreSQL provider connects to instead of the cluster endpoint (e.g. a name of the cluster on a private
     * DNS alias). Defaults to the cluster endpoint. With `adminTls.mode: verify-full` it must be a name on the
     * cluster's certificate: an SSM tunnel keeps the endpoint name and maps it to 127.0.0.1 in /etc/hosts instead.
     */
    adminHost: z.string().min(1).optional(),
    /** Port the PostgreSQL provider connects to (a tunnel's local port). Defaults to the cluster's port (5432). */
    adminPort: int(1, 65535).optional(),
    /**
     * Further sources `pulumi up` may reach the cluster from; each entry becomes an ingress rule on 5432 into the
     * cluster's security group. The deploy runner needs none: the program creates its group and the cluster admits it.
     * `securityGroupIds`: e.g. an SSM tunnel host's group in the shared VPC; `cidrBlocks`: private ranges (e.g. a
     * peered tooling VPC). Defaults to none: only the shared app and the deploy runner's group connect.
     */
    adminIngress: z.strictObject({
        securityGroupIds: z.array(z.string().regex(/^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, "must be a security group ID such as sg-0123456789abcdef0")).default([]),
        cidrBlocks: z.array(z.string().regex(IPV4_CIDR_PATTERN, "must be an IPv4 CIDR block such as 10.100.0.0/24")).default([]),
    }).default({ securityGroupIds: [], cidrBlocks: [] }),
    /**
     * How the PostgreSQL provider authenticates as the cluster's master user: `iam` (a 15-minute IAM token from the
     * deploy role's `rds-db:connect`; the user must have been granted `rds_iam` once, see README "Reaching the shared
     * cluster") or `password` (the master password from the stack state; needed for a new cluster's first deploy).
     * Defaults to `password`.
     */
    adminAuth: z.enum(["iam", "password"]).default("password"),
    /**
     * TLS of the provider's connection. `mode`: `verify-full` (certificate chain and host name; default) or `verify-ca`
     * (chain only). `rootCertPath`: absolute path of the RDS CA bundle (PEM) on the machine running `pulumi up`;
     * the deploy workflow downloads it there. Defaults to /tmp/rds-global-bundle.pem.
     */
    adminTls: z.strictObject({
        mode: z.enum(["verify-full", "verify-ca"]).default("verify-full"),
        rootCertPath: z.string().regex(/^\/[\w./-]+\.pem$/, "must be an absolute path of a .pem file such as /tmp/rds-global-bundle.pem").default(DEFAULT_RDS_CA_BUNDLE),
    }).default({ mode: "verify-full", rootCertPath: DEFAULT_RDS_CA_BUNDLE }),
    /** Connections kept back from tenants for the platform itself (migrations, reporting, admin). */
    reservedConnections: CELL_SIZE_FIELDS.reservedConnections.default(50),
    /** A shared tenant's runtime role: its connection limit, and its default statement timeout (a session may raise it). */
    tenantConnectionLimit: int(1, 500).default(20),
    tenantStatementTimeoutSeconds: int(1, 3600).default(30),
    /** Backup retention of the shared cluster and default for hybrid and dedicated databases. */
    backupRetentionDays: int(7, 35).default(7),
}).superRefine((d, ctx) => {
    // verify-full compares the certificate's names (the cluster endpoints) with the host connected to.
    if (d.adminHost !== undefined && d.adminTls.mode === "verify-full" && isAddressOrLocal(d.adminHost)) {
        ctx.addIssue({
            code: "custom", path: ["adminHost"],
            message: `${d.adminHost} is not a name on the cluster's certificate, so verify-full fails: for a tunnel leave adminHost unset and map the cluster endpoint to 127.0.0.1 in /etc/hosts (allowed: a host name on the certificate, or adminTls.mode: verify-ca)`,
        });
    }
    const ingress = d.adminIngress;
    ingress.cidrBlocks.forEach((text, i) => {
        const c = parseCidr(text);
        if (c && !isPrivate(c)) ctx.addIssue({ code: "custom", path: ["adminIngress", "cidrBlocks", i], message: `${text} is not private (allowed: within 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)` });
    });
    for (const key of ["securityGroupIds", "cidrBlocks"] as const) {
        ingress[key].forEach((v, i) => {
            if (ingress[key].indexOf(v) !== i) ctx.addIssue({ code: "custom", path: ["adminIngress", key, i], message: `${v} is listed twice` });
        });
    }
    capacityProblems(d).forEach(({ field, message }) => ctx.addIssue({ code: "custom", path: [field], message }));
});

/** An AZ ID: region code abbreviation, `-az`, number (`use1-az1`, `apse2-az3`). Same pattern as components/network.ts. */
const AZ_ID_PATTERN = /^[a-z]{2,}[0-9]+-az[0-9]+$/;

const DIRECTION_CODES: Record<string, string> = {
    east: "e", west: "w", north: "n", south: "s", central: "c", northeast: "ne", northwest: "nw", southeast: "se", southwest: "sw",
};

/** `us-east-1` → `use1`, `ap-southeast-2` → `apse2`, `us-gov-west-1` → `usgw1`: how AZ IDs of a region begin; undefined if unknown. */
export function azIdPrefix(region: string): string | undefined {
    const m = /^([a-z]{2})(-gov)?-([a-z]+)-(\d+)$/.exec(region);
    const direction = m ? DIRECTION_CODES[m[3]!] : undefined;
    return m && direction ? `${m[1]}${m[2] ? "g" : ""}${direction}${m[4]}` : undefined;
}

/** AZs of a dedicated tenant's VPC: 3 with highAvailability, else 2. */
export function dedicatedZoneCount(highAvailability: boolean): number {
    return highAvailability ? 3 : 2;
}

const APP_CPU = z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)], {
    error: "must be a Fargate CPU value (256, 512, 1024, 2048, 4096)",
});
const APP_MEMORY = int(512, 30720);

const SharedSchema = z.strictObject({
    /** CIDR of the shared VPC. */
    vpcCidr: z.string().regex(IPV4_CIDR_PATTERN, "must be an IPv4 CIDR block such as 10.0.0.0/16"),
    /** Availability zones the shared VPC spans (3 recommended in prod): the first ones of `availabilityZoneIds` of the stack's region. */
    availabilityZones: int(2, 3).default(2),
    /** NAT gateways: one for the VPC (`single`, cheaper) or one per AZ (`perAz`, survives an AZ outage). */
    natGateways: z.enum(["single", "perAz"]).default("single"),
    database: SharedDatabaseSchema,
    /**
     * Shared database cells: each its own Aurora cluster (stack `<env>.cell-<name>` in the fleet layout), with its
     * capacity and reserve; shared tenants name theirs with `cell:`. Defaults to one cell, `main`, which keeps the
     * physical names the shared cluster had before cells. The capacity guard counts each cell apart.
     */
    cells: z.record(cellName, CellSchema.nullish().transform((c) => c ?? {})).default({ [DEFAULT_CELL]: {} })
        .refine((c) => Object.keys(c).length >= 1, "must declare at least one cell"),
    /** Cell of shared tenants that name none. Defaults to `main` when declared, else the only cell. */
    defaultCell: cellName.optional(),
    app: z.strictObject({
        cpu: APP_CPU.default(512),
        memory: APP_MEMORY.default(1024),
        desiredCount: int(1, 100).default(2),
        containerPort: int(1024, 65535).default(8080),
        healthCheckPath: z.string().regex(/^\/\S*$/, "must be a path starting with /").default("/healthz"),
        /** Docker build context of the app; when set, the image is built and pushed with @pulumi/docker. */
        buildContext: z.string().min(1).optional(),
    }).superRefine(fargateTaskSize, whenValid({ cpu: APP_CPU, memory: APP_MEMORY })).default({ cpu: 512, memory: 1024, desiredCount: 2, containerPort: 8080, healthCheckPath: "/healthz" }),
});

const DEFAULT_SIZES: Record<(typeof SIZES)[number], SizePreset> = {
    small: { dbInstanceClass: "db.t4g.medium", allocatedStorageGb: 20, maxAllocatedStorageGb: 100, cpu: 512, memory: 1024, minTasks: 1, maxTasks: 3 },
    medium: { dbInstanceClass: "db.r6g.large", allocatedStorageGb: 100, maxAllocatedStorageGb: 500, cpu: 1024, memory: 2048, minTasks: 2, maxTasks: 6 },
    large: { dbInstanceClass: "db.r6g.xlarge", allocatedStorageGb: 200, maxAllocatedStorageGb: 2000, cpu: 2048, memory: 4096, minTasks: 3, maxTasks: 12 },
};

/** `tenancy:*` keys of `Pulumi.<stack>.yaml`. */
export const StackConfigSchema = z.strictObject({
    /** Tenants are served at `<subdomain>.<domain>`. */
    domain: z.string().regex(HOSTNAME_PATTERN, "must be a lower-case domain name such as saas.example.com")
        .max(64, "must be at most 64 characters (ACM's limit on a certificate's main name)"),
    /** Route 53 hosted zone of `domain`. */
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, "must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ"),
    /** Regions dedicated tenants may use; the stack's own `aws:region` is always allowed. */
    regions: z.array(z.string().regex(AWS_REGION_PATTERN, "must be an AWS region code such as eu-west-1")).default([]),
    tiers: z.strictObject({
        /** Tiers this stack allows: shared-only, mixed, or dedicated-only platforms. */
        allowed: z.array(z.enum(TIERS)).min(1, "must name at least one tier"),
        /** Tier of tenants that name none; must be allowed. */
        default: z.enum(TIERS),
    }).refine((t) => t.allowed.includes(t.default), { message: "must be one of tiers.allowed", path: ["default"] }),
    /** Release channel → application version; `stable` is required. */
    channels: z.record(
        z.string().regex(/^[a-z][a-z0-9-]*$/, "channel names use a-z, 0-9 and '-'"),
        z.string().max(MAX_VERSION_CHARS, `must be at most ${MAX_VERSION_CHARS} characters`).regex(SEMVER_PATTERN, "must be a semantic version such as 2.14.3"),
    ).refine((c) => "stable" in c, { message: "must define the 'stable' channel" }),
    /** Feature modules tenants may be entitled to. */
    features: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, "feature names use a-z, 0-9 and '-'")
        .max(MAX_FEATURE_NAME_CHARS, `must be at most ${MAX_FEATURE_NAME_CHARS} characters`)).default([]),
    /** Size presets of hybrid and dedicated databases and services. Each preset given replaces the built-in one. */
    sizes: z.strictObject({
        small: SizePresetSchema.optional(),
        medium: SizePresetSchema.optional(),
        large: SizePresetSchema.optional(),
    }).default({}).transform((s) => ({ ...DEFAULT_SIZES, ...s }) as Record<(typeof SIZES)[number], SizePreset>),
    /**
     * How the environment is split into Pulumi stacks: `single` (one stack `<env>` holds the platform, every cell and
     * every tenant; for small environments) or `fleet` (the platform in `<env>`, each cell in `<env>.cell-<name>`, each
     * tenant in `<env>.<slug>`, run by `npm run fleet`). Same components and logical names in both. Defaults to single.
     */
    layout: z.enum(LAYOUTS).default("single"),
    shared: SharedSchema,
    /**
     * RDS for PostgreSQL instances of hybrid and dedicated tenants, versioned apart from the shared Aurora cluster so a
     * major upgrade of one kind never drags the other along. `engineVersion` is the major version (`16`; a minor is
     * accepted and ignored, RDS applies minor upgrades itself). A new major needs `allowMajorVersionUpgrade: true`
     * too, or RDS refuses it. While that flag is true, changes apply immediately (not in the maintenance window), so
     * the upgrade runs in the deploy that asks for it; set it back to false afterwards. Defaults: `16`, false.
     */
    instanceDatabases: z.strictObject({
        engineVersion: z.string().regex(/^\d+(\.\d+)?$/, "must be a PostgreSQL version such as 16 or 16.6").default("16"),
        allowMajorVersionUpgrade: z.boolean().default(false),
    }).default({ engineVersion: "16", allowMajorVersionUpgrade: false }),
    /**
     * Availability zones by AZ ID per region, in the order VPCs use them: `{us-east-1: [use1-az1, use1-az2, use1-az4]}`.
     * Required for every region the stack allows. The shared VPC takes the first `shared.availabilityZones` of the
     * stack's region, a dedicated VPC the first 2 (3 with `highAvailability`) of its region. AZ IDs name the same
     * physical zone in every account (names like us-east-1a do not); `aws ec2 describe-availability-zones` lists them.
     * Pinned so that an AZ event never shifts the zones and replaces subnets and databases.
     */
    availabilityZoneIds: z.record(
        z.string().regex(AWS_REGION_PATTERN, "must be an AWS region code such as eu-west-1"),
        z.array(z.string().regex(AZ_ID_PATTERN, "must be an AZ ID such as use1-az1")).min(2, "must list at least 2 AZ IDs"),
    ).default({}),
    /** Directory of this stack's tenant files, relative to the repository root. */
    tenantsDir: z.string().regex(/^[\w./-]+$/, "must be a relative directory such as tenants/dev"),
    /**
     * Certificates an ALB's HTTPS listener may carry besides its default one: the AWS quota "Certificates per
     * Application Load Balancer" (25 unless raised with AWS). Validation counts the shared listener (the certificates
     * of every served shared and hybrid tenant) and each dedicated tenant's listener against it. Defaults to 25.
     */
    certificatesPerListener: int(1, 1000).default(DEFAULT_CERTIFICATES_PER_LISTENER),
    /** Protect stateful resources (databases, clusters, schemas, roles, keys, secrets) from deletion. Defaults to true (the dev example sets false). */
    protect: z.boolean().default(true),
    /** Retention of every log group, in days. Defaults to 30. */
    logRetentionDays: z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be a CloudWatch retention period (${LOG_RETENTION_DAYS.join(", ")})`,
    }).default(30),
    /** Multi-AZ databases, reader instances and final snapshots for hybrid and dedicated tenants. */
    highAvailability: z.boolean().default(false),
    /** Container image repository name of the app in ECR. */
    appRepository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "must be an ECR repository name").default("tenancy-app"),
    /** Secret signing key of the app; read as a secret. A random one is generated when unset. */
    appSecretKey: z.string().optional(),
    /** AWS Backup of hybrid and dedicated tenants and (`shared`) the schema dumps of shared tenants (stacks/backupConfig.ts). Defaults: policy `standard`, nightly dumps. */
    backup: BackupConfigSchema.default(BackupConfigSchema.parse({})),
    /** Cost: usage assumptions of the plan's monthly estimate (stacks/costConfig.ts); defaults apply. */
    cost: CostConfigSchema,
    /** Monitoring: alarm thresholds per size preset, the alarm topics' email subscribers (stacks/monitoringConfig.ts). */
    monitoring: MonitoringConfigSchema.prefault({}),
});

/** A problem of the AZ configuration: config path under `tenancy:`, message, and whether it is about the key itself. */
export interface ConfigProblem {
    path: (string | number)[];
    message: string;
    key?: boolean;
}

/**
 * Checks `availabilityZoneIds` against the regions and sizes that use it: every allowed region listed with enough
 * distinct AZ IDs of that region, no other region listed.
 */
export function availabilityZoneProblems(config: Pick<StackConfig, "allowedRegions" | "region" | "availabilityZoneIds" | "shared" | "highAvailability">): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const dedicated = dedicatedZoneCount(config.highAvailability);
    for (const region of config.allowedRegions) {
        const ids = config.availabilityZoneIds[region];
        const prefix = azIdPrefix(region) ?? "<region code>";
        const needed = region === config.region ? Math.max(config.shared.availabilityZones, dedicated) : dedicated;
        if (!ids) {
            const example = Array.from({ length: needed }, (_, i) => `${prefix}-az${i + 1}`).join(", ");
            problems.push({ path: ["availabilityZoneIds"], message: `has no entry for ${region}, a region of this stack (add ${region}: [${example}])` });
            continue;
        }
        if (ids.length < needed) {
            const why = region === config.region ? "the shared VPC and dedicated VPCs" : "dedicated VPCs";
            problems.push({ path: ["availabilityZoneIds", region], message: `lists ${ids.length} AZ IDs; ${why} here need ${needed}` });
        }
        ids.forEach((id, i) => {
            if (azIdPrefix(region) && !id.startsWith(`${prefix}-az`)) {
                problems.push({ path: ["availabilityZoneIds", region, i], message: `${id} is not an AZ ID of ${region} (allowed: ${prefix}-az<n>)` });
            } else if (ids.indexOf(id) !== i) {
                problems.push({ path: ["availabilityZoneIds", region, i], message: `${id} is listed twice` });
            }
        });
    }
    for (const region of Object.keys(config.availabilityZoneIds)) {
        if (!config.allowedRegions.includes(region)) {
            problems.push({ path: ["availabilityZoneIds", region], key: true, message: `${region} is not a region of this stack (allowed: ${config.allowedRegions.join(", ")})` });
        }
    }
    return problems;
}

/** The AZ IDs a VPC in `region` uses: the first `count` configured for it (validated by {@link availabilityZoneProblems}). */
export function zoneIdsFor(config: Pick<StackConfig, "availabilityZoneIds">, region: string, count: number): string[] {
    const ids = config.availabilityZoneIds[region] ?? [];
    if (ids.length < count) throw new Error(`availabilityZoneIds: ${region} lists ${ids.length} AZ IDs, ${count} needed`);
    return ids.slice(0, count);
}

export type StackConfigInput = z.input<typeof StackConfigSchema>;
export type StackConfigValues = z.output<typeof StackConfigSchema>;

/** The stack's validated configuration plus the values that come from outside `tenancy:`. */
export interface StackConfig extends Omit<StackConfigValues, "appSecretKey"> {
    /**
     * The environment's name, e.g. `prod`: the stack name before its first dot (`prod.cell-main`, `prod.tyrell` are
     * stacks of `prod`). Every physical name (secrets, parameters, cluster identifiers) uses it, in both layouts.
     */
    stack: string;
    /** Same as `stack`: the environment. */
    env: string;
    /** Every cell's cluster settings: `shared.database` with the cell's overrides applied. */
    cells: Record<string, CellDatabase>;
    /** The cell of shared tenants whose file names none. */
    defaultCell: string;
    /** The stack's own region (`aws:region`). */
    region: string;
    /** Every region dedicated tenants may use, the stack's own first. */
    allowedRegions: string[];
}

/** A cell's cluster settings, resolved. */
export type CellDatabase = StackConfigValues["shared"]["database"];

/** `shared.database` with one cell's overrides: a capacity range replaces the base's class and the other way round. */
export function resolveCellDatabase(base: CellDatabase, cell: CellOverrides): CellDatabase {
    const serverless = cell.minCapacity !== undefined || cell.maxCapacity !== undefined;
    const sizing = cell.instanceClass !== undefined
        ? { minCapacity: undefined, maxCapacity: undefined, instanceClass: cell.instanceClass }
        : serverless ? { minCapacity: cell.minCapacity ?? base.minCapacity, maxCapacity: cell.maxCapacity ?? base.maxCapacity, instanceClass: undefined } : {};
    const merged: CellDatabase = {
        ...base,
        ...sizing,
        readers: cell.readers ?? base.readers,
        reservedConnections: cell.reservedConnections ?? base.reservedConnections,
    };
    for (const k of ["minCapacity", "maxCapacity", "instanceClass"] as const) if (merged[k] === undefined) delete merged[k];
    return merged;
}

/** The default cell: the one named, else `main` when declared, else the first by name. */
export function defaultCellOf(shared: { cells: Record<string, unknown>; defaultCell?: string }): string {
    return shared.defaultCell ?? (DEFAULT_CELL in shared.cells ? DEFAULT_CELL : Object.keys(shared.cells).sort()[0]!);
}

export type { Layout };
