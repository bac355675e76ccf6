/**
 * `npm run bench -- --moves [--move-mb 1024]`: one tenant of `--move-mb` MiB moved between two real PostgreSQL 15
 * servers on this machine (shared tier → an empty instance database), with the tenant's app writing throughout until the
 * cutover, as `npm run move -- --phase all` runs it. Measures the write pause against the limit (it must not grow with the
 * tenant's size), and the copy against an honest floor: the same schema through stock `pg_dump | psql` (schema, data,
 * indexes and keys; no snapshot slot, no verification, no catch-up), which no move can beat.
 *
 * The tenant is tests/move/fixture.ts's realistic tenant (every column type the engine must carry) at a scale that reaches
 * the size; a second, small tenant shares the source. The run fails (exit 1) if a write acknowledged before the cutover is
 * missing on the target or the pause exceeds the limit: a bench that passes with lost rows would be worse than none.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Client } from "pg";
import { runMove } from "../move/engine";
import type { ProgressEvent } from "../move/types";
import { createSharedTier, createTenant, lostWrites, moveContext, writer } from "../tests/move/fixture";
import { PG15_BIN, startPg15, type Pg15Server } from "./pgServer";

/** MiB of the fixture tenant at scale 1 (tables, TOAST and indexes; measured: 30.25). */
const FIXTURE_MIB_PER_SCALE = 30;
export const DEFAULT_MOVE_MIB = 1024;
const SLUG = "bigco";

export interface MoveBench {
    mib: number;
    rows: number;
    loadMs: number;
    prepareMs: number;
    syncMs: number;
    copiedBytes: number;
    cutoverMs: number;
    writePauseMs: number;
    maxPauseMs: number;
    finishMs: number;
    floorMs: number;
    writesDuringMove: number;
    lost: number;
    verified: boolean;
}

async function query<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
        return (await c.query<T>(sql, params)).rows;
    } finally {
        await c.end();
    }
}

async function schemaSize(url: string, schema: string): Promise<{ bytes: number; rows: number }> {
    const [r] = await query<{ bytes: string; rows: string }>(url,
        `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes, coalesce(sum(c.reltuples) FILTER (WHERE c.relkind = 'r'), 0) AS rows
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`, [schema]);
    return { bytes: Number(r!.bytes), rows: Math.round(Number(r!.rows)) };
}

/** `pg_dump -n <schema> | psql` from the source into a fresh database of the target: the floor of any copy. */
function floorCopy(source: Pg15Server, target: Pg15Server, schema: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const dump = spawn(join(PG15_BIN, "pg_dump"), ["--no-owner", "--no-privileges", "-n", schema, source.superuserUrl()], { stdio: ["ignore", "pipe", "pipe"] });
        const load = spawn(join(PG15_BIN, "psql"), ["-q", "-v", "ON_ERROR_STOP=1", target.superuserUrl("floor")], { stdio: ["pipe", "ignore", "pipe"] });
        dump.stdout.pipe(load.stdin);
        let err = "";
        dump.stderr.on("data", (d: Buffer) => (err += d.toString()));
        load.stderr.on("data", (d: Buffer) => (err += d.toString()));
        let done = 0;
        const finished = (code: number | null): void => {
            if (code !== 0) return reject(new Error(`floor copy failed: ${err.trim()}`));
            if (++done === 2) resolve(Date.now() - started);
        };
        dump.once("close", finished);
        load.once("close", finished);
    });
}

/** Runs the move bench; progress goes to stderr. */
export async function benchMove(mib: number, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<MoveBench> {
    const [source, target] = await Promise.all([startPg15(), startPg15()]);
    try {
        // Fractions of the fixture too: tests/plan/bench.test.ts runs a 2 MiB move to prove the bench still runs.
        const scale = Math.max(0.02, mib / FIXTURE_MIB_PER_SCALE);
        log(`loading a ${mib} MiB tenant (fixture scale ${scale.toFixed(2)}) …`);
        let t = Date.now();
        await createSharedTier(source.adminUrl());
        const tenant = await createTenant(source.adminUrl(), SLUG, { scale });
        await createTenant(source.adminUrl(), "other", { scale: 0.05 });
        await query(source.superuserUrl(), "VACUUM ANALYZE");
        const loadMs = Date.now() - t;
        const size = await schemaSize(source.superuserUrl(), tenant.schema);
        log(`loaded ${(size.bytes / 1048576).toFixed(0)} MiB, ~${size.rows} rows in ${(loadMs / 1000).toFixed(1)} s`);

        const events: ProgressEvent[] = [];
        const ctx = moveContext(source.adminUrl(), target.adminUrl(), SLUG, events);
        const app = writer(tenant.runtimeUrl, { pauseMs: 20 });
        t = Date.now();
        await runMove(ctx, "prepare");
        const prepareMs = Date.now() - t;
        t = Date.now();
        await runMove(ctx, "sync");
        const syncMs = Date.now() - t;
        const copiedBytes = events.reduce((sum, e) => (e.kind === "table" && e.done ? sum + e.bytes : sum), 0);
        log(`prepare ${(prepareMs / 1000).toFixed(1)} s, sync ${(syncMs / 1000).toFixed(1)} s (${(copiedBytes / 1048576).toFixed(0)} MiB copied)`);
        t = Date.now();
        const cut = await runMove(ctx, "cutover");
        const cutoverMs = Date.now() - t;
        const report = await app.stop();
        const receipt = cut.cutover!.receipt;
        log(`cutover ${(cutoverMs / 1000).toFixed(1)} s, write pause ${receipt.writePauseMs} ms, verified ${receipt.verified}`);
        const targetClient = new Client({ connectionString: target.superuserUrl() });
        await targetClient.connect();
        const lost = await lostWrites(targetClient, tenant.schema, report).finally(() => targetClient.end());
        t = Date.now();
        await runMove(ctx, "finish");
        const finishMs = Date.now() - t;

        log("floor: pg_dump | psql of the same schema …");
        await query(target.superuserUrl(), "CREATE DATABASE floor");
        const floorMs = await floorCopy(source, target, tenant.schema);
        log(`floor ${(floorMs / 1000).toFixed(1)} s`);
        return {
            mib: size.bytes / 1048576, rows: size.rows, loadMs, prepareMs, syncMs, copiedBytes, cutoverMs,
            writePauseMs: receipt.writePauseMs, maxPauseMs: ctx.maxPauseMs, finishMs, floorMs,
            writesDuringMove: report.acknowledged, lost: lost.length, verified: receipt.verified,
        };
    } finally {
        await Promise.all([source.stop(), target.stop()]);
    }
}

const s = (ms: number): string => (ms / 1000).toFixed(1);

/** The `## Moving a tenant` section of bench/RESULTS.md. */
export function moveSection(b: MoveBench): string {
    const mibPerS = (bytes: number, ms: number): string => (bytes / 1048576 / (ms / 1000)).toFixed(1);
    const tenantBytes = b.mib * 1048576;
    return [
        "## Moving a tenant",
        "",
        "Generated by `npm run bench -- --moves` (tools/benchMoves.ts): one realistic tenant (tests/move/fixture.ts: identity,",
        "serial, jsonb, bytea, numeric, arrays, timestamptz, TOAST, a partitioned table, foreign keys) moved from a shared-tier",
        "PostgreSQL 15 to an empty one on the same machine by `npm run move`'s engine, phase by phase, while the tenant's app",
        "writes (a transaction every 20 ms) until the cutover. **Floor**: the same schema through stock `pg_dump | psql`",
        "(data, indexes and keys; no slot, no catch-up, no verification). Sizes are the tenant's tables, TOAST and indexes.",
        "",
        "| Tenant (MiB) | Rows | Prepare (s) | Sync: copy and catch-up (s) | Copy rate (MiB/s) | Floor (s) | Floor rate (MiB/s) | Sync ÷ floor | Cutover (s) | Write pause (ms) | Limit (ms) | App writes during the move | Lost | Verified |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--:|",
        `| ${b.mib.toFixed(0)} | ${b.rows} | ${s(b.prepareMs)} | ${s(b.syncMs)} | ${mibPerS(tenantBytes, b.syncMs)} | ${s(b.floorMs)} | ${mibPerS(tenantBytes, b.floorMs)} | ${(b.syncMs / b.floorMs).toFixed(2)}× | ${s(b.cutoverMs)} | ${b.writePauseMs} | ${b.maxPauseMs} | ${b.writesDuringMove} | ${b.lost} | ${b.verified ? "yes" : "NO"} |`,
        "",
        "The cutover's own time (baseline hashes, catch-up, pause) is mostly spent before writes stop: only chunks touched since",
        "the baseline are hashed again inside the pause, so the pause depends on the write rate, not on the tenant's size.",
        "",
    ].join("\n");
}

/** `text` with its `## Moving a tenant` section replaced by (or, when absent, followed by) `section`. */
export function withMoveSection(text: string, section: string): string {
    const start = text.indexOf("## Moving a tenant");
    if (start < 0) return `${text.trimEnd()}\n\n${section}`;
    const next = text.indexOf("\n## ", start + 1);
    return text.slice(0, start) + section + (next < 0 ? "" : text.slice(next + 1));
}
