/**
 * Runs the real stack program offline: validates the stack's config and tenants with the registry, then records
 * `main()` of stacks/program.ts under the mock engine with the stack file's configuration. Shared by the plan, the SQL
 * renderer and the tests. No credentials, no network, no Pulumi CLI.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { RecordResult } from "../engine/recorder";
import type { Layout } from "../model/fleet";
import { CONFIG_NAMESPACE } from "../stacks/config";
import { RegistryError } from "../tenants/problems";
import { loadRegistry, readStackFile, type Registry } from "../tenants/registry";

/** Type token of the per-tenant component (components/tenant.ts); its name is the tenant's slug. */
export const TENANT_TYPE = "tenancy:tenant:Tenant";
/** Type token of a shared database cell's component (components/databaseCell.ts); its name is `cell-<name>`. */
export const CELL_TYPE = "tenancy:cell:DatabaseCell";

/** Cell of every resource under a DatabaseCell component (its name without `cell-`); absent for the others. */
export function attributeCells(resources: readonly { urn: string; type: string; name: string; parent: string | null }[]): Map<string, string> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const out = new Map<string, string>();
    for (const r of resources) {
        let cur: typeof r | undefined = r;
        while (cur && cur.type !== CELL_TYPE) cur = cur.parent === null ? undefined : byUrn.get(cur.parent);
        if (cur) out.set(r.urn, cur.name.replace(/^cell-/, ""));
    }
    return out;
}

/** `name:` of the root's `Pulumi.yaml` (part of every URN), or "tenancy" for a root without one (test fixtures). */
export function projectName(root: string): string {
    const file = path.join(root, "Pulumi.yaml");
    if (!fs.existsSync(file)) return "tenancy";
    const project = parse(fs.readFileSync(file, "utf8")) as { name?: unknown } | null;
    return typeof project?.name === "string" ? project.name : "tenancy";
}

export interface RecordStackOptions {
    /** Repository root: holds `Pulumi.<stack>.yaml`; tenant directories are relative to it. */
    root: string;
    /** Stack name, e.g. `dev`. */
    stack: string;
    /** Tenant directory (relative to `root` or absolute) instead of the stack's `tenancy:tenantsDir`. */
    tenantsDir?: string;
    /** Replace secret values with `[secret]`. Defaults to true. */
    maskSecrets?: boolean;
    /**
     * Record the environment in this layout instead of its `tenancy:layout`: `single` gives every cell and tenant of a
     * fleet in one recording, with the same components and logical names (what `npm run sql` renders).
     */
    layout?: Layout;
}

/** The validated registry and everything the program declared. */
export interface StackRecording {
    registry: Registry;
    recording: RecordResult;
}

/**
 * Validates, then records the stack program. Throws a {@link RegistryError} with every problem before any resource is
 * registered when the config or a tenant file is invalid.
 */
export async function recordStack(opts: RecordStackOptions): Promise<StackRecording> {
    const { stackFile, problems } = readStackFile(opts.root, opts.stack);
    if (!stackFile) throw new RegistryError(problems);
    const registry = loadRegistry({ root: opts.root, stack: opts.stack, tenantsDir: opts.tenantsDir });
    const config = { ...stackFile.pulumiConfig };
    // The program reads its tenant directory from config: an override must reach it there.
    if (opts.tenantsDir !== undefined) config[`${CONFIG_NAMESPACE}:tenantsDir`] = opts.tenantsDir;
    if (opts.layout !== undefined) config[`${CONFIG_NAMESPACE}:layout`] = opts.layout;
    // Loaded only now: the Pulumi SDK and providers take seconds to load, a user's mistake should not wait for them.
    const [{ record }, { main }] = await Promise.all([import("../engine/recorder"), import("../stacks/program")]);
    const root = path.resolve(opts.root);
    const recording = await record(() => main(root), {
        project: projectName(root),
        stack: opts.stack,
        config,
        secretKeys: stackFile.secretKeys,
        maskSecrets: opts.maskSecrets ?? true,
    });
    return { registry, recording };
}

/**
 * Tenant slug of every resource: the name of the nearest `tenancy:tenant:Tenant` ancestor (or the resource itself).
 * Memoized per URN so deep trees stay linear.
 */
export function attributeTenants(resources: readonly { urn: string; type: string; name: string; parent: string | null }[]): Map<string, string | null> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const memo = new Map<string, string | null>();
    const resolve = (urn: string): string | null => {
        const known = memo.get(urn);
        if (known !== undefined) return known;
        // Walk up until a tenant, a memoized ancestor or the root; then fill the memo for the whole path.
        const path: string[] = [];
        let slug: string | null = null;
        let cur: string | null = urn;
        while (cur !== null) {
            const hit = memo.get(cur);
            if (hit !== undefined) {
                slug = hit;
                break;
            }
            const r = byUrn.get(cur);
            if (!r) break;
            path.push(cur);
            if (r.type === TENANT_TYPE) {
                slug = r.name;
                break;
            }
            cur = r.parent;
        }
        for (const p of path) memo.set(p, slug);
        return slug;
    };
    for (const r of resources) resolve(r.urn);
    return memo;
}

