import type { Tier } from "../tenants/schema";

/** Tag keys the platform sets on every resource; cost reports split by them. */
export const TAG_TENANT = "tenancy:tenant";
export const TAG_TIER = "tenancy:tier";
export const TAG_STACK = "tenancy:stack";

/** What a resource belongs to: the whole platform (no tenant) or one tenant. */
export interface Ownership {
    stack: string;
    /** `platform` for shared infrastructure that serves every tier. */
    tier: Tier | "platform";
    /** Slug, for resources that belong to one tenant. */
    tenant?: string;
    /** The tenant's own cost-allocation tags. */
    extra?: Record<string, string>;
}

/** Tags for one resource: the tenant's own tags first, so the platform's keys always win. */
export function ownershipTags(o: Ownership): Record<string, string> {
    return {
        ...(o.extra ?? {}),
        [TAG_STACK]: o.stack,
        [TAG_TIER]: o.tier,
        ...(o.tenant ? { [TAG_TENANT]: o.tenant } : {}),
    };
}
