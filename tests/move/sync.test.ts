/**
 * `--phase sync` (move/sync.ts, copy.ts, apply.ts) and `--phase abort` (abort.ts) on two real PostgreSQL 15 servers,
 * as their non-superuser admins: a shared-tier tenant with every kind of column the fixture has is copied and kept in
 * sync while its app writes; another tenant on the same source keeps working and is untouched.
 */
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abort } from "../../move/abort";
import { applyPending, lagBytes } from "../../move/apply";
import { connect, endpoint } from "../../move/connect";
import { createState, readState } from "../../move/state";
import { sync } from "../../move/sync";
import { MoveError, type MoveContext, type ProgressEvent } from "../../move/types";
import { startPg15, type Pg15Server } from "../support/pg15";
import { createTenant, lostWrites, moveContext, preparedTarget, tableDigests, writer } from "./fixture";

describe("sync: initial copy and continuous apply between two PostgreSQL 15 servers", () => {
    let source: Pg15Server;
    let target: Pg15Server;
    let ctx: MoveContext;
    const events: ProgressEvent[] = [];

    beforeAll(async () => {
        [source, target] = await Promise.all([startPg15(), startPg15()]);
        const acme = await createTenant(source.adminUrl(), "acme", { scale: 0.05 });
        // Row-level security only the app passes: rows the admin cannot see (nor change) through its membership in the
        // owner role. The copy and apply must act as the owner, or orders would arrive empty and updates do nothing.
        const owner = await source.connect(acme.owner, "fixture-password");
        await owner.query("ALTER TABLE t_acme.orders ENABLE ROW LEVEL SECURITY; CREATE POLICY app_only ON t_acme.orders TO t_acme_app USING (true) WITH CHECK (true)");
        await owner.end();
        await createTenant(source.adminUrl(), "other", { scale: 0.01 });
        ctx = moveContext(source.adminUrl(), target.adminUrl(), "acme", events);
        await preparedTarget(ctx);
    }, 90_000);

    afterAll(async () => {
        await Promise.all([source?.stop(), target?.stop()]);
    });

    /** Both sides as their superusers (past row-level security), with the engine's session settings. */
    async function sides<T>(fn: (s: Client, t: Client) => Promise<T>): Promise<T> {
        const s = await connect(endpoint(source.superuserUrl()));
        const t = await connect(endpoint(target.superuserUrl()));
        try {
            return await fn(s, t);
        } finally {
            await s.end();
            await t.end();
        }
    }

    it("copies and keeps applying while the app writes: identical tables, every acknowledged write, the other tenant untouched", async () => {
        const otherBefore = await asSuperuser(source, (s) => tableDigests(s, "t_other"));
        const app = writer(createTenantUrl(source, "acme"));
        const otherApp = writer(createTenantUrl(source, "other"));
        await new Promise((r) => setTimeout(r, 300));

        const result = await sync(ctx, { untilLagBytes: 256 * 1024 });
        expect(result.copied).toBe(true);
        expect(result.tables.map((t) => t.table)).toEqual(["t_acme.customers", "t_acme.documents", "t_acme.events", "t_acme.order_items", "t_acme.orders", "t_acme.products"]);
        expect(events.some((e) => e.kind === "table" && e.done && e.table === "t_acme.order_items" && e.rows >= 5000)).toBe(true);

        // Apply keeps up with the writes going on, then catches up once they stop.
        // Two appliers at once (a second terminal, a cutover while a sync loops): each source transaction lands once.
        for (let i = 0; i < 2; i++) {
            await new Promise((r) => setTimeout(r, 200));
            await Promise.all([applyPending(ctx), applyPending(ctx)]);
        }
        const report = await app.stop();
        const otherReport = await otherApp.stop();
        expect(report.acknowledged).toBeGreaterThan(50);
        expect(report.errors).toEqual([]);
        expect(otherReport.acknowledged).toBeGreaterThan(50);
        expect(otherReport.errors).toEqual([]);
        const last = await applyPending(ctx);
        expect(await lagBytes(ctx)).toBeLessThan(64 * 1024);

        await sides(async (s, t) => {
            const [src, dst] = [await tableDigests(s, "t_acme"), await tableDigests(t, "t_acme")];
            expect(Object.keys(src)).toHaveLength(6);
            expect(dst).toEqual(src);
            expect(src["t_acme.events"]!.rows).toBeGreaterThan(1500);
            expect(await lostWrites(t, "t_acme", report)).toEqual([]);
            // The check itself can fail: one acknowledged row removed (and put back) is reported.
            const gone = report.writes.find((w) => w.acknowledged && w.table === "orders" && w.op === "insert")!;
            await t.query("BEGIN");
            await t.query("DELETE FROM t_acme.orders WHERE id = $1", [gone.key]);
            expect(await lostWrites(t, "t_acme", report)).toContain(`orders:${gone.key}: acknowledged insert missing`);
            await t.query("ROLLBACK");
            // Rows routed into partitions on the target; the generated column computed there, never copied.
            const parts = (await t.query("SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM t_acme.events GROUP BY 1 ORDER BY 1")).rows;
            expect(parts.map((r) => r["p"])).toEqual(["t_acme.events_2024_01", "t_acme.events_2024_02", "t_acme.events_later"]);
            const cents = (await t.query("SELECT count(*)::int AS n FROM t_acme.orders WHERE total_cents IS DISTINCT FROM (total * 100)::bigint")).rows[0]!["n"];
            expect(cents).toBe(0);
            // TOASTed bodies unchanged by the writer's updates of other columns are intact.
            const bodies = (await t.query("SELECT count(*)::int AS n FROM t_acme.documents WHERE length(body) = 6400")).rows[0]!["n"];
            expect(bodies).toBe(src["t_acme.documents"]!.rows);
            // The other tenant: its own writes on the source went on; nothing of it reached the target.
            const otherAfter = await asSuperuser(source, (c) => tableDigests(c, "t_other"));
            expect(otherAfter["t_other.orders"]!.rows).toBeGreaterThan(otherBefore["t_other.orders"]!.rows);
            expect((await t.query("SELECT 1 FROM pg_namespace WHERE nspname = 't_other'")).rowCount).toBe(0);
            // The slot's confirmed position follows what the target recorded.
            const state = (await readState(t, "acme"))!;
            expect(state.phase).toBe("synced");
            expect(state.appliedLsn).toBe(last.appliedLsn);
            const slot = (await s.query("SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = 'tenancy_move_acme'")).rows[0]!;
            expect(slot["c"]).toBe(last.appliedLsn);
        });
    }, 60_000);

    it("a second sync resumes without copying again; abort then removes slot, publication, target objects and state, source untouched", async () => {
        // Another run holding the tenant's move lock (a session of its own on the target): refused, nothing done.
        const other = await connect(ctx.target);
        await other.query("SELECT pg_advisory_lock(hashtext('tenancy_move'), hashtext('acme'))");
        await expect(sync(ctx)).rejects.toThrow(/another run of the move of tenant acme is in progress/);
        await expect(abort(ctx)).rejects.toThrow(/another run of the move of tenant acme is in progress/);
        await other.end();

        // A table without key, and one whose policies bind even its owner: refused, each with its remedy, nothing changed.
        await sides((s) => s.query(`CREATE TABLE t_acme.nokey (v int); ALTER TABLE t_acme.nokey OWNER TO t_acme_owner;
                                    CREATE UNLOGGED TABLE t_acme.scratch (id int PRIMARY KEY); ALTER TABLE t_acme.scratch OWNER TO t_acme_owner;
                                    ALTER TABLE t_acme.products FORCE ROW LEVEL SECURITY`));
        const refused = await sync(ctx).then(() => undefined, (err: unknown) => err as MoveError);
        expect(refused).toBeInstanceOf(MoveError);
        expect(refused!.exitCode).toBe(1);
        expect(refused!.problems).toEqual([
            "t_acme.nokey: no primary key (remedy: add a primary key before the move)",
            "t_acme.products: FORCE ROW LEVEL SECURITY hides rows from the move (remedy: ALTER TABLE t_acme.products NO FORCE ROW LEVEL SECURITY until the move is finished)",
            "t_acme.scratch: UNLOGGED, its changes are not in the WAL (remedy: ALTER TABLE t_acme.scratch SET LOGGED before the move)",
        ]);
        await sides(async (s) => {
            expect((await s.query("SELECT 1 FROM pg_publication_tables WHERE pubname = 'tenancy_move_acme' AND tablename = 'nokey'")).rowCount).toBe(0);
            await s.query("DROP TABLE t_acme.nokey, t_acme.scratch; ALTER TABLE t_acme.products NO FORCE ROW LEVEL SECURITY");
        });

        // Changes the app's writer does not make: an update leaving a TOASTed body alone, a key change (the body again
        // unchanged), a delete, and updates of a table switched to REPLICA IDENTITY FULL (the whole old row is sent).
        await sides((s) => s.query(`UPDATE t_acme.documents SET revision = revision + 1 WHERE id = 1;
                                    UPDATE t_acme.documents SET id = 100000 WHERE id = 2;
                                    DELETE FROM t_acme.documents WHERE id = 4;
                                    ALTER TABLE t_acme.products REPLICA IDENTITY FULL;
                                    UPDATE t_acme.products SET price = price + 1, image = NULL WHERE id = 3;
                                    UPDATE t_acme.products SET weight = NULL WHERE id = 5;
                                    UPDATE t_acme.events SET occurred_at = '2024-02-15' WHERE id = 1 -- into another partition
                                    `));
        // A migration run on both sides while the move syncs: changes before it are read with the columns they had.
        await sides(async (s, t) => {
            await s.query("INSERT INTO t_acme.documents (id, title, body) VALUES (200001, 'before', 'b')");
            for (const c of [s, t]) await c.query("ALTER TABLE t_acme.documents ADD COLUMN tag text");
            await s.query("INSERT INTO t_acme.documents (id, title, body, tag) VALUES (200002, 'after', 'a', 'new')");
        });
        const again = await sync(ctx, { untilLagBytes: 256 * 1024 });
        expect(again.copied).toBe(false);
        await applyPending(ctx);
        await sides(async (s, t) => expect(await tableDigests(t, "t_acme")).toEqual(await tableDigests(s, "t_acme")));
        // A TRUNCATE of the partitioned table (published as its root) then new rows.
        await sides((s) => s.query("TRUNCATE t_acme.events; INSERT INTO t_acme.events (occurred_at, kind) VALUES ('2024-01-02', 'fresh')"));
        await applyPending(ctx);
        await sides(async (s, t) => {
            expect(await tableDigests(t, "t_acme")).toEqual(await tableDigests(s, "t_acme"));
            expect((await t.query("SELECT kind FROM t_acme.events")).rows).toEqual([{ kind: "fresh" }]);
        });

        const sourceBefore = await sides((s) => tableDigests(s, "t_acme"));
        const result = await abort(ctx);
        expect(result.droppedSlot).toBe(true);
        expect(result.droppedPublication).toBe(true);
        await sides(async (s, t) => {
            expect((await s.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'tenancy_move_acme'")).rowCount).toBe(0);
            expect((await s.query("SELECT 1 FROM pg_publication WHERE pubname = 'tenancy_move_acme'")).rowCount).toBe(0);
            expect(await tableDigests(s, "t_acme")).toEqual(sourceBefore);
            // The schema the placement declared stays, empty; the state is gone.
            expect((await t.query("SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 't_acme'")).rows[0]!["n"]).toBe(0);
            expect((await t.query("SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 't_acme'")).rowCount).toBe(0);
            expect((await t.query("SELECT 1 FROM pg_namespace WHERE nspname = 't_acme'")).rowCount).toBe(1);
            expect(await readState(t, "acme")).toBeUndefined();
        });
        // The source stays writable for the app.
        const app = writer(createTenantUrl(source, "acme"));
        await new Promise((r) => setTimeout(r, 200));
        const report = await app.stop();
        expect(report.errors).toEqual([]);
        expect(report.acknowledged).toBeGreaterThan(0);

        // Where prepare created the schema and the roles (an empty target), abort removes exactly those, and a second
        // abort finds nothing left to do.
        const asAdmin = await connect(ctx.target);
        await createState(asAdmin, { tenant: "acme", schema: "t_acme", createdSchema: true, createdRoles: ["t_acme_app", "t_acme_owner"] });
        await asAdmin.end();
        expect((await abort(ctx)).target).toEqual(["schema t_acme", "role t_acme_app", "role t_acme_owner", "move state"]);
        await sides(async (_, t) => {
            expect((await t.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 't\\_acme%' OR rolname = 'tenancy_tenants' ORDER BY 1")).rows).toEqual([{ rolname: "tenancy_tenants" }]);
            expect((await t.query("SELECT 1 FROM pg_namespace WHERE nspname IN ('t_acme', 'tenancy_move')")).rowCount).toBe(0);
        });
        expect(await abort(ctx)).toEqual({ droppedSlot: false, droppedPublication: false, target: [] });
    }, 60_000);
});

/** The other tenant is read as the superuser: the admin is (rightly) no member of its owner role. */
async function asSuperuser<T>(server: Pg15Server, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await connect(endpoint(server.superuserUrl()));
    try {
        return await fn(c);
    } finally {
        await c.end();
    }
}

function createTenantUrl(server: Pg15Server, slug: string): string {
    return server.url(`t_${slug}_app`, "fixture-password");
}
