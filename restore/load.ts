/**
 * Loads a dump into a side schema in ONE transaction on the target, without rewriting a single name in it:
 *
 *   BEGIN;
 *   GRANT <owner> TO <admin>;                  -- unless already a member; revoked before COMMIT
 *   ALTER SCHEMA t_acme RENAME TO <side>_h;    -- the live schema steps aside, inside this transaction only
 *   CREATE SCHEMA t_acme AUTHORIZATION <owner>; + the declared schema privileges
 *   SET ROLE <owner>;  <pg_restore --no-owner --no-privileges output, streamed>;  RESET ROLE;
 *   <grants on what was restored>; COMMENT ON SCHEMA t_acme IS 'tenancy-restore: {"phase":"loaded",…}';
 *   ALTER SCHEMA t_acme RENAME TO <side>;      -- the restored copy takes its side name
 *   ALTER SCHEMA <side>_h RENAME TO t_acme;    -- the live schema is back under its name
 *   COMMIT;
 *
 * The dump's DDL runs exactly as pg_dump wrote it, for the schema name it was dumped from; the renames are catalog
 * updates that every dependent object follows by OID (sequences owned by columns, defaults, foreign keys, views,
 * indexes and constraints). Other sessions never see the intermediate names (one transaction), so the tenant's live
 * schema keeps serving; it is only its catalog row that the transaction updates (see README for what that blocks).
 * What does not follow a rename: names inside function bodies (text, resolved when called). In the side schema they
 * still say `t_acme` (the live schema); once swapped in, they are right again, as in the dump.
 *
 * The transaction is BEGIN … COMMIT written by this process, not psql's --single-transaction: psql commits a
 * --single-transaction script at the end of its input, so a tool killed mid-stream would commit half a restore. Here
 * a cut input ends psql inside an open transaction, and the server rolls it back.
 */
import { spawn } from "child_process";
import * as path from "path";
import { ident, libpqEnv } from "../move/connect";
import type { Endpoint } from "../move/types";
import { RestoreError } from "./types";

export interface LoadPlan {
    target: Endpoint;
    psql: string;
    pgRestore: string;
    file: string;
    /** `pg_restore --list` output without the schema's own entries (restore/dump.ts), for `pg_restore -L`. */
    listFile: string;
    schema: string;
    side: string;
    ownerRole: string;
    /** The admin is a member of the owner already: no GRANT/REVOKE. */
    member: boolean;
    /** The tenant's schema exists on the target (it steps aside for the transaction). */
    liveExists: boolean;
    privileges: { before: string[]; after: string[] };
    /** `COMMENT ON SCHEMA …` of the restored schema (its state, phase loaded). */
    comment: string;
}

/** Header and trailer around pg_restore's output. Pure (tests read it). */
export function loadScript(p: Omit<LoadPlan, "target" | "psql" | "pgRestore" | "file" | "listFile">): { header: string; trailer: string } {
    const [s, o] = [ident(p.schema), ident(p.ownerRole)];
    const hold = ident(`${p.side}_h`);
    const header = [
        "BEGIN;",
        ...(p.member ? [] : [`GRANT ${o} TO CURRENT_USER;`]),
        ...(p.liveExists ? [`ALTER SCHEMA ${s} RENAME TO ${hold};`] : []),
        `CREATE SCHEMA ${s} AUTHORIZATION ${o};`,
        ...p.privileges.before,
        `SET ROLE ${o};`,
        "",
    ].join("\n");
    const trailer = [
        "",
        "RESET ROLE;",
        "SELECT pg_catalog.set_config('search_path', 'pg_catalog', false);",
        ...p.privileges.after,
        `${p.comment};`,
        `ALTER SCHEMA ${s} RENAME TO ${ident(p.side)};`,
        ...(p.liveExists ? [`ALTER SCHEMA ${hold} RENAME TO ${s};`] : []),
        ...(p.member ? [] : [`REVOKE ${o} FROM CURRENT_USER;`]),
        "COMMIT;",
        "",
    ].join("\n");
    return { header, trailer };
}

/** Streams header, `pg_restore -f -` and trailer into psql; resolves once psql has committed. */
export function load(p: LoadPlan): Promise<void> {
    const { header, trailer } = loadScript(p);
    return new Promise((resolve, reject) => {
        const psql = spawn(p.psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], { env: { ...libpqEnv(p.target), PGAPPNAME: "tenancy-restore" }, stdio: ["pipe", "ignore", "pipe"] });
        const restore = spawn(p.pgRestore, ["--no-owner", "--no-privileges", "-L", p.listFile, "-f", "-", p.file], { stdio: ["ignore", "pipe", "pipe"] });
        let psqlErr = "";
        let restoreErr = "";
        let restoreCode: number | null | undefined;
        let psqlCode: number | null | undefined;
        psql.stderr.on("data", (d: Buffer) => (psqlErr += d.toString()));
        restore.stderr.on("data", (d: Buffer) => (restoreErr += d.toString()));
        psql.stdin.on("error", () => undefined); // psql stopped on an error: its exit code says why
        const fail = (e: Error): void => {
            restore.kill("SIGKILL");
            psql.kill("SIGKILL");
            reject(new RestoreError(`cannot run ${path.basename(p.psql)} or ${path.basename(p.pgRestore)}: ${e.message}`, 1));
        };
        psql.once("error", fail);
        restore.once("error", fail);
        const settle = (): void => {
            if (restoreCode === undefined || psqlCode === undefined) return;
            const firstError = (text: string): string => text.split("\n").find((l) => /ERROR|error|FATAL/.test(l))?.trim() ?? text.trim().split("\n")[0] ?? "";
            if (psqlCode !== 0) reject(new RestoreError(`loading ${p.file} into ${p.target.label} failed, nothing was kept: ${firstError(psqlErr)}`, 1));
            else if (restoreCode !== 0) reject(new RestoreError(`pg_restore could not read all of ${p.file}, nothing was kept: ${firstError(restoreErr)}`, 1));
            else resolve();
        };
        psql.stdin.write(header);
        restore.stdout.pipe(psql.stdin, { end: false });
        restore.once("close", (code) => {
            restoreCode = code;
            // Only a complete dump gets the trailer and its COMMIT; otherwise psql reads the end of its input inside the
            // open transaction and the server rolls everything back.
            if (code === 0) psql.stdin.end(trailer);
            else psql.stdin.end();
            settle();
        });
        psql.once("close", (code) => {
            psqlCode = code;
            if (restoreCode === undefined) restore.kill("SIGKILL");
            settle();
        });
    });
}
