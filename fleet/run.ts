/**
 * Runs an operation over the selected stacks of an environment, step by step (platform, cells, tenants: model/fleet.ts),
 * at most `parallel` stacks at once. One stack's failure never stops the other stacks of its step; a stack whose
 * platform or cell failed (or was skipped) in this run is skipped with the reason, since it would read outputs that did
 * not change as planned. The record is saved after every stack, so a killed run resumes from it.
 */
import type { FleetStack, ScheduleStep } from "../model/fleet";
import type { RunRecord } from "./record";
import { changedSomething, firstLines, type Operation, type StackOutcome, type StackRunner } from "./types";

export interface RunOptions {
    steps: readonly ScheduleStep[];
    operation: Operation;
    /** Stacks at once, at least 1. */
    parallel: number;
    runner: StackRunner;
    /** The run's record, updated in place: with outcomes of an earlier run, those stacks that ended ok are not run again. */
    record: RunRecord;
    /** Called after every outcome (save the record here). */
    onOutcome?: (outcome: StackOutcome, record: RunRecord) => void;
    now?: () => number;
}

/** Whether an earlier outcome means the stack is done for this operation. */
function done(outcome: StackOutcome | undefined): boolean {
    return outcome !== undefined && (outcome.status === "ok" || outcome.status === "changed");
}

/** Runs `items` with at most `limit` in flight. */
async function bounded<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async () => {
        while (next < items.length) await run(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** Runs the steps; returns the outcome of every stack of this run, in schedule order. */
export async function runFleet(opts: RunOptions): Promise<StackOutcome[]> {
    const { record, runner, operation } = opts;
    const now = opts.now ?? Date.now;
    const earlier = { ...record.stacks };
    const results: StackOutcome[] = [];
    const settle = (outcome: StackOutcome) => {
        record.stacks[outcome.stack] = outcome;
        results.push(outcome);
        opts.onOutcome?.(outcome, record);
    };
    for (const step of opts.steps) {
        await bounded(step.stacks, Math.max(1, opts.parallel), async (stack: FleetStack) => {
            if (done(earlier[stack.name])) {
                results.push(earlier[stack.name]!);
                return;
            }
            // A dependency that ran in this run (or in the run resumed) and did not end ok: what it exports is not what was planned.
            const broken = stack.dependsOn.find((d) => {
                const o = record.stacks[d];
                return o !== undefined && (o.status === "failed" || o.status === "skipped");
            });
            if (broken) {
                settle({ stack: stack.name, status: "skipped", message: `${broken} ${record.stacks[broken]!.status}` });
                return;
            }
            const start = now();
            const startedAt = new Date(start).toISOString();
            try {
                const r = await runner.run(stack.name, operation);
                const status = r.status === "ok" && changedSomething(r.changes) ? "changed" : r.status;
                settle({ ...r, status, stack: stack.name, startedAt, durationMs: now() - start });
            } catch (e) {
                settle({ stack: stack.name, status: "failed", message: firstLines(e instanceof Error ? e.message : String(e)), startedAt, durationMs: now() - start });
            }
        });
    }
    return results;
}

/** Exit code of a run: 0 when no stack failed or was skipped, 1 otherwise. */
export function exitCode(outcomes: readonly StackOutcome[]): number {
    return outcomes.some((o) => o.status === "failed" || o.status === "skipped") ? 1 : 0;
}

/** The per-stack report: one line per stack, failures with their first lines indented below. */
export function renderReport(outcomes: readonly StackOutcome[], resumed: ReadonlySet<string> = new Set()): string {
    const width = Math.max(5, ...outcomes.map((o) => o.stack.length));
    const lines: string[] = [];
    for (const o of outcomes) {
        const changes = Object.entries(o.changes ?? {}).filter(([op, n]) => op !== "same" && n > 0).map(([op, n]) => `${op} ${n}`).join(", ");
        const time = o.durationMs !== undefined ? `${(o.durationMs / 1000).toFixed(1)} s` : "";
        const note = resumed.has(o.stack) ? "(done in the resumed run)" : o.status === "skipped" ? `(${o.message})` : changes;
        lines.push(`${o.stack.padEnd(width)}  ${o.status.padEnd(7)}  ${[note, time].filter(Boolean).join("  ")}`.trimEnd());
        if (o.status === "failed" && o.message) lines.push(...o.message.split("\n").map((l) => `    ${l}`));
    }
    const count = (s: string) => outcomes.filter((o) => o.status === s).length;
    lines.push("", `${outcomes.length} stacks: ${count("ok")} ok, ${count("changed")} changed, ${count("failed")} failed, ${count("skipped")} skipped.`);
    return lines.join("\n") + "\n";
}
