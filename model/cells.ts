/**
 * Shared database cells: how full each one is and where a new shared tenant should go. Pure; no Pulumi.
 * A shared tenant holds its runtime role's connection limit plus its owner role's (migrations) on its cell's cluster;
 * offboarded tenants are not served and hold none.
 */
import { OWNER_CONNECTION_LIMIT, sharedConnectionCapacity, type ConnectionCapacity } from "../tenants/capacity";

/** What the usage needs of a cell's cluster. */
export interface CellSizing {
    minCapacity?: number;
    maxCapacity?: number;
    instanceClass?: string;
    reservedConnections: number;
}

/** What the usage needs of a tenant. */
export interface CellTenant {
    slug: string;
    tier: string;
    status: string;
    cell?: string;
    database: { connectionLimit: number };
    /** A move under way: a shared source still holds its schema and its roles' connections on its cell. */
    move?: { from: { tier: string; cell?: string } };
}

/** One cell's use. */
export interface CellUse {
    cell: string;
    /** Shared tenants on the cell (offboarded ones included: their schema is there). */
    tenants: number;
    /** Connections its served tenants may hold at once. */
    used: number;
    capacity: ConnectionCapacity;
    /** `capacity.available - used`: negative when over. */
    headroom: number;
    /** The tenants that hold connections, largest first. */
    consumers: { slug: string; connections: number }[];
}

/** Connections a served shared tenant may hold: its runtime limit plus its owner role's. */
export function tenantConnections(t: Pick<CellTenant, "database">): number {
    return t.database.connectionLimit + OWNER_CONNECTION_LIMIT;
}

/** Every cell's use, in cell-name order. Tenants naming an unknown cell are left out (validation reports them). */
export function cellUsage(cells: Readonly<Record<string, CellSizing>>, tenants: readonly CellTenant[]): CellUse[] {
    return Object.keys(cells).sort().map((cell) => {
        // A moving tenant counts on both placements' cells: both are live until the source is retired.
        const on = tenants.filter((t) => (t.tier === "shared" && t.cell === cell) || (t.move?.from.tier === "shared" && t.move.from.cell === cell));
        const consumers = on.filter((t) => t.status !== "offboarded")
            .map((t) => ({ slug: t.slug, connections: tenantConnections(t) }))
            .sort((a, b) => b.connections - a.connections || a.slug.localeCompare(b.slug));
        const used = consumers.reduce((n, c) => n + c.connections, 0);
        const capacity = sharedConnectionCapacity(cells[cell]!);
        return { cell, tenants: on.length, used, capacity, headroom: capacity.available - used, consumers };
    });
}

/**
 * The cell a new shared tenant should name: the one with the most headroom (ties: the first by name), or undefined
 * when no cell has room for a tenant needing `connections`.
 */
export function suggestCell(uses: readonly CellUse[], connections: number): string | undefined {
    const fits = uses.filter((u) => u.headroom >= connections);
    return [...fits].sort((a, b) => b.headroom - a.headroom || a.cell.localeCompare(b.cell))[0]?.cell;
}
