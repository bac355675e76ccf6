/**
 * `npm run sql` grouping and change mode (`--base <plan.json>`), in-process on a repository of the test's own:
 * the base is the offline plan of one state, the head the recorded program after a tenant file changed.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPlan } from "../../tools/plan/run";
import type { Plan } from "../../tools/plan/model";
import { changeSections, recordStack, sectionsToScript, sqlSections, type SqlSection, type StackRecording } from "../../tools/sql";
import { planEnvironment } from "../../tools/plan/environment";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";

const sqlOf = (sections: readonly SqlSection[], tenant: string | null): string[] => sections.find((s) => s.tenant === tenant)?.statements.map((s) => s.sql) ?? [];

describe("npm run sql: grouped by tenant, and the change mode", () => {
    let root: string;
    let base: Plan;
    const write = (slug: string, extra = ""): void => fs.writeFileSync(path.join(root, "tenants", "test", `${slug}.yaml`), sharedTenant(slug, extra));

    beforeAll(async () => {
        root = makeRepo({ "zeta.yaml": sharedTenant("zeta"), "acme.yaml": sharedTenant("acme"), "beta.yaml": sharedTenant("beta") });
        base = await runPlan({ root, stack: "test" });
    });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    it("a full script: the platform first, then each tenant in slug order, every statement in its tenant's section", async () => {
        const recording = await recordStack(root, "test");
        const sections = sqlSections(recording, { kind: "all" });
        expect(sections.map((s) => s.tenant)).toEqual([null, "acme", "beta", "zeta"]);
        for (const slug of ["acme", "beta", "zeta"]) {
            const mine = sqlOf(sections, slug);
            expect(mine.length).toBeGreaterThan(0);
            const others = ["acme", "beta", "zeta"].filter((s) => s !== slug);
            for (const sql of mine) for (const o of others) expect(sql).not.toContain(`t_${o}`);
        }
        const script = sectionsToScript(sections, "tenancy", new Map([["acme", "shared"]]));
        expect(script.indexOf("-- ==== platform: cell main's cluster ====")).toBe(0);
        expect(script.indexOf("-- ==== tenant acme (shared, cell main) ====")).toBeLessThan(script.indexOf("-- ==== tenant beta (cell main) ===="));
        expect(script.indexOf("-- ==== tenant beta (cell main) ====")).toBeLessThan(script.indexOf("-- ==== tenant zeta (cell main) ===="));
    });

    describe("--base", () => {
        let head: StackRecording;
        beforeAll(async () => {
            write("acme", "status: suspended\n");
            write("beta", "database:\n  statementTimeoutSeconds: 60\n");
            fs.rmSync(path.join(root, "tenants", "test", "zeta.yaml"));
            write("newco");
            head = await recordStack(root, "test");
        });

        it("the same state renders nothing", async () => {
            const sameRoot = makeRepo({ "acme.yaml": sharedTenant("acme") });
            try {
                const plan = await runPlan({ root: sameRoot, stack: "test" });
                expect(changeSections(plan, await recordStack(sameRoot, "test"), { kind: "all" })).toEqual([]);
            } finally {
                fs.rmSync(sameRoot, { recursive: true, force: true });
            }
        });

        it("suspension is ALTER ROLE … NOLOGIN, nothing re-created; a changed setting is its ALTER ROLE SET", () => {
            const sections = changeSections(base, head, { kind: "all" });
            const acme = sqlOf(sections, "acme");
            expect(acme.filter((s) => s.includes("LOGIN")).sort()).toEqual(['ALTER ROLE "t_acme_app" WITH NOLOGIN', 'ALTER ROLE "t_acme_owner" WITH NOLOGIN']);
            expect(acme.some((s) => /^CREATE|^GRANT "t_acme/.test(s))).toBe(false);
            expect(sqlOf(sections, "beta")).toContain('ALTER ROLE "t_beta_app" SET statement_timeout TO 60000');
            expect(sqlOf(sections, "beta").some((s) => s.startsWith("CREATE"))).toBe(false);
            expect(sqlOf(sections, null), "the platform is untouched").toEqual([]);
        });

        it("a new tenant gets its full create script (with the provider's owner grants); a removed one is named as deleted", () => {
            const sections = changeSections(base, head, { kind: "all" });
            const newco = sqlOf(sections, "newco");
            expect(newco).toContain('CREATE SCHEMA "t_newco" AUTHORIZATION "t_newco_owner"');
            expect(newco).toContain('GRANT "t_newco_owner" TO "tenancy_admin"');
            const zeta = sections.find((s) => s.tenant === "zeta")!;
            expect(zeta.statements).toEqual([]);
            expect(zeta.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^Schema zeta-db-schema: deleted \(the provider drops it: data or logins are lost/)]));
            expect(sections.map((s) => s.tenant)).toEqual(["acme", "beta", "newco", "zeta"]);
        });

        it("--tenant limits the changes to that tenant", () => {
            expect(changeSections(base, head, { kind: "tenant", slug: "acme" }).map((s) => s.tenant)).toEqual(["acme"]);
        });

        it("refuses a base plan of another stack", () => {
            expect(() => changeSections({ ...base, stack: "prod" }, head, { kind: "all" })).toThrow("the base plan is of stack 'prod', not 'test': compare plans of the same stack");
        });
    });
});

describe("npm run sql over a fleet with two cells", () => {
    const config = baseStackConfig({
        "tenancy:layout": "fleet",
        "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { a: {}, b: {} } },
    });
    let root: string;
    beforeAll(() => {
        root = makeRepo({ "acme.yaml": sharedTenant("acme", "cell: b\n"), "beta.yaml": sharedTenant("beta") }, config);
    });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    it("renders every cell's hardening and every tenant of the fleet, each section naming the cluster it runs on", async () => {
        const recording = await recordStack(root, "test");
        const sections = sqlSections(recording, { kind: "all" });
        expect(sections.map((s) => [s.tenant, s.cell])).toEqual([[null, "a"], [null, "b"], ["acme", "b"], ["beta", "a"]]);
        // Each cell's cluster is hardened on its own: both get the group role.
        for (const cell of ["a", "b"]) expect(sections.find((s) => s.cell === cell && s.tenant === null)!.statements.some((s) => /CREATE ROLE "tenancy_tenants"/.test(s.sql))).toBe(true);
        const script = sectionsToScript(sections, "tenancy", new Map([["acme", "shared"]]));
        expect(script).toContain("-- ==== platform: cell a's cluster ====");
        expect(script).toContain("-- ==== tenant acme (shared, cell b) ====");
    });

    it("a base plan of the fleet (resources in many stacks) compares with the recording by identity: the same state renders nothing", async () => {
        const plan = await planEnvironment({ root, env: "test" });
        expect(plan.stacks.length).toBe(5);
        expect(changeSections(plan, await recordStack(root, "test"), { kind: "all" })).toEqual([]);
        fs.writeFileSync(path.join(root, "tenants", "test", "acme.yaml"), sharedTenant("acme", "cell: b\nstatus: suspended\n"));
        const changed = changeSections(plan, await recordStack(root, "test"), { kind: "all" });
        expect(changed.map((s) => [s.tenant, s.cell])).toEqual([["acme", "b"]]);
        const sql = changed[0]!.statements.map((s) => s.sql);
        expect(sql.filter((s) => s.includes("LOGIN")).sort()).toEqual(['ALTER ROLE "t_acme_app" WITH NOLOGIN', 'ALTER ROLE "t_acme_owner" WITH NOLOGIN']);
        expect(sql.some((s) => s.startsWith("CREATE"))).toBe(false);
    });

    it("a moving tenant's SQL on two cells comes in a section per cell, each with its own placement's statements", async () => {
        const shared = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 8 }, cells: { main: {}, b: {} } };
        const moving = makeRepo({
            "acme.yaml": sharedTenant("acme", "cell: b\nmove:\n  from: { tier: shared, cell: main }\n"),
            "beta.yaml": sharedTenant("beta", "tier: hybrid\nmove:\n  from: { tier: shared, cell: b }\n"),
        }, baseStackConfig({ "tenancy:shared": shared }));
        try {
            const sections = sqlSections(await recordStack(moving, "test"), { kind: "all" }).filter((s) => s.tenant !== null);
            expect(sections.map((s) => [s.tenant, s.cell])).toEqual([["acme", "b"], ["acme", "main"], ["beta", "b"]]);
            // The source keeps its unlabelled roles on main; the target's are created on b.
            const acmeMain = sections[1]!.statements.map((s) => s.sql).join("\n");
            const acmeB = sections[0]!.statements.map((s) => s.sql).join("\n");
            expect(acmeMain).toContain('CREATE SCHEMA "t_acme"');
            expect(acmeB).toContain('CREATE SCHEMA "t_acme"');
            const script = sectionsToScript(sqlSections(await recordStack(moving, "test"), { kind: "all" }), "tenancy", new Map([["acme", "shared"], ["beta", "hybrid"]]));
            expect(script).toContain("-- ==== tenant acme (shared, cell main) ====");
            expect(script).toContain("-- ==== tenant acme (shared, cell b) ====");
            expect(script).toContain("-- ==== tenant beta (shared, cell b) ====");
        } finally {
            fs.rmSync(moving, { recursive: true, force: true });
        }
    });
});
