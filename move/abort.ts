/**
 * `--phase abort`: before cutover, removes what the move made: the slot and publication on the source, and on the
 * target what prepare recorded as created (the schema, or only the objects inside a schema the placement declared; the
 * roles it created) and the move's state. The source's data, roles and logins are never touched.
 */
import type { Client } from "pg";
import { quoteIdent } from "./catalog";
import { connect } from "./connect";
import { dropState, lockMove, readState, replicationName, type MoveState } from "./state";
import { dropSlot, ensureMember } from "./sync";
import { MoveError, type MoveContext } from "./types";

/** Phases abort refuses: writes were stopped (or the registry flipped); only cutover's own recovery may act then. */
const TOO_LATE: readonly MoveState["phase"][] = ["stopping", "flipped", "finished"];

export interface AbortResult {
    droppedSlot: boolean;
    droppedPublication: boolean;
    /** What was removed on the target. */
    target: string[];
}

/** Drops every object in `schema` but the schema itself (a schema the target placement declared stays, empty). */
async function emptySchema(target: Client, schema: string): Promise<void> {
    await target.query(
        `DO $$ DECLARE r record; BEGIN
           FOR r IN SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ${literal(schema)} AND c.relkind IN ('v', 'm') LOOP
             EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, r.name);
           END LOOP;
           FOR r IN SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ${literal(schema)} AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition LOOP
             EXECUTE format('DROP TABLE IF EXISTS %s CASCADE', r.name);
           END LOOP;
           FOR r IN SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ${literal(schema)} AND c.relkind = 'S' LOOP
             EXECUTE format('DROP SEQUENCE IF EXISTS %s CASCADE', r.name);
           END LOOP;
           FOR r IN SELECT p.oid::regprocedure::text AS sig, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = ${literal(schema)} LOOP
             EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.sig);
           END LOOP;
           FOR r IN SELECT format('%I.%I', n.nspname, t.typname) AS name, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = ${literal(schema)} AND t.typtype IN ('e', 'd', 'c', 'r') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') LOOP
             EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.name);
           END LOOP;
         END $$`,
    );
}

function literal(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Abort before cutover. Idempotent: a second run, or a run after a kill half-way, removes what is left. Refused
 * (exit 1, nothing changed) once cutover stopped the tenant's writes.
 */
export async function abort(ctx: Pick<MoveContext, "tenant" | "schema" | "source" | "target" | "ownerRole" | "progress">): Promise<AbortResult> {
    const source = await connect(ctx.source);
    const target = await connect(ctx.target);
    try {
        const state = await readState(target, ctx.tenant);
        if (state) await lockMove(target, ctx.tenant);
        if (state && TOO_LATE.includes(state.phase)) {
            throw new MoveError(`tenant ${ctx.tenant}'s move is past the point of abort (phase ${state.phase}): writes were stopped for cutover`, 1);
        }
        const name = state?.slot ?? replicationName(ctx.tenant);
        const publication = state?.publication ?? replicationName(ctx.tenant);
        const droppedSlot = await dropSlot(source, name);
        const droppedPublication = ((await source.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication])).rowCount ?? 0) > 0;
        if (droppedPublication) await source.query(`DROP PUBLICATION ${quoteIdent(publication)}`);
        ctx.progress({ kind: "step", message: `source: ${droppedSlot ? `slot ${name} dropped` : "no slot"}, ${droppedPublication ? `publication ${publication} dropped` : "no publication"}` });

        const removed: string[] = [];
        if (state) {
            const schemaExists = ((await target.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [state.schema])).rowCount ?? 0) > 0;
            if (schemaExists) {
                const owner = (await target.query<{ owner: string }>("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1", [state.schema])).rows[0]!.owner;
                await ensureMember(target, owner.replace(/^"|"$/g, ""));
                await target.query("BEGIN");
                if (state.createdSchema) {
                    await target.query(`DROP SCHEMA ${quoteIdent(state.schema)} CASCADE`);
                    removed.push(`schema ${state.schema}`);
                } else {
                    await emptySchema(target, state.schema);
                    removed.push(`objects in schema ${state.schema}`);
                }
                await target.query("COMMIT");
            }
            for (const role of state.createdRoles) {
                const exists = ((await target.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount ?? 0) > 0;
                if (!exists) continue;
                // DROP OWNED needs the role's privileges; it clears its default privileges and grants (database CONNECT too).
                await ensureMember(target, role);
                await target.query(`DROP OWNED BY ${quoteIdent(role)}`);
                await target.query(`DROP ROLE ${quoteIdent(role)}`);
                removed.push(`role ${role}`);
            }
            await dropState(target, ctx.tenant);
            removed.push("move state");
        }
        ctx.progress({ kind: "step", message: `target: ${removed.length ? removed.join(", ") : "nothing to remove"}` });
        return { droppedSlot, droppedPublication, target: removed };
    } catch (err) {
        await target.query("ROLLBACK").catch(() => undefined);
        throw err;
    } finally {
        await source.end().catch(() => undefined);
        await target.end().catch(() => undefined);
    }
}
