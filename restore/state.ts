/**
 * A restore's state lives in the COMMENT of the schema it describes (`tenancy-restore: {…}`), not in a table of its
 * own: it goes wherever the schema goes (a rename carries it, a swap makes it the live schema's until the logins are
 * back), nothing else is created on a cell other tenants share, and dropping a side schema drops its state.
 * Phases of a side schema: `loaded` (committed, not yet checked: a re-run drops it and restores again), `restored`
 * (checked, its digest recorded), `stopping` (a swap stopped the tenant's writes; `logins` says what to give back).
 * After a swap the live schema says `swapped` until the logins are back, and the former schema says `replaced`.
 */
import type { Client } from "pg";
import { ident, literal } from "../move/connect";
import type { SchemaDigest } from "./types";

export const STATE_MARKER = "tenancy-restore: ";

export type RestorePhase = "loaded" | "restored" | "stopping" | "swapped" | "replaced";

export interface RestoreState {
    v: 1;
    tenant: string;
    /** The tenant's schema (`t_<slug>`). */
    schema: string;
    phase: RestorePhase;
    /** What it was restored from: `dump sha256:<hex>` or `source <host:port/db> started <time> database <oid>` (the clone instance); a re-run with the same origin reuses it. */
    origin: string;
    /** For people: the dump's path or the source's label (never a password). */
    from: string;
    restoredAt: string;
    /** The side schema's name when it was restored (kept after the swap renames it). */
    side: string;
    /** Checked against at restore time. */
    checkedAgainst: "manifest" | "source" | "nothing";
    digest?: SchemaDigest;
    /** rolcanlogin of the tenant's roles before a swap stopped its writes. */
    logins?: Record<string, boolean>;
    replaced?: string;
    swappedAt?: string;
}

/** `t_acme_restore_20261123142000`. */
export const SIDE_PATTERN = (schema: string): RegExp => new RegExp(`^${schema}_restore_\\d{14}$`);
/** `t_acme_replaced_20261123143000`: the tenant's schema a swap replaced, kept. */
export const REPLACED_PATTERN = (schema: string): RegExp => new RegExp(`^${schema}_replaced_\\d{14}$`);

/** UTC `yyyymmddhhmmss`. */
export function stamp(d: Date): string {
    return d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/**
 * `<base>_<stamp>` for the first second from `now` on whose name is not `taken`: two restores (or swaps) of a tenant
 * within one second get consecutive names instead of a collision, and names still sort in the order they were made.
 */
export function stampedName(base: string, now: Date, taken: Iterable<string>): string {
    const used = new Set(taken);
    for (let s = 0; s < 3600; s++) {
        const name = `${base}_${stamp(new Date(now.getTime() + s * 1000))}`;
        if (!used.has(name)) return name;
    }
    throw new Error(`${base}: no free name within an hour of ${now.toISOString()}`);
}

export function parseState(comment: string | null | undefined): RestoreState | undefined {
    if (!comment?.startsWith(STATE_MARKER)) return undefined;
    try {
        const s = JSON.parse(comment.slice(STATE_MARKER.length)) as RestoreState;
        return s && s.v === 1 ? s : undefined;
    } catch {
        return undefined;
    }
}

/** `COMMENT ON SCHEMA … IS '…'` (the schema's owner, or a member of it, may run it). */
export function commentSql(schema: string, state: RestoreState | null): string {
    return `COMMENT ON SCHEMA ${ident(schema)} IS ${state ? literal(STATE_MARKER + JSON.stringify(state)) : "NULL"}`;
}

export interface SchemaEntry {
    name: string;
    state?: RestoreState;
}

/** The tenant's schema, its side schemas and the schemas swaps replaced, on the target, with their states (oldest first). */
export async function restoreSchemas(client: Client, schema: string): Promise<{ live?: SchemaEntry; sides: SchemaEntry[]; replaced: SchemaEntry[] }> {
    const { rows } = await client.query(
        `SELECT n.nspname AS name, pg_catalog.obj_description(n.oid, 'pg_namespace') AS comment
           FROM pg_catalog.pg_namespace n WHERE n.nspname = $1 OR n.nspname ~ $2 OR n.nspname ~ $3 ORDER BY n.nspname`,
        [schema, SIDE_PATTERN(schema).source, REPLACED_PATTERN(schema).source],
    );
    const entries: SchemaEntry[] = rows.map((r) => {
        const state = parseState(r["comment"] as string | null);
        return { name: r["name"] as string, ...(state && state.schema === schema ? { state } : {}) };
    });
    return {
        live: entries.find((e) => e.name === schema),
        sides: entries.filter((e) => SIDE_PATTERN(schema).test(e.name)),
        replaced: entries.filter((e) => REPLACED_PATTERN(schema).test(e.name)),
    };
}
