/**
 * Tenants: one TenantResources "<slug>" per tenant. `declareTenant` is what the single stack (every tenant) and a
 * fleet's tenant stack (`<env>.<slug>`, one tenant) both declare.
 */
import * as pulumi from "@pulumi/pulumi";
import { TenantResources, type CellRefs, type PlatformRefs, type TenantEnvironment } from "../components/tenant";
import { listenerRulePriorities } from "../model/listenerPriorities";
import type { Tenant } from "../tenants/registry";
import type { StackConfig } from "./config";

/** What a tenant uses of the stack config. */
export function tenantEnvironment(config: StackConfig, tenant: Tenant): TenantEnvironment {
    return {
        stack: config.stack,
        domain: config.domain,
        hostedZoneId: config.hostedZoneId,
        protect: config.protect,
        highAvailability: config.highAvailability,
        ...(tenant.tier === "shared" ? {} : { size: config.sizes[tenant.size ?? "small"] }),
        instanceDatabases: config.instanceDatabases,
        availabilityZoneIds: config.availabilityZoneIds[tenant.region] ?? [],
        logRetentionDays: config.logRetentionDays,
        app: { containerPort: config.shared.app.containerPort, healthCheckPath: config.shared.app.healthCheckPath },
    };
}

/** Listener-rule priorities of the whole environment: the same in every stack that declares a tenant. */
export function environmentPriorities(tenants: readonly Tenant[]): Map<string, number> {
    return listenerRulePriorities(tenants.map((t) => t.slug));
}

/** The TenantResources of `tenant`, a child of the stack. */
export function declareTenant(
    input: { config: StackConfig; tenant: Tenant; platform: PlatformRefs; cell?: CellRefs; priorities: Map<string, number> },
    opts?: pulumi.ComponentResourceOptions,
): TenantResources {
    const { config, tenant } = input;
    return new TenantResources(tenant.slug, {
        tenant,
        environment: tenantEnvironment(config, tenant),
        platform: input.platform,
        ...(input.cell ? { cell: input.cell } : {}),
        listenerPriority: input.priorities.get(tenant.slug)!,
    }, opts);
}

