/**
 * Least privilege for the databases apps use, on the recorded stack program with tenants of this file's own:
 * no task reaches a master credential, every hybrid and dedicated database gets its roles from a function inside
 * its own network, and the tenant's status reaches that function.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource, RecordResult } from "../../engine/recorder";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { recordStack, removeDir, tenantOf } from "./harness";

const TENANTS = {
    "alpha.yaml": sharedTenant("alpha"),
    "bravo.yaml": sharedTenant("bravo", "tier: hybrid\n"),
    "sleepy.yaml": sharedTenant("sleepy", "tier: hybrid\nstatus: suspended\n"),
    "delta.yaml": sharedTenant("delta", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\n"),
    "gone.yaml": sharedTenant("gone", "tier: dedicated\nstatus: offboarded\nnetwork: {cidr: 10.61.0.0/16}\n"),
};
const OWN_DB = { bravo: "active", sleepy: "suspended", delta: "active", gone: "offboarded" } as const;
const REGION: Record<string, string> = { bravo: "us-east-1", sleepy: "us-east-1", delta: "eu-west-1", gone: "us-east-1" };

let root: string;
let result: RecordResult;
let owner: (r: RecordedResource) => string | null;
beforeAll(async () => {
    root = makeRepo(TENANTS, baseStackConfig());
    result = await recordStack(root, "test");
    owner = tenantOf(result);
});
afterAll(() => removeDir(root));

const ofType = (type: string): RecordedResource[] => result.resources.filter((r) => r.type === type);
const parse = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

/** ARNs of every master credential in the stack: RDS-managed secrets and the shared cluster's admin secret. */
function masterSecretArns(): string[] {
    const managed = [...ofType("aws:rds/instance:Instance"), ...ofType("aws:rds/cluster:Cluster")].flatMap(
        (db) => ((db.outputs.masterUserSecrets as { secretArn: string }[] | undefined) ?? []).map((s) => s.secretArn),
    );
    const admin = ofType("aws:secretsmanager/secret:Secret").filter((s) => /\/db-admin-$/.test(s.inputs.namePrefix as string)).map((s) => s.outputs.arn as string);
    return [...managed, ...admin];
}

/** IAM's wildcard match of a policy resource against an ARN. */
const matches = (pattern: string, arn: string): boolean =>
    new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\?/g, ".")).join(".*")}$`).test(arn);

interface Statement { Effect: string; Action: string | string[]; Resource: string | string[] }
const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
const readsSecrets = (s: Statement): boolean => s.Effect === "Allow" && list(s.Action).some((a) => matches(a, "secretsmanager:GetSecretValue"));

describe("no app holds a master credential", () => {
    it("the stack has RDS-managed master secrets for every hybrid and dedicated database", () => {
        expect(ofType("aws:rds/instance:Instance")).toHaveLength(Object.keys(OWN_DB).length);
        expect(masterSecretArns().length).toBe(Object.keys(OWN_DB).length + 1);
        for (const arn of masterSecretArns().slice(0, 4)) expect(arn).toMatch(/:secret:rds!db-/);
    });

    it("no ECS task definition injects a master secret", () => {
        const masters = masterSecretArns();
        const defs = ofType("aws:ecs/taskDefinition:TaskDefinition");
        expect(defs.length).toBeGreaterThan(1);
        let injected = 0;
        for (const def of defs) {
            for (const c of parse(def.inputs.containerDefinitions) as { secrets: { name: string; valueFrom: string }[] }[]) {
                for (const s of c.secrets) {
                    injected++;
                    expect(s.valueFrom, `${def.urn} ${s.name}`).not.toMatch(/:secret:rds!/);
                    for (const m of masters) expect(s.valueFrom.startsWith(m), `${def.urn} ${s.name}`).toBe(false);
                }
            }
        }
        expect(injected).toBeGreaterThan(0);
    });

    it("no task role or execution role may read a master secret", () => {
        const masters = masterSecretArns();
        const roleArns = new Set(ofType("aws:ecs/taskDefinition:TaskDefinition").flatMap((d) => [d.inputs.taskRoleArn as string, d.inputs.executionRoleArn as string]));
        const roles = ofType("aws:iam/role:Role").filter((r) => roleArns.has(r.outputs.arn as string));
        expect(roles.length).toBe(roleArns.size);
        const roleIds = new Set(roles.map((r) => r.id));
        const policies = ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => roleIds.has(p.inputs.role as string));
        const statements = policies.flatMap((p) => (parse(p.inputs.policy) as { Statement: Statement[] }).Statement).filter(readsSecrets);
        expect(statements.length).toBeGreaterThan(0);
        for (const s of statements) {
            for (const resource of list(s.Resource)) {
                expect(resource).not.toMatch(/rds!/);
                for (const m of masters) expect(matches(resource, m), `${resource} reaches ${m}`).toBe(false);
            }
        }
        // Managed policies attached to them grant no Secrets Manager access either.
        const attached = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => roleIds.has(a.inputs.role as string));
        for (const a of attached) expect(a.inputs.policyArn).toMatch(/AmazonECSTaskExecutionRolePolicy$/);
    });

    it("hybrid and dedicated tenants' registry records and outputs name their runtime secret", () => {
        const secrets = new Map(ofType("aws:secretsmanager/secret:Secret").map((s) => [s.outputs.arn as string, s.inputs.namePrefix as string]));
        const tenants = result.outputs.tenants as Record<string, { credentialsSecretArn: string }>;
        for (const slug of Object.keys(OWN_DB)) {
            expect(secrets.get(tenants[slug]!.credentialsSecretArn), slug).toBe(`tenancy/test/${slug}/db-runtime-`);
            const record = ofType("aws:ssm/parameter:Parameter").find((p) => owner(p) === slug)!;
            expect((parse(record.inputs.insecureValue) as { credentialsSecretArn: string }).credentialsSecretArn).toBe(tenants[slug]!.credentialsSecretArn);
        }
    });

    it("a dedicated app gets its runtime role's secret, pinned to the version the role manager applied", () => {
        const def = ofType("aws:ecs/taskDefinition:TaskDefinition").find((d) => owner(d) === "delta")!;
        const secrets = (parse(def.inputs.containerDefinitions) as { secrets: { name: string; valueFrom: string }[] }[])[0]!.secrets;
        const runtime = ofType("aws:secretsmanager/secret:Secret").find((s) => s.inputs.namePrefix === "tenancy/test/delta/db-runtime-")!;
        const version = ofType("aws:secretsmanager/secretVersion:SecretVersion").find((v) => v.inputs.secretId === runtime.id)!;
        expect(secrets).toEqual([
            { name: "DB_PASSWORD", valueFrom: `${runtime.outputs.arn}:password::${version.outputs.versionId}` },
            { name: "DB_USERNAME", valueFrom: `${runtime.outputs.arn}:username::${version.outputs.versionId}` },
        ]);
        const invocation = ofType("aws:lambda/invocation:Invocation").find((i) => owner(i) === "delta")!;
        expect(def.options.dependencies).toContain(invocation.urn);
    });
});

describe("roles are managed from inside each tenant's network", () => {
    it("one role manager function per hybrid and dedicated database, in the database's VPC and region, private subnets", () => {
        const fns = ofType("aws:lambda/function:Function");
        expect(fns.map((f) => owner(f)).sort()).toEqual(Object.keys(OWN_DB).sort());
        const subnets = ofType("aws:ec2/subnet:Subnet");
        for (const fn of fns) {
            const slug = owner(fn)!;
            const db = ofType("aws:rds/instance:Instance").find((i) => owner(i) === slug)!;
            const dbSg = ofType("aws:ec2/securityGroup:SecurityGroup").find((g) => (db.inputs.vpcSecurityGroupIds as string[]).includes(g.id as string))!;
            expect(fn.inputs.region ?? "us-east-1", slug).toBe(REGION[slug]);
            const vpc = (fn.inputs.vpcConfig as { subnetIds: string[]; securityGroupIds: string[] });
            expect(vpc.subnetIds.length).toBeGreaterThanOrEqual(2);
            for (const id of vpc.subnetIds) {
                const subnet = subnets.find((s) => s.id === id)!;
                expect(subnet.inputs.vpcId, slug).toBe(dbSg.inputs.vpcId);
                // Private subnets (NAT egress to Secrets Manager), not public ones.
                expect(subnet.name, slug).toMatch(/-private-\d$/);
            }
            const fnSg = ofType("aws:ec2/securityGroup:SecurityGroup").find((g) => g.id === vpc.securityGroupIds[0])!;
            expect(fnSg.inputs.vpcId).toBe(dbSg.inputs.vpcId);
            // The database admits the function on 5432.
            const ingress = ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
                (r) => r.inputs.securityGroupId === dbSg.id && r.inputs.referencedSecurityGroupId === fnSg.id,
            );
            expect(ingress.map((r) => [r.inputs.fromPort, r.inputs.toPort]), slug).toEqual([[5432, 5432]]);
        }
    });

    it("the function's role reads exactly its database's master secret and the two role secrets", () => {
        const fns = ofType("aws:lambda/function:Function");
        expect(fns).toHaveLength(Object.keys(OWN_DB).length);
        for (const fn of fns) {
            const slug = owner(fn)!;
            const db = ofType("aws:rds/instance:Instance").find((i) => owner(i) === slug)!;
            const master = (db.outputs.masterUserSecrets as { secretArn: string }[])[0]!.secretArn;
            const role = ofType("aws:iam/role:Role").find((r) => r.outputs.arn === fn.inputs.role)!;
            const policy = ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!;
            const reads = (parse(policy.inputs.policy) as { Statement: Statement[] }).Statement.filter(readsSecrets).flatMap((s) => list(s.Resource));
            const own = ofType("aws:secretsmanager/secret:Secret").filter((s) => owner(s) === slug).map((s) => s.outputs.arn as string);
            expect(own).toHaveLength(2);
            expect(reads.sort(), slug).toEqual([master, ...own].sort());
            expect(parse(role.inputs.assumeRolePolicy)).toMatchObject({ Statement: [{ Principal: { Service: "lambda.amazonaws.com" } }] });
        }
    });

    it("each database's function is configured with its coordinates; its Invocation carries the tenant's status, no target and no credential", () => {
        const invocations = ofType("aws:lambda/invocation:Invocation");
        expect(invocations.map((i) => owner(i)).sort()).toEqual(Object.keys(OWN_DB).sort());
        for (const inv of invocations) {
            const slug = owner(inv)! as keyof typeof OWN_DB;
            const fn = ofType("aws:lambda/function:Function").find((f) => owner(f) === slug)!;
            const db = ofType("aws:rds/instance:Instance").find((i) => owner(i) === slug)!;
            expect(inv.inputs.functionName).toBe(fn.outputs.name);
            expect(inv.inputs.region ?? "us-east-1").toBe(REGION[slug]);
            // The target is the function's configuration: whoever may invoke it cannot point it elsewhere.
            expect((fn.inputs.environment as { variables: Record<string, string> }).variables).toMatchObject({
                TENANCY_DB_HOST: db.outputs.address,
                TENANCY_DB_PORT: String(db.outputs.port),
                TENANCY_DB_NAME: "app",
                TENANCY_DB_SCHEMA: `t_${slug}`,
                TENANCY_OWNER_ROLE: `t_${slug}_owner`,
                TENANCY_RUNTIME_ROLE: `t_${slug}_app`,
                TENANCY_MASTER_SECRET_ARN: (db.outputs.masterUserSecrets as { secretArn: string }[])[0]!.secretArn,
            });
            const input = parse(inv.inputs.input) as Record<string, unknown>;
            expect(Object.keys(input).sort()).toEqual(["configSha256", "handlerSha256", "secretVersions", "status"]);
            expect(input.status).toBe(OWN_DB[slug]);
            expect(JSON.stringify(input)).not.toMatch(/password|arn:|rds\.amazonaws|_owner|_app/i);
            // A new handler or a new secret version re-invokes it (an input change replaces a CREATE_ONLY invocation).
            expect(input.handlerSha256).toBe(fn.outputs.codeSha256);
            expect(Object.keys(input.secretVersions as object)).toHaveLength(2);
            expect(inv.options.dependencies).toContain(db.urn);
        }
    });
});

describe("the shared app", () => {
    it("reads only shared and hybrid tenants' runtime secrets: no RDS-managed secret, tier-scoped", () => {
        const shared = ofType("aws:ecs/taskDefinition:TaskDefinition").find((d) => owner(d) === null)!;
        const role = ofType("aws:iam/role:Role").find((r) => r.outputs.arn === shared.inputs.taskRoleArn)!;
        const policy = ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.inputs.role === role.id)!;
        const statements = (parse(policy.inputs.policy) as { Statement: (Statement & { Condition?: Record<string, Record<string, unknown>> })[] }).Statement.filter(readsSecrets);
        expect(statements).toHaveLength(1);
        expect(statements[0]!.Resource).toMatch(/:secret:tenancy\/test\/\*\/db-runtime-\*$/);
        expect(statements[0]!.Condition).toEqual({ StringEquals: { "aws:ResourceTag/tenancy:tier": ["shared", "hybrid"] } });
    });
});
