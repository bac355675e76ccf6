/**
 * `npm run sql` for hybrid and dedicated tenants: the role manager's SQL, rendered from the recorded function
 * (configuration in its environment, status in its invocation) by the handler's own applyRoles, in-process on a
 * repository of the test's own.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPlan } from "../../tools/plan/run";
import type { Plan } from "../../tools/plan/model";
import { recordStack, roleManagerSections, sqlSections } from "../../tools/sql";
import { makeRepo, sharedTenant } from "../tenants/fixtures";

const hybrid = (slug: string, extra = ""): string => sharedTenant(slug, `tier: hybrid\n${extra}`);
const dedicated = (slug: string): string => sharedTenant(slug, "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.50.0.0/16}\n");

describe("npm run sql: the role managers of hybrid and dedicated tenants", () => {
    let root: string;
    let base: Plan;
    const write = (file: string, text: string): void => fs.writeFileSync(path.join(root, "tenants", "test", file), text);

    beforeAll(async () => {
        root = makeRepo({ "acme.yaml": sharedTenant("acme"), "globex.yaml": hybrid("globex"), "initech.yaml": dedicated("initech") });
        base = await runPlan({ root, stack: "test" });
    });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    it("each hybrid and dedicated tenant gets a section of its own, on its own instance; shared tenants get none", async () => {
        const recording = await recordStack(root, "test");
        const sections = await roleManagerSections(recording, { kind: "all" });
        expect(sections.map((s) => s.tenant)).toEqual(["globex", "initech"]);
        const globex = sections[0]!;
        expect(globex.notes.join(" ")).toMatch(/own instance tenancy-test-hybrid-globex\.\S+\.rds\.amazonaws\.com, database "app", as tenancy_admin/);
        expect(sections[1]!.notes.join(" ")).toMatch(/eu-west-1\.rds\.amazonaws\.com/);
        expect(globex.statements).toHaveLength(1);
        const sql = globex.statements[0]!.sql;
        expect(globex.statements[0]!.database).toBe("app");
        expect(sql).toContain(`CREATE SCHEMA IF NOT EXISTS "t_globex" AUTHORIZATION "t_globex_owner"`);
        expect(sql).toMatch(/ALTER ROLE "t_globex_app" WITH LOGIN .* PASSWORD '<SCRAM-SHA-256 verifier of the password in arn:aws:secretsmanager:\S+db-runtime\S+>'/);
        expect(sql).not.toContain("t_initech");
        expect(sql).not.toContain("pg_terminate_backend");
        // The shared cluster's listing is unchanged by them.
        expect(sqlSections(recording, { kind: "all" }).map((s) => s.tenant)).toEqual([null, "acme"]);
        expect(await roleManagerSections(recording, { kind: "tenant", slug: "acme" })).toEqual([]);
        expect(await roleManagerSections(recording, { kind: "platform" })).toEqual([]);
    });

    it("--base: an unchanged tenant runs nothing; a suspension runs NOLOGIN and ends the roles' sessions", async () => {
        expect(await roleManagerSections(await recordStack(root, "test"), { kind: "all" }, base)).toEqual([]);
        write("globex.yaml", hybrid("globex", "status: suspended\n"));
        try {
            const sections = await roleManagerSections(await recordStack(root, "test"), { kind: "all" }, base);
            expect(sections.map((s) => s.tenant)).toEqual(["globex"]);
            const sql = sections[0]!.statements[0]!.sql;
            expect(sql).toMatch(/ALTER ROLE "t_globex_owner" WITH NOLOGIN/);
            expect(sql).toMatch(/ALTER ROLE "t_globex_app" WITH NOLOGIN/);
            expect(sql).toContain("pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename IN ('t_globex_owner', 't_globex_app')");
        } finally {
            write("globex.yaml", hybrid("globex"));
        }
    });

    it("a tenant moving between instances gets a section per role manager (source and target); one moving off an instance keeps its source's", async () => {
        const moving = makeRepo({
            "hotel.yaml": sharedTenant("hotel", "tier: dedicated\nnetwork: {cidr: 10.51.0.0/16}\nmove:\n  from: { tier: hybrid }\n"),
            "delta.yaml": sharedTenant("delta", "move:\n  from: { tier: dedicated, region: eu-west-1, network: {cidr: 10.52.0.0/16} }\n"),
        });
        try {
            const sections = await roleManagerSections(await recordStack(moving, "test"), { kind: "all" });
            expect(sections.map((s) => s.tenant)).toEqual(["delta", "hotel", "hotel"]);
            expect(sections[0]!.notes.join(" ")).toMatch(/tenancy-test-dedicated-delta\.\S+\.eu-west-1\.rds\.amazonaws\.com/);
            const hotel = sections.slice(1).map((s) => s.notes.join(" "));
            expect(hotel.some((n) => /tenancy-test-hybrid-hotel\./.test(n))).toBe(true);
            expect(hotel.some((n) => /tenancy-test-dedicated-hotel\./.test(n))).toBe(true);
        } finally {
            fs.rmSync(moving, { recursive: true, force: true });
        }
    });
});
