/**
 * Shared database cells: one DatabaseCell "cell-<name>" per cell of the config. `declareCell` is what the single stack
 * (every cell) and a fleet's cell stack (`<env>.cell-<name>`, one cell) both declare; `cellOutputs` is the cell stack's
 * `cell` output, which the cell's tenant stacks read by StackReference (`cellRefsFromOutput`).
 */
import * as aws from "@pulumi/aws";
import type * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { postgresMajor, SchemaDumpJob } from "../components/backup/schemaDumps";
import { CELL_MASTER_USERNAME, cellPostgresProvider, DatabaseCell } from "../components/databaseCell";
import { ownershipTags } from "../components/tags";
import type { CellRefs } from "../components/tenant";
import { CELL_STACK_PREFIX } from "../model/fleet";
import type { StackConfig } from "./config";
import type { PlatformOutputs } from "./platform";

/** Logical name of a cell's component in every layout: `cell-<name>`. */
export function cellComponentName(cell: string): string {
    return `${CELL_STACK_PREFIX}${cell}`;
}

/** What a cell uses of the platform. */
export interface CellPlatformInputs {
    vpcId: pulumi.Input<string>;
    isolatedSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    availabilityZones: pulumi.Input<string[]>;
    appSecurityGroupId: pulumi.Input<string>;
    deployRunnerSecurityGroupId: pulumi.Input<string>;
    keyArn: pulumi.Input<string>;
}

/**
 * The DatabaseCell of `cell`, a child of the stack. `formerPlatform` gives its children aliases to where the code before
 * cells kept them (under the SharedPlatform of that name): the single stack sets it for cell `main`.
 */
export function declareCell(
    config: StackConfig, cell: string, platform: CellPlatformInputs, extra: { formerPlatform?: string } = {}, opts?: pulumi.ComponentResourceOptions,
): DatabaseCell {
    const database = config.cells[cell];
    if (!database) throw new Error(`cell ${cell} is not declared (cells: ${Object.keys(config.cells).join(", ")})`);
    return new DatabaseCell(cellComponentName(cell), {
        env: config.stack,
        cell,
        database,
        vpcId: platform.vpcId,
        isolatedSubnetIds: platform.isolatedSubnetIds,
        availabilityZones: platform.availabilityZones,
        appSecurityGroupId: platform.appSecurityGroupId,
        deployRunnerSecurityGroupId: platform.deployRunnerSecurityGroupId,
        kmsKeyArn: platform.keyArn,
        protect: config.protect,
        logRetentionDays: config.logRetentionDays,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
        ...extra,
    }, opts);
}

/** What a cell's schema dump job uses of the platform and its dump store. */
export interface CellDumpInputs {
    vpcId: pulumi.Input<string>;
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The platform key: the job's login secret and its log group. */
    keyArn: pulumi.Input<string>;
    ecsClusterArn: pulumi.Input<string>;
    bucket: { name: pulumi.Input<string>; arn: pulumi.Input<string>; keyArn: pulumi.Input<string> };
    /** The dump image of the cell's PostgreSQL major. */
    image: pulumi.Input<string>;
    /** The environment's alarm topic in the stack's region (PlatformOutputs `alarmTopics`); no alarm without it (monitoring off). */
    alarmTopicArn?: pulumi.Input<string>;
}

/** Logical name of a cell's dump job in every layout: `cell-<name>-dumps`, beside the cell. */
export function cellDumpsName(cell: string): string {
    return `${cellComponentName(cell)}-dumps`;
}

/** The scheduled schema dump of `cell` (README "Logical backups of shared tenants"), a child of the stack beside the cell. */
export function declareCellDumps(config: StackConfig, cell: string, component: DatabaseCell, platform: CellDumpInputs, opts?: pulumi.ComponentResourceOptions): SchemaDumpJob {
    const dumps = config.backup.shared;
    const job = new SchemaDumpJob(cellDumpsName(cell), {
        env: config.stack,
        cell,
        image: platform.image,
        clusterArn: platform.ecsClusterArn,
        vpcId: platform.vpcId,
        subnetIds: platform.privateSubnetIds,
        databaseSecurityGroupId: component.securityGroupId,
        database: { host: component.host, port: component.port, name: component.databaseName },
        login: { username: component.hardening.backupRoleName, secretArn: component.hardening.backupSecretArn },
        secretKmsKeyArn: platform.keyArn,
        bucket: platform.bucket,
        schedule: dumps.schedule,
        timezone: dumps.timezone,
        cpu: dumps.cpu,
        memory: dumps.memory,
        ephemeralStorageGiB: dumps.ephemeralStorageGiB,
        logRetentionDays: config.logRetentionDays,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
    }, opts);
    if (platform.alarmTopicArn !== undefined) {
        // backup/dump.sh puts Failures (tenants that failed, 1 when the job could not start) after every run: any
        // failure alarms; no run means no data, which this alarm does not see (README "Known limitations").
        new aws.cloudwatch.MetricAlarm(`${cellDumpsName(cell)}-failed`, {
            name: `tenancy-${config.stack}-${cellDumpsName(cell)}-failed`,
            alarmDescription: `Schema dumps of cell ${cell} (${config.stack}): a run failed for at least one shared tenant; its log group names them (README "Logical backups of shared tenants")`,
            namespace: "Tenancy/SchemaDumps",
            metricName: "Failures",
            dimensions: { Stack: config.stack, Cell: cell },
            statistic: "Maximum",
            period: 3600,
            evaluationPeriods: 1,
            threshold: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            treatMissingData: "notBreaching",
            alarmActions: [platform.alarmTopicArn],
            okActions: [platform.alarmTopicArn],
            tags: ownershipTags({ stack: config.stack, tier: "platform" }),
        }, { parent: job });
    }
    return job;
}

/** The major version of a cell's engine: which dump image its job runs. */
export function cellMajor(config: StackConfig, cell: string): string {
    return postgresMajor(config.cells[cell]!.engineVersion);
}

/** A cell stack's `cell` output: what its tenant stacks connect with, and what operators need. */
export interface CellOutputs {
    host: string;
    port: number;
    databaseName: string;
    groupRoleName: string;
    reportingRoleName: string;
    masterUsername: string;
    /** Only with `adminAuth: password`, as a secret: the tenant stacks' PostgreSQL provider logs in with it. */
    masterPassword?: string;
    /** The resource of the deploy role's `rds-db:connect` permission (README "Reaching the shared cluster"). */
    adminConnectArn: string;
    adminSecretArn: string;
}

type Outputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Where a cell's tenants connect and which roles they join: the same in its outputs and in-stack references. */
function cellConnection(cell: DatabaseCell) {
    return {
        host: cell.host,
        port: cell.port,
        databaseName: cell.databaseName,
        groupRoleName: cell.hardening.groupRoleName,
        reportingRoleName: cell.hardening.reportingRoleName,
    };
}

/** The cell's outputs; the master password only where tenant stacks need it (`adminAuth: password`), as a secret. */
export function cellOutputs(cell: DatabaseCell, config: StackConfig, name: string, withPassword: boolean): Outputs<CellOutputs> {
    const password = withPassword && config.cells[name]?.adminAuth !== "iam";
    return {
        ...cellConnection(cell),
        masterUsername: cell.masterUsername,
        ...(password ? { masterPassword: pulumi.secret(cell.masterPassword) } : {}),
        adminConnectArn: cell.adminConnectArn,
        adminSecretArn: cell.adminSecretArn,
    };
}

/** What a shared tenant uses of its cell, from the component itself (single stack): its SQL waits for the cell. */
export function cellRefsOf(cell: DatabaseCell, access?: { adminAuth?: "iam" | "password" }): CellRefs {
    return {
        ...cellConnection(cell),
        provider: cell.postgresProvider,
        ready: cell.ready,
        adminSecretArn: cell.adminSecretArn,
        ...(access?.adminAuth === "iam" ? { iamUser: cell.masterUsername } : {}),
    };
}

/**
 * What a shared tenant uses of its cell, from the cell stack's output, with the tenant stack's own PostgreSQL provider
 * for it (`providerName`): the cell's admin access settings from the config, the master password (a secret) or an IAM
 * token for the environment's region.
 */
export function cellRefsFromOutput(
    config: StackConfig, cell: string, output: pulumi.Output<CellOutputs>, providerName: string, opts: pulumi.CustomResourceOptions,
): CellRefs {
    const database = config.cells[cell]!;
    // The output holds the master password, so Pulumi marks all of it secret; only the password is.
    const field = <K extends keyof CellOutputs>(k: K) => pulumi.unsecret(output.apply((c) => c[k]));
    const provider: postgresql.Provider = cellPostgresProvider(providerName, {
        access: database,
        host: field("host"),
        port: field("port"),
        databaseName: database.name,
        masterPassword: pulumi.secret(output.apply((c) => c.masterPassword ?? "")),
        region: config.region,
    }, opts);
    return {
        host: field("host"),
        port: field("port"),
        databaseName: database.name,
        groupRoleName: field("groupRoleName"),
        reportingRoleName: field("reportingRoleName"),
        provider,
        adminSecretArn: field("adminSecretArn"),
        ...(database.adminAuth === "iam" ? { iamUser: CELL_MASTER_USERNAME } : {}),
    };
}

/** The fleet's cell stack `<env>.cell-<name>`: the cell only, on the platform read from the platform stack. */
export function cellProgram(
    config: StackConfig, cell: string, platformStack: pulumi.StackReference, provider: aws.Provider,
): Record<string, unknown> {
    const platform = platformStack.requireOutput("platform") as pulumi.Output<PlatformOutputs>;
    const component = declareCell(config, cell, {
        vpcId: platform.apply((p) => p.vpcId),
        isolatedSubnetIds: platform.apply((p) => p.isolatedSubnetIds),
        availabilityZones: platform.apply((p) => p.availabilityZones),
        appSecurityGroupId: platform.apply((p) => p.appSecurityGroupId),
        deployRunnerSecurityGroupId: platform.apply((p) => p.deployRunnerSecurityGroupId),
        keyArn: platform.apply((p) => p.keyArn),
    }, {}, { providers: [provider] });
    if (config.backup.shared.enabled) {
        // Written by a platform stack deployed with dumps enabled (the fleet deploys the platform first).
        const dumpField = <K extends keyof PlatformOutputs>(k: K): pulumi.Output<NonNullable<PlatformOutputs[K]>> => platform.apply((p) => {
            const value = p[k];
            if (value === undefined || value === null) throw new Error(`the platform stack ${config.stack} has no output platform.${String(k)}: deploy it first (tenancy:backup.shared.enabled)`);
            return value as NonNullable<PlatformOutputs[K]>;
        }) as pulumi.Output<NonNullable<PlatformOutputs[K]>>;
        declareCellDumps(config, cell, component, {
            vpcId: platform.apply((p) => p.vpcId),
            privateSubnetIds: platform.apply((p) => p.privateSubnetIds),
            keyArn: platform.apply((p) => p.keyArn),
            ecsClusterArn: dumpField("ecsClusterArn"),
            bucket: { name: dumpField("schemaBackupBucket"), arn: dumpField("schemaBackupBucketArn"), keyArn: dumpField("schemaBackupKeyArn") },
            image: dumpField("schemaBackupImages").apply((images) => {
                const image = images[cellMajor(config, cell)];
                // A cell moved to a new major before the platform stack was deployed with it.
                if (!image) throw new Error(`the platform stack ${config.stack} has no dump image for PostgreSQL ${cellMajor(config, cell)} (platform.schemaBackupImages): deploy it first`);
                return image;
            }),
            ...(config.monitoring.enabled ? {
                alarmTopicArn: platform.apply((p) => {
                    const topic = p.alarmTopics?.[config.region];
                    if (!topic) throw new Error(`the platform stack ${config.stack} has no output platform.alarmTopics.${config.region}: deploy it first (tenancy:monitoring.enabled)`);
                    return topic;
                }),
            } : {}),
        }, { providers: [provider] });
    }
    return { cell: cellOutputs(component, config, cell, true) };
}
