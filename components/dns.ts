/** Host names we can answer for: the zone's domain itself or names under it. Custom domains elsewhere are the customer's DNS. */
export function dnsNamesInZone(hostnames: readonly string[], zoneDomain: string): string[] {
    return hostnames.filter((h) => h === zoneDomain || h.endsWith(`.${zoneDomain}`));
}

/**
 * A stable ALB listener-rule priority for a tenant (1-50000), derived from its slug so adding or removing another
 * tenant never renumbers it. `taken` resolves the rare hash collision by probing upwards, in slug order.
 */
export function listenerRulePriority(slug: string, taken: ReadonlySet<number>): number {
    let h = 2166136261;
    for (const ch of slug) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    let p = (h % 49000) + 1000;
    while (taken.has(p)) p = p >= 50000 ? 1000 : p + 1;
    return p;
}
