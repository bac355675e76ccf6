import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "pg";
import { inject } from "vitest";
import { startPg15, type Pg15Server } from "../support/pg15";
import { createSharedTier, createTenant, declareTenant, FIXTURE_PASSWORD, moveContext, roleUrl } from "./fixture";
import { connect, endpoint } from "../../move/connect";
import { hashSide, hashTable, verifyTables } from "../../move/verify";
import { prepare } from "../../move/prepare";
import { findTool, missingToolMessage } from "../../move/ddl";
import { detectPlacement } from "../../tools/move";
import { preflight } from "../../move/preflight";
import { privilegePlan, type TargetFacts } from "../../move/privileges";
import { MoveError, type MoveContext, type ProgressEvent } from "../../move/types";

/** The fixture's move context, its progress kept in `events`, with `extra` over it. */
function context(source: string, target: string, tenant: string, extra: Partial<MoveContext> = {}): MoveContext & { events: ProgressEvent[] } {
    const events: ProgressEvent[] = [];
    return { ...moveContext(source, target, tenant, events), events, ...extra };
}

async function query(url: string, sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    const c = new Client({ connectionString: url });
    c.on("error", () => undefined);
    await c.connect();
    try {
        return (await c.query(sql, values)).rows;
    } finally {
        await c.end();
    }
}

describe("move prepare: preflight, then roles, schema, privileges and objects on the target", () => {
    let source: Pg15Server;
    let target: Pg15Server;
    beforeAll(async () => {
        [source, target] = await Promise.all([startPg15(), startPg15()]);
        await createTenant(source.adminUrl(), "acme", { scale: 0.01 });
        await createTenant(source.adminUrl(), "beta", { scale: 0.005 });
    });
    afterAll(async () => {
        await Promise.all([source?.stop(), target?.stop()]);
    });

    it("preflight reports every blocker at once, each with its remedy, and changes nothing", async () => {
        // A source unfit in every way a server can be: replica WAL, one slot, an admin without REPLICATION, a table
        // without a key and an unlogged one; a target of another major version whose schema is not empty.
        const bad = await startPg15({ settings: { wal_level: "replica", max_replication_slots: "1" } });
        const pg16 = inject("postgres");
        const db = `move_preflight_${process.pid}`;
        const pg16Url = (d: string) => `postgres://${pg16.user}:${encodeURIComponent(pg16.password)}@${pg16.host}:${pg16.port}/${d}`;
        try {
            const tenant = await createTenant(bad.adminUrl(), "gamma", { scale: 0.002 });
            await query(tenant.ownerUrl, "CREATE TABLE t_gamma.audit_log (at timestamptz, what text); CREATE UNLOGGED TABLE t_gamma.scratch (id int PRIMARY KEY); ALTER TABLE t_gamma.documents FORCE ROW LEVEL SECURITY");
            await query(bad.superuserUrl(), "CREATE ROLE weak LOGIN CREATEROLE PASSWORD 'weak-password'; GRANT pg_signal_backend TO weak; GRANT CONNECT ON DATABASE app TO weak");
            await query(pg16Url("postgres"), `CREATE DATABASE ${db}`);
            await query(pg16Url(db), "CREATE SCHEMA t_gamma; CREATE TABLE t_gamma.leftover (id int)");
            const before = await query(bad.superuserUrl(), "SELECT count(*)::int AS n FROM pg_replication_slots");

            const report = await preflight(context(roleUrl(bad.adminUrl(), "weak", "weak-password"), pg16Url(db), "gamma"));
            const text = report.problems.join("\n");
            expect(report.problems.length).toBeGreaterThanOrEqual(6);
            expect(text).toMatch(/wal_level is 'replica'.*remedy: on RDS\/Aurora set rds\.logical_replication = 1.*reboot/);
            expect(text).toMatch(/1 free replication slot of max_replication_slots = 1, the move needs 2.*remedy: raise max_replication_slots/);
            expect(text).toMatch(/admin 'weak' lacks REPLICATION \(remedy: ALTER ROLE weak REPLICATION/);
            expect(text).toMatch(/PostgreSQL 16, the source runs 15 \(remedy:/);
            expect(text).toMatch(/1 table without a primary key or replica identity index: t_gamma\.audit_log \(remedy: add a primary key/);
            expect(text).toMatch(/t_gamma\.scratch: UNLOGGED, its changes are not in the WAL \(remedy: ALTER TABLE t_gamma\.scratch SET LOGGED/);
            expect(text).toMatch(/schema t_gamma is not empty \(1 objects\)/);
            expect(text).toMatch(/t_gamma\.documents: FORCE ROW LEVEL SECURITY hides rows from the move \(remedy: /);
            // Read-only: no slot, no role membership, no state on either side.
            expect(await query(bad.superuserUrl(), "SELECT count(*)::int AS n FROM pg_replication_slots")).toEqual(before);
            expect(await query(pg16Url(db), "SELECT to_regnamespace('tenancy_move') AS s")).toEqual([{ s: null }]);
        } finally {
            await bad.stop();
            await query(pg16Url("postgres"), `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        }
    });

    it("prepare refuses a tenant with a keyless table with exit 1 and leaves the target untouched", async () => {
        await query(roleUrl(source.adminUrl(), "t_beta_owner"), "CREATE TABLE t_beta.keyless (v text)");
        try {
            const err = await prepare(context(source.adminUrl(), target.adminUrl(), "beta")).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(MoveError);
            expect((err as MoveError).exitCode).toBe(1);
            expect((err as MoveError).problems.join("\n")).toContain("t_beta.keyless");
            expect(await query(target.adminUrl(), "SELECT rolname FROM pg_roles WHERE rolname LIKE 't_beta%'")).toEqual([]);
            expect(await query(target.adminUrl(), "SELECT to_regnamespace('t_beta') AS s, to_regnamespace('tenancy_move') AS m")).toEqual([{ s: null, m: null }]);
        } finally {
            await query(roleUrl(source.adminUrl(), "t_beta_owner"), "DROP TABLE t_beta.keyless");
        }
    });

    it("prepares an empty application database: creates roles, schema and objects, privileges as the role manager declares", async () => {
        const ctx = context(source.adminUrl(), target.adminUrl(), "acme");
        const result = await prepare(ctx);
        expect(result.prepared).toBe(true);
        expect(result.state).toMatchObject({ phase: "prepared", createdSchema: true, createdRoles: ["t_acme_owner", "t_acme_app"], slot: "tenancy_move_acme" });

        const t = target.superuserUrl();
        // The objects of the source's schema, owned by the tenant's owner, empty.
        const objects = await query(t, `SELECT c.relname, c.relkind::text, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relnamespace = 't_acme'::regnamespace AND c.relkind IN ('r','p','v','S') ORDER BY 1`);
        expect(objects.map((o) => o["relname"])).toEqual(expect.arrayContaining(["customers", "orders", "order_items", "events", "events_2024_01", "documents", "order_totals", "products_id_seq"]));
        expect(new Set(objects.map((o) => o["owner"]))).toEqual(new Set(["t_acme_owner"]));
        expect(await query(t, "SELECT count(*)::int AS n FROM t_acme.customers")).toEqual([{ n: 0 }]);
        // Pre-data only: no primary key or index yet (they come after the copy).
        expect(await query(t, "SELECT count(*)::int AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 't_acme'::regnamespace")).toEqual([{ n: 0 }]);
        expect(await query(t, "SELECT pg_get_userbyid(nspowner) AS o FROM pg_namespace WHERE nspname = 't_acme'")).toEqual([{ o: "t_acme_owner" }]);

        // The runtime role has DML, nothing for PUBLIC, the database closed to PUBLIC (what applyRoles leaves).
        const privs = await query(
            t,
            `SELECT has_table_privilege('t_acme_app', 't_acme.orders', 'SELECT, INSERT, UPDATE, DELETE') AS app_dml,
                    has_table_privilege('t_acme_app', 't_acme.orders', 'TRUNCATE') AS app_truncate,
                    has_sequence_privilege('t_acme_app', 't_acme.products_id_seq', 'USAGE') AS app_seq,
                    has_schema_privilege('t_acme_app', 't_acme', 'CREATE') AS app_create,
                    (SELECT count(*)::int FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = 't_acme'::regnamespace AND a.grantee = 0) AS public_tables,
                    (SELECT count(*)::int FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE p.pronamespace = 't_acme'::regnamespace AND a.grantee = 0) AS public_functions,
                    (SELECT count(*)::int FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 't_acme' AND a.grantee = 0) AS public_schema,
                    (SELECT count(*)::int FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = 'app' AND a.grantee = 0) AS public_database,
                    has_database_privilege('t_acme_app', 'app', 'CONNECT') AS app_connect`,
        );
        expect(privs).toEqual([{ app_dml: true, app_truncate: false, app_seq: true, app_create: false, public_tables: 0, public_functions: 0, public_schema: 0, public_database: 0, app_connect: true }]);
        // The roles hold no power, and the runtime role works once the placement's secret sets its password.
        expect(await query(t, "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles WHERE rolname LIKE 't_acme%' ORDER BY 1")).toEqual([
            { rolname: "t_acme_app", rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false },
            { rolname: "t_acme_owner", rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false },
        ]);
        await query(t, `ALTER ROLE t_acme_app PASSWORD '${FIXTURE_PASSWORD}'`);
        expect(await query(roleUrl(target.adminUrl(), "t_acme_app"), "INSERT INTO products (sku, price) VALUES ('x', 1) RETURNING sku")).toEqual([{ sku: "x" }]);
        await query(t, "DELETE FROM t_acme.products");

        // Idempotent: a second prepare changes nothing and says so.
        const again = await prepare(ctx);
        expect(again.prepared).toBe(false);
    });

    it("prepares into roles and an empty schema a cell already declares: uses them, adds reporting where the target has it", async () => {
        // A second database on the target cluster, laid out as a shared cell with beta's placement declared.
        await query(target.adminUrl(), "CREATE DATABASE cell");
        const cellUrl = target.adminUrl("cell");
        await createSharedTier(cellUrl);
        await declareTenant(cellUrl, "beta");
        // The CLI tells a cell by its group's CONNECT on the database, not by the (cluster-wide) role alone.
        expect(await detectPlacement(cellUrl)).toBe("shared");
        expect(await detectPlacement(target.adminUrl())).toBe("instance");
        const ctx = context(source.adminUrl(), cellUrl, "beta", { targetPlacement: "shared" });
        const result = await prepare(ctx);
        expect(result.state).toMatchObject({ phase: "prepared", createdSchema: false, createdRoles: [] });
        const t = target.superuserUrl("cell");
        expect(await query(t, "SELECT pg_get_userbyid(relowner) AS o, count(*)::int AS n FROM pg_class WHERE relnamespace = 't_beta'::regnamespace GROUP BY 1")).toEqual([
            { o: "t_beta_owner", n: expect.any(Number) },
        ]);
        expect(
            await query(
                t,
                `SELECT has_table_privilege('t_beta_app', 't_beta.orders', 'SELECT, INSERT, UPDATE, DELETE') AS app_dml,
                        has_table_privilege('tenancy_reporting', 't_beta.orders', 'SELECT') AS reporting_select,
                        has_table_privilege('tenancy_reporting', 't_beta.orders', 'INSERT') AS reporting_insert,
                        (SELECT count(*)::int FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = 't_beta'::regnamespace AND a.grantee = 0) AS public_tables`,
            ),
        ).toEqual([{ app_dml: true, reporting_select: true, reporting_insert: false, public_tables: 0 }]);
    });

    it("finds pg_dump and psql of the source's major version only, and names the package when one is missing", async () => {
        expect(await findTool("pg_dump", 15)).toBe("/usr/lib/postgresql/15/bin/pg_dump");
        expect(await findTool("psql", 15)).toBe("/usr/lib/postgresql/15/bin/psql");
        expect(await findTool("pg_dump", 99)).toBeUndefined();
        expect(missingToolMessage("pg_dump", 99)).toBe("pg_dump of PostgreSQL 99 not found (looked in /usr/lib/postgresql/99/bin and PATH): install the client of the source's major version, e.g. `apt-get install postgresql-client-99`");
    });

    it("verification: the baseline's one-pass chunk hashes equal the pause's per-chunk re-hashes, chunk by chunk", async () => {
        const c = await connect(endpoint(source.superuserUrl()));
        try {
            const tables = await verifyTables(c, "t_acme");
            expect(tables.map((t) => t.relname)).toEqual(["customers", "documents", "events", "order_items", "orders", "products"]);
            for (const t of tables) {
                const { boundaries, chunks } = await hashTable(c, t, 50);
                expect(chunks.length).toBe(boundaries.length + 1);
                const again = await hashSide(c, t, boundaries);
                expect(chunks.map((_, i) => again.get(i))).toEqual(chunks);
            }
            const items = tables.find((t) => t.relname === "order_items")!;
            expect(items.key).toEqual([{ name: "order_id", type: "bigint" }, { name: "line", type: "integer" }]);
            expect((await hashTable(c, items, 50)).boundaries.length).toBeGreaterThan(10);
        } finally {
            await c.end();
        }
    });

    it("never grants to a role the target does not have (the source cell's reporting role)", () => {
        const facts: TargetFacts = { database: "app", admin: "admin", placement: "shared", existingRoles: [], groupRole: false, reportingRole: false, schemaExists: false };
        const plan = privilegePlan({ schema: "t_x", ownerRole: "t_x_owner", runtimeRole: "t_x_app", facts, source: [] });
        const sql = [...plan.before, ...plan.after].join("\n");
        expect(sql).not.toContain("tenancy_reporting");
        expect(sql).not.toContain("tenancy_tenants");
        expect(sql).toContain(`GRANT CONNECT ON DATABASE "app" TO "t_x_owner", "t_x_app";`);
        const withReporting = privilegePlan({ schema: "t_x", ownerRole: "t_x_owner", runtimeRole: "t_x_app", facts: { ...facts, reportingRole: true, groupRole: true }, source: [] });
        expect(withReporting.before.join("\n")).toContain(`GRANT SELECT ON TABLES TO "tenancy_reporting"`);
        expect(withReporting.before.join("\n")).toContain(`GRANT "tenancy_tenants" TO "t_x_owner";`);
        // TenantDatabase's reporting-sequences-select and reporting-default-sequences: the nightly dump reads sequences.
        expect(withReporting.before).toContain(`ALTER DEFAULT PRIVILEGES FOR ROLE "t_x_owner" IN SCHEMA "t_x" GRANT SELECT ON SEQUENCES TO "tenancy_reporting";`);
        expect(withReporting.after).toContain(`GRANT SELECT ON ALL SEQUENCES IN SCHEMA "t_x" TO "tenancy_reporting";`);
        expect([...plan.before, ...plan.after].join("\n")).not.toContain("ON SEQUENCES TO \"tenancy_reporting\"");
    });
});
