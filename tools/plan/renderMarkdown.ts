/** The plan as a pull-request comment: a summary table per tenant, then each tenant's details folded. */
import { countByType, resourcesOf, totals, type Plan, type PlanResource } from "./model";
import { costLine, money, moveLine, placement, stackTitle, typeSummary, unpricedLines } from "./renderText";

/** GitHub refuses a comment longer than this many characters. */
export const GITHUB_COMMENT_LIMIT = 65536;
/** What a Markdown plan or diff may use: the limit minus room for what the workflow appends (notes, footer). */
export const MARKDOWN_BUDGET = 60000;

export interface MarkdownOptions {
    /** Where the full output is (the workflow's artifact): linked when something had to be left out. */
    fullDiffUrl?: string;
    /** Characters the output may use. Defaults to MARKDOWN_BUDGET. */
    budget?: number;
}

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

/** The plan as a pull-request comment, within the budget: summary rows, then folded details as long as they fit. */
export function renderMarkdown(plan: Plan, opts: MarkdownOptions = {}): string {
    const all = totals(plan.resources);
    const platform = resourcesOf(plan, null);
    const pt = totals(platform);
    // Grouped by stack for a fleet, and for one stack of it (a tenant stack has no platform of its own).
    const fleet = plan.stacks.length > 1 || plan.stacks.some((s) => s.role !== "platform");
    // In a fleet each tenant has its own stack (a column); the platform and cell stacks get a row each.
    const stackOf = new Map(plan.stacks.flatMap((s) => s.tenants.map((t) => [t, s.name] as const)));
    const sharedStacks = plan.stacks.filter((s) => s.role !== "tenant");
    // A plan written before costs existed has no estimate: no column.
    const costed = plan.cost !== undefined;
    const costCell = (n: number | undefined) => (costed ? ` ${n === undefined ? "" : money(n)} |` : "");
    const lines = [
        `### Offline plan: stack \`${plan.stack}\``,
        "",
        `${fleet ? `${plan.stacks.length} stacks, ` : ""}${plan.tenants.length} tenants, ${all.resources} resources (${all.protected} protected) in ${plan.region}. ` +
            "Declared by the program under mocks: no credentials, no cloud calls.",
        "",
        `| Tenant | Tier | Region | Status | Release | Hosts |${fleet ? " Stack |" : ""} Resources | Protected |${costed ? " Monthly cost |" : ""}`,
        `|---|---|---|---|---|---|${fleet ? "---|" : ""}---:|---:|${costed ? "---:|" : ""}`,
        ...plan.tenants.map((t) =>
            `| \`${t.slug}\` | ${t.move ? `${t.tier} (moving from ${t.move.from.tier})` : t.tier} | ${t.region} | ${t.status === "active" ? "active" : `**${t.status}**`} | ${cell(t.releaseVersion)} | ` +
            `${t.hostnames.map((h) => `\`${cell(h)}\``).join("<br>")} |${fleet ? ` \`${stackOf.get(t.slug) ?? ""}\` |` : ""} ${t.resourceCount} | ${t.protectedCount} |${costCell(t.monthlyCost?.total)}`,
        ),
        ...(fleet
            ? sharedStacks.map((s) => {
                  const st = totals(plan.resources.filter((r) => r.stack === s.name && r.tenant === null));
                  return `| _${s.role}_ | | ${plan.region} | | | | \`${s.name}\` | ${st.resources} | ${st.protected} |${costCell(undefined)}`;
              })
            : [`| _platform_ | | ${plan.region} | | | | ${pt.resources} | ${pt.protected} |${costCell(plan.cost?.platform.total)}`]),
        "",
        ...costSummary(plan),
    ];
    const blocks: string[][] = [];
    for (const t of plan.tenants) {
        blocks.push([
            "<details>",
            `<summary><code>${t.slug}</code> — ${cell(t.displayName)}: ${t.resourceCount} resources, ${t.protectedCount} protected</summary>`,
            "",
            `${t.tier} · ${t.region} · ${t.status} · release ${cell(t.releaseVersion)} · ${placement(t)}`,
            "",
            ...(moveLine(t) ? [`Move: ${cell(moveLine(t)!)}`, ""] : []),
            ...(costLine(t, plan.cost?.platformPlanned !== false) ? [`${cell(costLine(t, plan.cost?.platformPlanned !== false)!.replace(/^monthly cost/, "Monthly cost"))}`, ""] : []),
            ...unpricedLines(t.monthlyCost?.unpriced).map((l) => `- ${cell(l)}`),
            ...typeTable(resourcesOf(plan, t.slug)),
            "",
            "</details>",
            "",
        ]);
    }
    const shared = fleet ? sharedStacks.map((s) => ({ title: `Stack ${stackTitle(s)}`, resources: platform.filter((r) => r.stack === s.name) })) : [{ title: "Platform", resources: platform }];
    blocks.unshift(...shared.map(({ title, resources }) => {
        const st = totals(resources);
        return ["<details>", `<summary>${title}: ${st.resources} resources, ${st.protected} protected</summary>`, "", ...typeTable(resources), "", "</details>", ""];
    }));
    return fit(lines, blocks, opts.budget ?? MARKDOWN_BUDGET, opts);
}

/** The estimate under the summary table: the environment's month, the platform's part and what the figures rest on. */
function costSummary(plan: Plan): string[] {
    const c = plan.cost;
    if (!c) return [];
    const p = c.platform;
    const pools = (p.pools ?? []).map((x) => `${x.pool} ${money(x.amount)} → ${x.tenants.length ? x.tenants.map((t) => `\`${t}\``).join(", ") : "nobody"}`);
    if (c.platformPlanned === false) {
        return [`Estimated monthly cost of this stack's own resources: **${money(c.total)}** (the platform and tenants' shares of it are not in a plan of one stack). AWS list prices of ${c.pricesAsOf}.`, ""];
    }
    return [
        `Estimated monthly cost: **${money(c.total)}**, of which the platform ${money(p.total)}${Object.keys(p.byType).length ? ` (${cell(typeSummary(p.byType))})` : ""}` +
            `${pools.length ? `, apportioned by connection limit: ${pools.join("; ")}` : ""}${p.unapportioned > 0 ? `; ${money(p.unapportioned)} carried by no tenant` : ""}. ` +
            `AWS list prices of ${c.pricesAsOf} (\`cost/prices.json\`; no discounts, free tier or taxes), usage as \`tenancy:cost\` assumes.`,
        ...unpricedLines(p.unpriced).map((l) => `- platform ${cell(l)}`),
        "",
    ];
}

/**
 * Joins `head`, as many `blocks` as fit and `tail` within `budget` characters; says what was left out and links the
 * full output. A head that alone is too long is cut at a line boundary.
 */
export function fit(head: readonly string[], blocks: readonly string[][], budget: number, opts: MarkdownOptions, tail: readonly string[] = []): string {
    const link = opts.fullDiffUrl ? `[the full output](${opts.fullDiffUrl})` : "the full output (`npm run plan` / `plan:diff` with `--format text`)";
    const note = (n: number, what: string) => `> [!NOTE]\n> ${n} ${what} left out to stay under GitHub's ${GITHUB_COMMENT_LIMIT}-character comment limit: see ${link}.`;
    const size = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length + 1, 0);
    const reserve = note(blocks.length, "folded sections").length + 2 + size(tail);
    let lines = [...head];
    if (size(lines) + reserve > budget) {
        // Even the summary is too long (thousands of different changes): cut it at a line boundary.
        let kept = 0;
        let used = 0;
        while (kept < lines.length && used + lines[kept]!.length + 1 + reserve <= budget) used += lines[kept++]!.length + 1;
        const dropped = lines.length - kept;
        lines = [...lines.slice(0, kept), "", note(dropped, "summary lines and every folded section were")];
        return `${[...lines, ...tail].join("\n")}\n`;
    }
    let used = size(lines);
    let i = 0;
    for (; i < blocks.length; i++) {
        const s = size(blocks[i]!);
        if (used + s + reserve > budget) break;
        lines.push(...blocks[i]!);
        used += s;
    }
    if (i < blocks.length) lines.push(note(blocks.length - i, `folded section${blocks.length - i === 1 ? " was" : "s were"}`), "");
    return `${[...lines, ...tail].join("\n")}\n`;
}

