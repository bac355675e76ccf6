/** Physical names that are part of the contract (schemas, roles, secrets). Everything else is auto-named. */
import { CELL_STACK_PREFIX, DEFAULT_CELL } from "../model/fleet";

/** `acme-corp` → `acme_corp`: PostgreSQL identifiers without quoting. */
function pgSafe(slug: string): string {
    return slug.replace(/-/g, "_");
}

/** Schema of a shared tenant on the shared cluster. */
export function tenantSchemaName(slug: string): string {
    return `t_${pgSafe(slug)}`;
}

/** Role that owns the tenant schema and runs migrations. */
export function tenantOwnerRoleName(slug: string): string {
    return `t_${pgSafe(slug)}_owner`;
}

/** Role the shared app uses at runtime for this tenant: data access only. */
export function tenantRuntimeRoleName(slug: string): string {
    return `t_${pgSafe(slug)}_app`;
}

/** NOLOGIN group every tenant role belongs to; it alone holds CONNECT on the app database. */
export const TENANTS_GROUP_ROLE = "tenancy_tenants";

/** Read-only role for platform reporting across every tenant schema. */
export const REPORTING_ROLE = "tenancy_reporting";

/** Login role of a cell's schema dump job: a member of the reporting role, so it reads every tenant schema and writes none. */
export const BACKUP_ROLE = "tenancy_backup";

/**
 * Secrets Manager name stem of a tenant's credentials, e.g. `tenancy/prod/acme/db-runtime` (a moved tenant's placement
 * `tenancy/prod/acme/hybrid/db-runtime`). Secrets get it as a
 * `namePrefix` (AWS appends `-<unique>`): a re-created secret (tier move shared → hybrid → shared, dev rebuild) never
 * collides with its predecessor still waiting out its recovery window. Policies match it as `<stem>-*`.
 */
export function tenantSecretName(stack: string, slug: string, purpose: string, label = ""): string {
    // A move's target carries its placement's label: both placements' secrets exist at once (tenants/moves.ts).
    return label ? `tenancy/${stack}/${slug}/${label}/${purpose}` : `tenancy/${stack}/${slug}/${purpose}`;
}

/** Suffix of a name for a placement's label: "" for a tenant that never moved, `-<label>` otherwise. */
export function labelSuffix(label: string | undefined): string {
    return label ? `-${label}` : "";
}

/** Days a deleted secret can be restored: 30 (the maximum) where data is protected; 0 (deleted at once) elsewhere. */
export function secretRecoveryWindowDays(protect: boolean): number {
    return protect ? 30 : 0;
}

/** Where a tenant's RDS instance serves from; part of its identifier. */
export type InstancePlacement = "hybrid" | "dedicated";

/**
 * `tenancy-<stack>-<placement>-<slug>`: the RDS identifier of a hybrid or dedicated tenant's instance. The placement is
 * part of it because Pulumi creates a new placement's instance before deleting the old one (different URNs): a tier
 * move hybrid ↔ dedicated in one region would otherwise collide on the identifier and its log group names.
 */
export function instanceIdentifier(stack: string, slug: string, placement: InstancePlacement): string {
    return `tenancy-${stack}-${placement}-${slug}`;
}

/** SSM parameter of a tenant in the runtime registry the shared app reads. */
export function tenantParameterName(stack: string, slug: string): string {
    return `/tenancy/${stack}/tenants/${slug}`;
}

/** Physical names of one shared database cell (an Aurora cluster); see {@link cellNaming}. */
export interface CellNaming {
    /** RDS cluster identifier, also in its log group's name. */
    clusterIdentifier: string;
    /** Owner segment of the cell's secrets: `tenancy/<env>/<owner>/db-admin`, `…/db-reporting`. */
    secretOwner: string;
}

/**
 * Physical names of a cell. Cell `main` keeps the names the shared cluster had before cells (`tenancy-<env>-shared`,
 * `tenancy/<env>/platform/db-admin`), so an existing environment keeps its cluster and secrets; any other cell is
 * `tenancy-<env>-cell-<name>`, `tenancy/<env>/cell-<name>/db-admin`. Cell names are short (model/fleet.ts), so the
 * identifier stays within RDS's 63 characters for any environment name the stack config allows.
 */
export function cellNaming(env: string, cell: string): CellNaming {
    if (cell === DEFAULT_CELL) return { clusterIdentifier: `tenancy-${env}-shared`, secretOwner: "platform" };
    return { clusterIdentifier: `tenancy-${env}-${CELL_STACK_PREFIX}${cell}`, secretOwner: `${CELL_STACK_PREFIX}${cell}` };
}
