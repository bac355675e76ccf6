import * as aws from "@pulumi/aws";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { credentialsSecret } from "./credentialsSecret";
import { DatabaseHardening } from "./databaseHardening";
import { LOGICAL_REPLICATION_PARAMETER } from "./databaseInstance";
import { ENHANCED_MONITORING_INTERVAL_SECONDS, enhancedMonitoringRole } from "./monitoring";
import { CELL_NAME_PATTERN } from "../model/fleet";
import { cellNaming, tenantSecretName } from "./naming";

/** Type token of the cell component: the same in the single and the fleet layout. */
export const DATABASE_CELL_TYPE = "tenancy:cell:DatabaseCell";

/** The cluster's master user: the PostgreSQL provider's login (not a superuser on Aurora). */
export const CELL_MASTER_USERNAME = "tenancy_admin";

/** Where the RDS CA bundle is unless the config says otherwise (README "Reaching the shared cluster"). */
export const DEFAULT_ADMIN_TLS = { mode: "verify-full", rootCertPath: "/tmp/rds-global-bundle.pem" } as const;

/** How the PostgreSQL provider reaches a cell's cluster from where `pulumi up` runs. */
export interface CellAdminAccess {
    /** Host and port the PostgreSQL provider connects to instead of the cluster endpoint. Defaults to the endpoint. */
    adminHost?: string;
    adminPort?: number;
    /** `iam`: the provider logs in with an IAM token (the master user holds `rds_iam`); `password`: with the master password. Defaults to `password`. */
    adminAuth?: "iam" | "password";
    /** TLS of the provider: verify the server certificate against this CA bundle. Defaults to verify-full, /tmp/rds-global-bundle.pem. */
    adminTls?: { mode: "verify-full" | "verify-ca"; rootCertPath: string };
}

/** The cluster settings of one cell: `tenancy:shared.database` with the cell's overrides (stacks/config.ts). */
export interface CellDatabaseSettings extends CellAdminAccess {
    /** Aurora PostgreSQL engine version, e.g. `16.6`: the creation version, and the target of a major upgrade. */
    engineVersion: string;
    /** Send `engineVersion` to the cluster, allowing a major upgrade (see the stack config). Defaults to false. */
    allowMajorVersionUpgrade?: boolean;
    /** Serverless v2 capacity range in ACUs; used when `instanceClass` is unset. */
    minCapacity?: number;
    maxCapacity?: number;
    /** Provisioned instance class; when set, instances use it instead of `db.serverless`. */
    instanceClass?: string;
    /** Reader instances besides the writer, spread over the other AZs. */
    readers: number;
    /** Name of the application database. */
    name: string;
    /**
     * Further sources of `pulumi up` (a tunnel host, a tooling VPC): one ingress rule on 5432 into the cluster's security
     * group per security group ID and per private CIDR block. Defaults to none (the deploy runner's group is always admitted).
     */
    adminIngress?: { securityGroupIds: string[]; cidrBlocks: string[] };
    backupRetentionDays: number;
}

export interface DatabaseCellArgs {
    /** The environment (`config.stack`): part of the cluster identifier and the secrets' names. */
    env: string;
    /** The cell's name; `main` keeps the physical names the shared cluster had before cells (components/naming.ts). */
    cell: string;
    database: CellDatabaseSettings;
    /** The shared VPC. */
    vpcId: pulumi.Input<string>;
    /** Isolated subnets of the shared VPC, in at least two AZs: the cluster's subnet group. */
    isolatedSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** AZ names of those subnets, in subnet order: the writer takes the first, readers the others in turn. */
    availabilityZones: pulumi.Input<string[]>;
    /** Security group of the shared app's tasks: admitted on 5432. */
    appSecurityGroupId: pulumi.Input<string>;
    /** Security group of the deploy runner (where `pulumi up` runs): admitted on 5432, and given an egress rule to this cell. */
    deployRunnerSecurityGroupId: pulumi.Input<string>;
    /** The platform's customer-managed key: storage, Performance Insights, logs and secrets. */
    kmsKeyArn: pulumi.Input<string>;
    /** Protect the cluster, its instances, logs, secrets and the database's roles; deletion protection and a final snapshot. */
    protect: boolean;
    /** Retention of the cluster's log group, in days. */
    logRetentionDays: number;
    tags: Record<string, string>;
    /**
     * Name of the `tenancy:platform:SharedPlatform` that held this cluster before cells (`shared`): every child then
     * carries an alias to its former name and parent, so a single stack made by that code keeps its cluster, secrets and
     * roles. Set by the single-stack program for cell `main` only. Defaults to none (no aliases).
     */
    formerPlatform?: string;
}

/**
 * One shared database cell: an Aurora PostgreSQL cluster (parameter group, subnet group, security group and its rules,
 * log group, writer and readers with enhanced monitoring, master password and admin secret), the PostgreSQL provider
 * that manages it from where `pulumi up` runs, and its {@link DatabaseHardening}. Shared tenants' schemas live here.
 */
export class DatabaseCell extends pulumi.ComponentResource {
    readonly cluster: aws.rds.Cluster;
    /** The writer instance: nothing answers on the cluster endpoint before it is available. */
    readonly writer: aws.rds.ClusterInstance;
    readonly securityGroupId: pulumi.Output<string>;
    readonly host: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName: string;
    readonly masterUsername: string;
    /** The master password (secret): the provider's login with `adminAuth: password`, and a fleet tenant stack's. */
    readonly masterPassword: pulumi.Output<string>;
    /** The `rds-db:connect` resource of the master user: what the deploy role needs when `adminAuth` is `iam`. */
    readonly adminConnectArn: pulumi.Output<string>;
    readonly adminSecretArn: pulumi.Output<string>;
    readonly postgresProvider: postgresql.Provider;
    readonly hardening: DatabaseHardening;
    /** What tenant SQL must wait for in the same stack: the writer and the hardening. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: DatabaseCellArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = databaseCellProblems(args);
        if (problems.length) throw new Error(`DatabaseCell ${name}: ${problems.join("; ")}`);
        super(DATABASE_CELL_TYPE, name, {}, opts);
        const { protect, tags, database } = args;
        const naming = cellNaming(args.env, args.cell);
        // Children of the cell `main` of a single stack made before cells lived under SharedPlatform as `<platform>-…`.
        const formerParent = args.formerPlatform === undefined ? undefined : pulumi.createUrn(args.formerPlatform, "tenancy:platform:SharedPlatform");
        const aliases = (logicalName: string): pulumi.Input<pulumi.Alias>[] =>
            formerParent ? [{ name: `${args.formerPlatform}${logicalName.slice(name.length)}`, parent: formerParent }] : [];
        const child = (logicalName: string) => ({ parent: this, aliases: aliases(logicalName) });
        const stateful = (logicalName: string) => ({ ...child(logicalName), protect });

        // The master password comes from random so the PostgreSQL provider can use it; it is also kept in Secrets Manager.
        const masterPassword = new random.RandomPassword(`${name}-db-master-password`, { length: 40, special: false }, child(`${name}-db-master-password`));
        const sg = new aws.ec2.SecurityGroup(`${name}-db-sg`, {
            vpcId: args.vpcId,
            description: "Shared Aurora cluster: PostgreSQL from the shared app only",
            tags: { ...tags, Name: `${name}-db` },
        }, child(`${name}-db-sg`));
        const subnetGroup = new aws.rds.SubnetGroup(`${name}-db-subnets`, {
            subnetIds: args.isolatedSubnetIds,
            description: "Isolated subnets of the shared VPC",
            tags,
        }, child(`${name}-db-subnets`));
        const parameterGroup = new aws.rds.ClusterParameterGroup(`${name}-db-params`, {
            family: `aurora-postgresql${database.engineVersion.split(".")[0]}`,
            description: "tenancy shared cluster: TLS required, connections logged",
            parameters: [
                { name: "rds.force_ssl", value: "1" },
                { name: "log_connections", value: "1" },
                { name: "log_disconnections", value: "1" },
                // A move's source needs logical decoding; static, so it waits for the next reboot (README "Moving a tenant").
                { ...LOGICAL_REPLICATION_PARAMETER },
            ],
            tags,
        }, child(`${name}-db-params`));
        const serverless = !database.instanceClass;
        // A fixed identifier lets us own the log group Aurora exports to: encrypted and with retention, not RDS's default.
        const clusterIdentifier = naming.clusterIdentifier;
        const clusterLogs = new aws.cloudwatch.LogGroup(`${name}-db-logs`, {
            name: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
            kmsKeyId: args.kmsKeyArn,
            retentionInDays: args.logRetentionDays,
            tags,
        }, stateful(`${name}-db-logs`));
        // One suffix per incarnation: a rebuilt cluster's deletion must not collide with an earlier final snapshot.
        const snapshotSuffix = new random.RandomId(`${name}-db-final-snapshot`, { byteLength: 4 }, child(`${name}-db-final-snapshot`));
        const majorUpgrade = database.allowMajorVersionUpgrade ?? false;
        this.cluster = new aws.rds.Cluster(`${name}-db`, {
            clusterIdentifier,
            engine: "aurora-postgresql",
            engineMode: "provisioned",
            engineVersion: database.engineVersion,
            databaseName: database.name,
            masterUsername: CELL_MASTER_USERNAME,
            masterPassword: masterPassword.result,
            storageEncrypted: true,
            kmsKeyId: args.kmsKeyArn,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [sg.id],
            dbClusterParameterGroupName: parameterGroup.name,
            backupRetentionPeriod: database.backupRetentionDays,
            preferredBackupWindow: "03:00-04:00",
            copyTagsToSnapshot: true,
            deletionProtection: protect,
            skipFinalSnapshot: !protect,
            finalSnapshotIdentifier: pulumi.interpolate`${clusterIdentifier}-final-${snapshotSuffix.hex}`,
            iamDatabaseAuthenticationEnabled: true,
            enabledCloudwatchLogsExports: ["postgresql"],
            ...(serverless ? { serverlessv2ScalingConfiguration: { minCapacity: database.minCapacity!, maxCapacity: database.maxCapacity! } } : {}),
            allowMajorVersionUpgrade: majorUpgrade,
            // A major upgrade runs in this deploy: pending, it would keep the replaced parameter group attached when
            // Pulumi deletes it. Otherwise changes wait for the maintenance window.
            applyImmediately: majorUpgrade,
            tags,
        // RDS applies minor upgrades itself; re-sending the configured older minor would be a downgrade RDS refuses
        // ("Cannot upgrade aurora-postgresql from 16.x to 16.6"), so engineVersion is ignored unless an upgrade is asked for.
        }, { ...stateful(`${name}-db`), ...(majorUpgrade ? {} : { ignoreChanges: ["engineVersion"] }), dependsOn: [clusterLogs] });
        const monitoring = enhancedMonitoringRole(`${name}-db-monitoring`, tags, child(`${name}-db-monitoring`));
        const instances: aws.rds.ClusterInstance[] = [];
        for (let i = 0; i <= database.readers; i++) {
            const instanceName = `${name}-db-${i === 0 ? "writer" : `reader-${i}`}`;
            instances.push(new aws.rds.ClusterInstance(instanceName, {
                clusterIdentifier: this.cluster.id,
                // No engineVersion: instances run the cluster's version, and a copy here would only go stale.
                engine: "aurora-postgresql",
                instanceClass: database.instanceClass ?? "db.serverless",
                // Readers go to other AZs than the writer so a zone failure leaves a promotable copy.
                availabilityZone: pulumi.output(args.availabilityZones).apply((zones) => zones[i % zones.length]!),
                publiclyAccessible: false,
                dbSubnetGroupName: subnetGroup.name,
                autoMinorVersionUpgrade: true,
                performanceInsightsEnabled: true,
                performanceInsightsKmsKeyId: args.kmsKeyArn,
                performanceInsightsRetentionPeriod: 7,
                monitoringInterval: ENHANCED_MONITORING_INTERVAL_SECONDS,
                monitoringRoleArn: monitoring.role.arn,
                promotionTier: i,
                tags,
            }, { ...stateful(instanceName), dependsOn: [monitoring.attachment] }));
        }
        this.writer = instances[0]!;
        this.securityGroupId = sg.id;
        this.host = this.cluster.endpoint;
        this.port = this.cluster.port;
        this.databaseName = database.name;
        this.masterUsername = CELL_MASTER_USERNAME;
        this.masterPassword = masterPassword.result;
        this.adminSecretArn = credentialsSecret(`${name}-db-admin-secret`, {
            secretName: tenantSecretName(args.env, naming.secretOwner, "db-admin"),
            description: "Shared Aurora cluster master credentials",
            kmsKeyId: args.kmsKeyArn,
            tags,
            host: this.host,
            port: this.port,
            dbname: this.databaseName,
            username: CELL_MASTER_USERNAME,
            password: masterPassword.result,
        }, { parent: this, protect, aliases }).arn;

        const invoke = { parent: this };
        const partition = aws.getPartitionOutput({}, invoke).partition;
        const account = aws.getCallerIdentityOutput({}, invoke).accountId;
        const region = aws.getRegionOutput({}, invoke).region;
        this.adminConnectArn = pulumi.interpolate`arn:${partition}:rds-db:${region}:${account}:dbuser:${this.cluster.clusterResourceId}/${CELL_MASTER_USERNAME}`;

        // Who reaches the cluster on 5432: the shared app, the deploy runner, and what adminIngress lists.
        const into = (ruleName: string, source: { referencedSecurityGroupId: pulumi.Input<string> } | { cidrIpv4: string }, description: string) =>
            new aws.vpc.SecurityGroupIngressRule(ruleName, {
                securityGroupId: sg.id, ...source, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, description, tags,
            }, child(ruleName));
        into(`${name}-db-from-app`, { referencedSecurityGroupId: args.appSecurityGroupId }, "PostgreSQL from the shared app");
        into(`${name}-db-from-deploy-runner`, { referencedSecurityGroupId: args.deployRunnerSecurityGroupId }, "PostgreSQL from the deploy runner (pulumi up)");
        const ingress = database.adminIngress ?? { securityGroupIds: [], cidrBlocks: [] };
        for (const id of ingress.securityGroupIds) into(`${name}-db-from-admin-${id}`, { referencedSecurityGroupId: id }, "PostgreSQL from an admin security group (pulumi up)");
        for (const cidr of ingress.cidrBlocks) into(`${name}-db-from-admin-${cidr.replace("/", "-")}`, { cidrIpv4: cidr }, "PostgreSQL from the deploy network (pulumi up)");
        // The runner's group admits nothing and sends only what it is given: PostgreSQL to each cell, HTTPS (the platform's rule).
        new aws.vpc.SecurityGroupEgressRule(`${name}-deploy-runner-to-db`, {
            securityGroupId: args.deployRunnerSecurityGroupId,
            referencedSecurityGroupId: sg.id,
            ipProtocol: "tcp",
            fromPort: 5432,
            toPort: 5432,
            description: "PostgreSQL to the shared cluster",
            tags,
        }, child(`${name}-deploy-runner-to-db`));

        // The provider reaches the cluster from where `pulumi up` runs (README "Reaching the shared cluster"): a runner in
        // the VPC or a tunnel, admitted by the rules above, verifying the RDS certificate, ideally with an IAM token.
        this.postgresProvider = cellPostgresProvider(`${name}-pg`, {
            access: database,
            host: this.host,
            port: this.port,
            databaseName: database.name,
            masterPassword: masterPassword.result,
            region,
        // The cluster is "available" long before its writer: SQL sent earlier finds no one listening on the endpoint.
        }, { ...child(`${name}-pg`), dependsOn: [this.writer] });
        this.hardening = new DatabaseHardening(`${name}-hardening`, {
            databaseName: database.name,
            stack: args.env,
            secretOwner: naming.secretOwner,
            secretKmsKeyId: args.kmsKeyArn,
            host: this.host,
            port: this.port,
            protect,
            tags,
        // Its children inherit this alias (their names start with the component's), as the engine derives them.
        }, { ...child(`${name}-hardening`), provider: this.postgresProvider, dependsOn: [this.writer] });
        this.ready = [this.writer, ...this.hardening.ready];

        this.registerOutputs({
            clusterEndpoint: this.host,
            adminConnectArn: this.adminConnectArn,
            adminSecretArn: this.adminSecretArn,
        });
    }
}

/** What {@link cellPostgresProvider} needs: the cell's admin access settings and its cluster's coordinates. */
export interface CellPostgresProviderArgs {
    access: CellAdminAccess;
    /** The cluster's writer endpoint and port (`adminHost`/`adminPort` take precedence). */
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    databaseName: pulumi.Input<string>;
    /** The master password; not sent with `adminAuth: iam`. */
    masterPassword: pulumi.Input<string>;
    /** The cluster's region, for IAM tokens. */
    region: pulumi.Input<string>;
}

/**
 * The PostgreSQL provider of a cell, logged in as the master user (not a superuser on Aurora) with TLS verified against
 * the RDS CA bundle: with an IAM token for `region` (`adminAuth: iam`, no password held) or the master password. One
 * definition for the cell's own provider and for a fleet tenant stack's provider of its cell.
 */
export function cellPostgresProvider(name: string, args: CellPostgresProviderArgs, opts: pulumi.CustomResourceOptions): postgresql.Provider {
    const tls = args.access.adminTls ?? DEFAULT_ADMIN_TLS;
    const iam = args.access.adminAuth === "iam";
    return new postgresql.Provider(name, {
        host: args.access.adminHost ?? args.host,
        port: args.access.adminPort ?? args.port,
        username: CELL_MASTER_USERNAME,
        // The token is signed for host:port and the region; the master user must hold rds_iam (a one-time grant).
        ...(iam ? { awsRdsIamAuth: true, awsRdsIamRegion: args.region } : { password: args.masterPassword }),
        database: args.databaseName,
        sslmode: tls.mode,
        sslrootcert: tls.rootCertPath,
        superuser: false,
        connectTimeout: 15,
    }, opts);
}

/** Checks of a cell's arguments that need no engine: every problem, before anything is registered. */
export function databaseCellProblems(args: Pick<DatabaseCellArgs, "cell" | "database">): string[] {
    const problems: string[] = [];
    if (!CELL_NAME_PATTERN.test(args.cell)) problems.push(`cell: '${args.cell}' is not a cell name (allowed: a lower-case letter, then up to 11 letters or digits)`);
    const d = args.database;
    if (!d.instanceClass && (d.minCapacity === undefined || d.maxCapacity === undefined)) {
        problems.push("database: set minCapacity and maxCapacity (Serverless v2) or instanceClass");
    }
    if (!Number.isInteger(d.readers) || d.readers < 0) problems.push(`database.readers: ${d.readers} is not allowed (allowed: a whole number, 0 or more)`);
    return problems;
}
