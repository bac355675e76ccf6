/**
 * What the data-loss guard of `plan:diff` knows about resource types: which ones hold data (removing one loses it) and,
 * per type, the inputs whose change makes the provider replace the resource (delete and create: the data goes too).
 *
 * One table, one row per type token. Every replace-forcing input is `ForceNew: true` in the schema of the Terraform
 * provider the Pulumi package is bridged from; the Pulumi registry page of the type says "Changing this forces a new
 * resource" for the same inputs. Each row names both, so a reviewer can check a row against its source.
 *
 * Two deliberate additions beyond ForceNew, both marked in the table:
 * - `region` on every AWS type: with AWS v7's per-resource region a resource cannot move; a new region is a new resource.
 * - `rename` entries (PostgreSQL schema, role and database names): the provider renames in place (`ALTER … RENAME TO`),
 *   so no data is lost, but everything holding the old name (the app's credentials secret, `search_path`, grants made
 *   outside Pulumi, migrations) breaks at once. The guard treats them as risky on purpose.
 *
 * Provider versions checked: @pulumi/aws 7.x (hashicorp/terraform-provider-aws, `internal/service/<svc>/<file>.go`),
 * @pulumi/postgresql 3.x (cyrilgdn/terraform-provider-postgresql, `postgresql/resource_postgresql_<x>.go`).
 */

/** What changing an input does to the real resource. */
export type ReplacementEffect = "replace" | "rename";

export interface ReplacingInput {
    /** Top-level input name as the Pulumi SDK spells it (camelCase). A change anywhere under it counts. */
    input: string;
    effect: ReplacementEffect;
    /** Why it is listed, when the provider schema alone does not say it. */
    note?: string;
}

export interface TypeRule {
    /** Pulumi type token. */
    type: string;
    /** What the resource holds, in the guard's messages: "database", "KMS key", … */
    holds: string;
    /** Removing it loses data (or makes data unreadable: a KMS key), so a removal fires the guard. */
    stateful: boolean;
    inputs: ReplacingInput[];
    /** Provider documentation and schema source the inputs come from. */
    sources: string[];
}

const TF_AWS = "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service";
const TF_PG = "https://github.com/cyrilgdn/terraform-provider-postgresql/blob/main/postgresql";
const REGISTRY_AWS = "https://www.pulumi.com/registry/packages/aws/api-docs";
const REGISTRY_PG = "https://www.pulumi.com/registry/packages/postgresql/api-docs";

const replace = (...inputs: string[]): ReplacingInput[] => inputs.map((input) => ({ input, effect: "replace" }));
const REGION: ReplacingInput = { input: "region", effect: "replace", note: "AWS v7 per-resource region: a resource cannot move between regions" };

/** The table. Keep rows sorted by type token; cite the source of every row. */
export const TYPE_RULES: readonly TypeRule[] = [
    {
        type: "aws:cloudwatch/logGroup:LogGroup",
        holds: "log group",
        stateful: true,
        inputs: [...replace("name", "namePrefix", "logGroupClass"), REGION],
        sources: [`${REGISTRY_AWS}/cloudwatch/loggroup/`, `${TF_AWS}/logs/group.go`],
    },
    {
        type: "aws:ec2/vpc:Vpc",
        holds: "VPC (everything in it is rebuilt)",
        stateful: false,
        inputs: [...replace("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"), REGION],
        sources: [`${REGISTRY_AWS}/ec2/vpc/`, `${TF_AWS}/ec2/vpc_.go`],
    },
    {
        type: "aws:ecr/repository:Repository",
        holds: "container image repository",
        stateful: true,
        inputs: [...replace("name", "encryptionConfigurations"), REGION],
        sources: [`${REGISTRY_AWS}/ecr/repository/`, `${TF_AWS}/ecr/repository.go`],
    },
    {
        type: "aws:kms/key:Key",
        holds: "KMS key (data encrypted with it becomes unreadable)",
        stateful: true,
        inputs: [...replace("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"), REGION],
        sources: [`${REGISTRY_AWS}/kms/key/`, `${TF_AWS}/kms/key.go`],
    },
    {
        type: "aws:rds/cluster:Cluster",
        holds: "database cluster",
        stateful: true,
        inputs: [
            ...replace(
                "clusterIdentifier", "clusterIdentifierPrefix", "engine", "engineMode", "availabilityZones", "databaseName",
                "masterUsername", "storageEncrypted", "kmsKeyId", "snapshotIdentifier", "sourceRegion", "restoreToPointInTime", "s3Import",
            ),
            REGION,
        ],
        sources: [`${REGISTRY_AWS}/rds/cluster/`, `${TF_AWS}/rds/cluster.go`],
    },
    {
        type: "aws:rds/clusterInstance:ClusterInstance",
        holds: "database cluster instance (the data stays in the cluster; a replaced writer means a failover)",
        stateful: false,
        inputs: [
            ...replace("identifier", "identifierPrefix", "clusterIdentifier", "engine", "availabilityZone", "dbSubnetGroupName", "customIamInstanceProfile"),
            REGION,
        ],
        sources: [`${REGISTRY_AWS}/rds/clusterinstance/`, `${TF_AWS}/rds/cluster_instance.go`],
    },
    {
        type: "aws:rds/instance:Instance",
        holds: "database",
        stateful: true,
        inputs: [
            ...replace(
                "identifier", "identifierPrefix", "engine", "storageEncrypted", "kmsKeyId", "username", "dbName", "availabilityZone",
                "characterSetName", "ncharCharacterSetName", "timezone", "snapshotIdentifier", "restoreToPointInTime", "customIamInstanceProfile",
            ),
            REGION,
        ],
        sources: [`${REGISTRY_AWS}/rds/instance/`, `${TF_AWS}/rds/instance.go`],
    },
    {
        type: "aws:secretsmanager/secret:Secret",
        holds: "secret",
        stateful: true,
        inputs: [...replace("name", "namePrefix"), REGION],
        sources: [`${REGISTRY_AWS}/secretsmanager/secret/`, `${TF_AWS}/secretsmanager/secret.go`],
    },
    {
        type: "postgresql:index/database:Database",
        holds: "PostgreSQL database",
        stateful: true,
        inputs: [
            ...replace("template", "encoding", "lcCollate", "lcCtype"),
            { input: "name", effect: "rename", note: "renamed in place (ALTER DATABASE … RENAME TO); every connection string breaks" },
        ],
        sources: [`${REGISTRY_PG}/database/`, `${TF_PG}/resource_postgresql_database.go`],
    },
    {
        type: "postgresql:index/role:Role",
        holds: "PostgreSQL role",
        stateful: true,
        inputs: [{ input: "name", effect: "rename", note: "renamed in place (ALTER ROLE … RENAME TO); the stored credentials and MD5 password stop working" }],
        sources: [`${REGISTRY_PG}/role/`, `${TF_PG}/resource_postgresql_role.go`],
    },
    {
        type: "postgresql:index/schema:Schema",
        holds: "PostgreSQL schema",
        stateful: true,
        inputs: [
            ...replace("database"),
            { input: "name", effect: "rename", note: "renamed in place (ALTER SCHEMA … RENAME TO); search_path and grants naming it break" },
        ],
        sources: [`${REGISTRY_PG}/schema/`, `${TF_PG}/resource_postgresql_schema.go`],
    },
];

const BY_TYPE = new Map(TYPE_RULES.map((r) => [r.type, r]));

/** The rule of a type token, if the guard knows it. */
export function ruleFor(type: string): TypeRule | undefined {
    return BY_TYPE.get(type);
}

/** Whether removing a resource of this type loses data. */
export function isStateful(type: string): boolean {
    return BY_TYPE.get(type)?.stateful ?? false;
}

/** First segment of an input path: `tags.owner` → `tags`, `rules[0].value` → `rules`, `["a.b"]` → `a.b`. */
export function topLevelInput(path: string): string {
    const quoted = /^\[("(?:[^"\\]|\\.)*")\]/.exec(path);
    if (quoted) return JSON.parse(quoted[1]!) as string;
    return /^[^.[]*/.exec(path)![0];
}

/**
 * How a change of the input at `path` affects a resource of `type`: "replace", "rename", or undefined (an update).
 * `replaceOnChanges` (the resource option) forces replacement for the paths it names, `*` for all.
 */
export function effectOfChange(type: string, path: string, replaceOnChanges: readonly string[] = []): { effect: ReplacementEffect; note?: string } | undefined {
    const top = topLevelInput(path);
    const entry = BY_TYPE.get(type)?.inputs.find((i) => i.input === top);
    if (entry) return { effect: entry.effect, ...(entry.note ? { note: entry.note } : {}) };
    if (matchesOption(path, replaceOnChanges)) {
        return { effect: "replace", note: "replaceOnChanges resource option" };
    }
    return undefined;
}

/** Whether an input path falls under one of a resource option's paths (`replaceOnChanges`, `ignoreChanges`; `*` for all). */
export function matchesOption(path: string, optionPaths: readonly string[]): boolean {
    return optionPaths.some((p) => p === "*" || p === path || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}

/** The table as Markdown, for docs and `plan:diff --rules`. */
export function rulesMarkdown(): string {
    const lines = [
        "| Type | Holds | Removal is data loss | Inputs that force replacement | Renamed in place | Sources |",
        "|---|---|---|---|---|---|",
    ];
    for (const r of TYPE_RULES) {
        const rep = r.inputs.filter((i) => i.effect === "replace").map((i) => `\`${i.input}\``).join(", ");
        const ren = r.inputs.filter((i) => i.effect === "rename").map((i) => `\`${i.input}\``).join(", ");
        lines.push(`| \`${r.type}\` | ${r.holds} | ${r.stateful ? "yes" : "no"} | ${rep || "–"} | ${ren || "–"} | ${r.sources.map((s, i) => `[${i + 1}](${s})`).join(" ")} |`);
    }
    return lines.join("\n");
}
