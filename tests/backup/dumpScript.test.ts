/**
 * The dump program (backup/dump.sh) on a real PostgreSQL 15 cell laid out by the program's own SQL: the platform's
 * hardening and two shared tenants rendered from a recorded fixture stack (tools/sql.ts), applied by a non-superuser
 * master like Aurora's. The job logs in as `tenancy_backup` (never the master), with PostgreSQL 15's pg_dump (the
 * server's major) and a fake `aws` on PATH that keeps the uploads in a directory: the layout of the keys, that each
 * dump holds exactly its tenant's schema, the manifest's row counts, and that one broken tenant fails alone.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantOwnerRoleName, tenantSchemaName } from "../../components/naming";
import { POSTGRESQL_TYPES } from "../../tools/sql/render";
import { recordStack, selectPostgresql, stackSql } from "../../tools/sql";
import { applyStatements } from "../support/applySql";
import { PG15_BIN, startPg15, type Pg15Server } from "../support/pg15";
import { makeTempDir, removeAfterFile } from "../support/tempDirs";
import { makeRepo, sharedTenant } from "../tenants/fixtures";

const SCRIPT = path.resolve(__dirname, "../../backup/dump.sh");
const BACKUP_ROLE = "tenancy_backup";
const MASTER = "tenancy_admin";
const BUCKET = "tenancy-test-schema-dumps";
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
/** Rows per tenant and table: counted by the manifest, read back from the dump. */
const ROWS = { acme: { accounts: 3, invoices: 5 }, globex: { accounts: 2, invoices: 0 } } as const;
type Slug = keyof typeof ROWS;
const SLUGS = Object.keys(ROWS) as Slug[];

/** A fake `aws`: `s3 cp <file> s3://<bucket>/<key> …` copies into $FAKE_S3/<bucket>/<key>; every call is logged. */
const FAKE_AWS = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$FAKE_S3/calls.log"
if [ "$1 $2" = "s3 cp" ]; then
  dest="$FAKE_S3/\${4#s3://}"; mkdir -p "$(dirname "$dest")"; cp "$3" "$dest"; exit 0
fi
[ "$1 $2" = "cloudwatch put-metric-data" ] && exit 0
echo "fake aws: unexpected call: $*" >&2; exit 2
`;

interface Run { status: number | null; stdout: string; stderr: string; s3: string; calls: string[] }

let pg: Pg15Server;
const passwords: Record<string, string> = {};
let work: string;

/** Runs the dump script against the cell as `tenancy_backup`, with PostgreSQL 15's clients first on PATH. */
function runDump(extraEnv: Record<string, string> = {}): Run {
    const dir = fs.mkdtempSync(path.join(work, "run-"));
    const s3 = path.join(dir, "s3");
    const scratch = path.join(dir, "scratch");
    fs.mkdirSync(s3);
    fs.mkdirSync(scratch);
    const env: Record<string, string> = {
        PATH: `${path.join(work, "bin")}:${PG15_BIN}:${process.env["PATH"]}`,
        HOME: scratch,
        PGHOST: pg.host, PGPORT: String(pg.port), PGDATABASE: "tenancy", PGUSER: BACKUP_ROLE, PGPASSWORD: passwords[BACKUP_ROLE]!,
        PGSSLMODE: "disable",
        DUMP_BUCKET: BUCKET, DUMP_CELL: "main", DUMP_STACK: "test", DUMP_SSE_KMS_ARN: KEY_ARN, DUMP_SCRATCH: scratch,
        FAKE_S3: s3,
        ...extraEnv,
    };
    const r = spawnSync("bash", [SCRIPT], { env, encoding: "utf8", timeout: 30_000 });
    const log = path.join(s3, "calls.log");
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, s3, calls };
}

/** Every object key uploaded under the bucket, sorted. */
function keys(s3: string): string[] {
    const root = path.join(s3, BUCKET);
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[]).filter((k) => fs.statSync(path.join(root, k)).isFile()).sort();
}

beforeAll(async () => {
    work = makeTempDir("tenancy-dumps-");
    fs.mkdirSync(path.join(work, "bin"));
    fs.writeFileSync(path.join(work, "bin", "aws"), FAKE_AWS, { mode: 0o755 });
    const root = makeRepo(Object.fromEntries(SLUGS.map((s) => [`${s}.yaml`, sharedTenant(s)])));
    removeAfterFile(root);
    const recording = await recordStack(root, "test");
    for (const r of selectPostgresql(recording.resources, { kind: "all" })) {
        if (r.type === POSTGRESQL_TYPES.role) passwords[r.inputs["name"] as string] = randomBytes(12).toString("hex");
    }
    pg = await startPg15();
    // Arranged as the superuser, as RDS arranges it: the master user of the program's provider (no superuser) owning the app database.
    passwords[MASTER] = randomBytes(12).toString("hex");
    const su = await pg.superuserClient("postgres");
    try {
        await su.query(`CREATE ROLE ${MASTER} LOGIN PASSWORD '${passwords[MASTER]}' NOSUPERUSER CREATEROLE CREATEDB`);
        await su.query(`CREATE DATABASE tenancy OWNER ${MASTER}`);
    } finally {
        await su.end();
    }
    const asMaster = (db: string) => pg.connect(MASTER, passwords[MASTER]!, db);
    await applyStatements(asMaster, stackSql(recording, { kind: "platform" }, { passwords }), "tenancy");
    for (const s of SLUGS) await applyStatements(asMaster, stackSql(recording, { kind: "tenant", slug: s }, { passwords }), "tenancy");
    // Each tenant's migrations, as its owner: a serial (a sequence pg_dump must read) and an identity column.
    for (const s of SLUGS) {
        const owner = await pg.connect(tenantOwnerRoleName(s), passwords[tenantOwnerRoleName(s)]!, "tenancy");
        try {
            const schema = tenantSchemaName(s);
            await owner.query(`CREATE TABLE ${schema}.accounts (id serial PRIMARY KEY, name text NOT NULL)`);
            await owner.query(`CREATE TABLE ${schema}.invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account int REFERENCES ${schema}.accounts, note text)`);
            await owner.query(`INSERT INTO ${schema}.accounts (name) SELECT 'account ' || i || E'\\nsecond line' FROM generate_series(1, $1) i`, [ROWS[s].accounts]);
            await owner.query(`INSERT INTO ${schema}.invoices (account, note) SELECT 1, 'invoice ' || i FROM generate_series(1, $1) i`, [ROWS[s].invoices]);
        } finally {
            await owner.end();
        }
    }
}, 30_000);

afterAll(async () => {
    await pg?.stop();
});

describe("backup/dump.sh on a PostgreSQL 15 cell", () => {
    let run: Run;
    beforeAll(() => {
        run = runDump();
    });

    it("dumps every shared tenant of the cell to <cell>/<slug>/<UTC time>.dump with its .json manifest, and exits 0", () => {
        expect(run.stderr).not.toMatch(/ERROR|FAILED/);
        expect(run.status, run.stderr).toBe(0);
        const got = keys(run.s3);
        expect(got).toHaveLength(4);
        const stamp = "\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z";
        for (const s of SLUGS) {
            const own = got.filter((k) => k.startsWith(`main/${s}/`));
            expect(own.map((k) => k.replace(new RegExp(stamp), "<time>"))).toEqual([`main/${s}/<time>.dump`, `main/${s}/<time>.json`]);
            expect(own[0]!.replace(/\.dump$/, "")).toBe(own[1]!.replace(/\.json$/, ""));
        }
    });

    it("uploads encrypted with the bucket's KMS key, the manifest after its dump, and reports the tally as a metric", () => {
        const copies = run.calls.filter((c) => c.startsWith("s3 cp "));
        expect(copies).toHaveLength(4);
        for (const c of copies) expect(c).toContain(`--sse aws:kms --sse-kms-key-id ${KEY_ARN}`);
        for (const s of SLUGS) {
            const order = copies.filter((c) => c.includes(`/main/${s}/`)).map((c) => path.extname(c.split(" ")[3]!));
            expect(order).toEqual([".dump", ".json"]);
        }
        const metric = run.calls.filter((c) => c.startsWith("cloudwatch put-metric-data"));
        expect(metric).toHaveLength(1);
        expect(metric[0]).toContain("--namespace Tenancy/SchemaDumps");
        expect(metric[0]).toMatch(/"MetricName":"TenantsDumped".*"Value":2/);
        expect(metric[0]).toMatch(/"MetricName":"Failures".*"Value":0/);
        expect(metric[0]).toContain(`{"Name":"Stack","Value":"test"},{"Name":"Cell","Value":"main"}`);
    });

    it("each dump holds exactly its tenant's schema (pg_restore --list), data included", () => {
        for (const s of SLUGS) {
            const dump = keys(run.s3).find((k) => k.startsWith(`main/${s}/`) && k.endsWith(".dump"))!;
            const list = spawnSync(path.join(PG15_BIN, "pg_restore"), ["--list", path.join(run.s3, BUCKET, dump)], { encoding: "utf8" });
            expect(list.status, list.stderr).toBe(0);
            const entries = list.stdout.split("\n").filter((l) => l && !l.startsWith(";"));
            expect(entries.length).toBeGreaterThan(5);
            // `<id>; <tableoid> <oid> <TYPE…> <schema…> <name> <owner>`: every entry names the tenant's schema, none another's or public.
            for (const l of entries) {
                const words = l.split(" ").slice(3);
                expect(words, l).toContain(tenantSchemaName(s));
                expect(words.filter((w) => w === "public" || (/^t_\w+$/.test(w) && !w.endsWith("_owner") && w !== tenantSchemaName(s))), l).toEqual([]);
            }
            expect(entries.some((l) => / TABLE DATA t_\w+ accounts /.test(l))).toBe(true);
            expect(entries.some((l) => / SEQUENCE SET t_\w+ accounts_id_seq /.test(l))).toBe(true);
        }
    });

    it("the manifest names the tenant, the cell, the schema and the server, and counts each table's rows in the dump's snapshot", () => {
        for (const s of SLUGS) {
            const key = keys(run.s3).find((k) => k.startsWith(`main/${s}/`) && k.endsWith(".json"))!;
            const manifest = JSON.parse(fs.readFileSync(path.join(run.s3, BUCKET, key), "utf8"));
            expect(Object.keys(manifest).sort()).toEqual(["cell", "finishedAt", "schema", "serverVersion", "slug", "startedAt", "tables"]);
            expect(manifest).toMatchObject({ slug: s, cell: "main", schema: tenantSchemaName(s) });
            expect(manifest.serverVersion).toMatch(/^15\.\d+/);
            expect(manifest.tables).toEqual([{ name: "accounts", rows: ROWS[s].accounts }, { name: "invoices", rows: ROWS[s].invoices }]);
            expect(Date.parse(manifest.startedAt)).toBeLessThanOrEqual(Date.parse(manifest.finishedAt));
            expect(key).toContain(manifest.startedAt.replace(/:/g, "-"));
            // The rows really are in the dump: restored as plain SQL, each table's COPY block has that many lines.
            const dump = path.join(run.s3, BUCKET, key.replace(/\.json$/, ".dump"));
            const sql = spawnSync(path.join(PG15_BIN, "pg_restore"), ["--data-only", "--file=-", dump], { encoding: "utf8" }).stdout;
            for (const t of manifest.tables as { name: string; rows: number }[]) {
                const block = new RegExp(`COPY ${tenantSchemaName(s)}\\.${t.name} [^\\n]*\\n([\\s\\S]*?)\\\\\\.\\n`).exec(sql)![1]!;
                expect(block.split("\n").filter(Boolean), `${s}.${t.name}`).toHaveLength(t.rows);
            }
        }
    });
});

describe("backup/dump.sh when something goes wrong", () => {
    it("a tenant it cannot dump fails alone: the others are dumped, the failure is logged and counted, and the exit status is 1", async () => {
        // A schema the program did not grant the backup role anything on (e.g. a tenant created by hand).
        const su = await pg.superuserClient("tenancy");
        try {
            await su.query("CREATE ROLE t_broken_owner NOLOGIN");
            await su.query("CREATE SCHEMA t_broken AUTHORIZATION t_broken_owner");
            await su.query("CREATE TABLE t_broken.secrets (x int)");
            await su.query("ALTER TABLE t_broken.secrets OWNER TO t_broken_owner");
        } finally {
            await su.end();
        }
        try {
            const run = runDump();
            expect(run.status, run.stderr).toBe(1);
            expect(run.stderr).toMatch(/broken.*FAILED/);
            expect(run.stderr.match(/FAILED \(/g), run.stderr).toHaveLength(1);
            const got = keys(run.s3);
            expect(got.filter((k) => k.startsWith("main/broken/"))).toEqual([]);
            for (const s of SLUGS) expect(got.filter((k) => k.startsWith(`main/${s}/`)), s).toHaveLength(2);
            const metric = run.calls.find((c) => c.startsWith("cloudwatch put-metric-data"))!;
            expect(metric).toMatch(/"MetricName":"Failures".*"Value":1/);
        } finally {
            const cleanup = await pg.superuserClient("tenancy");
            await cleanup.query("DROP SCHEMA t_broken CASCADE; DROP ROLE t_broken_owner").finally(() => cleanup.end());
        }
    });

    it("server messages (NOTICE, WARNING, DEBUG) on the snapshot session are logged, never read as its snapshot id or counts", () => {
        // debug5: the server sends DEBUG lines on every statement of every session, the snapshot session's included.
        const run = runDump({ PGOPTIONS: "-c client_min_messages=debug5" });
        expect(run.stderr).not.toMatch(/FAILED|could not/);
        expect(run.status, run.stderr).toBe(0);
        expect(keys(run.s3)).toHaveLength(4);
    });

    it("a tenant table under row-level security fails its tenant with the table and the remedy named, rather than a short count", async () => {
        const owner = await pg.connect(tenantOwnerRoleName("acme"), passwords[tenantOwnerRoleName("acme")]!, "tenancy");
        try {
            await owner.query(`ALTER TABLE ${tenantSchemaName("acme")}.invoices ENABLE ROW LEVEL SECURITY`);
            const run = runDump();
            expect(run.status, run.stderr).toBe(1);
            expect(run.stderr).toMatch(/acme: row-level security on t_acme\.invoices: .*README/);
            expect(run.stderr.match(/FAILED \(/g), run.stderr).toHaveLength(1);
            expect(keys(run.s3).filter((k) => k.startsWith("main/acme/"))).toEqual([]);
            expect(keys(run.s3).filter((k) => k.startsWith("main/globex/"))).toHaveLength(2);
        } finally {
            await owner.query(`ALTER TABLE ${tenantSchemaName("acme")}.invoices DISABLE ROW LEVEL SECURITY`).finally(() => owner.end());
        }
    });

    it("a pg_dump of another major than the server's is refused before any dump, with exit status 2", () => {
        const fake = path.join(work, "pg16bin");
        fs.mkdirSync(fake, { recursive: true });
        fs.writeFileSync(path.join(fake, "pg_dump"), "#!/bin/sh\necho 'pg_dump (PostgreSQL) 16.4'\n", { mode: 0o755 });
        const run = runDump({ PATH: `${path.join(work, "bin")}:${fake}:${PG15_BIN}:${process.env["PATH"]}` });
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/pg_dump 16 does not match the server's major version 15/);
        expect(keys(run.s3)).toEqual([]);
        expect(run.calls.find((c) => c.startsWith("cloudwatch"))).toMatch(/"MetricName":"Failures".*"Value":1/);
    });

    it("the master user is never what it logs in as", () => {
        const run = runDump({ PGUSER: MASTER, PGPASSWORD: passwords[MASTER]! });
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/refuses to run as tenancy_admin/);
    });
});
