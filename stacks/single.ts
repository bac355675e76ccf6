/**
 * The single layout's stack `<env>`: the platform, every cell and every tenant of the environment in one stack, with
 * the same components and logical names as the fleet's stacks.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { MoveOutput, TenantSummary } from "../components/tenant";
import { DEFAULT_CELL } from "../model/fleet";
import type { Tenant } from "../tenants/registry";
import { cellMajor, cellOutputs, cellRefsOf, declareCell, declareCellDumps } from "./cell";
import type { StackConfig } from "./config";
import { declarePlatform, declarePlatformMonitoring, PLATFORM_NAME, platformOutputs, platformRefsOf } from "./platform";
import { declareTenant, environmentPriorities } from "./tenant";

/** Lets the event loop turn: the SDK settles the previous tenant's registrations before the next one starts. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function singleProgram(config: StackConfig, tenants: readonly Tenant[], appSecretKey: pulumi.Output<string> | undefined): Promise<Record<string, unknown>> {
    const declared = declarePlatform(config, appSecretKey);
    const platform = declared.shared;
    const monitoring = declarePlatformMonitoring(config, tenants, declared);
    const outputs = platformOutputs(declared, monitoring);
    const cells = new Map(Object.keys(config.cells).map((name) => [name, declareCell(config, name, {
        ...outputs,
        isolatedSubnetIds: platform.network.isolatedSubnetIds,
    // Stacks made before cells held cell main's cluster inside the SharedPlatform: its children keep their resources.
    }, name === DEFAULT_CELL ? { formerPlatform: PLATFORM_NAME } : {})]));
    // Each cell's scheduled schema dump, beside it as in a fleet's cell stack.
    const dumps = declared.dumps;
    if (dumps) {
        for (const [name, cell] of cells) {
            declareCellDumps(config, name, cell, {
                vpcId: platform.network.vpcId,
                privateSubnetIds: platform.network.privateSubnetIds,
                keyArn: platform.key.arn,
                ecsClusterArn: platform.ecsClusterArn,
                bucket: { name: dumps.bucketName, arn: dumps.bucketArn, keyArn: dumps.keyArn },
                image: dumps.images[cellMajor(config, name)]!,
                ...(monitoring ? { alarmTopicArn: monitoring.alarmTopics.apply((t) => t[config.region]!) } : {}),
            });
        }
    }

    const priorities = environmentPriorities(tenants);
    const platformRefs = platformRefsOf(declared, monitoring);
    const summaries: Record<string, TenantSummary> = {};
    const moves: Record<string, pulumi.Output<MoveOutput>> = {};
    for (const tenant of [...tenants].sort((a, b) => a.slug.localeCompare(b.slug))) {
        // Declaring every tenant in one synchronous loop keeps every resource's pending SDK state alive at once:
        // one turn per tenant measured 2.2x faster with 4x less memory at 1000 tenants, with identical plans.
        await yieldToEventLoop();
        const cell = tenant.tier === "shared" ? cells.get(tenant.cell!) : undefined;
        const source = tenant.move?.from.tier === "shared" ? cells.get(tenant.move.from.cell!) : undefined;
        const resources = declareTenant({
            config, tenant, platform: platformRefs, ...(cell ? { cell: cellRefsOf(cell, config.cells[tenant.cell!]) } : {}),
            ...(source ? { sourceCell: cellRefsOf(source, config.cells[tenant.move!.from.cell!]) } : {}), priorities,
        });
        summaries[tenant.slug] = resources.summary;
        if (resources.move) moves[tenant.slug] = resources.move;
    }

    return {
        platform: outputs,
        cells: Object.fromEntries([...cells].map(([name, cell]) => [name, cellOutputs(cell, config, name, false)])),
        tenants: summaries,
        // Only while a move is declared: what `npm run move -- --env` reads.
        ...(Object.keys(moves).length ? { moves } : {}),
    };
}
