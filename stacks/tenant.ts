/**
 * Tenants: one TenantResources "<slug>" per tenant. `declareTenant` is what the single stack (every tenant) and a
 * fleet's tenant stack (`<env>.<slug>`, one tenant) both declare.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { labelSuffix } from "../components/naming";
import { TenantResources, type CellRefs, type PlatformRefs, type TenantEnvironment, type TenantSummary } from "../components/tenant";
import { cellStackName } from "../model/fleet";
import { listenerRulePriorities } from "../model/listenerPriorities";
import type { Tenant } from "../tenants/registry";
import { tenantBackupSettings } from "./backupConfig";
import { cellRefsFromOutput, type CellOutputs } from "./cell";
import type { StackConfig } from "./config";
import { platformRefsFromOutput, type PlatformOutputs } from "./platform";

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
        region: config.region,
        sharedVpc: { cidr: config.shared.vpcCidr, availabilityZones: config.shared.availabilityZones },
        monitoring: { enabled: config.monitoring.enabled, thresholds: config.monitoring.thresholds },
        ...(tenant.move ? {
            moveSource: {
                ...(tenant.move.from.tier === "shared" ? {} : { size: config.sizes[tenant.move.from.size ?? "small"] }),
                availabilityZoneIds: config.availabilityZoneIds[tenant.move.from.region] ?? [],
            },
        } : {}),
        ...(tenant.tier !== "shared" || (tenant.move && tenant.move.from.tier !== "shared") ? { backup: tenantBackupSettings(config.backup, tenant) } : {}),
    };
}

/** Listener-rule priorities of the whole environment: the same in every stack that declares a tenant. */
export function environmentPriorities(tenants: readonly Tenant[]): Map<string, number> {
    return listenerRulePriorities(tenants.map((t) => t.slug));
}

/** The TenantResources of `tenant`, a child of the stack. */
export function declareTenant(
    input: { config: StackConfig; tenant: Tenant; platform: PlatformRefs; cell?: CellRefs; sourceCell?: CellRefs; priorities: Map<string, number> },
    opts?: pulumi.ComponentResourceOptions,
): TenantResources {
    const { config, tenant } = input;
    return new TenantResources(tenant.slug, {
        tenant,
        environment: tenantEnvironment(config, tenant),
        platform: input.platform,
        ...(input.cell ? { cell: input.cell } : {}),
        ...(input.sourceCell ? { sourceCell: input.sourceCell } : {}),
        listenerPriority: input.priorities.get(tenant.slug)!,
    }, opts);
}

/** A stack of the same project and organization: `<org>/<project>/<stack>`. */
export function stackReference(stack: string): pulumi.StackReference {
    return new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}`);
}

/**
 * The fleet's tenant stack `<env>.<slug>`: this tenant's resources only, on the platform (and for a shared tenant its
 * cell) read from their stacks, with the given AWS provider; a shared tenant gets its own PostgreSQL provider for its cell.
 * Priorities come from the whole registry, so they match the single layout's and never collide within the environment.
 */
export function tenantProgram(
    config: StackConfig, tenants: readonly Tenant[], tenant: Tenant, reference: (stack: string) => pulumi.StackReference, provider: aws.Provider,
): Record<string, unknown> {
    const platformOutput = reference(config.stack).requireOutput("platform") as pulumi.Output<PlatformOutputs>;
    const platform = platformRefsFromOutput(platformOutput, config.shared.availabilityZones);
    // A shared placement's cell, read from the cell's stack, with a PostgreSQL provider of the tenant stack's own:
    // `<slug>-pg`, labelled for a moved placement so both of a cell → cell move's providers coexist.
    const cellOf = (cell: string, label: string | undefined): CellRefs => {
        const cellOutput = reference(cellStackName(config.stack, cell)).requireOutput("cell") as pulumi.Output<CellOutputs>;
        return cellRefsFromOutput(config, cell, cellOutput, `${tenant.slug}-pg${labelSuffix(label)}`, {});
    };
    const cell = tenant.tier === "shared" ? cellOf(tenant.cell!, tenant.label) : undefined;
    const from = tenant.move?.from;
    const sourceCell = from?.tier === "shared" ? cellOf(from.cell!, from.label) : undefined;
    const resources = declareTenant({
        config, tenant, platform, ...(cell ? { cell } : {}), ...(sourceCell ? { sourceCell } : {}), priorities: environmentPriorities(tenants),
    }, { providers: [provider] });
    const summaries: Record<string, TenantSummary> = { [tenant.slug]: resources.summary };
    return { tenants: summaries, ...(resources.move ? { moves: { [tenant.slug]: resources.move } } : {}) };
}
