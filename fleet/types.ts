/**
 * What the orchestrator asks of Pulumi, as an interface: the real adapter (fleet/automation.ts) runs each stack through
 * the Automation API in a worker process of its own; the tests use a fake. Everything above this interface (order,
 * selection, parallelism, failure isolation, resume) is the orchestrator's own logic and is tested without Pulumi.
 */

/** Operations that run a stack's program. */
export const OPERATIONS = ["preview", "up", "refresh"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** How one stack's operation ended. `changed`: it changed (up, refresh) or would change (preview) resources. */
export type StackStatus = "ok" | "changed" | "failed" | "skipped";

export interface StackOutcome {
    stack: string;
    status: StackStatus;
    /** Resource operations by kind (`create`, `update`, `replace`, `delete`, `same`), as Pulumi counts them. */
    changes?: Record<string, number>;
    /** `failed`: the error's first lines; `skipped`: why. */
    message?: string;
    startedAt?: string;
    durationMs?: number;
}

/** The last update of a stack, as its history says. */
export interface StackHistory {
    stack: string;
    /** False when the stack does not exist yet (never deployed). */
    exists: boolean;
    last?: { kind: string; result: string; startTime: string; endTime?: string; changes?: Record<string, number> };
}

/** Runs operations on stacks. One call per stack; calls for different stacks may run at once. */
export interface StackRunner {
    run(stack: string, operation: Operation): Promise<Omit<StackOutcome, "stack" | "startedAt" | "durationMs">>;
    history(stack: string): Promise<StackHistory>;
    /** Releases what the runner holds (worker processes). */
    close(): Promise<void>;
}

/** Runs the `pulumi` CLI for what the Automation API does not cover (`state move`). */
export interface PulumiCli {
    run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Operations that changed or would change resources. */
export function changedSomething(changes: Record<string, number> | undefined): boolean {
    return Object.entries(changes ?? {}).some(([op, n]) => op !== "same" && op !== "read" && n > 0);
}

/** The first lines of an error, for a report line: enough to recognise it, not a wall of text. */
export function firstLines(text: string, lines = 5): string {
    const kept = text.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
    return kept.slice(0, lines).join("\n") + (kept.length > lines ? `\n… (${kept.length - lines} more lines)` : "");
}
