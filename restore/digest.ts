/**
 * What "the same content" means for a restore: per table (partitioned parents with their partitions, never a
 * partition alone) the row count and two sums over every row of a 60-bit slice of the md5 of its text (bits 0-59 and
 * 60-119): no key is needed (a table without a primary key is hashed too), the result does not depend on physical
 * order, and it streams: no sort, no buffer growing with the table (a sorted string_agg failed past ~33M rows, the
 * 1 GB text limit, and sorted the whole table while a swap held the tenant's writes). A changed or missing row changes
 * a sum, a duplicated one the count; per sequence its value. Computed with move/connect.ts's session settings on
 * every side, so a row's text is the same on every server.
 */
import type { Client } from "pg";
import { tenantSequences, tenantTables } from "../move/catalog";
import { ident } from "../move/connect";
import type { Manifest } from "./dump";
import type { SchemaDigest, TableDigest } from "./types";

/** Rows and hashes of every table, and every sequence's value, in `schema` (read as a member of its owner). */
export async function schemaDigest(client: Client, schema: string): Promise<SchemaDigest> {
    const tables: TableDigest[] = [];
    for (const t of await tenantTables(client, schema)) {
        const { rows } = await client.query(
            `SELECT count(*)::bigint AS n,
                    coalesce(sum(('x' || substr(s.h, 1, 15))::bit(60)::bigint), 0)::text || ':' ||
                    coalesce(sum(('x' || substr(s.h, 16, 15))::bit(60)::bigint), 0)::text AS h
               FROM (SELECT md5(ROW(r.*)::text) AS h FROM ${ident(schema)}.${ident(t.table)} r) s`,
        );
        tables.push({ name: t.table, rows: Number(rows[0]!["n"]), hash: rows[0]!["h"] as string });
    }
    const sequences = [];
    for (const s of await tenantSequences(client, schema)) {
        const { rows } = await client.query(`SELECT last_value::text AS v, is_called FROM ${ident(schema)}.${ident(s.sequence)}`);
        sequences.push({ name: s.sequence, lastValue: rows[0]!["v"] as string, isCalled: rows[0]!["is_called"] as boolean });
    }
    return { tables, sequences };
}

/** Every difference between an expected and an actual digest, one line each; empty when equal. */
export function digestProblems(expected: SchemaDigest, actual: SchemaDigest): string[] {
    const problems: string[] = [];
    const have = new Map(actual.tables.map((t) => [t.name, t]));
    const want = new Map(expected.tables.map((t) => [t.name, t]));
    for (const e of expected.tables) {
        const a = have.get(e.name);
        if (!a) problems.push(`${e.name}: missing (expected ${e.rows} rows)`);
        else if (a.rows !== e.rows || a.hash !== e.hash) problems.push(`${e.name}: expected ${e.rows} rows (${e.hash}), found ${a.rows} rows (${a.hash})`);
    }
    for (const a of actual.tables) if (!want.has(a.name)) problems.push(`${a.name}: not expected (${a.rows} rows)`);
    const seqs = new Map(actual.sequences.map((s) => [s.name, s]));
    for (const e of expected.sequences) {
        const a = seqs.get(e.name);
        if (!a) problems.push(`sequence ${e.name}: missing`);
        else if (a.lastValue !== e.lastValue || a.isCalled !== e.isCalled) problems.push(`sequence ${e.name}: expected ${e.lastValue}${e.isCalled ? "" : " (not called)"}, found ${a.lastValue}${a.isCalled ? "" : " (not called)"}`);
    }
    for (const a of actual.sequences) if (!expected.sequences.some((e) => e.name === a.name)) problems.push(`sequence ${a.name}: not expected`);
    return problems;
}

/**
 * A manifest's row counts against the restored tables. Manifest entries may name partitioned parents or their
 * partitions: each is counted where it is; every restored table must be in the manifest, itself or through all of its
 * partitions.
 */
export async function manifestProblems(client: Client, schema: string, manifest: Manifest): Promise<string[]> {
    const problems: string[] = [];
    const listed = new Set(manifest.tables.map((t) => t.name));
    for (const t of manifest.tables) {
        const { rows } = await client.query("SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')", [schema, t.name]);
        if (!rows.length) {
            problems.push(`${t.name}: in the manifest (${t.rows} rows), not in the dump`);
            continue;
        }
        const n = Number((await client.query(`SELECT count(*)::bigint AS n FROM ${ident(schema)}.${ident(t.name)}`)).rows[0]!["n"]);
        if (n !== t.rows) problems.push(`${t.name}: the manifest counts ${t.rows} rows, the restored dump holds ${n}`);
    }
    for (const t of await tenantTables(client, schema)) {
        const partitions = (t.partitions ?? []).map((p) => p.slice(p.indexOf(".") + 1).replace(/^"|"$/g, ""));
        const covered = listed.has(t.table) || (partitions.length > 0 && partitions.every((p) => listed.has(p)));
        if (!covered) problems.push(`${t.table}: in the dump, not in the manifest`);
    }
    return problems;
}
