import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRESQL_TYPES, quoteIdentifier, renderSql, renderSqlUpdate, setOrder, type DeclaredResource, type SqlStatement } from "../../tools/sql/render";
import { applyStatements } from "../support/applySql";
import { adminClient, connectAs, createDatabase } from "../support/postgres";

type Kind = keyof typeof POSTGRESQL_TYPES;

function declare(kind: Kind, name: string, inputs: Record<string, unknown>): DeclaredResource {
  const type = POSTGRESQL_TYPES[kind];
  return { urn: `urn:pulumi:test::tenancy::${type}::${name}`, type, name, inputs, options: { dependsOn: [] }, parent: null, provider: null };
}

const GROUP = "tenancy_tenants";

/** The group role and database-level grants every shared tenant relies on. */
function sharedBase(db: string): DeclaredResource[] {
  return [
    declare("role", "tenants-group", { name: GROUP, login: false }),
    declare("grant", "db-revoke-public", { database: db, role: "public", objectType: "database", privileges: [] }),
    declare("grant", "db-connect-tenants", { database: db, role: GROUP, objectType: "database", privileges: ["CONNECT"] }),
  ];
}

/** What a shared tenant declares, as the recording engine would hand it over (passwords are secrets). */
function sharedTenant(db: string, slug: string): DeclaredResource[] {
  const schema = `t_${slug}`;
  const owner = `${schema}_owner`;
  const app = `${schema}_app`;
  const reporting = `${schema}_reporting`;
  const loginRole = (extra: Record<string, unknown>, name: string) => ({ name, login: true, password: "[secret]", searchPaths: [schema], roles: [GROUP], ...extra });
  return [
    declare("role", `${slug}-owner`, loginRole({}, owner)),
    declare("schema", `${slug}-schema`, { name: schema, database: db, owner }),
    declare("role", `${slug}-app`, loginRole({ connectionLimit: 5, statementTimeout: 1000 }, app)),
    declare("grant", `${slug}-app-schema`, { database: db, schema, role: app, objectType: "schema", privileges: ["USAGE"] }),
    declare("defaultPrivileges", `${slug}-app-tables`, { database: db, schema, owner, role: app, objectType: "table", privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"] }),
    declare("defaultPrivileges", `${slug}-app-sequences`, { database: db, schema, owner, role: app, objectType: "sequence", privileges: ["USAGE", "SELECT"] }),
    declare("defaultPrivileges", `${slug}-no-public-functions`, { database: db, owner, role: "public", objectType: "function", privileges: [] }),
    declare("role", `${slug}-reporting`, loginRole({}, reporting)),
    declare("grant", `${slug}-reporting-schema`, { database: db, schema, role: reporting, objectType: "schema", privileges: ["USAGE"] }),
    declare("grant", `${slug}-reporting-tables`, { database: db, schema, role: reporting, objectType: "table", privileges: ["SELECT"] }),
    declare("defaultPrivileges", `${slug}-reporting-tables-default`, { database: db, schema, owner, role: reporting, objectType: "table", privileges: ["SELECT"] }),
  ];
}

/** Runs rendered statements as the provider would, as the server's admin. */
function apply(statements: readonly SqlStatement[], fallbackDb: string): Promise<void> {
  return applyStatements(adminClient, statements, fallbackDb);
}

const placeholder = (role: string): string => `<password:${role}>`;

async function withClient<T>(client: Promise<Client>, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await client;
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe("renderSql for a shared tenant", () => {
  const db = `tenancy_${randomBytes(4).toString("hex")}`;
  const resources = [...sharedBase(db), ...sharedTenant(db, "acme")];
  const statements = renderSql(resources, { database: db });
  const sqlOf = (name: string): string[] => statements.filter((s) => s.resource.endsWith(`::${name}`)).map((s) => s.sql);

  beforeAll(async () => {
    await createDatabase(db);
    await apply(statements, db);
  });

  it("renders each resource as the provider's statements, in registration order", () => {
    expect(sqlOf("tenants-group")).toEqual([
      `CREATE ROLE "tenancy_tenants" WITH VALID UNTIL 'infinity' CONNECTION LIMIT -1 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOLOGIN NOBYPASSRLS NOREPLICATION`,
      `ALTER ROLE "tenancy_tenants" SET search_path TO DEFAULT`,
    ]);
    expect(sqlOf("acme-owner")).toEqual([
      `CREATE ROLE "t_acme_owner" WITH ENCRYPTED PASSWORD '<password:t_acme_owner>' VALID UNTIL 'infinity' CONNECTION LIMIT -1 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`,
      `GRANT "tenancy_tenants" TO "t_acme_owner"`,
      `ALTER ROLE "t_acme_owner" SET search_path TO "t_acme"`,
    ]);
    expect(sqlOf("acme-app")).toEqual([
      `CREATE ROLE "t_acme_app" WITH ENCRYPTED PASSWORD '<password:t_acme_app>' VALID UNTIL 'infinity' CONNECTION LIMIT 5 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`,
      `GRANT "tenancy_tenants" TO "t_acme_app"`,
      `ALTER ROLE "t_acme_app" SET search_path TO "t_acme"`,
      `ALTER ROLE "t_acme_app" SET statement_timeout TO 1000`,
    ]);
    expect(sqlOf("acme-schema")).toEqual([`CREATE SCHEMA IF NOT EXISTS "t_acme" AUTHORIZATION "t_acme_owner"`]);
    expect(sqlOf("db-revoke-public")).toEqual([`REVOKE ALL PRIVILEGES ON DATABASE "${db}" FROM "public"`]);
    expect(sqlOf("acme-app-schema")).toEqual([`REVOKE ALL PRIVILEGES ON SCHEMA "t_acme" FROM "t_acme_app"`, `GRANT USAGE ON SCHEMA "t_acme" TO "t_acme_app"`]);
    expect(sqlOf("acme-app-tables")).toEqual([
      `ALTER DEFAULT PRIVILEGES FOR ROLE "t_acme_owner" IN SCHEMA "t_acme" REVOKE ALL ON TABLES FROM "t_acme_app"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "t_acme_owner" IN SCHEMA "t_acme" GRANT UPDATE,SELECT,DELETE,INSERT ON TABLES TO "t_acme_app"`,
    ]);
    expect(sqlOf("acme-no-public-functions")).toEqual([`ALTER DEFAULT PRIVILEGES FOR ROLE "t_acme_owner"  REVOKE ALL ON FUNCTIONS FROM "public"`]);
    expect(sqlOf("acme-reporting-tables")).toEqual([
      `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA "t_acme" FROM "t_acme_reporting"`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA "t_acme" TO "t_acme_reporting"`,
    ]);
  });

  it("gives every resource its own transaction in the resource's database", () => {
    const txnsPerResource = new Map<string, Set<number | null>>();
    for (const s of statements) txnsPerResource.set(s.resource, (txnsPerResource.get(s.resource) ?? new Set()).add(s.txn));
    expect([...txnsPerResource.values()].every((t) => t.size === 1 && !t.has(null))).toBe(true);
    expect(new Set(statements.map((s) => s.txn)).size).toBe(resources.length);
    expect(new Set(statements.map((s) => s.database))).toEqual(new Set([db]));
  });

  it("never puts a secret in the SQL: passwords are placeholders unless supplied", () => {
    const withSecrets = resources.map((r) => (r.inputs["password"] ? { ...r, inputs: { ...r.inputs, password: "s3cret-from-state" } } : r));
    expect(renderSql(withSecrets, { database: db }).some((s) => s.sql.includes("s3cret"))).toBe(false);
    const supplied = renderSql(withSecrets, { database: db, passwords: { t_acme_app: "from-map" } }).map((s) => s.sql);
    expect(supplied.filter((s) => s.includes("PASSWORD"))).toEqual([
      expect.stringContaining(`PASSWORD '<password:t_acme_owner>'`),
      expect.stringContaining(`PASSWORD 'from-map'`),
      expect.stringContaining(`PASSWORD '<password:t_acme_reporting>'`),
    ]);
  });

  it("applies cleanly: roles, schema, memberships and settings exist as declared", async () => {
    await withClient(adminClient(db), async (admin) => {
      const roles = await admin.query<{ rolname: string; rolcanlogin: boolean; rolconnlimit: number }>(
        `SELECT rolname, rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname IN ($1, 't_acme_owner', 't_acme_app', 't_acme_reporting') ORDER BY rolname`,
        [GROUP],
      );
      expect(roles.rows).toEqual([
        { rolname: "t_acme_app", rolcanlogin: true, rolconnlimit: 5 },
        { rolname: "t_acme_owner", rolcanlogin: true, rolconnlimit: -1 },
        { rolname: "t_acme_reporting", rolcanlogin: true, rolconnlimit: -1 },
        { rolname: GROUP, rolcanlogin: false, rolconnlimit: -1 },
      ]);
      const owner = await admin.query(`SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 't_acme'`);
      expect(owner.rows).toEqual([{ owner: "t_acme_owner" }]);
      const members = await admin.query(`SELECT pg_get_userbyid(member) AS m FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 ORDER BY 1`, [GROUP]);
      expect(members.rows.map((r) => r.m)).toEqual(["t_acme_app", "t_acme_owner", "t_acme_reporting"]);
    });
    await withClient(connectAs("t_acme_app", placeholder("t_acme_app"), db), async (app) => {
      expect((await app.query("SHOW statement_timeout")).rows[0].statement_timeout).toBe("1s");
      expect((await app.query("SHOW search_path")).rows[0].search_path).toBe("t_acme");
    });
  });

  it("the runtime role can read and write tables (and their sequences) the owner creates later", async () => {
    await withClient(connectAs("t_acme_owner", placeholder("t_acme_owner"), db), async (owner) => {
      await owner.query("CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL)"); // lands in t_acme via search_path
    });
    await withClient(connectAs("t_acme_app", placeholder("t_acme_app"), db), async (app) => {
      await app.query("INSERT INTO orders (note) VALUES ('first'), ('second')");
      await app.query("UPDATE orders SET note = 'changed' WHERE id = 1");
      await app.query("DELETE FROM orders WHERE id = 2");
      expect((await app.query("SELECT id, note FROM t_acme.orders")).rows).toEqual([{ id: 1, note: "changed" }]);
      await expect(app.query("CREATE TABLE t_acme.nope (id int)")).rejects.toThrow(/permission denied for schema t_acme/);
      await expect(app.query("TRUNCATE orders")).rejects.toThrow(/permission denied for table orders/);
    });
  });

  it("the reporting role reads the owner's new tables but cannot write them", async () => {
    await withClient(connectAs("t_acme_owner", placeholder("t_acme_owner"), db), async (owner) => {
      await owner.query("CREATE TABLE invoices (id int PRIMARY KEY)");
      await owner.query("INSERT INTO invoices VALUES (7)");
    });
    await withClient(connectAs("t_acme_reporting", placeholder("t_acme_reporting"), db), async (reporting) => {
      expect((await reporting.query("SELECT id FROM invoices")).rows).toEqual([{ id: 7 }]);
      await expect(reporting.query("INSERT INTO invoices VALUES (8)")).rejects.toThrow(/permission denied for table invoices/);
    });
  });

  it("functions the owner creates are not executable by PUBLIC, hence not by the runtime role", async () => {
    await withClient(connectAs("t_acme_owner", placeholder("t_acme_owner"), db), async (owner) => {
      await owner.query("CREATE FUNCTION t_acme.answer() RETURNS int LANGUAGE sql AS 'SELECT 42'");
      expect((await owner.query("SELECT t_acme.answer() AS a")).rows).toEqual([{ a: 42 }]);
    });
    await withClient(connectAs("t_acme_app", placeholder("t_acme_app"), db), async (app) => {
      await expect(app.query("SELECT t_acme.answer()")).rejects.toThrow(/permission denied for function answer/);
    });
  });

  it("a role outside tenancy_tenants cannot connect once PUBLIC lost CONNECT", async () => {
    await withClient(adminClient(), (admin) => admin.query(`CREATE ROLE stray LOGIN PASSWORD 'stray'`));
    await expect(connectAs("stray", "stray", db)).rejects.toThrow(/permission denied for database/);
  });

  it("suspending a tenant renders ALTER ROLE … WITH NOLOGIN and blocks new logins", async () => {
    const app = resources.find((r) => r.name === "acme-app")!;
    const suspended = { ...app, inputs: { ...app.inputs, login: false } };
    const update = renderSqlUpdate(app, suspended, { database: db });
    expect(update.map((s) => s.sql)).toEqual([
      `ALTER ROLE "t_acme_app" WITH NOLOGIN`,
      `REVOKE "tenancy_tenants" FROM "t_acme_app"`,
      `GRANT "tenancy_tenants" TO "t_acme_app"`,
      `ALTER ROLE "t_acme_app" SET search_path TO "t_acme"`,
    ]);
    expect(renderSqlUpdate(app, app)).toEqual([]);
    await apply(update, db);
    await expect(connectAs("t_acme_app", placeholder("t_acme_app"), db)).rejects.toThrow(/is not permitted to log in/);
    await apply(renderSqlUpdate(suspended, app, { database: db }), db);
    await withClient(connectAs("t_acme_app", placeholder("t_acme_app"), db), async (c) => expect((await c.query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]));
  });

  it("with locks, a second tenant's statements (advisory locks included) also apply cleanly", async () => {
    const globex = renderSql(sharedTenant(db, "globex"), { database: db, locks: true });
    expect(globex.map((s) => s.sql)).toContain(`SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = 't_globex_app'`);
    await apply(globex, db);
    await withClient(connectAs("t_globex_app", placeholder("t_globex_app"), db), async (c) => {
      await expect(c.query("SELECT * FROM t_acme.orders")).rejects.toThrow(/permission denied for schema t_acme/);
    });
  });
});

describe("renderSql determinism and quoting", () => {
  const db = `tenancy_${randomBytes(4).toString("hex")}`;
  let admin: Client;

  beforeAll(async () => {
    await createDatabase(db);
    admin = await adminClient(db);
  });
  afterAll(async () => {
    await admin?.end();
  });

  it("is deterministic, and privilege/membership order in the program does not matter (TypeSet order)", () => {
    const a = renderSql([...sharedBase(db), ...sharedTenant(db, "acme")]);
    expect(renderSql([...sharedBase(db), ...sharedTenant(db, "acme")])).toEqual(a);
    const shuffled = sharedTenant(db, "acme").map((r) =>
      Array.isArray(r.inputs["privileges"]) ? { ...r, inputs: { ...r.inputs, privileges: [...(r.inputs["privileges"] as string[])].reverse() } } : r,
    );
    expect(renderSql([...sharedBase(db), ...shuffled])).toEqual(a);
    expect(setOrder(["SELECT", "INSERT", "UPDATE", "DELETE"])).toEqual(["UPDATE", "SELECT", "DELETE", "INSERT"]);
  });

  it("quotes odd identifiers and literals so they apply verbatim", async () => {
    const role = `Tenant "Q" o'k; DROP`;
    const schema = `Sch ema"; --`;
    const password = `pa'ss "word" ;--`;
    const rendered = renderSql(
      [
        declare("role", "odd-role", { name: role, login: true, password: "[secret]", searchPaths: [schema] }),
        declare("schema", "odd-schema", { name: schema, database: db, owner: role }),
        declare("grant", "odd-connect", { database: db, role, objectType: "database", privileges: ["CONNECT"] }),
        declare("grant", "odd-usage", { database: db, schema, role, objectType: "schema", privileges: ["USAGE", "CREATE"] }),
      ],
      { database: db, passwords: { [role]: password } },
    );
    expect(rendered[0]!.sql).toBe(
      `CREATE ROLE "Tenant ""Q"" o'k; DROP" WITH ENCRYPTED PASSWORD 'pa''ss "word" ;--' VALID UNTIL 'infinity' CONNECTION LIMIT -1 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`,
    );
    await apply(rendered, db);
    const found = await admin.query(`SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1`, [schema]);
    expect(found.rows).toEqual([{ owner: role }]);
    await withClient(connectAs(role, password, db), async (c) => {
      await c.query(`CREATE TABLE ${quoteIdentifier(schema)}.t (id int)`);
      expect((await c.query("SELECT current_user AS u")).rows).toEqual([{ u: role }]);
    });
  });

  it("doubles backslashes in passwords like the provider (pqQuoteLiteral), so `a\\b` logs in only as `a\\\\b`", async () => {
    const role = "t_backslash";
    await apply(renderSql([declare("role", "bs", { name: role, login: true, password: "[secret]" })], { passwords: { [role]: "a\\b" } }), db);
    await withClient(adminClient(), (a) => a.query(`GRANT CONNECT ON DATABASE ${quoteIdentifier(db)} TO ${role}`));
    await expect(connectAs(role, "a\\b", db)).rejects.toThrow(/password authentication failed/);
    await withClient(connectAs(role, "a\\\\b", db), async (c) => expect((await c.query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]));
  });

  it("refuses inputs the provider would refuse, naming the resource and field", () => {
    const bad = declare("grant", "bad", { database: db, schema: "s", role: "r", objectType: "table", privileges: ["select"] });
    expect(() => renderSql([bad])).toThrow(`${bad.urn} privileges: select is not an allowed privilege for object type table`);
    const noSchema = declare("grant", "no-schema", { database: db, role: "r", objectType: "table", privileges: ["SELECT"] });
    expect(() => renderSql([noSchema])).toThrow(/schema: parameter 'schema' is mandatory/);
    const unknownName = declare("schema", "preview", { name: "[unknown]", database: db });
    expect(() => renderSql([unknownName])).toThrow(`${unknownName.urn} name: is unknown until apply`);
  });

  it("renders an unknown password as its placeholder and skips read resources", () => {
    const role = declare("role", "pending", { name: "t_pending", login: true, password: "[unknown]" });
    expect(renderSql([role])[0]!.sql).toContain(`PASSWORD '<password:t_pending>'`);
    expect(renderSql([{ ...role, read: true }])).toEqual([]);
  });
});

describe("renderSql as a non-superuser provider user (the RDS/Aurora master user): withRolesGranted", () => {
  const db = "tenancy";
  const opts = { database: db, username: "tenancy_admin", superuser: false };
  const sqlOf = (rs: DeclaredResource[], o: Parameters<typeof renderSql>[1] = opts) => renderSql(rs, o).map((s) => s.sql);
  const schema = declare("schema", "acme-schema", { name: "t_acme", database: db, owner: "t_acme_owner" });

  it("wraps CREATE SCHEMA … AUTHORIZATION in a temporary membership in the owner, revoked in the same transaction", () => {
    const out = renderSql([schema], opts);
    expect(out.map((s) => s.sql)).toEqual([
      'GRANT "t_acme_owner" TO "tenancy_admin"',
      'CREATE SCHEMA IF NOT EXISTS "t_acme" AUTHORIZATION "t_acme_owner"',
      'REVOKE "t_acme_owner" FROM "tenancy_admin"',
    ]);
    expect(new Set(out.map((s) => s.txn)).size).toBe(1);
  });

  it("wraps ALTER DEFAULT PRIVILEGES FOR ROLE and grants on the owner's schema, but not database-level grants", () => {
    expect(sqlOf([
      schema,
      declare("defaultPrivileges", "acme-app-tables", { database: db, schema: "t_acme", owner: "t_acme_owner", role: "t_acme_app", objectType: "table", privileges: ["SELECT"] }),
      declare("grant", "acme-app-schema", { database: db, schema: "t_acme", role: "t_acme_app", objectType: "schema", privileges: ["USAGE"] }),
      declare("grant", "db-connect", { database: db, role: "tenancy_tenants", objectType: "database", privileges: ["CONNECT"] }),
    ]).slice(3)).toEqual([
      'GRANT "t_acme_owner" TO "tenancy_admin"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "t_acme_owner" IN SCHEMA "t_acme" REVOKE ALL ON TABLES FROM "t_acme_app"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "t_acme_owner" IN SCHEMA "t_acme" GRANT SELECT ON TABLES TO "t_acme_app"',
      'REVOKE "t_acme_owner" FROM "tenancy_admin"',
      'GRANT "t_acme_owner" TO "tenancy_admin"',
      'REVOKE ALL PRIVILEGES ON SCHEMA "t_acme" FROM "t_acme_app"',
      'GRANT USAGE ON SCHEMA "t_acme" TO "t_acme_app"',
      'REVOKE "t_acme_owner" FROM "tenancy_admin"',
      'REVOKE ALL PRIVILEGES ON DATABASE "tenancy" FROM "tenancy_tenants"',
      'GRANT CONNECT ON DATABASE "tenancy" TO "tenancy_tenants"',
    ]);
  });

  it("grants nothing for what the user owns itself (public belongs to pg_database_owner, the user) or when it is a superuser", () => {
    const publicGrant = declare("grant", "public-usage", { database: db, schema: "public", role: "public", objectType: "schema", privileges: ["USAGE"] });
    expect(sqlOf([publicGrant])).toEqual(['REVOKE ALL PRIVILEGES ON SCHEMA "public" FROM "public"', 'GRANT USAGE ON SCHEMA "public" TO "public"']);
    expect(sqlOf([schema], { ...opts, superuser: true })).toEqual(['CREATE SCHEMA IF NOT EXISTS "t_acme" AUTHORIZATION "t_acme_owner"']);
    expect(sqlOf([schema], { database: db, username: "tenancy_admin" }), "superuser unless told otherwise").toHaveLength(1);
  });

  it("an update of one grant finds its schema's owner from schemaOwners", () => {
    const before = declare("grant", "acme-app-schema", { database: db, schema: "t_acme", role: "t_acme_app", objectType: "schema", privileges: ["USAGE"] });
    const after = { ...before, inputs: { ...before.inputs, privileges: ["USAGE", "CREATE"] } };
    const out = renderSqlUpdate(before, after, { ...opts, schemaOwners: { t_acme: "t_acme_owner" } }).map((s) => s.sql);
    expect(out[0]).toBe('GRANT "t_acme_owner" TO "tenancy_admin"');
    expect(out.at(-1)).toBe('REVOKE "t_acme_owner" FROM "tenancy_admin"');
  });
});
