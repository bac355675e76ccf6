/**
 * A cell with two shared tenants laid out as the program makes them (the move tests' fixture: group role, reporting
 * role, owner and runtime roles, default privileges), a nightly dump taken as DUMPS takes it (pg_dump --format=custom
 * --schema, by the server's own client, here as the superuser standing in for the backup role) with its manifest, and
 * restore contexts.
 */
import { execFile } from "child_process";
import { writeFileSync } from "fs";
import { join } from "path";
import { endpoint } from "../../move/connect";
import { tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName } from "../../components/naming";
import type { Pg15Server } from "../support/pg15";
import { PG15_BIN } from "../support/pg15";
import { connect, tableDigests } from "../move/fixture";
import type { Mode, Origin, RestoreContext, Tier } from "../../restore/types";

export { connect, createTenant, roleUrl, tableDigests, FIXTURE_PASSWORD } from "../move/fixture";

/**
 * `pg_dump -Fc -n <schema>` of the app database to `file`, and (unless `manifest: false`) `<file without .dump>.json`
 * in the shape backup/dump.sh writes (DAY2.md's contract).
 */
export async function nightlyDump(server: Pg15Server, slug: string, file: string, opts: { manifest?: boolean; cell?: string } = {}): Promise<void> {
    const schema = tenantSchemaName(slug);
    await new Promise<void>((resolve, reject) => {
        execFile(join(PG15_BIN, "pg_dump"), ["--format=custom", `--schema=${schema}`, "-f", file], {
            env: { ...process.env, PGHOST: server.host, PGPORT: String(server.port), PGUSER: server.superuser.user, PGPASSWORD: server.superuser.password, PGDATABASE: "app" },
        }, (err, _out, stderr) => (err ? reject(new Error(`pg_dump: ${stderr}`)) : resolve()));
    });
    if (opts.manifest === false) return;
    const c = await connect(server.superuserUrl());
    try {
        const { rows } = await c.query(
            // As backup/dump.sh counts them: leaf tables (partitions, not their partitioned parent).
            `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
            [schema],
        );
        const tables = [];
        for (const r of rows) tables.push({ name: r["name"] as string, rows: Number((await c.query(`SELECT count(*) AS n FROM ${schema}.${r["name"] as string}`)).rows[0]!["n"]) });
        const manifest = { slug, cell: opts.cell ?? "main", schema, serverVersion: "15", startedAt: "2026-11-23T02:00:00Z", finishedAt: "2026-11-23T02:00:01Z", tables };
        writeFileSync(file.replace(/\.dump$/, ".json"), JSON.stringify(manifest, null, 2));
    } finally {
        await c.end();
    }
}

/** A restore context of `slug` on `targetUrl` (progress collected in `log`). */
export function restoreContext(targetUrl: string, slug: string, origin: Origin, mode: Mode, log: string[] = [], tier: Tier = "shared"): RestoreContext {
    return {
        tenant: slug,
        schema: tenantSchemaName(slug),
        ownerRole: tenantOwnerRoleName(slug),
        runtimeRole: tenantRuntimeRoleName(slug),
        tier,
        origin,
        target: endpoint(targetUrl),
        mode,
        progress: (m) => log.push(m),
    };
}

/** Digests of a schema as the superuser sees it (the tests' own, independent of the tool's). */
export async function digestsOf(server: Pg15Server, schema: string): Promise<Record<string, { rows: number; md5: string }>> {
    const c = await connect(server.superuserUrl());
    try {
        // Keyed by the table's own name, so that a side schema compares with the tenant's.
        return Object.fromEntries(Object.entries(await tableDigests(c, schema)).map(([k, v]) => [k.slice(k.indexOf(".") + 1), v]));
    } finally {
        await c.end();
    }
}

/** The first row of a query as the superuser. */
export async function one(server: Pg15Server, sql: string, values: unknown[] = []): Promise<Record<string, unknown> | undefined> {
    const c = await connect(server.superuserUrl());
    try {
        return (await c.query(sql, values)).rows[0];
    } finally {
        await c.end();
    }
}
