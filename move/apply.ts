/**
 * Continuous apply: reads the source's changes from the move's slot with `pg_logical_slot_peek_binary_changes`
 * (pgoutput, protocol 1, the move's publication) and applies each source transaction whole inside ONE target
 * transaction that also records its end LSN as `applied_lsn` (small consecutive ones share a target transaction; a
 * source transaction is never split). Only then is the slot advanced, never past what the target holds: a kill at any
 * moment leaves either a transaction applied and recorded (skipped when peeked again) or neither.
 */
import type { Client } from "pg";
import { quoteIdent, tenantTables, type TenantTable } from "./catalog";
import { connect } from "./connect";
import { compareLsn, decodePgOutput, UNCHANGED_TOAST, type PgOutputMessage, type RelationColumn, type TupleValue } from "./pgoutput";
import { readState, STATE_SCHEMA } from "./state";
import { MoveError, type MoveContext } from "./types";

/** Changes per peek: the peek ends at the first transaction boundary past it. */
export const PEEK_CHANGES = 5_000;

export interface ApplyResult {
    /** The target's applied position afterwards. */
    appliedLsn: string;
    transactions: number;
    rows: number;
}

interface Relation {
    /** `format('%I.%I')` of the published relation (the partitioned parent with publish_via_partition_root). */
    name: string;
    columns: RelationColumn[];
    /**
     * The columns that find a row: the replica identity's (the source sends their old values when they change), the
     * primary key under REPLICA IDENTITY FULL (whose whole old row is always sent, every column flagged).
     */
    key: string[];
    /** The columns of `touched` keys: the primary key, as verify.ts orders and chunks by it. */
    trackKey: string[];
}

interface SourceTxn {
    commitLsn: string;
    endLsn: string;
    changes: SourceChange[];
}

/**
 * A data change with the relation(s) as described when it was decoded: a Relation message later in the same peek
 * (a column added on the source) must not change how an earlier change reads.
 */
interface SourceChange {
    msg: Extract<PgOutputMessage, { tag: "insert" | "update" | "delete" | "truncate" }>;
    rels: Relation[];
}

/** The catalog's name of a published relation (format('%I.%I'), keywords quoted as PostgreSQL does), else both parts quoted. */
function relationName(tables: Map<string, TenantTable>, schema: string, name: string): string {
    for (const t of tables.values()) if (t.schema === schema && t.table === name) return t.name;
    return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** The tenant's move slot and the position of the target, or a clear error when sync never created them. */
async function moveOf(target: Client, tenant: string): Promise<{ slot: string; publication: string; applied: string }> {
    const state = await readState(target, tenant);
    if (!state) throw new MoveError(`tenant ${tenant} has no move prepared on the target: run --phase prepare first`, 1);
    const applied = state.appliedLsn ?? state.consistentLsn;
    if (!applied) throw new MoveError(`tenant ${tenant}: the initial copy has not finished: run --phase sync`, 1);
    return { slot: state.slot, publication: state.publication, applied };
}

/**
 * Peeks the slot up to `end` (a flushed source position): the transactions it returns, and whether they are all that
 * commit before `end` (the peek was not cut short by {@link PEEK_CHANGES}).
 */
async function peek(source: Client, slot: string, publication: string, end: string, relations: Map<number, Relation>, tables: Map<string, TenantTable>): Promise<{ txns: SourceTxn[]; complete: boolean }> {
    const { rows } = await source.query<{ data: Buffer }>(
        `SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, $3, 'proto_version', '1', 'publication_names', $4)`,
        [slot, end, PEEK_CHANGES, publication],
    );
    const txns: SourceTxn[] = [];
    let current: SourceTxn | undefined;
    for (const row of rows) {
        const msg = decodePgOutput(row.data);
        switch (msg.tag) {
            case "begin":
                current = { commitLsn: msg.finalLsn, endLsn: "", changes: [] };
                break;
            case "commit":
                if (!current) throw new Error("pgoutput: commit without begin");
                current.endLsn = msg.endLsn;
                txns.push(current);
                current = undefined;
                break;
            case "relation": {
                const name = relationName(tables, msg.schema, msg.name);
                const t = tables.get(name);
                const flagged = msg.columns.filter((c) => c.isKey).map((c) => c.name);
                const key = msg.replicaIdentity === "f" ? (t?.primaryKey ?? []) : flagged;
                relations.set(msg.relationId, { name, columns: msg.columns, key, trackKey: t?.primaryKey.length ? t.primaryKey : key });
                break;
            }
            case "origin":
            case "type":
                break;
            default:
                if (!current) throw new Error(`pgoutput: ${msg.tag} outside a transaction`);
                const ids = msg.tag === "truncate" ? msg.relationIds : [msg.relationId];
                current.changes.push({
                    msg,
                    rels: ids.map((id) => {
                        const rel = relations.get(id);
                        if (!rel) throw new Error(`pgoutput: ${msg.tag} for relation ${id} before its Relation message`);
                        return rel;
                    }),
                });
        }
    }
    return { txns, complete: rows.length < PEEK_CHANGES };
}

/** `$n` placeholders and values for a list of columns, from `from`. */
class Params {
    readonly values: (string | null)[] = [];
    add(v: string | null): string {
        this.values.push(v);
        return `$${this.values.length}`;
    }
}

/** The values of `columns` in `tuple`, or undefined when one was not sent. */
function keyValues(rel: Relation, tuple: TupleValue[], columns = rel.key): string[] | undefined {
    const values: string[] = [];
    for (const k of columns) {
        const v = tuple[rel.columns.findIndex((c) => c.name === k)];
        if (v === UNCHANGED_TOAST || v === undefined || v === null) return undefined;
        values.push(v);
    }
    return values;
}

/**
 * `key = $n AND …` for the row a change targets: its old key (sent when the key changed, or the whole old row under
 * REPLICA IDENTITY FULL), else the new row's.
 */
function whereKey(rel: Relation, tuple: TupleValue[], p: Params): string {
    if (rel.key.length === 0) throw new Error(`${rel.name}: UPDATE/DELETE of a table without primary key (sync refuses such tables)`);
    const values = keyValues(rel, tuple);
    if (!values) throw new Error(`${rel.name}: a change without its key's values`);
    return rel.key.map((k, i) => `${quoteIdent(k)} = ${p.add(values[i]!)}`).join(" AND ");
}

/** JSON array of the key columns' text values: the `touched` key verify.ts maps to chunks. */
function keyText(rel: Relation, tuple: TupleValue[]): string | undefined {
    const values = rel.trackKey.length ? keyValues(rel, tuple, rel.trackKey) : undefined;
    return values ? JSON.stringify(values) : undefined;
}

/** Whether the change moved the row to another key (then the key columns are written too). */
function sameKey(rel: Relation, oldRow: TupleValue[], newRow: TupleValue[]): boolean {
    const a = keyValues(rel, oldRow);
    const b = keyValues(rel, newRow);
    return a !== undefined && b !== undefined && a.every((v, i) => v === b[i]);
}

/** Parameters per multi-row INSERT (PostgreSQL allows 65535). */
const MAX_INSERT_PARAMS = 30_000;

/**
 * One INSERT of consecutive rows of one relation (a bulk insert on the source is one statement on the target, not
 * thousands). Identity values come from the source: GENERATED ALWAYS columns take them only with OVERRIDING SYSTEM VALUE.
 */
async function insertRows(target: Client, rel: Relation, tuples: TupleValue[][], tables: Map<string, TenantTable>): Promise<void> {
    const p = new Params();
    const cols = rel.columns.map((c) => quoteIdent(c.name));
    const rows = tuples.map((tuple) => `(${rel.columns.map((c, i) => {
        const v = tuple[i];
        if (v === UNCHANGED_TOAST || v === undefined) throw new Error(`${rel.name}: an insert without column ${c.name}`);
        return p.add(v);
    }).join(", ")})`);
    const overriding = tables.get(rel.name)?.columns.some((c) => c.identity === "a") ? " OVERRIDING SYSTEM VALUE" : "";
    await target.query(`INSERT INTO ${rel.name} (${cols.join(", ")})${overriding} VALUES ${rows.join(", ")}`, p.values);
}

/** Applies one change; returns the keys it touched. */
async function applyChange(target: Client, change: SourceChange, tables: Map<string, TenantTable>): Promise<string[][]> {
    const { msg, rels } = change;
    switch (msg.tag) {
        case "update": {
            const rel = rels[0]!;
            const always = new Set(tables.get(rel.name)?.columns.filter((c) => c.identity === "a").map((c) => c.name));
            const p = new Params();
            const oldRow = msg.key ?? msg.old ?? msg.newTuple;
            const keyChanged = !sameKey(rel, oldRow, msg.newTuple);
            const sets: string[] = [];
            rel.columns.forEach((c, i) => {
                const v = msg.newTuple[i];
                // Unchanged TOAST values were not sent: writing them would overwrite the row's real value.
                if (v === UNCHANGED_TOAST || v === undefined) return;
                // An unchanged key needs no SET; a GENERATED ALWAYS column takes no value but DEFAULT, so it is only
                // written when it is the key and changed (which fails, as it would on the source).
                const isKey = rel.key.includes(c.name);
                if ((isKey && !keyChanged) || (always.has(c.name) && !(isKey && keyChanged))) return;
                sets.push(`${quoteIdent(c.name)} = ${p.add(v)}`);
            });
            if (sets.length > 0) {
                await target.query(`UPDATE ${rel.name} SET ${sets.join(", ")} WHERE ${whereKey(rel, oldRow, p)}`, p.values);
            }
            return [...new Set([keyText(rel, oldRow), keyText(rel, msg.newTuple)])].filter((k): k is string => !!k).map((k) => [rel.name, k]);
        }
        case "delete": {
            const rel = rels[0]!;
            const p = new Params();
            const oldRow = msg.key ?? msg.old;
            if (!oldRow) throw new Error(`${rel.name}: a delete without its key`);
            // A row already gone (deleted by a cascade applied just before) is what the source has too.
            await target.query(`DELETE FROM ${rel.name} WHERE ${whereKey(rel, oldRow, p)}`, p.values);
            const k = keyText(rel, oldRow);
            return k ? [[rel.name, k]] : [];
        }
        case "truncate": {
            const names = rels.map((r) => r.name);
            await target.query(`TRUNCATE ${names.join(", ")}${msg.restartIdentity ? " RESTART IDENTITY" : ""}${msg.cascade ? " CASCADE" : ""}`);
            return [];
        }
        default:
            return [];
    }
}

/** Source transactions per target transaction, at most (and changes, unless one transaction alone has more). */
const GROUP_TXNS = 200;
const GROUP_CHANGES = 10_000;

/**
 * Applies whole source transactions in one target transaction that also records the last one's end as applied (and
 * the keys touched by those committing at or after `trackFrom`): after a kill, all of them are on the target or none.
 */
async function applyGroup(
    target: Client,
    tenant: string,
    candidates: SourceTxn[],
    tables: Map<string, TenantTable>,
    trackFrom: string | undefined,
): Promise<{ rows: number; transactions: number; applied: string | null }> {
    await target.query("BEGIN");
    let current = candidates[0]!;
    try {
        // The state row, locked: another run applying at the same time (an operator's second terminal, cutover while a
        // sync still loops) waits here, then skips what the first one applied instead of applying it twice.
        const locked = (await target.query<{ applied: string | null }>(
            `SELECT applied_lsn::text AS applied FROM ${STATE_SCHEMA}.moves WHERE tenant = $1 FOR UPDATE`, [tenant],
        )).rows[0]?.applied ?? null;
        const group = candidates.filter((txn) => compareLsn(txn.endLsn, locked) > 0);
        if (group.length === 0) {
            await target.query("COMMIT");
            return { rows: 0, transactions: 0, applied: locked };
        }
        const touched: string[][] = [];
        for (const txn of group) {
            current = txn;
            const track = trackFrom !== undefined && compareLsn(txn.commitLsn, trackFrom) >= 0;
            const keys = await applyChanges(target, txn, tables);
            if (track) touched.push(...keys);
        }
        if (touched.length) {
            await target.query(
                `INSERT INTO ${STATE_SCHEMA}.touched (tenant, table_name, key) SELECT $1, t, k FROM unnest($2::text[], $3::text[]) AS u(t, k)
                 ON CONFLICT DO NOTHING`,
                [tenant, touched.map((t) => t[0]), touched.map((t) => t[1])],
            );
        }
        const applied = group[group.length - 1]!.endLsn;
        await target.query(`UPDATE ${STATE_SCHEMA}.moves SET applied_lsn = $2 WHERE tenant = $1`, [tenant, applied]);
        await target.query("COMMIT");
        return { rows: group.reduce((n, t) => n + t.changes.length, 0), transactions: group.length, applied };
    } catch (err) {
        await target.query("ROLLBACK").catch(() => undefined);
        throw new Error(`applying the source transaction committed at ${current.commitLsn}: ${(err as Error).message}`);
    }
}

/** The changes of one source transaction, in order; returns the keys they touched. */
async function applyChanges(target: Client, txn: SourceTxn, tables: Map<string, TenantTable>): Promise<string[][]> {
    const touched: string[][] = [];
    // Consecutive inserts into one relation go as one statement, in the source's order.
    let batch: { rel: Relation; tuples: TupleValue[][] } | undefined;
    const flush = async (): Promise<void> => {
        if (batch) await insertRows(target, batch.rel, batch.tuples, tables);
        batch = undefined;
    };
    for (const change of txn.changes) {
        if (change.msg.tag === "insert") {
            const rel = change.rels[0]!;
            if (batch && (batch.rel !== rel || (batch.tuples.length + 1) * rel.columns.length > MAX_INSERT_PARAMS)) await flush();
            batch ??= { rel, tuples: [] };
            batch.tuples.push(change.msg.newTuple);
            const k = keyText(rel, change.msg.newTuple);
            if (k) touched.push([rel.name, k]);
            continue;
        }
        await flush();
        touched.push(...(await applyChange(target, change, tables)));
    }
    await flush();
    return touched;
}

/** Records a position reached without a transaction of ours (others' writes only), so the slot may advance past them. */
async function recordIdlePosition(target: Client, tenant: string, lsn: string): Promise<void> {
    await target.query(`UPDATE ${STATE_SCHEMA}.moves SET applied_lsn = $2 WHERE tenant = $1 AND (applied_lsn IS NULL OR applied_lsn < $2::pg_lsn)`, [tenant, lsn]);
}

/** Moves the slot's confirmed position to `lsn` when it is behind (never back: PostgreSQL refuses that). */
export async function advanceSlot(source: Client, slot: string, lsn: string): Promise<void> {
    const { rows } = await source.query<{ confirmed: string | null }>("SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1", [slot]);
    if (!rows[0]) throw new MoveError(`replication slot ${slot} is gone from the source: run --phase abort, then sync again`, 1);
    if (compareLsn(rows[0].confirmed, lsn) >= 0) return;
    try {
        await retryWhileActive(() => source.query("SELECT pg_replication_slot_advance($1, $2::pg_lsn)", [slot, lsn]));
    } catch (err) {
        // Another run (serialized on the state row) advanced it further between the read above and now: already done.
        if (/cannot advance replication slot to .*, minimum is/.test((err as Error).message)) return;
        throw err;
    }
}

/** A slot held by another session (a killed run's backend still finishing a peek) frees itself within seconds. */
export async function retryWhileActive<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            return await fn();
        } catch (err) {
            if (!/is active for PID/.test((err as Error).message) || Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 200));
        }
    }
}

export interface ApplyOptions {
    /** Apply only the transactions committing before this source LSN (the baseline); default: everything flushed now. */
    upTo?: string;
    /** Record the keys touched by transactions committing at or after this LSN in `tenancy_move.touched`. */
    trackFrom?: string;
}

/**
 * Applies every pending source transaction (up to `upTo`), each in one target transaction with its end LSN, then
 * advances the slot to what the target recorded. Re-running after a kill skips what the target already holds.
 */
export async function applyPending(ctx: Pick<MoveContext, "tenant" | "schema" | "source" | "target">, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const source = await connect(ctx.source);
    const target = await connect(ctx.target);
    try {
        return await applyWith(source, target, ctx.tenant, ctx.schema, opts);
    } finally {
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}

/** {@link applyPending} on open admin connections (session settings of connect.ts on both). */
export async function applyWith(source: Client, target: Client, tenant: string, schema: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
    const move = await moveOf(target, tenant);
    let applied = move.applied;
    const tables = new Map((await tenantTables(target, schema)).map((t) => [t.name, t]));
    const relations = new Map<number, Relation>();
    let transactions = 0;
    let rows = 0;
    const flushed = (await source.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn()::text AS lsn")).rows[0]!.lsn;
    const end = opts.upTo && compareLsn(opts.upTo, flushed) < 0 ? opts.upTo : flushed;
    for (;;) {
        const { txns, complete } = await retryWhileActive(() => peek(source, move.slot, move.publication, end, relations, tables));
        // Transactions applied before a kill (the slot not yet advanced past them) are skipped.
        const pending = txns.filter((txn) => compareLsn(txn.endLsn, applied) > 0);
        for (let i = 0; i < pending.length;) {
            // Small source transactions share a target transaction (each whole, the last one's end recorded with
            // them): the same all-or-nothing per source transaction, far fewer round trips.
            const group: SourceTxn[] = [];
            let changes = 0;
            while (i < pending.length && group.length < GROUP_TXNS && (group.length === 0 || changes + pending[i]!.changes.length <= GROUP_CHANGES)) {
                changes += pending[i]!.changes.length;
                group.push(pending[i++]!);
            }
            const done = await applyGroup(target, tenant, group, tables, opts.trackFrom);
            rows += done.rows;
            transactions += done.transactions;
            if (compareLsn(done.applied, applied) > 0) applied = done.applied!;
        }
        if (complete) {
            // Everything of ours committing before `end` is applied: the target may claim `end` and the slot move there.
            if (compareLsn(end, applied) > 0) {
                await recordIdlePosition(target, tenant, end);
                applied = end;
            }
            await advanceSlot(source, move.slot, applied);
            break;
        }
        await advanceSlot(source, move.slot, applied);
    }
    return { appliedLsn: applied, transactions, rows };
}

/** Source WAL not yet applied: from the slot's confirmed position (or the target's applied one, if further) to now. */
export async function lagBytes(ctx: Pick<MoveContext, "tenant" | "source" | "target">): Promise<number> {
    const source = await connect(ctx.source);
    const target = await connect(ctx.target);
    try {
        return await lagWith(source, target, ctx.tenant);
    } finally {
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}

export async function lagWith(source: Client, target: Client, tenant: string): Promise<number> {
    const move = await moveOf(target, tenant);
    const { rows } = await source.query<{ lag: string | null }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), greatest(confirmed_flush_lsn, $2::pg_lsn))::bigint AS lag
           FROM pg_replication_slots WHERE slot_name = $1`,
        [move.slot, move.applied],
    );
    if (!rows[0]) throw new MoveError(`replication slot ${move.slot} is gone from the source: run --phase abort, then sync again`, 1);
    return Math.max(0, Number(rows[0].lag ?? 0));
}
