/**
 * The role manager's SQL (components/roleManager/handler.ts `applyRoles`, exactly what the Lambda function runs) on a
 * real PostgreSQL 16, as RDS runs it: by a master user that is NOT a superuser, only CREATEROLE CREATEDB, owning the
 * app database and the maintenance databases, and allowed to signal other sessions (rds_superuser is a member of
 * pg_signal_backend). A cluster of this suite's own, because the SQL changes `postgres` and `template1`.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRoles, type DesiredRoles, isTransient } from "../../components/roleManager/handler";
import { Cluster, using } from "./cluster";

const MASTER = "tenancy_admin";
const DB = "app";
const pw = (): string => randomBytes(18).toString("base64url");
const DENIED = /permission denied|must be owner/;

let cluster: Cluster;
const masterPassword = pw();
const desired: DesiredRoles = { database: DB, schema: "t_acme", ownerRole: "t_acme_owner", runtimeRole: "t_acme_app", login: true, ownerPassword: pw(), runtimePassword: pw() };
const asMaster = (fn: (c: Client) => Promise<void>, db = DB): Promise<void> => using(cluster.connect(MASTER, masterPassword, db), fn);
const apply = (d: DesiredRoles = desired): Promise<void> => asMaster((c) => applyRoles(c, d));
const runtime = (db = DB, password = desired.runtimePassword): Promise<Client> => cluster.connect(desired.runtimeRole, password, db);
const owner = (db = DB): Promise<Client> => cluster.connect(desired.ownerRole, desired.ownerPassword, db);

/** Privileges and memberships the SQL controls, to compare two runs. */
async function catalogState(): Promise<unknown> {
    return using(cluster.admin(DB), async (c) => ({
        roles: (await c.query("SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconfig FROM pg_roles WHERE rolname LIKE 't_acme%' ORDER BY 1")).rows,
        members: (await c.query("SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ORDER BY 1, 2")).rows,
        schemas: (await c.query("SELECT nspname, nspowner::regrole::text AS owner, nspacl::text FROM pg_namespace WHERE nspname IN ('t_acme', 'public')")).rows,
        databases: (await c.query("SELECT datname, datacl::text FROM pg_database ORDER BY 1")).rows,
        defaults: (await c.query("SELECT defaclrole::regrole::text, defaclnamespace, defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3")).rows,
    }));
}

beforeAll(async () => {
    cluster = await Cluster.start();
    await using(cluster.admin(), async (c) => {
        await c.query(`CREATE ROLE ${MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '${masterPassword}'`);
        await c.query(`GRANT pg_signal_backend TO ${MASTER}`);
        await c.query(`CREATE DATABASE ${DB} OWNER ${MASTER}`);
        // On RDS the master user owns the maintenance databases too.
        await c.query(`ALTER DATABASE postgres OWNER TO ${MASTER}`);
        await c.query(`ALTER DATABASE template1 OWNER TO ${MASTER}`);
    });
    await apply();
    // The app's migrations, as the owner: a table and its sequence.
    await using(owner(), async (c) => {
        await c.query("CREATE TABLE items (id serial PRIMARY KEY, name text)");
        await c.query("INSERT INTO items (name) VALUES ('first')");
    });
});

afterAll(async () => {
    await cluster?.close();
});

describe("role manager SQL as the RDS master user (not a superuser)", () => {
    it("the master user really is no superuser here", async () => {
        await asMaster(async (c) => {
            expect((await c.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).rows[0].rolsuper).toBe(false);
        });
    });

    it("the owner role owns the schema and runs migrations in it, and nowhere else", async () => {
        await using(owner(), async (c) => {
            expect((await c.query("SELECT nspowner::regrole::text AS o FROM pg_namespace WHERE nspname = 't_acme'")).rows[0].o).toBe(desired.ownerRole);
            await c.query("CREATE TABLE t_acme.more (x int)");
            await c.query("DROP TABLE t_acme.more");
            await expect(c.query("CREATE TABLE public.stray (x int)")).rejects.toThrow(DENIED);
            await expect(c.query("CREATE ROLE sneaky")).rejects.toThrow(/permission denied/);
            await expect(c.query("CREATE DATABASE sneaky")).rejects.toThrow(/permission denied/);
        });
    });

    it("the runtime role reads and writes the schema's data and can do nothing else", async () => {
        await using(runtime(), async (c) => {
            // search_path points at the schema: the app uses unqualified names.
            await c.query("INSERT INTO items (name) VALUES ('second')");
            await c.query("UPDATE items SET name = 'renamed' WHERE name = 'second'");
            expect((await c.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBe(2);
            await c.query("DELETE FROM items WHERE name = 'renamed'");
            await expect(c.query("CREATE TABLE t_acme.x (x int)")).rejects.toThrow(DENIED);
            await expect(c.query("CREATE TABLE public.x (x int)")).rejects.toThrow(DENIED);
            await expect(c.query("DROP TABLE items")).rejects.toThrow(DENIED);
            await expect(c.query("ALTER TABLE items ADD COLUMN y int")).rejects.toThrow(DENIED);
            await expect(c.query("TRUNCATE items")).rejects.toThrow(DENIED);
            await expect(c.query("CREATE TEMP TABLE scratch (x int)")).rejects.toThrow(DENIED);
            await expect(c.query("CREATE ROLE sneaky")).rejects.toThrow(/permission denied/);
            await expect(c.query("CREATE DATABASE sneaky")).rejects.toThrow(/permission denied/);
            await expect(c.query(`SET ROLE ${MASTER}`)).rejects.toThrow(/permission denied/);
            await expect(c.query(`SET ROLE ${desired.ownerRole}`)).rejects.toThrow(/permission denied/);
            const settings = (await c.query("SELECT current_setting('idle_in_transaction_session_timeout') AS t")).rows[0].t;
            expect(settings).toBe("1min");
        });
    });

    it("neither role can connect to the maintenance databases", async () => {
        for (const db of ["postgres", "template1"]) {
            await expect(runtime(db)).rejects.toThrow(/permission denied for database/);
            await expect(owner(db)).rejects.toThrow(/permission denied for database/);
        }
    });

    it("neither role is a member of any role (least of all the master) nor holds an attribute with power", async () => {
        await using(cluster.admin(DB), async (c) => {
            const memberships = await c.query(
                "SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = ANY($1)",
                [[desired.ownerRole, desired.runtimeRole]],
            );
            expect(memberships.rows).toEqual([]);
            const roles = await c.query("SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1", [
                [desired.ownerRole, desired.runtimeRole],
            ]);
            expect(roles.rows).toHaveLength(2);
            for (const r of roles.rows) expect(r).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, rolcanlogin: true });
            // The master's temporary membership in the owner role (to create the schema for it) is gone again.
            const held = await c.query("SELECT pg_has_role($1, $2, 'USAGE') AS u", [MASTER, desired.ownerRole]);
            expect(held.rows[0].u).toBe(false);
        });
    });

    it("re-running is idempotent: nothing changes, data and existing grants stay", async () => {
        const before = await catalogState();
        await apply();
        await apply();
        expect(await catalogState()).toEqual(before);
        await using(runtime(), async (c) => expect((await c.query("SELECT name FROM items")).rows).toEqual([{ name: "first" }]));
    });

    it("a changed password takes effect for new logins; sessions already open keep working", async () => {
        const open = await runtime();
        try {
            const rotated = { ...desired, runtimePassword: pw() };
            await apply(rotated);
            await expect(runtime(DB, desired.runtimePassword)).rejects.toThrow(/password authentication failed/);
            await using(runtime(DB, rotated.runtimePassword), async (c) => expect((await c.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBe(1));
            expect((await open.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBe(1);
        } finally {
            await open.end();
            await apply();
        }
    });

    it("suspended: neither role can log in and their open sessions end; active again restores both", async () => {
        const open = await runtime();
        const migrating = await owner();
        try {
            await apply({ ...desired, login: false });
            await expect(runtime()).rejects.toThrow(/not permitted to log in/);
            await expect(owner()).rejects.toThrow(/not permitted to log in/);
            await expect(open.query("SELECT 1")).rejects.toThrow();
            await expect(migrating.query("SELECT 1")).rejects.toThrow();
        } finally {
            await open.end().catch(() => undefined);
            await migrating.end().catch(() => undefined);
        }
        await apply();
        await using(runtime(), async (c) => expect((await c.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBe(1));
    });

    it("a schema that already exists (a restore as the master) is handed to the owner; the runtime role reaches its tables", async () => {
        const other: DesiredRoles = { ...desired, schema: "t_restored", ownerRole: "t_restored_owner", runtimeRole: "t_restored_app" };
        await asMaster(async (c) => {
            await c.query("CREATE SCHEMA t_restored");
            await c.query("CREATE TABLE t_restored.old (x int)");
        });
        await apply(other);
        await using(cluster.connect(other.runtimeRole, other.runtimePassword, DB), async (c) => {
            // Tables that were there before the defaults existed are the app's data all the same.
            await c.query("INSERT INTO old VALUES (1)");
        });
        await using(cluster.connect(other.ownerRole, other.ownerPassword, DB), async (c) => {
            expect((await c.query("SELECT nspowner::regrole::text AS o FROM pg_namespace WHERE nspname = 't_restored'")).rows[0].o).toBe(other.ownerRole);
            await c.query("CREATE TABLE fresh (x int)");
        });
        await using(cluster.connect(other.runtimeRole, other.runtimePassword, DB), async (c) => {
            await c.query("INSERT INTO fresh VALUES (1)");
            // Roles of one database are not roles of another tenant's schema.
            await expect(c.query("SELECT * FROM t_acme.items")).rejects.toThrow(DENIED);
        });
    });

    it("a login with a stale master password fails as the function retries it (the secret is read again each try)", async () => {
        const err = await cluster.connect(MASTER, "rotated-away", DB).then(() => undefined, (e: unknown) => e);
        expect(err).toBeDefined();
        expect(isTransient(err)).toBe(true);
    });

    it("rejects identifiers it would have to quote, before any SQL runs", async () => {
        await expect(apply({ ...desired, schema: 'x"; DROP' })).rejects.toThrow(/schema: not a PostgreSQL identifier/);
    });

    it("refuses to manage the master user itself or a reserved role: the master keeps its memberships and login", async () => {
        // What an owner role named after the master would do otherwise: REVOKE every membership (rds_superuser) from it.
        await using(cluster.admin(DB), (c) => c.query(`GRANT pg_read_all_stats TO ${MASTER}`).then(() => undefined));
        const before = await catalogState();
        await expect(apply({ ...desired, ownerRole: MASTER })).rejects.toThrow(`role manager: ownerRole: '${MASTER}' is the user the function connects as`);
        await expect(apply({ ...desired, runtimeRole: MASTER })).rejects.toThrow(`role manager: runtimeRole: '${MASTER}' is the user the function connects as`);
        await expect(apply({ ...desired, runtimeRole: "pg_signal_backend" })).rejects.toThrow(/runtimeRole: 'pg_signal_backend' is reserved/);
        expect(await catalogState()).toEqual(before);
        await using(cluster.admin(DB), async (c) => {
            const held = await c.query("SELECT pg_has_role($1, 'pg_read_all_stats', 'MEMBER') AS m, pg_has_role($1, 'pg_signal_backend', 'MEMBER') AS s", [MASTER]);
            expect(held.rows[0]).toEqual({ m: true, s: true });
            await c.query(`REVOKE pg_read_all_stats FROM ${MASTER}`);
        });
        await asMaster(async (c) => expect((await c.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]));
    });
});
