/** Physical names that are part of the contract (schemas, roles, secrets). Everything else is auto-named. */

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

/** Secrets Manager name of a tenant's database credentials, e.g. `tenancy/prod/acme/db-runtime`. */
export function tenantSecretName(stack: string, slug: string, purpose: string): string {
    return `tenancy/${stack}/${slug}/${purpose}`;
}

/** SSM parameter of a tenant in the runtime registry the shared app reads. */
export function tenantParameterName(stack: string, slug: string): string {
    return `/tenancy/${stack}/tenants/${slug}`;
}
