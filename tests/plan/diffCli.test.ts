import { describe, expect, it } from "vitest";
import { planToJson } from "../../tools/plan/model";
import { runPlan } from "../../tools/plan/run";
import { repo, runTool, runToolAsync, tenantDir, writePlan } from "./helpers";

// Each case runs `node --import tsx tools/planDiff.ts` as a child process: the CLI's exit codes and streams are the subject.
describe("npm run plan:diff", () => {
    // The plans are made in this process (one after another: the Pulumi runtime is process-global); the diff runs as the CLI.
    const plan = async (edits: Parameters<typeof tenantDir>[0]) =>
        writePlan(planToJson(await runPlan({ root: repo(), stack: "dev", tenantsDir: tenantDir(edits) })));

    it("exit 0 and no warning when nothing risky changed (a new tenant); exit 2 with a loud warning when a database goes", async () => {
        const base = await plan({});
        const added = await plan({ "hooli.yaml": "slug: hooli\ndisplayName: Hooli\n" });
        const calm = runTool("planDiff.ts", [base, added]);
        expect(calm.status).toBe(0);
        expect(calm.stdout).toContain("tenant hooli: added");
        expect(calm.stdout).not.toContain("DATA-LOSS GUARD");

        const deleted = await plan({ "globex.yaml": null });
        const risky = runTool("planDiff.ts", [base, deleted, "--format", "markdown"]);
        expect(risky.status).toBe(2);
        expect(risky.stdout).toContain("> [!CAUTION]");
        expect(risky.stdout).toContain("tenant globex: tenant file deleted; its database globex-db-db-instance would be deleted");
        expect(risky.stderr).toContain("DATA-LOSS GUARD");
    });

    it("usage errors exit 1: wrong argument count, unreadable file, not a plan, unknown format", async () => {
        const notPlan = writePlan('{"hello": "world"}');
        const notJson = writePlan("{");
        // Independent child processes: run at once.
        const [count, missing, bad, unparsable, format] = await Promise.all([
            runToolAsync("planDiff.ts", [notPlan]),
            runToolAsync("planDiff.ts", ["/nonexistent/plan.json", notPlan]),
            runToolAsync("planDiff.ts", [notPlan, notJson]),
            runToolAsync("planDiff.ts", [notJson, notJson]),
            runToolAsync("planDiff.ts", [notPlan, notPlan, "--format", "html"]),
        ]);
        expect(count.status).toBe(1);
        expect(missing.status).toBe(1);
        expect(missing.stderr).toContain("/nonexistent/plan.json: cannot read (ENOENT)");
        expect(bad.status).toBe(1);
        expect(bad.stderr).toContain("planVersion undefined is not supported");
        expect(unparsable.stderr).toContain("not JSON");
        expect(format.status).toBe(1);
    });
});
