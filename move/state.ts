/**
 * The move's state, kept on the TARGET in schema `tenancy_move` of the tenant's application database, owned by the
 * admin and granted to nobody. It lives beside the data it describes, so the applied position commits in the same
 * transaction as the changes it covers: a killed tool resumes from exactly what the target holds.
 */
import type { ClientBase } from "pg";
import { MoveError } from "./types";

export const STATE_SCHEMA = "tenancy_move";

/** prepared → copying → synced → stopping → flipped → finished. */
export type MovePhase = "prepared" | "copying" | "synced" | "stopping" | "flipped" | "finished";

export interface MoveState {
    tenant: string;
    schema: string;
    slot: string;
    publication: string;
    phase: MovePhase;
    /** What prepare created on the target (abort removes exactly these). */
    createdSchema: boolean | null;
    createdRoles: string[];
    /** The slot's consistent point: the copy's snapshot. */
    consistentLsn: string | null;
    /** End LSN of the last source transaction applied on the target. */
    appliedLsn: string | null;
    postdataDone: boolean;
    baselineLsn: string | null;
    writesStoppedAt: Date | null;
    /** rolcanlogin of the tenant's roles on the source before writes were stopped. */
    logins: Record<string, boolean> | null;
    startedAt: Date | null;
    /** `host:port/db`, never a password. */
    source: string | null;
    target: string | null;
}

/** Slot and publication on the source: `tenancy_move_<slug with - → _>`. */
export function replicationName(tenant: string): string {
    return `tenancy_move_${tenant.replace(/-/g, "_")}`;
}

const COLUMNS: Record<keyof MoveState, string> = {
    tenant: "tenant",
    schema: "schema",
    slot: "slot",
    publication: "publication",
    phase: "phase",
    createdSchema: "created_schema",
    createdRoles: "created_roles",
    consistentLsn: "consistent_lsn",
    appliedLsn: "applied_lsn",
    postdataDone: "postdata_done",
    baselineLsn: "baseline_lsn",
    writesStoppedAt: "writes_stopped_at",
    logins: "logins",
    startedAt: "started_at",
    source: "source",
    target: "target",
};

/** Creates schema `tenancy_move` and its tables where missing (the admin's; nothing granted to PUBLIC). */
export async function ensureState(target: ClientBase): Promise<void> {
    await target.query(`
CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};
REVOKE ALL ON SCHEMA ${STATE_SCHEMA} FROM PUBLIC;
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.moves (
    tenant text PRIMARY KEY,
    schema text NOT NULL,
    slot text NOT NULL,
    publication text NOT NULL,
    phase text NOT NULL CHECK (phase IN ('prepared', 'copying', 'synced', 'stopping', 'flipped', 'finished')),
    created_schema bool,
    created_roles text[] NOT NULL DEFAULT '{}',
    consistent_lsn pg_lsn,
    applied_lsn pg_lsn,
    postdata_done bool NOT NULL DEFAULT false,
    baseline_lsn pg_lsn,
    writes_stopped_at timestamptz,
    logins jsonb,
    started_at timestamptz,
    source text,
    target text
);
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.copied (
    tenant text NOT NULL,
    table_name text NOT NULL,
    rows bigint NOT NULL,
    bytes bigint NOT NULL,
    PRIMARY KEY (tenant, table_name)
);
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.touched (
    tenant text NOT NULL,
    table_name text NOT NULL,
    key text NOT NULL,
    PRIMARY KEY (tenant, table_name, key)
);
REVOKE ALL ON ALL TABLES IN SCHEMA ${STATE_SCHEMA} FROM PUBLIC;
`);
}

type Row = {
    tenant: string; schema: string; slot: string; publication: string; phase: MovePhase; created_schema: boolean | null;
    created_roles: string[] | null; consistent_lsn: string | null; applied_lsn: string | null; postdata_done: boolean;
    baseline_lsn: string | null; writes_stopped_at: Date | null; logins: Record<string, boolean> | null;
    started_at: Date | null; source: string | null; target: string | null;
};

function fromRow(r: Row): MoveState {
    return {
        tenant: r.tenant, schema: r.schema, slot: r.slot, publication: r.publication, phase: r.phase,
        createdSchema: r.created_schema, createdRoles: r.created_roles ?? [], consistentLsn: r.consistent_lsn,
        appliedLsn: r.applied_lsn, postdataDone: r.postdata_done, baselineLsn: r.baseline_lsn,
        writesStoppedAt: r.writes_stopped_at, logins: r.logins, startedAt: r.started_at, source: r.source, target: r.target,
    };
}

/** Whether `tenancy_move.moves` exists on this database (a target never prepared has none). */
async function stateExists(target: ClientBase): Promise<boolean> {
    return (await target.query<{ t: string | null }>(`SELECT to_regclass('${STATE_SCHEMA}.moves')::text AS t`)).rows[0]!.t !== null;
}

/** The tenant's move on this target, or undefined when none was prepared (or the state schema does not exist). */
export async function readState(target: ClientBase, tenant: string): Promise<MoveState | undefined> {
    if (!(await stateExists(target))) return undefined;
    const { rows } = await target.query<Row>(`SELECT * FROM ${STATE_SCHEMA}.moves WHERE tenant = $1`, [tenant]);
    return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Records a new move (prepare); an existing row for the tenant is left as it is and returned. */
export async function createState(
    target: ClientBase,
    init: Pick<MoveState, "tenant" | "schema"> & Partial<MoveState>,
): Promise<MoveState> {
    await ensureState(target);
    const name = replicationName(init.tenant);
    const full: Partial<MoveState> = { slot: name, publication: name, phase: "prepared", createdRoles: [], postdataDone: false, ...init };
    const keys = Object.keys(full) as (keyof MoveState)[];
    await target.query(
        `INSERT INTO ${STATE_SCHEMA}.moves (${keys.map((k) => COLUMNS[k]).join(", ")})
         VALUES (${keys.map((_, i) => `$${i + 1}`).join(", ")}) ON CONFLICT (tenant) DO NOTHING`,
        keys.map((k) => toParam(k, full[k])),
    );
    return (await readState(target, init.tenant))!;
}

function toParam(key: keyof MoveState, value: unknown): unknown {
    if (key === "logins" && value != null) return JSON.stringify(value);
    return value;
}

/** Sets the given fields of the tenant's move; throws when there is none. */
export async function updateState(target: ClientBase, tenant: string, patch: Partial<Omit<MoveState, "tenant">>): Promise<void> {
    const fields = patch as Partial<MoveState>;
    const keys = (Object.keys(fields) as (keyof MoveState)[]).filter((k) => fields[k] !== undefined);
    if (keys.length === 0) return;
    const res = await target.query(
        `UPDATE ${STATE_SCHEMA}.moves SET ${keys.map((k, i) => `${COLUMNS[k]} = $${i + 2}`).join(", ")} WHERE tenant = $1`,
        [tenant, ...keys.map((k) => toParam(k, fields[k]))],
    );
    if (res.rowCount !== 1) throw new Error(`no move of tenant ${tenant} recorded in ${STATE_SCHEMA}.moves`);
}

/** Forgets the tenant's move (rows in every state table); drops the schema when no other move is left in it. */
export async function dropState(target: ClientBase, tenant: string): Promise<void> {
    if (!(await stateExists(target))) return;
    for (const table of ["touched", "copied", "moves"]) {
        await target.query(`DELETE FROM ${STATE_SCHEMA}.${table} WHERE tenant = $1`, [tenant]);
    }
    const left = (await target.query(`SELECT 1 FROM ${STATE_SCHEMA}.moves LIMIT 1`)).rowCount ?? 0;
    if (left === 0) await target.query(`DROP SCHEMA ${STATE_SCHEMA} CASCADE`);
}

export interface CopiedTable {
    table: string;
    rows: number;
    bytes: number;
}

/** Tables whose initial copy committed on the target. */
export async function copiedTables(target: ClientBase, tenant: string): Promise<CopiedTable[]> {
    const { rows } = await target.query<{ table_name: string; rows: string; bytes: string }>(
        `SELECT table_name, rows, bytes FROM ${STATE_SCHEMA}.copied WHERE tenant = $1 ORDER BY table_name`,
        [tenant],
    );
    return rows.map((r) => ({ table: r.table_name, rows: Number(r.rows), bytes: Number(r.bytes) }));
}

/** Records a table's copy; call inside the transaction that loaded it. */
export async function recordCopied(target: ClientBase, tenant: string, copied: CopiedTable): Promise<void> {
    await target.query(
        `INSERT INTO ${STATE_SCHEMA}.copied (tenant, table_name, rows, bytes) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, table_name) DO UPDATE SET rows = EXCLUDED.rows, bytes = EXCLUDED.bytes`,
        [tenant, copied.table, copied.rows, copied.bytes],
    );
}

/** Keys (primary key as text) changed by applied transactions committed at or after the baseline, per table. */
export async function touchedKeys(target: ClientBase, tenant: string): Promise<Map<string, string[]>> {
    const { rows } = await target.query<{ table_name: string; key: string }>(
        `SELECT table_name, key FROM ${STATE_SCHEMA}.touched WHERE tenant = $1 ORDER BY table_name, key`,
        [tenant],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.table_name, [...(out.get(r.table_name) ?? []), r.key]);
    return out;
}

/**
 * Takes the tenant's move lock on the target for this session (released when the connection closes, also when the
 * process is killed): two runs of sync or abort for one tenant at once would drop each other's slot and copy.
 */
export async function lockMove(target: ClientBase, tenant: string): Promise<void> {
    const { rows } = await target.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('tenancy_move'), hashtext($1)) AS locked", [tenant]);
    if (!rows[0]!.locked) {
        throw new MoveError(`another run of the move of tenant ${tenant} is in progress against this target: wait for it to end (a killed run's lock goes with its connection)`, 1);
    }
}
