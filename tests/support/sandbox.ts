/**
 * vitest globalSetup: the whole run, its workers and every child process they start get a temp directory of their own
 * (TMPDIR), and the run fails if a test left anything in it: every test removes what it makes. tsx's compile cache
 * (`tsx-<uid>`, made by the CLI tests' child processes) is the one expected entry. The directory is removed either way.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Entries a run may leave in its TMPDIR: caches, not test fixtures. */
const EXPECTED = /^tsx-\d+$/;

/** The names in `dir` that are not expected caches. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => !EXPECTED.test(name)).sort();
}

export default function setup(): () => void {
  const outer = tmpdir();
  const dir = mkdtempSync(join(outer, "tenancy-tests-"));
  chmodSync(dir, 0o755); // the test PostgreSQL runs as `nobody` under root and must reach its directory inside
  process.env["TMPDIR"] = dir; // os.tmpdir() reads it on every call; forked workers and their children inherit it
  return () => {
    process.env["TMPDIR"] = outer;
    const left = leftovers(dir);
    rmSync(dir, { recursive: true, force: true });
    if (left.length) {
      // vitest reports a teardown error but keeps its exit code: set the failure ourselves.
      console.error(`\nFAIL tests left ${left.length} entr${left.length === 1 ? "y" : "ies"} in their temp directory: ${left.join(", ")}`);
      process.exitCode = 1;
    }
  };
}
