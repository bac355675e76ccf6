/**
 * The record of a fleet run: what was asked and how each stack ended. Written after every stack (write to a temporary
 * file, then rename, so a killed run leaves the previous complete record), kept under `.fleet/runs/` and meant to be
 * uploaded as a CI artifact; `--resume <file>` continues the run it describes. `selection.base` is the commit that
 * `--changed-since deployed` resolved to, `selection.commit` the commit deployed.
 */
import * as fs from "fs";
import * as path from "path";
import { OPERATIONS, type Operation, type StackOutcome } from "./types";

export const RECORD_VERSION = 1;

export interface RunRecord {
    version: number;
    id: string;
    env: string;
    operation: Operation;
    /** What selected the stacks, so a resume runs the same selection. */
    selection: { tenants?: string[]; changedSince?: string; commit?: string; base?: string };
    startedAt: string;
    finishedAt?: string;
    /** Stack name → outcome, for every stack that ended (ok, changed, failed or skipped). */
    stacks: Record<string, StackOutcome>;
}

/** A new record's id: time-ordered and readable, e.g. `2026-11-23T15-04-05Z-up`. */
export function runId(now: Date, operation: Operation): string {
    return `${now.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-")}-${operation}`;
}

/** Writes the record atomically: the old file stays whole until the new one is complete. */
export function saveRecord(file: string, record: RunRecord): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2) + "\n");
    fs.renameSync(tmp, file);
}

/** A problem reading a record: a user's mistake (wrong file), reported without a stack trace. */
export class RecordError extends Error {}

/** Reads and checks a record written by {@link saveRecord}. */
export function loadRecord(file: string): RunRecord {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new RecordError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let doc: Partial<RunRecord>;
    try {
        doc = JSON.parse(text) as Partial<RunRecord>;
    } catch (e) {
        throw new RecordError(`${file}: not a run record (invalid JSON: ${(e as Error).message})`);
    }
    const problems: string[] = [];
    if (doc.version !== RECORD_VERSION) problems.push(`version ${String(doc.version)} (allowed: ${RECORD_VERSION})`);
    if (typeof doc.env !== "string") problems.push("no env");
    if (!OPERATIONS.includes(doc.operation as Operation)) problems.push(`operation ${String(doc.operation)} (allowed: ${OPERATIONS.join(", ")})`);
    if (typeof doc.stacks !== "object" || doc.stacks === null) problems.push("no stacks");
    if (problems.length) throw new RecordError(`${file}: not a run record of this tool: ${problems.join("; ")}`);
    return doc as RunRecord;
}
