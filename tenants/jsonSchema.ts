import { z } from "zod";
import { TenantFileSchema } from "./schema";

/** Where the generated schema is committed, relative to the repository root. */
export const TENANT_SCHEMA_PATH = "tenants/tenant.schema.json";

/** JSON Schema of a tenant file, as editors read it (input side: defaults are optional). */
export function tenantJsonSchema(): string {
    const schema = z.toJSONSchema(TenantFileSchema, { io: "input", target: "draft-7" });
    return `${JSON.stringify({ ...schema, $id: "https://tenancy.dev/schemas/tenant.schema.json", title: "tenancy tenant file" }, null, 2)}\n`;
}
