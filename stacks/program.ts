import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SharedPlatform } from "../components/sharedPlatform";
import { TenantResources } from "../components/tenant";
import { listenerRulePriority } from "../components/dns";
import { ownershipTags } from "../components/tags";
import { RegistryError } from "../tenants/problems";
import { zoneIdsFor } from "./config";
import { readStack } from "./readConfig";

/** Repository root: tenant directories in the stack config are relative to it. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * The stack program: validated config and tenants in, one SharedPlatform and one TenantResources per tenant out.
 * Exports a per-tenant map of what was built.
 */
export async function main(root: string = PROJECT_ROOT): Promise<Record<string, unknown>> {
    let stack: ReturnType<typeof readStack>;
    try {
        stack = readStack(root);
    } catch (e) {
        // A user's mistake: one clean message, no stack trace, nothing registered.
        if (e instanceof RegistryError) throw new pulumi.RunError(e.message);
        throw e;
    }
    const { registry: { config, tenants }, appSecretKey } = stack;

    const platform = new SharedPlatform("shared", {
        stack: config.stack,
        domain: config.domain,
        hostedZoneId: config.hostedZoneId,
        vpcCidr: config.shared.vpcCidr,
        availabilityZoneIds: zoneIdsFor(config, config.region, config.shared.availabilityZones),
        natGateways: config.shared.natGateways,
        database: config.shared.database,
        app: config.shared.app,
        appRepository: config.appRepository,
        releaseVersion: config.channels.stable,
        appSecretKey,
        protect: config.protect,
        logRetentionDays: config.logRetentionDays,
        tags: ownershipTags({ stack: config.stack, tier: "platform" }),
    });

    // Priorities hash the slug, so adding or removing a tenant leaves others' rules alone (barring a hash collision).
    const taken = new Set<number>();
    const summaries: Record<string, unknown> = {};
    for (const tenant of [...tenants].sort((a, b) => a.slug.localeCompare(b.slug))) {
        const priority = listenerRulePriority(tenant.slug, taken);
        taken.add(priority);
        const resources = new TenantResources(tenant.slug, { tenant, config, platform, listenerPriority: priority });
        summaries[tenant.slug] = resources.summary;
    }

    return {
        platform: {
            vpcId: platform.network.vpcId,
            loadBalancerDnsName: platform.loadBalancer.dnsName,
            databaseEndpoint: platform.databaseHost,
            // The resource of the deploy role's `rds-db:connect` permission (README "Reaching the shared cluster").
            databaseAdminConnectArn: platform.adminConnectArn,
            privateSubnetIds: platform.network.privateSubnetIds,
            // Start the deploy runner with this group: the cluster admits it (README "Reaching the shared cluster").
            deployRunnerSecurityGroupId: platform.deployRunnerSecurityGroupId,
            imageUri: platform.imageUri,
            registryPath: platform.registryPath,
        },
        tenants: summaries,
    };
}
