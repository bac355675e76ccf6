import * as path from "path";
import { parseArgs, type ParseArgsConfig } from "util";
import { RegistryError, formatProblem, type Problem } from "../tenants/problems";

/** Repository root: the tools run from anywhere inside it. */
export const ROOT = path.resolve(__dirname, "..");

/**
 * Where the stack tools (validate, plan, sql) find `Pulumi.<stack>.yaml` and the tenant directories: this repository,
 * or the directory in `TENANCY_ROOT` (another checkout of the stacks; the tests point it at fixture repositories).
 */
export const STACKS_ROOT = process.env["TENANCY_ROOT"] ? path.resolve(process.env["TENANCY_ROOT"]) : ROOT;

/** Exit code for usage errors (bad flags, unreadable files). */
export const EXIT_USAGE = 1;

/** Parses flags; on a usage error prints the message and the usage line, and exits 1. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(usage: string, options: T, allowPositionals = false) {
    try {
        return parseArgs({ options, allowPositionals, strict: true });
    } catch (e) {
        console.error(`${(e as Error).message}\nusage: ${usage}`);
        process.exit(EXIT_USAGE);
    }
}

/** Prints a user's mistake without a stack trace and exits non-zero; anything else is a bug and keeps its trace. */
export function failOnRegistryError(e: unknown): never {
    if (e instanceof RegistryError) {
        printNotices(e.notices);
        console.error(e.problems.map(formatProblem).join("\n"));
        console.error(`\n${e.problems.length} problem${e.problems.length === 1 ? "" : "s"} found; nothing was planned or changed.`);
        process.exit(EXIT_USAGE);
    }
    throw e;
}

/** What the user should know but is not wrong (ignored files), on stderr so it never mixes with a tool's output. */
export function printNotices(notices: readonly Problem[] = []): void {
    for (const n of notices) console.error(`notice: ${formatProblem(n)}`);
}

/** A plain text table with left-aligned columns. */
export function table(headers: string[], rows: string[][]): string {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) => cells.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
    return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
