/**
 * The offline proof behind `npm run fleet -- adopt`: moving an environment from the single layout to the fleet moves
 * resources between stacks (`pulumi state move`) and must replace, create or delete nothing.
 *
 * {@link adoptionProof} is pure: given the single-layout plan and the fleet-layout plan of the same environment, it
 * says which top-level resources of the single stack move to which fleet stack (`pulumi state move` takes a resource
 * with its children), and every resource the move would replace, create or delete. Resources are matched by URN with
 * the stack part normalized; inputs, parents and options are compared. What a fleet adds by construction is not a
 * change of anyone's infrastructure and is listed apart: the stacks' root resources, explicit providers (Pulumi >= 3.150
 * asks DiffConfig when a resource's provider changes, pulumi/pulumi#18509, so default → explicit with the same config
 * is an update) and StackReference reads.
 */
import { diffValues, providerConfig, type ChangedPath } from "./diff";
import { byConstruction, compare, identityOf, type Plan, type PlanResource } from "./model";
import { effectOfChange } from "./replacements";
import { planEnvironment, type PlanEnvironmentOptions } from "./environment";

export { planEnvironment };

/** Top-level resources of the single stack that move to one fleet stack. */
export interface AdoptionMove {
    /** The destination stack, e.g. `prod.tyrell`. */
    stack: string;
    /** URNs in the single stack (`urn:pulumi:prod::…`), sorted: each moves with its children. */
    urns: string[];
    /** How many resources move in all (the top-level ones and their descendants). */
    resourceCount: number;
}

/** A resource the move would replace, create or delete, or update in place. */
export interface AdoptionChange {
    /** The URN with its stack written `<stack>` (`urn:pulumi:<stack>::tenancy::…`). */
    identity: string;
    type: string;
    name: string;
    /** The fleet stack it is in (for `delete`: the single stack). */
    stack: string;
    /** What differs: input paths, `(parent)`, `(provider)`, `options.<name>`. Empty for a create or delete. */
    paths: ChangedPath[];
}

export interface AdoptionProof {
    env: string;
    /** Destination stacks in the fleet plan's order; resources that stay in `<env>` (the platform) are not listed. */
    moves: AdoptionMove[];
    replaced: AdoptionChange[];
    created: AdoptionChange[];
    deleted: AdoptionChange[];
    /** Updates in place (an option, a parent, dependencies across stacks): shown, not blocking. */
    updated: AdoptionChange[];
    /** What the fleet adds by construction: stack roots, explicit providers, StackReference reads (identities). */
    infrastructureOfTheFleet: string[];
    /** True when nothing is replaced, created or deleted. */
    ok: boolean;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

export { identityOf };

/** Options whose difference the engine acts on, compared between the layouts. */
const COMPARED_OPTIONS = ["protect", "retainOnDelete", "deleteBeforeReplace", "replaceOnChanges", "ignoreChanges"] as const;

/** What differs between a resource's single and fleet declarations, each path with its effect. */
function differences(before: PlanResource, after: PlanResource, single: Plan, fleet: Plan, singleUrns: Map<string, PlanResource>, fleetUrns: Map<string, PlanResource>): ChangedPath[] {
    const paths: ChangedPath[] = diffValues(before.inputs, after.inputs).map((c) => {
        const effect = effectOfChange(after.type, c.path, after.options.replaceOnChanges)?.effect;
        return effect ? { ...c, effect } : c;
    });
    if (before.custom !== after.custom) paths.push({ path: "(custom)", before: before.custom, after: after.custom, effect: "replace" });
    const parent = (r: PlanResource, urns: Map<string, PlanResource>) => {
        // A child of the stack root is top-level in both layouts, whatever the root's name.
        const p = r.parent === null ? undefined : urns.get(r.parent);
        return p?.type === STACK_TYPE ? "(stack)" : r.parent === null ? null : identityOf(r.parent);
    };
    const pb = parent(before, singleUrns);
    const pa = parent(after, fleetUrns);
    if (pb !== pa) paths.push({ path: "(parent)", before: pb, after: pa });
    for (const o of COMPARED_OPTIONS) {
        if (diffValues(before.options[o], after.options[o]).length > 0) paths.push({ path: `options.${o}`, before: before.options[o], after: after.options[o] });
    }
    const norm = (urns: readonly string[]) => urns.map(identityOf).sort(compare);
    if (diffValues(norm(before.options.dependsOn), norm(after.options.dependsOn)).length > 0) {
        // Another stack's resource cannot be a dependency: ordering between stacks is the orchestrator's (platform, cells, tenants).
        paths.push({ path: "options.dependsOn", before: norm(before.options.dependsOn), after: norm(after.options.dependsOn) });
    }
    if (before.custom && before.provider !== after.provider) {
        const b = providerConfig(before.type, before.provider, single.region, singleUrns);
        const a = providerConfig(after.type, after.provider, fleet.region, fleetUrns);
        const same = b !== undefined && a !== undefined && diffValues(b, a).length === 0;
        paths.push({ path: "(provider)", before: b ?? before.provider, after: a ?? after.provider, ...(same ? {} : { effect: "replace" as const }) });
    }
    return paths;
}

const change = (r: PlanResource, paths: ChangedPath[] = []): AdoptionChange => ({ identity: identityOf(r.urn), type: r.type, name: r.name, stack: r.stack, paths });
const byIdentity = (a: AdoptionChange, b: AdoptionChange) => compare(a.identity, b.identity);

/**
 * Compares the single-layout plan and the fleet-layout plan of one environment. Throws when they are not plans of the
 * same environment and project, or when the first is not one stack.
 */
export function adoptionProof(single: Plan, fleet: Plan): AdoptionProof {
    if (single.project !== fleet.project || single.stack !== fleet.stack) {
        throw new Error(`cannot compare plans of different environments: ${single.project}/${single.stack} and ${fleet.project}/${fleet.stack}`);
    }
    if (single.stacks.length !== 1) throw new Error(`the single-layout plan of ${single.stack} has ${single.stacks.length} stacks (expected 1)`);
    const env = single.stack;
    const singleUrns = new Map(single.resources.map((r) => [r.urn, r]));
    const fleetUrns = new Map(fleet.resources.map((r) => [r.urn, r]));
    const fleetBy = new Map<string, PlanResource>();
    const infrastructure = new Set<string>();
    for (const r of fleet.resources) {
        if (byConstruction(r)) infrastructure.add(identityOf(r.urn));
        else fleetBy.set(identityOf(r.urn), r);
    }
    const replaced: AdoptionChange[] = [];
    const deleted: AdoptionChange[] = [];
    const updated: AdoptionChange[] = [];
    const matched = new Set<string>();
    for (const before of single.resources) {
        if (byConstruction(before)) continue;
        const id = identityOf(before.urn);
        const after = fleetBy.get(id);
        if (!after) {
            deleted.push(change(before));
            continue;
        }
        matched.add(id);
        const paths = differences(before, after, single, fleet, singleUrns, fleetUrns);
        if (paths.some((p) => p.effect === "replace")) replaced.push(change(after, paths));
        else if (paths.length > 0) updated.push(change(after, paths));
    }
    const created = [...fleetBy].filter(([id]) => !matched.has(id)).map(([, r]) => change(r));

    // Top-level resources (children of the root) move with their children to the stack that declares them in the fleet.
    const root = single.resources.find((r) => r.type === STACK_TYPE)?.urn;
    const descendants = new Map<string, number>();
    const count = (urn: string): number => {
        let n = descendants.get(urn);
        if (n === undefined) descendants.set(urn, (n = 1 + (children.get(urn) ?? []).reduce((k, c) => k + count(c), 0)));
        return n;
    };
    const children = new Map<string, string[]>();
    for (const r of single.resources) if (r.parent !== null) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
    const moves = new Map<string, AdoptionMove>();
    for (const r of single.resources) {
        if (r.parent !== root || root === undefined || byConstruction(r)) continue;
        const twin = fleetBy.get(identityOf(r.urn));
        if (!twin || twin.stack === env) continue;
        let m = moves.get(twin.stack);
        if (!m) moves.set(twin.stack, (m = { stack: twin.stack, urns: [], resourceCount: 0 }));
        m.urns.push(r.urn);
        m.resourceCount += count(r.urn);
    }
    const order = new Map(fleet.stacks.map((s, i) => [s.name, i]));
    const rank = (s: string) => order.get(s) ?? order.size;
    return {
        env,
        moves: [...moves.values()].sort((a, b) => rank(a.stack) - rank(b.stack) || compare(a.stack, b.stack)).map((m) => ({ ...m, urns: m.urns.sort(compare) })),
        replaced: replaced.sort(byIdentity),
        created: created.sort(byIdentity),
        deleted: deleted.sort(byIdentity),
        updated: updated.sort(byIdentity),
        infrastructureOfTheFleet: [...infrastructure].sort(compare),
        ok: replaced.length === 0 && created.length === 0 && deleted.length === 0,
    };
}

/**
 * Plans the environment in both layouts (offline) and compares them: the proof `fleet adopt` prints before it moves
 * anything. Invalid input throws a RegistryError with every problem, before anything is recorded.
 */
export async function proveAdoption(opts: Omit<PlanEnvironmentOptions, "layout">): Promise<AdoptionProof> {
    const single = await planEnvironment({ ...opts, layout: "single" });
    const fleet = await planEnvironment({ ...opts, layout: "fleet" });
    return adoptionProof(single, fleet);
}
