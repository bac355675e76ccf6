import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "fs";
import { join } from "path";
import type { Client } from "pg";
import { startPg15, type Pg15Server } from "../support/pg15";
import { makeTempDir } from "../support/tempDirs";
import { connect, createTenant, FIXTURE_TABLES, lostWrites, moveContext, writer, type FixtureTenant } from "./fixture";
import { runMove } from "../../move/engine";
import { MoveError, type MoveContext, type ProgressEvent } from "../../move/types";

/** The fixture's move context, its progress kept in `events`, with `extra` over it. */
function context(source: string, target: string, tenant: string, extra: Partial<MoveContext> = {}): MoveContext & { events: ProgressEvent[] } {
    const events: ProgressEvent[] = [];
    return { ...moveContext(source, target, tenant, events), maxLagBytes: 256 * 1024, events, ...extra };
}

async function rows(url: string, sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    const c = await connect(url);
    try {
        return (await c.query(sql, values)).rows;
    } finally {
        await c.end();
    }
}

/** Row count and a hash of every row of each table (the test's own comparison, not the tool's). */
async function contents(url: string, schema: string): Promise<Record<string, string>> {
    const c: Client = await connect(url);
    try {
        await c.query("SET TimeZone = 'UTC'; SET extra_float_digits = 1");
        const out: Record<string, string> = {};
        for (const t of FIXTURE_TABLES) {
            // Order-independent (no sort of every row): the sum of every row's hash.
            const { rows: r } = await c.query(`SELECT count(*) AS n, sum(hashtext(x::text)::bigint) AS h FROM ${schema}.${t} x`);
            out[t] = `${r[0]!["n"]}:${r[0]!["h"]}`;
        }
        return out;
    } finally {
        await c.end();
    }
}

describe("move cutover: shared → dedicated with a writer running, verification, receipt, pause", () => {
    let source: Pg15Server;
    let target: Pg15Server;
    let acme: FixtureTenant;
    let beta: FixtureTenant;
    beforeAll(async () => {
        [source, target] = await Promise.all([startPg15(), startPg15()]);
        // The realistic tenant at full size (212,200 rows), and another tenant on the same shared source.
        acme = await createTenant(source.adminUrl(), "acme");
        beta = await createTenant(source.adminUrl(), "beta", { scale: 0.01 });
    });
    afterAll(async () => {
        await Promise.all([source?.stop(), target?.stop()]);
    });

    it("moves every acknowledged write, blocks writes on the source after cutover, and leaves the other tenant untouched", async () => {
        const dir = makeTempDir("move-receipt-");
        const receiptPath = join(dir, ".moves", "acme.json");
        let flips = 0;
        const ctx = context(source.adminUrl(), target.adminUrl(), "acme", { flip: async () => `registry → dedicated (${++flips})` });
        const betaBefore = await contents(source.superuserUrl(), beta.schema);
        const app = writer(acme.runtimeUrl, { pauseMs: 20 });
        const other = writer(beta.runtimeUrl, { pauseMs: 20 });
        try {
            await runMove(ctx, "prepare");
            await runMove(ctx, "sync");
            expect(app.acknowledged()).toBeGreaterThan(0);
            await runMove(ctx, "cutover", { receiptPath });
        } finally {
            // The writer keeps trying after cutover: its sessions are ended and new logins refused.
            await new Promise((r) => setTimeout(r, 150));
        }
        const report = await app.stop();
        const otherReport = await other.stop();
        const cutoverEnd = Date.now();

        // Every acknowledged write is on the target, and the source and target hold the same rows.
        const t = await connect(target.superuserUrl());
        try {
            expect(await lostWrites(t, acme.schema, report)).toEqual([]);
        } finally {
            await t.end();
        }
        expect(await contents(target.superuserUrl(), acme.schema)).toEqual(await contents(source.superuserUrl(), acme.schema));
        expect(report.acknowledged).toBeGreaterThan(20);

        // Writes after cutover fail on the source: the runtime role may not log in, its sessions were ended.
        await expect(connect(acme.runtimeUrl)).rejects.toThrow(/not permitted to log in/);
        expect(report.errors.length).toBeGreaterThan(0);
        expect(report.writes.filter((w) => w.acknowledged && w.at > cutoverEnd)).toEqual([]);
        expect(flips).toBe(1);

        // The receipt: verified, per table equal counts and hashes, sequences set past the source, pause measured.
        const text = readFileSync(receiptPath, "utf8");
        const receipt = JSON.parse(text);
        expect(Object.keys(receipt)).toEqual(["tenant", "schema", "from", "to", "startedAt", "finishedAt", "writePauseMs", "tables", "sequences", "verified"]);
        expect(receipt).toMatchObject({ tenant: "acme", schema: "t_acme", verified: true, from: { server: ctx.source.label }, to: { server: ctx.target.label } });
        expect(receipt.tables.map((x: { name: string }) => x.name)).toEqual([...FIXTURE_TABLES].sort());
        for (const table of receipt.tables) {
            expect(table.sourceRows).toBe(table.targetRows);
            expect(table.sourceHash).toBe(table.targetHash);
        }
        expect(receipt.tables.find((x: { name: string }) => x.name === "order_items").sourceRows).toBeGreaterThanOrEqual(100_000);
        expect(receipt.sequences.length).toBeGreaterThanOrEqual(4);
        for (const s of receipt.sequences) expect(s.target).toBeGreaterThanOrEqual(s.source);
        expect(receipt.writePauseMs).toBeGreaterThan(0);
        expect(receipt.writePauseMs).toBeLessThan(ctx.maxPauseMs);
        expect(text).not.toContain(source.adminPassword);
        expect(text).not.toContain(target.adminPassword);
        expect(text).not.toMatch(/password/i);
        // The app writes on the target with its next id past the source's.
        await rows(target.superuserUrl(), "ALTER ROLE t_acme_app PASSWORD 'fixture-password'");
        const next = await rows(acme.runtimeUrl.replace(`:${source.port}/`, `:${target.port}/`), "INSERT INTO customers (name, email) VALUES ('after', 'after@example.com') RETURNING id");
        const maxSource = await rows(source.superuserUrl(), "SELECT max(id) AS m FROM t_acme.customers");
        expect(BigInt(next[0]!["id"] as string)).toBeGreaterThan(BigInt(maxSource[0]!["m"] as string));

        // The other tenant kept writing throughout, and nothing of it changed but its own writes.
        expect(otherReport.errors).toEqual([]);
        expect(otherReport.acknowledged).toBeGreaterThan(0);
        const s = await connect(source.superuserUrl());
        try {
            expect(await lostWrites(s, beta.schema, otherReport)).toEqual([]);
        } finally {
            await s.end();
        }
        expect((await rows(source.superuserUrl(), "SELECT rolcanlogin FROM pg_roles WHERE rolname = 't_beta_app'"))[0]).toEqual({ rolcanlogin: true });
        expect(betaBefore["products"]).toBe((await contents(source.superuserUrl(), beta.schema))["products"]);

        // The source's slot and publication are gone with the cutover: a retired shared source must not keep the cell's WAL.
        expect(await rows(source.superuserUrl(), "SELECT slot_name FROM pg_replication_slots")).toEqual([]);
        expect(await rows(source.superuserUrl(), "SELECT pubname FROM pg_publication")).toEqual([]);

        // A cutover run again after it succeeded (e.g. killed before it could report) flips again and writes the same
        // receipt; a failing flip says how to retry it.
        const failing = await runMove({ ...ctx, flip: async () => { throw new Error("ThrottlingException: rate exceeded"); } }, "cutover").catch((e: unknown) => e);
        expect(failing).toBeInstanceOf(MoveError);
        expect((failing as MoveError).message).toBe("the registry flip failed: ThrottlingException: rate exceeded. The target is verified and the source's writes stay stopped: run --phase cutover again to retry the flip");
        const again = await runMove(ctx, "cutover", { receiptPath });
        expect(flips).toBe(2);
        expect(again.cutover?.receipt).toEqual(receipt);
        expect(readFileSync(receiptPath, "utf8")).toBe(text);

        // finish: no slot nor publication left on the source, no state on the target; the source keeps its data.
        await runMove(ctx, "finish");
        expect(await rows(source.superuserUrl(), "SELECT slot_name FROM pg_replication_slots")).toEqual([]);
        expect(await rows(source.superuserUrl(), "SELECT pubname FROM pg_publication")).toEqual([]);
        expect(await rows(target.superuserUrl(), "SELECT to_regnamespace('tenancy_move') AS s")).toEqual([{ s: null }]);
        expect(Number((await rows(source.superuserUrl(), "SELECT count(*) AS n FROM t_acme.order_items"))[0]!["n"])).toBeGreaterThan(0);
    });

    it("verification catches a row changed on the target behind the tool's back: exit 2, source writable, nothing flipped", async () => {
        let flips = 0;
        await rows(target.adminUrl(), "CREATE DATABASE beta_target");
        const ctx = context(source.adminUrl(), target.adminUrl("beta_target"), "beta", { flip: async () => `flip ${++flips}` });
        await runMove(ctx, "prepare");
        await runMove(ctx, "sync");

        // Before cutover: the baseline differs, so cutover fails without ever stopping a write.
        await rows(target.superuserUrl("beta_target"), "UPDATE t_beta.documents SET title = 'tampered' WHERE id = 1");
        const early = await runMove(ctx, "cutover").catch((e: unknown) => e);
        expect(early).toBeInstanceOf(MoveError);
        expect((early as MoveError).exitCode).toBe(2);
        expect((early as MoveError).problems.join("\n")).toMatch(/^documents: source \d+ rows/);
        expect(ctx.events.some((e) => e.kind === "step" && /writes stopped/.test(e.message))).toBe(false);
        await rows(target.superuserUrl("beta_target"), "UPDATE t_beta.documents SET title = 'Doc 1' WHERE id = 1");

        // In the pause: a change behind the back in a chunk the pause re-hashes: the roles get their logins back.
        const late = await runMove(ctx, "cutover", {
            cutover: { duringPause: async () => void (await rows(target.superuserUrl("beta_target"), "UPDATE t_beta.customers SET name = 'tampered' WHERE id = (SELECT max(id) FROM t_beta.customers)")) },
        }).catch((e: unknown) => e);
        expect(late).toBeInstanceOf(MoveError);
        expect((late as MoveError).exitCode).toBe(2);
        expect((late as MoveError).problems.join("\n")).toMatch(/^customers: /);
        expect(ctx.events.some((e) => e.kind === "step" && /writes stopped/.test(e.message))).toBe(true);
        expect(flips).toBe(0);
        // The source is writable again by the tenant's app.
        expect(await rows(beta.runtimeUrl, "INSERT INTO documents (id, title, body) VALUES (999999, 'after', 'x') RETURNING id")).toEqual([{ id: 999999 }]);
        expect(await rows(target.adminUrl("beta_target"), "SELECT phase, writes_stopped_at FROM tenancy_move.moves WHERE tenant = 'beta'")).toEqual([{ phase: "synced", writes_stopped_at: null }]);

        // A pause that cannot fit the limit is refused before any write stops (exit 1), the move stays synced.
        await rows(target.superuserUrl("beta_target"), "UPDATE t_beta.customers SET name = (SELECT name FROM t_beta.customers c2 WHERE c2.id = customers.id - 1) WHERE id = (SELECT max(id) FROM t_beta.customers)");
        const source_ = await rows(source.superuserUrl(), "SELECT name FROM t_beta.customers ORDER BY id DESC LIMIT 1");
        await rows(target.superuserUrl("beta_target"), "UPDATE t_beta.customers SET name = $1 WHERE id = (SELECT max(id) FROM t_beta.customers)", [source_[0]!["name"]]);
        const tooLong = await runMove({ ...ctx, maxPauseMs: 1 }, "cutover").catch((e: unknown) => e);
        expect(tooLong).toBeInstanceOf(MoveError);
        expect((tooLong as MoveError).exitCode).toBe(1);
        expect((tooLong as MoveError).message).toMatch(/^the write pause would take about \d+ ms, over --max-pause-ms 1: nothing was stopped/);
        expect(await rows(source.superuserUrl(), "SELECT rolcanlogin FROM pg_roles WHERE rolname = 't_beta_app'")).toEqual([{ rolcanlogin: true }]);
        expect(await rows(target.adminUrl("beta_target"), "SELECT phase FROM tenancy_move.moves WHERE tenant = 'beta'")).toEqual([{ phase: "synced" }]);
        await runMove(ctx, "abort");
    });

    it("--phase all moves a tenant with triggers: they do not fire twice during apply and work on the target after cutover", async () => {
        const gamma = await createTenant(source.adminUrl(), "gamma", { scale: 0.005 });
        // An AFTER INSERT trigger writing an audit row keyed by the order: firing it again on the target would collide
        // with the replicated audit row (or double it).
        await rows(gamma.ownerUrl, `
            CREATE TABLE order_audit (order_id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
            CREATE FUNCTION audit_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO order_audit (order_id) VALUES (NEW.id); RETURN NEW; END $$;
            CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit_order();`);
        await rows(target.adminUrl(), "CREATE DATABASE gamma_target");
        const ctx = context(source.adminUrl(), target.adminUrl("gamma_target"), "gamma");
        const app = writer(gamma.runtimeUrl, { pauseMs: 5 });
        let result;
        try {
            result = await runMove(ctx, "all");
        } finally {
            await new Promise((r) => setTimeout(r, 100));
        }
        const report = await app.stop();
        expect(result.prepare?.prepared).toBe(true);
        expect(result.sync?.copied).toBe(true);
        expect(result.cutover?.receipt.verified).toBe(true);
        expect(result.cutover?.receipt.tables.map((t) => t.name)).toContain("order_audit");
        expect(report.acknowledged).toBeGreaterThan(0);
        const t = await connect(target.superuserUrl("gamma_target"));
        try {
            expect(await lostWrites(t, gamma.schema, report)).toEqual([]);
            // Every order the app placed during the move has its one audit row (written by the source's trigger, replicated).
            const placed = report.writes.filter((w) => w.acknowledged && w.table === "orders" && w.op === "insert").map((w) => w.key);
            expect(placed.length).toBeGreaterThan(0);
            expect((await t.query("SELECT count(*)::int AS n FROM t_gamma.order_audit WHERE order_id = ANY($1::bigint[])", [placed])).rows).toEqual([{ n: placed.length }]);
            expect((await t.query("SELECT tgenabled FROM pg_trigger WHERE tgname = 'orders_audit'")).rows).toEqual([{ tgenabled: "O" }]);
            await t.query("ALTER ROLE t_gamma_owner PASSWORD 'fixture-password'");
        } finally {
            await t.end();
        }
        // On the target the trigger works for the app's next order.
        const ownerOnTarget = gamma.ownerUrl.replace(`:${source.port}/app`, `:${target.port}/gamma_target`);
        const [order] = await rows(ownerOnTarget, "INSERT INTO orders (customer_id) VALUES (1) RETURNING id");
        expect(await rows(ownerOnTarget, "SELECT count(*)::int AS n FROM order_audit WHERE order_id = $1", [order!["id"]])).toEqual([{ n: 1 }]);
        // all ends with finish: no replication object or state left.
        expect(await rows(source.superuserUrl(), "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE '%gamma%'")).toEqual([]);
        expect(await rows(target.superuserUrl("gamma_target"), "SELECT to_regnamespace('tenancy_move') AS s")).toEqual([{ s: null }]);
    });
});
