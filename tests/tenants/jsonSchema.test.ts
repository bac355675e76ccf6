import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { TENANT_SCHEMA_PATH, tenantJsonSchema } from "../../tenants/jsonSchema";
import { MAX_TENANT_TAGS } from "../../tenants/schema";

const ROOT = path.resolve(__dirname, "../..");

describe("tenant JSON Schema", () => {
    it("the committed schema is what the zod schema generates (run `npm run schema` to update)", () => {
        expect(fs.readFileSync(path.join(ROOT, TENANT_SCHEMA_PATH), "utf8")).toBe(tenantJsonSchema());
    });

    it("rejects unknown keys and requires slug and displayName, like the validator", () => {
        const schema = JSON.parse(tenantJsonSchema());
        expect(schema.additionalProperties).toBe(false);
        expect(schema.required).toEqual(["slug", "displayName"]);
        expect(schema.properties.tier.enum).toEqual(["shared", "hybrid", "dedicated"]);
    });

    it("tells editors the AWS limits zod checks in code: tag count, tag key and value lengths", () => {
        const schema = JSON.parse(tenantJsonSchema());
        expect(schema.properties.tags).toMatchObject({
            maxProperties: MAX_TENANT_TAGS,
            propertyNames: { minLength: 1, maxLength: 128 },
            additionalProperties: { maxLength: 256 },
        });
    });
});
