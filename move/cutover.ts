/**
 * `--phase cutover`: the write pause. Before it: catch up, take the verification baseline (a mismatch there fails with
 * exit 2 before any write is stopped), estimate the pause and refuse (exit 1, nothing stopped) when it would exceed
 * `--max-pause-ms`. In it: the tenant's roles lose LOGIN on the source and their sessions end, the last changes are
 * applied, every target sequence is set to the source's value, the touched chunks are verified, the registry flips.
 * A verification failure gives the roles their logins back (exit 2, nothing flipped).
 *
 * Every step is recorded in `tenancy_move.moves` before it acts, so a killed cutover resumes from its phase: `stopping`
 * finishes the pause (verifying everything, the baseline being gone with the process), `flipped` repeats the
 * (idempotent) flip and writes the receipt again. It never gives the source its writes back except on a failed verification.
 */
import type { Client } from "pg";
import { applyWith, lagWith } from "./apply";
import { tenantSequences, tenantTables } from "./catalog";
import { connect, ident } from "./connect";
import { restoreTriggers } from "./ddl";
import { dropSlot } from "./sync";
import { receiptSide, writeReceipt } from "./receipt";
import { readState, updateState, STATE_SCHEMA, type MoveState } from "./state";
import { MoveError, type MoveContext, type Receipt, type ReceiptSequence } from "./types";
import { baseline, chunkCount, compareTables, fullHashes, mismatches, recheck, refresh, touchedChunks, verifyTables, type TableResult } from "./verify";

/** What the pause costs besides applying and hashing: ending sessions, sequences, triggers, the flip. */
export const FIXED_PAUSE_MS = 500;
/** Safety factor on the measured parts of the estimate (apply rate, chunk cost): machines are shared and noisy. */
const ESTIMATE_MARGIN = 1.5;
/** Times the baseline is moved forward before the pause at most (each one re-hashes what changed during the last). */
const MAX_REFRESHES = 3;
/** Assumed apply rate (bytes of source WAL per ms) when too little was applied to measure one. */
const MIN_APPLY_BYTES_PER_MS = 2_000;

export interface CutoverOptions {
    /** Write the receipt here (env mode: tenants/<env>/.moves/<slug>.json). */
    receiptPath?: string;
    chunkRows?: number;
    /** Tests: runs inside the pause after the writes stopped, before the final apply and verification. */
    duringPause?: () => Promise<void>;
}

export interface CutoverResult {
    receipt: Receipt;
    /** What the flip did ("" in explicit-URL mode: no registry). */
    flipped: string;
    estimatedPauseMs?: number;
}

type Ctx = Pick<MoveContext, "tenant" | "schema" | "source" | "target" | "ownerRole" | "runtimeRole" | "maxPauseMs" | "maxLagBytes" | "flip" | "progress" | "now">;

const step = (ctx: Ctx, message: string): void => ctx.progress({ kind: "step", message });
const iso = (ctx: Ctx, d?: Date | null): string => (d ?? ctx.now?.() ?? new Date()).toISOString();

/** The receipt kept on the target until finish: a re-run after a kill in `flipped` writes it again. */
async function ensureReceiptTable(target: Client): Promise<void> {
    await target.query(`CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.receipts (tenant text PRIMARY KEY, receipt jsonb NOT NULL, flipped bool NOT NULL DEFAULT false)`);
    await target.query(`REVOKE ALL ON ${STATE_SCHEMA}.receipts FROM PUBLIC`);
}

/**
 * The baseline's snapshot slot waits for every transaction open on the source SERVER (any tenant's) to end: says so when
 * one has been open a while, so a stuck cutover names what it waits for.
 */
async function reportOpenTransactions(ctx: Ctx, source: Client): Promise<void> {
    const { rows } = await source.query(
        `SELECT count(*)::int AS n, max(extract(epoch FROM now() - xact_start))::int AS oldest, (array_agg(pid ORDER BY xact_start))[1] AS pid
           FROM pg_catalog.pg_stat_activity WHERE xact_start < now() - interval '5 seconds' AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL`,
    );
    const r = rows[0]!;
    if ((r["n"] as number) > 0) {
        step(ctx, `waiting for ${r["n"]} transaction(s) open on the source to end (oldest ${r["oldest"]} s, pid ${r["pid"]}): the verification snapshot needs it`);
    }
}

/** Takes LOGIN from the tenant's roles on the source and ends their sessions, waiting until none is left. */
export async function stopWrites(source: Client, roles: string[]): Promise<number> {
    for (const role of roles) await source.query(`ALTER ROLE ${ident(role)} NOLOGIN`);
    let ended = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
        // pg_terminate_backend(pid, timeout) waits for the backend to exit: a commit cannot land after it returns.
        const { rows } = await source.query(
            "SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid, 1000))::int AS n, count(*)::int AS seen FROM pg_catalog.pg_stat_activity WHERE usename = ANY($1) AND pid <> pg_backend_pid()",
            [roles],
        );
        ended += rows[0]!["n"] as number;
        if (rows[0]!["seen"] === 0) return ended;
        if (Date.now() > deadline) throw new MoveError(`sessions of ${roles.join(", ")} on the source do not end: writes could still land`, 1);
        await new Promise((r) => setTimeout(r, 20));
    }
}

/** Gives the roles the logins they had before the pause. */
export async function restoreLogins(source: Client, logins: Record<string, boolean>): Promise<void> {
    for (const [role, login] of Object.entries(logins)) {
        if (login) await source.query(`ALTER ROLE ${ident(role)} LOGIN`);
    }
}

/** Every sequence of the tenant's schema on the target set to the source's value (next value past it). */
export async function copySequences(source: Client, target: Client, schema: string): Promise<ReceiptSequence[]> {
    const out: ReceiptSequence[] = [];
    for (const s of await tenantSequences(source, schema)) {
        const { rows } = await source.query(`SELECT last_value::text AS v, is_called FROM ${s.name}`);
        const value = rows[0]!["v"] as string;
        const called = rows[0]!["is_called"] as boolean;
        await target.query("SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)", [s.name, value, called]);
        const after = (await target.query(`SELECT last_value::text AS v FROM ${s.name}`)).rows[0]!["v"] as string;
        out.push({ name: s.sequence, source: Number(value), target: Number(after) });
    }
    return out;
}

function buildReceipt(ctx: Ctx, state: MoveState, tables: TableResult[], sequences: ReceiptSequence[], pauseMs: number, verified: boolean): Receipt {
    return {
        tenant: ctx.tenant,
        schema: ctx.schema,
        from: receiptSide(ctx.source),
        to: receiptSide(ctx.target),
        startedAt: iso(ctx, state.startedAt),
        finishedAt: iso(ctx),
        writePauseMs: Math.round(pauseMs),
        tables: tables.map((t) => ({ name: t.name, sourceRows: t.sourceRows, targetRows: t.targetRows, sourceHash: t.sourceHash, targetHash: t.targetHash })),
        sequences,
        verified,
    };
}

/**
 * After the flip nothing needs the source's slot and publication (its writes are stopped): dropped at once, so a shared
 * source retired without `finish` (DROP SCHEMA does not drop a slot) never holds the cell's WAL. Idempotent.
 */
async function dropReplication(source: Client, state: MoveState): Promise<void> {
    await dropSlot(source, state.slot);
    if (((await source.query("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", [state.publication])).rowCount ?? 0) > 0) {
        await source.query(`DROP PUBLICATION ${ident(state.publication)}`);
    }
}

/**
 * The registry flip. Verified data is on the target and the source's writes are stopped, so a failing flip (AWS
 * throttling, expired credentials) is retried by running cutover again, which resumes here: said in plain words.
 */
async function flipOrExplain(ctx: Ctx): Promise<string> {
    try {
        return (await ctx.flip?.()) ?? "";
    } catch (err) {
        throw new MoveError(`the registry flip failed: ${(err as Error).message}. The target is verified and the source's writes stay stopped: run --phase cutover again to retry the flip`, 1);
    }
}

/** Resumes a cutover killed after the verified flip was recorded: flips again (idempotent), writes the receipt. */
async function resumeFlipped(ctx: Ctx, source: Client, target: Client, opts: CutoverOptions): Promise<CutoverResult> {
    const { rows } = await target.query(`SELECT receipt, flipped FROM ${STATE_SCHEMA}.receipts WHERE tenant = $1`, [ctx.tenant]);
    if (!rows[0]) throw new MoveError(`tenant ${ctx.tenant}'s move is flipped but its receipt is gone from ${ctx.target.label}`, 1);
    const receipt = rows[0]["receipt"] as Receipt;
    const state = (await readState(target, ctx.tenant))!;
    const flipped = await flipOrExplain(ctx);
    if (rows[0]["flipped"] !== true) {
        receipt.finishedAt = iso(ctx);
        receipt.writePauseMs = Math.round(Date.now() - (state.writesStoppedAt?.getTime() ?? Date.now()));
        await target.query(`UPDATE ${STATE_SCHEMA}.receipts SET receipt = $2, flipped = true WHERE tenant = $1`, [ctx.tenant, JSON.stringify(receipt)]);
    }
    await dropReplication(source, state);
    if (opts.receiptPath) writeReceipt(opts.receiptPath, receipt);
    step(ctx, `already cut over${flipped ? ` (${flipped})` : ""}`);
    return { receipt, flipped };
}

export async function cutover(ctx: Ctx, opts: CutoverOptions = {}): Promise<CutoverResult> {
    const source = await connect(ctx.source);
    const target = await connect(ctx.target);
    try {
        let state = await readState(target, ctx.tenant);
        if (!state) throw new MoveError(`tenant ${ctx.tenant} has no move on ${ctx.target.label}: run --phase prepare and sync first`, 1);
        if (state.phase === "prepared" || state.phase === "copying") throw new MoveError(`tenant ${ctx.tenant}'s move is in phase ${state.phase}: run --phase sync first`, 1);
        if (state.phase === "finished") throw new MoveError(`tenant ${ctx.tenant}'s move is finished`, 1);
        await ensureReceiptTable(target);
        if (state.phase === "flipped") return await resumeFlipped(ctx, source, target, opts);

        const roles = [ctx.ownerRole, ctx.runtimeRole];
        let base: Awaited<ReturnType<typeof baseline>> | undefined;
        let estimate: number | undefined;
        if (state.phase === "synced") {
            // Catch up, measuring the apply rate for the estimate.
            const lag0 = await lagWith(source, target, ctx.tenant);
            const t0 = Date.now();
            await applyWith(source, target, ctx.tenant, ctx.schema);
            const rate = Math.max(MIN_APPLY_BYTES_PER_MS, lag0 / Math.max(1, Date.now() - t0));

            // Statistics for the freshly loaded target (autovacuum may not have come yet): the pause's queries plan on them.
            for (const t of await tenantTables(target, ctx.schema)) await target.query(`ANALYZE ${t.name}`);
            await reportOpenTransactions(ctx, source);
            step(ctx, "verification baseline (source in an exported snapshot, target applied to the same point)");
            await target.query(`DELETE FROM ${STATE_SCHEMA}.touched WHERE tenant = $1`, [ctx.tenant]);
            base = await baseline({
                source: ctx.source,
                target: ctx.target,
                schema: ctx.schema,
                slot: state.slot,
                chunkRows: opts.chunkRows,
                applyTo: async (lsn) => {
                    await applyWith(source, target, ctx.tenant, ctx.schema, { upTo: lsn });
                    await updateState(target, ctx.tenant, { baselineLsn: lsn });
                },
            });
            const bad = mismatches(base.results);
            if (bad.length) {
                const receipt = buildReceipt(ctx, state, base.results, [], 0, false);
                if (opts.receiptPath) writeReceipt(opts.receiptPath, receipt);
                throw new MoveError(`verification failed at the baseline, before any write was stopped: the target differs from the source (changed behind the tool's back?); the source stays writable, nothing was flipped`, 2, bad);
            }
            // From the baseline on, apply records every key it touches; catch up once more before the estimate.
            await applyWith(source, target, ctx.tenant, ctx.schema, { trackFrom: base.lsn });
            // Chunks touched while the baseline ran would all be re-hashed in the pause: move the baseline forward while
            // that set shrinks (the open last chunk of each table is always re-hashed and does not count).
            const always = base.tables.length;
            let chunks = chunkCount(await touchedChunks(target, ctx.tenant, base));
            // Cost of one chunk in the pause (both sides, their shared machine): the baseline's sample, or what the last
            // refresh took per chunk it re-hashed (snapshot, apply and lookup included), whichever is higher.
            let chunkMs = base.chunkMs * 2;
            for (let i = 0; i < MAX_REFRESHES && chunks > always; i++) {
                const b = base;
                const t1 = Date.now();
                const refreshed = await refresh({
                    source: ctx.source, target, tenant: ctx.tenant, slot: state.slot,
                    applyTo: async (lsn) => {
                        await applyWith(source, target, ctx.tenant, ctx.schema, { upTo: lsn, trackFrom: b.lsn });
                    },
                }, b);
                const bad = mismatches(refreshed.results);
                if (bad.length) throw new MoveError(`verification failed before any write was stopped: the target differs from the source (changed behind the tool's back?); the source stays writable, nothing was flipped`, 2, bad);
                await updateState(target, ctx.tenant, { baselineLsn: b.lsn });
                await applyWith(source, target, ctx.tenant, ctx.schema, { trackFrom: b.lsn });
                chunkMs = Math.max(chunkMs, (Date.now() - t1) / Math.max(1, refreshed.chunks));
                const next = chunkCount(await touchedChunks(target, ctx.tenant, b));
                step(ctx, `baseline moved forward: ${refreshed.chunks} chunk(s) re-hashed, ${next} touched since`);
                chunks = next;
                // Stop when it no longer shrinks: the app touches as much as a refresh takes to re-hash.
                if (next >= refreshed.chunks) break;
            }
            const lag = await lagWith(source, target, ctx.tenant);
            // With a margin: a pause over the limit must be refused here, before any write stops.
            estimate = Math.round(FIXED_PAUSE_MS + ESTIMATE_MARGIN * (lag / rate + chunks * chunkMs));
            step(ctx, `estimated write pause ${estimate} ms (lag ${lag} bytes, ${chunks} chunk(s) to re-verify, limit ${ctx.maxPauseMs} ms)`);
            if (estimate > ctx.maxPauseMs) {
                throw new MoveError(`the write pause would take about ${estimate} ms, over --max-pause-ms ${ctx.maxPauseMs}: nothing was stopped; run --phase sync again (or lower the tenant's write rate) and retry`, 1);
            }

            // The pause starts here. The phase comes first: a kill from now on resumes the pause, never forgets it.
            const logins = state.logins ?? Object.fromEntries(
                (await source.query("SELECT rolname, rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = ANY($1)", [roles])).rows.map((r) => [r["rolname"] as string, r["rolcanlogin"] as boolean]),
            );
            await updateState(target, ctx.tenant, { phase: "stopping", logins, writesStoppedAt: ctx.now?.() ?? new Date() });
            state = (await readState(target, ctx.tenant))!;
        }

        // Phase `stopping`: stop writes (again, after a kill), apply everything, verify, flip.
        const stoppedAt = state.writesStoppedAt?.getTime() ?? Date.now();
        const ended = await stopWrites(source, roles);
        const since = (): string => `+${Date.now() - stoppedAt} ms`;
        step(ctx, `writes stopped: ${roles.join(", ")} NOLOGIN on the source, ${ended} session(s) ended (${since()})`);
        await opts.duringPause?.();
        const end = (await source.query("SELECT pg_catalog.pg_current_wal_lsn()::text AS lsn")).rows[0]!["lsn"] as string;
        // Apply reads what is flushed: a commit of a session with synchronous_commit off is flushed by the WAL writer soon.
        for (let i = 0; i < 100; i++) {
            if ((await source.query("SELECT pg_catalog.pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok", [end])).rows[0]!["ok"] === true) break;
            await new Promise((r) => setTimeout(r, 20));
        }
        const applied = await applyWith(source, target, ctx.tenant, ctx.schema, { upTo: end, ...(base ? { trackFrom: base.lsn } : state.baselineLsn ? { trackFrom: state.baselineLsn } : {}) });
        step(ctx, `last changes applied: ${applied.transactions} transaction(s), ${applied.rows} row(s) (${since()})`);
        const sequences = await copySequences(source, target, ctx.schema);
        let results: TableResult[];
        if (base) {
            results = await recheck(source, target, ctx.tenant, base);
        } else {
            step(ctx, "resumed in the pause: verifying every chunk");
            results = compareTables(await fullHashes(source, target, await verifyTables(source, ctx.schema), opts.chunkRows));
        }
        step(ctx, `verified ${results.length} table(s), ${sequences.length} sequence(s) set (${since()})`);
        const bad = mismatches(results);
        if (bad.length) {
            await restoreLogins(source, state.logins ?? {});
            await updateState(target, ctx.tenant, { phase: "synced", logins: null, writesStoppedAt: null });
            const receipt = buildReceipt(ctx, state, results, sequences, Date.now() - stoppedAt, false);
            if (opts.receiptPath) writeReceipt(opts.receiptPath, receipt);
            throw new MoveError(`verification failed: the target differs from the source; the source's roles may log in again, nothing was flipped`, 2, bad);
        }
        await restoreTriggers(source, target, ctx.schema, ctx.ownerRole);

        // Verified: record the receipt and the phase together, then flip.
        const receipt = buildReceipt(ctx, state, results, sequences, Date.now() - stoppedAt, true);
        await target.query("BEGIN");
        await target.query(
            `INSERT INTO ${STATE_SCHEMA}.receipts (tenant, receipt, flipped) VALUES ($1, $2, false) ON CONFLICT (tenant) DO UPDATE SET receipt = EXCLUDED.receipt, flipped = false`,
            [ctx.tenant, JSON.stringify(receipt)],
        );
        await updateState(target, ctx.tenant, { phase: "flipped" });
        await target.query("COMMIT");
        const flipped = await flipOrExplain(ctx);
        receipt.writePauseMs = Math.round(Date.now() - stoppedAt);
        receipt.finishedAt = iso(ctx);
        await target.query(`UPDATE ${STATE_SCHEMA}.receipts SET receipt = $2, flipped = true WHERE tenant = $1`, [ctx.tenant, JSON.stringify(receipt)]);
        await dropReplication(source, state);
        if (opts.receiptPath) writeReceipt(opts.receiptPath, receipt);
        step(ctx, `cut over: write pause ${receipt.writePauseMs} ms${flipped ? `; ${flipped}` : ""}`);
        if (receipt.writePauseMs > ctx.maxPauseMs) step(ctx, `warning: the write pause (${receipt.writePauseMs} ms) exceeded --max-pause-ms ${ctx.maxPauseMs}`);
        return { receipt, flipped, ...(estimate !== undefined ? { estimatedPauseMs: estimate } : {}) };
    } finally {
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}
