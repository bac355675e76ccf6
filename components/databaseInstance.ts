import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ENHANCED_MONITORING_INTERVAL_SECONDS, enhancedMonitoringRole } from "./monitoring";

/** Shortest backup retention the platform accepts (days); RDS allows at most 35. */
export const MIN_BACKUP_RETENTION_DAYS = 7;
export const MAX_BACKUP_RETENTION_DAYS = 35;

/** Log types the instance exports to CloudWatch Logs; each gets its log group before the instance exists. */
export const POSTGRES_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

export interface DatabaseInstanceArgs {
    /**
     * Physical DB instance identifier, e.g. `tenancy-prod-hybrid-acme` (naming.ts `instanceIdentifier`): fixed and
     * stable, it names the endpoint, the log groups and the final snapshot. 1 to 63 of a-z, 0-9 and '-', starting with a
     * letter, no '--', not ending in '-'. Changing it renames the instance in place: the endpoint changes.
     */
    identifier: string;
    /** AWS v7 per-resource region, passed to every regional child. Defaults to the provider's region. */
    region?: string;
    /** VPC of the subnets and of the instance's security group. */
    vpcId: pulumi.Input<string>;
    /** Isolated subnets (no route to the internet), in at least two availability zones. */
    subnetIds: pulumi.Input<string>[];
    /**
     * The only security groups allowed to reach PostgreSQL (TCP 5432). May be empty when the caller adds the rule itself
     * (a dedicated app's group exists only after the database): then nothing can connect until it does.
     */
    allowedSecurityGroupIds: pulumi.Input<string>[];
    /**
     * ARN of the customer-managed KMS key for storage, Performance Insights, the RDS-managed master secret and the log
     * groups. Its policy must let CloudWatch Logs of this account and region use it (see EncryptionKey).
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * PostgreSQL version, e.g. "16.6". The parameter group family is derived from the major version (`postgres16`).
     * The instance is given the major version only: minor versions belong to RDS's automatic minor upgrades, and a
     * pinned minor would turn the first `pulumi up` after such an upgrade into a downgrade, which RDS refuses.
     */
    engineVersion: string;
    /**
     * Let a new major `engineVersion` reach the instance; without it RDS refuses a major change, so an upgrade is a
     * deliberate act. While set, changes apply immediately: a pending upgrade would keep the old parameter group (the
     * new major's family replaces it) attached when Pulumi deletes it. Set it for the upgrade's deploy only.
     * Defaults to false.
     */
    allowMajorVersionUpgrade?: boolean;
    /** RDS instance class, e.g. db.t4g.medium. It must support Performance Insights (db.t*.micro/small do not). */
    instanceClass: string;
    /** Initial gp3 storage in GiB. */
    allocatedStorageGb: number;
    /** Storage autoscaling ceiling in GiB; at least `allocatedStorageGb`. */
    maxAllocatedStorageGb: number;
    /** Standby in a second availability zone. */
    multiAz: boolean;
    /** Automated backup retention in days: 7 to 35; lower values throw. */
    backupRetentionDays: number;
    /**
     * AWS Backup's continuous backup manages the automated backups (README "Backups"): it owns their retention and RDS
     * refuses a change from anyone else, so `backupRetentionDays` is set at creation and its changes are left to the
     * backup plan, whose rule has the same number. Defaults to false.
     */
    automatedBackupsManagedByAwsBackup?: boolean;
    /**
     * Protect the data: `protect` on the instance and its log groups, RDS deletion protection, a final snapshot
     * (`<identifier>-final`) and retained automated backups on delete. False only for throw-away stacks.
     */
    protect: boolean;
    /** Database created with the instance. Changing it replaces the instance. */
    databaseName: string;
    /** Master user; its password is generated and rotated by RDS in Secrets Manager. Changing it replaces the instance. */
    masterUsername: string;
    /** Retention of the PostgreSQL and upgrade log groups, in days (a CloudWatch Logs retention period). */
    logRetentionDays: number;
    /** Tags of every taggable child. */
    tags: Record<string, string>;
    /**
     * The instance is a finished move's source, to be deleted when the move is retired: no Pulumi `protect`, no RDS
     * deletion protection; the final snapshot and retained backups stay as `protect` says. Defaults to false.
     */
    retiring?: boolean;
}

/**
 * Logical decoding (`wal_level = logical`) on every instance and cluster that can be a tenant move's source
 * (`npm run move`). A static parameter: AWS accepts it only with `pending-reboot`, and it takes effect at the
 * instance's next reboot (README "Moving a tenant"). Changing a parameter group's parameters updates the group in
 * place (ModifyDBParameterGroup); the instance keeps its group and is neither replaced nor restarted by the deploy.
 */
export const LOGICAL_REPLICATION_PARAMETER = { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" } as const;

const IDENTIFIER_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const PG_IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** `16.6` → `postgres16`: the RDS parameter group family of a PostgreSQL version (10 and later). */
export function parameterGroupFamily(engineVersion: string): string {
    return `postgres${majorVersion(engineVersion)}`;
}

/** `16.6` → `16`. Throws for anything but a PostgreSQL 10+ version. */
export function majorVersion(engineVersion: string): string {
    const m = /^(\d+)(?:\.\d+)?$/.exec(engineVersion);
    if (!m || Number(m[1]) < 10) {
        throw new Error(`engineVersion: '${engineVersion}' is not a supported PostgreSQL version (allowed: 10 and later, such as 16.6)`);
    }
    return m[1]!;
}

/** Every problem of the args, as `field: what is wrong (allowed: …)`; empty when the args are valid. */
export function databaseInstanceProblems(args: DatabaseInstanceArgs): string[] {
    const problems: string[] = [];
    const id = args.identifier;
    if (!IDENTIFIER_PATTERN.test(id) || id.includes("--") || id.endsWith("-")) {
        problems.push(`identifier: '${id}' is not an RDS identifier (allowed: 1 to 63 of a-z, 0-9, '-', starting with a letter, no '--', not ending in '-')`);
    }
    try {
        majorVersion(args.engineVersion);
    } catch (err) {
        problems.push((err as Error).message);
    }
    const days = args.backupRetentionDays;
    if (!Number.isInteger(days) || days < MIN_BACKUP_RETENTION_DAYS || days > MAX_BACKUP_RETENTION_DAYS) {
        problems.push(`backupRetentionDays: ${days} is not allowed (allowed: ${MIN_BACKUP_RETENTION_DAYS} to ${MAX_BACKUP_RETENTION_DAYS})`);
    }
    if (args.maxAllocatedStorageGb < args.allocatedStorageGb) {
        problems.push(`maxAllocatedStorageGb: ${args.maxAllocatedStorageGb} is below allocatedStorageGb (${args.allocatedStorageGb})`);
    }
    if (args.subnetIds.length < 2) problems.push("subnetIds: RDS needs subnets in at least two availability zones");
    if (!PG_IDENTIFIER_PATTERN.test(args.databaseName)) {
        problems.push(`databaseName: '${args.databaseName}' is not a PostgreSQL identifier (allowed: a-z, 0-9, '_', not starting with a digit)`);
    }
    if (!PG_IDENTIFIER_PATTERN.test(args.masterUsername) || /^(rds|pg_)/.test(args.masterUsername)) {
        problems.push(`masterUsername: '${args.masterUsername}' is not allowed (allowed: a-z, 0-9, '_', not starting with a digit, 'rds' or 'pg_')`);
    }
    return problems;
}

/**
 * One RDS for PostgreSQL instance in isolated subnets: encrypted with a customer-managed key, reachable on 5432 only
 * from the given security groups, TLS forced, IAM authentication on, the master password managed by RDS in Secrets
 * Manager, logs exported to encrypted log groups with a retention. Used by hybrid and dedicated tenants.
 */
export class DatabaseInstance extends pulumi.ComponentResource {
    readonly instance: aws.rds.Instance;
    readonly securityGroup: aws.ec2.SecurityGroup;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    /** `address:port`. */
    readonly endpoint: pulumi.Output<string>;
    /** ARN of the RDS-managed master secret (JSON `{username, password}`), encrypted with `kmsKeyArn`. */
    readonly masterSecretArn: pulumi.Output<string>;
    readonly securityGroupId: pulumi.Output<string>;
    /** `db-…` resource id, the one IAM database authentication policies name. */
    readonly resourceId: pulumi.Output<string>;

    constructor(name: string, args: DatabaseInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = databaseInstanceProblems(args);
        if (problems.length) throw new Error(`DatabaseInstance ${name}: ${problems.join("; ")}`);
        super("tenancy:database:DatabaseInstance", name, {}, opts);

        const { region, tags } = args;
        const retiring = args.retiring ?? false;
        const stateful = { parent: this, protect: args.protect && !retiring };

        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            { description: `Isolated subnets of ${args.identifier}`, subnetIds: args.subnetIds, region, tags },
            { parent: this },
        );

        // No egress rule: the provider removes AWS's default allow-all, and PostgreSQL only answers connections.
        this.securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { description: `PostgreSQL ${args.identifier}: 5432 from allowed security groups only`, vpcId: args.vpcId, region, tags },
            { parent: this },
        );
        args.allowedSecurityGroupIds.forEach((source, i) => {
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-ingress-${i}`,
                {
                    securityGroupId: this.securityGroup.id,
                    referencedSecurityGroupId: source,
                    ipProtocol: "tcp",
                    fromPort: 5432,
                    toPort: 5432,
                    description: "PostgreSQL from an allowed client",
                    region,
                    tags,
                },
                { parent: this },
            );
        });

        const parameterGroup = new aws.rds.ParameterGroup(
            `${name}-params`,
            {
                family: parameterGroupFamily(args.engineVersion),
                description: `Hardened PostgreSQL ${majorVersion(args.engineVersion)} for ${args.identifier}`,
                parameters: [
                    { name: "rds.force_ssl", value: "1" },
                    { name: "log_connections", value: "1" },
                    { name: "log_disconnections", value: "1" },
                    { name: "log_min_duration_statement", value: "1000" },
                    { ...LOGICAL_REPLICATION_PARAMETER },
                ],
                region,
                tags,
            },
            { parent: this },
        );

        // RDS writes to these names; created first so they are encrypted, retained and ours rather than RDS's defaults.
        const logGroups = POSTGRES_LOG_EXPORTS.map(
            (kind) =>
                new aws.cloudwatch.LogGroup(
                    `${name}-log-${kind}`,
                    {
                        name: `/aws/rds/instance/${args.identifier}/${kind}`,
                        kmsKeyId: args.kmsKeyArn,
                        retentionInDays: args.logRetentionDays,
                        region,
                        tags,
                    },
                    stateful,
                ),
        );

        // One suffix per incarnation, stable across updates: deleting a re-created instance must not collide with the
        // final snapshot its predecessor left (DBSnapshotAlreadyExists would fail the delete).
        const snapshotSuffix = new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, { parent: this });

        const monitoring = enhancedMonitoringRole(`${name}-monitoring`, tags, { parent: this });

        this.instance = new aws.rds.Instance(
            `${name}-instance`,
            {
                identifier: args.identifier,
                engine: "postgres",
                engineVersion: majorVersion(args.engineVersion),
                autoMinorVersionUpgrade: true,
                allowMajorVersionUpgrade: args.allowMajorVersionUpgrade ?? false,
                instanceClass: args.instanceClass,
                dbName: args.databaseName,
                username: args.masterUsername,
                manageMasterUserPassword: true,
                masterUserSecretKmsKeyId: args.kmsKeyArn,
                iamDatabaseAuthenticationEnabled: true,
                storageType: "gp3",
                allocatedStorage: args.allocatedStorageGb,
                maxAllocatedStorage: args.maxAllocatedStorageGb,
                storageEncrypted: true,
                kmsKeyId: args.kmsKeyArn,
                dbSubnetGroupName: subnetGroup.name,
                vpcSecurityGroupIds: [this.securityGroup.id],
                publiclyAccessible: false,
                multiAz: args.multiAz,
                parameterGroupName: parameterGroup.name,
                caCertIdentifier: "rds-ca-rsa2048-g1",
                backupRetentionPeriod: args.backupRetentionDays,
                copyTagsToSnapshot: true,
                deletionProtection: args.protect && !retiring,
                skipFinalSnapshot: !args.protect,
                finalSnapshotIdentifier: pulumi.interpolate`${args.identifier}-final-${snapshotSuffix.hex}`,
                deleteAutomatedBackups: !args.protect,
                performanceInsightsEnabled: true,
                performanceInsightsKmsKeyId: args.kmsKeyArn,
                performanceInsightsRetentionPeriod: 7,
                monitoringInterval: ENHANCED_MONITORING_INTERVAL_SECONDS,
                monitoringRoleArn: monitoring.role.arn,
                enabledCloudwatchLogsExports: [...POSTGRES_LOG_EXPORTS],
                // A major upgrade runs in this deploy, so the replaced parameter group is free to delete after it.
                applyImmediately: args.allowMajorVersionUpgrade ?? false,
                region,
                tags,
            },
            {
                ...stateful, dependsOn: [...logGroups, monitoring.attachment],
                ...(args.automatedBackupsManagedByAwsBackup ? { ignoreChanges: ["backupRetentionPeriod"] } : {}),
            },
        );

        this.address = this.instance.address;
        this.port = this.instance.port;
        this.endpoint = this.instance.endpoint;
        this.securityGroupId = this.securityGroup.id;
        this.resourceId = this.instance.resourceId;
        this.masterSecretArn = this.instance.masterUserSecrets.apply((secrets) => {
            const arn = secrets[0]?.secretArn;
            if (!arn) throw new Error(`DatabaseInstance ${name}: RDS reported no managed master secret for ${args.identifier}`);
            return arn;
        });

        this.registerOutputs({
            address: this.address,
            port: this.port,
            endpoint: this.endpoint,
            masterSecretArn: this.masterSecretArn,
            securityGroupId: this.securityGroupId,
            resourceId: this.resourceId,
        });
    }
}
