/**
 * `node --import tsx tools/ci/testSummary.ts <vitest-report.json> <exit-code>`
 *
 * The closing line of CI: `N passed, N failed[, N skipped]` from vitest's JSON report, and an exit code that is
 * non-zero when anything failed: a failed test, a test file that failed to load or run (it has no failed test to
 * count, so it counts as one), a run that ended non-zero (type check, runner crash), or a report with no test at all.
 */
import * as fs from "fs";

/** The parts of vitest's JSON report (`--reporter=json`) the summary reads. */
export interface VitestReport {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { name: string; status: string; assertionResults: { status: string }[] }[];
}

export interface Summary {
    passed: number;
    failed: number;
    skipped: number;
    /** Why the run failed beyond the counted tests, one line each. */
    notes: string[];
    exitCode: number;
}

/** Counts of `report` (undefined when there is none) for a run that exited with `runExitCode`. */
export function summarize(report: VitestReport | undefined, runExitCode: number): Summary {
    const notes: string[] = [];
    if (!report) {
        notes.push("no test report: the type check or the test runner failed before any test ran");
        return { passed: 0, failed: 1, skipped: 0, notes, exitCode: runExitCode || 1 };
    }
    let failed = report.numFailedTests;
    for (const file of report.testResults) {
        if (file.status === "failed" && !file.assertionResults.some((a) => a.status === "failed")) {
            notes.push(`${file.name}: the file failed outside its tests (import, hook or setup error)`);
            failed++;
        }
    }
    if (runExitCode !== 0 && failed === 0) {
        notes.push(`the test run exited ${runExitCode} although no test failed (unhandled error or crash)`);
        failed = 1;
    }
    const passed = report.numPassedTests;
    const skipped = report.numPendingTests + report.numTodoTests;
    if (passed + failed === 0) notes.push("no test ran");
    const exitCode = failed > 0 || passed === 0 ? runExitCode || 1 : 0;
    return { passed, failed, skipped, notes, exitCode };
}

/** `12 passed, 1 failed` or `12 passed, 0 failed, 3 skipped`. */
export function summaryLine(s: Summary): string {
    return `${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ""}`;
}

if (require.main === module) {
    const [file, code] = process.argv.slice(2);
    if (!file || code === undefined || !/^\d+$/.test(code)) {
        console.error("usage: node --import tsx tools/ci/testSummary.ts <vitest-report.json> <exit-code>");
        process.exit(1);
    }
    let report: VitestReport | undefined;
    try {
        report = JSON.parse(fs.readFileSync(file, "utf8")) as VitestReport;
    } catch {
        report = undefined;
    }
    const summary = summarize(report, Number(code));
    for (const note of summary.notes) console.log(note);
    console.log(summaryLine(summary));
    process.exit(summary.exitCode);
}
