import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { main } from "../../tools/restore";
import { startPg15, type Pg15Server } from "../support/pg15";
import { makeTempDir } from "../support/tempDirs";
import { endpoint } from "../../move/connect";
import { runRestore } from "../../restore/engine";
import { RestoreError } from "../../restore/types";
import { digestProblems, schemaDigest } from "../../restore/digest";
import { connect, createTenant, digestsOf, nightlyDump, one, restoreContext, roleUrl } from "./fixture";

/**
 * On a real PostgreSQL 15 cell with two shared tenants: dump one, damage it, restore side by side, swap, and prove the
 * content is the dump's, the other tenant untouched and the tenant's roles working as before.
 */
describe("npm run restore on a cell with two shared tenants", () => {
    let pg: Pg15Server;
    let dir: string;
    let dump: string;
    let atDump: Record<string, { rows: number; md5: string }>;
    let globexBefore: Record<string, { rows: number; md5: string }>;
    let aclsAtDump: Awaited<ReturnType<typeof aclsOf>>;
    const clock = (iso: string) => () => new Date(iso);

    beforeAll(async () => {
        pg = await startPg15();
        await createTenant(pg.adminUrl(), "acme", { scale: 0.02 });
        await createTenant(pg.adminUrl(), "globex", { scale: 0.01 });
        dir = makeTempDir("restore-");
        dump = join(dir, "2026-11-23T02-00-00Z.dump");
        await nightlyDump(pg, "acme", dump);
        atDump = await digestsOf(pg, "t_acme");
        aclsAtDump = await aclsOf("t_acme");
        globexBefore = await digestsOf(pg, "t_globex");
        // The damage: rows deleted (order items go with their orders), a table dropped.
        const owner = await connect(roleUrl(pg.adminUrl(), "t_acme_owner"));
        await owner.query("DELETE FROM t_acme.orders WHERE id % 3 = 0");
        await owner.query("DROP TABLE t_acme.documents");
        await owner.end();
    });
    afterAll(async () => {
        await pg?.stop();
    });

    /**
     * A schema's privileges as the catalog holds them, by name (no OID): its nspacl, every relation's relacl (tables,
     * sequences, views, materialized views) and its pg_default_acl entries, each exploded to grantee, grantor and
     * privilege, sorted.
     */
    async function aclsOf(schema: string): Promise<Record<string, string[]>> {
        const su = await pg.superuserClient();
        try {
            const { rows } = await su.query(
                `WITH n AS (SELECT oid, nspname, nspacl FROM pg_namespace WHERE nspname = $1),
                      entries AS (
                        SELECT 'schema' AS what, a.* FROM n, aclexplode(n.nspacl) a
                        UNION ALL
                        SELECT c.relkind::text || ' ' || c.relname, a.* FROM n JOIN pg_class c ON c.relnamespace = n.oid, aclexplode(c.relacl) a
                         WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm')
                        UNION ALL
                        SELECT 'default ' || d.defaclobjtype::text || ' for ' || pg_get_userbyid(d.defaclrole), a.* FROM n JOIN pg_default_acl d ON d.defaclnamespace = n.oid, aclexplode(d.defaclacl) a)
                 SELECT what, array_agg(CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END || ' ' || privilege_type
                                        || ' by ' || pg_get_userbyid(grantor) || CASE WHEN is_grantable THEN ' WITH GRANT' ELSE '' END ORDER BY 1) AS acl
                   FROM entries GROUP BY what`,
                [schema],
            );
            return Object.fromEntries(rows.map((r) => [r["what"] as string, (r["acl"] as string[]).sort()]));
        } finally {
            await su.end();
        }
    }

    it("restores side by side: the live schema untouched, the side schema equal to the dump, checked against its manifest", async () => {
        const damaged = await digestsOf(pg, "t_acme");
        const oid = await one(pg, "SELECT oid FROM pg_namespace WHERE nspname = 't_acme'");
        const log: string[] = [];
        const result = await runRestore({ ...restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: dump }, "side-by-side", log), now: clock("2026-11-23T14:00:00Z") });
        expect(result).toMatchObject({ mode: "side-by-side", sideSchema: "t_acme_restore_20261123140000", reused: false, checkedAgainst: "manifest" });
        expect(await digestsOf(pg, "t_acme_restore_20261123140000")).toEqual(atDump);
        expect(await digestsOf(pg, "t_acme")).toEqual(damaged);
        expect(await one(pg, "SELECT oid FROM pg_namespace WHERE nspname = 't_acme'")).toEqual(oid);
        expect(await digestsOf(pg, "t_globex")).toEqual(globexBefore);
        // The admin holds no membership afterwards (granted inside the transactions only).
        expect(await one(pg, "SELECT pg_has_role('admin', 't_acme_owner', 'MEMBER') AS m")).toEqual({ m: false });
        // The copy's objects belong to the owner; sequences owned by its columns, its view and index are its own.
        expect(await one(pg, "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 't_acme_restore_20261123140000'")).toEqual({ owner: "t_acme_owner" });
        expect(await one(pg, "SELECT pg_get_serial_sequence('t_acme_restore_20261123140000.products', 'id') AS s")).toEqual({ s: "t_acme_restore_20261123140000.products_id_seq" });
        expect(await one(pg, "SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 't_acme_restore_20261123140000' AND indexname = 'orders_customer'")).toEqual({ n: 1 });
        expect(await one(pg, "SELECT pg_get_viewdef('t_acme_restore_20261123140000.order_totals') ~ 't_acme_restore_20261123140000.orders' AS ok")).toEqual({ ok: true });
        // Least privilege: the copy is the owner's alone until a swap gives it the declared privileges (the app must not
        // write to it, the reporting role and the nightly dump through it must not read the tenant twice).
        expect(await one(pg, `SELECT
                has_schema_privilege('t_acme_app', 't_acme_restore_20261123140000', 'USAGE') AS app_usage,
                has_schema_privilege('tenancy_reporting', 't_acme_restore_20261123140000', 'USAGE') AS reporting_usage,
                (SELECT count(*)::int FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = 't_acme_restore_20261123140000'::regnamespace
                    AND a.grantee IN ('t_acme_app'::regrole, 'tenancy_reporting'::regrole)) AS relation_grants,
                (SELECT count(*)::int FROM pg_default_acl d WHERE d.defaclnamespace = 't_acme_restore_20261123140000'::regnamespace) AS defaults`))
            .toEqual({ app_usage: false, reporting_usage: false, relation_grants: 0, defaults: 0 });
        // A second run with the same dump finds it and restores nothing again.
        const again = await runRestore({ ...restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: dump }, "side-by-side"), now: clock("2026-11-23T14:05:00Z") });
        expect(again).toMatchObject({ sideSchema: "t_acme_restore_20261123140000", reused: true });
    });

    it("swaps: content equal to the dump, the former schema kept, the other tenant untouched, the tenant's roles working", async () => {
        const damaged = await digestsOf(pg, "t_acme");
        const result = await runRestore({ ...restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: dump }, "swap"), now: clock("2026-11-23T14:10:00Z") });
        expect(result).toMatchObject({ mode: "swap", sideSchema: "t_acme_restore_20261123140000", reused: true, replacedSchema: "t_acme_replaced_20261123141000" });
        expect(await digestsOf(pg, "t_acme")).toEqual(atDump);
        expect(await digestsOf(pg, "t_acme_replaced_20261123141000")).toEqual(damaged);
        expect(await digestsOf(pg, "t_globex")).toEqual(globexBefore);
        expect(await one(pg, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 't_acme_restore_20261123140000'")).toEqual({ n: 0 });
        // The swapped schema's privileges are exactly the live schema's at the dump: schema, every relation, defaults.
        expect(await aclsOf("t_acme")).toEqual(aclsAtDump);
        expect(Object.keys(aclsAtDump)).toEqual(expect.arrayContaining(["schema", "r orders", "S orders_id_seq", "v order_totals", "default r for t_acme_owner", "default S for t_acme_owner"]));
        // Default privileges are keyed by the schema's OID: a table the owner creates after the swap is the app's and
        // the reporting role's as declared.
        const creator = await connect(roleUrl(pg.adminUrl(), "t_acme_owner"));
        try {
            await creator.query("CREATE TABLE t_acme.after_swap (id bigserial PRIMARY KEY, note text)");
        } finally {
            await creator.end();
        }
        const runtime = await connect(roleUrl(pg.adminUrl(), "t_acme_app"));
        try {
            await runtime.query("INSERT INTO t_acme.after_swap (note) VALUES ('x')");
            await runtime.query("UPDATE t_acme.after_swap SET note = 'y'");
            expect((await runtime.query("SELECT note FROM t_acme.after_swap")).rows).toEqual([{ note: "y" }]);
        } finally {
            await runtime.end();
        }
        const reader = await connect(roleUrl(pg.adminUrl(), "tenancy_reporting"));
        try {
            expect((await reader.query("SELECT count(*)::int AS n FROM t_acme.after_swap")).rows[0]).toEqual({ n: 1 });
            expect((await reader.query("SELECT last_value AS v FROM t_acme.after_swap_id_seq")).rows[0]).toEqual({ v: "1" });
        } finally {
            await reader.end();
        }
        await one(pg, "DROP TABLE t_acme.after_swap");
        // The replaced schema is the owner's alone: no role of the app or of reporting reads or writes a stale copy.
        expect(await one(pg, `SELECT
                has_schema_privilege('t_acme_app', 't_acme_replaced_20261123141000', 'USAGE') AS app_usage,
                has_schema_privilege('tenancy_reporting', 't_acme_replaced_20261123141000', 'USAGE') AS reporting_usage,
                (SELECT count(*)::int FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = 't_acme_replaced_20261123141000'::regnamespace
                    AND a.grantee IN ('t_acme_app'::regrole, 'tenancy_reporting'::regrole)) AS relation_grants,
                (SELECT count(*)::int FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE d.defaclnamespace = 't_acme_replaced_20261123141000'::regnamespace
                    AND a.grantee IN ('t_acme_app'::regrole, 'tenancy_reporting'::regrole)) AS defaults,
                pg_get_userbyid(n.nspowner) AS owner
              FROM pg_namespace n WHERE n.nspname = 't_acme_replaced_20261123141000'`))
            .toEqual({ app_usage: false, reporting_usage: false, relation_grants: 0, defaults: 0, owner: "t_acme_owner" });
        // Logins as before, no state left in the live schema's comment, no membership left.
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: true });
        expect(await one(pg, "SELECT obj_description('t_acme'::regnamespace, 'pg_namespace') AS c")).toEqual({ c: null });
        expect(await one(pg, "SELECT pg_has_role('admin', 't_acme_owner', 'MEMBER') AS m")).toEqual({ m: false });

        // The app logs in as before, reads and writes (identity and serial sequences continue past the restored rows).
        const app = await connect(roleUrl(pg.adminUrl(), "t_acme_app"));
        try {
            expect((await app.query("SELECT count(*)::int AS n FROM documents")).rows[0]).toEqual({ n: atDump["documents"]!.rows });
            const c = (await app.query("INSERT INTO customers (name, email) VALUES ('after', 'after@example.com') RETURNING id")).rows[0]!["id"];
            const o = (await app.query("INSERT INTO orders (customer_id, total) VALUES ($1, 1) RETURNING id", [c])).rows[0]!["id"];
            await app.query("INSERT INTO products (sku, price) VALUES ('SKU-after', 1)");
            await app.query("INSERT INTO order_items (order_id, line, product_id, quantity, unit_price) VALUES ($1, 1, 1, 1, 1)", [o]);
            await app.query("UPDATE orders SET status = 'paid' WHERE id = $1", [o]);
            await app.query("DELETE FROM order_items WHERE order_id = $1", [o]);
            expect((await app.query("SELECT count(*)::int AS n FROM order_totals WHERE customer_id = $1", [c])).rows[0]).toEqual({ n: 1 });
            // Data only, as declared: no DDL, no function.
            await expect(app.query("CREATE TABLE x (i int)")).rejects.toThrow(/permission denied/);
            await expect(app.query("SELECT customer_order_count(1)")).rejects.toThrow(/permission denied/);
        } finally {
            await app.end();
        }
        const reporting = await connect(roleUrl(pg.adminUrl(), "tenancy_reporting"));
        try {
            expect((await reporting.query("SELECT count(*)::int AS n FROM t_acme.orders")).rows[0]!["n"]).toBeGreaterThan(0);
            // The nightly dump reads sequences through the reporting role (TenantDatabase's reporting-default-sequences).
            expect((await reporting.query("SELECT last_value > 0 AS ok FROM t_acme.orders_id_seq")).rows[0]).toEqual({ ok: true });
            await expect(reporting.query("DELETE FROM t_acme.orders")).rejects.toThrow(/permission denied/);
        } finally {
            await reporting.end();
        }
        const owner = await connect(roleUrl(pg.adminUrl(), "t_acme_owner"));
        try {
            expect((await owner.query("SELECT customer_order_count(1) AS n")).rows[0]!["n"]).toBeDefined();
        } finally {
            await owner.end();
        }
        // Running the same swap again does nothing.
        const again = await runRestore({ ...restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: dump }, "swap"), now: clock("2026-11-23T14:20:00Z") });
        expect(again).toMatchObject({ reused: true, replacedSchema: "t_acme_replaced_20261123141000" });
        expect(await one(pg, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 't_acme_replaced_%'")).toEqual({ n: 1 });
    });

    /** `npm run restore -- …` in this process: its exit code, stdout and stderr. */
    async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        let stdout = "";
        let stderr = "";
        const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
        const err = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
        try {
            return { code: await main(args), stdout, stderr };
        } finally {
            out.mockRestore();
            err.mockRestore();
        }
    }

    it("the CLI: exit 0 side by side, exit 2 when the side schema changed before the swap (nothing swapped, logins back)", async () => {
        const dump2 = join(dir, "second.dump");
        await nightlyDump(pg, "acme", dump2, { manifest: false });
        const args = ["--tenant", "acme", "--dump", dump2, "--target", pg.adminUrl(), "--tier", "shared"];
        const first = await cli(args);
        expect(first.code).toBe(0);
        const side = /^restored (t_acme_restore_\d{14}): 6 table\(s\), \d+ row\(s\), no manifest to check against; t_acme is untouched$/m.exec(first.stdout)?.[1];
        expect(side).toBeDefined();
        const live = await digestsOf(pg, "t_acme");
        await one(pg, `UPDATE ${side}.products SET price = price + 1 WHERE id = 1`);
        const tampered = await cli([...args, "--swap"]);
        expect(tampered.code).toBe(2);
        expect(tampered.stderr).toMatch(new RegExp(`^restore: verification failed: ${side} is not what was restored \\(changed since\\?\\); nothing was swapped, the tenant's logins are back\n  - products: expected \\d+ rows`, "m"));
        expect(tampered.stderr).not.toMatch(/^\s+at /m);
        expect(tampered.stdout).toBe("");
        expect(await digestsOf(pg, "t_acme")).toEqual(live);
        expect(await one(pg, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = '${side}'`)).toEqual({ n: 1 });
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: true });
    });

    it("killed after stopping writes or after the swap's commit: the next run gives the logins back", async () => {
        const file = join(dir, "third.dump");
        await nightlyDump(pg, "acme", file);
        const ctx = restoreContext(pg.adminUrl(), "acme", { kind: "dump", file }, "swap");
        const crash = async (): Promise<void> => {
            throw new Error("killed");
        };
        await expect(runRestore({ ...ctx, now: clock("2026-11-23T16:00:00Z"), hooks: { afterStop: crash } })).rejects.toThrow("killed");
        expect(await one(pg, "SELECT bool_or(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: false });
        // A side-by-side run (another command) gives them back and swaps nothing.
        const live = await digestsOf(pg, "t_acme");
        const side = await runRestore({ ...ctx, mode: "side-by-side", now: clock("2026-11-23T16:01:00Z") });
        expect(side.recovered).toEqual([expect.stringMatching(/killed after stopping writes: nothing was swapped; the tenant's logins are back/)]);
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: true });
        expect(await digestsOf(pg, "t_acme")).toEqual(live);

        await expect(runRestore({ ...ctx, now: clock("2026-11-23T16:02:00Z"), hooks: { afterSwap: crash } })).rejects.toThrow("killed");
        expect(await one(pg, "SELECT bool_or(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: false });
        const rerun = await runRestore({ ...ctx, now: clock("2026-11-23T16:03:00Z") });
        expect(rerun.recovered).toEqual([expect.stringMatching(/a swap killed after its commit/)]);
        expect(rerun).toMatchObject({ replacedSchema: "t_acme_replaced_20261123160200" });
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: true });
        expect(await one(pg, "SELECT obj_description('t_acme'::regnamespace, 'pg_namespace') AS c")).toEqual({ c: null });
    });

    it("checks the manifest: another tenant's is refused (exit 1), a count that differs fails the restore (exit 2, the copy dropped)", async () => {
        const file = join(dir, "counted.dump");
        await nightlyDump(pg, "acme", file);
        const manifest = JSON.parse(readFileSync(join(dir, "counted.json"), "utf8")) as { slug: string; tables: { name: string; rows: number }[] };
        const schemas = await one(pg, "SELECT string_agg(nspname, ',' ORDER BY nspname) AS s FROM pg_namespace");
        writeFileSync(join(dir, "counted.json"), JSON.stringify({ ...manifest, slug: "globex" }));
        await expect(runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file }, "side-by-side"))).rejects.toMatchObject({
            exitCode: 1, problems: [expect.stringMatching(/counted\.json slug: 'globex' \(allowed: acme, the tenant being restored\)$/)],
        });
        const orders = manifest.tables.find((t) => t.name === "orders")!;
        writeFileSync(join(dir, "counted.json"), JSON.stringify({ ...manifest, tables: manifest.tables.map((t) => (t === orders ? { ...t, rows: t.rows + 1 } : t)) }));
        await expect(runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file }, "swap"))).rejects.toMatchObject({
            exitCode: 2, problems: [`orders: the manifest counts ${orders.rows + 1} rows, the restored dump holds ${orders.rows}`],
        });
        expect(await one(pg, "SELECT string_agg(nspname, ',' ORDER BY nspname) AS s FROM pg_namespace")).toEqual(schemas);
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: true });
    });

    it("a dump cut short (a partial download) restores nothing: the transaction never commits", async () => {
        const cut = join(dir, "cut.dump");
        const whole = readFileSync(dump);
        writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
        const live = await digestsOf(pg, "t_acme");
        const schemas = await one(pg, "SELECT string_agg(nspname, ',' ORDER BY nspname) AS s FROM pg_namespace");
        const err = await runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: cut }, "swap")).catch((e: unknown) => e);
        expect(err).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^pg_restore could not read all of .*cut\.dump, nothing was kept: /) });
        expect(await one(pg, "SELECT string_agg(nspname, ',' ORDER BY nspname) AS s FROM pg_namespace")).toEqual(schemas);
        expect(await digestsOf(pg, "t_acme")).toEqual(live);
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_acme_owner', 't_acme_app')")).toEqual({ l: true });
    });

    it("--source: restores from a clone at a point in time, checked against the clone's own hashes", async () => {
        // The clone: the tenant's schema as the nightly dump had it, in a database of its own (a cluster cloned to T).
        const su = await connect(pg.superuserUrl());
        await su.query("CREATE DATABASE clone OWNER admin");
        await su.end();
        const { execFileSync } = await import("child_process");
        execFileSync("/usr/lib/postgresql/15/bin/pg_restore", ["-d", "clone", dump], {
            env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.superuser.user, PGPASSWORD: pg.superuser.password },
        });
        const ctx = restoreContext(pg.adminUrl(), "acme", { kind: "source", source: endpoint(pg.adminUrl("clone")) }, "side-by-side");
        const result = await runRestore({ ...ctx, now: clock("2026-11-23T17:00:00Z") });
        expect(result).toMatchObject({ sideSchema: "t_acme_restore_20261123170000", checkedAgainst: "source", reused: false });
        expect(await digestsOf(pg, "t_acme_restore_20261123170000")).toEqual(atDump);
        expect(await one(pg, "SELECT pg_has_role('admin', 't_acme_owner', 'MEMBER') AS m")).toEqual({ m: false });

        // Cloned again, to another time, under the same URL: a new clone instance, so its side copy is NOT reused
        // (a --swap would otherwise swap in the first clone's content).
        const later = join(dir, "later.dump");
        await nightlyDump(pg, "acme", later, { manifest: false });
        const atLater = await digestsOf(pg, "t_acme");
        expect(atLater).not.toEqual(atDump);
        const su2 = await connect(pg.superuserUrl());
        await su2.query("DROP DATABASE clone");
        await su2.query("CREATE DATABASE clone OWNER admin");
        await su2.end();
        execFileSync("/usr/lib/postgresql/15/bin/pg_restore", ["-d", "clone", later], {
            env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.superuser.user, PGPASSWORD: pg.superuser.password },
        });
        const second = await runRestore({ ...ctx, now: clock("2026-11-23T17:30:00Z") });
        expect(second).toMatchObject({ sideSchema: "t_acme_restore_20261123173000", checkedAgainst: "source", reused: false });
        expect(await digestsOf(pg, "t_acme_restore_20261123173000")).toEqual(atLater);
        // The same clone again is the same origin: reused.
        expect(await runRestore({ ...ctx, now: clock("2026-11-23T17:40:00Z") })).toMatchObject({ sideSchema: "t_acme_restore_20261123173000", reused: true });
    });

    it("refuses, with exit 1 and nothing changed: another tenant's dump, a wrong tier, a tenant not on the target", async () => {
        const other = join(dir, "globex.dump");
        await nightlyDump(pg, "globex", other, { manifest: false });
        const before = await one(pg, "SELECT count(*)::int AS n FROM pg_namespace");
        const fail = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as RestoreError);
        const foreign = await fail(runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: other }, "swap")));
        expect(foreign).toMatchObject({ exitCode: 1, problems: [expect.stringContaining("a dump of schema t_globex, not of tenant acme's t_acme")] });
        const tier = await fail(runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: dump }, "swap", [], "hybrid")));
        expect(tier).toMatchObject({ exitCode: 1, message: expect.stringMatching(/is a shared cell .* but tenant acme is hybrid/) });
        const unknown = await fail(runRestore(restoreContext(pg.adminUrl(), "initech", { kind: "source", source: endpoint(pg.adminUrl("clone")) }, "swap")));
        expect(unknown).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^tenant initech is not on .*: its roles t_initech_owner, t_initech_app do not exist there/) });
        // A move of the tenant under way (its publication here, the move's source): a swap would leave it publishing the old tables.
        await one(pg, "CREATE PUBLICATION tenancy_move_acme");
        const moving = await fail(runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: dump }, "swap")));
        await one(pg, "DROP PUBLICATION tenancy_move_acme");
        expect(moving).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^tenant acme is being moved .*publication tenancy_move_acme.*: finish or abort the move first/) });
        const missing = await fail(runRestore(restoreContext(pg.adminUrl(), "acme", { kind: "dump", file: join(dir, "nope.dump") }, "swap")));
        expect(missing).toMatchObject({ exitCode: 1, problems: [expect.stringMatching(/nope\.dump cannot be read \(no such file\)/)] });
        expect(await one(pg, "SELECT count(*)::int AS n FROM pg_namespace")).toEqual(before);
    });
    it("the digest streams (no sort, no big buffer), ignores order, and sees a changed, missing or duplicated row", async () => {
        const su = await pg.superuserClient();
        try {
            await su.query(`CREATE SCHEMA digest_a; CREATE SCHEMA digest_b;
                CREATE TABLE digest_a.t (i int, s text); CREATE TABLE digest_b.t (i int, s text);
                INSERT INTO digest_a.t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
                INSERT INTO digest_b.t SELECT g, md5(g::text) FROM generate_series(20000, 1, -1) g;`);
            // Any sort spilling to disk fails: a digest that sorts the table cannot pass with so little memory.
            await su.query("SET work_mem = '64kB'; SET temp_file_limit = 0");
            const a = await schemaDigest(su, "digest_a");
            expect(a.tables).toEqual([{ name: "t", rows: 20000, hash: expect.any(String) }]);
            expect(digestProblems(a, await schemaDigest(su, "digest_b"))).toEqual([]);
            const differs = async (sql: string): Promise<void> => {
                await su.query("BEGIN");
                await su.query(sql);
                expect(digestProblems(a, await schemaDigest(su, "digest_b"))).toEqual([expect.stringMatching(/^t: expected 20000 rows/)]);
                await su.query("ROLLBACK");
            };
            await differs("UPDATE digest_b.t SET s = 'x' WHERE i = 7");
            await differs("DELETE FROM digest_b.t WHERE i = 7");
            await differs("INSERT INTO digest_b.t VALUES (7, md5('7'))");
            // The same count, one row replaced by a copy of another: still seen.
            await differs("DELETE FROM digest_b.t WHERE i = 7; INSERT INTO digest_b.t VALUES (8, md5('8'))");
        } finally {
            await su.query("RESET work_mem; RESET temp_file_limit; DROP SCHEMA digest_a CASCADE; DROP SCHEMA digest_b CASCADE").catch(() => undefined);
            await su.end();
        }
    });
});
