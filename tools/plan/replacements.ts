/**
 * What the data-loss guard of `plan:diff` knows about resource types: which ones hold data (removing one loses it) and,
 * per type, the inputs whose change makes the provider replace the resource (delete and create: the data goes too).
 *
 * One table, one row per type token. Every replace-forcing input is `ForceNew: true` in the schema of the Terraform
 * provider the Pulumi package is bridged from; the comment above each row names the file it was read from, and the
 * row's `sources` link it (and the Pulumi registry page, which says "Changing this forces a new resource").
 *
 * Deliberate additions beyond ForceNew:
 * - `region` on every AWS type, derived rather than listed: with AWS v7's per-resource region a resource cannot move; a
 *   new region is a new resource. A region move of a dedicated tenant thus shows every regional resource as replaced.
 * - `rename` entries (RDS instance identifiers; PostgreSQL schema, role and database names): the provider renames in
 *   place (`ModifyDBInstance NewDBInstanceIdentifier`, `ALTER … RENAME TO`), so no data is lost, but everything holding
 *   the old name (endpoints, the app's credentials secret, `search_path`, grants made outside Pulumi) breaks at once.
 *   The guard treats them as risky on purpose.
 *
 * Provider versions checked: @pulumi/aws 7.x (hashicorp/terraform-provider-aws, `internal/service/<svc>/<file>.go`),
 * @pulumi/postgresql 3.x (cyrilgdn/terraform-provider-postgresql @ ff936b9, `postgresql/resource_postgresql_<x>.go`).
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

/** The per-resource region input of AWS v7: a change replaces any AWS resource (see {@link effectOfChange}). */
export const REGION_INPUT = "region";
const REGION_NOTE = "AWS v7 per-resource region: a resource cannot move between regions";

/** The table. Keep rows sorted by type token; cite the source of every row. */
export const TYPE_RULES: readonly TypeRule[] = [
    {
        // logs/group.go: name, name_prefix, log_group_class are ForceNew.
        type: "aws:cloudwatch/logGroup:LogGroup",
        holds: "log group",
        stateful: true,
        inputs: replace("name", "namePrefix", "logGroupClass"),
        sources: [`${REGISTRY_AWS}/cloudwatch/loggroup/`, `${TF_AWS}/logs/group.go`],
    },
    {
        // ec2/vpc_subnet.go: vpc_id, cidr_block, availability_zone, availability_zone_id, ipv4_ipam_pool_id,
        // ipv4_netmask_length, ipv6_ipam_pool_id, ipv6_native, ipv6_netmask_length, outpost_arn are ForceNew.
        type: "aws:ec2/subnet:Subnet",
        holds: "subnet (the databases, tasks and NAT gateways in it must move; a same-CIDR replacement cannot be created before the old one is gone)",
        stateful: false,
        inputs: replace(
            "vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv4IpamPoolId", "ipv4NetmaskLength", "ipv6IpamPoolId",
            "ipv6Native", "ipv6NetmaskLength", "outpostArn",
        ),
        sources: [`${REGISTRY_AWS}/ec2/subnet/`, `${TF_AWS}/ec2/vpc_subnet.go`],
    },
    {
        // ec2/vpc_.go: cidr_block, ipv4_ipam_pool_id, ipv4_netmask_length are ForceNew.
        type: "aws:ec2/vpc:Vpc",
        holds: "VPC (everything in it is rebuilt)",
        stateful: false,
        inputs: replace("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"),
        sources: [`${REGISTRY_AWS}/ec2/vpc/`, `${TF_AWS}/ec2/vpc_.go`],
    },
    {
        // ecr/repository.go: name and encryption_configuration are ForceNew.
        type: "aws:ecr/repository:Repository",
        holds: "container image repository",
        stateful: true,
        inputs: replace("name", "encryptionConfigurations"),
        sources: [`${REGISTRY_AWS}/ecr/repository/`, `${TF_AWS}/ecr/repository.go`],
    },
    {
        // kms/key.go: customer_master_key_spec, key_usage, multi_region, custom_key_store_id, xks_key_id are ForceNew.
        type: "aws:kms/key:Key",
        holds: "KMS key (data encrypted with it becomes unreadable)",
        stateful: true,
        inputs: replace("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
        sources: [`${REGISTRY_AWS}/kms/key/`, `${TF_AWS}/kms/key.go`],
    },
    {
        // rds/cluster.go: cluster_identifier(_prefix), engine, engine_mode, availability_zones, database_name, master_username,
        // storage_encrypted, kms_key_id, db_subnet_group_name, snapshot_identifier, source_region, restore_to_point_in_time,
        // s3_import are ForceNew.
        type: "aws:rds/cluster:Cluster",
        holds: "database cluster",
        stateful: true,
        inputs: replace(
            "clusterIdentifier", "clusterIdentifierPrefix", "engine", "engineMode", "availabilityZones", "databaseName",
            "masterUsername", "storageEncrypted", "kmsKeyId", "dbSubnetGroupName", "snapshotIdentifier", "sourceRegion",
            "restoreToPointInTime", "s3Import",
        ),
        sources: [`${REGISTRY_AWS}/rds/cluster/`, `${TF_AWS}/rds/cluster.go`],
    },
    {
        // rds/cluster_instance.go: identifier(_prefix), cluster_identifier, engine, availability_zone, db_subnet_group_name,
        // custom_iam_instance_profile are ForceNew.
        type: "aws:rds/clusterInstance:ClusterInstance",
        holds: "database cluster instance (the data stays in the cluster; a replaced writer means a failover)",
        stateful: false,
        inputs: replace("identifier", "identifierPrefix", "clusterIdentifier", "engine", "availabilityZone", "dbSubnetGroupName", "customIamInstanceProfile"),
        sources: [`${REGISTRY_AWS}/rds/clusterinstance/`, `${TF_AWS}/rds/cluster_instance.go`],
    },
    {
        // rds/instance.go: identifier_prefix, engine, storage_encrypted, kms_key_id, username, db_name, availability_zone,
        // character_set_name, nchar_character_set_name, timezone, snapshot_identifier, restore_to_point_in_time,
        // custom_iam_instance_profile are ForceNew. `identifier` is not: resourceInstanceUpdate sends it as
        // ModifyDBInstance NewDBInstanceIdentifier, a rename that changes the endpoint.
        type: "aws:rds/instance:Instance",
        holds: "database",
        stateful: true,
        inputs: [
            ...replace(
                "identifierPrefix", "engine", "storageEncrypted", "kmsKeyId", "username", "dbName", "availabilityZone",
                "characterSetName", "ncharCharacterSetName", "timezone", "snapshotIdentifier", "restoreToPointInTime", "customIamInstanceProfile",
            ),
            { input: "identifier", effect: "rename", note: "renamed in place (ModifyDBInstance NewDBInstanceIdentifier): the endpoint changes, every connection string breaks" },
        ],
        sources: [`${REGISTRY_AWS}/rds/instance/`, `${TF_AWS}/rds/instance.go`],
    },
    {
        // s3/bucket.go: bucket, bucket_prefix, object_lock_enabled are ForceNew.
        type: "aws:s3/bucket:Bucket",
        holds: "S3 bucket",
        stateful: true,
        inputs: replace("bucket", "bucketPrefix", "objectLockEnabled"),
        sources: [`${REGISTRY_AWS}/s3/bucket/`, `${TF_AWS}/s3/bucket.go`],
    },
    {
        // secretsmanager/secret.go: name, name_prefix are ForceNew.
        type: "aws:secretsmanager/secret:Secret",
        holds: "secret",
        stateful: true,
        inputs: replace("name", "namePrefix"),
        sources: [`${REGISTRY_AWS}/secretsmanager/secret/`, `${TF_AWS}/secretsmanager/secret.go`],
    },
    {
        // resource_postgresql_database.go: template, encoding, lc_collate, lc_ctype are ForceNew; name is renamed in place.
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
        // resource_postgresql_default_privileges.go: role, database, owner, schema, object_type, with_grant_option are
        // ForceNew (privileges is updated in place).
        type: "postgresql:index/defaultPrivileges:DefaultPrivileges",
        holds: "default privileges (revoked and granted again: objects created in between miss them)",
        stateful: false,
        inputs: replace("role", "database", "owner", "schema", "objectType", "withGrantOption"),
        sources: [`${REGISTRY_PG}/defaultprivileges/`, `${TF_PG}/resource_postgresql_default_privileges.go`],
    },
    {
        // resource_postgresql_grant.go: role, database, schema, object_type, objects, columns, with_grant_option are ForceNew
        // (privileges is updated in place).
        type: "postgresql:index/grant:Grant",
        holds: "privileges (revoked and granted again: the role loses access in between)",
        stateful: false,
        inputs: replace("role", "database", "schema", "objectType", "objects", "columns", "withGrantOption"),
        sources: [`${REGISTRY_PG}/grant/`, `${TF_PG}/resource_postgresql_grant.go`],
    },
    {
        // resource_postgresql_role.go: nothing is ForceNew; name is renamed in place.
        type: "postgresql:index/role:Role",
        holds: "PostgreSQL role",
        stateful: true,
        inputs: [{ input: "name", effect: "rename", note: "renamed in place (ALTER ROLE … RENAME TO); the stored credentials and MD5 password stop working" }],
        sources: [`${REGISTRY_PG}/role/`, `${TF_PG}/resource_postgresql_role.go`],
    },
    {
        // resource_postgresql_schema.go: database is ForceNew; name is renamed in place.
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

/** Whether the type comes from the AWS provider, whose v7 resources carry a per-resource `region`. */
export function isAwsType(type: string): boolean {
    return type.startsWith("aws:");
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
    if (top === REGION_INPUT && isAwsType(type)) return { effect: "replace", note: REGION_NOTE };
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
        const rep = [...r.inputs.filter((i) => i.effect === "replace").map((i) => i.input), ...(isAwsType(r.type) ? [REGION_INPUT] : [])]
            .map((i) => `\`${i}\``).join(", ");
        const ren = r.inputs.filter((i) => i.effect === "rename").map((i) => `\`${i.input}\``).join(", ");
        lines.push(`| \`${r.type}\` | ${r.holds} | ${r.stateful ? "yes" : "no"} | ${rep || "–"} | ${ren || "–"} | ${r.sources.map((s, i) => `[${i + 1}](${s})`).join(" ")} |`);
    }
    lines.push("", `Any AWS resource, listed or not, is replaced when its \`${REGION_INPUT}\` changes (${REGION_NOTE}).`);
    return lines.join("\n");
}
