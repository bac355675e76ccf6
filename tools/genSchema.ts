/** `npm run schema`: regenerates tenants/tenant.schema.json from the zod schema, for editors. */
import * as fs from "fs";
import * as path from "path";
import { TENANT_SCHEMA_PATH, tenantJsonSchema } from "../tenants/jsonSchema";
import { ROOT } from "./cli";

fs.writeFileSync(path.join(ROOT, TENANT_SCHEMA_PATH), tenantJsonSchema());
console.log(`wrote ${TENANT_SCHEMA_PATH}`);
