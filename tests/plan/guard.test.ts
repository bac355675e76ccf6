import { describe, expect, it } from "vitest";
import { DatabaseCell } from "../../components/databaseCell";
import { DatabaseInstance } from "../../components/databaseInstance";
import { record } from "../../engine/recorder";
import { databaseCellArgs } from "../components/sharedPlatformArgs";
import { diffPlans, loweredProtection, type PlanDiff } from "../../tools/plan/diff";
import { planResources, type Plan, type PlanResource, type PlanTenant } from "../../tools/plan/model";
import { effectOfChange, rulesMarkdown, TYPE_RULES } from "../../tools/plan/replacements";
import { renderDiffMarkdown, renderDiffText } from "../../tools/plan/renderDiff";

/** Synthetic plans: the guard is pure, so these tests build exactly the resources they reason about. */
const STACK = "urn:pulumi:prod::tenancy";

function resource(type: string, name: string, tenant: string | null, inputs: Record<string, unknown>, options: Partial<PlanResource["options"]> = {}): PlanResource {
    return {
        urn: `${STACK}::${type}::${name}`,
        stack: "prod",
        type,
        name,
        parent: null,
        custom: true,
        provider: null,
        tenant,
        inputs,
        options: { protect: false, retainOnDelete: false, dependsOn: [], deleteBeforeReplace: false, replaceOnChanges: [], ignoreChanges: [], deletedWith: null, ...options },
    };
}

function tenant(slug: string, fields: Partial<PlanTenant> = {}): PlanTenant {
    return {
        slug, displayName: slug, tier: "dedicated", region: "us-east-1", status: "active", size: "small", network: "10.20.0.0/16",
        hostnames: [`${slug}.example.com`], releaseChannel: "stable", releaseVersion: "1.0.0", features: [], branding: {},
        resourceCount: 0, protectedCount: 0, file: `tenants/prod/${slug}.yaml`, ...fields,
    };
}

function plan(resources: PlanResource[], tenants: PlanTenant[] = [tenant("acme")]): Plan {
    return { planVersion: 1, project: "tenancy", stack: "prod", region: "us-east-1", tenants, resources, stacks: [{ name: "prod", role: "platform", tenants: tenants.map((t) => t.slug), resourceCount: resources.length }] };
}

const firing = (d: PlanDiff) => d.risks.filter((r) => !r.exempt);

const RDS = "aws:rds/instance:Instance";
/** A protected RDS instance as a protected stack declares it. */
const protectedDb = (inputs: Record<string, unknown> = {}, options: Partial<PlanResource["options"]> = {}) =>
    resource(RDS, "acme-db", "acme", {
        identifier: "tenancy-prod-acme", deletionProtection: true, skipFinalSnapshot: false, deleteAutomatedBackups: false, backupRetentionPeriod: 14, ...inputs,
    }, { protect: true, ...options });

describe("data-loss guard: lowered protection of stateful resources in a protected stack", () => {
    const cases: [string, PlanResource, string[]][] = [
        ["protect option turned off", protectedDb({}, { protect: false }), ["options.protect"]],
        ["deletion protection turned off", protectedDb({ deletionProtection: false }), ["deletionProtection"]],
        ["skipFinalSnapshot turned on", protectedDb({ skipFinalSnapshot: true }), ["skipFinalSnapshot"]],
        ["backup retention shortened", protectedDb({ backupRetentionPeriod: 7 }), ["backupRetentionPeriod"]],
        ["deleteAutomatedBackups turned on", protectedDb({ deleteAutomatedBackups: true }), ["deleteAutomatedBackups"]],
        ["retainOnDelete turned off", resource(RDS, "acme-db", "acme", protectedDb().inputs, { protect: true, retainOnDelete: false }), ["options.retainOnDelete"]],
    ];
    for (const [what, head, paths] of cases) {
        it(`fires when ${what}`, () => {
            const baseDb = what === "retainOnDelete turned off" ? protectedDb({}, { retainOnDelete: true }) : protectedDb();
            const d = diffPlans(plan([baseDb]), plan([head]));
            expect(firing(d).map((r) => [r.tenant, r.type, r.action, r.paths])).toEqual([["acme", RDS, "unprotect", paths]]);
            expect(d.guardFires).toBe(true);
            expect(firing(d)[0]!.reason).toContain("loses protection in a protected stack");
        });
    }

    it("fires for the Aurora cluster, a log group's retention and a secret's recovery window too", () => {
        const base = plan([
            resource("aws:rds/cluster:Cluster", "shared-db", null, { deletionProtection: true, backupRetentionPeriod: 14 }, { protect: true }),
            resource("aws:cloudwatch/logGroup:LogGroup", "shared-db-logs", null, { retentionInDays: 365 }, { protect: true }),
            resource("aws:secretsmanager/secret:Secret", "shared-secret", null, { recoveryWindowInDays: 30 }, { protect: true }),
        ], []);
        const head = plan([
            resource("aws:rds/cluster:Cluster", "shared-db", null, { deletionProtection: true, backupRetentionPeriod: 1 }, { protect: true }),
            resource("aws:cloudwatch/logGroup:LogGroup", "shared-db-logs", null, { retentionInDays: 30 }, { protect: true }),
            resource("aws:secretsmanager/secret:Secret", "shared-secret", null, { recoveryWindowInDays: 0 }, { protect: true }),
        ], []);
        expect(firing(diffPlans(base, head)).map((r) => [r.name, r.paths])).toEqual([
            ["shared-db", ["backupRetentionPeriod"]], ["shared-db-logs", ["retentionInDays"]], ["shared-secret", ["recoveryWindowInDays"]],
        ]);
    });

    it("stays silent when protection is raised, and in a stack that protects nothing (dev)", () => {
        const raised = diffPlans(plan([protectedDb({ backupRetentionPeriod: 7 })]), plan([protectedDb({ backupRetentionPeriod: 35 })]));
        expect(raised.risks).toEqual([]);
        const devDb = (inputs: Record<string, unknown>) => resource(RDS, "acme-db", "acme", { deletionProtection: false, skipFinalSnapshot: true, backupRetentionPeriod: 7, ...inputs });
        const dev = diffPlans(plan([devDb({})]), plan([devDb({ backupRetentionPeriod: 1 })]));
        expect(dev.risks).toEqual([]);
    });

    it("is not exempt when the tenant is offboarded at the same time: offboarding keeps data", () => {
        const d = diffPlans(plan([protectedDb()]), plan([protectedDb({ skipFinalSnapshot: true })], [tenant("acme", { status: "offboarded" })]));
        expect(firing(d).map((r) => r.action)).toEqual(["unprotect"]);
    });

    it("loweredProtection names each lowered setting once, and nothing for a stateless change", () => {
        const before = protectedDb();
        expect(loweredProtection(before, protectedDb({ instanceClass: "db.r6g.large" }))).toEqual([]);
        expect(loweredProtection(before, protectedDb({ deletionProtection: false, skipFinalSnapshot: true }, { protect: false })).map((l) => l.path))
            .toEqual(["options.protect", "deletionProtection", "skipFinalSnapshot"]);
    });
});

describe("data-loss guard: a region move replaces every regional resource", () => {
    const regional = (region: string | undefined) => {
        const r = (type: string, name: string, inputs: Record<string, unknown> = {}) => resource(type, name, "acme", region ? { ...inputs, region } : inputs);
        return [
            r(RDS, "acme-db", { identifier: "tenancy-prod-acme" }),
            r("aws:ecs/service:Service", "acme-app"),
            r("aws:lb/loadBalancer:LoadBalancer", "acme-alb"),
            r("aws:ec2/securityGroup:SecurityGroup", "acme-sg"),
            r("aws:kms/key:Key", "acme-key"),
            // Global: IAM has no region input, so it stays.
            resource("aws:iam/role:Role", "acme-role", "acme", { name: "x" }),
        ];
    };

    it("every resource with a region input, listed in the table or not, is replaced; global ones are not", () => {
        const d = diffPlans(plan(regional("us-east-1")), plan(regional("eu-central-1"), [tenant("acme", { region: "eu-central-1" })]));
        const acme = d.tenants.find((t) => t.slug === "acme")!;
        expect(acme.changed.map((c) => [c.name, c.effect]).sort()).toEqual([
            ["acme-alb", "replace"], ["acme-app", "replace"], ["acme-db", "replace"], ["acme-key", "replace"], ["acme-sg", "replace"],
        ]);
        expect(acme.changed.every((c) => c.paths.some((p) => p.path === "region" && p.effect === "replace"))).toBe(true);
        // The stateful ones fire the guard.
        expect(firing(d).map((r) => r.name).sort()).toEqual(["acme-db", "acme-key"]);
    });

    it("an absent region is the stack's region: spelling out the same region changes nothing", () => {
        const d = diffPlans(plan(regional(undefined)), plan(regional("us-east-1")));
        expect(d.tenants.find((t) => t.slug === "acme")!.changed).toEqual([]);
        const moved = diffPlans(plan(regional(undefined)), plan(regional("eu-west-1")));
        expect(moved.tenants.find((t) => t.slug === "acme")!.changed.map((c) => c.effect)).toEqual(Array(5).fill("replace"));
    });

    it("non-AWS resources have no region input of their own to move", () => {
        expect(effectOfChange("postgresql:index/role:Role", "region")).toBeUndefined();
        expect(effectOfChange("aws:ecs/service:Service", "region")?.effect).toBe("replace");
    });
});

describe("replacement table matches the providers' ForceNew fields", () => {
    const inputsOf = (type: string, effect: "replace" | "rename") =>
        TYPE_RULES.find((r) => r.type === type)!.inputs.filter((i) => i.effect === effect).map((i) => i.input);

    it("RDS identifier renames in place (ModifyDBInstance NewDBInstanceIdentifier); identifierPrefix still replaces", () => {
        expect(inputsOf(RDS, "rename")).toEqual(["identifier"]);
        expect(inputsOf(RDS, "replace")).toContain("identifierPrefix");
        const d = diffPlans(plan([protectedDb()]), plan([protectedDb({ identifier: "tenancy-prod-acme-2" })]));
        expect(firing(d).map((r) => [r.action, r.paths])).toEqual([["rename", ["identifier"]]]);
    });

    it("rows for the cluster's subnet group, subnets, grants, default privileges and bucket names", () => {
        expect(inputsOf("aws:rds/cluster:Cluster", "replace")).toContain("dbSubnetGroupName");
        expect(inputsOf("aws:ec2/subnet:Subnet", "replace")).toEqual(expect.arrayContaining(["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"]));
        expect(inputsOf("postgresql:index/grant:Grant", "replace")).toEqual(["role", "database", "schema", "objectType", "objects", "columns", "withGrantOption"]);
        expect(inputsOf("postgresql:index/defaultPrivileges:DefaultPrivileges", "replace")).toEqual(["role", "database", "owner", "schema", "objectType", "withGrantOption"]);
        expect(inputsOf("aws:s3/bucket:Bucket", "replace")).toEqual(expect.arrayContaining(["bucket", "bucketPrefix"]));
        // privileges are updated in place by both PostgreSQL resources.
        expect(effectOfChange("postgresql:index/grant:Grant", "privileges[0]")).toBeUndefined();
        expect(effectOfChange("postgresql:index/defaultPrivileges:DefaultPrivileges", "privileges")).toBeUndefined();
    });

    it("a subnet moved to another AZ is a replacement the guard reports", () => {
        const subnet = (az: string) => resource("aws:ec2/subnet:Subnet", "shared-net-isolated-0", null, { vpcId: "vpc-1", cidrBlock: "10.0.192.0/20", availabilityZoneId: az });
        const d = diffPlans(plan([subnet("use1-az1")], []), plan([subnet("use1-az2")], []));
        expect(firing(d).map((r) => [r.type, r.action, r.paths])).toEqual([["aws:ec2/subnet:Subnet", "replace", ["availabilityZoneId"]]]);
    });

    it("the --rules table lists region for AWS types only", () => {
        const md = rulesMarkdown();
        expect(md).toMatch(/\| `aws:ec2\/subnet:Subnet` \|[^\n]*`region`/);
        expect(md).not.toMatch(/\| `postgresql:index\/grant:Grant` \|[^\n]*`region`/);
    });
});

describe("data-loss guard: removals AWS would refuse", () => {
    const alb = (protection: boolean) => resource("aws:lb/loadBalancer:LoadBalancer", "acme-dedicated-alb", "acme", { enableDeletionProtection: protection });

    it("offboarding an active dedicated tenant in one step: its ALB still has deletion protection, so the guard names the two steps", () => {
        const d = diffPlans(plan([alb(true)]), plan([], [tenant("acme", { status: "offboarded" })]));
        expect(firing(d).map((r) => [r.tenant, r.action, r.name])).toEqual([["acme", "blocked", "acme-dedicated-alb"]]);
        expect(firing(d)[0]!.reason).toContain("suspend the tenant first (that deploy turns deletion protection off), then offboard it");
        expect(d.guardFires).toBe(true);
        // The headline does not claim data would be deleted when the risk is a failing deploy.
        expect(renderDiffText(d)).toContain("DATA-LOSS GUARD: 1 change would delete, replace or unprotect data, or fail the deploy.");
        expect(renderDiffMarkdown(d)).toContain("**Data-loss guard: 1 change would delete, replace or unprotect data, or fail the deploy.**");
    });

    it("offboarding a suspended tenant, whose ALB has deletion protection off, goes through", () => {
        const d = diffPlans(plan([alb(false)], [tenant("acme", { status: "suspended" })]), plan([], [tenant("acme", { status: "offboarded" })]));
        expect(d.risks).toEqual([]);
        expect(d.guardFires).toBe(false);
    });
});

describe("data-loss guard: turning on logical replication (issue 10) is an in-place parameter group update", () => {
    it("adding rds.logical_replication to a protected cell's and instance's parameter groups changes nothing else and does not fire", async () => {
        const recorded = await record(async () => {
            new DatabaseCell("cell-main", databaseCellArgs({}, { protect: true }));
            new DatabaseInstance("acme-db", {
                identifier: "tenancy-prod-hybrid-acme", vpcId: "vpc-0a", subnetIds: ["subnet-0a", "subnet-0b"], allowedSecurityGroupIds: ["sg-0a"],
                kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k", engineVersion: "16.6", instanceClass: "db.t4g.medium", allocatedStorageGb: 20,
                maxAllocatedStorageGb: 100, multiAz: false, backupRetentionDays: 14, protect: true, databaseName: "app", masterUsername: "tenancy_admin",
                logRetentionDays: 30, tags: {},
            });
        }, { project: "tenancy", stack: "prod", config: { "aws:region": "us-east-1" } });
        const head = plan(planResources("prod", recorded.resources), []);
        // Base: the same program before the parameter existed.
        const base = structuredClone(head);
        const groups = base.resources.filter((r) => r.type.startsWith("aws:rds/") && r.type.endsWith("arameterGroup"));
        expect(groups.map((r) => r.type).sort()).toEqual(["aws:rds/clusterParameterGroup:ClusterParameterGroup", "aws:rds/parameterGroup:ParameterGroup"]);
        for (const g of groups) g.inputs["parameters"] = (g.inputs["parameters"] as { name: string }[]).filter((p) => p.name !== "rds.logical_replication");
        const d = diffPlans(base, head);
        const changed = d.tenants.flatMap((t) => t.changed);
        expect(changed.map((c) => [c.type, c.effect, c.paths.map((p) => p.path)]).sort()).toEqual([
            ["aws:rds/clusterParameterGroup:ClusterParameterGroup", "update", ["parameters[3]"]],
            ["aws:rds/parameterGroup:ParameterGroup", "update", ["parameters[4]"]],
        ]);
        expect(d.risks).toEqual([]);
        expect(d.guardFires).toBe(false);
    });
});
