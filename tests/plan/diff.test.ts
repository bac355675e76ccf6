import { beforeAll, describe, expect, it } from "vitest";
import { diffPlans, diffValues, type PlanDiff } from "../../tools/plan/diff";
import type { Plan } from "../../tools/plan/model";
import { renderDiffMarkdown, renderDiffText } from "../../tools/plan/renderDiff";
import { effectOfChange, isStateful, ruleFor, topLevelInput, TYPE_RULES } from "../../tools/plan/replacements";
import { runPlan } from "../../tools/plan/run";
import { clonePlan, repo, setField, tenantDir, type TenantEdits } from "./helpers";

/** The dev stack's plan with its tenant directory copied and edited. Plans run one after another (process-global runtime). */
const planWith = (edits: TenantEdits): Promise<Plan> => runPlan({ root: repo(), stack: "dev", tenantsDir: tenantDir(edits) });

const tenantOf = (d: PlanDiff, slug: string | null) => d.tenants.find((t) => t.slug === slug)!;
const firing = (d: PlanDiff) => d.risks.filter((r) => !r.exempt);

describe("plan diff and the data-loss guard (dev stack, edited tenant files)", () => {
    let base: Plan;
    beforeAll(async () => {
        base = await planWith({});
    });

    it("the same tenants give an empty diff: every tenant unchanged, no platform entry, guard silent", async () => {
        const d = diffPlans(base, await planWith({}));
        expect(d.tenants.map((t) => [t.slug, t.change])).toEqual([["acme", "unchanged"], ["globex", "unchanged"], ["initech", "unchanged"]]);
        expect(d.guardFires).toBe(false);
    });

    it("adding a tenant: reported as added with its resources, nobody else changes, guard silent", async () => {
        const d = diffPlans(base, await planWith({ "hooli.yaml": "slug: hooli\ndisplayName: Hooli\ntier: shared\nfeatures: [sso]\n" }));
        const hooli = tenantOf(d, "hooli");
        expect(hooli.change).toBe("added");
        expect(hooli.added.map((r) => r.type)).toEqual(expect.arrayContaining(["postgresql:index/schema:Schema", "aws:secretsmanager/secret:Secret"]));
        expect(hooli.removed).toEqual([]);
        expect(tenantOf(d, "acme").change).toBe("unchanged");
        expect(d.risks).toEqual([]);
        expect(d.guardFires).toBe(false);
    });

    it("changing features and branding: tenant fields listed, no resource added or removed, guard silent", async () => {
        const d = diffPlans(base, await planWith({
            "acme.yaml": (t) => t.replace("features: [sso, audit-log]", "features: [sso, audit-log, analytics]").replace("#d9480f", "#1c7ed6"),
        }));
        const acme = tenantOf(d, "acme");
        expect(acme.change).toBe("changed");
        expect(acme.fields.map((f) => f.path)).toEqual(["branding.primaryColor", "features[2]"]);
        expect(acme.fields[0]).toMatchObject({ before: "#d9480f", after: "#1c7ed6" });
        expect(acme.added).toEqual([]);
        expect(acme.removed).toEqual([]);
        expect(d.guardFires).toBe(false);
    });

    it("offboarding a shared and a dedicated tenant through status: serving side removed, removals exempt, guard silent", async () => {
        const d = diffPlans(base, await planWith({ "acme.yaml": setField("status", "offboarded"), "initech.yaml": setField("status", "offboarded") }));
        for (const slug of ["acme", "initech"]) {
            const t = tenantOf(d, slug);
            expect(t.offboarding).toBe(true);
            expect(t.statusBefore).toBe("active");
            expect(t.statusAfter).toBe("offboarded");
            expect(t.fields.map((f) => f.path)).toEqual(["status"]);
        }
        // A shared tenant keeps everything but its monitoring (an offboarded tenant is not watched): its host name was the
        // platform's wildcard's (the app answers 404 for it now).
        const acmeRemoved = tenantOf(d, "acme").removed;
        expect(acmeRemoved.length).toBeGreaterThan(0);
        expect(acmeRemoved.filter((r) => !r.urn.includes("tenancy:tenant:TenantMonitoring"))).toEqual([]);
        // A dedicated tenant keeps key, database and secrets; its app's log group and its ALB's access-log bucket leave the
        // stack with the serving side (both retained in AWS), reported as exempt.
        const initech = tenantOf(d, "initech");
        expect(initech.removed.map((r) => r.type)).toContain("aws:ecs/service:Service");
        expect(initech.removed.filter((r) => isStateful(r.type)).map((r) => r.name).sort()).toEqual(["initech-dedicated-alb-logs", "initech-dedicated-app-logs"]);
        expect(d.risks.map((r) => [r.tenant, r.name, r.exempt]).sort()).toEqual([["initech", "initech-dedicated-alb-logs", true], ["initech", "initech-dedicated-app-logs", true]]);
        expect(d.guardFires).toBe(false);
    });

    it("a deleted tenant file with a database fires the guard: the hybrid RDS instance and its key are to be deleted", async () => {
        const d = diffPlans(base, await planWith({ "globex.yaml": null }));
        const globex = tenantOf(d, "globex");
        expect(globex).toMatchObject({ change: "removed", fileDeleted: true, offboarding: false, statusBefore: "active", statusAfter: null });
        expect(globex.added).toEqual([]);
        const removedTypes = firing(d).filter((r) => r.tenant === "globex").map((r) => r.type);
        expect(removedTypes).toEqual(expect.arrayContaining(["aws:rds/instance:Instance", "aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup"]));
        expect(firing(d).every((r) => r.action === "remove" && r.reason.includes("tenant file deleted"))).toBe(true);
        expect(d.guardFires).toBe(true);
        expect(renderDiffText(d)).toContain("DATA-LOSS GUARD");
        expect(renderDiffMarkdown(d)).toContain("> [!CAUTION]");
    });

    it("a deleted tenant file fires the guard even when base already showed the tenant offboarded", async () => {
        const offboarded = await planWith({ "acme.yaml": setField("status", "offboarded") });
        const d = diffPlans(offboarded, await planWith({ "acme.yaml": null }));
        expect(tenantOf(d, "acme").offboarding).toBe(false);
        expect(firing(d).map((r) => r.type)).toEqual(expect.arrayContaining([
            "postgresql:index/schema:Schema", "postgresql:index/role:Role", "aws:secretsmanager/secret:Secret",
        ]));
        expect(d.guardFires).toBe(true);
    });

    it("changing a dedicated tenant's network.cidr replaces its VPC and subnets: guard fires on cidrBlock", async () => {
        const d = diffPlans(base, await planWith({ "initech.yaml": (t) => t.replace("10.20.0.0/16", "10.30.0.0/16") }));
        const risks = firing(d);
        expect(new Set(risks.map((r) => JSON.stringify([r.tenant, r.type, r.action, r.paths])))).toEqual(new Set([
            ["initech", "aws:ec2/vpc:Vpc", "replace", ["cidrBlock"]], ["initech", "aws:ec2/subnet:Subnet", "replace", ["cidrBlock"]],
        ].map((x) => JSON.stringify(x))));
        const vpc = tenantOf(d, "initech").changed.find((c) => c.type === "aws:ec2/vpc:Vpc")!;
        expect(vpc.paths).toEqual([{ path: "cidrBlock", before: "10.20.0.0/16", after: "10.30.0.0/16", effect: "replace" }]);
        // Subnets are replaced too (ec2/vpc_subnet.go: cidr_block is ForceNew): the databases and tasks in them must move.
        expect(risks.filter((r) => r.type === "aws:ec2/subnet:Subnet").length).toBeGreaterThan(0);
    });

    it("a dedicated tenant's region move replaces every one of its regional resources, listed in the table or not", async () => {
        const moved = await planWith({ "initech.yaml": (t) => t.replace("region: eu-west-1", "region: us-east-1") });
        const d = diffPlans(base, moved);
        const initech = tenantOf(d, "initech");
        const regional = base.resources.filter((r) => r.tenant === "initech" && r.custom && r.inputs["region"] === "eu-west-1");
        expect(regional.length).toBeGreaterThan(40);
        const replaced = new Set(initech.changed.filter((c) => c.paths.some((p) => p.path === "region" && p.effect === "replace")).map((c) => c.urn));
        expect(regional.filter((r) => !replaced.has(r.urn)).map((r) => r.name)).toEqual([]);
        expect(regional.map((r) => r.type)).toEqual(expect.arrayContaining(["aws:ecs/service:Service", "aws:lb/loadBalancer:LoadBalancer", "aws:ec2/natGateway:NatGateway"]));
        // Its database and key are among them, so the guard fires.
        expect(firing(d).filter((r) => r.tenant === "initech").map((r) => r.type)).toEqual(expect.arrayContaining(["aws:rds/instance:Instance", "aws:kms/key:Key"]));
    });

    it("changing an RDS instance's engine, encryption or key fires the guard with the input path", () => {
        for (const [input, value] of [["engine", "mysql"], ["storageEncrypted", false], ["kmsKeyId", "arn:aws:kms:other"]] as const) {
            const head = clonePlan(base);
            const db = head.resources.find((r) => r.type === "aws:rds/instance:Instance" && r.tenant === "globex")!;
            db.inputs[input] = value;
            const d = diffPlans(base, head);
            expect(firing(d).map((r) => [r.tenant, r.type, r.action, r.paths])).toEqual([["globex", "aws:rds/instance:Instance", "replace", [input]]]);
        }
    });

    it("a change that updates in place (instance class, tags) is listed but does not fire the guard", () => {
        const head = clonePlan(base);
        const db = head.resources.find((r) => r.type === "aws:rds/instance:Instance" && r.tenant === "globex")!;
        db.inputs["instanceClass"] = "db.r6g.large";
        (db.inputs["tags"] as Record<string, string>)["owner"] = "dba";
        const d = diffPlans(base, head);
        const change = tenantOf(d, "globex").changed[0]!;
        expect(change.effect).toBe("update");
        expect(change.paths.map((p) => p.path)).toEqual(["instanceClass", "tags.owner"]);
        expect(d.guardFires).toBe(false);
    });

    it("inputs under ignoreChanges are left out: the cluster's engineVersion", () => {
        const head = clonePlan(base);
        const cluster = head.resources.find((r) => r.type === "aws:rds/cluster:Cluster")!;
        expect(cluster.options.ignoreChanges).toEqual(["engineVersion"]);
        cluster.inputs["engineVersion"] = "17.1";
        expect(tenantOf(diffPlans(base, head), null)).toBeUndefined();
    });

    it("a removed secret fires the guard", () => {
        const head = clonePlan(base);
        const secret = head.resources.find((r) => r.type === "aws:secretsmanager/secret:Secret" && r.tenant === "acme")!;
        head.resources = head.resources.filter((r) => r !== secret);
        const d = diffPlans(base, head);
        expect(firing(d).map((r) => [r.tenant, r.action, r.urn])).toEqual([["acme", "remove", secret.urn]]);
        expect(tenantOf(d, "acme").removed.map((r) => r.urn)).toEqual([secret.urn]);
    });

    it("renaming a schema or role fires the guard as a rename; the platform's cluster engine as a replacement", () => {
        const head = clonePlan(base);
        head.resources.find((r) => r.type === "postgresql:index/schema:Schema" && r.tenant === "acme")!.inputs["name"] = "t_acme2";
        head.resources.find((r) => r.type === "aws:rds/cluster:Cluster")!.inputs["engine"] = "aurora-mysql";
        const d = diffPlans(base, head);
        expect(firing(d).map((r) => [r.tenant, r.type, r.action])).toEqual([
            [null, "aws:rds/cluster:Cluster", "replace"],
            ["acme", "postgresql:index/schema:Schema", "rename"],
        ]);
        expect(tenantOf(d, null).change).toBe("changed");
    });

    it("removals while the head plan offboards the tenant are reported as exempt and do not fire", () => {
        const head = clonePlan(base);
        head.tenants.find((t) => t.slug === "acme")!.status = "offboarded";
        head.resources = head.resources.filter((r) => !(r.type === "postgresql:index/role:Role" && r.tenant === "acme"));
        const d = diffPlans(base, head);
        expect(d.risks.filter((r) => r.tenant === "acme").map((r) => [r.action, r.exempt])).toEqual([["remove", true], ["remove", true]]);
        expect(d.guardFires).toBe(false);
        expect(renderDiffText(d)).toContain("Exempt (tenant offboarded through its status):");
    });

    it("secrets stay masked in the diff: a changed password shows no value", () => {
        const head = clonePlan(base);
        const role = head.resources.find((r) => r.type === "postgresql:index/role:Role" && r.name === "acme-db-runtime")!;
        expect(role.inputs["password"]).toBe("[secret]");
        role.inputs["connectionLimit"] = 5;
        const d = diffPlans(base, head);
        const text = renderDiffText(d);
        expect(text).toContain("connectionLimit: 20 → 5");
        expect(text).not.toMatch(/password/);
    });
});

describe("replacement table", () => {
    it("covers the stateful types and the types the issue names, each with its provider sources", () => {
        for (const type of [
            "aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "aws:ec2/vpc:Vpc", "aws:kms/key:Key", "aws:secretsmanager/secret:Secret",
            "aws:cloudwatch/logGroup:LogGroup", "postgresql:index/schema:Schema", "postgresql:index/role:Role", "postgresql:index/database:Database",
            "aws:rds/clusterInstance:ClusterInstance", "aws:ecr/repository:Repository",
        ]) {
            const rule = ruleFor(type)!;
            expect(rule, type).toBeDefined();
            expect(rule.sources.length).toBeGreaterThanOrEqual(2);
            expect(rule.inputs.length).toBeGreaterThan(0);
        }
        expect(TYPE_RULES.map((r) => r.type)).toEqual([...TYPE_RULES.map((r) => r.type)].sort());
        expect(isStateful("aws:ec2/subnet:Subnet")).toBe(false);
    });

    it("matches nested paths by their top-level input and honours replaceOnChanges", () => {
        expect(topLevelInput("encryptionConfigurations[0].kmsKey")).toBe("encryptionConfigurations");
        expect(topLevelInput('["odd.key"].x')).toBe("odd.key");
        expect(effectOfChange("aws:ecr/repository:Repository", "encryptionConfigurations[0].kmsKey")?.effect).toBe("replace");
        expect(effectOfChange("aws:rds/instance:Instance", "engineVersion")).toBeUndefined();
        expect(effectOfChange("aws:ssm/parameter:Parameter", "tier", ["tier"])?.effect).toBe("replace");
        expect(diffValues({ a: [1, 2], b: { c: 1 } }, { a: [1], b: { c: 2, d: 3 } })).toEqual([
            { path: "a[1]", before: 2 }, { path: "b.c", before: 1, after: 2 }, { path: "b.d", after: 3 },
        ]);
    });
});
