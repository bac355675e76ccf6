import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { ROOT } from "../../tools/cli";
import type { Plan } from "../../tools/plan/model";

/** Temp directories made by these helpers, removed when the test process exits. */
const made: string[] = [];
process.on("exit", () => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
};

/** Edits of a copied tenant directory: file name → new content, a transform of the old content, or null to delete. */
export type TenantEdits = Record<string, string | ((old: string) => string) | null>;

/** A temp copy of `tenants/<stack>` with `edits` applied; absolute path. */
export function tenantDir(edits: TenantEdits = {}, stack = "dev"): string {
    const dir = tempDir(`tenancy-plan-${stack}-`);
    const src = path.join(ROOT, "tenants", stack);
    for (const name of fs.readdirSync(src)) fs.copyFileSync(path.join(src, name), path.join(dir, name));
    for (const [name, edit] of Object.entries(edits)) {
        const file = path.join(dir, name);
        if (edit === null) fs.rmSync(file);
        else fs.writeFileSync(file, typeof edit === "function" ? edit(fs.readFileSync(file, "utf8")) : edit);
    }
    return dir;
}

/** Sets (or adds) a top-level scalar field of a tenant file. */
export const setField = (field: string, value: string) => (text: string): string => {
    const re = new RegExp(`^${field}:.*$`, "m");
    return re.test(text) ? text.replace(re, `${field}: ${value}`) : `${text.trimEnd()}\n${field}: ${value}\n`;
};

/** Runs `npx tsx tools/<script> ...args` from the repository root, as `npm run` would. */
export function runTool(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("npx", ["tsx", path.join("tools", script), ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a plan to a temp JSON file (as `npm run plan -- --format json` would) and returns its path. */
export function writePlan(text: string): string {
    const dir = tempDir("tenancy-planfile-");
    const file = path.join(dir, "plan.json");
    fs.writeFileSync(file, text);
    return file;
}

/** A deep copy of a plan to edit in a test. */
export const clonePlan = (p: Plan): Plan => structuredClone(p);
