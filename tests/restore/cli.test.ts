import { describe, expect, it } from "vitest";
import { spawn } from "child_process";
import { writeFileSync } from "fs";
import { join, resolve } from "path";
import { fixtureRepo } from "../support/fixtureRepo";
import { makeTempDir } from "../support/tempDirs";
import { parseRestoreArgs, tierFromEnvironment } from "../../tools/restore";
import { loadScript } from "../../restore/load";
import { stampedName } from "../../restore/state";
import { lockBudgetProblem, parseToc, tocLocks, tocProblems } from "../../restore/dump";

const ROOT = resolve(__dirname, "../..");

/** `npm run restore -- …` as a child process (node --import tsx tools/restore.ts). */
function restore(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, ["--import", "tsx", "tools/restore.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.once("error", fail);
        child.once("close", (code) => done({ code, stdout, stderr }));
    });
}

describe("npm run restore: command line, exit code 1 for every user mistake, never a stack trace", () => {
    it("bad flags, an unreadable dump, an unreachable server: exit 1, a clear message, nothing else", async () => {
        const dir = makeTempDir("restore-cli-");
        const notADump = join(dir, "acme.dump");
        writeFileSync(notADump, "this is not an archive\n");
        const [usage, unreadable, unreachable] = await Promise.all([
            restore(["--tenant", "Not_A_Slug", "--dump", "a.dump", "--source", "mysql://x@h/db", "--tier", "gold", "--env", "prod", "--swap", "--side-by-side", "--bogus"]),
            restore(["--tenant", "acme", "--dump", notADump, "--target", "postgres://admin:pw@127.0.0.1:1/app", "--tier", "shared"]),
            restore(["--tenant", "acme", "--source", "postgres://admin:pw@127.0.0.1:1/app", "--target", "postgres://admin:secret-pw@127.0.0.1:1/app", "--tier", "shared", "--swap"]),
        ]);
        expect(usage.code).toBe(1);
        expect(usage.stderr.split("\n").filter((l) => l.startsWith("restore: "))).toEqual([
            expect.stringMatching(/^restore: --bogus: unknown option \(allowed: --tenant, --dump, --source, --target, --env, --tier, --side-by-side, --swap\)/),
            "restore: --tenant: 'Not_A_Slug' is not a slug (allowed: a-z, 0-9 and '-', starting with a letter)",
            "restore: --dump: not with --source (allowed: one of them: a dump file, or a server restored or cloned to the time wanted)",
            "restore: --source: scheme 'mysql' (allowed: postgres, postgresql)",
            "restore: --target: required (the admin URL of the tenant's cell or instance)",
            "restore: --env: not with --tier (allowed: one of them: the environment whose tenant file states the tier, or the tier)",
            "restore: --tier: 'gold' (allowed: shared, hybrid, dedicated)",
            "restore: --side-by-side: not with --swap (allowed: one of them; --side-by-side is the default)",
        ]);
        expect(usage.stderr).toContain("usage: npm run restore -- --tenant <slug>");
        expect(unreadable.code).toBe(1);
        expect(unreadable.stderr).toMatch(/^restore: cannot read .*acme\.dump: pg_restore failed \(exit 1\): pg_restore: error: input file does not appear to be a valid archive.* \(allowed: a pg_dump --format=custom archive\)\n$/);
        expect(unreachable.code).toBe(1);
        expect(unreachable.stderr).toMatch(/^restore: cannot connect to 127\.0\.0\.1:1\/app: /);
        expect(unreachable.stderr).not.toContain("secret-pw");
        for (const run of [usage, unreadable, unreachable]) {
            expect(run.stderr).not.toMatch(/^\s+at /m);
            expect(run.stdout).toBe("");
        }
    });

    it("parses a valid command line: side by side by default, and names each missing piece", () => {
        expect(parseRestoreArgs(["--tenant", "acme", "--dump", "x.dump", "--target", "postgres://a:b@h/app", "--tier", "hybrid"])).toEqual({
            problems: [],
            args: { tenant: "acme", dump: "x.dump", target: "postgres://a:b@h/app", tier: "hybrid", mode: "side-by-side" },
        });
        expect(parseRestoreArgs(["--tenant", "acme", "--source", "postgres://a:b@h/clone", "--target", "postgres://a:b@h/app", "--env", "prod", "--swap"]).args).toEqual({
            tenant: "acme", source: "postgres://a:b@h/clone", target: "postgres://a:b@h/app", env: "prod", mode: "swap",
        });
        expect(parseRestoreArgs([]).problems).toEqual([
            "--tenant: required (a tenant's slug)",
            "--dump or --source: required (what to restore from)",
            "--target: required (the admin URL of the tenant's cell or instance)",
            "--env or --tier: required (the tenant's tier decides its schema's privileges; allowed tiers: shared, hybrid, dedicated)",
        ]);
        expect(parseRestoreArgs(["--tenant", "acme", "--dump", "x", "--target", "postgres://a@h/app", "--tier", "shared", "--swap=yes"]).problems).toEqual(["--swap: takes no value"]);
    });

    it("--env takes the tier from the tenant file, and refuses a tenant the environment does not have", () => {
        const repo = fixtureRepo();
        try {
            expect(tierFromEnvironment(repo.root, "dev", "acme")).toBe("shared");
            expect(tierFromEnvironment(repo.root, "dev", "globex")).toBe("hybrid");
            expect(() => tierFromEnvironment(repo.root, "dev", "nosuch")).toThrow("no tenant 'nosuch' in environment dev (tenants/dev)");
            expect(() => tierFromEnvironment(repo.root, "staging", "acme")).toThrow("environment staging does not validate");
        } finally {
            repo.remove();
        }
    });

    it("reads a dump's table of contents: exactly the tenant's schema, its own entries left to the restore", () => {
        const listing = [
            ";     Dumped from database version: 15.18",
            ";     Dumped by pg_dump version: 15.18",
            "6; 2615 16390 SCHEMA - t_acme t_acme_owner",
            "3449; 0 0 ACL - SCHEMA t_acme t_acme_owner",
            "3500; 0 0 COMMENT - SCHEMA t_acme t_acme_owner",
            "216; 1259 16395 TABLE t_acme customers t_acme_owner",
            "3431; 0 16395 TABLE DATA t_acme customers t_acme_owner",
            "3455; 0 0 SEQUENCE OWNED BY t_acme events_id_seq t_acme_owner",
            "3285; 2606 16442 FK CONSTRAINT t_acme order_items order_items_order_id_fkey t_acme_owner",
        ].join("\n");
        const toc = parseToc(listing, "t_acme");
        expect(toc).toMatchObject({ schemas: ["t_acme"], foreign: [], dumpedFrom: "15.18", dumpedBy: "15.18" });
        expect(toc.list.split("\n").filter((l) => l.startsWith(";6;") || l.startsWith(";3449;") || l.startsWith(";3500;"))).toHaveLength(3);
        expect(toc.list).toContain("\n3431; 0 16395 TABLE DATA t_acme customers t_acme_owner");
        expect(tocProblems(toc, "x.dump", "acme", "t_acme")).toEqual([]);
        expect(tocProblems(parseToc(listing.replace(/t_acme/g, "t_globex"), "t_acme"), "x.dump", "acme", "t_acme")).toEqual([
            "x.dump: a dump of schema t_globex, not of tenant acme's t_acme (allowed: a dump of exactly t_acme)",
        ]);
        const whole = parseToc(`${listing}\n7; 2615 2200 SCHEMA - public postgres\n300; 1259 1 TABLE public things postgres`, "t_acme");
        expect(tocProblems(whole, "x.dump", "acme", "t_acme")).toEqual(["x.dump: a dump of schemas t_acme, public, not of tenant acme's t_acme (allowed: a dump of exactly t_acme)"]);
    });

    it("counts the locks a dump's restore transaction holds, and refuses more than a quarter of the shared lock table", () => {
        const listing = [
            "6; 2615 16390 SCHEMA - t_acme t_acme_owner",
            "216; 1259 16395 TABLE t_acme customers t_acme_owner",
            "217; 1259 16396 TABLE t_acme orders t_acme_owner",
            "218; 1259 16397 SEQUENCE t_acme orders_id_seq t_acme_owner",
            "219; 1259 16398 VIEW t_acme order_totals t_acme_owner",
            "220; 1259 16399 MATERIALIZED VIEW t_acme order_stats t_acme_owner",
            "3431; 0 16395 TABLE DATA t_acme customers t_acme_owner",
            "3300; 2606 16440 CONSTRAINT t_acme customers customers_pkey t_acme_owner",
            "3285; 2606 16442 FK CONSTRAINT t_acme orders orders_customer_id_fkey t_acme_owner",
            "3301; 1259 16450 INDEX t_acme orders_customer t_acme_owner",
        ].join("\n");
        // Tables and materialized views with their TOAST table and its index (3 each), the constraint's index, the
        // index, the sequence, the view; not the table's data, not the foreign key (its tables are counted).
        expect(tocLocks(parseToc(listing, "t_acme"))).toEqual({ tables: 3, indexes: 2, sequences: 1, views: 1, locks: 13 });
        const settings = { maxLocksPerTransaction: 64, maxConnections: 100, maxPreparedTransactions: 0 };
        expect(lockBudgetProblem({ tables: 500, indexes: 100, sequences: 0, views: 0, locks: 1600 }, settings, "cell:5432/app")).toBeUndefined();
        expect(lockBudgetProblem({ tables: 500, indexes: 101, sequences: 0, views: 0, locks: 1601 }, settings, "cell:5432/app")).toBe(
            "the dump restores 1601 relations (500 tables with their TOAST, 101 indexes, 0 sequences, 0 views) in ONE transaction, each locked until its COMMIT " +
            "in the lock table every session on cell:5432/app shares: max_locks_per_transaction 64 × (max_connections 100 + max_prepared_transactions 0) = 6400 slots, " +
            "and a restore may take at most a quarter (1600) so that the other tenants' sessions keep theirs (allowed: raise max_locks_per_transaction to at least 65 " +
            "in the placement's parameter group, a static parameter applied at its next reboot, then run again in a quiet window)",
        );
        expect(lockBudgetProblem({ tables: 10, indexes: 0, sequences: 0, views: 0, locks: 30 }, { ...settings, maxPreparedTransactions: 100 }, "x")).toBeUndefined();
    });

    it("the restore transaction commits only in the trailer, written after a complete dump (a cut input rolls back)", () => {
        const { header, trailer } = loadScript({
            schema: "t_acme", side: "t_acme_restore_20261123140000", ownerRole: "t_acme_owner", member: false, liveExists: true,
            privileges: { before: ["GRANT USAGE ON SCHEMA \"t_acme\" TO \"t_acme_app\";"], after: [] }, comment: "COMMENT ON SCHEMA \"t_acme\" IS 'x'",
        });
        expect(header).toMatch(/^BEGIN;\nGRANT "t_acme_owner" TO CURRENT_USER;\nALTER SCHEMA "t_acme" RENAME TO "t_acme_restore_20261123140000_h";\nCREATE SCHEMA "t_acme" AUTHORIZATION "t_acme_owner";\n/);
        expect(header).not.toMatch(/COMMIT/);
        expect(trailer.trim().split("\n").slice(-4)).toEqual([
            'ALTER SCHEMA "t_acme" RENAME TO "t_acme_restore_20261123140000";',
            'ALTER SCHEMA "t_acme_restore_20261123140000_h" RENAME TO "t_acme";',
            'REVOKE "t_acme_owner" FROM CURRENT_USER;',
            "COMMIT;",
        ]);
    });
});

describe("side and replaced schema names", () => {
    it("two restores of a tenant within one second get consecutive names, in the order they were made", () => {
        const now = new Date("2026-11-23T14:00:00.400Z");
        expect(stampedName("t_acme_restore", now, [])).toBe("t_acme_restore_20261123140000");
        const taken = ["t_acme_restore_20261123140000", "t_acme_restore_20261123140001"];
        expect(stampedName("t_acme_restore", now, taken)).toBe("t_acme_restore_20261123140002");
        expect(stampedName("t_acme_replaced", now, taken)).toBe("t_acme_replaced_20261123140000");
    });
});
