/**
 * The platform: one SharedPlatform "shared" per environment. `declarePlatform` is what the single and the fleet's
 * platform stack (`<env>`) both declare; `platformOutputs` is the platform stack's `platform` output, which cell and
 * tenant stacks read by StackReference (`platformRefsFromOutput`).
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupVaults, type BackupVaultRef } from "../components/backup/vaults";
import { SharedPlatform } from "../components/sharedPlatform";
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
    return { shared, backup };
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
}

type Outputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export function platformOutputs({ shared: platform, backup }: Platform): Outputs<PlatformOutputs> {
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
    };
}

/** What tenants use of the platform, from the component itself (single stack). */
export function platformRefsOf({ shared: platform, backup }: Platform): PlatformRefs {
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
    };
}

/** The fleet's platform stack `<env>`: the platform only. */
export function platformProgram(config: StackConfig, appSecretKey: pulumi.Output<string> | undefined): Record<string, unknown> {
    return { platform: platformOutputs(declarePlatform(config, appSecretKey)) };
}
