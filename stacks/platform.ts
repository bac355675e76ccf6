/**
 * The platform: one SharedPlatform "shared" per environment. `declarePlatform` is what the single and the fleet's
 * platform stack (`<env>`) both declare; `platformOutputs` is the platform stack's `platform` output, which cell and
 * tenant stacks read by StackReference (`platformRefsFromOutput`).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { postgresMajor, schemaDumpImageTag, SchemaDumpStore } from "../components/backup/schemaDumps";
import { BackupVaults, type BackupVaultRef } from "../components/backup/vaults";
import { PlatformMonitoring } from "../components/platformMonitoring";
import { SharedPlatform } from "../components/sharedPlatform";
import { monitoringPlan } from "../model/monitoring";
import type { Tenant } from "../tenants/registry";
import { ownershipTags } from "../components/tags";
import type { PlatformRefs } from "../components/tenant";
import { zoneIdsFor, type StackConfig } from "./config";

/** Logical name of the SharedPlatform in every layout. */
export const PLATFORM_NAME = "shared";

/** What the platform declares: the SharedPlatform, and what the day-two features add under it. */
export interface Platform {
    shared: SharedPlatform;
    /** AWS Backup: a vault per region of the environment and the service role (README "Backups"). */
    backup: BackupVaults;
    /** Logical backups of shared tenants: the dump bucket, its key and image repository; absent when disabled (README). */
    dumps?: SchemaDumpStore;
}

/** The SharedPlatform of the environment, a child of the stack, and the components the platform adds under it. */
export function declarePlatform(config: StackConfig, appSecretKey: pulumi.Output<string> | undefined, opts?: pulumi.ComponentResourceOptions): Platform {
    const shared = new SharedPlatform(PLATFORM_NAME, {
        stack: config.stack,
        domain: config.domain,
        hostedZoneId: config.hostedZoneId,
        vpcCidr: config.shared.vpcCidr,
        availabilityZoneIds: zoneIdsFor(config, config.region, config.shared.availabilityZones),
        natGateways: config.shared.natGateways,
        app: config.shared.app,
        appRepository: config.appRepository,
        releaseVersion: config.channels.stable,
        appSecretKey,
        protect: config.protect,
        logRetentionDays: config.logRetentionDays,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
    }, opts);
    // Under the platform: in a fleet the platform stack still holds the SharedPlatform alone at its top.
    const backup = new BackupVaults(`${PLATFORM_NAME}-backup`, {
        env: config.stack,
        regions: config.allowedRegions,
        protect: config.protect,
        lock: config.backup.vaultLock,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
    }, { parent: shared });
    const dumps = declareSchemaDumps(config, shared.key.arn, { parent: shared });
    return { shared, backup, ...(dumps ? { dumps } : {}) };
}

/** Logical name of the schema dump store (bucket, key, image repository) under the platform, in every layout. */
export const SCHEMA_DUMPS_NAME = `${PLATFORM_NAME}-schema-dumps`;
/** The dump program's build context: this repository's backup/ (Dockerfile and dump.sh). */
export const SCHEMA_DUMP_CONTEXT = path.resolve(__dirname, "..", "backup");

/** The PostgreSQL majors of the environment's cells: one dump image each. */
export function cellMajors(config: StackConfig): string[] {
    return [...new Set(Object.values(config.cells).map((c) => postgresMajor(c.engineVersion)))].sort();
}

/** The environment's schema dump store (README "Logical backups of shared tenants"); none when disabled. */
function declareSchemaDumps(config: StackConfig, repositoryKeyArn: pulumi.Input<string>, opts: pulumi.ComponentResourceOptions): SchemaDumpStore | undefined {
    const dumps = config.backup.shared;
    if (!dumps.enabled) return undefined;
    // The image tag follows the program's content, so a changed script is a new tag in the immutable repository.
    const program = ["Dockerfile", "dump.sh"].map((f) => fs.readFileSync(path.join(SCHEMA_DUMP_CONTEXT, f), "utf8"));
    return new SchemaDumpStore(SCHEMA_DUMPS_NAME, {
        env: config.stack,
        retentionDays: dumps.retentionDays,
        noncurrentVersionDays: dumps.noncurrentVersionDays,
        ...(dumps.infrequentAccessAfterDays !== undefined ? { infrequentAccessAfterDays: dumps.infrequentAccessAfterDays } : {}),
        images: cellMajors(config).map((major) => ({ major, tag: schemaDumpImageTag(major, program) })),
        ...(dumps.buildImage ? { buildContext: SCHEMA_DUMP_CONTEXT } : {}),
        repositoryKeyArn,
        protect: config.protect,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
    }, opts);
}

/** Logical name of the PlatformMonitoring in every layout (under the SharedPlatform, like the backup vaults). */
export const PLATFORM_MONITORING_NAME = `${PLATFORM_NAME}-monitoring`;

/**
 * The environment's monitoring, under the SharedPlatform (the platform stack keeps it alone at its top): an alarm
 * topic per region the stack allows (so a tenant placed in any of them finds one, and adding a tenant adds none) and
 * the fleet overview of every tenant of the registry. Undefined when `tenancy:monitoring.enabled` is false.
 */
export function declarePlatformMonitoring(config: StackConfig, tenants: readonly Tenant[], platform: Platform): PlatformMonitoring | undefined {
    if (!config.monitoring.enabled) return undefined;
    const plans = tenants.map((t) => ({ tenant: t, plan: monitoringPlan(config.stack, t, config.monitoring.thresholds) }));
    return new PlatformMonitoring(PLATFORM_MONITORING_NAME, {
        env: config.stack,
        regions: config.allowedRegions,
        emails: config.monitoring.emails,
        protect: config.protect,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
        overview: {
            tenants: plans.map(({ tenant: t, plan }) => ({
                slug: t.slug, tier: t.tier, status: t.status, region: t.region, releaseVersion: t.release.version,
                ...(plan ? { dashboard: plan.dashboard } : {}),
            })),
            alarms: plans.flatMap(({ plan }) => (plan?.alarms ?? []).map((a) => ({ name: a.name, region: a.region }))),
        },
    }, { parent: platform.shared });
}

/** The platform stack's `platform` output: what cells and tenants use, and what operators need (README). */
export interface PlatformOutputs {
    vpcId: string;
    /** Subnets of the shared VPC, one per AZ, in AZ order. */
    isolatedSubnetIds: string[];
    privateSubnetIds: string[];
    /** AZ names of those subnets, in the same order. */
    availabilityZones: string[];
    appSecurityGroupId: string;
    /** Start the deploy runner with this group: every cell admits it (README "Reaching the shared cluster"). */
    deployRunnerSecurityGroupId: string;
    loadBalancerDnsName: string;
    loadBalancerZoneId: string;
    httpsListenerArn: string;
    repositoryUrl: string;
    keyArn: string;
    imageUri: string;
    registryPath: string;
    /** Route tables of the private subnets (the deploy runner's), in AZ order: a moving dedicated tenant's peering routes. */
    privateRouteTableIds: string[];
    /** Backups: the AWS Backup vault of every region of the environment, and the role selections run as. */
    backupVaults: Record<string, BackupVaultRef>;
    backupRoleArn: string;
    // Logical backups of shared tenants (components/backup/schemaDumps.ts): what each cell's dump job uses, and RESTORE
    // reads dumps from. The schemaBackup* fields are absent when `tenancy:backup.shared.enabled` is false.
    /** The platform's ECS cluster: where the cells' dump tasks run. */
    ecsClusterArn: string;
    /** Dump bucket: `<cell>/<slug>/<UTC yyyy-mm-ddThh-mm-ssZ>.dump` and its `.json` manifest. */
    schemaBackupBucket?: string;
    schemaBackupBucketArn?: string;
    /** The bucket's KMS key: reading a dump needs kms:Decrypt on it. */
    schemaBackupKeyArn?: string;
    /** Dump image URI per PostgreSQL major of the cells (`16` → `<repository>:pg16-…`). */
    schemaBackupImages?: Record<string, string>;
    /** Monitoring: the alarm topic ARN per region ({} with monitoring off), its key ARN per region, the shared app's log group. */
    alarmTopics: Record<string, string>;
    alarmKeyArns: Record<string, string>;
    appLogGroupName: string;
}

type Outputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export function platformOutputs({ shared: platform, backup, dumps }: Platform, monitoring?: PlatformMonitoring): Outputs<PlatformOutputs> {
    return {
        vpcId: platform.network.vpcId,
        isolatedSubnetIds: pulumi.all(platform.network.isolatedSubnetIds),
        privateSubnetIds: pulumi.all(platform.network.privateSubnetIds),
        availabilityZones: platform.network.availabilityZones,
        appSecurityGroupId: platform.app.securityGroupId,
        deployRunnerSecurityGroupId: platform.deployRunnerSecurityGroupId,
        loadBalancerDnsName: platform.loadBalancer.dnsName,
        loadBalancerZoneId: platform.loadBalancer.zoneId,
        httpsListenerArn: platform.loadBalancer.httpsListenerArn,
        repositoryUrl: platform.repository.repositoryUrl,
        keyArn: platform.key.arn,
        imageUri: platform.imageUri,
        registryPath: platform.registryPath,
        privateRouteTableIds: pulumi.all(platform.network.privateRouteTableIds),
        backupVaults: pulumi.all(backup.vaults),
        backupRoleArn: backup.roleArn,
        // Monitoring before the dumps' fields, which tests/backup/dumpStacks.test.ts keeps last (absent with dumps off).
        alarmTopics: monitoring?.alarmTopics ?? {},
        alarmKeyArns: monitoring?.alarmKeyArns ?? {},
        appLogGroupName: platform.app.logGroupName,
        ecsClusterArn: platform.ecsClusterArn,
        ...(dumps ? {
            schemaBackupBucket: dumps.bucketName,
            schemaBackupBucketArn: dumps.bucketArn,
            schemaBackupKeyArn: dumps.keyArn,
            schemaBackupImages: pulumi.all(dumps.images),
        } : {}),
    };
}

/** What tenants use of the platform, from the component itself (single stack). */
export function platformRefsOf({ shared: platform, backup }: Platform, monitoring?: PlatformMonitoring): PlatformRefs {
    return {
        vpcId: platform.network.vpcId,
        isolatedSubnetIds: platform.network.isolatedSubnetIds,
        privateSubnetIds: platform.network.privateSubnetIds,
        appSecurityGroupId: platform.app.securityGroupId,
        loadBalancerDnsName: platform.loadBalancer.dnsName,
        loadBalancerZoneId: platform.loadBalancer.zoneId,
        httpsListenerArn: platform.loadBalancer.httpsListenerArn,
        repositoryUrl: platform.repository.repositoryUrl,
        keyArn: platform.key.arn,
        deployRunnerSecurityGroupId: platform.deployRunnerSecurityGroupId,
        privateRouteTableIds: platform.network.privateRouteTableIds,
        backupVaults: pulumi.all(backup.vaults),
        backupRoleArn: backup.roleArn,
        alarmTopics: monitoring?.alarmTopics ?? {},
        alarmKeyArns: monitoring?.alarmKeyArns ?? {},
        appLogGroupName: platform.app.logGroupName,
    };
}

/**
 * What tenants use of the platform, from the platform stack's output. Subnet lists are as long as the shared VPC has
 * AZs (`subnets`, from the config): components check their length before anything is registered.
 */
export function platformRefsFromOutput(output: pulumi.Output<PlatformOutputs>, subnets: number): PlatformRefs {
    const field = <K extends keyof PlatformOutputs>(k: K) => output.apply((p) => p[k]);
    const each = (k: "isolatedSubnetIds" | "privateSubnetIds" | "privateRouteTableIds") => Array.from({ length: subnets }, (_, i) => output.apply((p) => p[k][i]!));
    return {
        vpcId: field("vpcId"),
        isolatedSubnetIds: each("isolatedSubnetIds"),
        privateSubnetIds: each("privateSubnetIds"),
        appSecurityGroupId: field("appSecurityGroupId"),
        loadBalancerDnsName: field("loadBalancerDnsName"),
        loadBalancerZoneId: field("loadBalancerZoneId"),
        httpsListenerArn: field("httpsListenerArn"),
        repositoryUrl: field("repositoryUrl"),
        keyArn: field("keyArn"),
        deployRunnerSecurityGroupId: field("deployRunnerSecurityGroupId"),
        privateRouteTableIds: each("privateRouteTableIds"),
        backupVaults: field("backupVaults"),
        backupRoleArn: field("backupRoleArn"),
        // A platform stack deployed before monitoring has none: the tenant's monitoring then says to deploy it first.
        alarmTopics: output.apply((p) => p.alarmTopics ?? {}),
        alarmKeyArns: output.apply((p) => p.alarmKeyArns ?? {}),
        appLogGroupName: field("appLogGroupName"),
    };
}

/** The fleet's platform stack `<env>`: the platform and its monitoring (whose overview lists every tenant of the registry). */
export function platformProgram(config: StackConfig, appSecretKey: pulumi.Output<string> | undefined, tenants: readonly Tenant[]): Record<string, unknown> {
    const platform = declarePlatform(config, appSecretKey);
    return { platform: platformOutputs(platform, declarePlatformMonitoring(config, tenants, platform)) };
}
