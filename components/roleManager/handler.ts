/**
 * The role manager's Lambda function: runs inside a hybrid or dedicated tenant's VPC, reads the RDS-managed master
 * secret and the two application secrets, and brings the tenant's database roles to the desired state with idempotent
 * SQL. Bundled with `pg` into `dist/index.js` by `npm run build:role-manager` (a test fails when the bundle is stale).
 *
 * `applyRoles` is the SQL, kept free of AWS so the real-PostgreSQL tests run exactly what the function runs.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "crypto";
import { Client } from "pg";

/** What the deploy asks for: the Invocation's `input` (no credentials, only where to find them). */
export interface RoleManagerEvent {
    /** Endpoint of the instance (its address, never a tunnel: the function runs in the VPC). */
    host: string;
    port: number;
    /** The application database created with the instance. */
    database: string;
    /** Schema the app's objects live in, owned by `ownerRole`. */
    schema: string;
    /** Migrations: owns the schema and everything in it. */
    ownerRole: string;
    /** The app at runtime: data access in the schema only. */
    runtimeRole: string;
    /** `active` lets both roles log in; `suspended` and `offboarded` take LOGIN away and end their sessions. */
    status: "active" | "suspended" | "offboarded";
    /** RDS-managed master secret (JSON username/password): read here and nowhere else. */
    masterSecretArn: string;
    /** The roles' secrets (JSON with `password`), written by the deploy. */
    ownerSecretArn: string;
    runtimeSecretArn: string;
}

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

const STATUSES = ["active", "suspended", "offboarded"] as const;
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Every problem of an event, as `field: what is wrong (allowed: …)`; empty when it is valid. */
export function eventProblems(event: unknown): string[] {
    if (!event || typeof event !== "object") return ["event: not a JSON object"];
    const e = event as Record<string, unknown>;
    const problems: string[] = [];
    for (const key of ["database", "schema", "ownerRole", "runtimeRole"]) {
        if (typeof e[key] !== "string" || !PG_IDENTIFIER.test(e[key] as string)) problems.push(`${key}: not a PostgreSQL identifier (allowed: a-z, 0-9, '_')`);
    }
    if (e["ownerRole"] === e["runtimeRole"]) problems.push("runtimeRole: must differ from ownerRole");
    for (const key of ["host", "masterSecretArn", "ownerSecretArn", "runtimeSecretArn"]) {
        if (typeof e[key] !== "string" || e[key] === "") problems.push(`${key}: missing`);
    }
    if (!Number.isInteger(e["port"])) problems.push("port: not a whole number");
    if (!STATUSES.includes(e["status"] as (typeof STATUSES)[number])) problems.push(`status: ${String(e["status"])} (allowed: ${STATUSES.join(", ")})`);
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
    const problems = eventProblems({ ...desired, host: "-", port: 0, status: "active", masterSecretArn: "-", ownerSecretArn: "-", runtimeSecretArn: "-" });
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
 * Lambda entry point. Reads the master secret at call time (RDS rotates it), connects with TLS verified against the
 * RDS CA (the runtime's bundle, through NODE_EXTRA_CA_CERTS) and applies the desired state. A failure fails the
 * deploy's Invocation; nothing secret is returned or logged.
 */
export async function handler(event: unknown): Promise<{ database: string; login: boolean }> {
    const problems = eventProblems(event);
    if (problems.length) throw new Error(`role manager: ${problems.join("; ")}`);
    const e = event as RoleManagerEvent;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@aws-sdk/client-secrets-manager") as {
        SecretsManagerClient: new (config: object) => SecretsManager;
        GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
    };
    const sm = new sdk.SecretsManagerClient({});
    const read = (arn: string) => readSecret(sm, sdk.GetSecretValueCommand, arn);
    await withRetries(() => applyOnce(e, read));
    return { database: e.database, login: e.status === "active" };
}

/** Errors worth another try: IAM still propagating the new role's policy, or RDS rotating the master password right now. */
export function isTransient(err: unknown): boolean {
    const e = err as { name?: string; code?: string };
    return e?.name === "AccessDeniedException" || e?.code === "28P01" || e?.code === "ECONNREFUSED" || e?.code === "ETIMEDOUT";
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

/** One attempt: the secrets as they are now (the master's may just have rotated), one connection, the SQL. */
async function applyOnce(e: RoleManagerEvent, read: (arn: string) => Promise<Record<string, unknown>>): Promise<void> {
    const [master, owner, runtime] = await Promise.all([read(e.masterSecretArn), read(e.ownerSecretArn), read(e.runtimeSecretArn)]);
    if (typeof master["username"] !== "string") throw new Error(`role manager: secret ${e.masterSecretArn} has no username`);
    const client = new Client({
        host: e.host,
        port: e.port,
        database: e.database,
        user: master["username"],
        password: passwordOf(master, e.masterSecretArn),
        ssl: { rejectUnauthorized: true, servername: e.host },
        connectionTimeoutMillis: 10_000,
        statement_timeout: 60_000,
    });
    await client.connect();
    try {
        await applyRoles(client, {
            database: e.database,
            schema: e.schema,
            ownerRole: e.ownerRole,
            runtimeRole: e.runtimeRole,
            login: e.status === "active",
            ownerPassword: passwordOf(owner, e.ownerSecretArn),
            runtimePassword: passwordOf(runtime, e.runtimeSecretArn),
        });
    } finally {
        await client.end();
    }
}
