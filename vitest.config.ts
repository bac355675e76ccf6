import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // A temp directory of the run's own that must be empty at the end (tests leave nothing behind), then a real
    // PostgreSQL 16 for every test that needs SQL: started once, in a temp dir on a free port, removed after.
    globalSetup: ["tests/support/sandbox.ts", "tests/support/postgres.ts"],
    // Pulumi's mock monitor is process-global state: one test file per worker, tests in a file run in order.
    pool: "forks",
    // Two workers on this 2-core machine (vitest's default, CPUs − 1, runs one): the suite is mostly waiting on
    // PostgreSQL and child processes, and halves in wall time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
