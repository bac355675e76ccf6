/**
 * plan:diff over fleets, on synthetic plans: the stacks a change touches, provider moves that the engine applies in
 * place (default → explicit with the same config), and a shared tenant's cell change flagged as a data move.
 */
import { describe, expect, it } from "vitest";
import { diffPlans } from "../../tools/plan/diff";
import type { Plan, PlanResource, PlanStack, PlanTenant } from "../../tools/plan/model";
import { renderDiffJson, renderDiffMarkdown, renderDiffText } from "../../tools/plan/renderDiff";

const OPTIONS: PlanResource["options"] = { protect: false, retainOnDelete: false, dependsOn: [], deleteBeforeReplace: false, replaceOnChanges: [], ignoreChanges: [], deletedWith: null };

function resource(stack: string, type: string, name: string, tenant: string | null, inputs: Record<string, unknown> = {}, extra: Partial<PlanResource> = {}): PlanResource {
    return { urn: `urn:pulumi:${stack}::tenancy::${type}::${name}`, stack, type, name, parent: null, custom: true, provider: null, tenant, inputs, options: OPTIONS, ...extra };
}

function tenant(slug: string, fields: Partial<PlanTenant> = {}): PlanTenant {
    return {
        slug, displayName: slug, tier: "shared", region: "us-east-1", status: "active", size: null, network: null, hostnames: [`${slug}.example.com`],
        releaseChannel: "stable", releaseVersion: "1.0.0", features: [], branding: {}, resourceCount: 0, protectedCount: 0, file: `tenants/prod/${slug}.yaml`, cell: "main", ...fields,
    };
}

function plan(resources: PlanResource[], tenants: PlanTenant[], stacks?: PlanStack[]): Plan {
    const names = [...new Set(resources.map((r) => r.stack))];
    return {
        planVersion: 1, project: "tenancy", stack: "prod", region: "us-east-1", tenants, resources,
        stacks: stacks ?? names.map((name) => ({ name, role: name === "prod" ? "platform" : name.includes(".cell-") ? "cell" : "tenant", tenants: tenants.filter((t) => name === `prod.${t.slug}`).map((t) => t.slug), resourceCount: resources.filter((r) => r.stack === name).length })),
    };
}

const schema = (stack: string, slug: string, extra: Partial<PlanResource> = {}) =>
    resource(stack, "postgresql:index/schema:Schema", `${slug}-schema`, slug, { name: `tenant_${slug}` }, extra);
const component = (stack: string, slug: string) => resource(stack, "tenancy:tenant:Tenant", slug, slug, {}, { custom: false });

describe("plan:diff of fleets: stacks touched", () => {
    const base = plan([
        resource("prod", "aws:ec2/vpc:Vpc", "shared-vpc", null, { cidrBlock: "10.0.0.0/16" }),
        component("prod.acme", "acme"), schema("prod.acme", "acme"),
        component("prod.bolt", "bolt"), schema("prod.bolt", "bolt"),
    ], [tenant("acme"), tenant("bolt")]);

    it("names only the stacks whose resources change, added and removed stacks included", () => {
        const head = plan([
            resource("prod", "aws:ec2/vpc:Vpc", "shared-vpc", null, { cidrBlock: "10.0.0.0/16" }),
            component("prod.acme", "acme"), schema("prod.acme", "acme"),
            component("prod.cyan", "cyan"), schema("prod.cyan", "cyan"),
        ], [tenant("acme"), tenant("cyan")]);
        const d = diffPlans(base, head);
        expect(d.stacks).toEqual([
            { name: "prod.cyan", change: "added", added: 2, removed: 0, changed: 0, tenants: ["cyan"] },
            { name: "prod.bolt", change: "removed", added: 0, removed: 2, changed: 0, tenants: ["bolt"] },
        ]);
        expect(renderDiffText(d)).toContain("Stacks touched (2): prod.cyan (added), prod.bolt (removed)");
        const md = renderDiffMarkdown(d);
        expect(md).toContain("<!-- tenancy-stacks: prod.cyan prod.bolt -->");
        expect(JSON.parse(renderDiffJson(d)).touchedStacks).toEqual(["prod.cyan", "prod.bolt"]);
    });

    it("a change in one tenant's stack touches that stack only; no change touches none", () => {
        const head = plan([
            resource("prod", "aws:ec2/vpc:Vpc", "shared-vpc", null, { cidrBlock: "10.0.0.0/16" }),
            component("prod.acme", "acme"), resource("prod.acme", "postgresql:index/schema:Schema", "acme-schema", "acme", { name: "tenant_acme", owner: "x" }),
            component("prod.bolt", "bolt"), schema("prod.bolt", "bolt"),
        ], [tenant("acme"), tenant("bolt")]);
        expect(diffPlans(base, head).stacks).toEqual([{ name: "prod.acme", change: "changed", added: 0, removed: 0, changed: 1, tenants: ["acme"] }]);
        expect(diffPlans(base, base).stacks).toEqual([]);
        expect(renderDiffText(diffPlans(base, base))).toContain("Stacks touched: none");
    });
});

describe("plan:diff of fleets: a change to many stacks", () => {
    it("the Markdown comment names every touched stack in its HTML comment and the first 50 in its visible line", () => {
        const slugs = Array.from({ length: 120 }, (_, i) => `t${String(i).padStart(3, "0")}`);
        const base = plan(slugs.flatMap((s) => [component(`prod.${s}`, s), schema(`prod.${s}`, s)]), slugs.map((s) => tenant(s)));
        const head = plan(slugs.flatMap((s) => [component(`prod.${s}`, s), schema(`prod.${s}`, s, { options: { ...OPTIONS, retainOnDelete: true } })]), slugs.map((s) => tenant(s)));
        const d = diffPlans(base, head);
        expect(d.stacks).toHaveLength(120);
        const md = renderDiffMarkdown(d);
        expect(md).toContain(`<!-- tenancy-stacks: ${slugs.map((s) => `prod.${s}`).join(" ")} -->`);
        expect(md).toContain("prod.t049 (+0 -0 ~1) and 70 more");
        expect(md).not.toContain("prod.t050 (+0");
        expect(renderDiffText(d)).toContain("prod.t119 (+0 -0 ~1)");
    });
});

describe("data-loss guard: providers", () => {
    const provider = (stack: string, name: string, region: string) =>
        resource(stack, "pulumi:providers:aws", name, null, { region, skipCredentialsValidation: "false", skipRegionValidation: "true" }, { custom: true });
    const key = (providerRef: string | null) => resource("prod", "aws:kms/key:Key", "acme-key", "acme", { description: "acme" }, { provider: providerRef });
    const explicit = (region: string) => {
        const p = provider("prod", "aws", region);
        return [p, key(`${p.urn}::0b1c`)];
    };

    it("default provider → an explicit one with the same region is an update, not a replacement (DiffConfig, pulumi/pulumi#18509)", () => {
        const d = diffPlans(plan([key(null)], [tenant("acme")]), plan(explicit("us-east-1"), [tenant("acme")]));
        const change = d.tenants.find((t) => t.slug === "acme")!.changed[0]!;
        expect(change.effect).toBe("update");
        expect(change.paths.map((p) => [p.path, p.effect])).toEqual([["(provider)", undefined]]);
        expect(d.guardFires).toBe(false);
    });

    it("default provider → an explicit one in another region replaces, and the guard fires for a stateful resource", () => {
        const d = diffPlans(plan([key(null)], [tenant("acme")]), plan(explicit("eu-west-1"), [tenant("acme")]));
        expect(d.tenants.find((t) => t.slug === "acme")!.changed[0]!.effect).toBe("replace");
        expect(d.risks.map((r) => [r.action, r.name])).toEqual([["replace", "acme-key"]]);
        expect(d.guardFires).toBe(true);
    });
});

describe("data-loss guard: cells", () => {
    it("a shared tenant whose cell changes without a declared move leaves its data behind, and the guard fires", () => {
        const resources = [component("prod.acme", "acme"), schema("prod.acme", "acme")];
        const d = diffPlans(plan(resources, [tenant("acme", { cell: "main" })]), plan(resources, [tenant("acme", { cell: "b" })]));
        expect(d.risks.map((r) => [r.action, r.tenant, r.paths])).toEqual([["move", "acme", ["cell"]]]);
        expect(d.risks[0]!.reason).toContain("tenant acme: moves from cell main to cell b without a declared move: its data stays on cell main");
        expect(d.risks[0]!.reason).toContain("declare it (move: { from: { tier: shared, cell: main } })");
        expect(d.guardFires).toBe(true);
        expect(d.stacks.map((s) => s.name)).toEqual(["prod.acme"]);
    });

    it("a tenant that is not shared, or an old plan without cells, is no move", () => {
        const resources = [component("prod.acme", "acme")];
        const { cell: _cell, ...old } = tenant("acme");
        expect(diffPlans(plan(resources, [old]), plan(resources, [tenant("acme", { cell: "b" })])).risks).toEqual([]);
        expect(diffPlans(plan(resources, [tenant("acme", { tier: "hybrid", cell: null })]), plan(resources, [tenant("acme", { tier: "hybrid", cell: null })])).risks).toEqual([]);
    });
});
