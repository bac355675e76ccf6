/**
 * The tenant schema's DDL from a real `pg_dump --schema-only` of the SOURCE, with the client of the source server's
 * major version, replayed on the target through `psql` (pg_dump 15.18 writes `\restrict` meta-commands a driver cannot
 * run). Pre-data (types, tables, views, functions, sequences) at prepare; post-data (primary keys, indexes, foreign keys,
 * triggers) after the initial copy, so rows load without index maintenance or FK order.
 */
import { execFile, spawn } from "child_process";
import { existsSync } from "fs";
import * as path from "path";
import type { Client } from "pg";
import { connect, ident, libpqEnv, literal, serverMajor, withClient } from "./connect";
import { MoveError, type Endpoint, type MoveContext } from "./types";

export type Section = "pre-data" | "post-data";

/** Directory of Debian's (and the PGDG packages') binaries of one major version. */
export const debianBinDir = (major: number): string => `/usr/lib/postgresql/${major}/bin`;

/** `pg_dump (PostgreSQL) 15.18 (Debian …)` → 15; undefined when the tool does not run. */
function toolMajor(file: string): Promise<number | undefined> {
    return new Promise((resolve) => {
        execFile(file, ["--version"], { timeout: 10_000 }, (err, stdout) => {
            const m = /\(PostgreSQL\)\s+(\d+)/.exec(String(stdout));
            resolve(err || !m ? undefined : Number(m[1]));
        });
    });
}

/** Candidates for a libpq tool of `major`: Debian's versioned directory first, then every PATH entry. */
function candidates(tool: "pg_dump" | "psql", major: number): string[] {
    const dirs = [debianBinDir(major), ...(process.env["PATH"] ?? "").split(path.delimiter).filter(Boolean)];
    return [...new Set(dirs.map((d) => path.join(d, tool)))].filter((f) => existsSync(f));
}

/**
 * The `pg_dump` or `psql` of the given major version, or undefined. pg_dump refuses newer servers and an older dump's
 * DDL may miss features, so the major must match the source server's exactly.
 */
export async function findTool(tool: "pg_dump" | "psql", major: number): Promise<string | undefined> {
    for (const file of candidates(tool, major)) {
        if ((await toolMajor(file)) === major) return file;
    }
    return undefined;
}

/** The remedy when a tool of that major is missing. */
export function missingToolMessage(tool: "pg_dump" | "psql", major: number): string {
    return `${tool} of PostgreSQL ${major} not found (looked in ${debianBinDir(major)} and PATH): install the client of the source's major version, e.g. \`apt-get install postgresql-client-${major}\``;
}

async function requireTool(tool: "pg_dump" | "psql", major: number): Promise<string> {
    const file = await findTool(tool, major);
    if (!file) throw new MoveError(missingToolMessage(tool, major), 1, [missingToolMessage(tool, major)]);
    return file;
}

/** Runs a tool with the endpoint's credentials in its environment; rejects with its stderr (no password is in it). */
function run(file: string, args: string[], ep: Endpoint, input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { env: libpqEnv(ep), stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        let err = "";
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.once("error", (e) => reject(new MoveError(`${path.basename(file)}: ${e.message}`, 1)));
        child.once("close", (code) => {
            if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
            else reject(new MoveError(`${path.basename(file)} on ${ep.label} failed (exit ${code}): ${err.trim()}`, 1));
        });
        child.stdin.on("error", () => undefined); // the tool may exit before reading all of its input; its exit code says why
        child.stdin.end(input ?? "");
    });
}

/**
 * `pg_dump --schema-only --no-owner --no-privileges --section=<section> -n <schema>` of the source: objects are
 * re-owned by the tenant owner on the target and privileges come from the target placement's declaration, never from
 * roles that may exist only on the source.
 */
export async function dumpSchema(source: Endpoint, schema: string, section: Section): Promise<string> {
    const major = await withClient(source, serverMajor);
    const pgDump = await requireTool("pg_dump", major);
    // `-n` takes a pattern: the quoted name matches exactly this schema (no case folding, no wildcards).
    const pattern = `"${schema.replace(/"/g, '""')}"`;
    return run(pgDump, ["--schema-only", "--no-owner", "--no-privileges", `--section=${section}`, "-n", pattern], source);
}

/**
 * pg_dump's `CREATE SCHEMA <schema>;`: the schema exists on the target already (created for, or declared by, the
 * placement, with its owner and privileges) and must not be re-created.
 */
export function withoutCreateSchema(sql: string, schema?: string): string {
    const names = schema === undefined ? undefined : new Set([schema, ident(schema)]);
    return sql
        .split("\n")
        .filter((line) => {
            const m = /^CREATE SCHEMA (.+);$/.exec(line.trim());
            return !(m && (!names || names.has(m[1]!)));
        })
        .join("\n");
}

/** The pieces of a psql script that loads DDL as the tenant owner, then continues as the admin. */
export function asOwner(sql: string, ownerRole: string, schema?: string): string {
    return [`SET ROLE ${ident(ownerRole)};`, withoutCreateSchema(sql, schema), "RESET ROLE;", "SELECT pg_catalog.set_config('search_path', 'pg_catalog', false);"].join("\n");
}

/**
 * Runs a psql script on the target in one transaction (`--single-transaction`, `ON_ERROR_STOP`): all of it or nothing,
 * so a kill or an error never leaves half a schema behind.
 */
export async function runPsql(target: Endpoint, script: string): Promise<void> {
    const major = await withClient(target, serverMajor);
    const psql = await requireTool("psql", major);
    await run(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-"], target, script);
}

/**
 * Loads DDL on the target as the tenant owner (`SET ROLE`): objects are owned by the owner, and the owner's default
 * privileges give the app and reporting roles their access. The admin must be a member of the owner role.
 */
export async function applyDdl(target: Endpoint, sql: string, ownerRole: string, schema?: string): Promise<void> {
    await runPsql(target, asOwner(sql, ownerRole, schema));
}

/** Triggers of the schema's tables (not constraint triggers), `relation` qualified and quoted. */
async function userTriggers(client: Client, schema: string): Promise<{ relation: string; name: string; enabled: string }[]> {
    const { rows } = await client.query(
        `SELECT format('%I.%I', n.nspname, c.relname) AS relation, t.tgname AS name, t.tgenabled AS enabled
           FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND NOT t.tgisinternal AND t.tgparentid = 0
          ORDER BY 1, 2`,
        [schema],
    );
    return rows as { relation: string; name: string; enabled: string }[];
}

/**
 * The post-data DDL on the target, once (recorded in `tenancy_move.moves.postdata_done` in the same transaction). The
 * tenant's own triggers are created disabled: the engine applies the source's changes row by row, and a trigger
 * (an audit row, a counter) would apply a second time what the source's trigger already wrote and replicated.
 * {@link restoreTriggers} enables them as on the source at cutover.
 */
export async function applyPostData(ctx: Pick<MoveContext, "tenant" | "schema" | "source" | "target" | "ownerRole" | "progress">): Promise<void> {
    const target = await connect(ctx.target);
    let done: boolean;
    try {
        const { rows } = await target.query("SELECT postdata_done FROM tenancy_move.moves WHERE tenant = $1", [ctx.tenant]);
        if (!rows.length) throw new MoveError(`tenant ${ctx.tenant} is not prepared on ${ctx.target.label}: run --phase prepare first`, 1);
        done = rows[0]!["postdata_done"] === true;
    } finally {
        await target.end().catch(() => undefined);
    }
    if (done) return;
    ctx.progress({ kind: "step", message: "loading post-data DDL (primary keys, indexes, foreign keys, triggers)" });
    const sql = await dumpSchema(ctx.source, ctx.schema, "post-data");
    const disable = [
        `DO $$ DECLARE r record; BEGIN
           FOR r IN SELECT format('%I.%I', n.nspname, c.relname) AS rel, t.tgname FROM pg_catalog.pg_trigger t
                      JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ${literal(ctx.schema)} AND NOT t.tgisinternal AND t.tgparentid = 0 LOOP
             EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', r.rel, r.tgname);
           END LOOP; END $$;`,
    ];
    const record = `UPDATE tenancy_move.moves SET postdata_done = true WHERE tenant = ${literal(ctx.tenant)};`;
    // Triggers are disabled as the owner (who owns the tables); the state row is the admin's.
    await runPsql(ctx.target, [`SET ROLE ${ident(ctx.ownerRole)};`, withoutCreateSchema(sql, ctx.schema), ...disable, "RESET ROLE;", record].join("\n"));
}

/**
 * Enables each trigger on the target as it is on the source (`O` origin, `A` always, `R` replica, `D` disabled), as
 * the owner. Runs inside the write pause, after the last change is applied. Returns how many were enabled.
 */
export async function restoreTriggers(source: Client, target: Client, schema: string, ownerRole: string): Promise<number> {
    const want = new Map((await userTriggers(source, schema)).map((t) => [`${t.relation}.${t.name}`, t.enabled]));
    const actions: Record<string, string> = { O: "ENABLE TRIGGER", A: "ENABLE ALWAYS TRIGGER", R: "ENABLE REPLICA TRIGGER", D: "DISABLE TRIGGER" };
    let enabled = 0;
    await target.query(`SET ROLE ${ident(ownerRole)}`);
    try {
        for (const t of await userTriggers(target, schema)) {
            const state = want.get(`${t.relation}.${t.name}`) ?? "D";
            if (state === t.enabled) continue;
            await target.query(`ALTER TABLE ${t.relation} ${actions[state] ?? "DISABLE TRIGGER"} ${ident(t.name)}`);
            if (state !== "D") enabled++;
        }
    } finally {
        await target.query("RESET ROLE");
    }
    return enabled;
}
