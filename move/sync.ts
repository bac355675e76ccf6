/**
 * `--phase sync`: the publication of the tenant's tables and a slot on the source, the initial copy in the slot's
 * snapshot, the post-data DDL on the target, then apply until the lag is under the threshold.
 *
 * Resumable from any kill: a copy that did not finish (some tables loaded, one half-loaded and rolled back, the
 * snapshot gone with its connection) is redone from scratch, target tables truncated, slot re-created; a finished copy
 * is kept and sync goes on with post-data and apply, which skips what the target already recorded.
 */
import type { Client } from "pg";
import { inForeignKeyOrder, tenantTables, quoteIdent, type TenantTable } from "./catalog";
import { connect, connectReplication } from "./connect";
import { beginInSnapshot, copyTable, createSlotWithSnapshot } from "./copy";
import { applyPostData } from "./ddl";
import { applyWith, lagWith } from "./apply";
import { copiedTables, lockMove, readState, updateState, STATE_SCHEMA, type CopiedTable, type MoveState } from "./state";
import { MoveError, type MoveContext } from "./types";

export interface SyncOptions {
    /** Return once the lag is at most this many bytes of source WAL. Default: `ctx.maxLagBytes`. */
    untilLagBytes?: number;
    /** Give up waiting for the lag after this long (ms); default 10 minutes. */
    timeoutMs?: number;
}

export interface SyncResult {
    /** Whether this run made the initial copy (false: it was already complete). */
    copied: boolean;
    tables: CopiedTable[];
    appliedLsn: string;
    lagBytes: number;
}

type SyncContext = Pick<MoveContext, "tenant" | "schema" | "source" | "target" | "ownerRole" | "progress" | "maxLagBytes">;

/** Phases from which sync may (re)start; later ones belong to cutover. */
const SYNCABLE: readonly MoveState["phase"][] = ["prepared", "copying", "synced"];

/**
 * Tables sync must not take on, each with its remedy: without a key (or with REPLICA IDENTITY NOTHING), a publication
 * would make the app's own UPDATEs and DELETEs fail on the source, and verify could not order its rows; an UNLOGGED
 * table's changes never reach the slot; under FORCE ROW LEVEL SECURITY the admin would copy and change only the rows policies show it.
 */
export function syncBlockers(tables: TenantTable[]): string[] {
    const out: string[] = [];
    for (const t of tables) {
        if (t.key.length === 0) out.push(`${t.name}: no primary key (remedy: add a primary key before the move)`);
        else if (t.replicaIdentity === "n") out.push(`${t.name}: REPLICA IDENTITY NOTHING (remedy: ALTER TABLE ${t.name} REPLICA IDENTITY DEFAULT)`);
        if (t.unlogged) out.push(`${t.name}: UNLOGGED, its changes are not in the WAL (remedy: ALTER TABLE ${t.name} SET LOGGED before the move)`);
        if (t.rowSecurity === "forced") {
            out.push(`${t.name}: FORCE ROW LEVEL SECURITY hides rows from the move (remedy: ALTER TABLE ${t.name} NO FORCE ROW LEVEL SECURITY until the move is finished)`);
        }
    }
    return out;
}

/** Makes the admin a member of `role` (PG15 CREATEROLE allows it): table ownership acts through membership. */
export async function ensureMember(client: Client, role: string): Promise<void> {
    const { rows } = await client.query<{ member: boolean }>("SELECT pg_has_role(current_user, $1, 'USAGE') AS member", [role]);
    if (!rows[0]!.member) await client.query(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
}

/**
 * The publication of exactly the tenant's tables, partitioned ones through their root (one relation per table on the
 * target). `FOR TABLE` as a member of the tables' owner: the only form a non-superuser may create.
 */
export async function ensurePublication(source: Client, publication: string, tables: TenantTable[]): Promise<void> {
    const list = tables.map((t) => t.name).join(", ");
    const exists = (await source.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication])).rowCount;
    try {
        if (!exists) {
            await source.query(`CREATE PUBLICATION ${quoteIdent(publication)}${list ? ` FOR TABLE ${list}` : ""} WITH (publish_via_partition_root = true)`);
        } else if (list) {
            await source.query(`ALTER PUBLICATION ${quoteIdent(publication)} SET TABLE ${list}`);
        }
    } catch (err) {
        const msg = (err as Error).message;
        if (/permission denied for database/.test(msg)) {
            throw new MoveError(`cannot create publication ${publication} on the source: ${msg} (remedy: GRANT CREATE ON DATABASE <db> TO <admin>)`, 1);
        }
        throw err;
    }
}

/** Drops the slot if it exists, waiting for (then ending) a session still holding it, e.g. a killed run's backend. */
export async function dropSlot(source: Client, slot: string): Promise<boolean> {
    const deadline = Date.now() + 10_000;
    for (;;) {
        const { rows } = await source.query<{ pid: number | null }>("SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1", [slot]);
        if (!rows[0]) return false;
        if (rows[0].pid === null) {
            try {
                await source.query("SELECT pg_drop_replication_slot($1)", [slot]);
                return true;
            } catch (err) {
                if (!/is active for PID|does not exist/.test((err as Error).message)) throw err;
                continue;
            }
        }
        // The engine's own backend (a peek of a run that was killed) ends soon; past the deadline it is ended.
        if (Date.now() > deadline) await source.query("SELECT pg_terminate_backend($1, 5000)", [rows[0].pid]);
        await new Promise((r) => setTimeout(r, 200));
    }
}

/**
 * Whether the slot exists and can still be read: one the server invalidated for retaining more WAL than
 * max_slot_wal_keep_size allows (wal_status `lost`) has lost changes, and only a new copy recovers from that.
 */
async function slotUsable(source: Client, slot: string): Promise<"usable" | "missing" | "lost"> {
    const { rows } = await source.query<{ wal_status: string | null }>("SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", [slot]);
    if (!rows[0]) return "missing";
    return rows[0].wal_status === "lost" ? "lost" : "usable";
}

/**
 * The initial copy, from scratch: target tables emptied, state reset, a new slot whose exported snapshot every table
 * is copied in. Each table commits on its own with its `copied` row.
 */
async function initialCopy(ctx: SyncContext, source: Client, target: Client, state: MoveState, tables: TenantTable[]): Promise<CopiedTable[]> {
    ctx.progress({ kind: "step", message: `initial copy of ${tables.length} table(s) from ${ctx.source.label}` });
    await dropSlot(source, state.slot);
    const targetTables = await tenantTables(target, ctx.schema);
    const missing = tables.filter((t) => !targetTables.some((d) => d.name === t.name));
    if (missing.length) {
        throw new MoveError(`the target lacks table(s) ${missing.map((t) => t.name).join(", ")}: run --phase prepare first`, 1);
    }
    await target.query("BEGIN");
    if (targetTables.length) await target.query(`TRUNCATE ${targetTables.map((t) => t.name).join(", ")}`);
    await target.query(`DELETE FROM ${STATE_SCHEMA}.copied WHERE tenant = $1`, [ctx.tenant]);
    await target.query(`DELETE FROM ${STATE_SCHEMA}.touched WHERE tenant = $1`, [ctx.tenant]);
    await target.query(`UPDATE ${STATE_SCHEMA}.moves SET phase = 'copying', consistent_lsn = NULL, applied_lsn = NULL WHERE tenant = $1`, [ctx.tenant]);
    await target.query("COMMIT");

    const replication = await connectReplication(ctx.source);
    const reader = await connect(ctx.source);
    try {
        // The slot's consistent point waits for every transaction open on the source server (any tenant's) to end.
        ctx.progress({ kind: "step", message: `creating slot ${state.slot}: waiting for the source's open transactions to end` });
        const slot = await createSlotWithSnapshot(replication, state.slot);
        // The copy shows the source as of the consistent point; apply starts from there.
        await updateState(target, ctx.tenant, { consistentLsn: slot.consistentLsn, appliedLsn: slot.consistentLsn });
        await beginInSnapshot(reader, slot.snapshot);
        const copied: CopiedTable[] = [];
        for (const t of await inForeignKeyOrder(reader, tables)) {
            const done = await copyTable(reader, target, ctx.tenant, t, (rows, bytes) => ctx.progress({ kind: "table", table: t.name, rows, bytes, done: false }));
            ctx.progress({ kind: "table", table: t.name, rows: done.rows, bytes: done.bytes, done: true });
            copied.push(done);
        }
        await reader.query("COMMIT");
        return copied;
    } finally {
        await reader.end().catch(() => undefined);
        await replication.end().catch(() => undefined);
    }
}

/**
 * Sync: copy (unless a complete copy is recorded and its slot exists), post-data, then apply until the lag is at most
 * `untilLagBytes`. Safe to re-run at any point before cutover.
 */
export async function sync(ctx: SyncContext, opts: SyncOptions = {}): Promise<SyncResult> {
    const untilLag = opts.untilLagBytes ?? ctx.maxLagBytes;
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    const source = await connect(ctx.source);
    const target = await connect(ctx.target);
    try {
        const state = await readState(target, ctx.tenant);
        if (!state) throw new MoveError(`tenant ${ctx.tenant} is not prepared on ${ctx.target.label}: run --phase prepare first`, 1);
        await lockMove(target, ctx.tenant);
        if (!SYNCABLE.includes(state.phase)) {
            throw new MoveError(`tenant ${ctx.tenant}'s move is past sync (phase ${state.phase}): run --phase cutover or --phase finish`, 1);
        }
        await ensureMember(source, ctx.ownerRole);
        await ensureMember(target, ctx.ownerRole);
        const tables = await tenantTables(source, ctx.schema);
        const blockers = syncBlockers(tables);
        if (blockers.length) throw new MoveError(`tenant ${ctx.tenant}: ${blockers.length} table(s) cannot be replicated; nothing was changed`, 1, blockers);
        await ensurePublication(source, state.publication, tables);

        const recorded = new Set((await copiedTables(target, ctx.tenant)).map((c) => c.table));
        const slot = await slotUsable(source, state.slot);
        const copyComplete = state.consistentLsn !== null && slot === "usable" && tables.every((t) => recorded.has(t.name));
        let copied = false;
        if (!copyComplete) {
            if (slot === "lost") ctx.progress({ kind: "step", message: `slot ${state.slot} was invalidated by the source (max_slot_wal_keep_size): copying again` });
            else if (state.phase === "synced") ctx.progress({ kind: "step", message: `slot ${state.slot} is gone from the source: copying again` });
            await initialCopy(ctx, source, target, state, tables);
            copied = true;
        }
        await applyPostData(ctx);
        await updateState(target, ctx.tenant, { phase: "synced" });

        ctx.progress({ kind: "step", message: "applying changes until the lag is below the threshold" });
        let appliedLsn = "";
        let lag = Number.POSITIVE_INFINITY;
        for (;;) {
            const r = await applyWith(source, target, ctx.tenant, ctx.schema);
            appliedLsn = r.appliedLsn;
            lag = await lagWith(source, target, ctx.tenant);
            ctx.progress({ kind: "lag", bytes: lag });
            if (lag <= untilLag) break;
            if (Date.now() > deadline) throw new MoveError(`lag still ${lag} bytes (threshold ${untilLag}) after the timeout: run sync again`, 1);
            if (r.transactions === 0) await new Promise((res) => setTimeout(res, 200));
        }
        // Between runs the slot keeps every WAL segment of the source server from its position on.
        ctx.progress({ kind: "step", message: `synced; slot ${state.slot} retains the source's WAL from here until cutover or abort: do not leave it for long` });
        return { copied, tables: await copiedTables(target, ctx.tenant), appliedLsn, lagBytes: lag };
    } finally {
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}
