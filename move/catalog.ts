/** What the move engine reads from a server's catalog about a tenant's schema: its tables, keys and sequences. */
import type { ClientBase } from "pg";

export interface TenantColumn {
    name: string;
    /** `a`: GENERATED ALWAYS AS IDENTITY (writes need OVERRIDING SYSTEM VALUE), `d`: BY DEFAULT, "": none. */
    identity: "a" | "d" | "";
}

export interface TenantTable {
    /**
     * Qualified, quoted where needed, as `format('%I.%I', schema, table)` writes it (`t_acme.orders`): the name in
     * `tenancy_move.copied` and `.touched` and in the receipt, the same on both servers.
     */
    name: string;
    schema: string;
    /** The table's own name, unquoted. */
    table: string;
    /** `r` table, `p` partitioned table (its partitions are not listed: changes and copies go through the parent). */
    relkind: "r" | "p";
    /**
     * The columns identifying a row in the changes: the replica identity index's under REPLICA IDENTITY USING INDEX,
     * else the primary key's; [] = none (see {@link tablesWithoutKey}).
     */
    key: string[];
    /** The primary key's columns ([] = none): what verify orders and chunks rows by. */
    primaryKey: string[];
    /** `d` default (primary key), `i` index, `f` full, `n` nothing. */
    replicaIdentity: "d" | "i" | "f" | "n";
    /** Columns in attribute order, generated stored columns left out (they are computed, never sent nor written). */
    columns: TenantColumn[];
    /** UNLOGGED tables write no WAL: their changes cannot be replicated. */
    unlogged: boolean;
    /** Row-level security: `forced` applies it to the owner too, so the admin (owner through membership) sees only some rows. */
    rowSecurity: "off" | "on" | "forced";
    /** Partitions of a partitioned table, named like {@link name}, at any depth. */
    partitions?: string[];
}

export interface TenantSequence {
    /** Qualified like {@link TenantTable.name}. */
    name: string;
    schema: string;
    sequence: string;
    /** `schema.table.column` when owned by a column (serial or identity), else undefined. */
    ownedBy?: string;
}

/** `"name"`, always quoted (safe for any name). */
export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Every table of `schema` that holds data: ordinary tables and partitioned parents, never a partition (its rows are
 * the parent's), sorted by name.
 */
export async function tenantTables(client: ClientBase, schema: string): Promise<TenantTable[]> {
    const { rows } = await client.query<{
        name: string; relname: string; unlogged: boolean; row_security: TenantTable["rowSecurity"]; relkind: "r" | "p"; relreplident: TenantTable["replicaIdentity"];
        key: string[] | null; primary_key: string[] | null; columns: { name: string; identity: "a" | "d" | "" }[]; partitions: string[] | null;
    }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relname, c.relkind::text AS relkind, c.relreplident::text AS relreplident, c.relpersistence = 'u' AS unlogged,
                CASE WHEN c.relforcerowsecurity THEN 'forced' WHEN c.relrowsecurity THEN 'on' ELSE 'off' END AS row_security,
                (SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE i.indrelid = c.oid
                    AND CASE c.relreplident WHEN 'i' THEN i.indisreplident ELSE i.indisprimary END) AS key,
                (SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key,
                (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'identity', a.attidentity::text) ORDER BY a.attnum), '[]')
                   FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
                (SELECT array_agg(format('%I.%I', pn.nspname, pc.relname) ORDER BY pn.nspname, pc.relname)
                   FROM pg_partition_tree(c.oid) t
                   JOIN pg_class pc ON pc.oid = t.relid
                   JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  WHERE t.level > 0 AND c.relkind = 'p') AS partitions
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          ORDER BY c.relname`,
        [schema],
    );
    return rows.map((r) => ({
        name: r.name,
        schema,
        table: r.relname,
        relkind: r.relkind,
        key: r.key ?? [],
        primaryKey: r.primary_key ?? [],
        replicaIdentity: r.relreplident,
        rowSecurity: r.row_security,
        unlogged: r.unlogged,
        columns: r.columns.map((c) => ({ name: c.name, identity: c.identity })),
        ...(r.relkind === "p" ? { partitions: r.partitions ?? [] } : {}),
    }));
}

/** The tables of `schema` whose UPDATEs and DELETEs cannot be replicated: no primary key nor replica identity index. */
export async function tablesWithoutKey(client: ClientBase, schema: string): Promise<TenantTable[]> {
    return (await tenantTables(client, schema)).filter((t) => t.key.length === 0);
}

/** Every sequence of `schema` (serial and identity ones included), sorted by name. */
export async function tenantSequences(client: ClientBase, schema: string): Promise<TenantSequence[]> {
    const { rows } = await client.query<{ name: string; relname: string; owned_by: string | null }>(
        `SELECT format('%I.%I', n.nspname, s.relname) AS name, s.relname,
                CASE WHEN a.attname IS NOT NULL THEN format('%I.%I.%I', tn.nspname, t.relname, a.attname) END AS owned_by
           FROM pg_class s
           JOIN pg_namespace n ON n.oid = s.relnamespace
           LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass
                                 AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
           LEFT JOIN pg_class t ON t.oid = d.refobjid
           LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
           LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
          WHERE n.nspname = $1 AND s.relkind = 'S'
          ORDER BY s.relname`,
        [schema],
    );
    return rows.map((r) => ({
        name: r.name,
        schema,
        sequence: r.relname,
        ...(r.owned_by ? { ownedBy: r.owned_by } : {}),
    }));
}

/**
 * `tables` in an order where every table comes after the tables its foreign keys reference (within the list), so a
 * load into a target that already has its foreign keys (a copy made again after post-data) never references a row
 * not yet there. Self-references need nothing (checked at the end of each COPY); tables in a cycle keep name order.
 */
export async function inForeignKeyOrder(client: ClientBase, tables: TenantTable[]): Promise<TenantTable[]> {
    const { rows } = await client.query<{ child: string; parent: string }>(
        `SELECT format('%I.%I', cn.nspname, c.relname) AS child, format('%I.%I', pn.nspname, p.relname) AS parent
           FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
           JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
          WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conrelid <> k.confrelid AND cn.nspname = ANY($1::text[])`,
        [[...new Set(tables.map((t) => t.schema))]],
    );
    const names = new Set(tables.map((t) => t.name));
    const parents = new Map<string, Set<string>>(tables.map((t) => [t.name, new Set<string>()]));
    for (const r of rows) if (names.has(r.child) && names.has(r.parent)) parents.get(r.child)!.add(r.parent);
    const ordered: TenantTable[] = [];
    const placed = new Set<string>();
    let left = [...tables];
    while (left.length) {
        const ready = left.filter((t) => [...parents.get(t.name)!].every((p) => placed.has(p)));
        // A cycle: no order satisfies every key; the rest goes in name order.
        const next = ready.length ? ready : left;
        for (const t of next) {
            ordered.push(t);
            placed.add(t.name);
        }
        left = left.filter((t) => !placed.has(t.name));
    }
    return ordered;
}
