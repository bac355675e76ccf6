/**
 * A PostgreSQL 16 cluster of the isolation suite's own, started by the same code as the suite-wide globalSetup
 * (tests/support/postgres.ts: temp directory, free port, random superuser password, removed on stop).
 *
 * Why not the shared server: `tenancy_tenants`, `tenancy_reporting` and every role are cluster-wide, and the hardening
 * revokes CONNECT on `postgres` and `template1` from PUBLIC. On the shared server that would collide with
 * tests/sql/render.test.ts (same role names) and change the server under other test files. A cluster per suite keeps
 * the names exactly as the program declares them, with nothing to clean up but the cluster itself.
 */
import { Client } from "pg";
import type { TestProject } from "vitest/node";
import startCluster, { type PgConnectionInfo } from "../support/postgres";

export class Cluster {
    private constructor(
        readonly info: PgConnectionInfo,
        private readonly stop: () => Promise<void>,
    ) {}

    /** Starts a fresh cluster; `close()` stops it and deletes its directory. */
    static async start(): Promise<Cluster> {
        let info: PgConnectionInfo | undefined;
        const project = { provide: (_key: string, value: PgConnectionInfo) => (info = value) } as unknown as TestProject;
        const stop = await startCluster(project);
        return new Cluster(info!, stop);
    }

    async close(): Promise<void> {
        await this.stop();
    }

    /** A connected client; rejects as PostgreSQL does (bad password, NOLOGIN, no CONNECT, too many connections). */
    async connect(user: string, password: string, database: string): Promise<Client> {
        const client = new Client({ host: this.info.host, port: this.info.port, user, password, database });
        client.on("error", () => undefined); // a terminated session surfaces on its next query instead of crashing the worker
        await client.connect();
        return client;
    }

    /** The superuser. Note: on RDS/Aurora the provider's user is the non-superuser master (rds_superuser). */
    admin(database = "postgres"): Promise<Client> {
        return this.connect(this.info.user, this.info.password, database);
    }
}

/** Runs `fn` with a client and always closes it. */
export async function using<T>(client: Client | Promise<Client>, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await client;
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}

export { applyStatements } from "../support/applySql";
