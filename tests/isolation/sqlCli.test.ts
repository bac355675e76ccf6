/** `npm run sql`: what it prints for the fixture dev stack, how it scopes, and how it fails. */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { RegistryError } from "../../tenants/problems";
import { recordStack, stackSql, toScript } from "../../tools/sql";
import { fixtureRepo } from "../support/fixtureRepo";
import { makeRepo, sharedTenant } from "../tenants/fixtures";

/** The repository's code; the stacks come from the fixture repository (tests/support/fixtureRepo.ts). */
const CODE_ROOT = path.resolve(__dirname, "../..");
const fixture = fixtureRepo();
const ROOT = fixture.root;
afterAll(() => fixture.remove());

/** Runs the CLI as `npm run sql -- …` does (tsx tools/sql.ts) on the fixture stacks; never rejects. */
async function sql(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "tools/sql.ts", ...args], { cwd: CODE_ROOT, env: { ...process.env, TENANCY_ROOT: ROOT } });
        return { code: 0, stdout, stderr };
    } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
}

/** The `-- <urn>` lines of a script, by logical name. */
const resourceNames = (script: string): string[] => [...script.matchAll(/^-- urn:\S+::([^:\s]+)$/gm)].map((m) => m[1]!);

describe("npm run sql", () => {
    it("prints the platform hardening and then every shared tenant, as a psql script with placeholder passwords", async () => {
        const { code, stdout } = await sql("--stack", "dev");
        expect(code).toBe(0);
        const names = resourceNames(stdout);
        // Registration order between siblings waiting on the same Output (the group's name) may vary; the set may not.
        expect(names.slice(0, 8).sort()).toEqual([
            "cell-main-hardening-app-db-revoke-public",
            "cell-main-hardening-backup",
            "cell-main-hardening-postgres-db-revoke-public",
            "cell-main-hardening-public-schema-usage-only",
            "cell-main-hardening-reporting",
            "cell-main-hardening-template1-db-revoke-public",
            "cell-main-hardening-tenants-connect",
            "cell-main-hardening-tenants-group",
        ]);
        // dev's only shared tenant, then the role managers of its hybrid and dedicated tenants, on their own instances.
        const managers = names.filter((n) => n.endsWith("-roles-apply"));
        expect(managers.map((n) => n.split("-")[0])).toEqual(["globex", "initech"]);
        expect(names.slice(8, names.length - managers.length).every((n) => n.startsWith("acme-db-"))).toBe(true);
        expect(names.slice(names.length - managers.length)).toEqual(managers);
        expect(stdout).toContain(`\\connect "postgres"\n\n-- urn:`);
        expect(stdout).toContain(`BEGIN;\nREVOKE ALL PRIVILEGES ON DATABASE "postgres" FROM "public";\nCOMMIT;`);
        expect(stdout).toContain(`PASSWORD '<password:t_acme_app>'`);
        expect(stdout).toContain("-- The provider connects as tenancy_admin to tenancy;");
    });

    it("--tenant limits the output to that tenant's resources", async () => {
        const { code, stdout } = await sql("--stack", "dev", "--tenant", "acme");
        expect(code).toBe(0);
        expect(resourceNames(stdout)).toEqual([
            "acme-db-owner", "acme-db-runtime", "acme-db-schema", "acme-db-runtime-schema-usage", "acme-db-reporting-schema-usage",
            "acme-db-runtime-default-tables", "acme-db-reporting-default-tables",
            "acme-db-runtime-default-sequences", "acme-db-reporting-default-sequences", "acme-db-reporting-sequences-select", "acme-db-no-public-functions",
        ]);
    });

    it("the platform scope holds only the hardening; a hybrid tenant declares nothing on the shared cluster", async () => {
        const recording = await recordStack(ROOT, "dev");
        const platform = toScript(stackSql(recording, { kind: "platform" }), "tenancy");
        expect(resourceNames(platform)).toHaveLength(8);
        expect(resourceNames(platform).every((n) => n.startsWith("cell-main-hardening-"))).toBe(true);
        expect(platform).not.toContain("t_acme");
        expect(stackSql(recording, { kind: "tenant", slug: "globex" })).toEqual([]);
        expect(stackSql(recording, { kind: "all" })).toHaveLength(
            stackSql(recording, { kind: "platform" }).length + stackSql(recording, { kind: "tenant", slug: "acme" }).length,
        );
    });

    it("an unknown stack or tenant is a clear error with exit code 1", async () => {
        const [stack, tenant, both] = await Promise.all([
            sql("--stack", "nope"),
            sql("--stack", "dev", "--tenant", "acm"),
            sql("--stack", "dev", "--tenant", "acme", "--platform"),
        ]);
        expect(stack).toMatchObject({ code: 1, stdout: "" });
        expect(stack.stderr).toContain("Pulumi.nope.yaml: no such stack configuration (stacks: dev, prod)");
        expect(stack.stderr).not.toMatch(/\n\s+at /);
        expect(tenant).toMatchObject({ code: 1, stdout: "" });
        expect(tenant.stderr).toContain("unknown tenant 'acm' in stack dev (did you mean 'acme'?) (tenants: acme, globex, initech)");
        expect(both).toMatchObject({ code: 1, stderr: expect.stringContaining("--tenant and --platform exclude each other") });
    });

    it("an invalid registry fails with the registry's located problems before the program runs", async () => {
        const root = makeRepo({ "acme.yaml": sharedTenant("acme", "tier: platinum\n") });
        try {
            const error = await recordStack(root, "test").catch((e: unknown) => e);
            expect(error).toBeInstanceOf(RegistryError);
            expect((error as RegistryError).message).toContain("tenants/test/acme.yaml:3:7 tier:");
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
