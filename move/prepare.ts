/**
 * `--phase prepare`: preflight, then the tenant's roles, schema, privileges and pre-data DDL on the target, and the
 * move's state row, all in ONE psql transaction: a failure or a kill leaves the target as it was, so prepare can run again.
 */
import type { Client } from "pg";
import { connect, ident, literal } from "./connect";
import { dumpSchema, asOwner, runPsql } from "./ddl";
import { assertPreflight, preflight, type PreflightOptions, type PreflightReport } from "./preflight";
import { privilegePlan, sourceRoles, targetFacts, type PrivilegePlan } from "./privileges";
import { ensureState, readState, replicationName, type MoveState } from "./state";
import type { MoveContext } from "./types";

export interface PrepareResult {
    /** False when the move was prepared before (prepare is idempotent); the report is then absent. */
    prepared: boolean;
    state: MoveState;
    report?: PreflightReport;
    plan?: PrivilegePlan;
}

/** Makes the admin a member of the tenant's owner role where it is not (PG15 CREATEROLE may): it acts as the owner. */
export async function ensureOwnerMembership(client: Client, ownerRole: string): Promise<void> {
    const { rows } = await client.query(
        "SELECT r.rolsuper OR pg_catalog.pg_has_role(current_user, $1, 'USAGE') AS member, current_user AS me FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
        [ownerRole],
    );
    if (rows[0]?.["member"] !== true) await client.query(`GRANT ${ident(ownerRole)} TO ${ident(rows[0]!["me"] as string)}`);
}

export async function prepare(ctx: MoveContext, opts: PreflightOptions = {}): Promise<PrepareResult> {
    const target = await connect(ctx.target);
    try {
        const existing = await readState(target, ctx.tenant);
        if (existing) {
            ctx.progress({ kind: "step", message: `already prepared (phase ${existing.phase}) on ${ctx.target.label}` });
            return { prepared: false, state: existing };
        }
        ctx.progress({ kind: "step", message: `preflight of ${ctx.source.label} → ${ctx.target.label}` });
        const report = await preflight(ctx, opts);
        for (const note of report.notes) ctx.progress({ kind: "step", message: `note: ${note}` });
        assertPreflight(report);

        const source = await connect(ctx.source);
        let roles;
        try {
            // pg_dump locks and reads the tenant's objects, and the publication is created as their owner.
            await ensureOwnerMembership(source, ctx.ownerRole);
            roles = await sourceRoles(source, [ctx.ownerRole, ctx.runtimeRole]);
        } finally {
            await source.end().catch(() => undefined);
        }
        ctx.progress({ kind: "step", message: `pg_dump --schema-only --section=pre-data of ${ctx.schema}` });
        const preData = await dumpSchema(ctx.source, ctx.schema, "pre-data");

        const facts = await targetFacts(target, [ctx.ownerRole, ctx.runtimeRole], ctx.schema, ctx.targetPlacement);
        const plan = privilegePlan({ schema: ctx.schema, ownerRole: ctx.ownerRole, runtimeRole: ctx.runtimeRole, facts, source: roles });
        await ensureState(target);
        const name = replicationName(ctx.tenant);
        const record = `INSERT INTO tenancy_move.moves (tenant, schema, slot, publication, phase, created_schema, created_roles, started_at, source, target)
            VALUES (${[ctx.tenant, ctx.schema, name, name].map(literal).join(", ")}, 'prepared', ${plan.createdSchema}, ARRAY[${plan.createdRoles.map(literal).join(", ")}]::text[], now(), ${literal(ctx.source.label)}, ${literal(ctx.target.label)});`;
        ctx.progress({ kind: "step", message: `creating ${plan.createdRoles.length ? `roles ${plan.createdRoles.join(", ")}, ` : ""}${plan.createdSchema ? "schema, " : ""}privileges (${facts.placement} placement) and objects on ${ctx.target.label}` });
        await runPsql(ctx.target, [...plan.before, asOwner(preData, ctx.ownerRole, ctx.schema), ...plan.after, record].join("\n"));
        return { prepared: true, state: (await readState(target, ctx.tenant))!, report, plan };
    } finally {
        await target.end().catch(() => undefined);
    }
}
