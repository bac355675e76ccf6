/**
 * Which stacks of an environment a run touches. Pure: the stacks (model/fleet.ts), the tenants asked for and the files
 * changed since a commit in, the selected stacks (in schedule order) and why each was selected out.
 *
 * Release waves build on this: a wave is a selection of tenant stacks (by tier, cell or a tag of the tenant file), run
 * with the same runner after the previous wave's health gate (its tenants' alarms) passed; `selectStacks` stays the
 * first filter and waves partition its tenant stacks.
 */
import * as path from "path";
import type { FleetStack } from "../model/fleet";

/** Paths whose change may change what every stack declares: the program, its dependencies, the project. */
const PROGRAM_PATHS = [/^components\//, /^stacks\//, /^model\//, /^tenants\/[^/]+\.(ts|json)$/, /^package(-lock)?\.json$/, /^Pulumi\.yaml$/, /^tsconfig\.json$/];

export interface Selection {
    /** Tenant slugs asked for with `--tenant`; undefined selects every stack. */
    tenants?: readonly string[];
    /** Files changed since `--changed-since` (repository-relative); undefined when not asked. */
    changedFiles?: readonly string[];
}

export interface SelectionContext {
    env: string;
    /** The environment's tenant directory, repository-relative (`tenants/prod`). */
    tenantsDir: string;
}

export interface SelectionResult {
    /** The selected stacks, in the order given (schedule order). */
    stacks: FleetStack[];
    /** Stack name → why it is selected. */
    reasons: Map<string, string>;
    /** Tenants asked for that the environment does not have. */
    unknownTenants: string[];
    /** Tenant files changed or removed whose tenant has no stack any more: never destroyed by the orchestrator. */
    removedTenants: string[];
}

/** Whether a changed file is part of the program (so every stack may change). */
export function isProgramFile(file: string): boolean {
    return PROGRAM_PATHS.some((p) => p.test(file));
}

/** The stack holding a tenant: its own in a fleet, the environment's in the single layout. */
function stackOfTenant(stacks: readonly FleetStack[], slug: string): FleetStack | undefined {
    return stacks.find((s) => s.role === "tenant" && s.tenants.includes(slug)) ?? stacks.find((s) => s.tenants.includes(slug));
}

export function selectStacks(stacks: readonly FleetStack[], selection: Selection, ctx: SelectionContext): SelectionResult {
    const unknownTenants: string[] = [];
    const removedTenants = new Set<string>();
    // Each criterion asked for gives the stacks it selects, with a reason; a stack must pass every criterion asked for.
    const criteria: Map<string, string>[] = [];
    if (selection.tenants !== undefined) {
        const asked = new Map<string, string>();
        for (const slug of selection.tenants) {
            const s = stackOfTenant(stacks, slug);
            if (s) asked.set(s.name, asked.get(s.name) ?? `--tenant ${slug}`);
            else unknownTenants.push(slug);
        }
        criteria.push(asked);
    }
    if (selection.changedFiles !== undefined) {
        const changed = new Map<string, string>();
        const all = (why: string) => stacks.forEach((s) => changed.set(s.name, changed.get(s.name) ?? why));
        const tenantDir = ctx.tenantsDir.replace(/^\.\//, "").replace(/\/+$/, "");
        for (const file of selection.changedFiles) {
            if (isProgramFile(file)) all(`program changed (${file})`);
            else if (file === `Pulumi.${ctx.env}.yaml`) all(`config changed (${file})`);
            else if (path.posix.dirname(file) === tenantDir && /\.ya?ml$/.test(file)) {
                const slug = path.posix.basename(file).replace(/\.ya?ml$/, "");
                const s = stackOfTenant(stacks, slug);
                if (s) changed.set(s.name, changed.get(s.name) ?? `tenant file changed (${file})`);
                else removedTenants.add(slug);
            } else if (path.posix.dirname(file) === `${tenantDir}/.moves` && file.endsWith(".json")) {
                // A move's receipt changes what the tenant's stack declares (registry at the target, the source retiring).
                const s = stackOfTenant(stacks, path.posix.basename(file, ".json"));
                if (s) changed.set(s.name, changed.get(s.name) ?? `move receipt changed (${file})`);
            }
        }
        criteria.push(changed);
    }
    const reasons = new Map<string, string>();
    const kept = stacks.filter((s) => {
        if (criteria.length === 0) {
            reasons.set(s.name, "every stack");
            return true;
        }
        if (!criteria.every((c) => c.has(s.name))) return false;
        reasons.set(s.name, criteria.map((c) => c.get(s.name)!).join("; "));
        return true;
    });
    return { stacks: kept, reasons, unknownTenants, removedTenants: [...removedTenants].sort() };
}
