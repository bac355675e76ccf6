/** What `npm run validate` prints for a valid stack: its tenants, each cell's use and where a new shared tenant should go. */
import { cellUsage, suggestCell, tenantConnections } from "../../model/cells";
import { fleetStacks } from "../../model/fleet";
import { receiptPath } from "../../tenants/moves";
import type { Placement, Registry } from "../../tenants/registry";
import { table } from "../cli";

export function validationReport({ config, tenants }: Registry, tenantsDir: string): string {
    const lines = [
        table(
            ["SLUG", "TIER", "CELL", "REGION", "STATUS", "RELEASE", "HOSTS"],
            tenants.map((t) => [t.slug, t.tier, t.cell ?? "-", t.region, t.status, t.release.version, t.hostnames.join(", ")]),
        ),
        "",
        `${tenants.length} tenant${tenants.length === 1 ? "" : "s"} valid in stack ${config.stack} (${tenantsDir}).`,
    ];
    const moving = tenants.filter((t) => t.move);
    if (moving.length) {
        const describe = (p: Omit<Placement, "label"> & { label?: string }) =>
            (p.tier === "shared" ? `shared, cell ${p.cell}` : `${p.tier}, ${p.region}, ${p.size ?? "small"}`) + (p.label ? ` (label ${p.label})` : "");
        lines.push("", "Moves (both placements are live until the move is retired):", table(
            ["SLUG", "FROM", "TO", "STATE"],
            moving.map((t) => [
                t.slug,
                describe(t.move!.from),
                describe({ tier: t.tier, region: t.region, ...(t.cell ? { cell: t.cell } : {}), ...(t.size ? { size: t.size } : {}), label: t.label ?? "" }),
                t.move!.cutover
                    ? `cut over (${receiptPath(tenantsDir, t.slug)} verified): remove move: to retire the source`
                    : `declared: copy with npm run move -- --tenant ${t.slug} --env ${config.stack} --phase all`,
            ]),
        ));
    }
    if (config.tiers.allowed.includes("shared")) {
        const uses = cellUsage(config.cells, tenants);
        lines.push("", "Shared database cells (connections: runtime limits plus the owner role's, of served tenants):", table(
            ["CELL", "TENANTS", "USED", "AVAILABLE", "HEADROOM", "CLUSTER"],
            uses.map((u) => [
                u.cell + (u.cell === config.defaultCell ? " (default)" : ""), String(u.tenants), String(u.used), String(u.capacity.available), String(u.headroom),
                `${u.capacity.basis}: max_connections ${u.capacity.maxConnections}, ${u.capacity.reserved} reserved`,
            ]),
        ));
        const needs = tenantConnections({ database: { connectionLimit: config.shared.database.tenantConnectionLimit } });
        const cell = suggestCell(uses, needs);
        lines.push(cell
            ? `A new shared tenant (${needs} connections at the default limit) fits best on cell ${cell}: the most headroom. Add 'cell: ${cell}' to its file` +
                (cell === config.defaultCell ? " (or leave it out: it is the default cell)." : ".")
            : `No cell has room for a new shared tenant (${needs} connections at the default limit): declare another cell under tenancy:shared.cells or raise a cell's capacity.`);
    }
    const stacks = fleetStacks({ env: config.stack, layout: config.layout, cells: Object.keys(config.cells), tenants });
    lines.push("", config.layout === "single"
        ? `Layout single: one stack, ${config.stack}, holds the platform, ${Object.keys(config.cells).length} cell${Object.keys(config.cells).length === 1 ? "" : "s"} and every tenant.`
        : `Layout fleet: ${stacks.length} stacks: ${config.stack} (platform), ${stacks.filter((s) => s.role === "cell").length} cell stacks, ` +
            `${stacks.filter((s) => s.role === "tenant").length} tenant stacks (npm run fleet -- schedule --env ${config.stack}).`);
    return lines.join("\n") + "\n";
}
