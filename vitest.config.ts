import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // A temp directory of the run's own that must be empty at the end (tests leave nothing behind), then a real
    // PostgreSQL 16 for every test that needs SQL: started once, in a temp dir on a free port, removed after.
    globalSetup: ["tests/support/sandbox.ts", "tests/support/postgres.ts"],
    // Removes each test file's temp directories after it (tests/support/tempDirs.ts).
    setupFiles: ["tests/support/afterEachFile.ts"],
    // Pulumi's mock monitor is process-global state: one test file per worker, tests in a file run in order.
    pool: "forks",
    // Two workers on this 2-core machine (vitest's default, CPUs − 1, runs one): the suite is mostly waiting on
    // PostgreSQL and child processes, and halves in wall time.
    maxWorkers: 2,
    // Test files share their worker's module cache: the Pulumi SDK and providers load once per worker instead of once
    // per file (most of the suite's time). Files still run one at a time per worker, and every record() resets the
    // mock engine. Shared helpers must not rely on module-level hooks (tests/support/tempDirs.ts); the sandbox check
    // catches leftovers.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
