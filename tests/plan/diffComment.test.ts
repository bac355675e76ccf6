/**
 * The plan diff as a pull-request comment: under GitHub's 65,536-character limit at any fleet size, identical changes
 * grouped across tenants, long values never cut to the same text on both sides, and no diff across stacks.
 * Synthetic diffs and plans: pure and fast, no program runs.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { diffPlans, type PlanDiff, type Risk, type TenantDiff } from "../../tools/plan/diff";
import { PLAN_VERSION, planToJson, type Plan } from "../../tools/plan/model";
import { GITHUB_COMMENT_LIMIT, MARKDOWN_BUDGET, renderDiffMarkdown, renderDiffText, showChange } from "../../tools/plan/renderDiff";
import { renderMarkdown } from "../../tools/plan/renderMarkdown";

const slug = (i: number) => `tenant-${String(i).padStart(4, "0")}`;

function tenantDiff(s: string, extra: Partial<TenantDiff> = {}): TenantDiff {
    return { slug: s, change: "changed", statusBefore: "active", statusAfter: "active", offboarding: false, fileDeleted: false, fields: [], added: [], removed: [], changed: [], ...extra };
}

function diffOf(tenants: TenantDiff[], risks: Risk[] = []): PlanDiff {
    return { base: { project: "tenancy", stack: "prod" }, head: { project: "tenancy", stack: "prod" }, layoutChange: null, stacks: [], tenants, risks, moves: [], guardFires: risks.some((r) => !r.exempt) };
}

/** A new shared tenant's resources, named after it. */
function added(s: string): TenantDiff {
    const types = ["postgresql:index/role:Role", "postgresql:index/schema:Schema", "aws:secretsmanager/secret:Secret", "aws:route53/record:Record", "aws:ssm/parameter:Parameter"];
    return tenantDiff(s, {
        change: "added",
        statusBefore: null,
        added: Array.from({ length: 20 }, (_, i) => ({ urn: `urn:${s}:${i}`, type: types[i % types.length]!, name: `${s}-db-resource-${i}`, custom: true, protect: true })),
    });
}

describe("plan:diff as a pull-request comment", () => {
    it("a thousand tenants with the same change: one row, one folded block, far under the limit", () => {
        const md = renderDiffMarkdown(diffOf(Array.from({ length: 1000 }, (_, i) => added(slug(i)))));
        expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
        expect(md).toContain("1000 tenants, the same change");
        expect(md).toContain("+ postgresql:index/schema:Schema  <tenant>-db-resource-1");
        expect(md.match(/<details>/g)).toHaveLength(1);
        expect(md).toContain("`tenant-0000`, `tenant-0001`");
        expect(md).toContain("and 990 more");
    });

    it("a thousand different changes: under the budget, the rest left out with a link to the full diff", () => {
        const tenants = Array.from({ length: 1000 }, (_, i) =>
            tenantDiff(slug(i), { fields: [{ path: "branding.logoUrl", before: `https://cdn.example.com/${"x".repeat(80)}/${i}.svg`, after: `https://cdn.example.com/new/${i}.svg` }] }),
        );
        const text = renderDiffText(diffOf(tenants));
        expect(text.length, "the full diff is long").toBeGreaterThan(GITHUB_COMMENT_LIMIT);
        const md = renderDiffMarkdown(diffOf(tenants), { fullDiffUrl: "https://github.com/o/r/actions/runs/1/artifacts/2" });
        expect(md.length).toBeLessThanOrEqual(MARKDOWN_BUDGET);
        expect(md).toMatch(/> \d+ (folded sections were|summary lines and every folded section were) left out to stay under GitHub's 65536-character comment limit: see \[the full output\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/1\/artifacts\/2\)\./);
    });

    it("the data-loss guard's reasons are grouped across tenants, and the caution stays first", () => {
        const risks: Risk[] = Array.from({ length: 800 }, (_, i) => ({
            tenant: slug(i), action: "remove", urn: `urn:${i}`, type: "aws:rds/instance:Instance", name: `${slug(i)}-db`, holds: "database", paths: [], exempt: false,
            reason: `tenant ${slug(i)}: database ${slug(i)}-db would be deleted (tenant file deleted)`,
        }));
        const tenants = Array.from({ length: 800 }, (_, i) => tenantDiff(slug(i), { change: "removed", fileDeleted: true, statusAfter: null, removed: [{ urn: `urn:${i}`, type: "aws:rds/instance:Instance", name: `${slug(i)}-db`, custom: true, protect: true }] }));
        const md = renderDiffMarkdown(diffOf(tenants, risks));
        expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
        expect(md.startsWith("### Plan diff: stack `prod`\n\n> [!CAUTION]\n> **Data-loss guard: 800 changes would delete or replace data.**")).toBe(true);
        expect(md).toContain("> - tenant &lt;tenant>: database &lt;tenant>-db would be deleted (tenant file deleted) (800 tenants: `tenant-0000`");
    });

    it("a single tenant's change is shown as it is, slug and all", () => {
        const md = renderDiffMarkdown(diffOf([added("acme")]));
        expect(md).toContain("<summary>tenant acme: added");
        expect(md).toContain("+ postgresql:index/schema:Schema  acme-db-resource-1");
    });
});

describe("the plan as Markdown", () => {
    it("a thousand tenants fit under the limit, and what is left out is pointed at", () => {
        const tenants = Array.from({ length: 1000 }, (_, i) => ({
            slug: slug(i), displayName: `Tenant ${i}`, tier: "shared", region: "us-east-1", status: "active", size: null, network: null,
            hostnames: [`${slug(i)}.saas.example.com`], releaseChannel: "stable", releaseVersion: "1.2.3", features: [], branding: {},
            resourceCount: 20, protectedCount: 10, file: `tenants/prod/${slug(i)}.yaml`,
        }));
        const resources = tenants.flatMap((t) => Array.from({ length: 5 }, (_, k) => ({
            urn: `urn:${t.slug}:${k}`, stack: "prod", type: `aws:type${k}`, name: `${t.slug}-${k}`, parent: null, custom: true, provider: null, tenant: t.slug, inputs: {},
            options: { protect: false, retainOnDelete: false, dependsOn: [], deleteBeforeReplace: false, replaceOnChanges: [], ignoreChanges: [], deletedWith: null },
        })));
        const md = renderMarkdown({ planVersion: PLAN_VERSION, project: "tenancy", stack: "prod", region: "us-east-1", tenants, resources, stacks: [] });
        expect(md.length).toBeLessThanOrEqual(MARKDOWN_BUDGET);
        expect(md).toContain("left out to stay under GitHub's 65536-character comment limit");
    });
});

describe("changed values", () => {
    it("two long values that differ late are cut around the difference, never to the same text", () => {
        const common = "a".repeat(250);
        const [before, after] = showChange(`${common}-old-tail`, `${common}-new-tail`);
        expect(before).not.toBe(after);
        expect(before).toContain("-old-tail");
        expect(after).toContain("-new-tail");
        expect(before.length).toBeLessThanOrEqual(102);
        expect(before.startsWith("…")).toBe(true);
    });

    it("a value that only grows keeps its difference visible; short values are shown whole", () => {
        const long = "b".repeat(150);
        const [before, after] = showChange(long, `${long}!`);
        expect(before).not.toBe(after);
        expect(after.endsWith('!"')).toBe(true);
        expect(showChange("x", undefined)).toEqual(['"x"', "(absent)"]);
    });

    it("the text and Markdown diffs use it", () => {
        const common = "c".repeat(200);
        const d = diffOf([tenantDiff("acme", { fields: [{ path: "branding.logoUrl", before: `${common}1`, after: `${common}2` }] })]);
        for (const out of [renderDiffText(d), renderDiffMarkdown(d)]) {
            const line = out.split("\n").find((l) => l.includes("branding.logoUrl"))!;
            const [b, a] = line.slice(line.indexOf(": ") + 2).split(" → ");
            expect(b).not.toBe(a);
        }
    });
});

describe("plans of different stacks", () => {
    const plan = (stack: string): Plan => ({ planVersion: PLAN_VERSION, project: "tenancy", stack, region: "us-east-1", tenants: [], resources: [], stacks: [] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenancy-diff-stacks-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("are refused by diffPlans", () => {
        expect(() => diffPlans(plan("dev"), plan("prod"))).toThrow(
            "cannot compare plans of different stacks: base is tenancy/dev, head is tenancy/prod (compare two plans of the same stack)",
        );
        expect(diffPlans(plan("prod"), plan("prod")).tenants).toEqual([]);
    });

    it("make plan:diff exit 1 with that message and no stack trace", async () => {
        fs.writeFileSync(path.join(dir, "dev.json"), planToJson(plan("dev")));
        fs.writeFileSync(path.join(dir, "prod.json"), planToJson(plan("prod")));
        const root = path.resolve(__dirname, "../..");
        const result = await promisify(execFile)(process.execPath, ["--import", "tsx", "tools/planDiff.ts", path.join(dir, "dev.json"), path.join(dir, "prod.json")], { cwd: root }).then(
            () => ({ code: 0, stderr: "" }),
            (e: { code: number; stderr: string }) => e,
        );
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("cannot compare plans of different stacks: base is tenancy/dev, head is tenancy/prod");
        expect(result.stderr).not.toMatch(/\n\s+at /);
    });
});
