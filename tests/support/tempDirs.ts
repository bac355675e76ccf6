/**
 * Temp directories that live until the end of the test file that made them. The removal is registered for every file
 * by tests/support/afterEachFile.ts (a vitest setup file): test files share their worker's modules (isolate: false),
 * so a module-level `afterAll` in a shared helper would run for the first file that imported it only.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const made: string[] = [];

/** A new directory under the run's TMPDIR, removed after the current test file. */
export function makeTempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
}

/** Registers a directory made elsewhere for removal after the current test file. */
export function removeAfterFile(dir: string): void {
    made.push(dir);
}

/** Removes every registered directory (the setup file calls it after each test file). */
export function removeTempDirs(): void {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
