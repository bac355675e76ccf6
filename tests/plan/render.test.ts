import { describe, expect, it } from "vitest";
import { PLAN_VERSION, type Plan, type PlanTenant } from "../../tools/plan/model";
import { COLUMN_HEIGHT, renderMermaid } from "../../tools/plan/renderMermaid";
import { renderMarkdown } from "../../tools/plan/renderMarkdown";

/** A plan document with tenants only: the renderers' layout is the subject, not the program. */
function planOf(tenants: Partial<PlanTenant>[]): Plan {
    return {
        planVersion: PLAN_VERSION, project: "tenancy", stack: "big", region: "us-east-1", resources: [], stacks: [],
        tenants: tenants.map((t, i) => ({
            slug: `t${String(i).padStart(3, "0")}`, displayName: `Tenant ${i}`, tier: "shared", region: "us-east-1", status: "active", size: null,
            network: null, hostnames: [`t${i}.example.com`], releaseChannel: "stable", releaseVersion: "1.0.0", features: [], branding: {},
            resourceCount: 0, protectedCount: 0, file: `tenants/big/t${i}.yaml`, ...t,
        })),
    };
}

describe("mermaid diagram of a 50-tenant stack", () => {
    const plan = planOf([
        ...Array.from({ length: 40 }, (_, i) => ({ status: i === 3 ? "suspended" : i === 7 ? "offboarded" : "active" })),
        ...Array.from({ length: 5 }, () => ({ tier: "hybrid", size: "small" })),
        ...Array.from({ length: 5 }, (_, i) => ({ tier: "dedicated", size: "medium", region: i % 2 ? "eu-west-1" : "us-east-1", network: `10.${100 + i}.0.0/16` })),
    ]);
    const text = renderMermaid(plan);

    it("places every tenant exactly once, in a group per placement and one per dedicated region", () => {
        for (const t of plan.tenants) expect(text.split(`${"t_" + t.slug}["`).length - 1).toBe(1);
        expect(text).toContain('subgraph g_shared["Shared cluster · 40 tenants (schema each)"]');
        expect(text).toContain('subgraph g_hybrid["Hybrid · own RDS instance in the shared VPC · 5"]');
        expect(text).toContain('subgraph g_dedicated_us_east_1["Dedicated · own VPC each · us-east-1 · 3"]');
        expect(text).toContain('subgraph g_dedicated_eu_west_1["Dedicated · own VPC each · eu-west-1 · 2"]');
        expect(text).toContain("10.101.0.0/16 · medium");
    });

    it("lays groups out in columns of at most COLUMN_HEIGHT tenants and styles suspended and offboarded ones", () => {
        // Invisible links chain each column: n - ceil(n / COLUMN_HEIGHT) of them per group.
        const chains = (n: number) => n - Math.ceil(n / COLUMN_HEIGHT);
        expect(text.split(" ~~~ ").length - 1).toBe(chains(40) + chains(5) + chains(3) + chains(2));
        expect(text).toContain("class t_t003 suspended");
        expect(text).toContain("class t_t007 offboarded");
        expect(text).toContain('t_t003["t003 (suspended)"]');
    });

    it("markdown lists all 50 tenants in the summary table", () => {
        const md = renderMarkdown(plan);
        expect(md.split("\n").filter((l) => /^\| `t\d{3}` \|/.test(l))).toHaveLength(50);
    });
});
