/**
 * A realistic shared-tier tenant for the move engine's tests, on a real PostgreSQL server, laid out as the program
 * declares the shared tier (components/databaseHardening.ts, components/tenantDatabase.ts): the NOLOGIN group
 * `tenancy_tenants` alone may CONNECT to the app database, the login role `tenancy_reporting`, per tenant the owner
 * `t_<slug>_owner` owning schema `t_<slug>`, the runtime `t_<slug>_app` with DML through the owner's default
 * privileges, reporting with SELECT, and no EXECUTE for PUBLIC on new functions.
 *
 * Everything is created by the non-superuser `admin` (like an RDS master), which grants itself the owner role only
 * while it creates the schema and its objects (as the provider does) and gives it back: the engine must not rely on
 * a membership left behind.
 *
 * The data covers what a move must carry exactly: identity (ALWAYS and BY DEFAULT) and serial columns, foreign keys
 * (one ON DELETE CASCADE), jsonb, bytea, numeric, arrays, timestamptz, a generated stored column, TOASTed text, a
 * partitioned table, a view and a function. Rows are generated server-side (generate_series), so the 200k-row tenant
 * the issue asks for loads in a few seconds; `scale` shrinks it for tests that only need the shapes.
 */
import { Client } from "pg";
import { endpoint } from "../../move/connect";
import { applyDdl, dumpSchema } from "../../move/ddl";
import { createState } from "../../move/state";
import type { MoveContext, ProgressEvent } from "../../move/types";
import { REPORTING_ROLE, TENANTS_GROUP_ROLE, tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName } from "../../components/naming";

/** Passwords of the fixture's login roles (test servers listen on 127.0.0.1 only). */
export const FIXTURE_PASSWORD = "fixture-password";

/** `url` with another user and password (same host, port and database unless `database` is given). */
export function roleUrl(url: string, user: string, password = FIXTURE_PASSWORD, database?: string): string {
    const u = new URL(url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    if (database) u.pathname = `/${database}`;
    return u.toString();
}

/** A connected client; a session terminated by the server surfaces on its next query instead of crashing the worker. */
export async function connect(url: string): Promise<Client> {
    const client = new Client({ connectionString: url });
    client.on("error", () => undefined);
    await client.connect();
    return client;
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await connect(url);
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}

export interface FixtureTenant {
    slug: string;
    schema: string;
    owner: string;
    runtime: string;
    /** Connection URL of the runtime role (the app). */
    runtimeUrl: string;
    /** Connection URL of the owner role (migrations). */
    ownerUrl: string;
}

/** The tenant's tables, parents only (the partitions of `events` are `events_<yyyy_mm>`). */
export const FIXTURE_TABLES = ["customers", "products", "orders", "order_items", "events", "documents"] as const;

/**
 * The cell-level layout once per database, as DatabaseHardening declares it: PUBLIC loses CONNECT and CREATE on
 * `public`, `tenancy_tenants` alone may CONNECT, `tenancy_reporting` logs in. `adminUrl` is the admin's URL of the app database.
 */
export async function createSharedTier(adminUrl: string): Promise<void> {
    await withClient(adminUrl, async (c) => {
        const db = (await c.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db;
        const exists = (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [TENANTS_GROUP_ROLE])).rowCount;
        if (!exists) {
            await c.query(`CREATE ROLE ${TENANTS_GROUP_ROLE} NOLOGIN`);
            await c.query(`CREATE ROLE ${REPORTING_ROLE} LOGIN PASSWORD '${FIXTURE_PASSWORD}' IN ROLE ${TENANTS_GROUP_ROLE}`);
        }
        await c.query(`REVOKE ALL ON DATABASE ${c.escapeIdentifier(db)} FROM PUBLIC`);
        await c.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
        await c.query(`GRANT CONNECT ON DATABASE ${c.escapeIdentifier(db)} TO ${TENANTS_GROUP_ROLE}`);
    });
}

/** The roles and the empty schema of a shared tenant, as TenantDatabase declares them, created by the admin. */
export async function declareTenant(adminUrl: string, slug: string): Promise<FixtureTenant> {
    const schema = tenantSchemaName(slug);
    const owner = tenantOwnerRoleName(slug);
    const runtime = tenantRuntimeRoleName(slug);
    await withClient(adminUrl, async (c) => {
        const pw = `PASSWORD '${FIXTURE_PASSWORD}'`;
        await c.query(`CREATE ROLE ${owner} LOGIN ${pw} IN ROLE ${TENANTS_GROUP_ROLE} CONNECTION LIMIT 10`);
        await c.query(`ALTER ROLE ${owner} SET search_path = ${schema}`);
        await c.query(`CREATE ROLE ${runtime} LOGIN ${pw} IN ROLE ${TENANTS_GROUP_ROLE}`);
        await c.query(`ALTER ROLE ${runtime} SET search_path = ${schema}`);
        await c.query(`ALTER ROLE ${runtime} SET idle_in_transaction_session_timeout = 60000`);
        // The provider grants itself the owner role for what only a member may do, and takes it back.
        await c.query(`GRANT ${owner} TO CURRENT_USER`);
        await c.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${owner}`);
        await c.query(`GRANT USAGE ON SCHEMA ${schema} TO ${runtime}, ${REPORTING_ROLE}`);
        await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${runtime}`);
        await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${REPORTING_ROLE}`);
        await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${runtime}`);
        await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT SELECT ON SEQUENCES TO ${REPORTING_ROLE}`);
        await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`);
        await c.query(`REVOKE ${owner} FROM CURRENT_USER`);
    });
    return {
        slug, schema, owner, runtime,
        runtimeUrl: roleUrl(adminUrl, runtime),
        ownerUrl: roleUrl(adminUrl, owner),
    };
}

/** The tenant's schema objects, as its migrations (the owner) create them. */
export function schemaDdl(schema: string): string {
    return `
SET search_path = ${schema};
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE,
    profile jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    price numeric(12,2) NOT NULL,
    weight double precision,
    image bytea,
    attrs jsonb
);
CREATE TABLE orders (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers(id),
    placed_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'new',
    total numeric(14,4) NOT NULL DEFAULT 0,
    total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED,
    notes text
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line int NOT NULL,
    product_id int NOT NULL REFERENCES products(id),
    quantity int NOT NULL CHECK (quantity > 0),
    unit_price numeric(12,2) NOT NULL,
    PRIMARY KEY (order_id, line)
);
CREATE TABLE events (
    id bigserial,
    occurred_at timestamptz NOT NULL,
    kind text NOT NULL,
    payload jsonb,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_2024_01 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE events_2024_02 PARTITION OF events FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE events_later PARTITION OF events FOR VALUES FROM ('2024-03-01') TO (MAXVALUE);
CREATE TABLE documents (
    id int PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    revision int NOT NULL DEFAULT 1
);
CREATE VIEW order_totals AS
    SELECT o.customer_id, count(*) AS orders, sum(o.total) AS total FROM orders o GROUP BY o.customer_id;
CREATE FUNCTION customer_order_count(customer bigint) RETURNS bigint LANGUAGE sql STABLE
    AS 'SELECT count(*) FROM orders WHERE customer_id = customer';
`;
}

/** Rows per table at scale 1: 212,200 in all (the "at least 200k"). */
export const FIXTURE_ROWS = { customers: 20_000, products: 2_000, orders: 60_000, order_items: 100_000, events: 30_000, documents: 200 } as const;

/** Deterministic data at `scale` (1 = 212,200 rows), inserted as the owner through generate_series. */
export function dataSql(schema: string, scale = 1): string {
    const n = (k: keyof typeof FIXTURE_ROWS): number => Math.max(2, Math.round(FIXTURE_ROWS[k] * scale));
    const customers = n("customers");
    const products = n("products");
    const orders = n("orders");
    return `
SET search_path = ${schema};
INSERT INTO customers (name, email, profile, tags, created_at)
SELECT 'Customer ' || i, 'c' || i || '@example.com',
       jsonb_build_object('tier', (ARRAY['free','pro','ent'])[1 + i % 3], 'score', i % 97, 'nested', jsonb_build_object('k', i)),
       ARRAY['t' || (i % 5), 'é' || (i % 7)], timestamptz '2024-01-01 00:00:00+00' + i * interval '37 seconds'
FROM generate_series(1, ${customers}) i;
INSERT INTO products (sku, price, weight, image, attrs)
SELECT 'SKU-' || i, round((i * 1.37)::numeric % 1000, 2), i / 7.0, decode(md5(i::text) || '00ff', 'hex'),
       CASE WHEN i % 4 = 0 THEN NULL ELSE jsonb_build_object('color', 'c' || (i % 9)) END
FROM generate_series(1, ${products}) i;
INSERT INTO orders (customer_id, placed_at, status, total, notes)
SELECT 1 + i % ${customers}, timestamptz '2024-01-01 00:00:00.123456+00' + i * interval '11 seconds',
       (ARRAY['new','paid','shipped','cancelled'])[1 + i % 4], (i % 10000) / 7.0,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i || E' with \\\\ and \\t tab' END
FROM generate_series(1, ${orders}) i;
INSERT INTO order_items (order_id, line, product_id, quantity, unit_price)
SELECT 1 + (i - 1) % ${orders}, 1 + (i - 1) / ${orders}, 1 + i % ${products}, 1 + i % 5, (i % 500) + 0.99
FROM generate_series(1, ${n("order_items")}) i;
INSERT INTO events (occurred_at, kind, payload)
SELECT timestamptz '2024-01-01 00:00:00+00' + i * (interval '75 days' / ${n("events")}), 'kind' || (i % 6),
       CASE WHEN i % 5 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'arr', jsonb_build_array(i, i * 2)) END
FROM generate_series(1, ${n("events")}) i;
-- Bodies of ~6 kB of hex: too random to compress under the TOAST threshold, so they are stored out of line.
INSERT INTO documents (id, title, body)
SELECT i, 'Doc ' || i, (SELECT string_agg(md5(i::text || '-' || j), '') FROM generate_series(1, 200) j)
FROM generate_series(1, ${n("documents")}) i;
ANALYZE;
`;
}

/**
 * A realistic tenant `slug` on the server of `adminUrl` (its app database): the shared tier (once), the tenant's roles
 * and schema, its objects created and filled by the owner. `scale` 1 gives 212,200 rows.
 */
export async function createTenant(adminUrl: string, slug: string, opts: { scale?: number } = {}): Promise<FixtureTenant> {
    await createSharedTier(adminUrl);
    const tenant = await declareTenant(adminUrl, slug);
    await withClient(tenant.ownerUrl, async (c) => {
        await c.query("BEGIN");
        await c.query(schemaDdl(tenant.schema));
        await c.query(dataSql(tenant.schema, opts.scale ?? 1));
        await c.query("COMMIT");
    });
    return tenant;
}

/** One write the writer made, acknowledged (committed) or not. */
export interface Write {
    seq: number;
    op: "insert" | "update" | "delete";
    /** Unqualified table name. */
    table: "customers" | "orders" | "order_items" | "events";
    /** Primary key as text (composite keys joined with ','). */
    key: string;
    /** For updates: the value written to the updated column. */
    value?: string;
    /** The COMMIT returned: the write is durable on the source. */
    acknowledged: boolean;
    at: number;
}

export interface WriterReport {
    writes: Write[];
    acknowledged: number;
    /** Error messages of failed attempts (sessions terminated, logins refused), in order. */
    errors: { at: number; message: string }[];
}

export interface Writer {
    /** Acknowledged writes so far. */
    readonly acknowledged: () => number;
    /** Stops after the write in flight and reports every write. */
    stop(): Promise<WriterReport>;
}

/**
 * Keeps writing as the tenant's runtime role (the app) until stopped: each transaction inserts a customer, an order with
 * two items and an event, updates an earlier order's status and a customer's profile, and now and then deletes an item.
 * A failed transaction (session terminated, login refused after cutover) is recorded and retried on a new connection
 * after `pauseMs`.
 */
export function writer(runtimeUrl: string, opts: { pauseMs?: number } = {}): Writer {
    const pauseMs = opts.pauseMs ?? 5;
    const writes: Write[] = [];
    const errors: { at: number; message: string }[] = [];
    let acknowledged = 0;
    let stopping = false;
    let seq = 0;
    const run = async (): Promise<void> => {
        let client: Client | undefined;
        let round = 0;
        while (!stopping) {
            const pending: Write[] = [];
            const record = (w: Omit<Write, "seq" | "acknowledged" | "at">): void => {
                const write = { ...w, seq: ++seq, acknowledged: false, at: Date.now() };
                pending.push(write);
                writes.push(write);
            };
            try {
                client ??= await connect(runtimeUrl);
                round++;
                await client.query("BEGIN");
                const customer = (await client.query<{ id: string }>(
                    "INSERT INTO customers (name, email, profile, tags) VALUES ($1, $2, $3, $4) RETURNING id",
                    [`writer ${round}`, `writer-${process.pid}-${round}-${Date.now()}@example.com`, { round }, ["w", `r${round}`]],
                )).rows[0]!.id;
                record({ op: "insert", table: "customers", key: customer });
                const order = (await client.query<{ id: string }>(
                    "INSERT INTO orders (customer_id, total, notes) VALUES ($1, $2, $3) RETURNING id",
                    [customer, `${round}.1234`, `writer round ${round}`],
                )).rows[0]!.id;
                record({ op: "insert", table: "orders", key: order });
                for (const line of [1, 2]) {
                    await client.query("INSERT INTO order_items (order_id, line, product_id, quantity, unit_price) VALUES ($1, $2, 1, $2, 9.99)", [order, line]);
                    record({ op: "insert", table: "order_items", key: `${order},${line}` });
                }
                const event = (await client.query<{ id: string; occurred_at: string }>(
                    "INSERT INTO events (occurred_at, kind, payload) VALUES (now(), 'writer', $1) RETURNING id, occurred_at::text",
                    [{ round }],
                )).rows[0]!;
                record({ op: "insert", table: "events", key: `${event.id},${event.occurred_at}` });
                const status = `w${round}`;
                const updated = (await client.query<{ id: string }>(
                    "UPDATE orders SET status = $1 WHERE id = (SELECT min(id) + $2 % 1000 FROM orders) RETURNING id", [status, round],
                )).rows[0];
                if (updated) record({ op: "update", table: "orders", key: updated.id, value: status });
                const profiled = (await client.query<{ id: string }>(
                    "UPDATE customers SET profile = profile || $1 WHERE id = (SELECT min(id) + $2 % 1000 FROM customers) RETURNING id",
                    [{ writer: round }, round],
                )).rows[0];
                if (profiled) record({ op: "update", table: "customers", key: profiled.id, value: String(round) });
                if (round % 5 === 0) {
                    await client.query("DELETE FROM order_items WHERE order_id = $1 AND line = 2", [order]);
                    record({ op: "delete", table: "order_items", key: `${order},2` });
                }
                await client.query("COMMIT");
                for (const w of pending) w.acknowledged = true;
                acknowledged += pending.length;
            } catch (err) {
                errors.push({ at: Date.now(), message: (err as Error).message });
                await client?.end().catch(() => undefined);
                client = undefined;
                await new Promise((r) => setTimeout(r, Math.max(pauseMs, 50)));
            }
            if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        }
        await client?.end().catch(() => undefined);
    };
    const done = run();
    return {
        acknowledged: () => acknowledged,
        async stop() {
            stopping = true;
            await done;
            return { writes, acknowledged, errors };
        },
    };
}

/**
 * The acknowledged writes missing from (or contradicted by) the database of `client`: an acknowledged insert whose row
 * is absent, an acknowledged delete whose row is present, an update whose key does not hold its last acknowledged value
 * or a later attempted one (a commit may succeed while its acknowledgement is lost). Empty = nothing lost.
 */
export async function lostWrites(client: Client, schema: string, report: WriterReport): Promise<string[]> {
    const lost: string[] = [];
    // Keys present now, per table, fetched in one query each (a query per write would take seconds).
    const ids = (table: Write["table"]): string[] => [...new Set(report.writes.filter((w) => w.table === table).map((w) => w.key.split(",")[0]!))];
    const keysSql: Record<Write["table"], string> = {
        customers: `SELECT id::text AS k FROM ${schema}.customers WHERE id = ANY($1::bigint[])`,
        orders: `SELECT id::text AS k FROM ${schema}.orders WHERE id = ANY($1::bigint[])`,
        order_items: `SELECT order_id || ',' || line AS k FROM ${schema}.order_items WHERE order_id = ANY($1::bigint[])`,
        events: `SELECT id || ',' || occurred_at::text AS k FROM ${schema}.events WHERE id = ANY($1::bigint[])`,
    };
    const present = new Set<string>();
    for (const table of Object.keys(keysSql) as Write["table"][]) {
        for (const r of (await client.query<{ k: string }>(keysSql[table], [ids(table)])).rows) present.add(`${table}:${r.k}`);
    }
    const last = new Map<string, Write>();
    for (const w of report.writes) if (w.op !== "update") last.set(`${w.table}:${w.key}`, w);
    for (const [id, w] of last) {
        if (!w.acknowledged) continue;
        if (w.op === "insert" && !present.has(id)) lost.push(`${id}: acknowledged insert missing`);
        if (w.op === "delete" && present.has(id)) lost.push(`${id}: acknowledged delete not applied`);
    }
    // An update's key holds its last acknowledged value, or a later attempted one (a commit may land while its
    // acknowledgement is lost).
    const values = new Map<string, string | null>();
    const status = await client.query<{ id: string; v: string }>(`SELECT id::text, status AS v FROM ${schema}.orders WHERE id = ANY($1::bigint[])`, [ids("orders")]);
    for (const r of status.rows) values.set(`orders:${r.id}`, r.v);
    const profile = await client.query<{ id: string; v: string | null }>(`SELECT id::text, profile->>'writer' AS v FROM ${schema}.customers WHERE id = ANY($1::bigint[])`, [ids("customers")]);
    for (const r of profile.rows) values.set(`customers:${r.id}`, r.v);
    const updates = new Map<string, Write[]>();
    for (const w of report.writes) if (w.op === "update") updates.set(`${w.table}:${w.key}`, [...(updates.get(`${w.table}:${w.key}`) ?? []), w]);
    for (const [id, ws] of updates) {
        const lastAck = ws.map((w) => w.acknowledged).lastIndexOf(true);
        if (lastAck < 0) continue;
        const allowed = new Set(ws.slice(lastAck).map((w) => w.value));
        const v = values.get(id);
        if (!allowed.has(v ?? undefined)) lost.push(`${id}: holds ${JSON.stringify(v)}, last acknowledged ${JSON.stringify(ws[lastAck]!.value)}`);
    }
    return lost;
}

/** Per-table `count(*)` and an md5 of every row's text in key order, on one side (session settings of move/connect.ts). */
export async function tableDigests(client: Client, schema: string): Promise<Record<string, { rows: number; md5: string }>> {
    const tables = (await client.query<{ name: string; key: string[] }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name,
                (SELECT array_agg(quote_ident(a.attname) ORDER BY k.ord) FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE i.indrelid = c.oid AND i.indisprimary) AS key
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
        [schema],
    )).rows;
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const t of tables) {
        const order = t.key?.length ? t.key.map((k) => `x.${k}`).join(", ") : "x::text";
        const r = (await client.query<{ n: string; h: string | null }>(
            `SELECT count(*) AS n, md5(string_agg(x::text, E'\\n' ORDER BY ${order})) AS h FROM ${t.name} x`,
        )).rows[0]!;
        out[t.name] = { rows: Number(r.n), md5: r.h ?? "" };
    }
    return out;
}

/** A move context of `slug` between two admin URLs (explicit-URL mode: no flip), progress collected in `events`. */
export function moveContext(sourceUrl: string, targetUrl: string, slug: string, events: ProgressEvent[] = []): MoveContext {
    return {
        tenant: slug,
        schema: tenantSchemaName(slug),
        source: endpoint(sourceUrl),
        target: endpoint(targetUrl),
        ownerRole: tenantOwnerRoleName(slug),
        runtimeRole: tenantRuntimeRoleName(slug),
        targetPlacement: "instance",
        maxPauseMs: 5000,
        maxLagBytes: 1 << 20,
        progress: (e) => events.push(e),
    };
}

/**
 * What prepare leaves for sync, without prepare itself (the sync tests prove sync alone): the tenant's roles and empty
 * schema declared on the target as the placement would, the pre-data DDL from the source's real pg_dump loaded as the
 * owner, and the move's state row.
 */
export async function preparedTarget(ctx: MoveContext): Promise<void> {
    await createSharedTier(ctx.target.url);
    await declareTenant(ctx.target.url, ctx.tenant);
    // pg_dump reads the tenant's tables through the admin's membership in their owner, as prepare arranges.
    await withClient(ctx.source.url, (c) => c.query(`GRANT ${ctx.ownerRole} TO CURRENT_USER`));
    const sql = await dumpSchema(ctx.source, ctx.schema, "pre-data");
    await withClient(ctx.target.url, async (c) => {
        await c.query(`GRANT ${ctx.ownerRole} TO CURRENT_USER`);
        await createState(c, { tenant: ctx.tenant, schema: ctx.schema, createdSchema: false, createdRoles: [], source: ctx.source.label, target: ctx.target.label });
    });
    await applyDdl(ctx.target, sql, ctx.ownerRole, ctx.schema);
}
