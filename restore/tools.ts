/**
 * The PostgreSQL client programs the restore runs (pg_restore, pg_dump, psql), found by major version as the move
 * finds its own: Debian's `/usr/lib/postgresql/<major>/bin` first, then PATH. Passwords travel in PGPASSWORD
 * (move/connect.ts `libpqEnv`), never on a command line.
 */
import { execFile, spawn } from "child_process";
import { existsSync, readdirSync } from "fs";
import * as path from "path";
import { libpqEnv } from "../move/connect";
import { debianBinDir } from "../move/ddl";
import type { Endpoint } from "../move/types";
import { RestoreError } from "./types";

export type Tool = "pg_restore" | "pg_dump" | "psql";

const majors = new Map<string, Promise<number | undefined>>();

/** `pg_restore (PostgreSQL) 15.18 (Debian …)` → 15; undefined when the program does not run. Asked once per file. */
function toolMajor(file: string): Promise<number | undefined> {
    const known = majors.get(file);
    if (known) return known;
    const major = new Promise<number | undefined>((resolve) => {
        execFile(file, ["--version"], { timeout: 10_000 }, (err, stdout) => {
            const m = /\(PostgreSQL\)\s+(\d+)/.exec(String(stdout));
            resolve(err || !m ? undefined : Number(m[1]));
        });
    });
    majors.set(file, major);
    return major;
}

/** Every installed copy of `tool`: Debian's versioned directories (newest first), then PATH. */
function installed(tool: Tool): string[] {
    let majors: number[] = [];
    try {
        majors = readdirSync("/usr/lib/postgresql").filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => b - a);
    } catch {
        // not a Debian layout: PATH only
    }
    const dirs = [...majors.map(debianBinDir), ...(process.env["PATH"] ?? "").split(path.delimiter).filter(Boolean)];
    return [...new Set(dirs.map((d) => path.join(d, tool)))].filter((f) => existsSync(f));
}

/** The remedy when a program of that major is missing. */
export function missingTool(tool: Tool, major: number, why: string): string {
    return `${tool} of PostgreSQL ${major} not found (looked in ${debianBinDir(major)} and PATH; ${why}): install it, e.g. \`apt-get install postgresql-client-${major}\``;
}

/** `tool` of exactly `major` (pg_dump refuses newer servers; pg_restore and psql match the server they load). */
export async function requireTool(tool: Tool, major: number, why: string): Promise<string> {
    for (const file of installed(tool)) if ((await toolMajor(file)) === major) return file;
    throw new RestoreError(missingTool(tool, major, why), 1);
}

/** The newest installed `tool` (reading an archive's table of contents needs one at least as new as its pg_dump). */
export async function newestTool(tool: Tool): Promise<string> {
    let best: { file: string; major: number } | undefined;
    for (const file of installed(tool)) {
        const major = await toolMajor(file);
        if (major !== undefined && (!best || major > best.major)) best = { file, major };
    }
    if (!best) throw new RestoreError(`${tool} not found (looked in /usr/lib/postgresql/*/bin and PATH): install a PostgreSQL client, e.g. \`apt-get install postgresql-client-15\``, 1);
    return best.file;
}

/** Runs a program to completion; resolves with stdout, rejects with a RestoreError quoting its stderr (never a password). */
export function run(file: string, args: string[], opts: { ep?: Endpoint; what: string }): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { env: opts.ep ? libpqEnv(opts.ep) : process.env, stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        let err = "";
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.once("error", (e) => reject(new RestoreError(`${opts.what}: ${path.basename(file)}: ${e.message}`, 1)));
        child.once("close", (code) => {
            if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
            else reject(new RestoreError(`${opts.what}: ${path.basename(file)} failed (exit ${code}): ${err.trim()}`, 1));
        });
    });
}
