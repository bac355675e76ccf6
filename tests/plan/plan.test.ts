import { beforeAll, describe, expect, it } from "vitest";
import { countByType, planToJson, resourcesOf, TENANT_TYPE, type Plan } from "../../tools/plan/model";
import { renderMarkdown } from "../../tools/plan/renderMarkdown";
import { renderMermaid } from "../../tools/plan/renderMermaid";
import { renderText } from "../../tools/plan/renderText";
import { runPlan } from "../../tools/plan/run";
import { record } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { readStackFile } from "../../tenants/registry";
import { repo } from "./helpers";

/** True when every object in `v` has its keys in sorted order. */
function keysSorted(v: unknown): boolean {
    if (Array.isArray(v)) return v.every(keysSorted);
    if (v === null || typeof v !== "object") return true;
    const keys = Object.keys(v);
    return keys.every((k, i) => i === 0 || keys[i - 1]! < k) && Object.values(v).every(keysSorted);
}

// The Pulumi runtime is process-global: plans in this file run one after another (each awaited).
describe("offline plan of the committed stacks", () => {
    let dev: Plan;
    let prod: Plan;
    beforeAll(async () => {
        dev = await runPlan({ root: repo(), stack: "dev" });
        prod = await runPlan({ root: repo(), stack: "prod" });
    });

    it("dev: one entry per tenant file, with the registry's tier, region, status, hosts and release", () => {
        expect(dev.stack).toBe("dev");
        expect(dev.project).toBe("tenancy");
        expect(dev.tenants.map((t) => [t.slug, t.tier, t.region, t.status, t.releaseVersion])).toEqual([
            ["acme", "shared", "us-east-1", "active", "2.14.3"],
            ["globex", "hybrid", "us-east-1", "active", "2.14.3"],
            ["initech", "dedicated", "eu-west-1", "active", "2.14.1"],
        ]);
        expect(dev.tenants[0]!.hostnames).toEqual(["acme.dev.tenancy-example.com"]);
        expect(dev.tenants[2]!.network).toBe("10.20.0.0/16");
    });

    it("every resource of a tenant lives under that tenant's component, and counts in the tenant list match the resources", () => {
        for (const plan of [dev, prod]) {
            for (const t of plan.tenants) {
                const mine = resourcesOf(plan, t.slug);
                expect(t.resourceCount).toBe(mine.length);
                expect(t.protectedCount).toBe(mine.filter((r) => r.options.protect).length);
                expect(mine.filter((r) => r.type === TENANT_TYPE).map((r) => r.name)).toEqual([t.slug]);
                // Names carry the slug: attribution by parent agrees with naming.
                for (const r of mine) expect(r.name.startsWith(t.slug)).toBe(true);
            }
            // The platform and the stack are nobody's.
            expect(plan.resources.filter((r) => r.type === "tenancy:platform:SharedPlatform").map((r) => r.tenant)).toEqual([null]);
        }
    });

    it("protection is visible: prod protects each shared tenant's schema, roles and secrets; dev protects nothing", () => {
        expect(dev.resources.some((r) => r.options.protect)).toBe(false);
        const acme = resourcesOf(prod, "acme");
        const protectedTypes = countByType(acme).filter((c) => c.protected > 0).map((c) => c.type);
        expect(protectedTypes).toEqual(expect.arrayContaining([
            "aws:secretsmanager/secret:Secret", "postgresql:index/role:Role", "postgresql:index/schema:Schema",
        ]));
        expect(prod.tenants.find((t) => t.slug === "acme")!.protectedCount).toBeGreaterThan(0);
    });

    it("each JSON resource carries urn, type, name, parent, custom, provider, tenant, inputs and options", () => {
        const schema = dev.resources.find((r) => r.type === "postgresql:index/schema:Schema")!;
        expect(Object.keys(schema)).toEqual(["custom", "inputs", "name", "options", "parent", "provider", "stack", "tenant", "type", "urn"]);
        expect(schema.tenant).toBe("acme");
        expect(schema.custom).toBe(true);
        expect(schema.provider).toMatch(/pulumi:providers:postgresql::cell-main-pg::/);
        expect(schema.parent).toMatch(/tenancy:tenant:TenantDatabase::acme-db$/);
        expect(schema.inputs["name"]).toBe("t_acme");
        expect(schema.options).toMatchObject({ protect: false, retainOnDelete: false, dependsOn: [] });
        const component = dev.resources.find((r) => r.type === TENANT_TYPE)!;
        expect(component.custom).toBe(false);
        const grant = dev.resources.find((r) => r.type === "postgresql:index/grant:Grant" && r.tenant === "acme")!;
        expect(grant.options.dependsOn.length).toBeGreaterThan(0);
        for (const urn of grant.options.dependsOn) expect(dev.resources.some((r) => r.urn === urn)).toBe(true);
    });

    it("secrets are '[secret]': role passwords, secret strings, the cluster's master password; no generated password leaks", () => {
        const role = dev.resources.find((r) => r.type === "postgresql:index/role:Role" && r.name === "acme-db-runtime")!;
        expect(role.inputs["password"]).toBe("[secret]");
        const cluster = dev.resources.find((r) => r.type === "aws:rds/cluster:Cluster")!;
        expect(cluster.inputs["masterPassword"]).toBe("[secret]");
        for (const v of dev.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")) {
            expect(v.inputs["secretString"]).toBe("[secret]");
        }
    });

    it("no generated password reaches the plan: the unmasked recording's RandomPassword results appear nowhere in the JSON", async () => {
        const { stackFile } = readStackFile(repo(), "dev");
        const unmasked = await record(() => main(repo()), {
            project: "tenancy", stack: "dev", config: stackFile!.pulumiConfig, secretKeys: stackFile!.secretKeys, maskSecrets: false,
        });
        const passwords = unmasked.resources
            .filter((r) => r.type === "random:index/randomPassword:RandomPassword")
            .map((r) => r.outputs["result"])
            .filter((v): v is string => typeof v === "string" && v.length >= 16);
        expect(passwords.length).toBeGreaterThanOrEqual(5);
        const text = planToJson(dev);
        for (const p of passwords) expect(text).not.toContain(p);
    });

    it("JSON is byte-identical across runs and every object's keys are sorted", async () => {
        const again = await runPlan({ root: repo(), stack: "dev" });
        const text = planToJson(dev);
        expect(planToJson(again)).toBe(text);
        expect(keysSorted(JSON.parse(text))).toBe(true);
        expect(Object.keys(JSON.parse(text))).toEqual(["cost", "planVersion", "project", "region", "resources", "stack", "stacks", "tenants"]);
    });

    it("text lists per tenant its tier, region, status, hosts, release and resource counts by type, then platform totals", () => {
        const text = renderText(dev);
        for (const t of dev.tenants) {
            expect(text).toContain(`${t.slug} — ${t.displayName}`);
            expect(text).toContain(`tier ${t.tier} · region ${t.region} · status ${t.status} · release ${t.releaseVersion}`);
            expect(text).toContain(`hosts: ${t.hostnames.join(", ")}`);
            expect(text).toContain(`${t.resourceCount} resources, ${t.protectedCount} protected:`);
        }
        expect(text).toMatch(/^\s+1 {2}aws:rds\/instance:Instance$/m);
        expect(text).toContain(`Platform (shared side and stack): ${resourcesOf(dev, null).length} resources`);
        expect(text).toContain(`Totals: 3 tenants`);
    });

    it("markdown has a summary row and a folded details block per tenant; mermaid places every tenant", () => {
        for (const plan of [dev, prod]) {
            const md = renderMarkdown(plan);
            const mermaid = renderMermaid(plan);
            for (const t of plan.tenants) {
                expect(md).toContain(`| \`${t.slug}\` | ${t.tier} | ${t.region} |`);
                expect(md).toContain(`<summary><code>${t.slug}</code>`);
                expect(mermaid).toMatch(new RegExp(`t_${t.slug}\\["${t.slug}`));
            }
        }
        const mermaid = renderMermaid(prod);
        expect(mermaid).toContain('subgraph g_dedicated_eu_central_1["Dedicated · own VPC each · eu-central-1 · 1"]');
        expect(mermaid).toMatch(/class t_wayne suspended/);
        expect(mermaid).toMatch(/class t_soylent offboarded/);
    });
});
