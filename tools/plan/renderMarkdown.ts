/** The plan as a pull-request comment: a summary table per tenant, then each tenant's details folded. */
import { countByType, resourcesOf, totals, type Plan, type PlanResource } from "./model";
import { placement } from "./renderText";

/** Escapes text for a Markdown table cell. */
export function cell(s: string): string {
    return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/\n/g, " ");
}

function typeTable(resources: readonly PlanResource[]): string[] {
    return [
        "| Type | Count | Protected |",
        "|---|---:|---:|",
        ...countByType(resources).map((r) => `| \`${r.type}\` | ${r.count} | ${r.protected} |`),
    ];
}

export function renderMarkdown(plan: Plan): string {
    const all = totals(plan.resources);
    const platform = resourcesOf(plan, null);
    const pt = totals(platform);
    const lines = [
        `### Offline plan: stack \`${plan.stack}\``,
        "",
        `${plan.tenants.length} tenants, ${all.resources} resources (${all.protected} protected) in ${plan.region}. ` +
            "Declared by the program under mocks: no credentials, no cloud calls.",
        "",
        "| Tenant | Tier | Region | Status | Release | Hosts | Resources | Protected |",
        "|---|---|---|---|---|---|---:|---:|",
        ...plan.tenants.map((t) =>
            `| \`${t.slug}\` | ${t.tier} | ${t.region} | ${t.status === "active" ? "active" : `**${t.status}**`} | ${cell(t.releaseVersion)} | ` +
            `${t.hostnames.map((h) => `\`${cell(h)}\``).join("<br>")} | ${t.resourceCount} | ${t.protectedCount} |`,
        ),
        `| _platform_ | | ${plan.region} | | | | ${pt.resources} | ${pt.protected} |`,
        "",
    ];
    for (const t of plan.tenants) {
        lines.push(
            "<details>",
            `<summary><code>${t.slug}</code> — ${cell(t.displayName)}: ${t.resourceCount} resources, ${t.protectedCount} protected</summary>`,
            "",
            `${t.tier} · ${t.region} · ${t.status} · release ${cell(t.releaseVersion)} · ${placement(t)}`,
            "",
            ...typeTable(resourcesOf(plan, t.slug)),
            "",
            "</details>",
            "",
        );
    }
    lines.push(
        "<details>",
        `<summary>Platform: ${pt.resources} resources, ${pt.protected} protected</summary>`,
        "",
        ...typeTable(platform),
        "",
        "</details>",
    );
    return `${lines.join("\n")}\n`;
}
