/**
 * The role manager's Lambda function: runs inside a hybrid or dedicated tenant's VPC, reads the RDS-managed master
 * secret and the two application secrets, and brings the tenant's database roles to the desired state with idempotent
 * SQL. Bundled with `pg` into `dist/index.js` by `npm run build:role-manager` (a test fails when the bundle is stale).
 *
 * `applyRoles` is the SQL, kept free of AWS so the real-PostgreSQL tests run exactly what the function runs.
 *
 * The target (host, port, database), the schema, the role names and the secrets' ARNs are the function's environment,
 * set by the deploy; an invocation carries only the status. Whoever may invoke the function can thus neither send the
 * master password to a server of their own nor name the master user (or an RDS/PostgreSQL role) as a role to strip.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "crypto";
import { Client, type ClientConfig } from "pg";
import { EVENT_KEYS, ROLE_MANAGER_ENV, type RoleManagerConfig, type RoleManagerEvent, STATUSES } from "./contract";

export type { RoleManagerConfig, RoleManagerEvent } from "./contract";

/** The desired state `applyRoles` enforces; passwords are only ever sent to the server as SCRAM verifiers. */
export interface DesiredRoles {
    database: string;
    schema: string;
    ownerRole: string;
    runtimeRole: string;
    login: boolean;
    ownerPassword: string;
    runtimePassword: string;
}

/** The part of `pg.Client` the SQL needs. */
export interface SqlClient {
    query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A runtime session idle inside a transaction longer than this (ms) is ended: it holds locks and a connection. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** Roles PostgreSQL and RDS own or reserve: managing one would hand out, or take away, the platform's own powers. */
const RESERVED_ROLE = /^(pg_|rds)|^(public|none|postgres|current_user|current_role|session_user)$/;
const RESERVED_SCHEMA = /^pg_|^(public|information_schema)$/;
const RESERVED_DATABASE = /^(postgres|template0|template1|rdsadmin)$/;
/** An RDS endpoint: the name the server's certificate must carry, issued by the RDS CA (the host is the TLS server name). */
const RDS_ENDPOINT = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.rds\.amazonaws\.com(\.cn)?$/;

/** Problems of the names `applyRoles` manages, each as `<label of the field>: what is wrong (allowed: …)`. */
function nameProblems(names: Pick<RoleManagerConfig, "database" | "schema" | "ownerRole" | "runtimeRole">, label: (key: keyof RoleManagerConfig) => string): string[] {
    const problems: string[] = [];
    const reserved: Record<string, [RegExp, string]> = {
        database: [RESERVED_DATABASE, "not postgres, template0, template1 or rdsadmin"],
        schema: [RESERVED_SCHEMA, "not public, information_schema or starting with pg_"],
        ownerRole: [RESERVED_ROLE, "not starting with pg_ or rds, not public, postgres or a special role name"],
        runtimeRole: [RESERVED_ROLE, "not starting with pg_ or rds, not public, postgres or a special role name"],
    };
    for (const key of ["database", "schema", "ownerRole", "runtimeRole"] as const) {
        const value = names[key] as unknown;
        if (typeof value !== "string" || value === "") problems.push(`${label(key)}: missing`);
        else if (!PG_IDENTIFIER.test(value)) problems.push(`${label(key)}: not a PostgreSQL identifier (allowed: a-z, 0-9, '_')`);
        else if (reserved[key]![0].test(value)) problems.push(`${label(key)}: '${value}' is reserved (allowed: a-z, 0-9, '_', ${reserved[key]![1]})`);
    }
    if (typeof names.ownerRole === "string" && names.ownerRole === names.runtimeRole) problems.push(`${label("runtimeRole")}: must differ from ${label("ownerRole")}`);
    return problems;
}

/** The function's configuration from its environment, with every problem as `VARIABLE: what is wrong (allowed: …)`. */
export function readConfig(env: Record<string, string | undefined> = process.env): { config?: RoleManagerConfig; problems: string[] } {
    const v = (key: keyof RoleManagerConfig): string => env[ROLE_MANAGER_ENV[key]] ?? "";
    const label = (key: keyof RoleManagerConfig): string => ROLE_MANAGER_ENV[key];
    const config: RoleManagerConfig = {
        host: v("host"),
        port: /^[0-9]{1,5}$/.test(v("port")) ? Number(v("port")) : NaN,
        database: v("database"),
        schema: v("schema"),
        ownerRole: v("ownerRole"),
        runtimeRole: v("runtimeRole"),
        masterSecretArn: v("masterSecretArn"),
        ownerSecretArn: v("ownerSecretArn"),
        runtimeSecretArn: v("runtimeSecretArn"),
    };
    const problems: string[] = [];
    if (config.host === "") problems.push(`${label("host")}: missing`);
    else if (!RDS_ENDPOINT.test(config.host)) problems.push(`${label("host")}: '${config.host}' is not an RDS endpoint (allowed: <name>.rds.amazonaws.com, <name>.rds.amazonaws.com.cn)`);
    if (v("port") === "") problems.push(`${label("port")}: missing`);
    else if (!(config.port >= 1 && config.port <= 65535)) problems.push(`${label("port")}: '${v("port")}' is not a port number`);
    problems.push(...nameProblems(config, label));
    for (const key of ["masterSecretArn", "ownerSecretArn", "runtimeSecretArn"] as const) {
        if (config[key] === "") problems.push(`${label(key)}: missing`);
    }
    return problems.length ? { problems } : { config, problems };
}

/** Every problem of an event, as `field: what is wrong (allowed: …)`; empty when it is valid. */
export function eventProblems(event: unknown): string[] {
    if (!event || typeof event !== "object" || Array.isArray(event)) return ["event: not a JSON object"];
    const e = event as Record<string, unknown>;
    const problems: string[] = [];
    for (const key of Object.keys(e)) {
        if (!(EVENT_KEYS as readonly string[]).includes(key)) {
            problems.push(`${key}: not accepted in an event: the target and the roles are the function's environment, set by the deploy (allowed: ${EVENT_KEYS.join(", ")})`);
        }
    }
    if (!STATUSES.includes(e["status"] as (typeof STATUSES)[number])) problems.push(`status: ${String(e["status"])} (allowed: ${STATUSES.join(", ")})`);
    const versions = e["secretVersions"];
    if (versions !== undefined && (!versions || typeof versions !== "object" || Object.values(versions).some((x) => typeof x !== "string"))) {
        problems.push("secretVersions: not an object of version IDs");
    }
    for (const key of ["handlerSha256", "configSha256"]) {
        if (e[key] !== undefined && typeof e[key] !== "string") problems.push(`${key}: not a string`);
    }
    return problems;
}

/**
 * A SCRAM-SHA-256 verifier, what `\password` sends: the server stores it as is, so the clear password is never part
 * of a statement that could reach the server's logs (log_min_duration_statement logs slow statements in full).
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
    const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * Brings the two roles, the schema and the privileges to the desired state, as the instance's master user (on RDS
 * `rds_superuser`, not a superuser): idempotent, in one transaction, serialized by an advisory lock. Afterwards the
 * owner owns the schema (migrations), the runtime role has data access in it and nothing else, PUBLIC has no access
 * to the database, and neither role holds any role attribute or membership. Without login, open sessions of both
 * roles are ended after the commit.
 */
export async function applyRoles(client: SqlClient, desired: DesiredRoles): Promise<void> {
    const problems = nameProblems(desired, (key) => key);
    if (problems.length) throw new Error(`role manager: ${problems.join("; ")}`);
    const { schema, ownerRole: owner, runtimeRole: runtime } = desired;
    const db = ident(desired.database);
    const [s, o, r] = [ident(schema), ident(owner), ident(runtime)];
    const login = desired.login ? "LOGIN" : "NOLOGIN";

    await client.query("BEGIN");
    try {
        // Two deploys (or a retry) never interleave their grants: "tuple concurrently updated" otherwise.
        await client.query("SELECT pg_advisory_xact_lock(hashtext('tenancy-role-manager'))");
        const current = (await client.query("SELECT current_user AS me")).rows[0]!["me"] as string;
        // The SQL strips every membership of the roles it manages: never the master's own (rds_superuser).
        for (const key of ["ownerRole", "runtimeRole"] as const) {
            if (desired[key] === current) throw new Error(`role manager: ${key}: '${current}' is the user the function connects as (allowed: a role of the app's own)`);
        }
        for (const [role, password] of [[owner, desired.ownerPassword], [runtime, desired.runtimePassword]] as const) {
            await client.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal(role)}) THEN CREATE ROLE ${ident(role)}; END IF; END $$`);
            // Only attributes a non-superuser may state; SUPERUSER, REPLICATION and BYPASSRLS stay off as created.
            await client.query(`ALTER ROLE ${ident(role)} WITH ${login} NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT -1 PASSWORD ${literal(scramVerifier(password))}`);
            // No role may pass on or inherit anything: drop every membership it holds (none is ever granted).
            const memberships = await client.query(
                "SELECT g.rolname AS granted FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles u ON u.oid = m.member WHERE u.rolname = $1",
                [role],
            );
            for (const row of memberships.rows) await client.query(`REVOKE ${ident(row["granted"] as string)} FROM ${ident(role)}`);
        }
        await client.query(`ALTER ROLE ${o} SET search_path TO ${s}`);
        await client.query(`ALTER ROLE ${r} SET search_path TO ${s}`);
        await client.query(`ALTER ROLE ${r} SET idle_in_transaction_session_timeout TO ${IDLE_IN_TRANSACTION_TIMEOUT_MS}`);

        // Creating a schema for, and setting default privileges of, another role needs membership in it: held for
        // this transaction only (what the PostgreSQL provider does on RDS too).
        // (PostgreSQL 16 makes the creator an admin of the role, but without its privileges: hence USAGE, not MEMBER.)
        const wasMember = (await client.query("SELECT pg_catalog.pg_has_role(current_user, $1, 'USAGE') AS m", [owner])).rows[0]!["m"] === true;
        if (!wasMember) await client.query(`GRANT ${o} TO ${ident(current)}`);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${s} AUTHORIZATION ${o}`);
        await client.query(`ALTER SCHEMA ${s} OWNER TO ${o}`);
        await client.query(`REVOKE ALL ON SCHEMA ${s} FROM PUBLIC`);
        await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
        await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`);
        await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${r}`);
        await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`);
        // Tables created before the defaults existed (or restored from elsewhere) get the same access.
        await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
        await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
        if (!wasMember) await client.query(`REVOKE ${o} FROM ${ident(current)}`);

        await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
        await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${o}, ${r}`);
        // PUBLIC may create in `public` before PostgreSQL 15, and connect to the maintenance databases everywhere.
        // Changed only where the master user owns them (it does on RDS), so a different layout never fails the deploy.
        await client.query(
            `DO $$ BEGIN IF pg_catalog.pg_has_role(current_user, (SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname = 'public'), 'USAGE') THEN REVOKE CREATE ON SCHEMA public FROM PUBLIC; END IF; END $$`,
        );
        for (const other of ["postgres", "template1"]) {
            await client.query(
                `DO $$ BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ${literal(other)} AND pg_catalog.pg_has_role(current_user, datdba, 'USAGE')) THEN REVOKE ALL ON DATABASE ${ident(other)} FROM PUBLIC; END IF; END $$`,
            );
        }
        await client.query("COMMIT");
    } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
    // NOLOGIN refuses new sessions; the ones already open would run on, so they end now (rds_superuser may signal them).
    if (!desired.login) {
        await client.query("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename IN ($1, $2)", [owner, runtime]);
    }
}

/** The slice of the AWS SDK v3 Secrets Manager client the function uses (the Lambda runtime provides the SDK). */
interface SecretsManager {
    send(command: unknown): Promise<{ SecretString?: string }>;
}

/** The secret's current value, parsed as JSON. */
async function readSecret(sm: SecretsManager, GetSecretValueCommand: new (input: { SecretId: string }) => unknown, arn: string): Promise<Record<string, unknown>> {
    const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!SecretString) throw new Error(`role manager: secret ${arn} has no string value`);
    return JSON.parse(SecretString) as Record<string, unknown>;
}

/** A password field of a secret, or a clear error naming the secret (never its value). */
function passwordOf(secret: Record<string, unknown>, arn: string): string {
    const password = secret["password"];
    if (typeof password !== "string" || password === "") throw new Error(`role manager: secret ${arn} has no password`);
    return password;
}

/**
 * Lambda entry point. The target and the roles come from the function's environment (set by the deploy), never from
 * the event, which carries only the status. Reads the master secret at call time (RDS rotates it), connects with TLS
 * verified for the configured RDS endpoint and applies the desired state. A failure fails the deploy's Invocation;
 * nothing secret is returned or logged.
 */
export async function handler(event: unknown): Promise<{ database: string; login: boolean }> {
    const { config, problems } = readConfig(process.env);
    problems.unshift(...eventProblems(event));
    if (problems.length || !config) throw new Error(`role manager: ${problems.join("; ")}`);
    const { status } = event as RoleManagerEvent;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@aws-sdk/client-secrets-manager") as {
        SecretsManagerClient: new (config: object) => SecretsManager;
        GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
    };
    const sm = new sdk.SecretsManagerClient({});
    const read = (arn: string) => readSecret(sm, sdk.GetSecretValueCommand, arn);
    await withRetries(() => applyOnce(config, status === "active", read));
    return { database: config.database, login: status === "active" };
}

/**
 * Errors worth another try: IAM still propagating the new role's policy, RDS rotating the master password right now,
 * or the instance not answering yet (pg's own connection timeouts carry no code, only their message).
 */
export function isTransient(err: unknown): boolean {
    const e = err as { name?: string; code?: string; message?: string };
    if (e?.name === "AccessDeniedException" || e?.code === "28P01" || e?.code === "ECONNREFUSED" || e?.code === "ETIMEDOUT") return true;
    return e?.code === undefined && (e?.message === "timeout expired" || e?.message === "Connection terminated due to connection timeout");
}

/** Runs `fn`, trying again after a pause (5 s, 10 s, 20 s) while it fails transiently; the last error is thrown. */
export async function withRetries<T>(fn: () => Promise<T>, delaysMs: readonly number[] = [5_000, 10_000, 20_000]): Promise<T> {
    for (let attempt = 0; ; attempt++) {
        try {
            return await fn();
        } catch (err) {
            const delay = delaysMs[attempt];
            if (delay === undefined || !isTransient(err)) throw err;
            await new Promise((resolve) => setTimeout(resolve, delay));
        }
    }
}

/**
 * The connection's options: TLS required and verified like `sslmode=verify-full`: the chain must lead to a trusted CA
 * (rejectUnauthorized) and the certificate must name the configured endpoint (servername; Node's default identity
 * check, never overridden). NODE_EXTRA_CA_CERTS adds the RDS CAs to Node's public roots, so a publicly trusted
 * certificate would pass the chain check, but only one for the RDS endpoint's own name would pass the name check.
 */
export function pgClientConfig(config: RoleManagerConfig, master: { user: string; password: string }): ClientConfig {
    return {
        host: config.host,
        port: config.port,
        database: config.database,
        user: master.user,
        password: master.password,
        ssl: { rejectUnauthorized: true, servername: config.host },
        connectionTimeoutMillis: 10_000,
        statement_timeout: 60_000,
    };
}

/**
 * A `pg` client that never sends a password in clear text: a server asking for it (RDS asks for SCRAM or MD5) gets
 * the connection closed instead, and the connect fails. `pg` has no option for this; it overrides the client's handler of that request
 * (pg 8's `_handleAuthCleartextPassword`, exercised against a fake server by the role manager's tests).
 */
export class NoCleartextClient extends Client {
    _handleAuthCleartextPassword(): void {
        const connection = (this as unknown as { connection: { emit(event: "error", err: Error): void; stream: { destroy(): void } } }).connection;
        connection.emit("error", new Error("role manager: the server asked for the password in clear text (allowed: SCRAM-SHA-256, MD5): not sent"));
        connection.stream.destroy();
    }
}

/** One attempt: the secrets as they are now (the master's may just have rotated), one connection, the SQL. */
async function applyOnce(config: RoleManagerConfig, login: boolean, read: (arn: string) => Promise<Record<string, unknown>>): Promise<void> {
    const [master, owner, runtime] = await Promise.all([read(config.masterSecretArn), read(config.ownerSecretArn), read(config.runtimeSecretArn)]);
    const user = master["username"];
    if (typeof user !== "string") throw new Error(`role manager: secret ${config.masterSecretArn} has no username`);
    for (const key of ["ownerRole", "runtimeRole"] as const) {
        if (config[key] === user) throw new Error(`role manager: ${ROLE_MANAGER_ENV[key]}: '${user}' is the master user (allowed: a role of the app's own)`);
    }
    const client = new NoCleartextClient(pgClientConfig(config, { user, password: passwordOf(master, config.masterSecretArn) }));
    await client.connect();
    try {
        await applyRoles(client, {
            database: config.database,
            schema: config.schema,
            ownerRole: config.ownerRole,
            runtimeRole: config.runtimeRole,
            login,
            ownerPassword: passwordOf(owner, config.ownerSecretArn),
            runtimePassword: passwordOf(runtime, config.runtimeSecretArn),
        });
    } finally {
        await client.end();
    }
}
