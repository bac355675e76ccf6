/**
 * The repository's example stacks (`Pulumi.<stack>.yaml` and their tenant directories) are the only thing a user edits
 * that the tests read, and only here: whatever stacks and tenants there are, each must validate and plan. Every other
 * test builds its own fixtures, so adding `tenants/dev/wonka.yaml` or a `Pulumi.staging.yaml` changes nothing else.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { runPlan } from "../tools/plan/run";
import { loadRegistry } from "../tenants/registry";

const ROOT = path.resolve(__dirname, "..");
const stacks = fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();

describe("example stacks", () => {
    it("the repository has at least one stack to check", () => {
        expect(stacks.length).toBeGreaterThan(0);
    });

    it.each(stacks)("%s validates and plans every tenant file of its directory", async (stack) => {
        const { config, tenants } = loadRegistry({ root: ROOT, stack });
        const files = fs.readdirSync(path.join(ROOT, config.tenantsDir)).filter((f) => f.endsWith(".yaml"));
        expect(tenants.map((t) => path.basename(t.file)).sort()).toEqual(files.sort());
        const plan = await runPlan({ root: ROOT, stack });
        expect(plan.stack).toBe(stack);
        expect(plan.tenants.map((t) => t.slug).sort()).toEqual(tenants.map((t) => t.slug).sort());
        expect(plan.resources.length).toBeGreaterThan(tenants.length);
    });
});
