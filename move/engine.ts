/**
 * The phases of a move and `all` (prepare, sync, cutover, finish), each resuming from the state recorded on the target.
 * One run per tenant at a time: a session advisory lock on the target, released by the server when the process dies
 * (also on SIGKILL), so a re-run after a kill proceeds at once.
 */
import type { Client } from "pg";
import { abort, type AbortResult } from "./abort";
import { connect } from "./connect";
import { cutover, type CutoverOptions, type CutoverResult } from "./cutover";
import { finish, type FinishResult } from "./finish";
import type { PreflightOptions } from "./preflight";
import { prepare, type PrepareResult } from "./prepare";
import { readState } from "./state";
import { sync, type SyncOptions, type SyncResult } from "./sync";
import { MoveError, type MoveContext, type Phase } from "./types";

export interface EngineOptions {
    /** Where cutover writes the receipt. */
    receiptPath?: string;
    preflight?: PreflightOptions;
    sync?: SyncOptions;
    cutover?: Omit<CutoverOptions, "receiptPath">;
}

export interface EngineResult {
    phase: Phase;
    prepare?: PrepareResult;
    sync?: SyncResult;
    cutover?: CutoverResult;
    finish?: FinishResult;
    abort?: AbortResult;
}

/**
 * Holds the tenant's run lock on the target for the life of this process's connection; throws when another run holds it.
 * Its key differs from state.ts's lockMove (which sync and abort take on their own connections inside this run).
 */
async function lock(ctx: MoveContext): Promise<Client> {
    const client = await connect(ctx.target);
    const { rows } = await client.query("SELECT pg_catalog.pg_try_advisory_lock(hashtext('tenancy-move'), hashtext($1)) AS ok", [ctx.tenant]);
    if (rows[0]!["ok"] !== true) {
        await client.end().catch(() => undefined);
        throw new MoveError(`another run of the move of ${ctx.tenant} is under way on ${ctx.target.label}: wait for it (or end it) and run again`, 1);
    }
    return client;
}

async function phaseOf(ctx: MoveContext): Promise<string | undefined> {
    const client = await connect(ctx.target);
    try {
        return (await readState(client, ctx.tenant))?.phase;
    } finally {
        await client.end().catch(() => undefined);
    }
}

export async function runMove(ctx: MoveContext, phase: Phase, opts: EngineOptions = {}): Promise<EngineResult> {
    const held = await lock(ctx);
    try {
        const result: EngineResult = { phase };
        const cutoverOpts = { ...opts.cutover, ...(opts.receiptPath ? { receiptPath: opts.receiptPath } : {}) };
        switch (phase) {
            case "prepare":
                result.prepare = await prepare(ctx, opts.preflight);
                break;
            case "sync":
                result.sync = await sync(ctx, opts.sync);
                break;
            case "cutover":
                result.cutover = await cutover(ctx, cutoverOpts);
                break;
            case "finish":
                result.finish = await finish(ctx);
                break;
            case "abort":
                result.abort = await abort(ctx);
                break;
            case "all": {
                result.prepare = await prepare(ctx, opts.preflight);
                const before = await phaseOf(ctx);
                if (before === "prepared" || before === "copying" || before === "synced") result.sync = await sync(ctx, opts.sync);
                const now = await phaseOf(ctx);
                if (now === "synced" || now === "stopping" || now === "flipped") result.cutover = await cutover(ctx, cutoverOpts);
                result.finish = await finish(ctx);
                break;
            }
        }
        return result;
    } finally {
        await held.end().catch(() => undefined);
    }
}
