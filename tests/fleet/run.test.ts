import { describe, expect, it } from "vitest";
import { fleetStacks, scheduleSteps } from "../../model/fleet";
import { exitCode, renderReport, runFleet } from "../../fleet/run";
import type { RunRecord } from "../../fleet/record";
import type { Operation, StackOutcome, StackRunner } from "../../fleet/types";

/** A fake of the Automation API adapter: scripted outcomes, a log of calls, the most stacks ever in flight. */
class FakeRunner implements StackRunner {
    calls: string[] = [];
    inFlight = 0;
    maxInFlight = 0;
    constructor(private readonly script: Record<string, "fail" | "throw" | Record<string, number>> = {}) {}
    async run(stack: string, operation: Operation) {
        this.calls.push(`${operation} ${stack}`);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        await new Promise((r) => setTimeout(r, 2));
        this.inFlight--;
        const s = this.script[stack];
        if (s === "throw") throw new Error(`error: update failed\n  aws:rds:Instance ${stack}-db: InvalidParameterCombination\nline 3\nline 4\nline 5\nline 6\nline 7`);
        if (s === "fail") return { status: "failed" as const, message: "resource x failed" };
        return { status: "ok" as const, changes: s ?? { same: 3 } };
    }
    async history(stack: string) {
        return { stack, exists: false };
    }
    async close() {}
}

const env = fleetStacks({
    env: "prod",
    layout: "fleet",
    cells: ["a", "b"],
    tenants: [
        { slug: "s1", tier: "shared", cell: "a" }, { slug: "s2", tier: "shared", cell: "b" }, { slug: "s3", tier: "shared", cell: "a" },
        { slug: "h1", tier: "hybrid" }, { slug: "d1", tier: "dedicated" },
    ],
});
const steps = scheduleSteps(env);
const newRecord = (): RunRecord => ({ version: 1, id: "r", env: "prod", operation: "up", selection: {}, startedAt: "t", stacks: {} });

describe("fleet run", () => {
    it("runs the platform, then the cells, then the tenants, and never more stacks at once than --parallel", async () => {
        const runner = new FakeRunner();
        const outcomes = await runFleet({ steps, operation: "up", parallel: 2, runner, record: newRecord() });
        const order = runner.calls.map((c) => c.replace("up ", ""));
        expect(order[0]).toBe("prod");
        expect(order.slice(1, 3).sort()).toEqual(["prod.cell-a", "prod.cell-b"]);
        expect(order.slice(3).sort()).toEqual(["prod.d1", "prod.h1", "prod.s1", "prod.s2", "prod.s3"]);
        expect(runner.maxInFlight).toBe(2);
        expect(outcomes.every((o) => o.status === "ok")).toBe(true);
        const serial = new FakeRunner();
        await runFleet({ steps, operation: "up", parallel: 1, runner: serial, record: newRecord() });
        expect(serial.maxInFlight).toBe(1);
    });

    it("one tenant's failure stops no other tenant; a failed cell skips its tenants only; the exit code says so", async () => {
        const runner = new FakeRunner({ "prod.cell-b": "throw", "prod.s1": "fail", "prod.h1": { create: 2, same: 5 } });
        const outcomes = await runFleet({ steps, operation: "up", parallel: 3, runner, record: newRecord() });
        const by = Object.fromEntries(outcomes.map((o) => [o.stack, o]));
        expect(by["prod.cell-b"]!.status).toBe("failed");
        expect(by["prod.cell-b"]!.message).toBe("error: update failed\n  aws:rds:Instance prod.cell-b-db: InvalidParameterCombination\nline 3\nline 4\nline 5\n… (2 more lines)");
        expect(by["prod.s2"]).toMatchObject({ status: "skipped", message: "prod.cell-b failed" });
        expect(runner.calls).not.toContain("up prod.s2");
        expect(by["prod.s1"]!.status).toBe("failed");
        expect(by["prod.s3"]!.status).toBe("ok");
        expect(by["prod.h1"]!.status).toBe("changed");
        expect(by["prod.d1"]!.status).toBe("ok");
        expect(exitCode(outcomes)).toBe(1);
        expect(exitCode(outcomes.filter((o) => o.status === "ok"))).toBe(0);
        const report = renderReport(outcomes);
        expect(report).toMatch(/^prod\.h1 +changed +create 2 /m);
        expect(report).toMatch(/^prod\.s2 +skipped +\(prod\.cell-b failed\)/m);
        expect(report).toContain("    error: update failed");
        expect(report).toContain("8 stacks: 4 ok, 1 changed, 2 failed, 1 skipped.");
    });

    it("a failed platform skips every other stack", async () => {
        const outcomes = await runFleet({ steps, operation: "preview", parallel: 2, runner: new FakeRunner({ prod: "fail" }), record: newRecord() });
        expect(outcomes.filter((o) => o.status === "skipped")).toHaveLength(7);
    });

    it("resume runs only the stacks that did not end ok, and the record holds every outcome after each stack", async () => {
        const record = newRecord();
        const saves: number[] = [];
        await runFleet({
            steps, operation: "up", parallel: 2, runner: new FakeRunner({ "prod.cell-a": "fail", "prod.d1": "fail" }), record,
            onOutcome: (_o, r) => saves.push(Object.keys(r.stacks).length),
        });
        expect(saves).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(Object.values(record.stacks).filter((o: StackOutcome) => o.status !== "ok").map((o) => o.stack).sort()).toEqual(["prod.cell-a", "prod.d1", "prod.s1", "prod.s3"]);
        const again = new FakeRunner();
        const outcomes = await runFleet({ steps, operation: "up", parallel: 2, runner: again, record });
        expect(again.calls.sort()).toEqual(["up prod.cell-a", "up prod.d1", "up prod.s1", "up prod.s3"]);
        expect(outcomes).toHaveLength(8);
        expect(exitCode(outcomes)).toBe(0);
    });
});
