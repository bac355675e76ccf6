import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // A real PostgreSQL 16 for every test that needs SQL: started once, in a temp dir on a free port, removed after.
    globalSetup: ["tests/support/postgres.ts"],
    // Pulumi's mock monitor is process-global state: one test file per worker, tests in a file run in order.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
