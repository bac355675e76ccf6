/**
 * Which certificates a tenant's host names need, and how many the load balancer carries: pure decisions shared by the
 * validation (tenants/registry.ts) and the components that build them, so both always agree.
 */

/** ACM's limit on a certificate's main name (its CN); subject alternative names may be longer (up to 253). */
export const ACM_MAIN_NAME_MAX = 64;

/** The default per-listener quota of certificates besides the default one ("Certificates per Application Load Balancer"). */
export const DEFAULT_CERTIFICATES_PER_LISTENER = 25;

/** A custom domain of a tenant file; `verified` once its owner has published the DNS validation record. */
export interface CustomDomain {
    name: string;
    verified: boolean;
}

/** The names of one ACM certificate: its main name and the rest as SANs. */
export interface CertificateNames {
    domainName: string;
    subjectAlternativeNames: string[];
}

/** The name without a leading `*.`: a wildcard and its apex are validated by the same DNS record. */
export function validationBase(domainName: string): string {
    return domainName.replace(/^\*\./, "");
}

/** True when `domainName` (or the apex of a wildcard) is `zoneDomain` or under it. */
export function inZone(domainName: string, zoneDomain: string): boolean {
    const d = validationBase(domainName).toLowerCase().replace(/\.$/, "");
    const z = zoneDomain.toLowerCase().replace(/\.$/, "");
    return d === z || d.endsWith(`.${z}`);
}

/**
 * Certificate names split by who can validate them, one name per DNS record
 * (the first name of each validation base: `*.x.com` and `x.com` share one record).
 */
export function validationPlan(domainNames: string[], zoneDomain: string): { inZone: string[]; external: string[] } {
    const seen = new Set<string>();
    const plan = { inZone: [] as string[], external: [] as string[] };
    for (const d of domainNames) {
        const base = validationBase(d).toLowerCase();
        if (seen.has(base)) continue;
        seen.add(base);
        (inZone(d, zoneDomain) ? plan.inZone : plan.external).push(d);
    }
    return plan;
}

/** True when `*.<zoneDomain>` (the shared load balancer's certificate) covers `name`: exactly one label under the zone. */
export function coveredByZoneWildcard(name: string, zoneDomain: string): boolean {
    const suffix = `.${zoneDomain}`;
    return name.endsWith(suffix) && !name.slice(0, -suffix.length).includes(".");
}

/**
 * Main name and SANs for a certificate of `names`, within ACM's 64-character limit on the main name: the first name when
 * it fits (so existing certificates keep theirs), else the shortest that does, else `lead` (a short name we validate
 * ourselves, put in front so long names can ride as SANs). Undefined when nothing fits.
 */
export function certificateNames(names: readonly string[], lead?: string): CertificateNames | undefined {
    const [first] = names;
    if (first === undefined) return undefined;
    const fits = (n: string) => n.length <= ACM_MAIN_NAME_MAX;
    const main = fits(first)
        ? first
        : names.filter(fits).reduce<string | undefined>((best, n) => (best === undefined || n.length < best.length ? n : best), undefined) ??
          (lead !== undefined && fits(lead) ? lead : undefined);
    if (main === undefined) return undefined;
    return { domainName: main, subjectAlternativeNames: names.filter((n) => n !== main) };
}

/** The certificate of one custom domain outside the stack's zone. */
export interface ExternalCertificate extends CertificateNames {
    /** The custom domain it is for (its main name, or a SAN when longer than 64 characters). */
    domain: string;
    /** Attached to the listener (and waited for) only when true. */
    verified: boolean;
}

export interface TenantCertificates {
    /**
     * Names we validate ourselves, in the stack's zone, so nothing waits on anyone else's DNS. Dedicated: the default
     * certificate of the tenant's own listener (its host name and in-zone custom domains). Shared and hybrid: only the
     * in-zone custom domains the shared load balancer's `*.<domain>` does not cover; undefined when there are none.
     */
    zone?: CertificateNames;
    /** One certificate per custom domain outside the zone: requested at once, attached only once verified. */
    external: ExternalCertificate[];
    /** Names no certificate can carry: every candidate main name is longer than 64 characters. */
    unfit: string[];
    /** Certificates this tenant adds to its listener besides the listener's default certificate (the quota counts these). */
    listenerCertificates: number;
}

/**
 * The certificates of a served tenant. `hostname` is `<subdomain>.<domain>`. Each out-of-zone domain gets its own
 * certificate so one customer's missing record never holds back another name, and flipping or removing one domain
 * leaves the others' certificates untouched.
 */
export function tenantCertificates(input: {
    dedicated: boolean;
    hostname: string;
    customDomains: readonly CustomDomain[];
    zoneDomain: string;
}): TenantCertificates {
    const { dedicated, hostname, zoneDomain } = input;
    const ours = input.customDomains.filter((d) => inZone(d.name, zoneDomain)).map((d) => d.name);
    const theirs = input.customDomains.filter((d) => !inZone(d.name, zoneDomain));
    const unfit: string[] = [];
    const zoneNames = dedicated ? [hostname, ...ours] : ours.filter((n) => !coveredByZoneWildcard(n, zoneDomain));
    // A short name we validate ourselves can lead a certificate whose own names are all too long.
    const lead = [hostname, ...ours].reduce((best, n) => (n.length < best.length ? n : best));
    let zone: CertificateNames | undefined;
    if (zoneNames.length) {
        zone = certificateNames(zoneNames, lead);
        if (!zone) unfit.push(...zoneNames);
    }
    const external: ExternalCertificate[] = [];
    for (const d of theirs) {
        const names = certificateNames([d.name], lead);
        if (names) external.push({ domain: d.name, verified: d.verified, ...names });
        else unfit.push(d.name);
    }
    const listenerCertificates = (!dedicated && zone ? 1 : 0) + external.filter((c) => c.verified).length;
    return { ...(zone ? { zone } : {}), external, unfit, listenerCertificates };
}
