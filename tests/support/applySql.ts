import type { Client } from "pg";
import type { SqlStatement } from "../../tools/sql/render";

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
