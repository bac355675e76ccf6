/**
 * Preflight of a move: every blocker on either side at once, each with its remedy, before anything changes. Read-only:
 * catalog and settings queries as the two admins, and `--version` of the local pg_dump/psql.
 */
import type { Client } from "pg";
import { tenantTables } from "./catalog";
import { syncBlockers } from "./sync";
import { connect } from "./connect";
import { findTool, missingToolMessage } from "./ddl";
import { MoveError, type MoveContext } from "./types";

/** Replication slots a move holds at once on the source: its own, and a temporary one for the verification baseline. */
export const SLOTS_NEEDED = 2;
/** Replication connections (WAL senders) a move opens at once on the source. */
export const WAL_SENDERS_NEEDED = 1;
/** Oldest major the engine runs on (`CREATE_REPLICATION_SLOT … (SNAPSHOT 'export')`, `pg_terminate_backend(pid, timeout)`). */
export const MIN_MAJOR = 15;

export interface PreflightReport {
    problems: string[];
    notes: string[];
    sourceMajor: number;
    targetMajor: number;
    /** Tables, indexes and TOAST of the tenant's schema on the source. */
    sourceBytes: number;
    tables: number;
}

export interface PreflightOptions {
    /** This move is already under way (state on the target): its slot and schema are its own, not blockers. */
    resuming?: boolean;
    /** Free space of the target when known (env mode: the placement's allocated storage minus what is used). */
    targetFreeBytes?: number;
}

/** One row of a query, typed loosely. */
async function row(client: Client, sql: string, values: unknown[] = []): Promise<Record<string, unknown>> {
    return (await client.query(sql, values)).rows[0] ?? {};
}

async function strings(client: Client, sql: string, values: unknown[] = []): Promise<string[]> {
    return (await client.query(sql, values)).rows.map((r) => String(Object.values(r)[0]));
}

/** Roles the admin acts through: its own attributes, or RDS's `rds_replication`/`rds_superuser` memberships. */
async function adminPowers(client: Client): Promise<{ user: string; superuser: boolean; replication: boolean; createrole: boolean; signal: boolean; createdb: boolean }> {
    const r = await row(
        client,
        `SELECT current_user AS user, rolsuper AS su, rolcreaterole AS cr,
                rolreplication OR (EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'rds_replication') AND pg_catalog.pg_has_role(current_user, 'rds_replication', 'MEMBER')) AS repl,
                pg_catalog.pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS sig,
                pg_catalog.has_database_privilege(current_database(), 'CREATE') AS createdb
           FROM pg_catalog.pg_roles WHERE rolname = current_user`,
    );
    const su = r["su"] === true;
    return { user: String(r["user"]), superuser: su, replication: su || r["repl"] === true, createrole: su || r["cr"] === true, signal: su || r["sig"] === true, createdb: su || r["createdb"] === true };
}

/** Runs every check; never throws for a blocker (see {@link assertPreflight}). */
export async function preflight(ctx: Pick<MoveContext, "tenant" | "schema" | "source" | "target" | "ownerRole" | "runtimeRole">, opts: PreflightOptions = {}): Promise<PreflightReport> {
    const problems: string[] = [];
    const notes: string[] = [];
    const src = `source ${ctx.source.label}`;
    const tgt = `target ${ctx.target.label}`;
    if (ctx.source.label === ctx.target.label) problems.push(`${src}: the source and the target are the same database (remedy: give the new placement's admin URL as --target)`);
    const source = await connect(ctx.source);
    let target: Client | undefined;
    try {
        target = await connect(ctx.target);
        const versionNum = async (c: Client): Promise<number> => Number((await row(c, "SELECT current_setting('server_version_num') AS v"))["v"]);
        const [sv, tv] = [await versionNum(source), await versionNum(target)];
        const [sourceMajor, targetMajor] = [Math.floor(sv / 10_000), Math.floor(tv / 10_000)];
        if (sourceMajor !== targetMajor) {
            problems.push(`${tgt}: PostgreSQL ${targetMajor}, the source runs ${sourceMajor} (remedy: a target of the same major version; upgrade one side first)`);
        }
        if (sourceMajor < MIN_MAJOR) problems.push(`${src}: PostgreSQL ${sourceMajor} (remedy: PostgreSQL ${MIN_MAJOR} or later on both sides; upgrade the source first)`);

        // --- the source: logical decoding, capacity for the move's slots and connections
        const settings = await row(
            source,
            `SELECT current_setting('wal_level') AS wal_level,
                    current_setting('max_replication_slots')::int AS slots,
                    (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int AS used_slots,
                    current_setting('max_wal_senders')::int AS senders,
                    (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'walsender')::int AS used_senders,
                    current_setting('rds.logical_replication', true) AS rds_logical,
                    EXISTS (SELECT FROM pg_catalog.pg_replication_slots WHERE slot_name = $1) AS own_slot`,
            [slotName(ctx.tenant)],
        );
        const rds = settings["rds_logical"] !== null && settings["rds_logical"] !== undefined;
        if (settings["wal_level"] !== "logical") {
            problems.push(
                `${src}: wal_level is '${String(settings["wal_level"])}', logical decoding needs 'logical' (remedy: ${rds ? "" : "on RDS/Aurora "}set rds.logical_replication = 1 in the ${rds ? "instance's or cluster's " : ""}parameter group, a static parameter applied at the next reboot; the program sets it on every cell cluster and hybrid/dedicated instance${rds ? "" : "; elsewhere set wal_level = logical and restart the server"})`,
            );
        }
        const ownSlot = settings["own_slot"] === true;
        const freeSlots = Number(settings["slots"]) - Number(settings["used_slots"]);
        const slotsNeeded = SLOTS_NEEDED - (ownSlot ? 1 : 0);
        if (freeSlots < slotsNeeded) {
            const inactive = await strings(source, "SELECT slot_name FROM pg_catalog.pg_replication_slots WHERE NOT active AND slot_name <> $1 ORDER BY 1", [slotName(ctx.tenant)]);
            problems.push(
                `${src}: ${freeSlots} free replication slot${freeSlots === 1 ? "" : "s"} of max_replication_slots = ${String(settings["slots"])}, the move needs ${slotsNeeded} (its own and a temporary one for verification) (remedy: raise max_replication_slots (restart; on RDS/Aurora in the parameter group, then reboot)${inactive.length ? ` or drop unused slots: ${inactive.join(", ")}` : ""})`,
            );
        }
        const freeSenders = Number(settings["senders"]) - Number(settings["used_senders"]);
        if (freeSenders < WAL_SENDERS_NEEDED) {
            problems.push(`${src}: ${freeSenders} free WAL senders of max_wal_senders = ${String(settings["senders"])}, the move needs ${WAL_SENDERS_NEEDED} replication connection (remedy: raise max_wal_senders (restart; on RDS/Aurora in the parameter group, then reboot) or end idle replication connections)`);
        }

        // --- the admins' powers
        const sp = await adminPowers(source);
        if (!sp.replication) problems.push(`${src}: admin '${sp.user}' lacks REPLICATION (remedy: ALTER ROLE ${sp.user} REPLICATION; on RDS/Aurora the master has it through rds_replication)`);
        if (!sp.createrole) problems.push(`${src}: admin '${sp.user}' lacks CREATEROLE, needed to stop the tenant's logins at cutover and to act as its owner role (remedy: ALTER ROLE ${sp.user} CREATEROLE; the RDS/Aurora master has it)`);
        if (!sp.signal) problems.push(`${src}: admin '${sp.user}' may not end the tenant's sessions (remedy: GRANT pg_signal_backend TO ${sp.user}; the RDS/Aurora master has it)`);
        const tp = await adminPowers(target);
        if (!tp.createrole) problems.push(`${tgt}: admin '${tp.user}' lacks CREATEROLE, needed to create the tenant's roles and act as its owner (remedy: ALTER ROLE ${tp.user} CREATEROLE; the RDS/Aurora master has it)`);
        if (!tp.createdb) problems.push(`${tgt}: admin '${tp.user}' may not create schemas in database ${ctx.target.label} (remedy: connect as the database's owner, the placement's master user)`);

        // --- the tenant on the source
        const schemaRow = await row(source, "SELECT pg_catalog.pg_get_userbyid(nspowner) AS owner FROM pg_catalog.pg_namespace WHERE nspname = $1", [ctx.schema]);
        if (!schemaRow["owner"]) problems.push(`${src}: schema ${ctx.schema} does not exist (remedy: check --tenant and --schema, and that --source is the tenant's current placement)`);
        const roles = await source.query("SELECT rolname, rolsuper FROM pg_catalog.pg_roles WHERE rolname = ANY($1)", [[ctx.ownerRole, ctx.runtimeRole]]);
        for (const role of [ctx.ownerRole, ctx.runtimeRole]) {
            const r = roles.rows.find((x) => x["rolname"] === role);
            if (!r) problems.push(`${src}: role ${role} does not exist: the engine stops the tenant's writes through its roles (remedy: check --tenant; the source must be laid out as the program declares it)`);
            else if (r["rolsuper"] === true) problems.push(`${src}: role ${role} is a superuser, which no admin may stop or act as (remedy: ALTER ROLE ${role} NOSUPERUSER)`);
        }

        const relations = await source.query(
            `SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind, c.relpersistence, c.relispartition
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'f', 'm') ORDER BY 1`,
            [ctx.schema],
        );
        const rels = relations.rows as { name: string; relkind: string; relpersistence: string; relispartition: boolean }[];
        const tables = rels.filter((r) => r.relkind === "r" || r.relkind === "p");
        // A table in the publication without a key makes the tenant's own UPDATE and DELETE fail on the source, and
        // the target could not find the row to change: refused, never replicated with REPLICA IDENTITY FULL silently.
        const catalog = await tenantTables(source, ctx.schema);
        const unkeyed = catalog.filter((t) => t.key.length === 0).map((t) => t.name);
        // What else sync refuses (REPLICA IDENTITY NOTHING, UNLOGGED, FORCE ROW LEVEL SECURITY), said here before anything changes.
        problems.push(...syncBlockers(catalog.filter((t) => t.key.length > 0)).map((p) => `${src}: ${p}`));
        if (unkeyed.length) {
            problems.push(`${src}: ${unkeyed.length} table${unkeyed.length === 1 ? "" : "s"} without a primary key or replica identity index: ${unkeyed.join(", ")} (remedy: add a primary key, e.g. ALTER TABLE … ADD PRIMARY KEY (…), or a unique index on NOT NULL columns with ALTER TABLE … REPLICA IDENTITY USING INDEX …, then run prepare again)`);
        }
        const foreign = rels.filter((r) => r.relkind === "f").map((r) => r.name);
        if (foreign.length) problems.push(`${src}: foreign tables hold no data to move: ${foreign.join(", ")} (remedy: drop them from the tenant's schema, re-create them after the move)`);
        const matviews = rels.filter((r) => r.relkind === "m").map((r) => r.name);
        if (matviews.length) notes.push(`materialized views are created empty on the target: ${matviews.join(", ")} (REFRESH MATERIALIZED VIEW after cutover)`);

        // Column types from outside pg_catalog and the tenant's schema (extensions) must exist on the target.
        const foreignTypes = await strings(
            source,
            `SELECT DISTINCT format('%I.%I', tn.nspname, t.typname) FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_catalog.pg_type t ON t.oid = a.atttypid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
              WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND tn.nspname NOT IN ('pg_catalog', $1) ORDER BY 1`,
            [ctx.schema],
        );
        if (foreignTypes.length) {
            const missing = await strings(target, "SELECT t FROM unnest($1::text[]) t WHERE to_regtype(t) IS NULL", [foreignTypes]);
            if (missing.length) problems.push(`${tgt}: column types the tenant uses do not exist: ${missing.join(", ")} (remedy: CREATE EXTENSION … on the target first, as the placement declares it)`);
        }

        // Encodings and collations: the same text must compare and sort the same on both sides (keys, chunk order).
        const dbFacts = async (c: Client) => row(c, "SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS coll, datctype AS ctype FROM pg_catalog.pg_database WHERE datname = current_database()");
        const [sdb, tdb] = [await dbFacts(source), await dbFacts(target)];
        if (sdb["enc"] !== tdb["enc"]) problems.push(`${tgt}: database encoding ${String(tdb["enc"])}, the source's is ${String(sdb["enc"])} (remedy: create the target database with ENCODING '${String(sdb["enc"])}')`);
        if (sdb["coll"] !== tdb["coll"] || sdb["ctype"] !== tdb["ctype"]) {
            problems.push(`${tgt}: collation ${String(tdb["coll"])}/${String(tdb["ctype"])}, the source's is ${String(sdb["coll"])}/${String(sdb["ctype"])}: keys would sort differently (remedy: create the target database with LC_COLLATE '${String(sdb["coll"])}' LC_CTYPE '${String(sdb["ctype"])}')`);
        }

        // --- the target's schema: absent, or empty as the program declares it
        if (!opts.resuming) {
            const objects = await row(
                target,
                `SELECT (SELECT count(*) FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid)
                      + (SELECT count(*) FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid)
                      + (SELECT count(*) FROM pg_catalog.pg_type t WHERE t.typnamespace = n.oid AND t.typrelid = 0 AND t.typelem = 0) AS n
                   FROM pg_catalog.pg_namespace n WHERE n.nspname = $1`,
                [ctx.schema],
            );
            if (Number(objects["n"] ?? 0) > 0) {
                problems.push(`${tgt}: schema ${ctx.schema} is not empty (${String(objects["n"])} objects): a target holds either no such schema or the empty one its placement declares (remedy: drop what is in it if it is a leftover, or check --target)`);
            }
            const state = await row(target, "SELECT to_regclass('tenancy_move.moves') IS NOT NULL AS has");
            if (state["has"] === true) {
                const other = await row(target, "SELECT tenant FROM tenancy_move.moves WHERE schema = $1 AND tenant <> $2", [ctx.schema, ctx.tenant]);
                if (other["tenant"]) problems.push(`${tgt}: schema ${ctx.schema} is the destination of tenant ${String(other["tenant"])}'s move (remedy: check --tenant and --schema)`);
            }
        }

        // --- size: the target must hold the tenant's data (when its free space is known)
        const size = await row(
            source,
            `SELECT coalesce(sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 't')`,
            [ctx.schema],
        );
        const sourceBytes = Number(size["bytes"]);
        if (opts.targetFreeBytes !== undefined && sourceBytes * 1.2 > opts.targetFreeBytes) {
            problems.push(`${tgt}: ${mb(opts.targetFreeBytes)} free, the tenant's schema takes ${mb(sourceBytes)} on the source (+20% while it loads) (remedy: a larger storage size for the new placement)`);
        } else if (opts.targetFreeBytes === undefined) {
            notes.push(`the tenant's schema takes ${mb(sourceBytes)} on the source; the target's free space is not visible over SQL: make sure it holds that plus 20%`);
        }

        // --- the clients: pg_dump and psql of the source's major version
        for (const tool of ["pg_dump", "psql"] as const) {
            if (!(await findTool(tool, sourceMajor))) problems.push(`local: ${missingToolMessage(tool, sourceMajor)}`);
        }
        return { problems, notes, sourceMajor, targetMajor, sourceBytes, tables: tables.filter((t) => !t.relispartition).length };
    } finally {
        await source.end().catch(() => undefined);
        await target?.end().catch(() => undefined);
    }
}

/** Throws exit 1 with every blocker when there is any. */
export function assertPreflight(report: PreflightReport): void {
    if (report.problems.length) {
        throw new MoveError(`preflight: ${report.problems.length} blocker${report.problems.length === 1 ? "" : "s"}; nothing was changed`, 1, report.problems);
    }
}

/** Slot and publication of a tenant's move on the source: `tenancy_move_<slug with - → _>`. */
export function slotName(tenant: string): string {
    return `tenancy_move_${tenant.replace(/-/g, "_")}`;
}

function mb(bytes: number): string {
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
