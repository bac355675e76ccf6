import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Pulumi's mock monitor is process-global state: one test file per worker, tests in a file run in order.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
