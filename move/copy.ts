/**
 * The initial copy: a logical slot created with an exported snapshot over a replication connection, then every tenant
 * table streamed with COPY out of the source inside that snapshot and COPY into the target, one target transaction per
 * table, recorded in `tenancy_move.copied` in that same transaction. Changes committed after the snapshot are in the
 * slot, from its consistent point on, for apply.ts.
 */
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import type { Client } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { quoteIdent, type TenantTable } from "./catalog";
import { recordCopied, type CopiedTable } from "./state";

export interface CreatedSlot {
    slot: string;
    consistentLsn: string;
    snapshot: string;
}

/**
 * `CREATE_REPLICATION_SLOT <slot> LOGICAL pgoutput (SNAPSHOT 'export')` on a replication connection. The snapshot
 * stays importable only while `replication` stays open and runs no other command: copy, then close it.
 */
export async function createSlotWithSnapshot(replication: Client, slot: string): Promise<CreatedSlot> {
    const { rows } = await replication.query(`CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput (SNAPSHOT 'export')`);
    const row = rows[0] as { slot_name: string; consistent_point: string; snapshot_name: string };
    return { slot: row.slot_name, consistentLsn: row.consistent_point, snapshot: row.snapshot_name };
}

/** Opens a repeatable-read, read-only transaction on `source` that sees exactly the exported snapshot. */
export async function beginInSnapshot(source: Client, snapshot: string): Promise<void> {
    await source.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await source.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
}

/** The source query of a table's rows: a partitioned parent through all its partitions, an ordinary table ONLY itself. */
export function copyOutSql(t: TenantTable): string {
    const cols = t.columns.map((c) => quoteIdent(c.name)).join(", ");
    return `COPY (SELECT ${cols} FROM ${t.relkind === "p" ? "" : "ONLY "}${t.name}) TO STDOUT`;
}

/** The target statement: COPY into the parent routes rows to partitions; identity values are written as they are. */
export function copyInSql(t: TenantTable): string {
    return `COPY ${t.name} (${t.columns.map((c) => quoteIdent(c.name)).join(", ")}) FROM STDIN`;
}

/**
 * Streams one table from `source` (already in the snapshot's transaction) into `target` in a transaction of its own,
 * recorded as copied in that transaction: a table is either fully loaded and recorded, or neither.
 */
export async function copyTable(
    source: Client,
    target: Client,
    tenant: string,
    t: TenantTable,
    onProgress?: (rows: number, bytes: number) => void,
): Promise<CopiedTable> {
    let bytes = 0;
    let rows = 0;
    let lastReport = 0;
    const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            // Rows end with a newline in COPY's text format (newlines inside values are escaped as \n).
            for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows++;
            const now = Date.now();
            if (onProgress && now - lastReport > 1000) {
                lastReport = now;
                onProgress(rows, bytes);
            }
            done(null, chunk);
        },
    });
    await target.query("BEGIN");
    try {
        const out = source.query(copyTo(copyOutSql(t)));
        const into = target.query(copyFrom(copyInSql(t)));
        await pipeline(out, counter, into);
        const copied = { table: t.name, rows: into.rowCount ?? rows, bytes };
        await recordCopied(target, tenant, copied);
        await target.query("COMMIT");
        return copied;
    } catch (err) {
        await target.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}
