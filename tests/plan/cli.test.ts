import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parsePlan } from "../../tools/plan/model";
import { runTool, runToolAsync, setField, tenantDir, writePlan } from "./helpers";

// Each case is a child process (`node --import tsx tools/...`) on the fixture repository: the CLI's exit codes and streams are the subject.
describe("npm run plan", () => {
    it("prints the text plan of the dev stack on stdout, exit 0", () => {
        const r = runTool("plan.ts", ["--stack", "dev"]);
        expect(r.status).toBe(0);
        for (const slug of ["acme", "globex", "initech"]) expect(r.stdout).toMatch(new RegExp(`^${slug} — `, "m"));
        expect(r.stdout).toContain("Totals: 3 tenants");
    });

    it("invalid tenants: the registry's located problems on stderr, non-zero exit, no plan on stdout", () => {
        const dir = tenantDir({ "initech.yaml": (t) => t.replace("10.20.0.0/16", "10.0.0.0/16"), "acme.yaml": setField("tier", "platinum") });
        const r = runTool("plan.ts", ["--stack", "dev", "--tenants", dir, "--format", "json"]);
        expect(r.status).not.toBe(0);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/initech\.yaml:\d+:\d+ network\.cidr: 10\.0\.0\.0\/16 overlaps the shared VPC 10\.0\.0\.0\/16/);
        expect(r.stderr).toMatch(/acme\.yaml:\d+:\d+ tier: /);
        expect(r.stderr).toContain("nothing was planned or changed");
    });

    it("invalid config (unknown stack) and usage errors exit 1 without a plan", async () => {
        // Independent child processes: run at once.
        const [unknown, format, none, parallel, stack] = await Promise.all([
            runToolAsync("plan.ts", ["--stack", "staging"]),
            runToolAsync("plan.ts", ["--stack", "dev", "--format", "yaml"]),
            runToolAsync("plan.ts", []),
            runToolAsync("plan.ts", ["--stack", "dev", "--parallel", "0"]),
            runToolAsync("plan.ts", ["--stack", "dev.acme"]),
        ]);
        expect(unknown.status).toBe(1);
        expect(unknown.stdout).toBe("");
        expect(unknown.stderr).toContain("Pulumi.staging.yaml: no such stack configuration (stacks: dev, prod)");
        expect(format.status).toBe(1);
        expect(format.stderr).toContain("--format 'yaml' is not supported (allowed: text, json, markdown, mermaid)");
        expect(none.status).toBe(1);
        expect(parallel.status).toBe(1);
        expect(parallel.stderr).toContain("--parallel '0' is not allowed (allowed: a whole number of worker processes, 1 or more)");
        expect(stack.status).toBe(1);
        expect(stack.stderr).toContain("stack dev.acme: environment dev (layout single) has no such stack (allowed: dev)");
    });

    it("--format json --out writes a plan that plan:diff reads; --tenants overrides the stack's directory", () => {
        const out = path.join(path.dirname(writePlan("")), "out", "plan.json");
        const dir = tenantDir({ "globex.yaml": null });
        const r = runTool("plan.ts", ["--stack", "dev", "--tenants", dir, "--format", "json", "--out", out]);
        expect(r.status).toBe(0);
        expect(r.stdout).toBe("");
        const plan = parsePlan(fs.readFileSync(out, "utf8"), out);
        expect(plan.tenants.map((t) => t.slug)).toEqual(["acme", "initech"]);
    });

    it("markdown and mermaid formats name every tenant", async () => {
        const [md, mermaid] = await Promise.all([
            runToolAsync("plan.ts", ["--stack", "prod", "--format", "markdown"]),
            runToolAsync("plan.ts", ["--stack", "prod", "--format", "mermaid"]),
        ]);
        expect(md.status).toBe(0);
        expect(mermaid.status).toBe(0);
        expect(mermaid.stdout.startsWith("flowchart LR\n")).toBe(true);
        for (const slug of ["acme", "cyberdyne", "hooli", "soylent", "stark", "tyrell", "umbrella", "wayne"]) {
            expect(md.stdout).toContain(`| \`${slug}\` |`);
            expect(mermaid.stdout).toContain(`t_${slug}["${slug}`);
        }
    });
});
