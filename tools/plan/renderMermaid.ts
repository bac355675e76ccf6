/**
 * The plan as a Mermaid flowchart: the shared platform, and each tenant where it is placed. Shared tenants sit in the
 * shared cluster, hybrid ones in the shared VPC on their own instance, dedicated ones in their own VPC, grouped by
 * region. Tenants are compact nodes laid out in columns, so a stack of 50 stays readable; suspended and offboarded
 * tenants are styled apart.
 */
import { compare, type Plan, type PlanTenant } from "./model";

/** Tenants per column inside a group: keeps a group of 50 a block instead of one long line. */
export const COLUMN_HEIGHT = 8;

/** A Mermaid node id from arbitrary text. */
function id(prefix: string, s: string): string {
    return `${prefix}_${s.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** Text inside a quoted Mermaid label. */
function label(s: string): string {
    return s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

function tenantNode(t: PlanTenant): string {
    const detail = t.tier === "dedicated" ? `${t.network ?? ""} · ${t.size ?? ""}` : t.tier === "hybrid" ? (t.size ?? "") : "";
    const status = t.status === "active" ? "" : ` (${t.status})`;
    return `${id("t", t.slug)}["${label(t.slug + status)}${detail ? `<br/><small>${label(detail)}</small>` : ""}"]`;
}

/** The nodes of a group, chained invisibly into columns of {@link COLUMN_HEIGHT}. */
function groupBody(tenants: readonly PlanTenant[], indent: string): string[] {
    const lines = [`${indent}direction TB`, ...tenants.map((t) => `${indent}${tenantNode(t)}`)];
    for (let i = 0; i < tenants.length; i++) {
        if (i % COLUMN_HEIGHT !== 0) lines.push(`${indent}${id("t", tenants[i - 1]!.slug)} ~~~ ${id("t", tenants[i]!.slug)}`);
    }
    return lines;
}

export function renderMermaid(plan: Plan): string {
    const shared = plan.tenants.filter((t) => t.tier === "shared");
    const hybrid = plan.tenants.filter((t) => t.tier === "hybrid");
    const dedicated = plan.tenants.filter((t) => t.tier === "dedicated");
    const regions = [...new Set(dedicated.map((t) => t.region))].sort(compare);
    const lines = [
        "flowchart LR",
        "  classDef platform fill:#e7f5ff,stroke:#1c7ed6,color:#0b3d6b",
        "  classDef tenant fill:#ffffff,stroke:#495057",
        "  classDef suspended fill:#fff3bf,stroke:#f08c00,color:#7a4a00",
        "  classDef offboarded fill:#f1f3f5,stroke:#adb5bd,color:#868e96,stroke-dasharray:4 3",
        `  platform["Shared platform · ${label(plan.stack)}<br/><small>VPC, Aurora cluster, ALB, app · ${label(plan.region)}</small>"]:::platform`,
    ];
    if (shared.length) {
        lines.push(`  subgraph g_shared["Shared cluster · ${shared.length} tenant${shared.length === 1 ? "" : "s"} (schema each)"]`, ...groupBody(shared, "    "), "  end");
        lines.push("  platform --- g_shared");
    }
    if (hybrid.length) {
        lines.push(`  subgraph g_hybrid["Hybrid · own RDS instance in the shared VPC · ${hybrid.length}"]`, ...groupBody(hybrid, "    "), "  end");
        lines.push("  platform --- g_hybrid");
    }
    for (const region of regions) {
        const inRegion = dedicated.filter((t) => t.region === region);
        const g = id("g_dedicated", region);
        lines.push(`  subgraph ${g}["Dedicated · own VPC each · ${label(region)} · ${inRegion.length}"]`, ...groupBody(inRegion, "    "), "  end");
        // Dedicated stacks share nothing with the platform but the app image.
        lines.push(`  platform -. image .-> ${g}`);
    }
    const styled = (status: string) => plan.tenants.filter((t) => t.status === status).map((t) => id("t", t.slug));
    const active = styled("active");
    if (active.length) lines.push(`  class ${active.join(",")} tenant`);
    for (const status of ["suspended", "offboarded"]) {
        const ids = styled(status);
        if (ids.length) lines.push(`  class ${ids.join(",")} ${status}`);
    }
    return `${lines.join("\n")}\n`;
}
