/**
 * Renders the SQL that the `@pulumi/postgresql` provider (bridged from
 * cyrilgdn/terraform-provider-postgresql) executes for declared resources.
 *
 * Pure: plain data in, plain data out. Every mapping names the provider source file it follows
 * (paths relative to cyrilgdn/terraform-provider-postgresql/postgresql/). See docs/sql-mapping.md.
 *
 * Assumptions (see the doc for the non-default paths):
 * - unless `superuser: true`, the provider's user is not a superuser (the Aurora/RDS master user), so statements that
 *   act for a schema's or object's owner are wrapped in `withRolesGranted` (helpers.go): a temporary
 *   `GRANT owner TO user` before and `REVOKE owner FROM user` after, in the same transaction;
 * - the catalog is in the state the declarations imply (the provider reads it for a few decisions: whether a schema
 *   already exists, which roles to REVOKE before re-granting memberships, who owns a schema or its tables): the
 *   provider's user owns the databases and every undeclared schema (`public` belongs to pg_database_owner), no
 *   schema holds tables yet, no owner role is a superuser or a member of the provider's user, and (PostgreSQL 16)
 *   the user's automatic membership in roles it created carries no SET option, so the provider always grants.
 */

/** A declared resource as the recording engine hands it over (registration order). */
export interface DeclaredResource {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  options: { dependsOn: string[] };
  parent: string | null;
  provider: string | null;
  /** True for `Resource.get` reads (engine/recorder.ts `RecordedResource.read`): the provider creates nothing. */
  read?: boolean;
}

export interface SqlStatement {
  /** URN of the resource (its logical name when the URN is empty). */
  resource: string;
  /** Pulumi type token of the resource. */
  type: string;
  sql: string;
  /** Database the provider connects to for this statement; null = the provider's configured database. */
  database: string | null;
  /**
   * Statements with the same number run in one transaction (BEGIN … COMMIT), in order.
   * null = executed outside any transaction (autocommit), e.g. CREATE DATABASE.
   */
  txn: number | null;
}

export interface RenderOptions {
  /**
   * "placeholder" (default): every password renders as `<password:ROLE>`, so no secret reaches the output.
   * A map: role name -> password to inline; roles missing from the map still get the placeholder.
   */
  passwords?: "placeholder" | Record<string, string>;
  /** The provider's configured database (`postgresql.Provider` `database`). Defaults to null (unknown). */
  database?: string;
  /** The provider's configured username, used where the provider falls back to it (Database OWNER). Defaults to "postgres". */
  username?: string;
  /** Also render the advisory-lock statements the provider runs (`pgLockRole`/`pgLockDatabase`, helpers.go). Defaults to false. */
  locks?: boolean;
  /**
   * The provider's `superuser` setting: whether its user is a superuser. When false, owner-bound statements get the
   * provider's temporary role grants (`withRolesGranted`). Defaults to true (no grants rendered).
   */
  superuser?: boolean;
  /**
   * Schema name → owner role, for schemas declared elsewhere (e.g. when rendering an update of one Grant). Schemas
   * declared among the rendered resources are known without it; any other schema is taken as the user's own.
   */
  schemaOwners?: Record<string, string>;
}

export const POSTGRESQL_TYPES = {
  role: "postgresql:index/role:Role",
  schema: "postgresql:index/schema:Schema",
  grant: "postgresql:index/grant:Grant",
  defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
  grantRole: "postgresql:index/grantRole:GrantRole",
  database: "postgresql:index/database:Database",
} as const;

// Markers the recording engine puts in place of values (engine/serialized.ts).
const SECRET_MARKER = "[secret]";
const UNKNOWN_MARKER = "[unknown]";

// ---------------------------------------------------------------------------------------------
// Quoting and ordering helpers (helpers.go, github.com/lib/pq, terraform-plugin-sdk helper/schema)
// ---------------------------------------------------------------------------------------------

/** `pq.QuoteIdentifier` (lib/pq conn.go): cut at the first NUL, double `"`, wrap in `"`. */
export function quoteIdentifier(name: string): string {
  const nul = name.indexOf("\u0000");
  const cut = nul === -1 ? name : name.slice(0, nul);
  return `"${cut.replace(/"/g, '""')}"`;
}

/**
 * `'${pqQuoteLiteral(v)}'` as the provider writes it (helpers.go): doubles `\` and `'`.
 * Doubling `\` is a provider quirk: with standard_conforming_strings=on (the default) a `\` in a
 * password reaches PostgreSQL doubled.
 */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, "utf8")) crc = CRC32_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The iteration order of a `schema.TypeSet` of strings with `schema.HashString`
 * (terraform-plugin-sdk helper/schema/set.go `listCode`): items keyed by their CRC-32 printed in
 * decimal, keys sorted as strings. The provider joins privileges, objects and roles in this order,
 * so the order written in the program never matters.
 */
export function setOrder(values: readonly string[]): string[] {
  const byCode = new Map<string, string>();
  for (const v of values) {
    const code = String(crc32(v));
    if (!byCode.has(code)) byCode.set(code, v);
  }
  return [...byCode.keys()].sort().map((k) => byCode.get(k)!);
}

// allowedPrivileges (helpers.go); the provider rejects anything else (case-sensitive) before running SQL.
const ALLOWED_PRIVILEGES: Record<string, readonly string[]> = {
  database: ["ALL", "CREATE", "CONNECT", "TEMPORARY"],
  table: ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"],
  sequence: ["ALL", "USAGE", "SELECT", "UPDATE"],
  schema: ["ALL", "CREATE", "USAGE"],
  function: ["ALL", "EXECUTE"],
  procedure: ["ALL", "EXECUTE"],
  routine: ["ALL", "EXECUTE"],
  type: ["ALL", "USAGE"],
  foreign_data_wrapper: ["ALL", "USAGE"],
  foreign_server: ["ALL", "USAGE"],
  column: ["ALL", "SELECT", "INSERT", "UPDATE", "REFERENCES"],
};

// ---------------------------------------------------------------------------------------------
// Input access
// ---------------------------------------------------------------------------------------------

class Inputs {
  constructor(private readonly r: DeclaredResource) {}

  get id(): string {
    return this.r.urn || this.r.name;
  }

  fail(field: string, problem: string): never {
    throw new Error(`${this.id} ${field}: ${problem}`);
  }

  optString(key: string): string | undefined {
    const v = this.r.inputs[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") this.fail(key, `expected a string, got ${JSON.stringify(v)}`);
    if (v === UNKNOWN_MARKER) this.fail(key, "is unknown until apply; render from an update/up recording, not a preview");
    return v;
  }

  /** A secret-bearing string: "[secret]" / "[unknown]" pass through (only its presence matters). */
  opaque(key: string): string | undefined {
    const v = this.r.inputs[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") this.fail(key, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** Like `d.Get` for a string: "" when unset. */
  string(key: string, dflt = ""): string {
    return this.optString(key) ?? dflt;
  }

  required(key: string): string {
    const v = this.optString(key);
    if (v === undefined || v === "") this.fail(key, "is required to render SQL (autonamed or unknown values are not supported)");
    if (v === SECRET_MARKER) this.fail(key, "is a secret; it cannot be rendered");
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.r.inputs[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "boolean") this.fail(key, `expected a boolean, got ${JSON.stringify(v)}`);
    return v;
  }

  int(key: string, dflt: number): number {
    const v = this.r.inputs[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(key, `expected an integer, got ${JSON.stringify(v)}`);
    return v;
  }

  list(key: string): string[] {
    const v = this.r.inputs[key];
    if (v === undefined || v === null) return [];
    if (v === UNKNOWN_MARKER) this.fail(key, "is unknown until apply; render from an update/up recording, not a preview");
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) this.fail(key, `expected a list of strings, got ${JSON.stringify(v)}`);
    for (const x of v as string[]) if (x === UNKNOWN_MARKER) this.fail(key, "contains a value unknown until apply");
    return v as string[];
  }

  /** A TypeSet of strings in the provider's iteration order. */
  set(key: string): string[] {
    return setOrder(this.list(key));
  }
}

interface Ctx {
  opts: Required<Pick<RenderOptions, "username" | "locks" | "superuser">> & RenderOptions;
  nextTxn: () => number;
  /** Schema name → declared owner (registration order: a schema precedes the grants on it). */
  schemaOwners: Map<string, string>;
}

type Emit = (sql: string) => void;

function emitter(out: SqlStatement[], r: DeclaredResource, database: string | null, txn: number | null): Emit {
  return (sql) => out.push({ resource: r.urn || r.name, type: r.type, sql, database, txn });
}

function passwordFor(ctx: Ctx, role: string): string {
  const { passwords } = ctx.opts;
  if (passwords && passwords !== "placeholder" && Object.prototype.hasOwnProperty.call(passwords, role)) return passwords[role]!;
  return `<password:${role}>`;
}

// pgLockRole / pgLockDatabase (helpers.go); `$1` inlined as a literal.
function lockRole(emit: Emit, role: string): void {
  emit("SET statement_timeout = 0");
  emit(`SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = ${quoteLiteral(role)}`);
  emit(`SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = ${quoteLiteral(role)}`);
}

function lockDatabase(emit: Emit, database: string): void {
  emit("SET statement_timeout = 0");
  emit(`SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = ${quoteLiteral(database)}`);
}

/**
 * withRolesGranted (helpers.go): a non-superuser user temporarily joins each owner it acts for. Grants nothing for
 * the user itself (grantRoleMembership skips member == role) or when the user is a superuser. Returns the REVOKEs
 * to emit after the wrapped statements.
 */
function withRolesGranted(ctx: Ctx, emit: Emit, roles: readonly string[]): () => void {
  if (ctx.opts.superuser) return () => undefined;
  const user = ctx.opts.username;
  const granted = roles.filter((r, i) => r !== user && roles.indexOf(r) === i);
  for (const r of granted) emit(`GRANT ${quoteIdentifier(r)} TO ${quoteIdentifier(user)}`);
  return () => {
    for (const r of granted) emit(`REVOKE ${quoteIdentifier(r)} FROM ${quoteIdentifier(user)}`);
  };
}

/** Owner of a schema (getSchemaOwner + resolveOwners): the declared one, else the user's (it owns the database). */
function schemaOwner(ctx: Ctx, schema: string): string {
  return ctx.schemaOwners.get(schema) ?? ctx.opts.schemaOwners?.[schema] ?? ctx.opts.username;
}

// ---------------------------------------------------------------------------------------------
// Role — resource_postgresql_role.go
// ---------------------------------------------------------------------------------------------

interface RoleState {
  name: string;
  password: string; // "" = none
  validUntil: string;
  connectionLimit: number;
  superuser: boolean;
  createDatabase: boolean;
  createRole: boolean;
  inherit: boolean;
  login: boolean;
  bypassRowLevelSecurity: boolean;
  replication: boolean;
  encryptedPassword: boolean;
  roles: string[]; // set order
  searchPaths: string[];
  statementTimeout: number;
  idleInTransactionSessionTimeout: number;
  assumeRole: string;
}

// Schema defaults of resourcePostgreSQLRole(); `passwordWo` is treated like `password` (write-only variant).
function roleState(ctx: Ctx, r: DeclaredResource): RoleState {
  const i = new Inputs(r);
  const name = i.required("name");
  const rawPassword = i.opaque("password") ?? i.opaque("passwordWo") ?? "";
  const password = rawPassword === "" ? "" : rawPassword.toUpperCase() === "NULL" ? "NULL" : passwordFor(ctx, name);
  return {
    name,
    password,
    validUntil: i.string("validUntil", "infinity"),
    connectionLimit: i.int("connectionLimit", -1),
    superuser: i.bool("superuser", false),
    createDatabase: i.bool("createDatabase", false),
    createRole: i.bool("createRole", false),
    inherit: i.bool("inherit", true),
    login: i.bool("login", false),
    bypassRowLevelSecurity: i.bool("bypassRowLevelSecurity", false),
    replication: i.bool("replication", false),
    encryptedPassword: i.bool("encryptedPassword", true),
    roles: i.set("roles"),
    searchPaths: i.list("searchPaths"),
    statementTimeout: i.int("statementTimeout", 0),
    idleInTransactionSessionTimeout: i.int("idleInTransactionSessionTimeout", 0),
    assumeRole: i.string("assumeRole"),
  };
}

// alterSearchPath: runs on every create/update, `DEFAULT` when the list is empty.
function alterSearchPath(emit: Emit, s: RoleState, id: string): void {
  for (const p of s.searchPaths) {
    if (p.includes(", ")) throw new Error(`${id} searchPaths: search_path cannot contain \`, \`: ${p}`);
  }
  const path = s.searchPaths.length > 0 ? s.searchPaths.map(quoteIdentifier).join(", ") : "DEFAULT";
  emit(`ALTER ROLE ${quoteIdentifier(s.name)} SET search_path TO ${path}`);
}

// setStatementTimeout / setIdleInTransactionSessionTimeout / setAssumeRole: only when the value changed.
function alterRoleSettings(emit: Emit, before: RoleState | null, s: RoleState): void {
  const role = quoteIdentifier(s.name);
  if (s.statementTimeout !== (before?.statementTimeout ?? 0)) {
    emit(s.statementTimeout !== 0 ? `ALTER ROLE ${role} SET statement_timeout TO ${s.statementTimeout}` : `ALTER ROLE ${role} RESET statement_timeout`);
  }
  if (s.idleInTransactionSessionTimeout !== (before?.idleInTransactionSessionTimeout ?? 0)) {
    emit(
      s.idleInTransactionSessionTimeout !== 0
        ? `ALTER ROLE ${role} SET idle_in_transaction_session_timeout TO ${s.idleInTransactionSessionTimeout}`
        : `ALTER ROLE ${role} RESET idle_in_transaction_session_timeout`,
    );
  }
  if (s.assumeRole !== (before?.assumeRole ?? "")) {
    emit(s.assumeRole !== "" ? `ALTER ROLE ${role} SET ROLE TO ${quoteIdentifier(s.assumeRole)}` : `ALTER ROLE ${role} RESET ROLE`);
  }
}

// resourcePostgreSQLRoleCreate: one transaction on the provider's database.
function renderRole(ctx: Ctx, r: DeclaredResource, out: SqlStatement[]): void {
  const s = roleState(ctx, r);
  const emit = emitter(out, r, ctx.opts.database ?? null, ctx.nextTxn());
  const opts: string[] = [];
  // stringOpts: password, valid_until (valid_until defaults to "infinity", so it is always present)
  if (s.password === "NULL") opts.push("PASSWORD NULL");
  else if (s.password !== "") opts.push(s.encryptedPassword ? "ENCRYPTED" : "UNENCRYPTED", `PASSWORD ${quoteLiteral(s.password)}`);
  if (s.validUntil !== "") opts.push(`VALID UNTIL ${s.validUntil.toLowerCase() === "infinity" ? "'infinity'" : quoteLiteral(s.validUntil)}`);
  // intOpts
  opts.push(`CONNECTION LIMIT ${s.connectionLimit}`);
  // boolOpts, then BYPASSRLS (featureRLS) and REPLICATION (featureReplication), both supported on PostgreSQL >= 9.5
  opts.push(
    s.superuser ? "SUPERUSER" : "NOSUPERUSER",
    s.createDatabase ? "CREATEDB" : "NOCREATEDB",
    s.createRole ? "CREATEROLE" : "NOCREATEROLE",
    s.inherit ? "INHERIT" : "NOINHERIT",
    s.login ? "LOGIN" : "NOLOGIN",
    s.bypassRowLevelSecurity ? "BYPASSRLS" : "NOBYPASSRLS",
    s.replication ? "REPLICATION" : "NOREPLICATION",
  );
  emit(`CREATE ROLE ${quoteIdentifier(s.name)} WITH ${opts.join(" ")}`);
  // grantRoles
  for (const granted of s.roles) emit(`GRANT ${quoteIdentifier(granted)} TO ${quoteIdentifier(s.name)}`);
  alterSearchPath(emit, s, r.urn || r.name);
  alterRoleSettings(emit, null, s);
}

// resourcePostgreSQLRoleUpdate: one transaction; each set* runs only when its attribute changed.
function renderRoleUpdate(ctx: Ctx, before: DeclaredResource, after: DeclaredResource, out: SqlStatement[]): void {
  const b = roleState(ctx, before);
  const a = roleState(ctx, after);
  const emit = emitter(out, after, ctx.opts.database ?? null, ctx.nextTxn());
  if (ctx.opts.locks) lockRole(emit, b.name);
  if (a.name !== b.name) emit(`ALTER ROLE ${quoteIdentifier(b.name)} RENAME TO ${quoteIdentifier(a.name)}`);
  const role = quoteIdentifier(a.name);
  const rawBefore = new Inputs(before).opaque("password") ?? new Inputs(before).opaque("passwordWo") ?? "";
  const rawAfter = new Inputs(after).opaque("password") ?? new Inputs(after).opaque("passwordWo") ?? "";
  // setRolePassword: also after a rename (the md5 hash includes the role name). No ENCRYPTED keyword here.
  if (rawBefore !== rawAfter || a.name !== b.name) emit(`ALTER ROLE ${role} PASSWORD ${quoteLiteral(a.password)}`);
  const flag = (changed: boolean, on: boolean, yes: string, no: string): void => {
    if (changed) emit(`ALTER ROLE ${role} WITH ${on ? yes : no}`);
  };
  flag(a.bypassRowLevelSecurity !== b.bypassRowLevelSecurity, a.bypassRowLevelSecurity, "BYPASSRLS", "NOBYPASSRLS");
  if (a.connectionLimit !== b.connectionLimit) emit(`ALTER ROLE ${role} CONNECTION LIMIT ${a.connectionLimit}`);
  flag(a.createDatabase !== b.createDatabase, a.createDatabase, "CREATEDB", "NOCREATEDB");
  flag(a.createRole !== b.createRole, a.createRole, "CREATEROLE", "NOCREATEROLE");
  flag(a.inherit !== b.inherit, a.inherit, "INHERIT", "NOINHERIT");
  flag(a.login !== b.login, a.login, "LOGIN", "NOLOGIN");
  flag(a.replication !== b.replication, a.replication, "REPLICATION", "NOREPLICATION");
  flag(a.superuser !== b.superuser, a.superuser, "SUPERUSER", "NOSUPERUSER");
  if (a.validUntil !== b.validUntil && a.validUntil !== "") {
    emit(`ALTER ROLE ${role} VALID UNTIL ${quoteLiteral(a.validUntil.toLowerCase() === "infinity" ? "infinity" : a.validUntil)}`);
  }
  // revokeRoles reads the current memberships from pg_auth_members; rendered from the previous declaration.
  for (const granted of b.roles) emit(`REVOKE ${quoteIdentifier(granted)} FROM ${role}`);
  for (const granted of a.roles) emit(`GRANT ${quoteIdentifier(granted)} TO ${role}`);
  alterSearchPath(emit, a, after.urn || after.name);
  alterRoleSettings(emit, b, a);
}

// ---------------------------------------------------------------------------------------------
// Schema — resource_postgresql_schema.go
// ---------------------------------------------------------------------------------------------

// resourcePostgreSQLSchemaCreate → createSchema: one transaction on `database` (else the provider's).
// The provider first checks pg_namespace; this renders the "schema does not exist yet" branch.
function renderSchema(ctx: Ctx, r: DeclaredResource, out: SqlStatement[]): void {
  const i = new Inputs(r);
  const name = i.required("name");
  const policies = r.inputs["policies"];
  if (Array.isArray(policies) && policies.length > 0) {
    i.fail("policies", "schema policies (deprecated) are not rendered; declare postgresql.Grant resources instead");
  }
  const emit = emitter(out, r, i.optString("database") ?? ctx.opts.database ?? null, ctx.nextTxn());
  const ifNotExists = i.bool("ifNotExists", true) ? "IF NOT EXISTS " : "";
  const owner = i.optString("owner");
  if (owner) ctx.schemaOwners.set(name, owner);
  // rolesToGrant: the database's owner (the user), then the schema's owner if another role.
  const done = withRolesGranted(ctx, emit, [ctx.opts.username, ...(owner ? [owner] : [])]);
  emit(`CREATE SCHEMA ${ifNotExists}${quoteIdentifier(name)}${owner ? ` AUTHORIZATION ${quoteIdentifier(owner)}` : ""}`);
  done();
}

// ---------------------------------------------------------------------------------------------
// Grant — resource_postgresql_grant.go
// ---------------------------------------------------------------------------------------------

interface GrantState {
  role: string;
  database: string;
  schema: string;
  objectType: string;
  objects: string[];
  columns: string[];
  privileges: string[];
  withGrantOption: boolean;
}

function grantState(r: DeclaredResource): GrantState {
  const i = new Inputs(r);
  const s: GrantState = {
    role: i.required("role"),
    database: i.required("database"),
    schema: i.string("schema"),
    objectType: i.required("objectType"),
    objects: i.set("objects"),
    columns: i.set("columns"),
    privileges: i.set("privileges"),
    withGrantOption: i.bool("withGrantOption", false),
  };
  // Parameter checks of resourcePostgreSQLGrantCreateOrUpdate and validatePrivileges (helpers.go).
  const t = s.objectType;
  const allowed = ALLOWED_PRIVILEGES[t];
  if (!allowed || t === "type") i.fail("objectType", `unknown object type ${t} (allowed: ${Object.keys(ALLOWED_PRIVILEGES).filter((k) => k !== "type").join(", ")})`);
  if (s.schema === "" && !["database", "foreign_data_wrapper", "foreign_server"].includes(t)) i.fail("schema", "parameter 'schema' is mandatory for postgresql_grant resource");
  if (s.objects.length > 0 && (t === "database" || t === "schema")) i.fail("objects", "cannot specify `objects` when `object_type` is `database` or `schema`");
  if (s.columns.length > 0 && t !== "column") i.fail("columns", "cannot specify `columns` when `object_type` is not `column`");
  if (t === "column" && (s.columns.length === 0 || s.privileges.length !== 1 || s.objects.length !== 1)) {
    i.fail("columns", "object_type `column` needs `columns`, exactly 1 privilege and exactly 1 table in `objects`");
  }
  if ((t === "foreign_data_wrapper" || t === "foreign_server") && s.objects.length !== 1) i.fail("objects", "one element must be specified in `objects`");
  for (const p of s.privileges) if (!allowed.includes(p)) i.fail("privileges", `${p} is not an allowed privilege for object type ${t} (allowed: ${allowed.join(", ")})`);
  return s;
}

// setToPgIdentList / quoteIdentifyIdent (helpers.go): "schema"."name" keeping a `(argtypes)` suffix unquoted.
function qualifiedList(schema: string, idents: readonly string[]): string {
  return idents
    .map((ident) => {
      const parts = ident.split("(");
      return `${quoteIdentifier(schema)}.${quoteIdentifier(parts[0]!)}${parts.length > 1 ? `(${parts[1]}` : ""}`;
    })
    .join(",");
}

// createGrantQuery
function grantQuery(s: GrantState): string {
  const privs = s.privileges.join(",");
  const role = quoteIdentifier(s.role);
  const T = s.objectType.toUpperCase();
  let q: string;
  switch (T) {
    case "DATABASE":
      q = `GRANT ${privs} ON DATABASE ${quoteIdentifier(s.database)} TO ${role}`;
      break;
    case "SCHEMA":
      q = `GRANT ${privs} ON SCHEMA ${quoteIdentifier(s.schema)} TO ${role}`;
      break;
    case "FOREIGN_DATA_WRAPPER":
      q = `GRANT ${privs} ON FOREIGN DATA WRAPPER ${quoteIdentifier(s.objects[0]!)} TO ${role}`;
      break;
    case "FOREIGN_SERVER":
      q = `GRANT ${privs} ON FOREIGN SERVER ${quoteIdentifier(s.objects[0]!)} TO ${role}`;
      break;
    case "COLUMN":
      q = `GRANT ${privs} (${s.columns.map(quoteIdentifier).join(",")}) ON TABLE ${qualifiedList(s.schema, s.objects)} TO ${role}`;
      break;
    default:
      q =
        s.objects.length > 0
          ? `GRANT ${privs} ON ${T} ${qualifiedList(s.schema, s.objects)} TO ${role}`
          : `GRANT ${privs} ON ALL ${T}S IN SCHEMA ${quoteIdentifier(s.schema)} TO ${role}`;
  }
  return s.withGrantOption ? `${q} WITH GRANT OPTION` : q;
}

// createRevokeQuery
function revokeQuery(s: GrantState): string {
  const role = quoteIdentifier(s.role);
  const T = s.objectType.toUpperCase();
  switch (T) {
    case "DATABASE":
      return `REVOKE ALL PRIVILEGES ON DATABASE ${quoteIdentifier(s.database)} FROM ${role}`;
    case "SCHEMA":
      return `REVOKE ALL PRIVILEGES ON SCHEMA ${quoteIdentifier(s.schema)} FROM ${role}`;
    case "FOREIGN_DATA_WRAPPER":
      return `REVOKE ALL PRIVILEGES ON FOREIGN DATA WRAPPER ${quoteIdentifier(s.objects[0]!)} FROM ${role}`;
    case "FOREIGN_SERVER":
      return `REVOKE ALL PRIVILEGES ON FOREIGN SERVER ${quoteIdentifier(s.objects[0]!)} FROM ${role}`;
    case "COLUMN":
      return s.privileges.length === 0 || s.columns.length === 0
        ? "SELECT NULL"
        : `REVOKE ${s.privileges.join(",")} (${s.columns.map(quoteIdentifier).join(",")}) ON TABLE ${qualifiedList(s.schema, s.objects)} FROM ${role}`;
    default:
      if (s.objects.length === 0) return `REVOKE ALL PRIVILEGES ON ALL ${T}S IN SCHEMA ${quoteIdentifier(s.schema)} FROM ${role}`;
      return s.privileges.length > 0
        ? `REVOKE ${s.privileges.join(",")} ON ${T} ${qualifiedList(s.schema, s.objects)} FROM ${role}`
        : `REVOKE ALL PRIVILEGES ON ${T} ${qualifiedList(s.schema, s.objects)} FROM ${role}`;
  }
}

// resourcePostgreSQLGrantCreateOrUpdate: revoke-then-grant in ONE transaction on `database`.
// Update revokes with the previous values of changed attributes (usePrevious), then grants the new ones.
function renderGrant(ctx: Ctx, r: DeclaredResource, out: SqlStatement[], before?: DeclaredResource): void {
  const s = grantState(r);
  const prev = before ? grantState(before) : s;
  const emit = emitter(out, r, s.database, ctx.nextTxn());
  if (ctx.opts.locks) {
    lockRole(emit, s.role);
    if (s.objectType === "database") lockDatabase(emit, s.database);
  }
  // getRolesToGrant: nothing for database-level objects, else the schema's owner (and its tables' owners: none yet).
  const owners = ["database", "foreign_data_wrapper", "foreign_server"].includes(s.objectType) ? [] : [schemaOwner(ctx, s.schema)];
  const done = withRolesGranted(ctx, emit, owners);
  emit(revokeQuery(prev));
  if (s.privileges.length > 0) emit(grantQuery(s)); // empty privileges: revoke only
  done();
}

// ---------------------------------------------------------------------------------------------
// DefaultPrivileges — resource_postgresql_default_privileges.go
// ---------------------------------------------------------------------------------------------

// resourcePostgreSQLDefaultPrivilegesCreate (also its Update): one transaction on `database`.
function renderDefaultPrivileges(ctx: Ctx, r: DeclaredResource, out: SqlStatement[]): void {
  const i = new Inputs(r);
  const role = i.required("role");
  const database = i.required("database");
  const owner = i.required("owner");
  const schema = i.string("schema");
  const objectType = i.required("objectType");
  const privileges = i.set("privileges");
  const withGrantOption = i.bool("withGrantOption", false);
  const types = ["table", "sequence", "function", "type", "schema"];
  if (!types.includes(objectType)) i.fail("objectType", `expected one of ${types.join(", ")}, got ${objectType}`);
  if (schema !== "" && objectType === "schema") i.fail("schema", "cannot specify `schema` when `object_type` is `schema`");
  if (withGrantOption && role.toLowerCase() === "public") i.fail("withGrantOption", "with_grant_option cannot be true for role 'public'");
  for (const p of privileges) {
    if (!ALLOWED_PRIVILEGES[objectType]!.includes(p)) i.fail("privileges", `${p} is not an allowed privilege for object type ${objectType} (allowed: ${ALLOWED_PRIVILEGES[objectType]!.join(", ")})`);
  }
  const emit = emitter(out, r, database, ctx.nextTxn());
  if (ctx.opts.locks) lockRole(emit, owner);
  // `fmt.Sprintf("... FOR ROLE %s %s REVOKE ...", owner, inSchema)`: two spaces when there is no schema.
  const inSchema = schema !== "" ? `IN SCHEMA ${quoteIdentifier(schema)}` : "";
  const T = objectType.toUpperCase();
  const done = withRolesGranted(ctx, emit, [owner]);
  emit(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdentifier(owner)} ${inSchema} REVOKE ALL ON ${T}S FROM ${quoteIdentifier(role)}`);
  if (privileges.length > 0) {
    const grant = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdentifier(owner)} ${inSchema} GRANT ${privileges.join(",")} ON ${T}S TO ${quoteIdentifier(role)}`;
    emit(withGrantOption ? `${grant} WITH GRANT OPTION` : grant);
  }
  done();
}

// ---------------------------------------------------------------------------------------------
// GrantRole — resource_postgresql_grant_role.go
// ---------------------------------------------------------------------------------------------

// resourcePostgreSQLGrantRoleCreate: revoke then grant, one transaction on the provider's database.
function renderGrantRole(ctx: Ctx, r: DeclaredResource, out: SqlStatement[]): void {
  const i = new Inputs(r);
  const role = quoteIdentifier(i.required("role"));
  const granted = quoteIdentifier(i.required("grantRole"));
  const emit = emitter(out, r, ctx.opts.database ?? null, ctx.nextTxn());
  emit(`REVOKE ${granted} FROM ${role}`);
  emit(`GRANT ${granted} TO ${role}${i.bool("withAdminOption", false) ? " WITH ADMIN OPTION" : ""}`);
}

// ---------------------------------------------------------------------------------------------
// Database — resource_postgresql_database.go
// ---------------------------------------------------------------------------------------------

// createDatabase: a single statement outside any transaction (CREATE DATABASE cannot run in one).
function renderDatabase(ctx: Ctx, r: DeclaredResource, out: SqlStatement[]): void {
  const i = new Inputs(r);
  const name = i.required("name");
  const emit = emitter(out, r, ctx.opts.database ?? null, null);
  const kw = (key: string, sqlKey: string, literal: boolean): string => {
    const v = i.optString(key);
    if (v === undefined || v === "") return "";
    if (v.toUpperCase() === "DEFAULT") return ` ${sqlKey} DEFAULT`;
    return literal ? ` ${sqlKey} ${quoteLiteral(v)} ` : ` ${sqlKey} ${quoteIdentifier(v)}`;
  };
  let sql = `CREATE DATABASE ${quoteIdentifier(name)}`;
  sql += ` OWNER ${quoteIdentifier(i.optString("owner") || ctx.opts.username)}`;
  sql += kw("template", "TEMPLATE", false) || " TEMPLATE template0";
  sql += kw("encoding", "ENCODING", true) || " ENCODING 'UTF8'";
  sql += kw("lcCollate", "LC_COLLATE", true);
  sql += kw("lcCtype", "LC_CTYPE", true);
  sql += kw("tablespaceName", "TABLESPACE", false);
  sql += ` ALLOW_CONNECTIONS ${i.bool("allowConnections", true)}`;
  sql += ` CONNECTION LIMIT ${i.int("connectionLimit", -1)}`;
  sql += ` IS_TEMPLATE ${i.bool("isTemplate", false)}`;
  emit(sql);
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

function context(opts: RenderOptions | undefined): Ctx {
  let txn = 0;
  return {
    opts: { ...opts, username: opts?.username ?? "postgres", locks: opts?.locks ?? false, superuser: opts?.superuser ?? true },
    nextTxn: () => ++txn,
    schemaOwners: new Map(),
  };
}

/**
 * The SQL the provider executes to CREATE each resource, in registration order.
 * Resources of other types (including non-postgresql ones) are skipped.
 * Throws `<urn> <field>: <problem>` where the provider itself would refuse the inputs.
 */
export function renderSql(resources: readonly DeclaredResource[], opts?: RenderOptions): SqlStatement[] {
  const ctx = context(opts);
  const out: SqlStatement[] = [];
  for (const r of resources) {
    if (r.read) continue;
    switch (r.type) {
      case POSTGRESQL_TYPES.role:
        renderRole(ctx, r, out);
        break;
      case POSTGRESQL_TYPES.schema:
        renderSchema(ctx, r, out);
        break;
      case POSTGRESQL_TYPES.grant:
        renderGrant(ctx, r, out);
        break;
      case POSTGRESQL_TYPES.defaultPrivileges:
        renderDefaultPrivileges(ctx, r, out);
        break;
      case POSTGRESQL_TYPES.grantRole:
        renderGrantRole(ctx, r, out);
        break;
      case POSTGRESQL_TYPES.database:
        renderDatabase(ctx, r, out);
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * The SQL the provider executes to UPDATE a resource in place from `before` to `after`.
 * Supported: Role, Grant (only `privileges` is updatable) and DefaultPrivileges (update = create).
 * Returns [] when nothing the provider diffs on changed.
 */
export function renderSqlUpdate(before: DeclaredResource, after: DeclaredResource, opts?: RenderOptions): SqlStatement[] {
  if (before.type !== after.type) throw new Error(`${after.urn || after.name}: type changed from ${before.type} to ${after.type}; that is a replacement, not an update`);
  const ctx = context(opts);
  const out: SqlStatement[] = [];
  switch (after.type) {
    case POSTGRESQL_TYPES.role:
      // Pulumi calls Update only when an input differs.
      if (JSON.stringify(roleState(ctx, before)) !== JSON.stringify(roleState(ctx, after))) renderRoleUpdate(ctx, before, after, out);
      break;
    case POSTGRESQL_TYPES.grant: {
      const b = grantState(before);
      const a = grantState(after);
      if (JSON.stringify({ ...b, privileges: [] }) !== JSON.stringify({ ...a, privileges: [] })) {
        throw new Error(`${after.urn || after.name}: only \`privileges\` of a Grant is updatable; other changes replace it (delete + create)`);
      }
      if (JSON.stringify(b) !== JSON.stringify(a)) renderGrant(ctx, after, out, before);
      break;
    }
    case POSTGRESQL_TYPES.defaultPrivileges:
      if (JSON.stringify(before.inputs) !== JSON.stringify(after.inputs)) renderDefaultPrivileges(ctx, after, out);
      break;
    default:
      throw new Error(`${after.urn || after.name}: rendering an update of ${after.type} is not supported (supported: Role, Grant, DefaultPrivileges)`);
  }
  return out;
}
