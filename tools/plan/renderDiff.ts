/** A plan diff as text (terminal, CI log) or Markdown (pull-request comment). */
import type { ChangedPath, PlanDiff, Risk, TenantDiff } from "./diff";
import { cell } from "./renderMarkdown";

/** Longest value shown for one side of a changed path; the JSON plans hold the full values. */
const MAX_VALUE = 100;

function show(v: unknown): string {
    if (v === undefined) return "(absent)";
    const s = JSON.stringify(v) ?? String(v);
    return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
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
    return `${p.path}: ${show(p.before)} → ${show(p.after)}${mark}`;
}

function counts(t: TenantDiff): string {
    return `+${t.added.length} -${t.removed.length} ~${t.changed.length}`;
}

export function renderDiffText(d: PlanDiff): string {
    const lines = [`Plan diff: stack ${d.base.stack} → ${d.head.stack}`, ""];
    const firing = d.risks.filter((r) => !r.exempt);
    const exempt = d.risks.filter((r) => r.exempt);
    if (firing.length) {
        const bar = "!".repeat(78);
        lines.push(bar, `!! DATA-LOSS GUARD: ${firing.length} change${firing.length === 1 ? "" : "s"} would delete or replace data. Do not apply without a plan for the data.`, bar);
        for (const r of firing) lines.push(`  ✗ ${r.reason}`, `      ${r.urn}`);
        lines.push("");
    }
    if (exempt.length) {
        lines.push("Exempt (tenant offboarded through its status):");
        for (const r of exempt) lines.push(`  • ${r.reason}`);
        lines.push("");
    }
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

export function renderDiffMarkdown(d: PlanDiff): string {
    const firing = d.risks.filter((r) => !r.exempt);
    const exempt = d.risks.filter((r) => r.exempt);
    const lines = [`### Plan diff: stack \`${d.head.stack}\``, ""];
    if (firing.length) {
        lines.push("> [!CAUTION]", `> **Data-loss guard: ${firing.length} change${firing.length === 1 ? "" : "s"} would delete or replace data.**`, ">");
        for (const r of firing) lines.push(`> - ${cell(r.reason)}`);
        lines.push("");
    } else {
        lines.push("No data-loss risk.", "");
    }
    if (exempt.length) {
        lines.push("Exempt (tenant offboarded through its status):", "", ...exempt.map((r) => `- ${cell(r.reason)}`), "");
    }
    const changed = d.tenants.filter((t) => t.change !== "unchanged");
    if (!changed.length) {
        lines.push("No resource changes.");
        return `${lines.join("\n")}\n`;
    }
    lines.push("| Tenant | Change | Status | Added | Removed | Changed | Risks |", "|---|---|---|---:|---:|---:|---:|");
    for (const t of changed) {
        const risks = d.risks.filter((r) => r.tenant === t.slug && !r.exempt).length;
        const status = t.slug === null ? "" : t.statusBefore === t.statusAfter ? (t.statusAfter ?? "") : `${t.statusBefore ?? "–"} → ${t.statusAfter ?? "–"}`;
        lines.push(`| ${t.slug === null ? "_platform_" : `\`${t.slug}\``} | ${t.fileDeleted ? "**file deleted**" : t.change} | ${status} | ${t.added.length} | ${t.removed.length} | ${t.changed.length} | ${risks ? `**${risks}**` : 0} |`);
    }
    lines.push("");
    for (const t of changed) {
        lines.push("<details>", `<summary>${who(t)}: ${t.change}${cell(statusNote(t))} ${counts(t)}</summary>`, "", "```diff");
        for (const f of t.fields) lines.push(`* tenant ${pathLine(f)}`);
        for (const r of t.added) lines.push(`+ ${r.type}  ${r.name}`);
        for (const r of t.removed) lines.push(`- ${r.type}  ${r.name}${r.protect ? "  [protected]" : ""}`);
        for (const c of t.changed) {
            lines.push(`! ${c.type}  ${c.name}${c.effect === "update" ? "" : `  (${c.effect})`}`);
            for (const p of c.paths) lines.push(`    ${pathLine(p)}`);
        }
        lines.push("```", "", "</details>", "");
    }
    const same = d.tenants.filter((t) => t.change === "unchanged").map((t) => `\`${t.slug}\``);
    if (same.length) lines.push(`Unchanged: ${same.join(", ")}`);
    return `${lines.join("\n")}\n`;
}
