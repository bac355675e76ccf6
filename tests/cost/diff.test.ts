/** plan:diff's monthly cost change per tenant, from the two plans' estimates (synthetic plans: the diff is the subject). */
import { describe, expect, it } from "vitest";
import type { MonthlyCost } from "../../cost/estimate";
import { COST_DEFAULTS } from "../../stacks/costConfig";
import { diffPlans } from "../../tools/plan/diff";
import { PLAN_VERSION, type Plan, type PlanTenant } from "../../tools/plan/model";
import { renderDiffMarkdown, renderDiffText } from "../../tools/plan/renderDiff";

const cost = (own: number, apportioned = 0): MonthlyCost => ({ total: Math.round((own + apportioned) * 100) / 100, byType: { "aws:rds/instance:Instance": own }, apportioned, weight: apportioned ? 20 : 0 });

function tenant(slug: string, extra: Partial<PlanTenant>): PlanTenant {
    return {
        slug, displayName: slug, tier: "shared", region: "us-east-1", status: "active", size: null, network: null, hostnames: [`${slug}.example.com`],
        releaseChannel: "stable", releaseVersion: "1.0.0", features: [], branding: {}, resourceCount: 0, protectedCount: 0, file: `tenants/prod/${slug}.yaml`, ...extra,
    };
}

function plan(tenants: PlanTenant[], estimated = true, platform = 300): Plan {
    const own = tenants.reduce((n, t) => n + (t.monthlyCost ? t.monthlyCost.total - (t.monthlyCost.apportioned ?? 0) : 0), 0);
    return {
        planVersion: PLAN_VERSION, project: "tenancy", stack: "prod", region: "us-east-1", resources: [],
        stacks: [{ name: "prod", role: "platform", tenants: tenants.map((t) => t.slug), resourceCount: 0 }],
        tenants: estimated ? tenants : tenants.map(({ monthlyCost: _c, ...t }) => t),
        ...(estimated ? {
            cost: {
                currency: "USD" as const, pricesAsOf: "2026-11-23", assumptions: COST_DEFAULTS,
                platform: { total: platform, byType: {}, unapportioned: 0 }, total: Math.round((own + platform) * 100) / 100, platformPlanned: true,
            },
        } : {}),
    };
}

const base = plan([
    tenant("acme", { monthlyCost: cost(0.8, 150) }),
    tenant("hooli", { monthlyCost: cost(0.8, 150) }),
    tenant("tyrell", { tier: "dedicated", size: "medium", region: "eu-central-1", monthlyCost: cost(1990.97) }),
]);
const head = plan([
    tenant("acme", { monthlyCost: cost(0.8, 100) }),
    tenant("echo", { monthlyCost: cost(0.8, 100) }),
    tenant("hooli", { monthlyCost: cost(0.8, 100) }),
    tenant("tyrell", { tier: "dedicated", size: "large", region: "eu-central-1", monthlyCost: cost(2402.97) }),
]);

describe("plan:diff: the monthly change per tenant", () => {
    const d = diffPlans(base, head);

    it("names each tenant whose own cost changes, with why; groups those whose share of the platform alone moves", () => {
        expect(d.cost!.total).toEqual({ before: 2292.57, after: 2705.37, delta: 412.8 });
        expect(d.cost!.tenants.map((t) => [t.slug, t.before, t.after, t.delta, t.notes])).toEqual([
            ["echo", null, 100.8, 100.8, ["new tenant"]],
            ["tyrell", 1990.97, 2402.97, 412, ["size medium → large"]],
        ]);
        expect(d.cost!.shareOnly).toEqual({ tenants: ["acme", "hooli"], min: -50, max: -50 });
    });

    it("text and the PR comment say it in one line per tenant", () => {
        const text = renderDiffText(d);
        expect(text).toContain("Monthly cost (estimate): $2,292.57 → $2,705.37 (+$412.80/month)");
        expect(text).toContain("tyrell: +$412.00/month ($1,990.97 → $2,402.97), size medium → large");
        expect(text).toContain("echo: +$100.80/month (new tenant)");
        expect(text).toContain("2 tenants' share of the platform: -$50.00/month each (acme, hooli)");
        const md = renderDiffMarkdown(d);
        expect(md).toContain("#### Monthly cost");
        expect(md).toContain("- `tyrell`: +$412.00/month ($1,990.97 → $2,402.97), size medium → large");
        expect(md).toContain("- `echo`: +$100.80/month (new tenant)");
    });

    it("a removed tenant's month goes away; a tenant's cost changes are not resource or field changes", () => {
        const gone = diffPlans(head, plan(head.tenants.filter((t) => t.slug !== "echo")));
        expect(gone.cost!.tenants.find((t) => t.slug === "echo")).toMatchObject({ before: 100.8, after: null, delta: -100.8, notes: ["removed"] });
        // acme changed only in cost: no field change is reported for it (costs are not part of its runtime record).
        expect(d.tenants.find((t) => t.slug === "acme")!.change).toBe("unchanged");
    });

    it("a base written before costs existed: 'no estimate in base', with head's figures", () => {
        const old = diffPlans(plan(base.tenants, false), head);
        expect(old.cost!.total).toEqual({ before: null, after: 2705.37, delta: null });
        const text = renderDiffText(old);
        expect(text).toContain("Monthly cost (estimate): no estimate in base; head $2,705.37/month");
        expect(text).toContain("tyrell: $2,402.97/month (no estimate in base), size medium → large");
        expect(renderDiffMarkdown(old)).toContain("- `tyrell`: $2,402.97/month (no estimate in base), size medium → large");
    });

    it("no line when nothing costs more or less", () => {
        const same = diffPlans(head, head);
        expect(same.cost!.tenants).toEqual([]);
        expect(renderDiffText(same)).toContain("Monthly cost (estimate): $2,705.37, unchanged");
    });
});

describe("plan:diff: a backup change explains its cost", () => {
    it("names the policy, retention and copy region that changed", () => {
        const before = { policy: "standard", retentionDays: 35, copyRegion: null };
        const b = plan([tenant("tyrell", { tier: "dedicated", size: "large", backup: before, monthlyCost: cost(2402.97) })]);
        const h = plan([tenant("tyrell", { tier: "dedicated", size: "large", backup: { policy: "critical", retentionDays: 400, copyRegion: "us-east-1" }, monthlyCost: cost(2991.5) })]);
        const d = diffPlans(b, h);
        expect(d.cost!.tenants.map((t) => [t.slug, t.notes])).toEqual([["tyrell", ["backup policy standard → critical", "backup retention 35 → 400 days", "backup copy – → us-east-1"]]]);
        expect(renderDiffText(d)).toContain("tyrell: +$588.53/month ($2,402.97 → $2,991.50), backup policy standard → critical, backup retention 35 → 400 days, backup copy – → us-east-1");
        // A plan written before backups were summarized (no `backup`) is not a change of the tenant.
        const old = plan([tenant("tyrell", { tier: "dedicated", size: "large", monthlyCost: cost(2402.97) })]);
        expect(diffPlans(old, b).tenants.find((t) => t.slug === "tyrell")!.fields).toEqual([]);
    });
});
