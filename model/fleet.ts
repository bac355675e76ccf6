/**
 * Which stack holds what: the partition of an environment into Pulumi stacks, and the names that say it.
 * Pure data in, pure data out; no Pulumi. Used by the stack programs (which role am I?), the offline plan (which stacks
 * to record) and the orchestrator (what to run, in which order).
 *
 * Layouts:
 * - `single`: the stack `<env>` holds the platform, every shared database cell and every tenant.
 * - `fleet`: `<env>` holds the platform (network, ALB, app, ECR, keys); `<env>.cell-<name>` one shared database cell;
 *   `<env>.<slug>` one tenant.
 */

export const LAYOUTS = ["single", "fleet"] as const;
export type Layout = (typeof LAYOUTS)[number];

/** What a stack holds. `single` is the whole environment in one stack. */
export type StackRole = "single" | "platform" | "cell" | "tenant";

/** Prefix of a cell stack's suffix (`prod.cell-main`); tenant slugs may not start with it. */
export const CELL_STACK_PREFIX = "cell-";

/** A cell's name: short, since it is part of the cluster identifier and the stack name. */
export const CELL_NAME_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

/** The cell every environment has when its config declares none: it keeps the cluster names from before cells. */
export const DEFAULT_CELL = "main";

/** A stack name taken apart. */
export type StackName =
    | { name: string; env: string; role: "single" | "platform" }
    | { name: string; env: string; role: "cell"; cell: string }
    | { name: string; env: string; role: "tenant"; tenant: string };

/**
 * Reads a stack name: `<env>` is the environment's own stack (the platform in a fleet, everything in a single stack),
 * `<env>.cell-<name>` a cell, `<env>.<slug>` a tenant. The environment is everything before the first dot.
 */
export function parseStackName(name: string, layout: Layout): StackName {
    const dot = name.indexOf(".");
    if (dot < 0) return { name, env: name, role: layout === "single" ? "single" : "platform" };
    const env = name.slice(0, dot);
    const rest = name.slice(dot + 1);
    if (rest.startsWith(CELL_STACK_PREFIX)) return { name, env, role: "cell", cell: rest.slice(CELL_STACK_PREFIX.length) };
    return { name, env, role: "tenant", tenant: rest };
}

/** `prod` + cell `main` → `prod.cell-main`. */
export function cellStackName(env: string, cell: string): string {
    return `${env}.${CELL_STACK_PREFIX}${cell}`;
}

/** `prod` + `tyrell` → `prod.tyrell`. */
export function tenantStackName(env: string, slug: string): string {
    return `${env}.${slug}`;
}

/** What the partition needs to know of a tenant. */
export interface PartitionTenant {
    slug: string;
    tier: "shared" | "hybrid" | "dedicated";
    /** The shared tenant's cell (already defaulted); ignored for other tiers. */
    cell?: string;
    /** A move under way: a shared source's cell stack is read too (its schema stays declared in the tenant's stack). */
    move?: { from: { tier: "shared" | "hybrid" | "dedicated"; cell?: string } };
}

/** One stack of an environment. */
export interface FleetStack {
    name: string;
    /** `platform` for the environment's own stack in both layouts (in `single` it also holds cells and tenants). */
    role: "platform" | "cell" | "tenant";
    /** Tenants whose resources the stack declares, sorted. */
    tenants: string[];
    /** The cell a cell stack builds, or the cell a shared tenant's stack lives on. */
    cell?: string;
    /** Stacks whose outputs this one reads (StackReferences): they must be deployed first. */
    dependsOn: string[];
}

/** One step of a schedule: stacks that may run in parallel once every earlier step is done. */
export interface ScheduleStep {
    name: "platform" | "cells" | "tenants";
    stacks: FleetStack[];
}

/** The stacks of an environment, in schedule order: platform, cells (sorted), tenants (sorted by slug). */
export function fleetStacks(input: { env: string; layout: Layout; cells: readonly string[]; tenants: readonly PartitionTenant[] }): FleetStack[] {
    const tenants = [...input.tenants].sort((a, b) => a.slug.localeCompare(b.slug));
    if (input.layout === "single") {
        return [{ name: input.env, role: "platform", tenants: tenants.map((t) => t.slug), dependsOn: [] }];
    }
    const stacks: FleetStack[] = [{ name: input.env, role: "platform", tenants: [], dependsOn: [] }];
    for (const cell of [...input.cells].sort()) {
        stacks.push({ name: cellStackName(input.env, cell), role: "cell", tenants: [], cell, dependsOn: [input.env] });
    }
    for (const t of tenants) {
        const onCell = t.tier === "shared" && t.cell !== undefined;
        const sourceCell = t.move?.from.tier === "shared" ? t.move.from.cell : undefined;
        const cells = [...new Set([...(onCell ? [t.cell!] : []), ...(sourceCell ? [sourceCell] : [])])];
        stacks.push({
            name: tenantStackName(input.env, t.slug),
            role: "tenant",
            tenants: [t.slug],
            ...(onCell ? { cell: t.cell } : {}),
            dependsOn: [input.env, ...cells.map((c) => cellStackName(input.env, c))],
        });
    }
    return stacks;
}

/** Groups stacks into the steps they run in: platform, then cells, then tenants; empty steps are left out. */
export function scheduleSteps(stacks: readonly FleetStack[]): ScheduleStep[] {
    const step = (name: ScheduleStep["name"], role: FleetStack["role"]): ScheduleStep => ({ name, stacks: stacks.filter((s) => s.role === role) });
    return [step("platform", "platform"), step("cells", "cell"), step("tenants", "tenant")].filter((s) => s.stacks.length > 0);
}
