/**
 * Admin connections of the move engine: endpoints from URLs (labels never carry a password), clients with the session
 * settings every comparison relies on, replication connections, and the environment for `pg_dump`/`psql` (the password
 * travels in PGPASSWORD, never on a command line another user could read in `ps`).
 */
import { Client, type ClientConfig } from "pg";
import { MoveError, type Endpoint, type PlacementRef } from "./types";

/**
 * Fixed on both sides so a row's text (and so its hash) does not depend on server or role defaults: timestamps in UTC
 * and ISO, floats shortest-exact, bytea as hex, intervals in postgres style.
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = {
    TimeZone: "UTC",
    DateStyle: "ISO, MDY",
    extra_float_digits: "1",
    bytea_output: "hex",
    IntervalStyle: "postgres",
    // The engine's own statements may run long (copy, hashes); a role default must not cut them off.
    statement_timeout: "0",
    idle_in_transaction_session_timeout: "0",
    // JIT compiles a plan for ~0.2 s whenever its estimated cost is high (a target without statistics yet): far more
    // than the engine's short key-range queries take, and inside the write pause.
    jit: "off",
};

/** Problems of a connection URL, as `<flag>: what is wrong (allowed: …)`; empty when usable. */
export function urlProblems(flag: string, url: string): string[] {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return [`${flag}: not a URL (allowed: postgres://user:password@host:port/database)`];
    }
    const problems: string[] = [];
    if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") problems.push(`${flag}: scheme '${parsed.protocol.replace(/:$/, "")}' (allowed: postgres, postgresql)`);
    if (!parsed.hostname) problems.push(`${flag}: no host (allowed: postgres://user:password@host:port/database)`);
    if (!decodeURIComponent(parsed.pathname.replace(/^\//, ""))) problems.push(`${flag}: no database name (allowed: postgres://user:password@host:port/database)`);
    if (!parsed.username) problems.push(`${flag}: no user (allowed: postgres://user:password@host:port/database)`);
    return problems;
}

/** `host:port/db` of a URL: what receipts, state and messages show; never the user's password. */
export function labelOf(url: string): string {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}/${decodeURIComponent(u.pathname.replace(/^\//, ""))}`;
}

export function endpoint(url: string, placement?: PlacementRef): Endpoint {
    const problems = urlProblems("url", url);
    if (problems.length) throw new MoveError("invalid connection URL", 1, problems);
    return { url, label: labelOf(url), ...(placement ? { placement } : {}) };
}

/** Database name of an endpoint. */
export function databaseOf(ep: Endpoint): string {
    return decodeURIComponent(new URL(ep.url).pathname.replace(/^\//, ""));
}

/** User name of an endpoint's admin. */
export function userOf(ep: Endpoint): string {
    return decodeURIComponent(new URL(ep.url).username);
}

function config(ep: Endpoint, extra: Partial<ClientConfig> = {}): ClientConfig {
    return { connectionString: ep.url, application_name: "tenancy-move", connectionTimeoutMillis: 15_000, ...extra };
}

/** Connects as the endpoint's admin with {@link SESSION_SETTINGS}; a refused connection names the server, not the URL. */
export async function connect(ep: Endpoint): Promise<Client> {
    const client = new Client(config(ep));
    // An error on an idle client (server restart, terminated backend) must not crash the process unhandled.
    client.on("error", () => undefined);
    try {
        await client.connect();
        for (const [name, value] of Object.entries(SESSION_SETTINGS)) await client.query("SELECT pg_catalog.set_config($1, $2, false)", [name, value]);
    } catch (err) {
        await client.end().catch(() => undefined);
        throw new MoveError(`cannot connect to ${ep.label}: ${(err as Error).message}`, 1);
    }
    return client;
}

/** Runs `fn` with a fresh admin client, always closed afterwards. */
export async function withClient<T>(ep: Endpoint, fn: (client: Client) => Promise<T>): Promise<T> {
    const client = await connect(ep);
    try {
        return await fn(client);
    } finally {
        await client.end().catch(() => undefined);
    }
}

/**
 * A logical replication connection (`replication: 'database'`): CREATE_REPLICATION_SLOT with an exported snapshot.
 * Its session settings are not set: the replication protocol's simple queries are only used for slot commands.
 */
export async function connectReplication(ep: Endpoint): Promise<Client> {
    const client = new Client(config(ep, { replication: "database" } as Partial<ClientConfig>));
    client.on("error", () => undefined);
    try {
        await client.connect();
    } catch (err) {
        await client.end().catch(() => undefined);
        throw new MoveError(`cannot open a replication connection to ${ep.label}: ${(err as Error).message}`, 1);
    }
    return client;
}

/** The server's major version (15 for 15.18). */
export async function serverMajor(client: Client): Promise<number> {
    const { rows } = await client.query("SELECT current_setting('server_version_num')::int AS v");
    return Math.floor((rows[0]!["v"] as number) / 10_000);
}

/**
 * Environment for libpq tools (pg_dump, psql) connecting to an endpoint: every part of the URL as PG* variables, so
 * the password is not in the arguments; the URL's query parameters (sslmode, sslrootcert, …) map to theirs.
 */
export function libpqEnv(ep: Endpoint): NodeJS.ProcessEnv {
    const u = new URL(ep.url);
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PGHOST: u.hostname,
        PGPORT: u.port || "5432",
        PGDATABASE: databaseOf(ep),
        PGUSER: userOf(ep),
        PGAPPNAME: "tenancy-move",
        PGTZ: "UTC",
        PGCONNECT_TIMEOUT: "15",
    };
    if (u.password) env["PGPASSWORD"] = decodeURIComponent(u.password);
    else delete env["PGPASSWORD"];
    const params: Record<string, string> = { sslmode: "PGSSLMODE", sslrootcert: "PGSSLROOTCERT", sslcert: "PGSSLCERT", sslkey: "PGSSLKEY" };
    for (const [key, variable] of Object.entries(params)) {
        const value = u.searchParams.get(key);
        if (value !== null) env[variable] = value;
    }
    // A service file or options the caller's shell sets must not redirect the tools elsewhere.
    delete env["PGSERVICE"];
    delete env["PGOPTIONS"];
    return env;
}

/** `"name"` quoted for SQL. */
export function ident(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/** `'text'` quoted for SQL. */
export function literal(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}
