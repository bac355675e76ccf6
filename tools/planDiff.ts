/**
 * `npm run plan:diff -- <base.json> <head.json> [--format text|markdown|json]`
 *
 * Diffs two offline plans (`npm run plan -- --format json`) per stack and tenant and runs the data-loss guard; names the
 * stacks a change touches (a line of text and Markdown, `touchedStacks` in JSON).
 * Exit 0: nothing risky. Exit 2: a stateful resource would be deleted, replaced or renamed (loud warning).
 * Exit 1: usage errors (flags, unreadable or invalid plan files, plans of two different stacks).
 * Markdown (a pull-request comment) stays under GitHub's comment limit; `--full-diff-url` links the full diff there.
 */
import * as fs from "fs";
import { EXIT_USAGE, parseFlags } from "./cli";
import { diffPlans, EXIT_RISKY, type PlanDiff } from "./plan/diff";
import { parsePlan, type Plan } from "./plan/model";
import { renderDiffJson, renderDiffMarkdown, renderDiffText } from "./plan/renderDiff";
import { rulesMarkdown } from "./plan/replacements";

const USAGE = "npm run plan:diff -- <base.json> <head.json> [--format text|markdown|json] [--full-diff-url <url>]  (or --rules: print the guard's table)";

function usageError(message: string): never {
    console.error(`${message}\nusage: ${USAGE}`);
    process.exit(EXIT_USAGE);
}

function load(file: string): Plan {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        usageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
        return parsePlan(text, file);
    } catch (e) {
        usageError((e as Error).message);
    }
}

const { values, positionals } = parseFlags(
    USAGE,
    { format: { type: "string", default: "text" }, rules: { type: "boolean", default: false }, "full-diff-url": { type: "string" } },
    true,
);

function run(): void {
    if (values.format !== "text" && values.format !== "markdown" && values.format !== "json") usageError(`--format '${values.format}' is not supported (allowed: text, markdown, json)`);
    if (positionals.length !== 2) usageError(`expected two plan files, got ${positionals.length}`);
    let diff: PlanDiff;
    try {
        diff = diffPlans(load(positionals[0]!), load(positionals[1]!));
    } catch (e) {
        usageError((e as Error).message);
    }
    const render = { markdown: () => renderDiffMarkdown(diff, { fullDiffUrl: values["full-diff-url"] }), json: () => renderDiffJson(diff), text: () => renderDiffText(diff) }[values.format];
    process.stdout.write(render());
    if (diff.guardFires) {
        const n = diff.risks.filter((r) => !r.exempt).length;
        console.error(`\nDATA-LOSS GUARD: ${n} risky change${n === 1 ? "" : "s"} (see above); exit ${EXIT_RISKY}.`);
        // exitCode, not exit(): a long diff piped to another process must be written out in full first.
        process.exitCode = EXIT_RISKY;
    }
}

if (values.rules) process.stdout.write(`${rulesMarkdown()}\n`);
else run();
