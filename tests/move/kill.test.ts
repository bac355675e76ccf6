/**
 * A killed tool leaves nothing a re-run cannot continue from (issue 10, item 2, for `sync`): a child process running
 * move/sync.ts is SIGKILLed during the initial copy, another running move/apply.ts during apply, while the app keeps
 * writing; re-running sync completes with the source's exact content, every acknowledged write, and no duplicate.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPending } from "../../move/apply";
import { connect } from "../../move/connect";
import { compareLsn } from "../../move/pgoutput";
import { copiedTables, readState } from "../../move/state";
import { sync } from "../../move/sync";
import type { MoveContext } from "../../move/types";
import { startPg15, type Pg15Server } from "../support/pg15";
import { createTenant, lostWrites, moveContext, preparedTarget, tableDigests, writer } from "./fixture";

const ROOT = path.resolve(__dirname, "../..");

/** The child, its JSON progress lines as they come, and its exit. */
function child(mode: "sync" | "apply", ctx: MoveContext): { proc: ChildProcess; lines: Record<string, unknown>[]; exited: Promise<number | string | null>; stderr: () => string } {
    const proc = spawn(process.execPath, ["--import", "tsx", "tests/move/killChild.ts", mode, ctx.tenant, ctx.source.url, ctx.target.url], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const lines: Record<string, unknown>[] = [];
    let buffer = "";
    let err = "";
    proc.stdout!.on("data", (d: Buffer) => {
        buffer += d.toString();
        const parts = buffer.split("\n");
        buffer = parts.pop()!;
        for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | string | null>((resolve) => proc.once("exit", (code, signal) => resolve(signal ?? code)));
    return { proc, lines, exited, stderr: () => err };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
    }
}

describe("sync survives SIGKILL", () => {
    let source: Pg15Server;
    let target: Pg15Server;
    let ctx: MoveContext;
    let src: Client;
    let dst: Client;

    beforeAll(async () => {
        [source, target] = await Promise.all([startPg15(), startPg15()]);
        await createTenant(source.adminUrl(), "acme", { scale: 0.1 });
        ctx = moveContext(source.adminUrl(), target.adminUrl(), "acme");
        await preparedTarget(ctx);
        src = await connect(ctx.source);
        dst = await connect(ctx.target);
    }, 90_000);

    afterAll(async () => {
        await src?.end();
        await dst?.end();
        await Promise.all([source?.stop(), target?.stop()]);
    });

    it("killed during the copy and during apply, a re-run completes: identical tables, every acknowledged write, no duplicates", async () => {
        const app = writer(source.url("t_acme_app", "fixture-password"));

        // 1. Killed during the initial copy: after its first table committed, while the next one streams.
        const copying = child("sync", ctx);
        await until("the first copied table", () => copying.lines.some((l) => l["kind"] === "table" && l["done"] === true));
        copying.proc.kill("SIGKILL");
        expect(await copying.exited).toBe("SIGKILL");
        const copiedAtKill = await copiedTables(dst, "acme");
        expect(copiedAtKill.length).toBeGreaterThan(0);
        expect(copiedAtKill.length).toBeLessThan(6);
        expect((await readState(dst, "acme"))!.phase).toBe("copying");

        // The re-run copies again from a new snapshot (the killed one's is gone) and catches up.
        const resumed = await sync(ctx, { untilLagBytes: 1 << 20 });
        expect(resumed.copied).toBe(true);
        expect(resumed.tables).toHaveLength(6);

        // 2. Killed during apply: a backlog of the app's writes and of 2,000 one-row transactions (apply groups at most
        // 200 per target transaction and advances the slot after the whole peek), killed once it committed some.
        await new Promise((r) => setTimeout(r, 500));
        await src.query(Array.from({ length: 2000 }, (_, i) => `BEGIN; UPDATE t_acme.products SET weight = ${i} WHERE id = ${1 + (i % 200)}; COMMIT;`).join("\n"));
        const before = (await readState(dst, "acme"))!.appliedLsn;
        const applying = child("apply", ctx);
        await until("a transaction applied by the child", async () => compareLsn((await readState(dst, "acme"))!.appliedLsn, before) > 0);
        applying.proc.kill("SIGKILL");
        expect(await applying.exited).toBe("SIGKILL");
        // Killed between committing on the target and advancing the slot: the re-run must skip what the target holds.
        const applied = (await readState(dst, "acme"))!.appliedLsn;
        const confirmed = (await src.query("SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = 'tenancy_move_acme'")).rows[0]!["c"] as string;
        expect(compareLsn(applied, confirmed)).toBeGreaterThan(0);

        const again = await sync(ctx, { untilLagBytes: 1 << 20 });
        expect(again.copied).toBe(false);
        const report = await app.stop();
        expect(report.errors).toEqual([]);
        expect(report.acknowledged).toBeGreaterThan(100);
        await applyPending(ctx);

        const [s, d] = [await tableDigests(src, "t_acme"), await tableDigests(dst, "t_acme")];
        expect(Object.keys(s)).toHaveLength(6);
        expect(d).toEqual(s);
        expect(await lostWrites(dst, "t_acme", report)).toEqual([]);
    }, 60_000);

    it("a slot the source invalidated (max_slot_wal_keep_size) is seen as lost: sync copies again and converges", async () => {
        const su = await source.superuserClient();
        try {
            await su.query("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
            await su.query("SELECT pg_reload_conf()");
            // WAL beyond what the slot may keep, then a checkpoint: the server invalidates the slot.
            for (let i = 0; i < 3; i++) {
                await su.query("INSERT INTO t_acme.events (occurred_at, kind) SELECT now(), 'wal' FROM generate_series(1, 500)");
                await su.query("SELECT pg_switch_wal()");
            }
            await su.query("CHECKPOINT");
            expect((await src.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'tenancy_move_acme'")).rows[0]!["wal_status"]).toBe("lost");

            const events: string[] = [];
            const resumed = await sync({ ...ctx, progress: (e) => e.kind === "step" && events.push(e.message) }, { untilLagBytes: 1 << 20 });
            expect(resumed.copied).toBe(true);
            expect(events).toContain("slot tenancy_move_acme was invalidated by the source (max_slot_wal_keep_size): copying again");
            expect(await tableDigests(dst, "t_acme")).toEqual(await tableDigests(src, "t_acme"));
        } finally {
            await su.query("ALTER SYSTEM RESET max_slot_wal_keep_size");
            await su.query("SELECT pg_reload_conf()");
            await su.end();
        }
    }, 60_000);
});
