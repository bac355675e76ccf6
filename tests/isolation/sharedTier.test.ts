/**
 * Shared-tier isolation, proven on a real PostgreSQL 16 (a major version RDS and Aurora offer).
 *
 * The SQL comes from the real stack program: a temporary repository with six shared tenants is recorded by the
 * engine, its `postgresql:*` resources are rendered by tools/sql.ts exactly as `npm run sql` prints them, and
 * applied to a fresh database named like the stack's app database, on a cluster of this suite's own (./cluster.ts).
 *
 * As whom: the statements run as the provider's user, created here like the RDS/Aurora master user: not a superuser,
 * with CREATEROLE and CREATEDB, owning the app database (and, as the README assumes of RDS, `postgres` and
 * `template1`). Under PostgreSQL 16's CREATEROLE rules it administers the roles it creates without being able to act
 * as them, so the rendered SQL must carry the provider's temporary role grants (`withRolesGranted`) to create a
 * schema for its owner or set that owner's default privileges. Not emulated: rds_superuser's extra powers, which the
 * rendered SQL does not use. Where a no-op could hide (a REVOKE by a non-owner only warns), the tests also check the
 * resulting ACL, not only the refusal.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORTING_ROLE, tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName } from "../../components/naming";
import type { RecordedResource } from "../../engine/recorder";
import { providerOptions, recordStack, selectPostgresql, stackSql, type StackRecording } from "../../tools/sql";
import { POSTGRESQL_TYPES, renderSqlUpdate, type SqlStatement } from "../../tools/sql/render";
import { makeRepo, sharedTenant } from "../tenants/fixtures";
import { applyStatements, Cluster, using } from "./cluster";

const STACK = "test";
const SLUGS = ["acme", "globex", "hooli", "initech", "stark", "umbrella"];
/** acme gets small limits so they can be hit in a test. */
const ACME_CONNECTION_LIMIT = 3;
const tenantFile = (slug: string, extra = ""): string =>
    sharedTenant(slug, (slug === "acme" ? `database:\n  connectionLimit: ${ACME_CONNECTION_LIMIT}\n  statementTimeoutSeconds: 1\n` : "") + extra);

const app = tenantRuntimeRoleName;
const owner = tenantOwnerRoleName;
const schema = tenantSchemaName;
const others = (slug: string): string[] => SLUGS.filter((s) => s !== slug);

const DENIED = /permission denied|must be owner/;

/**
 * Sets a fresh cluster up as RDS leaves it for the provider: the master user `user` (no superuser; CREATEROLE,
 * CREATEDB) owning the app database `database`, `postgres` and `template1`. Returns a connector as that user.
 */
async function asRdsMaster(cluster: Cluster, user: string, database: string): Promise<(db: string) => Promise<Client>> {
    const password = randomBytes(16).toString("hex");
    await using(cluster.admin(), async (c) => {
        const u = c.escapeIdentifier(user);
        await c.query(`CREATE ROLE ${u} WITH LOGIN PASSWORD '${password}' NOSUPERUSER CREATEROLE CREATEDB INHERIT`);
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(database)} OWNER ${u}`);
        for (const d of ["postgres", "template1"]) await c.query(`ALTER DATABASE ${d} OWNER TO ${u}`);
        // rds_superuser, which the master user belongs to, holds pg_signal_backend: it may end non-superuser sessions.
        await c.query(`GRANT pg_signal_backend TO ${u}`);
    });
    return (db) => cluster.connect(user, password, db);
}

/**
 * Applies each resource's statements as soon as every resource it depends on (options.dependencies) is applied, on a
 * connection of its own, up to `parallel` at once (like `pulumi up --parallel`). Returns the errors, none expected.
 */
async function applyAsScheduled(
    resources: readonly RecordedResource[],
    render: (r: RecordedResource) => SqlStatement[],
    connect: (database: string) => Promise<Client>,
    database: string,
    parallel = 16,
): Promise<string[]> {
    const done = new Map<string, Promise<void>>();
    const errors: string[] = [];
    let running = 0;
    const waiting: (() => void)[] = [];
    const slot = async (): Promise<void> => {
        while (running >= parallel) await new Promise<void>((r) => waiting.push(r));
        running++;
    };
    const urns = new Set(resources.map((r) => r.urn));
    for (const r of resources) {
        // Registration order puts every dependency before its dependents, so its promise already exists.
        const deps = r.options.dependencies.filter((u) => urns.has(u)).map((u) => done.get(u)!);
        done.set(
            r.urn,
            Promise.all(deps).then(async () => {
                await slot();
                try {
                    await applyStatements(connect, render(r), database);
                } catch (e) {
                    errors.push(String(e));
                    throw e;
                } finally {
                    running--;
                    waiting.shift()?.();
                }
            }),
        );
    }
    await Promise.allSettled(done.values());
    return errors;
}

describe("shared-tier isolation on a real PostgreSQL server", () => {
    let cluster: Cluster;
    let root: string;
    let before: StackRecording;
    let db: string;
    /** Role name → password we chose; the rendered CREATE ROLE statements carry them. */
    const passwords: Record<string, string> = {};
    let platformSql: SqlStatement[];
    /** Connects as the provider's user (the emulated RDS master user). */
    let master: (database: string) => Promise<Client>;
    let masterUser: string;
    let tenantSql: Map<string, SqlStatement[]>;
    /** Errors of the initial apply; asserted by the first test, a precondition of the others. */
    let applyErrors: string[] = ["not applied"];

    const login = (role: string, database = db): Promise<Client> => cluster.connect(role, passwords[role] ?? "no-password", database);
    const admin = (): Promise<Client> => cluster.admin(db);
    /** Expects a login to be refused with `message`; a login that succeeds is closed again before failing the test. */
    async function refused(role: string, message: string, database = db): Promise<void> {
        const outcome = await login(role, database).then(
            async (c) => {
                await c.end();
                return "logged in";
            },
            (e: Error) => e.message,
        );
        expect(outcome, `${role} logging in to ${database}`).toContain(message);
    }
    const applied = (): void => {
        if (applyErrors.length) throw new Error(`the rendered SQL did not apply (see the first test): ${applyErrors.join("\n")}`);
    };

    /** Waits until `role` has no session left: a closed client's backend exits asynchronously and still counts. */
    async function drained(role: string): Promise<void> {
        await using(admin(), async (c) => {
            for (let i = 0; i < 100; i++) {
                const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [role]);
                if (rows[0]!.n === 0) return;
                await new Promise((r) => setTimeout(r, 50));
            }
            throw new Error(`sessions of ${role} did not end`);
        });
    }

    beforeAll(async () => {
        cluster = await Cluster.start();
        root = makeRepo(Object.fromEntries(SLUGS.map((s) => [`${s}.yaml`, tenantFile(s)])));
        before = await recordStack(root, STACK);
        db = before.registry.config.shared.database.name;
        for (const r of selectPostgresql(before.resources, { kind: "all" })) {
            if (r.type === POSTGRESQL_TYPES.role) passwords[r.inputs["name"] as string] = randomBytes(16).toString("hex");
        }
        platformSql = stackSql(before, { kind: "platform" }, { passwords });
        tenantSql = new Map(SLUGS.map((s) => [s, stackSql(before, { kind: "tenant", slug: s }, { passwords })]));

        masterUser = before.provider.username!;
        expect(before.provider.superuser, "the program declares its provider user a non-superuser").toBe(false);
        master = await asRdsMaster(cluster, masterUser, db);
        // As `pulumi up` orders them: the hardening first (every tenant role depends on it), then all tenants at once,
        // each on its own connections. Within a tenant the provider's transactions run one after another.
        try {
            await applyStatements(master, platformSql, db);
            const results = await Promise.allSettled(SLUGS.map((s) => applyStatements(master, tenantSql.get(s)!, db)));
            applyErrors = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
        } catch (e) {
            applyErrors = [String(e)];
        }
        if (applyErrors.length) return;

        // Each tenant's migrations (its owner role) create a table with a row, after everything was set up.
        for (const s of SLUGS) {
            await using(login(owner(s)), async (c) => {
                await c.query(`CREATE TABLE ${schema(s)}.accounts (id serial PRIMARY KEY, name text NOT NULL)`);
                await c.query(`INSERT INTO ${schema(s)}.accounts (name) VALUES ($1)`, [`${s} row`]);
            });
        }
    });

    afterAll(async () => {
        await cluster?.close();
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it("1. the platform's and six tenants' statements apply cleanly, the tenants concurrently on separate connections", async () => {
        expect(applyErrors).toEqual([]);
        // The scopes split the stack's statements without loss or overlap.
        const all = stackSql(before, { kind: "all" }, { passwords }).map((s) => s.sql);
        const split = [...platformSql, ...SLUGS.flatMap((s) => tenantSql.get(s)!)].map((s) => s.sql);
        expect(split.sort()).toEqual(all.sort());
        for (const s of SLUGS) expect(tenantSql.get(s)!.length).toBeGreaterThan(0);

        await using(admin(), async (c) => {
            const schemas = await c.query(`SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname LIKE 't\\_%' ORDER BY 1`);
            expect(schemas.rows).toEqual(SLUGS.map((s) => ({ nspname: schema(s), owner: owner(s) })));
            const roles = await c.query<{ rolname: string; rolcanlogin: boolean; rolconnlimit: number; rolconfig: string[] }>(
                `SELECT rolname, rolcanlogin, rolconnlimit, rolconfig FROM pg_roles WHERE rolname = ANY($1)`,
                [SLUGS.map(app)],
            );
            const acme = roles.rows.find((r) => r.rolname === app("acme"))!;
            expect(acme).toMatchObject({ rolcanlogin: true, rolconnlimit: ACME_CONNECTION_LIMIT });
            expect(acme.rolconfig).toEqual(expect.arrayContaining(["search_path=t_acme", "statement_timeout=1000"]));
            expect(roles.rows).toHaveLength(SLUGS.length);
        });
    });

    it("1a. the provider's user is like the RDS master user: no superuser, and without the provider's temporary grant it cannot create a schema for a role it created", async () => {
        applied();
        await using(master(db), async (c) => {
            const { rows } = await c.query<{ rolsuper: boolean; rolcreaterole: boolean }>("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user");
            expect(rows).toEqual([{ rolsuper: false, rolcreaterole: true }]);
            await c.query("BEGIN");
            try {
                await c.query("CREATE ROLE t_probe_owner NOLOGIN");
                await expect(c.query("CREATE SCHEMA t_probe AUTHORIZATION t_probe_owner")).rejects.toThrow('must be able to SET ROLE "t_probe_owner"');
            } finally {
                await c.query("ROLLBACK");
            }
            // The temporary grants were all revoked again: the user is a member of no tenant role with SET.
            const members = await c.query(
                "SELECT pg_get_userbyid(roleid) AS role FROM pg_auth_members WHERE member = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND set_option AND pg_get_userbyid(roleid) LIKE 't\\_%'",
            );
            expect(members.rows).toEqual([]);
        });
    });

    it("1b. applied the way `pulumi up` schedules them (each resource once its declared dependencies are done, all others in parallel), nothing collides", async () => {
        const second = await Cluster.start();
        try {
            const secondMaster = await asRdsMaster(second, masterUser, db);
            const all = selectPostgresql(before.resources, { kind: "all" });
            const schemaOwners = Object.fromEntries(all.filter((r) => r.type === POSTGRESQL_TYPES.schema).map((r) => [r.inputs["name"] as string, r.inputs["owner"] as string]));
            const errors = await applyAsScheduled(all, (r) => stackSql({ ...before, resources: [r] }, { kind: "all" }, { passwords, schemaOwners }), secondMaster, db);
            expect(errors).toEqual([]);
        } finally {
            await second.close();
        }
    });

    it("2a. a tenant's login roles cannot read or write another tenant's tables, also after SET search_path to its schema", async () => {
        applied();
        for (const a of SLUGS) {
            for (const role of [app(a), owner(a)]) {
                await using(login(role), async (c) => {
                    for (const b of others(a)) {
                        const table = `${schema(b)}.accounts`;
                        const attempts = [
                            `SELECT * FROM ${table}`,
                            `INSERT INTO ${table} (name) VALUES ('intruder')`,
                            `UPDATE ${table} SET name = 'intruder'`,
                            `DELETE FROM ${table}`,
                            `TRUNCATE ${table}`,
                            `SELECT nextval('${schema(b)}.accounts_id_seq')`,
                        ];
                        for (const sql of attempts) await expect(c.query(sql), `${role}: ${sql}`).rejects.toThrow(`permission denied for schema ${schema(b)}`);
                        await c.query(`SET search_path TO ${schema(b)}`);
                        for (const sql of attempts) await expect(c.query(sql), `${role} with search_path: ${sql}`).rejects.toThrow(`permission denied for schema ${schema(b)}`);
                        // Unqualified names skip schemas without USAGE: the other tenant's table does not even resolve.
                        await expect(c.query("SELECT * FROM accounts")).rejects.toThrow('relation "accounts" does not exist');
                        await c.query("RESET search_path");
                    }
                });
            }
        }
        // Nothing changed: every tenant still has exactly its own row.
        await using(admin(), async (c) => {
            for (const s of SLUGS) expect((await c.query(`SELECT name FROM ${schema(s)}.accounts`)).rows).toEqual([{ name: `${s} row` }]);
        });
    });

    it("2b. a tenant cannot create anything in public or another tenant's schema, and its runtime role not even in its own", async () => {
        applied();
        const creations = (target: string): string[] => [
            `CREATE TABLE ${target}.x (id int)`,
            `CREATE VIEW ${target}.v AS SELECT 1 AS one`,
            `CREATE SEQUENCE ${target}.s`,
            `CREATE FUNCTION ${target}.f() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
            `CREATE TYPE ${target}.t AS ENUM ('a')`,
        ];
        for (const a of SLUGS) {
            const b = others(a)[0]!;
            await using(login(app(a)), async (c) => {
                for (const target of ["public", schema(b), schema(a)]) {
                    for (const sql of creations(target)) await expect(c.query(sql), `${app(a)}: ${sql}`).rejects.toThrow(`permission denied for schema ${target}`);
                }
                await expect(c.query("CREATE TEMP TABLE scratch (id int)")).rejects.toThrow(`permission denied to create temporary tables in database "${db}"`);
                await expect(c.query("CREATE SCHEMA mine")).rejects.toThrow(`permission denied for database ${db}`);
            });
            await using(login(owner(a)), async (c) => {
                for (const target of ["public", schema(b)]) {
                    for (const sql of creations(target)) await expect(c.query(sql), `${owner(a)}: ${sql}`).rejects.toThrow(`permission denied for schema ${target}`);
                }
                await expect(c.query("CREATE SCHEMA mine")).rejects.toThrow(`permission denied for database ${db}`);
            });
        }
    });

    it("2c. a tenant's runtime role cannot become another role, create roles or databases, reach another database, or raise its connection limit", async () => {
        applied();
        const databases = await using(admin(), async (c) =>
            (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datallowconn AND datname <> $1 ORDER BY 1", [db])).rows.map((r) => r.datname),
        );
        expect(databases).toEqual(expect.arrayContaining(["postgres", "template1"]));
        for (const a of SLUGS) {
            await using(login(app(a)), async (c) => {
                for (const role of [...others(a).flatMap((b) => [app(b), owner(b)]), owner(a), REPORTING_ROLE]) {
                    await expect(c.query(`SET ROLE ${role}`), `${app(a)} SET ROLE ${role}`).rejects.toThrow(`permission denied to set role "${role}"`);
                }
                await expect(c.query(`SET SESSION AUTHORIZATION ${app(others(a)[0]!)}`)).rejects.toThrow("permission denied to set session authorization");
                await expect(c.query("CREATE ROLE sneaky LOGIN PASSWORD 'x'")).rejects.toThrow("permission denied to create role");
                await expect(c.query("CREATE DATABASE sneaky")).rejects.toThrow("permission denied to create database");
                await expect(c.query(`ALTER ROLE ${app(a)} CONNECTION LIMIT 1000`)).rejects.toThrow(`permission denied to alter role`);
                await expect(c.query(`ALTER ROLE ${app(a)} CREATEROLE`)).rejects.toThrow(`permission denied to alter role`);
                await expect(c.query(`GRANT ${owner(a)} TO ${app(a)}`)).rejects.toThrow(`permission denied to grant role "${owner(a)}"`);
            });
            for (const other of databases) {
                await refused(app(a), `permission denied for database "${other}"`, other);
            }
        }
        // The refusals come from the declared revokes, not from the superuser running them: PUBLIC has no CONNECT left.
        await using(admin(), async (c) => {
            const { rows } = await c.query<{ datname: string }>(
                `SELECT datname FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
                 WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT' AND d.datallowconn`,
            );
            expect(rows).toEqual([]);
        });
    });

    it("3. a tenant's runtime role reads and writes tables (and their sequences) its owner role creates later", async () => {
        applied();
        for (const s of SLUGS) {
            await using(login(owner(s)), (c) => c.query(`CREATE TABLE ${schema(s)}.orders (id bigserial PRIMARY KEY, note text NOT NULL)`));
            await using(login(app(s)), async (c) => {
                // search_path is the tenant's schema: unqualified names are the tenant's own.
                await c.query("INSERT INTO orders (note) VALUES ('first'), ('second')");
                await c.query("UPDATE orders SET note = 'changed' WHERE id = 1");
                await c.query("DELETE FROM orders WHERE id = 2");
                expect((await c.query("SELECT id::int, note FROM orders")).rows).toEqual([{ id: 1, note: "changed" }]);
                await c.query("INSERT INTO accounts (name) VALUES ('by the app')");
                expect((await c.query("SELECT count(*)::int AS n FROM accounts")).rows).toEqual([{ n: 2 }]);
                await c.query("DELETE FROM accounts WHERE name = 'by the app'");
            });
        }
    });

    it("4. a runtime role's connection number limit+1 is refused, and a statement over its timeout is cancelled", async () => {
        applied();
        const open: Client[] = [];
        try {
            for (let i = 0; i < ACME_CONNECTION_LIMIT; i++) open.push(await login(app("acme")));
            await refused(app("acme"), `too many connections for role "${app("acme")}"`);
            // Another tenant still gets in while acme is at its limit, and cannot cancel or end acme's sessions.
            const acmePid = (await open[0]!.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
            await using(login(app("globex")), async (c) => {
                await expect(c.query("SELECT pg_cancel_backend($1)", [acmePid])).rejects.toThrow("permission denied to cancel query");
                await expect(c.query("SELECT pg_terminate_backend($1)", [acmePid])).rejects.toThrow("permission denied to terminate process");
            });
        } finally {
            await Promise.all(open.map((c) => c.end()));
        }
        await drained(app("acme"));
        await using(login(app("acme")), async (c) => {
            expect((await c.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("1s");
            await expect(c.query("SELECT pg_sleep(2)")).rejects.toThrow("canceling statement due to statement timeout");
            expect((await c.query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
        });
        await drained(app("acme"));
    });

    it("5. the reporting role reads every tenant's tables, also those created after it was set up, and every write or DDL fails", async () => {
        applied();
        for (const s of SLUGS) {
            await using(login(owner(s)), async (c) => {
                await c.query(`CREATE TABLE ${schema(s)}.invoices (id int PRIMARY KEY, amount int NOT NULL)`);
                await c.query(`INSERT INTO ${schema(s)}.invoices VALUES (1, 100)`);
            });
        }
        await using(login(REPORTING_ROLE), async (c) => {
            for (const s of SLUGS) {
                expect((await c.query(`SELECT name FROM ${schema(s)}.accounts`)).rows).toEqual([{ name: `${s} row` }]);
                expect((await c.query(`SELECT amount FROM ${schema(s)}.invoices`)).rows).toEqual([{ amount: 100 }]);
                const t = `${schema(s)}.invoices`;
                for (const sql of [
                    `INSERT INTO ${t} VALUES (2, 1)`,
                    `UPDATE ${t} SET amount = 0`,
                    `DELETE FROM ${t}`,
                    `TRUNCATE ${t}`,
                    `SELECT * FROM ${t} FOR UPDATE`,
                    `SELECT nextval('${schema(s)}.accounts_id_seq')`,
                    `ALTER TABLE ${t} ADD COLUMN note text`,
                    `CREATE INDEX ON ${t} (amount)`,
                    `COMMENT ON TABLE ${t} IS 'x'`,
                    `DROP TABLE ${t}`,
                    `CREATE TABLE ${schema(s)}.r (id int)`,
                    `CREATE VIEW ${schema(s)}.rv AS SELECT 1 AS one`,
                ]) {
                    await expect(c.query(sql), `reporting: ${sql}`).rejects.toThrow(DENIED);
                }
            }
            await expect(c.query("CREATE TABLE public.r (id int)")).rejects.toThrow("permission denied for schema public");
            await expect(c.query("CREATE TEMP TABLE r (id int)")).rejects.toThrow("permission denied to create temporary tables");
            await expect(c.query("CREATE SCHEMA r")).rejects.toThrow(`permission denied for database ${db}`);
            await expect(c.query("CREATE ROLE r")).rejects.toThrow("permission denied to create role");
        });
        await using(admin(), async (c) => {
            for (const s of SLUGS) expect((await c.query(`SELECT id, amount FROM ${schema(s)}.invoices`)).rows).toEqual([{ id: 1, amount: 100 }]);
        });
    });

    it("6. PUBLIC has no EXECUTE on functions a tenant creates, and nothing a tenant creates is usable by another tenant", async () => {
        applied();
        for (const s of SLUGS) {
            await using(login(owner(s)), async (c) => {
                await c.query(`CREATE FUNCTION ${schema(s)}.secret_fn() RETURNS text LANGUAGE sql AS $$ SELECT 'secret' $$`);
                await c.query(`CREATE PROCEDURE ${schema(s)}.secret_proc() LANGUAGE sql AS $$ SELECT 1 $$`);
                await c.query(`CREATE VIEW ${schema(s)}.secret_view AS SELECT name FROM ${schema(s)}.accounts`);
                await c.query(`CREATE MATERIALIZED VIEW ${schema(s)}.secret_mv AS SELECT name FROM ${schema(s)}.accounts`);
                await c.query(`CREATE SEQUENCE ${schema(s)}.secret_seq`);
                await c.query(`CREATE TYPE ${schema(s)}.secret_type AS ENUM ('a')`);
            });
        }
        await using(admin(), async (c) => {
            const { rows } = await c.query(
                `SELECT p.oid::regprocedure::text AS fn FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                 WHERE p.pronamespace::regnamespace::text LIKE 't\\_%' AND a.grantee = 0`,
            );
            expect(rows).toEqual([]);
        });
        for (const a of SLUGS) {
            const uses = [
                `SELECT ${schema(a)}.secret_fn()`,
                `CALL ${schema(a)}.secret_proc()`,
                `SELECT * FROM ${schema(a)}.secret_view`,
                `SELECT * FROM ${schema(a)}.secret_mv`,
                `SELECT nextval('${schema(a)}.secret_seq')`,
                `SELECT 'a'::${schema(a)}.secret_type`,
            ];
            for (const b of others(a)) {
                for (const role of [app(b), owner(b)]) {
                    await using(login(role), async (c) => {
                        for (const sql of uses) await expect(c.query(sql), `${role}: ${sql}`).rejects.toThrow(`permission denied for schema ${schema(a)}`);
                    });
                }
            }
            // Without PUBLIC's EXECUTE, neither the tenant's own runtime role nor reporting may call its routines.
            for (const role of [app(a), REPORTING_ROLE]) {
                await using(login(role), async (c) => {
                    await expect(c.query(`SELECT ${schema(a)}.secret_fn()`)).rejects.toThrow("permission denied for function secret_fn");
                    await expect(c.query(`CALL ${schema(a)}.secret_proc()`)).rejects.toThrow("permission denied for procedure secret_proc");
                });
            }
        }
        // Another tenant sees that a session exists, never what it runs.
        await using(login(app("acme")), async (acme) => {
            await acme.query("SELECT 'acme-private-marker'");
            await using(login(app("globex")), async (c) => {
                const { rows } = await c.query<{ query: string }>("SELECT query FROM pg_stat_activity WHERE usename = $1", [app("acme")]);
                expect(rows.length).toBeGreaterThan(0);
                for (const r of rows) expect(r.query).toBe("<insufficient privilege>");
            });
        });
        await drained(app("acme"));
    });

    it("7. suspending and offboarding tenants as the program declares it stops their logins, keeps their data, and leaves every other tenant untouched", async () => {
        applied();
        const statuses: Record<string, string> = { initech: "suspended", umbrella: "offboarded" };
        const postgres = (rec: StackRecording): Map<string, RecordedResource> =>
            new Map(selectPostgresql(rec.resources, { kind: "all" }).map((r) => [r.urn, r]));
        /** Declares the statuses, re-runs the program and applies the provider's in-place updates. */
        async function declare(next: Record<string, string>, previous: StackRecording): Promise<{ recording: StackRecording; changed: string[]; sql: string[] }> {
            for (const [slug, status] of Object.entries(next)) fs.writeFileSync(path.join(root, "tenants", "test", `${slug}.yaml`), tenantFile(slug, `status: ${status}\n`));
            const recording = await recordStack(root, STACK);
            const was = postgres(previous);
            const now = postgres(recording);
            // Nothing is deleted or replaced (the schemas and grants stay), nothing is added.
            expect([...now.keys()]).toEqual([...was.keys()]);
            const changed = [...now.values()].filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(was.get(r.urn)!.inputs));
            const updates = changed.flatMap((r) => renderSqlUpdate(was.get(r.urn)!, r, { ...providerOptions(recording), passwords }));
            await applyStatements(master, updates, db);
            return { recording, changed: changed.map((r) => r.name).sort(), sql: updates.map((s) => s.sql) };
        }

        const first = await declare(statuses, before);
        expect(first.changed).toEqual(["initech-db-owner", "initech-db-runtime", "umbrella-db-owner", "umbrella-db-runtime"]);
        expect(first.sql.filter((s) => s.includes("LOGIN")).sort()).toEqual(
            [owner("initech"), app("initech"), owner("umbrella"), app("umbrella")].map((r) => `ALTER ROLE "${r}" WITH NOLOGIN`).sort(),
        );
        for (const sql of first.sql) expect(sql).toMatch(/"t_(initech|umbrella)_(app|owner)"/);

        // A suspended tenant later offboarded: no further SQL, its data still kept.
        const second = await declare({ initech: "offboarded" }, first.recording);
        expect(second.changed).toEqual([]);

        for (const s of Object.keys(statuses)) {
            for (const role of [app(s), owner(s)]) await refused(role, `role "${role}" is not permitted to log in`);
        }
        await using(admin(), async (c) => {
            for (const s of Object.keys(statuses)) {
                expect((await c.query(`SELECT name FROM ${schema(s)}.accounts`)).rows).toEqual([{ name: `${s} row` }]);
                expect((await c.query(`SELECT id::int, note FROM ${schema(s)}.orders`)).rows).toEqual([{ id: 1, note: "changed" }]);
            }
        });
        for (const s of SLUGS.filter((x) => !(x in statuses))) {
            await using(login(app(s)), async (c) => {
                await c.query("INSERT INTO orders (note) VALUES ('after the others were suspended')");
                expect((await c.query("SELECT count(*)::int AS n FROM orders")).rows).toEqual([{ n: 2 }]);
                expect((await c.query("SELECT name FROM accounts")).rows).toEqual([{ name: `${s} row` }]);
            });
            await using(login(owner(s)), (c) => c.query("CREATE TABLE later (id int)"));
        }
    });

    it("8. the shared tier's known limits (README: Threat model) are what the server does: each is pinned here", async () => {
        applied();
        // statementTimeoutSeconds is a default: a session may raise it.
        await using(login(app("acme")), async (c) => {
            await c.query("SET statement_timeout = 0");
            expect((await c.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("0");
        });
        await drained(app("acme"));

        // Catalog metadata is visible: another tenant's schema and role names (not its data: 2a).
        await using(login(app("globex")), async (c) => {
            expect((await c.query("SELECT nspname FROM pg_namespace WHERE nspname = $1", [schema("acme")])).rows).toHaveLength(1);
            expect((await c.query("SELECT rolname FROM pg_roles WHERE rolname = $1", [app("acme")])).rows).toHaveLength(1);
        });

        // LISTEN/NOTIFY channels and advisory locks are per database, not per schema.
        await using(login(app("globex")), async (listener) => {
            await listener.query("LISTEN orders");
            const heard = new Promise<string>((resolve) => listener.once("notification", (n) => resolve(n.payload ?? "")));
            await using(login(app("acme")), (c) => c.query("NOTIFY orders, 'acme order 42'"));
            expect(await heard).toBe("acme order 42");
            await using(login(app("acme")), async (c) => {
                await c.query("SELECT pg_advisory_lock(42)");
                expect((await listener.query("SELECT pg_try_advisory_lock(42) AS got")).rows).toEqual([{ got: false }]);
            });
        });
        await drained(app("acme"));

        // Large objects live outside the schema (pg_largeobject), but only their owner reads or changes them.
        const oid = await using(login(app("acme")), async (c) => (await c.query<{ oid: number }>("SELECT lo_from_bytea(0, 'acme secret') AS oid")).rows[0]!.oid);
        await using(login(app("globex")), async (c) => {
            await expect(c.query("SELECT lo_get($1)", [oid])).rejects.toThrow(`permission denied for large object ${oid}`);
            await expect(c.query("SELECT lo_put($1, 0, 'x')", [oid])).rejects.toThrow(`permission denied for large object ${oid}`);
            await expect(c.query("SELECT lo_unlink($1)", [oid])).rejects.toThrow(`must be owner of large object ${oid}`);
        });
        // The master user cannot take large objects away from PUBLIC: pg_catalog's functions are not its own.
        await using(master(db), async (c) => {
            await c.query("REVOKE EXECUTE ON FUNCTION lo_from_bytea(oid, bytea) FROM PUBLIC");
            const { rows } = await c.query<{ ok: boolean }>("SELECT has_function_privilege('public', 'lo_from_bytea(oid, bytea)', 'EXECUTE') AS ok");
            expect(rows).toEqual([{ ok: true }]);
        });

        // Suspension (NOLOGIN) stops new logins only; the runbook's pg_terminate_backend as the master user ends the rest.
        const open = await login(app("hooli"));
        try {
            await using(master(db), (c) => c.query(`ALTER ROLE ${app("hooli")} WITH NOLOGIN`));
            expect((await open.query("SELECT count(*)::int AS n FROM accounts")).rows).toEqual([{ n: 1 }]);
            await refused(app("hooli"), `role "${app("hooli")}" is not permitted to log in`);
            await using(master(db), async (c) => {
                const { rows } = await c.query("SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE usename = $1", [app("hooli")]);
                expect(rows).toEqual([{ ended: true }]);
            });
            await expect(open.query("SELECT 1")).rejects.toThrow();
        } finally {
            await open.end().catch(() => undefined);
        }
    });
});
