import * as fs from "fs";
import * as path from "path";
import { execFile, spawnSync } from "child_process";
import type { Plan } from "../../tools/plan/model";
import { FIXTURE_TENANTS, fixtureRepo } from "../support/fixtureRepo";
import { makeTempDir, removeAfterFile } from "../support/tempDirs";
import { baseStackConfig, makeRepo } from "../tenants/fixtures";

/** The repository's code (the tools run from here); the stacks they read come from `repo()`. */
const CODE_ROOT = path.resolve(__dirname, "../..");

/** The fixture repository of the current test file, made on first use and removed after the file. */
let fixture: { root: string } | undefined;
const tempDir = makeTempDir;

/** The fixture repository of this test file (tests/support/fixtureRepo.ts): its `dev` and `prod` stacks. */
export function repo(): string {
    // Removed after each file (tests/support/afterEachFile.ts) while this module lives on in the worker: make anew.
    if (!fixture || !fs.existsSync(fixture.root)) {
        const made = fixtureRepo();
        removeAfterFile(made.root);
        fixture = made;
    }
    return fixture.root;
}

/** Edits of a copied tenant directory: file name → new content, a transform of the old content, or null to delete. */
export type TenantEdits = Record<string, string | ((old: string) => string) | null>;

/** A temp copy of the fixture stack's tenant files with `edits` applied; absolute path. */
export function tenantDir(edits: TenantEdits = {}, stack: "dev" | "prod" = "dev"): string {
    const dir = tempDir(`tenancy-plan-${stack}-`);
    for (const [name, text] of Object.entries(FIXTURE_TENANTS[stack])) fs.writeFileSync(path.join(dir, name), text);
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

/**
 * Runs `tools/<script> ...args` as `npm run` would, against the fixture repository (TENANCY_ROOT). Node loads tsx
 * directly (`node --import tsx`): going through npx costs most of a second per call.
 */
export function runTool(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join("tools", script), ...args], {
        cwd: CODE_ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, TENANCY_ROOT: repo() },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `runTool` without blocking the test process, so that independent CLI runs can overlap. */
export function runToolAsync(script: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(process.execPath, ["--import", "tsx", path.join("tools", script), ...args], {
            cwd: CODE_ROOT,
            encoding: "utf8",
            timeout: 120_000,
            maxBuffer: 64 * 1024 * 1024,
            env: { ...process.env, TENANCY_ROOT: repo() },
        }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : null) : 0;
            resolve({ status: code, stdout, stderr });
        });
    });
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

/** Tenants of the small fleet fixture: one shared tenant per cell, one hybrid, one dedicated. */
export const FLEET_TENANTS: Record<string, string> = {
    "alpha.yaml": "slug: alpha\ndisplayName: Alpha Inc\n",
    "bravo.yaml": "slug: bravo\ndisplayName: Bravo Inc\ncell: b\n",
    "charlie.yaml": "slug: charlie\ndisplayName: Charlie Inc\ntier: hybrid\n",
    "delta.yaml": "slug: delta\ndisplayName: Delta Inc\ntier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\n",
};

/** Shared settings of the fleet fixture: two cells. */
export const FLEET_SHARED = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { main: {}, b: { maxCapacity: 8 } } };

/**
 * A temp repository with environment `test` in `layout` (two cells, the tenants given), removed after the test file.
 * Small on purpose: a fleet plan records one stack per cell and per tenant.
 */
export function fleetRepo(layout: "single" | "fleet", files: Record<string, string> = FLEET_TENANTS, extra: Record<string, unknown> = {}): string {
    const root = makeRepo(files, baseStackConfig({ "tenancy:layout": layout, "tenancy:shared": FLEET_SHARED, ...extra }));
    removeAfterFile(root);
    return root;
}
