/** Host names we can answer for: the zone's domain itself or names under it. Custom domains elsewhere are the customer's DNS. */
export function dnsNamesInZone(hostnames: readonly string[], zoneDomain: string): string[] {
    return hostnames.filter((h) => h === zoneDomain || h.endsWith(`.${zoneDomain}`));
}
