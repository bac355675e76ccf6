import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, expect, it, vi } from "vitest";
import { makeRepo, sharedTenant } from "../tenants/fixtures";
import { recordStack, removeDir } from "./harness";

afterEach(() => vi.restoreAllMocks());

it("pulumi preview and up say which entries of the tenant directory were ignored (a warning: a tenant may be missing)", async () => {
    const root = makeRepo({ "acme.yaml": sharedTenant("acme"), "wonka.YAML": sharedTenant("wonka") });
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(async () => {});
    try {
        fs.mkdirSync(path.join(root, "tenants", "test", "old"));
        const result = await recordStack(root, "test");
        expect(result.resources.filter((r) => r.type === "tenancy:tenant:Tenant").map((r) => r.name)).toEqual(["acme"]);
        expect(warn.mock.calls.map((c) => c[0])).toEqual([
            "tenants/test: ignored 2 entries that are not tenant files (<slug>.yaml): old/, wonka.YAML",
        ]);
    } finally {
        removeDir(root);
    }
});
