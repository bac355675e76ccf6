import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "child_process";
import { join, resolve } from "path";
import { startPg15, type Pg15Server } from "../support/pg15";
import { makeTempDir } from "../support/tempDirs";
import { applyRoles } from "../../components/roleManager/handler";
import { runRestore } from "../../restore/engine";
import { dataSql, schemaDdl } from "../move/fixture";
import { connect, digestsOf, FIXTURE_PASSWORD, nightlyDump, one, restoreContext, roleUrl } from "./fixture";

/**
 * A hybrid tenant's own instance, laid out by the role manager's own SQL (applyRoles, as the admin): no group role, no
 * reporting role, CONNECT for the tenant's roles only. The restore gives the swapped schema the instance's privileges.
 */
describe("npm run restore on a hybrid tenant's instance", () => {
    let pg: Pg15Server;
    let dump: string;
    let atDump: Record<string, { rows: number; md5: string }>;
    const clock = (iso: string) => () => new Date(iso);

    beforeAll(async () => {
        pg = await startPg15();
        const admin = await pg.admin();
        await applyRoles(admin, { database: "app", schema: "t_initech", ownerRole: "t_initech_owner", runtimeRole: "t_initech_app", login: true, ownerPassword: FIXTURE_PASSWORD, runtimePassword: FIXTURE_PASSWORD });
        await admin.end();
        const owner = await connect(roleUrl(pg.adminUrl(), "t_initech_owner"));
        await owner.query(schemaDdl("t_initech"));
        await owner.query(dataSql("t_initech", 0.01));
        await owner.end();
        dump = join(makeTempDir("restore-instance-"), "initech.dump");
        await nightlyDump(pg, "initech", dump, { manifest: false });
        atDump = await digestsOf(pg, "t_initech");
        const damage = await connect(roleUrl(pg.adminUrl(), "t_initech_app"));
        await damage.query("DELETE FROM t_initech.order_items");
        await damage.end();
    });
    afterAll(async () => {
        await pg?.stop();
    });

    it("refuses the shared tier on an instance, then restores and swaps with the instance's privileges", async () => {
        const ctx = restoreContext(pg.adminUrl(), "initech", { kind: "dump", file: dump }, "swap", [], "hybrid");
        await expect(runRestore({ ...ctx, tier: "shared" })).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/is not a shared cell .* but tenant initech is shared/) });
        const result = await runRestore({ ...ctx, now: clock("2026-11-23T14:00:00Z") });
        expect(result).toMatchObject({ sideSchema: "t_initech_restore_20261123140000", replacedSchema: "t_initech_replaced_20261123140000" });
        expect(await digestsOf(pg, "t_initech")).toEqual(atDump);
        expect(await one(pg, `SELECT has_database_privilege('public', 'app', 'CONNECT') AS public_connect,
                                     has_database_privilege('t_initech_app', 'app', 'CONNECT') AS app_connect,
                                     has_schema_privilege('t_initech_app', 't_initech', 'USAGE') AS usage,
                                     has_table_privilege('t_initech_app', 't_initech.order_items', 'INSERT') AS insert,
                                     has_schema_privilege('t_initech_app', 't_initech', 'CREATE') AS create`)).toEqual({ public_connect: false, app_connect: true, usage: true, insert: true, create: false });
        const app = await connect(roleUrl(pg.adminUrl(), "t_initech_app"));
        try {
            expect((await app.query("SELECT count(*)::int AS n FROM order_items")).rows[0]).toEqual({ n: atDump["order_items"]!.rows });
            await app.query("INSERT INTO customers (name, email) VALUES ('after', 'after@example.com')");
        } finally {
            await app.end();
        }
    });

    it("a swap that cannot take its locks rolls back: nothing swapped, logins back, and a later swap works", async () => {
        const ctx = restoreContext(pg.adminUrl(), "initech", { kind: "dump", file: dump }, "side-by-side", [], "hybrid");
        const side = (await runRestore({ ...ctx, now: clock("2026-11-23T15:00:00Z") })).sideSchema;
        const live = await digestsOf(pg, "t_initech");
        const reader = await pg.superuserClient();
        await reader.query("BEGIN");
        await reader.query(`LOCK TABLE ${side}.products IN ACCESS EXCLUSIVE MODE`);
        try {
            await expect(runRestore({ ...ctx, mode: "swap", lockTimeoutMs: 200, now: clock("2026-11-23T15:01:00Z") })).rejects.toMatchObject({
                exitCode: 1, message: expect.stringMatching(/^the swap failed and was rolled back: canceling statement due to lock timeout; nothing was swapped, the tenant's logins are back$/),
            });
        } finally {
            await reader.query("ROLLBACK");
            await reader.end();
        }
        expect(await digestsOf(pg, "t_initech")).toEqual(live);
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_initech_owner', 't_initech_app')")).toEqual({ l: true });
        const again = await runRestore({ ...ctx, mode: "swap", now: clock("2026-11-23T15:02:00Z") });
        expect(again).toMatchObject({ sideSchema: side, reused: true, replacedSchema: "t_initech_replaced_20261123150200" });
        expect(await digestsOf(pg, "t_initech")).toEqual(atDump);
    });

    it("SIGKILLed while loading: the tenant's schema stays as it was, and the same command again completes the swap", async () => {
        // A dump of its own (the first one is swapped in already: the same command with it does nothing), then damage.
        const fresh = join(makeTempDir("restore-kill-"), "initech.dump");
        await nightlyDump(pg, "initech", fresh, { manifest: false });
        const atFresh = await digestsOf(pg, "t_initech");
        const damage = await connect(roleUrl(pg.adminUrl(), "t_initech_app"));
        await damage.query("DELETE FROM t_initech.orders WHERE id % 2 = 0");
        await damage.end();
        const before = await digestsOf(pg, "t_initech");
        const args = ["--tenant", "initech", "--dump", fresh, "--target", pg.adminUrl(), "--tier", "hybrid", "--swap"];
        const killed = await new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((done, fail) => {
            // A TMPDIR of this file's own: the killed tool cannot remove its work directory.
            const env = { ...process.env, TMPDIR: makeTempDir("restore-kill-tmp-") };
            const child = spawn(process.execPath, ["--import", "tsx", "tools/restore.ts", ...args], { cwd: resolve(__dirname, "../.."), env, stdio: ["ignore", "ignore", "pipe"] });
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => {
                stderr += d.toString();
                if (/restoring .* into t_initech_restore_/.test(stderr)) child.kill("SIGKILL");
            });
            child.once("error", fail);
            child.once("close", (_code, signal) => done({ signal, stderr }));
        });
        expect(killed.signal).toBe("SIGKILL");
        // psql outlives the tool for a moment: its input ended without COMMIT, the server rolls back when it exits.
        for (let i = 0; i < 100 && (await one(pg, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tenancy-restore'"))!["n"] !== 0; i++) {
            await new Promise((r) => setTimeout(r, 50));
        }
        expect(await digestsOf(pg, "t_initech")).toEqual(before);
        expect(await one(pg, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 't_initech_restore_%_h'")).toEqual({ n: 0 });
        expect(await one(pg, "SELECT bool_and(rolcanlogin) AS l FROM pg_roles WHERE rolname IN ('t_initech_owner', 't_initech_app')")).toEqual({ l: true });
        const rerun = await runRestore({ ...restoreContext(pg.adminUrl(), "initech", { kind: "dump", file: fresh }, "swap", [], "hybrid"), now: clock("2026-11-23T16:00:00Z") });
        expect(rerun.replacedSchema).toBe("t_initech_replaced_20261123160000");
        expect(await digestsOf(pg, "t_initech")).toEqual(atFresh);
        expect(await digestsOf(pg, "t_initech_replaced_20261123160000")).toEqual(before);
    });
});
