/**
 * `--phase finish`: after a verified cutover, drops the replication objects on both sides (the slot, which would
 * otherwise hold the source's WAL forever, and the publication) and the move's state on the target. The source's data
 * stays in place with the tenant's roles NOLOGIN (read-only for the tenant: nothing can write) until the old placement is
 * retired by removing `move:` with the receipt committed.
 */
import { quoteIdent } from "./catalog";
import { connect } from "./connect";
import { dropState, readState, STATE_SCHEMA } from "./state";
import { dropSlot } from "./sync";
import { MoveError, type MoveContext } from "./types";

export interface FinishResult {
    droppedSlot: boolean;
    droppedPublication: boolean;
}

export async function finish(ctx: Pick<MoveContext, "tenant" | "source" | "target" | "progress">): Promise<FinishResult> {
    const source = await connect(ctx.source);
    const target = await connect(ctx.target);
    try {
        const state = await readState(target, ctx.tenant);
        if (!state) {
            ctx.progress({ kind: "step", message: `no move of ${ctx.tenant} recorded on ${ctx.target.label}: nothing to finish` });
            return { droppedSlot: false, droppedPublication: false };
        }
        if (state.phase !== "flipped" && state.phase !== "finished") {
            throw new MoveError(`tenant ${ctx.tenant}'s move is in phase ${state.phase}: finish comes after a verified cutover (or use --phase abort before it)`, 1);
        }
        await target.query(`UPDATE ${STATE_SCHEMA}.moves SET phase = 'finished' WHERE tenant = $1`, [ctx.tenant]);
        const droppedSlot = await dropSlot(source, state.slot);
        const droppedPublication = ((await source.query("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", [state.publication])).rowCount ?? 0) > 0;
        if (droppedPublication) await source.query(`DROP PUBLICATION ${quoteIdent(state.publication)}`);
        if (((await target.query(`SELECT to_regclass('${STATE_SCHEMA}.receipts') IS NOT NULL AS t`)).rows[0]!["t"]) === true) {
            await target.query(`DELETE FROM ${STATE_SCHEMA}.receipts WHERE tenant = $1`, [ctx.tenant]);
        }
        await dropState(target, ctx.tenant);
        ctx.progress({ kind: "step", message: `finished: slot ${droppedSlot ? "dropped" : "already gone"}, publication ${droppedPublication ? "dropped" : "already gone"}; the source keeps the data, its roles NOLOGIN` });
        return { droppedSlot, droppedPublication };
    } finally {
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}
