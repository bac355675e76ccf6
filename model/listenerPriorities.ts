/**
 * Priorities of tenants' rules on the shared ALB's HTTPS listener (a suspended tenant's maintenance rule). Pure; no Pulumi.
 * Computed over the whole environment's registry, so a fleet's tenant stack (which declares only its own tenant) gets
 * the same number as the single stack and no two tenants of the environment share one.
 */

/** Lowest priority a tenant's rule gets; below it is left for the platform's own rules. */
export const FIRST_TENANT_PRIORITY = 1000;
/** ALB's highest rule priority. */
export const LAST_PRIORITY = 50000;

/** FNV-1a of the slug: stable across runs, machines and Node versions. */
function slugHash(slug: string): number {
    let h = 2166136261;
    for (const ch of slug) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return h;
}

/**
 * A priority per slug (1000-50000), derived from the slug so adding or removing another tenant never renumbers it,
 * barring a hash collision: those are resolved by probing upwards, in slug order.
 */
export function listenerRulePriorities(slugs: readonly string[]): Map<string, number> {
    const span = LAST_PRIORITY - FIRST_TENANT_PRIORITY;
    const taken = new Set<number>();
    const out = new Map<string, number>();
    for (const slug of [...new Set(slugs)].sort((a, b) => a.localeCompare(b))) {
        let p = (slugHash(slug) % span) + FIRST_TENANT_PRIORITY;
        while (taken.has(p)) p = p >= LAST_PRIORITY ? FIRST_TENANT_PRIORITY : p + 1;
        taken.add(p);
        out.set(slug, p);
    }
    return out;
}
