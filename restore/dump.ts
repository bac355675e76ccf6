/**
 * The dump a restore reads: `pg_dump --format=custom` of exactly one tenant's schema (DUMPS writes them nightly, see
 * DAY2.md "Resource names of data"), optionally with its manifest `<name>.json`, or one taken here from `--source`.
 * Everything a user can get wrong about it (missing, unreadable, not an archive, another tenant's schema, a manifest
 * of another tenant) is a RestoreError(1) before anything on the target changes.
 */
import { createHash } from "crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { connect, ident, serverMajor } from "../move/connect";
import type { Endpoint } from "../move/types";
import { schemaDigest } from "./digest";
import { grantOwner } from "./owner";
import { newestTool, requireTool, run } from "./tools";
import { RestoreError, type SchemaDigest } from "./types";

/** What `pg_restore --list` says about an archive. */
export interface DumpToc {
    /** Schemas the archive creates (a tenant's dump: exactly one). */
    schemas: string[];
    /** Entries that belong to another schema than `schema` (a dump of more than the tenant). */
    foreign: string[];
    /** `Dumped from database version`, `Dumped by pg_dump version` of the header. */
    dumpedFrom?: string;
    dumpedBy?: string;
    /** How many entries of each kind (`TABLE`, `INDEX`, …) the tenant's schema has: what the restore creates. */
    kinds: Record<string, number>;
    /** The listing with the schema's own entries (CREATE SCHEMA, its ACL and comment) commented out: `pg_restore -L`. */
    list: string;
}

/** `<id>; <tableoid> <oid> <DESC WORDS> <schema> <tag…> <owner>`: the description is upper-case words, the schema follows. */
const ENTRY = /^(\d+); (\d+) (\d+) ((?:[A-Z]+ )*[A-Z]+) (\S+) (.*)$/;

/**
 * Reads `pg_restore --list` output for a tenant whose schema is `schema`. Pure (tests feed it listings). Entries of
 * the schema itself (`SCHEMA - t_acme …`, `ACL - SCHEMA t_acme …`, `COMMENT - SCHEMA t_acme …`) are left out of the
 * list: the restore creates the schema itself, owned by the tenant's owner, with the privileges the program declares.
 */
export function parseToc(listing: string, schema: string): DumpToc {
    const schemas: string[] = [];
    const foreign: string[] = [];
    const out: string[] = [];
    const kinds: Record<string, number> = {};
    let dumpedFrom: string | undefined;
    let dumpedBy: string | undefined;
    for (const line of listing.split("\n")) {
        const header = /^;\s+Dumped (from database|by pg_dump) version: (.*)$/.exec(line);
        if (header) {
            if (header[1] === "by pg_dump") dumpedBy = header[2]!.trim();
            else dumpedFrom = header[2]!.trim();
        }
        const m = ENTRY.exec(line);
        if (!m) {
            out.push(line);
            continue;
        }
        const [, , , , desc, entrySchema, rest] = m;
        const tag = rest!.split(" ")[0]!;
        if (desc === "SCHEMA" && entrySchema === "-") {
            schemas.push(tag);
            out.push(`;${line}`);
            continue;
        }
        if ((desc === "ACL" || desc === "COMMENT" || desc === "SECURITY LABEL") && entrySchema === "-" && rest!.startsWith(`SCHEMA ${schema} `)) {
            out.push(`;${line}`);
            continue;
        }
        if (entrySchema !== "-" && entrySchema !== schema) foreign.push(`${desc} ${entrySchema}.${tag}`);
        else if (entrySchema === schema) kinds[desc!] = (kinds[desc!] ?? 0) + 1;
        out.push(line);
    }
    return { schemas, foreign, kinds, ...(dumpedFrom ? { dumpedFrom } : {}), ...(dumpedBy ? { dumpedBy } : {}), list: out.join("\n") };
}

/** The relations a dump's restore creates, and the locks its one transaction holds until COMMIT (one per relation). */
export interface TocLocks {
    /** Tables (partitions included) and materialized views: 3 locks each (the relation, its TOAST table and TOAST index). */
    tables: number;
    /** Indexes, those of PRIMARY KEY, UNIQUE and EXCLUDE constraints included. */
    indexes: number;
    sequences: number;
    views: number;
    locks: number;
}

export function tocLocks(toc: DumpToc): TocLocks {
    const k = (d: string): number => toc.kinds[d] ?? 0;
    const tables = k("TABLE") + k("MATERIALIZED VIEW");
    const indexes = k("INDEX") + k("CONSTRAINT");
    const [sequences, views] = [k("SEQUENCE"), k("VIEW")];
    return { tables, indexes, sequences, views, locks: 3 * tables + indexes + sequences + views };
}

export interface LockSettings {
    maxLocksPerTransaction: number;
    maxConnections: number;
    maxPreparedTransactions: number;
}

/**
 * The restore loads in ONE transaction (restore/load.ts), holding an AccessExclusive lock on every relation it creates
 * until COMMIT, from the lock table all sessions of the server share (max_locks_per_transaction × (max_connections +
 * max_prepared_transactions) slots). Taking most of it would make other tenants' statements fail with "out of shared
 * memory": a restore may take a quarter. Pure (tests call it); undefined when within.
 */
export const LOCK_SHARE = 4;
export function lockBudgetProblem(l: TocLocks, s: LockSettings, target: string): string | undefined {
    const backends = s.maxConnections + s.maxPreparedTransactions;
    const slots = s.maxLocksPerTransaction * backends;
    const budget = Math.floor(slots / LOCK_SHARE);
    if (l.locks <= budget) return undefined;
    const needed = Math.ceil((l.locks * LOCK_SHARE) / backends);
    return `the dump restores ${l.locks} relations (${l.tables} tables with their TOAST, ${l.indexes} indexes, ${l.sequences} sequences, ${l.views} views) in ONE transaction, each locked until its COMMIT ` +
        `in the lock table every session on ${target} shares: max_locks_per_transaction ${s.maxLocksPerTransaction} × (max_connections ${s.maxConnections} + max_prepared_transactions ${s.maxPreparedTransactions}) = ${slots} slots, ` +
        `and a restore may take at most a quarter (${budget}) so that the other tenants' sessions keep theirs (allowed: raise max_locks_per_transaction to at least ${needed} ` +
        `in the placement's parameter group, a static parameter applied at its next reboot, then run again in a quiet window)`;
}

/** Problems of a table of contents for tenant `tenant` (schema `schema`): empty when it is exactly that schema's dump. */
export function tocProblems(toc: DumpToc, file: string, tenant: string, schema: string): string[] {
    const problems: string[] = [];
    if (toc.schemas.length === 0) problems.push(`${file}: holds no schema (allowed: pg_dump --format=custom --schema=${schema})`);
    else if (toc.schemas.length > 1 || toc.schemas[0] !== schema) {
        problems.push(`${file}: a dump of schema${toc.schemas.length > 1 ? "s" : ""} ${toc.schemas.join(", ")}, not of tenant ${tenant}'s ${schema} (allowed: a dump of exactly ${schema})`);
    }
    else if (toc.foreign.length) problems.push(`${file}: holds objects of other schemas (${toc.foreign.slice(0, 3).join(", ")}${toc.foreign.length > 3 ? ", …" : ""}) (allowed: a dump of exactly ${schema})`);
    return problems;
}

/** The file must exist and be readable: said before any server is asked anything. */
export function fileProblems(file: string, flag = "--dump"): string[] {
    try {
        if (!statSync(file).isFile()) return [`${flag}: ${file} is not a file`];
        readFileSync(file, { flag: "r" }).subarray(0, 0);
        return [];
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return [`${flag}: ${file} cannot be read (${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (err as Error).message})`];
    }
}

/** Reads and checks an archive's table of contents with the newest pg_restore installed. */
export async function readToc(file: string, tenant: string, schema: string): Promise<DumpToc> {
    const pgRestore = await newestTool("pg_restore");
    let listing: string;
    try {
        listing = await run(pgRestore, ["--list", file], { what: `cannot read ${file}` });
    } catch (err) {
        throw new RestoreError(`${(err as Error).message.split("\n")[0]} (allowed: a pg_dump --format=custom archive)`, 1);
    }
    const toc = parseToc(listing, schema);
    const problems = tocProblems(toc, file, tenant, schema);
    if (problems.length) throw new RestoreError(`${file} is not tenant ${tenant}'s dump`, 1, problems);
    return toc;
}

/** The dump's SHA-256: identifies what a side schema was restored from, so a re-run recognises it. */
export function sha256(file: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const hash = createHash("sha256");
        createReadStream(file).on("data", (d) => hash.update(d)).once("error", reject).once("end", () => resolve(hash.digest("hex")));
    });
}

/** The manifest DUMPS writes beside a dump (DAY2.md): what the restore checks when it is there. */
export interface Manifest {
    slug: string;
    cell?: string;
    schema: string;
    serverVersion?: string;
    startedAt?: string;
    finishedAt?: string;
    tables: { name: string; rows: number }[];
}

/** `<dir>/<name>.json` beside `<dir>/<name>.dump`, else `<file>.json`; undefined when neither exists. */
export function manifestPath(file: string): string | undefined {
    const candidates = [file.replace(/\.dump$/, "") + ".json", `${file}.json`];
    return candidates.find((c) => c !== file && existsSync(c));
}

/** Reads and checks a manifest: JSON, the tenant's slug and schema, tables with whole row counts. */
export function readManifest(file: string, tenant: string, schema: string): Manifest {
    let raw: unknown;
    try {
        raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
        throw new RestoreError(`manifest ${file} cannot be read: ${(err as Error).message}`, 1);
    }
    const m = raw as Partial<Manifest>;
    const problems: string[] = [];
    if (typeof raw !== "object" || raw === null) problems.push(`${file}: not a JSON object`);
    else {
        if (m.slug !== tenant) problems.push(`${file} slug: '${String(m.slug)}' (allowed: ${tenant}, the tenant being restored)`);
        if (m.schema !== schema) problems.push(`${file} schema: '${String(m.schema)}' (allowed: ${schema})`);
        if (!Array.isArray(m.tables) || m.tables.some((t) => typeof t?.name !== "string" || !Number.isInteger(t?.rows) || t.rows < 0)) {
            problems.push(`${file} tables: must be a list of { name, rows } with whole row counts`);
        }
    }
    if (problems.length) throw new RestoreError(`manifest ${file} does not describe tenant ${tenant}'s dump`, 1, problems);
    // Names may be qualified (`t_acme.orders`): the schema is known.
    return { ...(m as Manifest), tables: m.tables!.map((t) => ({ name: t.name.startsWith(`${schema}.`) ? t.name.slice(schema.length + 1) : t.name, rows: t.rows })) };
}

/** A dump taken here from `--source`, with the source's digest in the same snapshot. Call `cleanup()` when done. */
export interface SourceDump {
    file: string;
    digest: SchemaDigest;
    cleanup: () => void;
}

/**
 * `pg_dump --format=custom --schema=<schema>` of the source (a cluster cloned or restored to a point in time) with the
 * client of its major version, inside an exported snapshot that the tool also hashes: the restored copy is checked
 * against exactly what was dumped. The admin reads the tenant's tables as a member of its owner role, granted for the
 * dump and revoked afterwards (a kill in between leaves the membership on the clone only).
 */
export async function dumpSource(source: Endpoint, tenant: string, schema: string, ownerRole: string): Promise<SourceDump> {
    const client = await connect(source);
    const dir = mkdtempSync(path.join(tmpdir(), "tenancy-restore-"));
    const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
    try {
        const { rows } = await client.query("SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1) AS schema, EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $2) AS owner", [schema, ownerRole]);
        if (rows[0]!["schema"] !== true) throw new RestoreError(`--source ${source.label} has no schema ${schema}: not a copy of tenant ${tenant}'s placement (allowed: the cell or instance restored or cloned to the time wanted)`, 1);
        if (rows[0]!["owner"] !== true) throw new RestoreError(`--source ${source.label} has no role ${ownerRole}: not a copy of tenant ${tenant}'s placement`, 1);
        const pgDump = await requireTool("pg_dump", await serverMajor(client), `the source's major version`);
        const file = path.join(dir, `${tenant}.dump`);
        const granted = await grantOwner(client, ownerRole);
        try {
            await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            const snapshot = (await client.query("SELECT pg_catalog.pg_export_snapshot() AS s")).rows[0]!["s"] as string;
            const digest = await schemaDigest(client, schema);
            // `-n` takes a pattern: the quoted name matches exactly this schema.
            await run(pgDump, ["--format=custom", `--snapshot=${snapshot}`, "-n", `"${schema}"`, "-f", file], { ep: source, what: `pg_dump of ${schema} on ${source.label}` });
            await client.query("COMMIT");
            return { file, digest, cleanup };
        } finally {
            await client.query("ROLLBACK").catch(() => undefined);
            if (granted) await client.query(`REVOKE ${ident(ownerRole)} FROM CURRENT_USER`).catch(() => undefined);
        }
    } catch (err) {
        cleanup();
        throw err;
    } finally {
        await client.end().catch(() => undefined);
    }
}
