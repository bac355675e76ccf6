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
import type { SqlStatement } from "../../tools/sql/render";

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

/**
 * Runs rendered statements as the provider does: one BEGIN…COMMIT per `txn` (ROLLBACK on error), autocommit for
 * `txn: null`, on one connection per database, kept for the whole list. Throws on the first failing statement.
 */
export async function applyStatements(connect: (database: string) => Promise<Client>, statements: readonly SqlStatement[], fallbackDatabase: string): Promise<void> {
    const clients = new Map<string, Client>();
    const clientFor = async (db: string): Promise<Client> => {
        let c = clients.get(db);
        if (!c) clients.set(db, (c = await connect(db)));
        return c;
    };
    try {
        let i = 0;
        while (i < statements.length) {
            const first = statements[i]!;
            let j = i + 1;
            while (first.txn !== null && j < statements.length && statements[j]!.txn === first.txn) j++;
            const client = await clientFor(first.database ?? fallbackDatabase);
            if (first.txn !== null) await client.query("BEGIN");
            for (const s of statements.slice(i, j)) {
                try {
                    await client.query(s.sql);
                } catch (err) {
                    if (first.txn !== null) await client.query("ROLLBACK").catch(() => undefined);
                    throw new Error(`${s.resource}: ${s.sql}\n  -> ${(err as Error).message}`);
                }
            }
            if (first.txn !== null) await client.query("COMMIT");
            i = j;
        }
    } finally {
        await Promise.all([...clients.values()].map((c) => c.end()));
    }
}
