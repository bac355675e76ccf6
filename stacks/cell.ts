/**
 * Shared database cells: one DatabaseCell "cell-<name>" per cell of the config. `declareCell` is what the single stack
 * (every cell) and a fleet's cell stack (`<env>.cell-<name>`, one cell) both declare; `cellOutputs` is the cell stack's
 * `cell` output, which the cell's tenant stacks read by StackReference (`cellRefsFromOutput`).
 */
import * as pulumi from "@pulumi/pulumi";
import { DatabaseCell } from "../components/databaseCell";
import { ownershipTags } from "../components/tags";
import type { CellRefs } from "../components/tenant";
import { CELL_STACK_PREFIX } from "../model/fleet";
import type { StackConfig } from "./config";

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

/** The cell's outputs; the master password only where tenant stacks need it (`adminAuth: password`), as a secret. */
export function cellOutputs(cell: DatabaseCell, config: StackConfig, name: string, withPassword: boolean): Outputs<CellOutputs> {
    const password = withPassword && config.cells[name]?.adminAuth !== "iam";
    return {
        host: cell.host,
        port: cell.port,
        databaseName: cell.databaseName,
        groupRoleName: cell.hardening.groupRoleName,
        reportingRoleName: cell.hardening.reportingRoleName,
        masterUsername: cell.masterUsername,
        ...(password ? { masterPassword: pulumi.secret(cell.masterPassword) } : {}),
        adminConnectArn: cell.adminConnectArn,
        adminSecretArn: cell.adminSecretArn,
    };
}

/** What a shared tenant uses of its cell, from the component itself (single stack): its SQL waits for the cell. */
export function cellRefsOf(cell: DatabaseCell): CellRefs {
    return {
        host: cell.host,
        port: cell.port,
        databaseName: cell.databaseName,
        groupRoleName: cell.hardening.groupRoleName,
        reportingRoleName: cell.hardening.reportingRoleName,
        provider: cell.postgresProvider,
        ready: cell.ready,
    };
}

