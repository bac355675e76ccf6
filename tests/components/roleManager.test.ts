import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { LAMBDA_CA_BUNDLE, ROLE_MANAGER_BUNDLE, ROLE_MANAGER_RUNTIME, RoleManager, type RoleManagerArgs, roleManagerBundlePath } from "../../components/roleManager";
import { eventProblems, isTransient, scramVerifier, withRetries } from "../../components/roleManager/handler";
import { findResource, record, type RecordedResource, type RecordOptions, type RecordResult } from "../../engine/recorder";
import { bundleRoleManager } from "../../tools/buildRoleManager";

const ROOT = path.join(__dirname, "..", "..");
const base: RecordOptions = { project: "tenancy", stack: "test", config: { "aws:region": "us-east-1" } };
const TAGS = { "tenancy:stack": "test", "tenancy:tier": "dedicated", "tenancy:tenant": "globex" };
const KEY = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const MASTER = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-0f1e2d3c-aaaa-bbbb-cccc-000000000001-AbCdEf";
const DB_SG = "sg-0db00000000000001";

const T = {
    fn: "aws:lambda/function:Function",
    invocation: "aws:lambda/invocation:Invocation",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    secret: "aws:secretsmanager/secret:Secret",
    role: "aws:iam/role:Role",
} as const;

/** Records a RoleManager for a stand-in instance (a resource of its own, so ordering can be checked). */
async function recordRoles(overrides: Partial<RoleManagerArgs> = {}): Promise<RecordResult> {
    return record(async () => {
        const instance = new Instance("globex-instance", { identifier: "tenancy-test-globex", manageMasterUserPassword: true });
        const roles = new RoleManager("globex-roles", {
            tenant: { slug: "globex", status: "active" },
            stack: "test",
            region: "eu-central-1",
            vpcId: "vpc-0globex0000000001",
            subnetIds: ["subnet-0prv0000000000a", "subnet-0prv0000000000b"],
            database: { instance, address: "tenancy-test-globex.abc.eu-central-1.rds.amazonaws.com", port: 5432, name: "app", securityGroupId: DB_SG, masterSecretArn: MASTER },
            kmsKeyArn: KEY,
            logRetentionDays: 30,
            protect: true,
            tags: TAGS,
            ...overrides,
        });
        return { runtimeSecretArn: roles.runtimeSecretArn, valueFrom: roles.runtimeValueFrom("password") };
    }, base);
}

/** A stand-in for the tenant's RDS instance. */
class Instance extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs) {
        super("aws:rds/instance:Instance", name, props);
    }
}

const ofType = (r: RecordResult, type: string): RecordedResource[] => r.resources.filter((x) => x.type === type);
const input = (r: RecordResult): Record<string, unknown> => JSON.parse(ofType(r, T.invocation)[0]!.inputs["input"] as string);

describe("the role manager's code", () => {
    it("the committed bundle is what `npm run build:role-manager` builds from handler.ts and pg", () => {
        const committed = fs.readFileSync(path.join(ROOT, ROLE_MANAGER_BUNDLE), "utf8");
        expect(committed === bundleRoleManager(), `${ROLE_MANAGER_BUNDLE} is stale: run npm run build:role-manager`).toBe(true);
    });

    it("the bundle loads on its own and refuses a malformed event with every problem, before touching AWS", async () => {
        // Loaded from the file the function runs; it requires nothing outside Node but the runtime's AWS SDK.
        const bundled = require(path.join(ROOT, ROLE_MANAGER_BUNDLE)) as { handler: (e: unknown) => Promise<unknown> };
        await expect(bundled.handler({ status: "paused" })).rejects.toThrow(/status: paused \(allowed: active, suspended, offboarded\)/);
        const requires = [...fs.readFileSync(path.join(ROOT, ROLE_MANAGER_BUNDLE), "utf8").matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
        const builtins = new Set(require("module").builtinModules as string[]);
        expect(requires.filter((m) => !builtins.has(m)).sort()).toEqual(["@aws-sdk/client-secrets-manager", "pg-cloudflare", "pg-native"]);
    });

    it("events are checked field by field; identifiers it would have to quote are refused", () => {
        const ok = { host: "h", port: 5432, database: "app", schema: "t_a", ownerRole: "t_a_owner", runtimeRole: "t_a_app", status: "active", masterSecretArn: "m", ownerSecretArn: "o", runtimeSecretArn: "r" };
        expect(eventProblems(ok)).toEqual([]);
        expect(eventProblems({ ...ok, schema: "T-A", runtimeRole: "t_a_owner", port: "5432", status: "gone" })).toEqual([
            "schema: not a PostgreSQL identifier (allowed: a-z, 0-9, '_')",
            "runtimeRole: must differ from ownerRole",
            "port: not a whole number",
            "status: gone (allowed: active, suspended, offboarded)",
        ]);
    });

    it("a SCRAM verifier follows RFC 5802/7677 (the vector PostgreSQL's own tests use) and never contains the password", () => {
        const verifier = scramVerifier("pencil", Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"), 4096);
        expect(verifier).toBe("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
        expect(scramVerifier("pencil")).not.toBe(verifier); // a fresh salt each time
    });
});

describe("the role manager's retries", () => {
    it("IAM propagation and a master password rotating right now are retried; anything else fails at once", async () => {
        const denied = Object.assign(new Error("not yet"), { name: "AccessDeniedException" });
        let calls = 0;
        await expect(withRetries(async () => (++calls < 3 ? Promise.reject(denied) : "ok"), [0, 0, 0])).resolves.toBe("ok");
        expect(calls).toBe(3);
        calls = 0;
        await expect(withRetries(async () => (calls++, Promise.reject(denied)), [0, 0])).rejects.toBe(denied);
        expect(calls).toBe(3);
        calls = 0;
        const syntax = Object.assign(new Error("syntax error"), { code: "42601" });
        await expect(withRetries(async () => (calls++, Promise.reject(syntax)), [0, 0])).rejects.toBe(syntax);
        expect(calls).toBe(1);
        expect(isTransient(Object.assign(new Error(), { code: "28P01" }))).toBe(true);
        expect(isTransient(new Error("role manager: secret x has no password"))).toBe(false);
    });
});

describe("RoleManager", () => {
    it("a function in the database's region and VPC, private subnets, its own security group, running the committed bundle", async () => {
        const result = await recordRoles();
        const fn = ofType(result, T.fn)[0]!;
        expect(fn.inputs).toMatchObject({
            region: "eu-central-1",
            runtime: ROLE_MANAGER_RUNTIME,
            handler: "index.handler",
            vpcConfig: { subnetIds: ["subnet-0prv0000000000a", "subnet-0prv0000000000b"] },
            environment: { variables: { NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE } },
        });
        // Relative to the project directory, where Pulumi runs the program: the same in every checkout.
        expect(fn.inputs["code"]).toMatchObject({ archive: { assets: { "index.js": { path: ROLE_MANAGER_BUNDLE } } } });
        expect(fs.existsSync(path.join(ROOT, ROLE_MANAGER_BUNDLE))).toBe(true);
        // Found from wherever the program runs (Pulumi's working directory), relative to it.
        expect(roleManagerBundlePath(ROOT)).toBe(ROLE_MANAGER_BUNDLE);
        expect(roleManagerBundlePath(path.join(ROOT, "stacks"))).toBe(`../${ROLE_MANAGER_BUNDLE}`);
        const sg = ofType(result, T.sg)[0]!;
        expect((fn.inputs["vpcConfig"] as { securityGroupIds: string[] }).securityGroupIds).toEqual([sg.id]);
        expect(sg.inputs["vpcId"]).toBe("vpc-0globex0000000001");
        const logs = ofType(result, T.logGroup)[0]!;
        expect(fn.inputs["loggingConfig"]).toMatchObject({ logGroup: logs.outputs["name"] });
        expect(logs.inputs).toMatchObject({ kmsKeyId: KEY, retentionInDays: 30, region: "eu-central-1" });
    });

    it("network: out only to the instance's group on 5432 and HTTPS; the instance admits the function on 5432", async () => {
        const result = await recordRoles();
        const sg = ofType(result, T.sg)[0]!;
        const out = ofType(result, T.egress).map((r) => r.inputs);
        expect(out).toHaveLength(2);
        expect(out).toEqual(expect.arrayContaining([
            expect.objectContaining({ securityGroupId: sg.id, referencedSecurityGroupId: DB_SG, fromPort: 5432, toPort: 5432 }),
            expect.objectContaining({ securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 }),
        ]));
        expect(ofType(result, T.ingress).map((r) => r.inputs)).toEqual([expect.objectContaining({ securityGroupId: DB_SG, referencedSecurityGroupId: sg.id, fromPort: 5432, toPort: 5432 })]);
    });

    it("the invocation runs after the instance and the rules, and whoever reads the runtime secret comes after it", async () => {
        const result = await recordRoles();
        const inv = ofType(result, T.invocation)[0]!;
        const instance = findResource(result, "aws:rds/instance:Instance", "globex-instance");
        expect(inv.options.dependencies).toEqual(expect.arrayContaining([instance.urn, ...ofType(result, T.ingress).map((r) => r.urn), ...ofType(result, T.egress).map((r) => r.urn)]));
        expect(inv.inputs["region"]).toBe("eu-central-1");
        expect(inv.inputs["lifecycleScope"]).toBeUndefined(); // CREATE_ONLY: an input change replaces, i.e. re-invokes
        const runtime = ofType(result, T.secret).find((s) => s.inputs["namePrefix"] === "tenancy/test/globex/db-runtime-")!;
        expect(result.outputs["runtimeSecretArn"]).toBe(runtime.outputs["arn"]);
        expect(result.outputs["valueFrom"]).toMatch(new RegExp(`^${runtime.outputs["arn"]}:password::[0-9a-f-]{36}$`));
        expect(runtime.inputs["region"]).toBe("eu-central-1");
    });

    it("a status change (and only the status) changes the invocation's input, so it runs again; passwords stay", async () => {
        const active = await recordRoles();
        for (const status of ["suspended", "offboarded"] as const) {
            const other = await recordRoles({ tenant: { slug: "globex", status } });
            expect(input(other)).toEqual({ ...input(active), status });
            const passwords = (r: RecordResult) => ofType(r, "random:index/randomPassword:RandomPassword").map((p) => p.inputs);
            expect(passwords(other)).toEqual(passwords(active));
        }
    });

    it("every child is parented, named after the component, tagged and regional; IAM is global", async () => {
        const result = await recordRoles();
        const component = findResource(result, "tenancy:database:RoleManager", "globex-roles");
        const children = result.resources.filter((r) => r.parent === component.urn);
        expect(children.length).toBeGreaterThan(10);
        for (const c of children) {
            expect(c.name.startsWith("globex-roles-"), c.name).toBe(true);
            if (c.type.startsWith("aws:iam/") || c.type.startsWith("random:")) continue;
            expect(c.inputs["region"], c.name).toBe("eu-central-1");
            if (c.type !== T.invocation && !c.type.endsWith("SecretVersion")) expect(c.inputs["tags"], c.name).toMatchObject(TAGS);
        }
    });

    it("fewer than two subnets throw before anything is registered", async () => {
        let error: unknown;
        const result = await record(async () => {
            try {
                await recordRolesSync();
            } catch (err) {
                error = err;
            }
        }, base);
        expect(String(error)).toMatch(/subnetIds: needs private subnets in at least two availability zones/);
        expect(result.resources.filter((r) => r.type.startsWith("tenancy:") || r.type.startsWith("aws:")).map((r) => r.type)).toEqual(["aws:rds/instance:Instance"]);
    });
});

/** A RoleManager with one subnet, inside the caller's record(). */
async function recordRolesSync(): Promise<void> {
    const instance = new Instance("globex-instance", {});
    new RoleManager("globex-roles", {
        tenant: { slug: "globex", status: "active" }, stack: "test", vpcId: "vpc-0", subnetIds: ["subnet-0a"],
        database: { instance, address: "h", port: 5432, name: "app", securityGroupId: DB_SG, masterSecretArn: MASTER },
        kmsKeyArn: KEY, logRetentionDays: 30, protect: false, tags: TAGS,
    });
}
