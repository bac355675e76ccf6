/** A plan diff as text (terminal, CI log) or Markdown (pull-request comment). */
import { describePlacement, type ChangedPath, type MoveNote, type PlanDiff, type Risk, type StackDiff, type TenantCostChange, type TenantDiff } from "./diff";
import { cell, fit, GITHUB_COMMENT_LIMIT, MARKDOWN_BUDGET, type MarkdownOptions } from "./renderMarkdown";
import { money } from "./renderText";

export { GITHUB_COMMENT_LIMIT, MARKDOWN_BUDGET, type MarkdownOptions };

/** Longest value shown for one side of a changed path; the JSON plans hold the full values. */
const MAX_VALUE = 100;
/** Characters kept before the first difference when a long value is cut. */
const CONTEXT = 30;

const json = (v: unknown): string => (v === undefined ? "(absent)" : (JSON.stringify(v) ?? String(v)));

/** A cut of `s` of at most MAX_VALUE characters starting at `start`, marked with … where something was left out. */
function window(s: string, start: number): string {
    if (s.length <= MAX_VALUE) return s;
    const from = Math.max(0, Math.min(start, s.length - (MAX_VALUE - 2)));
    const body = s.slice(from, from + MAX_VALUE - (from > 0 ? 1 : 0) - 1);
    return `${from > 0 ? "…" : ""}${body}${from + body.length < s.length ? "…" : ""}`;
}

/**
 * Both sides of a change, each cut to MAX_VALUE characters around where they first differ, so two long values
 * that share a prefix never show as the same text.
 */
export function showChange(before: unknown, after: unknown): [string, string] {
    const a = json(before);
    const b = json(after);
    if (a.length <= MAX_VALUE && b.length <= MAX_VALUE) return [a, b];
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const start = Math.max(0, i - CONTEXT);
    return [window(a, start), window(b, start)];
}

const who = (t: TenantDiff | Risk) => (("slug" in t ? t.slug : t.tenant) === null ? "platform" : `tenant ${"slug" in t ? t.slug : t.tenant}`);

function statusNote(t: TenantDiff): string {
    if (t.slug === null) return "";
    if (t.fileDeleted) return ` (tenant file deleted; was ${t.statusBefore ?? "?"})`;
    if (t.change === "added") return ` (new, ${t.statusAfter ?? "?"})`;
    if (t.statusBefore !== t.statusAfter) return ` (status ${t.statusBefore} → ${t.statusAfter}${t.offboarding ? ": offboarding" : ""})`;
    return "";
}

function pathLine(p: ChangedPath): string {
    const mark = p.effect === "replace" ? "  [forces replacement]" : p.effect === "rename" ? "  [renames in place]" : "";
    const [before, after] = showChange(p.before, p.after);
    return `${p.path}: ${before} → ${after}${mark}`;
}

function counts(t: TenantDiff): string {
    return `+${t.added.length} -${t.removed.length} ~${t.changed.length}`;
}

/** "N changes would delete or replace data", or, when some only lower protection or would fail the deploy, says so. */
function guardHeadline(firing: readonly Risk[]): string {
    const n = `${firing.length} change${firing.length === 1 ? "" : "s"}`;
    return firing.every((r) => r.action !== "unprotect" && r.action !== "blocked")
        ? `${n} would delete or replace data`
        : `${n} would delete, replace or unprotect data, or fail the deploy`;
}

/** `prod.tyrell (added)`, `prod (+1 -0 ~2)`. */
function stackLabel(s: StackDiff): string {
    return s.change === "changed" ? `${s.name} (+${s.added} -${s.removed} ~${s.changed})` : `${s.name} (${s.change})`;
}

/** The line naming the stacks a change touches (the first `max` of them), in the text diff and the Markdown comment. */
export function touchedStacksLine(d: PlanDiff, max = Infinity): string {
    if (d.stacks.length === 0) return "Stacks touched: none";
    const shown = d.stacks.slice(0, max).map(stackLabel).join(", ");
    return `Stacks touched (${d.stacks.length}): ${shown}${d.stacks.length > max ? ` and ${d.stacks.length - max} more` : ""}`;
}

/** What a layout change asks of the operator, or nothing. */
export function layoutLine(d: PlanDiff): string | undefined {
    if (d.layoutChange === null) return undefined;
    const { from, to, moved } = d.layoutChange;
    return `Layout ${from} → ${to}: ${moved} resources move between stacks (compared by identity). Before the first deploy, run ` +
        `\`npm run fleet -- adopt --env ${d.head.stack}\` (it proves nothing is replaced) and then with \`--execute\` (the \`pulumi state move\`s); ` +
        "deploying without it would create every moved resource anew beside the old ones.";
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * What a change does to a tenant's move, for the reviewer: what is built, what stays, what will be retired and when.
 * `env` names the tenant directory of the receipt (`tenants/<env>/.moves/<slug>.json`).
 */
export function moveLines(m: MoveNote, env: string): string[] {
    const from = describePlacement(m.from);
    const to = describePlacement(m.to);
    const receiptFile = `tenants/${env}/.moves/${m.tenant}.json`;
    const retire = `Retire by removing move: together with the committed receipt (${receiptFile}): the data-loss guard allows the source's removal only with this move's verified receipt.`;
    const r = m.receiptSummary;
    const receiptFacts = r ? `write pause ${r.writePauseMs} ms, ${plural(r.tables, "table")}, ${r.rows} rows, finished ${r.finishedAt}` : "";
    const stays = `Stays: the ${from} placement, its data kept${m.sourceKept ? ` (${plural(m.sourceKept, "protected resource")})` : ""}`;
    switch (m.phase) {
        case "declared":
            return [
                `tenant ${m.tenant}: moves ${from} → ${to} (declared in this change).`,
                `Built: the ${to} placement (${plural(m.added, "resource")} added), empty until the data engine copies the tenant into it.`,
                `${stays} and still served: the registry points at it until cutover.`,
                `Next: deploy, then npm run move -- --tenant ${m.tenant} --env ${env} --phase all (copy, catch up, cutover with a short write pause; it writes ${receiptFile}), and commit the receipt.`,
                retire,
            ];
        case "moving":
            return [
                `tenant ${m.tenant}: moving ${from} → ${to}; ${m.receipt === "none" ? "no receipt yet" : m.receipt === "other" ? "the committed receipt is of another move" : "the committed receipt is not verified"}.`,
                `${stays} and still served until cutover.`,
                retire,
            ];
        case "cutover":
            return [
                `tenant ${m.tenant}: cut over ${from} → ${to}: this move's verified receipt is committed (${receiptFacts}); the registry points at the ${to} placement.`,
                `${stays}, read-only for the tenant, until the move is retired.`,
                retire,
            ];
        case "retired":
            return [
                `tenant ${m.tenant}: move ${from} → ${to} retired: the ${from} placement is removed (${plural(m.removed, "resource")}), allowed by this move's verified receipt (${receiptFacts}).`,
            ];
        case "unproven":
            return [
                `tenant ${m.tenant}: move: removed without this move's verified receipt (${m.receipt === "none" ? "none committed" : m.receipt === "other" ? "the receipt is of another move" : "the receipt is not verified"}): ` +
                    `removing the ${from} placement loses its data, and the guard fires.`,
                retire,
            ];
    }
}

/** `+$412.00`, `-$3.10`. */
const signed = (n: number) => `${n < 0 ? "-" : "+"}${money(Math.abs(n))}`;

/** One tenant's monthly change: `tyrell: +$412.00/month ($1,990.97 → $2,402.97), size medium → large`. */
function tenantCostLine(t: TenantCostChange, name: string): string {
    const why = t.notes.filter((n) => n !== "new tenant" && n !== "removed");
    const tail = why.length ? `, ${why.join(", ")}` : "";
    if (t.notes.includes("new tenant")) return `${name}: ${t.after === null ? "no estimate" : `${signed(t.after)}/month`} (new tenant)`;
    if (t.notes.includes("removed")) return `${name}: ${t.before === null ? "no estimate" : `${signed(-t.before)}/month`} (removed)`;
    if (t.before === null) return `${name}: ${t.after === null ? "no estimate" : `${money(t.after)}/month`} (no estimate in base)${tail}`;
    if (t.after === null) return `${name}: ${money(t.before)}/month in base (no estimate in head)${tail}`;
    return `${name}: ${signed(t.delta ?? 0)}/month (${money(t.before)} → ${money(t.after)})${tail}`;
}

/**
 * The monthly cost change (README "Cost"): the environment's month, then a line per tenant whose own cost changes
 * (or is new, removed, or had no estimate in base), then those whose share of the platform alone moves, then the
 * platform. `name` formats a slug; at most `max` tenant lines. Empty when neither plan has an estimate.
 */
export function costLines(d: PlanDiff, name: (slug: string) => string = (s) => s, max = Infinity): { headline: string; lines: string[] } | undefined {
    const c = d.cost;
    if (!c || (c.total.before === null && c.total.after === null)) return undefined;
    const t = c.total;
    const headline = t.before === null ? `Monthly cost (estimate): no estimate in base; head ${money(t.after!)}/month`
        : t.after === null ? `Monthly cost (estimate): no estimate in head; base ${money(t.before)}/month`
            : t.delta === 0 ? `Monthly cost (estimate): ${money(t.after)}, unchanged`
                : `Monthly cost (estimate): ${money(t.before)} → ${money(t.after)} (${signed(t.delta!)}/month)`;
    const lines = c.tenants.slice(0, max).map((x) => tenantCostLine(x, name(x.slug)));
    if (c.tenants.length > max) lines.push(`and ${c.tenants.length - max} more tenants (see the full diff)`);
    const s = c.shareOnly;
    if (s) {
        const amount = s.min === s.max ? `${signed(s.min)}/month each` : `${signed(s.min)} to ${signed(s.max)}/month`;
        const shown = s.tenants.slice(0, 10).map(name).join(", ");
        lines.push(`${s.tenants.length} tenant${s.tenants.length === 1 ? "'s" : "s'"} share of the platform: ${amount} (${shown}${s.tenants.length > 10 ? ` and ${s.tenants.length - 10} more` : ""})`);
    }
    const p = c.platform;
    if (p.delta !== null && p.delta !== 0) lines.push(`platform: ${signed(p.delta)}/month (${money(p.before!)} → ${money(p.after!)})`);
    return { headline, lines };
}

/** The diff as JSON (`plan:diff --format json`): the stacks a change touches first, for workflows to pick up. */
export function renderDiffJson(d: PlanDiff): string {
    return `${JSON.stringify({ touchedStacks: d.stacks.map((s) => s.name), ...d }, null, 2)}\n`;
}

/** Headings of the exempt risks, by why they are exempt. */
const EXEMPT_TITLES: readonly [NonNullable<Risk["exemptBy"]>, string][] = [
    ["offboarding", "Exempt (tenant offboarded through its status):"],
    ["move", "Exempt (a move's source, with this move's verified receipt committed):"],
];

export function renderDiffText(d: PlanDiff): string {
    const layout = layoutLine(d);
    const lines = [`Plan diff: stack ${d.base.stack} → ${d.head.stack}`, ...(layout ? [`!! ${layout}`] : []), touchedStacksLine(d), ""];
    const firing = d.risks.filter((r) => !r.exempt);
    const exempt = d.risks.filter((r) => r.exempt);
    if (firing.length) {
        const bar = "!".repeat(78);
        lines.push(bar, `!! DATA-LOSS GUARD: ${guardHeadline(firing)}. Do not apply without a plan for the data.`, bar);
        for (const r of firing) lines.push(`  ✗ ${r.reason}`, `      ${r.urn}`);
        lines.push("");
    }
    for (const [by, title] of EXEMPT_TITLES) {
        const these = exempt.filter((r) => (r.exemptBy ?? "offboarding") === by);
        if (!these.length) continue;
        lines.push(title);
        for (const r of these) lines.push(`  • ${r.reason}`);
        lines.push("");
    }
    if (d.moves.length) {
        lines.push("Moves:");
        for (const m of d.moves) {
            const [first, ...rest] = moveLines(m, d.head.stack);
            lines.push(`  ${first}`, ...rest.map((l) => `    ${l}`));
        }
        lines.push("");
    }
    const cost = costLines(d);
    if (cost) lines.push(cost.headline, ...cost.lines.map((l) => `  ${l}`), "");
    const changed = d.tenants.filter((t) => t.change !== "unchanged");
    for (const t of changed) {
        lines.push(`${who(t)}: ${t.change}${statusNote(t)}  ${counts(t)}`);
        for (const f of t.fields) lines.push(`  * ${pathLine(f)}`);
        for (const r of t.added) lines.push(`  + ${r.type}  ${r.name}`);
        for (const r of t.removed) lines.push(`  - ${r.type}  ${r.name}${r.protect ? "  [protected]" : ""}`);
        for (const c of t.changed) {
            lines.push(`  ~ ${c.type}  ${c.name}${c.effect === "update" ? "" : `  (${c.effect})`}`);
            for (const p of c.paths) lines.push(`      ${pathLine(p)}`);
        }
        lines.push("");
    }
    const same = d.tenants.filter((t) => t.change === "unchanged").map((t) => t.slug);
    if (same.length) lines.push(`Unchanged: ${same.join(", ")}`, "");
    lines.push(
        firing.length
            ? `Result: RISKY (${firing.length} data-loss risk${firing.length === 1 ? "" : "s"}); exit 2.`
            : changed.length
              ? `Result: no data-loss risk in ${changed.length} changed group${changed.length === 1 ? "" : "s"}.`
              : "Result: no changes.",
    );
    return `${lines.join("\n")}\n`;
}

/** Replaces a tenant's slug in its lines, so tenants with the same change compare equal. */
function generic(lines: readonly string[], slug: string | null): string[] {
    return slug === null ? [...lines] : lines.map((l) => l.split(slug).join("<tenant>"));
}

function detailLines(t: TenantDiff): string[] {
    const lines: string[] = [];
    for (const f of t.fields) lines.push(`* tenant ${pathLine(f)}`);
    for (const r of t.added) lines.push(`+ ${r.type}  ${r.name}`);
    for (const r of t.removed) lines.push(`- ${r.type}  ${r.name}${r.protect ? "  [protected]" : ""}`);
    for (const c of t.changed) {
        lines.push(`! ${c.type}  ${c.name}${c.effect === "update" ? "" : `  (${c.effect})`}`);
        for (const p of c.paths) lines.push(`    ${pathLine(p)}`);
    }
    return lines;
}

/** `a`, `b`, `c` and N more. */
function names(slugs: readonly (string | null)[], max = 20): string {
    const shown = slugs.slice(0, max).map((s) => (s === null ? "_platform_" : `\`${s}\``));
    return slugs.length > max ? `${shown.join(", ")} and ${slugs.length - max} more` : shown.join(", ");
}

interface Group {
    tenants: TenantDiff[];
    risks: number;
    lines: string[];
}

/**
 * The diff as a pull-request comment, within `budget` characters (GitHub refuses comments over 65,536): tenants with
 * the same change (their slug aside) share one row and one folded block; the guard's reasons are grouped the same way;
 * what still does not fit is left out with a note pointing at the full diff.
 */
export function renderDiffMarkdown(d: PlanDiff, opts: MarkdownOptions = {}): string {
    const budget = opts.budget ?? MARKDOWN_BUDGET;
    const firing = d.risks.filter((r) => !r.exempt);
    const exempt = d.risks.filter((r) => r.exempt);
    const head = [`### Plan diff: stack \`${d.head.stack}\``, ""];
    /** One line per reason; reasons that differ only in the tenant's slug are one line naming the tenants. */
    const reasons = (risks: readonly Risk[]): string[] => {
        const byReason = new Map<string, Risk[]>();
        for (const r of risks) {
            const key = r.tenant === null ? r.reason : r.reason.split(r.tenant).join("<tenant>");
            byReason.set(key, [...(byReason.get(key) ?? []), r]);
        }
        return [...byReason].map(([key, rs]) => (rs.length === 1 ? cell(rs[0]!.reason) : `${cell(key)} (${rs.length} tenants: ${names(rs.map((r) => r.tenant), 10)})`));
    };
    if (firing.length) {
        head.push("> [!CAUTION]", `> **Data-loss guard: ${guardHeadline(firing)}.**`, ">");
        for (const r of reasons(firing)) head.push(`> - ${r}`);
        head.push("");
    } else {
        head.push("No data-loss risk.", "");
    }
    for (const [by, title] of EXEMPT_TITLES) {
        const these = exempt.filter((r) => (r.exemptBy ?? "offboarding") === by);
        if (these.length) head.push(title, "", ...reasons(these).map((r) => `- ${r}`), "");
    }
    if (d.moves.length) {
        head.push("#### Moves", "");
        for (const m of d.moves) {
            const [first, ...rest] = moveLines(m, d.head.stack);
            head.push(`- ${cell(first!)}`, ...rest.map((l) => `  - ${cell(l)}`));
        }
        head.push("");
    }
    const cost = costLines(d, (slug) => `\`${slug}\``, 50);
    if (cost) head.push("#### Monthly cost", "", cell(cost.headline), "", ...cost.lines.map((l) => `- ${cell(l)}`), ...(cost.lines.length ? [""] : []));
    // The touched stacks after the guard (which stays first): a line, and an HTML comment a workflow can read back.
    const layout = layoutLine(d);
    if (layout) head.push("> [!WARNING]", `> ${layout}`, "");
    // The comment names them all (a release of 1000 tenants: ~15 KB); the visible line the first 50.
    head.push(`<!-- tenancy-stacks: ${d.stacks.map((s) => s.name).join(" ")} -->`, cell(touchedStacksLine(d, 50)), "");
    const changed = d.tenants.filter((t) => t.change !== "unchanged");
    if (!changed.length) return fit([...head, "No resource changes."], [], budget, opts);

    const groups = new Map<string, Group>();
    for (const t of changed) {
        const lines = detailLines(t);
        const status = t.slug === null ? "" : t.statusBefore === t.statusAfter ? (t.statusAfter ?? "") : `${t.statusBefore ?? "–"} → ${t.statusAfter ?? "–"}`;
        const key = JSON.stringify([t.slug === null, t.change, t.fileDeleted, status, generic(lines, t.slug)]);
        const risks = d.risks.filter((r) => r.tenant === t.slug && !r.exempt).length;
        const g = groups.get(key);
        if (g) {
            g.tenants.push(t);
            g.risks += risks;
        } else groups.set(key, { tenants: [t], risks, lines });
    }
    const table = ["| Tenants | Change | Status | Added | Removed | Changed | Risks |", "|---|---|---|---:|---:|---:|---:|"];
    const blocks: string[][] = [];
    for (const g of groups.values()) {
        const t = g.tenants[0]!;
        const status = t.slug === null ? "" : t.statusBefore === t.statusAfter ? (t.statusAfter ?? "") : `${t.statusBefore ?? "–"} → ${t.statusAfter ?? "–"}`;
        const several = g.tenants.length > 1;
        table.push(`| ${names(g.tenants.map((x) => x.slug), 10)} | ${t.fileDeleted ? "**file deleted**" : t.change} | ${status} | ${t.added.length} | ${t.removed.length} | ${t.changed.length} | ${g.risks ? `**${g.risks}**` : 0} |`);
        const title = several ? `${g.tenants.length} tenants, the same change (&lt;tenant&gt; stands for each): ${t.change} ${counts(t)}` : `${who(t)}: ${t.change}${cell(statusNote(t))} ${counts(t)}`;
        blocks.push(["<details>", `<summary>${title}</summary>`, "", ...(several ? [names(g.tenants.map((x) => x.slug), 50), ""] : []), "```diff", ...(several ? generic(g.lines, t.slug) : g.lines), "```", "", "</details>", ""]);
    }
    const same = d.tenants.filter((t) => t.change === "unchanged").map((t) => t.slug);
    const tail = same.length ? [`Unchanged: ${names(same, 50)}`] : [];
    return fit([...head, ...table, ""], blocks, budget, opts, tail);
}
