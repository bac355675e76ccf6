/** components/naming.ts: the physical names that are part of the contract, and a moved placement's labelled ones. */
import { describe, expect, it } from "vitest";
import { labelSuffix, tenantSecretName } from "../../components/naming";
import { placementKey } from "../../tenants/moves";

describe("names of a tenant's placements", () => {
    it("a tenant that never moved keeps the names it always had; a labelled placement's secrets carry the label", () => {
        expect(tenantSecretName("prod", "acme", "db-runtime")).toBe("tenancy/prod/acme/db-runtime");
        expect(tenantSecretName("prod", "acme", "db-runtime", "")).toBe("tenancy/prod/acme/db-runtime");
        expect(tenantSecretName("prod", "acme", "db-owner", "shared-b")).toBe("tenancy/prod/acme/shared-b/db-owner");
        expect(labelSuffix(undefined)).toBe("");
        expect(labelSuffix("")).toBe("");
        expect(labelSuffix("hybrid")).toBe("-hybrid");
    });

    it("every placement key gives distinct secret stems, all still matched by the app's policy tenancy/<env>/*/db-runtime-*", () => {
        const labels = ["", placementKey({ tier: "shared", cell: "main" }), placementKey({ tier: "shared", cell: "b" }), placementKey({ tier: "hybrid" }), placementKey({ tier: "dedicated" })];
        expect(labels).toEqual(["", "shared-main", "shared-b", "hybrid", "dedicated"]);
        const stems = labels.map((l) => tenantSecretName("prod", "acme", "db-runtime", l));
        expect(new Set(stems).size).toBe(stems.length);
        // IAM's `*` matches across '/': the shared app's policy (sharedPlatform.ts) covers a labelled secret too.
        const policy = /^tenancy\/prod\/.*\/db-runtime-.*$/;
        for (const stem of stems) expect(`${stem}-AbC123`).toMatch(policy);
    });
});
