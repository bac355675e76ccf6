/**
 * Verification of a move: per table, row count and a content hash computed the same way on both sides, in chunks of key
 * order so that the write pause re-hashes only what changed since a baseline, whatever the tenant's size.
 *
 * A chunk's hash is `md5(string_agg(md5(row::text), '' ORDER BY key))` with the session settings of connect.ts fixed
 * on both sides; a table's hash is the md5 of its chunks' hashes in order, its rows their sum. Chunk boundaries come
 * from the source (every {@link CHUNK_ROWS} keys); the last chunk is open-ended (new keys land there).
 *
 * Baseline (before the pause): a temporary logical slot created with an exported snapshot gives the source at a known
 * LSN S; the source is hashed in that snapshot, the target after applying exactly the transactions committed before S.
 * From S on, apply records the keys each transaction touches. In the pause only chunks holding touched keys, and the
 * open last chunk, are hashed again on both sides.
 */
import { createHash } from "crypto";
import type { Client } from "pg";
import { tenantTables } from "./catalog";
import { connect, connectReplication, ident, literal } from "./connect";
import type { Endpoint } from "./types";

/**
 * Keys per chunk: small enough that re-hashing a touched chunk takes about a millisecond, so that writes spread over a
 * large table (each touching its own chunk) still fit the pause; the baseline hashes every chunk in one pass anyway.
 */
export const CHUNK_ROWS = 250;

export interface KeyColumn {
    name: string;
    /** `format_type` of the column, for casting boundary values back. */
    type: string;
}

export interface VerifyTable {
    /** Qualified and quoted: `"t_acme"."orders"` as format('%I.%I'). */
    name: string;
    /** Unqualified name, for messages and the receipt. */
    relname: string;
    key: KeyColumn[];
}

export interface ChunkHash {
    rows: number;
    hash: string;
}

export interface TableHashes {
    table: VerifyTable;
    /** Upper bounds (inclusive) of chunks 0..n-1, each a row of key values as text; chunk n is open-ended. */
    boundaries: string[][];
    source: ChunkHash[];
    target: ChunkHash[];
}

export interface TableResult {
    name: string;
    sourceRows: number;
    targetRows: number;
    sourceHash: string;
    targetHash: string;
    /** Chunks that differ, for the message. */
    mismatched: number[];
}

/**
 * The tenant's tables (catalog.ts: partitioned parents, never partitions; names quoted as apply records touched keys)
 * with the types of their key columns.
 */
export async function verifyTables(client: Client, schema: string): Promise<VerifyTable[]> {
    const out: VerifyTable[] = [];
    for (const t of await tenantTables(client, schema)) {
        const { rows } = await client.query(
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = ANY($2)",
            [t.name, [...t.key, ...t.primaryKey]],
        );
        const types = new Map(rows.map((r) => [r["name"] as string, r["type"] as string]));
        // The primary key when there is one: apply records touched keys by it.
        const key = t.primaryKey.length ? t.primaryKey : t.key;
        out.push({ name: t.name, relname: t.table, key: key.map((k) => ({ name: k, type: types.get(k)! })) });
    }
    return out;
}

const keyList = (t: VerifyTable): string => t.key.map((k) => `r.${ident(k.name)}`).join(", ");
const keyRow = (t: VerifyTable): string => `(${keyList(t)})`;

/** `(k1, k2) > ($1::t1, $2::t2)`-style bounds of chunk `i` of `boundaries`, with their parameters from `offset`. */
function chunkWhere(t: VerifyTable, boundaries: string[][], i: number): { where: string; values: string[] } {
    const cast = (from: number): string => `(${t.key.map((k, j) => `$${from + j}::${k.type}`).join(", ")})`;
    const parts: string[] = [];
    const values: string[] = [];
    if (i > 0) {
        parts.push(`${keyRow(t)} > ${cast(values.length + 1)}`);
        values.push(...boundaries[i - 1]!);
    }
    if (i < boundaries.length) {
        parts.push(`${keyRow(t)} <= ${cast(values.length + 1)}`);
        values.push(...boundaries[i]!);
    }
    return { where: parts.length ? parts.join(" AND ") : "true", values };
}

/** Rows and hash of chunk `i`: every column of every row, as text, in key order. */
export async function hashChunk(client: Client, t: VerifyTable, boundaries: string[][], i: number): Promise<ChunkHash> {
    const { where, values } = chunkWhere(t, boundaries, i);
    const { rows } = await client.query(
        `SELECT count(*)::bigint AS n, coalesce(md5(string_agg(md5(ROW(r.*)::text), '' ORDER BY ${keyList(t)})), '') AS h FROM ${t.name} r WHERE ${where}`,
        values,
    );
    return { rows: Number(rows[0]!["n"]), hash: rows[0]!["h"] as string };
}

/**
 * Every chunk of a table in ONE ordered pass (what the baseline and a full verification use): rows numbered in key
 * order, chunk = (n - 1) / chunkRows, each chunk's hash as {@link hashChunk} computes it for the same rows, and the key
 * of every chunkRows-th row as the boundaries. On a side holding the same keys, the chunks are the boundaries' ranges.
 */
export async function hashTable(client: Client, t: VerifyTable, chunkRows = CHUNK_ROWS): Promise<{ boundaries: string[][]; chunks: ChunkHash[] }> {
    const n = Math.max(1, Math.floor(chunkRows));
    const keyJson = `json_build_array(${t.key.map((k) => `r.${ident(k.name)}::text`).join(", ")})::text`;
    const { rows } = await client.query(
        `SELECT s.g::int AS g, count(*)::bigint AS n, md5(string_agg(s.h, '' ORDER BY s.rn)) AS h, max(s.b) AS b
           FROM (SELECT row_number() OVER w AS rn, (row_number() OVER w - 1) / ${n} AS g, md5(ROW(r.*)::text) AS h,
                        CASE WHEN row_number() OVER w % ${n} = 0 THEN ${keyJson} END AS b
                   FROM ${t.name} r WINDOW w AS (ORDER BY ${keyList(t)})) s
          GROUP BY s.g ORDER BY s.g`,
    );
    const boundaries = rows.filter((r) => r["b"] !== null).map((r) => JSON.parse(r["b"] as string) as string[]);
    const chunks: ChunkHash[] = Array.from({ length: boundaries.length + 1 }, () => ({ rows: 0, hash: "" }));
    for (const r of rows) chunks[r["g"] as number] = { rows: Number(r["n"]), hash: r["h"] as string };
    return { boundaries, chunks };
}

/** Table-level rows and hash from chunk hashes. */
export function combine(chunks: ChunkHash[]): { rows: number; hash: string } {
    // md5 of the concatenated chunk hashes, computed locally: identical for identical chunk lists.
    return { rows: chunks.reduce((n, c) => n + c.rows, 0), hash: createHash("md5").update(chunks.map((c) => c.hash).join("")).digest("hex") };
}

/** Hashes the chunks `which` of every table on one side (all of them when `which` is undefined). */
export async function hashSide(client: Client, t: VerifyTable, boundaries: string[][], which?: Iterable<number>): Promise<Map<number, ChunkHash>> {
    const out = new Map<number, ChunkHash>();
    const indexes = which ? [...which] : Array.from({ length: boundaries.length + 1 }, (_, i) => i);
    if (!indexes.length) return out;
    // A chunk is a key range: read through the key's index, never a scan of the whole table. Without statistics (a
    // target just loaded) the planner would take the open last chunk's "> key" for a third of the table, and the pause
    // would grow with the tenant's size again.
    await client.query("SET enable_seqscan = off");
    try {
        // The open first and last chunks one by one; every chunk between two boundaries in ONE statement (a lateral
        // index range scan per chunk): hundreds of touched chunks cost one round trip, not hundreds.
        const closed = indexes.filter((i) => i > 0 && i < boundaries.length);
        for (const i of indexes) if (i === 0 || i === boundaries.length) out.set(i, await hashChunk(client, t, boundaries, i));
        for (let start = 0; start < closed.length; start += 5_000) {
            const batch = closed.slice(start, start + 5_000);
            const lo = (j: number): string[] => batch.map((i) => boundaries[i - 1]![j]!);
            const hi = (j: number): string[] => batch.map((i) => boundaries[i]![j]!);
            const n = t.key.length;
            const col = (prefix: string): string => `(${t.key.map((_, j) => `c.${prefix}${j}`).join(", ")})`;
            const { rows } = await client.query(
                `SELECT c.i, x.n, x.h
                   FROM unnest($1::int[], ${t.key.map((k, j) => `$${j + 2}::${k.type}[]`).join(", ")}, ${t.key.map((k, j) => `$${j + 2 + n}::${k.type}[]`).join(", ")})
                        AS c(i, ${t.key.map((_, j) => `l${j}`).join(", ")}, ${t.key.map((_, j) => `h${j}`).join(", ")})
                  CROSS JOIN LATERAL (
                        SELECT count(*)::bigint AS n, coalesce(md5(string_agg(md5(ROW(r.*)::text), '' ORDER BY ${keyList(t)})), '') AS h
                          FROM ${t.name} r WHERE ${keyRow(t)} > ${col("l")} AND ${keyRow(t)} <= ${col("h")}) x`,
                [batch, ...t.key.map((_, j) => lo(j)), ...t.key.map((_, j) => hi(j))],
            );
            for (const r of rows) out.set(r["i"] as number, { rows: Number(r["n"]), hash: r["h"] as string });
        }
    } finally {
        await client.query("RESET enable_seqscan");
    }
    return out;
}

/** Re-hashes the chunks `which` of every table on both sides at once (two servers, two connections). */
async function hashBoth(source: Client, target: Client, b: Baseline, chunks: Map<string, Set<number>>): Promise<void> {
    const side = async (client: Client): Promise<Map<number, ChunkHash>[]> => {
        const out: Map<number, ChunkHash>[] = [];
        for (const h of b.tables) out.push(await hashSide(client, h.table, h.boundaries, chunks.get(h.table.name) ?? new Set([h.boundaries.length])));
        return out;
    };
    const [s, d] = await Promise.all([side(source), side(target)]);
    b.tables.forEach((h, i) => {
        for (const [j, c] of s[i]!) h.source[j] = c;
        for (const [j, c] of d[i]!) h.target[j] = c;
    });
}

export function compareTables(hashes: TableHashes[]): TableResult[] {
    return hashes.map((h) => {
        const s = combine(h.source);
        const d = combine(h.target);
        const length = Math.max(h.source.length, h.target.length);
        const mismatched = Array.from({ length }, (_, i) => i).filter((i) => h.source[i]?.hash !== h.target[i]?.hash || h.source[i]?.rows !== h.target[i]?.rows);
        return { name: h.table.relname, sourceRows: s.rows, targetRows: d.rows, sourceHash: s.hash, targetHash: d.hash, mismatched };
    });
}

/** Tables whose hashes or counts differ, as `table: what differs` lines. */
export function mismatches(results: TableResult[]): string[] {
    return results
        .filter((r) => r.sourceHash !== r.targetHash || r.sourceRows !== r.targetRows)
        .map((r) => `${r.name}: source ${r.sourceRows} rows (${r.sourceHash}), target ${r.targetRows} rows (${r.targetHash}); ${r.mismatched.length} chunk${r.mismatched.length === 1 ? "" : "s"} differ`);
}

/** A repeatable-read, read-only transaction, optionally in an exported snapshot. */
async function snapshotTx<T>(client: Client, snapshot: string | undefined, fn: () => Promise<T>): Promise<T> {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
        if (snapshot) await client.query(`SET TRANSACTION SNAPSHOT ${literal(snapshot)}`);
        const result = await fn();
        await client.query("COMMIT");
        return result;
    } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

/** Hashes every table fully on both sides (writes stopped on the source, everything applied on the target). */
export async function fullHashes(source: Client, target: Client, tables: VerifyTable[], chunkRows = CHUNK_ROWS): Promise<TableHashes[]> {
    const out: TableHashes[] = [];
    for (const t of tables) {
        const s = await hashTable(source, t, chunkRows);
        const d = await hashTable(target, t, chunkRows);
        out.push({ table: t, boundaries: s.boundaries, source: s.chunks, target: d.chunks });
    }
    return out;
}

export interface Baseline {
    /** The source LSN the baseline was taken at: transactions committing before it are in both hashes. */
    lsn: string;
    tables: TableHashes[];
    /** Time to re-hash one chunk on one side (ms), measured on the target, for the pause estimate. */
    chunkMs: number;
    /** Chunks that differed at the baseline (none when the copy is exact). */
    results: TableResult[];
}

/**
 * The baseline: a temporary slot `<slot>_verify` with an exported snapshot on the source (its consistent point is S), the
 * source hashed in that snapshot, then `applyTo(S)` on the target (the caller applies exactly the transactions committed
 * before S and tracks keys from S), then the target hashed with the source's boundaries.
 */
export async function baseline(p: {
    source: Endpoint;
    target: Endpoint;
    schema: string;
    slot: string;
    applyTo: (lsn: string) => Promise<void>;
    chunkRows?: number;
}): Promise<Baseline> {
    const repl = await connectReplication(p.source);
    const source = await connect(p.source);
    const target = await connect(p.target);
    try {
        const created = await repl.query(`CREATE_REPLICATION_SLOT ${ident(`${p.slot}_verify`)} TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')`);
        const lsn = created.rows[0]!["consistent_point"] as string;
        const snapshot = created.rows[0]!["snapshot_name"] as string;
        const tables = await verifyTables(source, p.schema);
        // The two sides at once (two servers): the source in the snapshot; the target once applied up to the same point.
        const [sides, targetChunks] = await Promise.all([
            snapshotTx(source, snapshot, async () => {
                const out: { table: VerifyTable; boundaries: string[][]; source: ChunkHash[] }[] = [];
                for (const t of tables) {
                    const { boundaries, chunks } = await hashTable(source, t, p.chunkRows);
                    out.push({ table: t, boundaries, source: chunks });
                }
                return out;
            }),
            (async () => {
                await p.applyTo(lsn);
                return snapshotTx(target, undefined, async () => {
                    const out: ChunkHash[][] = [];
                    for (const t of tables) out.push((await hashTable(target, t, p.chunkRows)).chunks);
                    return out;
                });
            })(),
        ]);
        const hashes: TableHashes[] = sides.map((s, i) => ({ ...s, target: targetChunks[i]! }));
        // What one chunk costs when the pause re-hashes it alone (a range scan of the key index): the largest table's first.
        const largest = hashes.reduce((a, h) => (h.source.length > a.source.length ? h : a), hashes[0]!);
        const sample = largest ? [0, 1, 2, 3].filter((i) => i <= largest.boundaries.length) : [];
        const t0 = Date.now();
        if (largest) await hashSide(target, largest.table, largest.boundaries, sample);
        const chunkMs = Math.max(1, (Date.now() - t0) / Math.max(1, sample.length));
        return { lsn, tables: hashes, chunkMs, results: compareTables(hashes) };
    } finally {
        await repl.end().catch(() => undefined);
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}

/**
 * Chunk indexes holding the keys touched since the baseline (recorded on the target by apply), per table, plus the
 * open last chunk. Keys are mapped to chunks in SQL with the columns' own types and collations, as the hashes order them.
 */
export async function touchedChunks(target: Client, tenant: string, b: Baseline): Promise<Map<string, Set<number>>> {
    const out = new Map<string, Set<number>>();
    for (const h of b.tables) {
        const set = new Set<number>([h.boundaries.length]);
        out.set(h.table.name, set);
        if (!h.boundaries.length) continue;
        const t = h.table;
        // The touched key is a JSON array of the key columns' text values (apply.ts); boundaries travel as one text array
        // per key column. width_bucket finds a key's chunk by binary search over the ordered boundaries (records compare
        // column by column, as the chunks' row comparisons do): the count of boundaries <= key, minus one when it IS one
        // (chunk i holds (b[i-1], b[i]]).
        const cols = t.key.map((_, j) => `u.b${j}`);
        const row = (parts: string[]): string => `ROW(${parts.map((p, j) => `${p}::${t.key[j]!.type}`).join(", ")})`;
        const { rows } = await target.query(
            `WITH b AS (SELECT array_agg(${row(cols)} ORDER BY u.o) AS arr
                          FROM unnest(${t.key.map((_, j) => `$${j + 3}::text[]`).join(", ")}) WITH ORDINALITY u(${t.key.map((_, j) => `b${j}`).join(", ")}, o)),
                  k AS (SELECT ${row(t.key.map((_, j) => `(tk.key::jsonb->>${j})`))} AS key FROM tenancy_move.touched tk WHERE tk.tenant = $1 AND tk.table_name = $2),
                  w AS (SELECT k.key, width_bucket(k.key, b.arr) AS w, b.arr FROM k, b)
             SELECT DISTINCT (CASE WHEN w.w > 0 AND w.arr[w.w] = w.key THEN w.w - 1 ELSE w.w END)::int AS chunk FROM w`,
            [tenant, t.name, ...t.key.map((_, j) => h.boundaries.map((r) => r[j]!))],
        );
        for (const r of rows) set.add(r["chunk"] as number);
    }
    return out;
}

/** Number of chunks {@link touchedChunks} selects, for the pause estimate. */
export function chunkCount(chunks: Map<string, Set<number>>): number {
    let n = 0;
    for (const s of chunks.values()) n += s.size;
    return n;
}

/**
 * In the write pause: re-hashes the touched chunks (and the open last one) on both sides and folds them into the
 * baseline's hashes. Returns the per-table results (a mismatch anywhere fails the move).
 */
export async function recheck(source: Client, target: Client, tenant: string, b: Baseline): Promise<TableResult[]> {
    await hashBoth(source, target, b, await touchedChunks(target, tenant, b));
    return compareTables(b.tables);
}

/**
 * Moves the baseline forward without stopping writes: a new exported snapshot at S2, the target applied to exactly S2
 * (`applyTo`, tracking keys), the chunks touched since the last baseline re-hashed on both sides at S2 and folded in, the
 * touched keys forgotten, S2 the new baseline. Writes that touched many chunks during a long baseline (a large tenant)
 * would otherwise all be re-hashed inside the pause; each refresh shrinks that set to what the last one took to run.
 * Returns the per-table results (a mismatch fails the move before any write is stopped) and the chunks it re-hashed.
 */
export async function refresh(p: { source: Endpoint; target: Client; tenant: string; slot: string; applyTo: (lsn: string) => Promise<void> }, b: Baseline): Promise<{ results: TableResult[]; chunks: number }> {
    const repl = await connectReplication(p.source);
    const source = await connect(p.source);
    try {
        const created = await repl.query(`CREATE_REPLICATION_SLOT ${ident(`${p.slot}_verify`)} TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')`);
        const lsn = created.rows[0]!["consistent_point"] as string;
        const snapshot = created.rows[0]!["snapshot_name"] as string;
        // The exported snapshot stays valid while its connection is idle: apply first, then read both sides at S2.
        await p.applyTo(lsn);
        const chunks = await touchedChunks(p.target, p.tenant, b);
        // The source in the snapshot of S2; the target is applied exactly to S2 and nothing else writes it now.
        await source.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        try {
            await source.query(`SET TRANSACTION SNAPSHOT ${literal(snapshot)}`);
            await hashBoth(source, p.target, b, chunks);
            await source.query("COMMIT");
        } catch (err) {
            await source.query("ROLLBACK").catch(() => undefined);
            throw err;
        }
        await p.target.query(`DELETE FROM tenancy_move.touched WHERE tenant = $1`, [p.tenant]);
        b.lsn = lsn;
        return { results: compareTables(b.tables), chunks: chunkCount(chunks) };
    } finally {
        await repl.end().catch(() => undefined);
        await source.end().catch(() => undefined);
    }
}
