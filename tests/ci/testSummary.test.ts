import { describe, expect, it } from "vitest";
import { summarize, summaryLine, type VitestReport } from "../../tools/ci/testSummary";

const file = (status: string, ...tests: string[]) => ({ name: "/r/tests/a.test.ts", status, assertionResults: tests.map((s) => ({ status: s })) });
const report = (over: Partial<VitestReport>): VitestReport => ({
    numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [], ...over,
});

describe("CI's closing line", () => {
    it("all green: the counts and exit 0", () => {
        const s = summarize(report({ numPassedTests: 3, testResults: [file("passed", "passed", "passed", "passed")] }), 0);
        expect(summaryLine(s)).toBe("3 passed, 0 failed");
        expect(s.exitCode).toBe(0);
    });

    it("a failed test fails the run even if the runner's exit code says 0", () => {
        const s = summarize(report({ numPassedTests: 2, numFailedTests: 1, testResults: [file("failed", "passed", "failed", "passed")] }), 0);
        expect(summaryLine(s)).toBe("2 passed, 1 failed");
        expect(s.exitCode).toBe(1);
    });

    it("skipped and todo tests are listed as skipped", () => {
        const s = summarize(report({ numPassedTests: 2, numPendingTests: 1, numTodoTests: 1 }), 0);
        expect(summaryLine(s)).toBe("2 passed, 0 failed, 2 skipped");
        expect(s.exitCode).toBe(0);
    });

    it("a file that failed to load counts as a failure", () => {
        const s = summarize(report({ numPassedTests: 2, testResults: [file("passed", "passed", "passed"), file("failed")] }), 1);
        expect(summaryLine(s)).toBe("2 passed, 1 failed");
        expect(s.notes[0]).toMatch(/failed outside its tests/);
        expect(s.exitCode).toBe(1);
    });

    it("a non-zero run with no failed test (type check, crash) fails", () => {
        expect(summarize(report({ numPassedTests: 5 }), 2)).toMatchObject({ failed: 1, exitCode: 2 });
        expect(summarize(undefined, 2)).toMatchObject({ passed: 0, failed: 1, exitCode: 2 });
    });

    it("a run with no test at all fails", () => {
        expect(summarize(report({}), 0).exitCode).toBe(1);
    });
});
