import { z } from "zod";
import { MAX_TENANT_TAGS, TenantFileSchema } from "./schema";

/** Where the generated schema is committed, relative to the repository root. */
export const TENANT_SCHEMA_PATH = "tenants/tenant.schema.json";

/** JSON Schema of a tenant file, as editors read it (input side: defaults are optional). */
export function tenantJsonSchema(): string {
    const schema = z.toJSONSchema(TenantFileSchema, { io: "input", target: "draft-7" });
    // zod checks the tag count in a refinement, which JSON Schema cannot carry: state it for editors here.
    const tags = (schema.properties as Record<string, Record<string, unknown>> | undefined)?.tags;
    if (tags) tags.maxProperties = MAX_TENANT_TAGS;
    return `${JSON.stringify({ ...schema, $id: "https://tenancy.dev/schemas/tenant.schema.json", title: "tenancy tenant file" }, null, 2)}\n`;
}
