import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { LAMBDA_CA_BUNDLE, ROLE_MANAGER_BUNDLE, ROLE_MANAGER_RUNTIME, RoleManager, type RoleManagerArgs, roleManagerBundlePath } from "../../components/roleManager";
import { configSha256, ROLE_MANAGER_ENV } from "../../components/roleManager/contract";
import { eventProblems, isTransient, NoCleartextClient, pgClientConfig, readConfig, scramVerifier, withRetries } from "../../components/roleManager/handler";
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
async function recordRoles(overrides: Partial<RoleManagerArgs> = {}, instanceOverrides: Partial<RoleManagerArgs["database"]> = {}): Promise<RecordResult> {
    return record(async () => {
        const instance = new Instance("globex-instance", { identifier: "tenancy-test-globex", manageMasterUserPassword: true });
        const roles = new RoleManager("globex-roles", {
            tenant: { slug: "globex", status: "active" },
            stack: "test",
            region: "eu-central-1",
            vpcId: "vpc-0globex0000000001",
            subnetIds: ["subnet-0prv0000000000a", "subnet-0prv0000000000b"],
            database: { instance, address: "tenancy-test-globex.abc.eu-central-1.rds.amazonaws.com", port: 5432, name: "app", securityGroupId: DB_SG, masterSecretArn: MASTER, ...instanceOverrides },
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
const envOf = (r: RecordResult): Record<string, string> => (ofType(r, T.fn)[0]!.inputs["environment"] as { variables: Record<string, string> }).variables;

/** A valid function environment, as the deploy sets it. */
const ENV: Record<string, string> = {
    TENANCY_DB_HOST: "tenancy-test-globex.abc.eu-central-1.rds.amazonaws.com",
    TENANCY_DB_PORT: "5432",
    TENANCY_DB_NAME: "app",
    TENANCY_DB_SCHEMA: "t_globex",
    TENANCY_OWNER_ROLE: "t_globex_owner",
    TENANCY_RUNTIME_ROLE: "t_globex_app",
    TENANCY_MASTER_SECRET_ARN: MASTER,
    TENANCY_OWNER_SECRET_ARN: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:tenancy/test/globex/db-owner-AbCdEf",
    TENANCY_RUNTIME_SECRET_ARN: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:tenancy/test/globex/db-runtime-AbCdEf",
};

/** Runs `fn` with `vars` in process.env, restoring it afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    const saved = { ...process.env };
    Object.assign(process.env, vars);
    try {
        return await fn();
    } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
    }
}

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

    it("an event carries only the status and re-run triggers: a target, role names, secret ARNs or any other key are refused", () => {
        const ok = { status: "active", secretVersions: { owner: "v1", runtime: "v2" }, handlerSha256: "abc=", configSha256: "0f" };
        expect(eventProblems(ok)).toEqual([]);
        expect(eventProblems({ status: "suspended" })).toEqual([]);
        const allowed = "allowed: status, secretVersions, handlerSha256, configSha256";
        expect(eventProblems({ ...ok, host: "db.attacker.example", port: 443, ownerRole: "tenancy_admin", masterSecretArn: "arn:x", status: "gone" })).toEqual([
            `host: not accepted in an event: the target and the roles are the function's environment, set by the deploy (${allowed})`,
            `port: not accepted in an event: the target and the roles are the function's environment, set by the deploy (${allowed})`,
            `ownerRole: not accepted in an event: the target and the roles are the function's environment, set by the deploy (${allowed})`,
            `masterSecretArn: not accepted in an event: the target and the roles are the function's environment, set by the deploy (${allowed})`,
            "status: gone (allowed: active, suspended, offboarded)",
        ]);
        expect(eventProblems({ status: "active", handlerSha256: 1, secretVersions: "v" })).toEqual([
            "secretVersions: not an object of version IDs",
            "handlerSha256: not a string",
        ]);
        expect(eventProblems([])).toEqual(["event: not a JSON object"]);
    });

    it("the environment is checked: identifiers, an RDS endpoint as host and TLS name, no reserved role, schema or database", () => {
        expect(readConfig(ENV)).toEqual({
            config: {
                host: ENV["TENANCY_DB_HOST"], port: 5432, database: "app", schema: "t_globex", ownerRole: "t_globex_owner", runtimeRole: "t_globex_app",
                masterSecretArn: MASTER, ownerSecretArn: ENV["TENANCY_OWNER_SECRET_ARN"], runtimeSecretArn: ENV["TENANCY_RUNTIME_SECRET_ARN"],
            },
            problems: [],
        });
        const bad = { ...ENV, TENANCY_DB_HOST: "db.attacker.example", TENANCY_DB_PORT: "443x", TENANCY_DB_SCHEMA: "pg_catalog", TENANCY_OWNER_ROLE: "rds_superuser", TENANCY_RUNTIME_ROLE: "T-A" };
        delete (bad as Record<string, string | undefined>)["TENANCY_MASTER_SECRET_ARN"];
        expect(readConfig(bad).problems).toEqual([
            "TENANCY_DB_HOST: 'db.attacker.example' is not an RDS endpoint (allowed: <name>.rds.amazonaws.com, <name>.rds.amazonaws.com.cn)",
            "TENANCY_DB_PORT: '443x' is not a port number",
            "TENANCY_DB_SCHEMA: 'pg_catalog' is reserved (allowed: a-z, 0-9, '_', not public, information_schema or starting with pg_)",
            "TENANCY_OWNER_ROLE: 'rds_superuser' is reserved (allowed: a-z, 0-9, '_', not starting with pg_ or rds, not public, postgres or a special role name)",
            "TENANCY_RUNTIME_ROLE: not a PostgreSQL identifier (allowed: a-z, 0-9, '_')",
            "TENANCY_MASTER_SECRET_ARN: missing",
        ]);
        for (const role of ["pg_signal_backend", "rdsadmin", "postgres", "public", "current_user"]) {
            expect(readConfig({ ...ENV, TENANCY_RUNTIME_ROLE: role }).problems, role).toEqual([expect.stringMatching(/^TENANCY_RUNTIME_ROLE: '.*' is reserved/)]);
        }
        expect(readConfig({ ...ENV, TENANCY_RUNTIME_ROLE: "t_globex_owner" }).problems).toEqual(["TENANCY_RUNTIME_ROLE: must differ from TENANCY_OWNER_ROLE"]);
        expect(readConfig({ ...ENV, TENANCY_DB_NAME: "template1" }).problems).toEqual([expect.stringMatching(/^TENANCY_DB_NAME: 'template1' is reserved/)]);
    });

    it("the bundle refuses an event naming a target even with a valid environment, and accepts a status-only event up to AWS", async () => {
        const bundled = require(path.join(ROOT, ROLE_MANAGER_BUNDLE)) as { handler: (e: unknown) => Promise<unknown> };
        await withEnv(ENV, async () => {
            await expect(bundled.handler({ status: "active", host: "db.attacker.example", port: 443 })).rejects.toThrow(/^role manager: host: not accepted in an event.*; port: not accepted/);
            // Valid: it goes on to the runtime's AWS SDK: this checkout has the client (npm run move uses it) but no region,
            // so the SDK call is where it stops (an older checkout without the client stopped at loading it).
            await expect(bundled.handler({ status: "active", configSha256: "x" })).rejects.toThrow(/Region is missing|@aws-sdk\/client-secrets-manager/);
        });
        // Without its environment it refuses to run at all.
        await expect(bundled.handler({ status: "active" })).rejects.toThrow(/TENANCY_DB_HOST: missing/);
    });

    it("the connection verifies the server's certificate for the configured endpoint (verify-full), never a name of the event", () => {
        const { config } = readConfig(ENV);
        const options = pgClientConfig(config!, { user: "tenancy_admin", password: "pw" });
        expect(options).toMatchObject({ host: ENV["TENANCY_DB_HOST"], port: 5432, database: "app", user: "tenancy_admin" });
        expect(options.ssl).toEqual({ rejectUnauthorized: true, servername: ENV["TENANCY_DB_HOST"] });
    });

    it("a server asking for the password in clear text gets an error, not the password (RDS asks for SCRAM or MD5)", async () => {
        const received: Buffer[] = [];
        let markClosed: () => void = () => undefined;
        const closed = new Promise<void>((resolve) => (markClosed = resolve));
        const server = net.createServer((socket) => {
            socket.on("close", () => markClosed());
            socket.on("data", (chunk) => {
                received.push(chunk);
                // After the startup message: AuthenticationCleartextPassword ('R', length 8, code 3).
                if (received.length === 1) socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
            });
            socket.on("error", () => undefined);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as net.AddressInfo;
        // Without TLS only so that a plain socket can play the server; the handler's options always require TLS.
        const client = new NoCleartextClient({ host: "127.0.0.1", port, user: "tenancy_admin", password: "the-master-password", database: "app", ssl: false, connectionTimeoutMillis: 5_000 });
        try {
            await expect(client.connect()).rejects.toThrow(/asked for the password in clear text/);
            await closed; // the client hung up (the test times out otherwise)
            expect(Buffer.concat(received).toString("latin1")).not.toContain("the-master-password");
        } finally {
            await client.end().catch(() => undefined);
            await new Promise((resolve) => server.close(resolve));
        }
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

    it("pg's connection timeouts (errors without a code) are retried too", () => {
        // What pg 8 throws when connectionTimeoutMillis passes: before and after the socket is open.
        expect(isTransient(new Error("timeout expired"))).toBe(true);
        expect(isTransient(new Error("Connection terminated due to connection timeout"))).toBe(true);
        expect(isTransient(new Error("Connection terminated unexpectedly"))).toBe(false);
        expect(isTransient(Object.assign(new Error("timeout expired"), { code: "42601" }))).toBe(false);
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

    it("the function's environment, set by the deploy, carries the target and the roles; the handler accepts it", async () => {
        const result = await recordRoles();
        const env = envOf(result);
        const secrets = ofType(result, T.secret);
        const arnOf = (purpose: string) => secrets.find((s) => s.inputs["namePrefix"] === `tenancy/test/globex/${purpose}-`)!.outputs["arn"];
        expect(env).toEqual({
            NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
            [ROLE_MANAGER_ENV.host]: "tenancy-test-globex.abc.eu-central-1.rds.amazonaws.com",
            [ROLE_MANAGER_ENV.port]: "5432",
            [ROLE_MANAGER_ENV.database]: "app",
            [ROLE_MANAGER_ENV.schema]: "t_globex",
            [ROLE_MANAGER_ENV.ownerRole]: "t_globex_owner",
            [ROLE_MANAGER_ENV.runtimeRole]: "t_globex_app",
            [ROLE_MANAGER_ENV.masterSecretArn]: MASTER,
            [ROLE_MANAGER_ENV.ownerSecretArn]: arnOf("db-owner"),
            [ROLE_MANAGER_ENV.runtimeSecretArn]: arnOf("db-runtime"),
        });
        expect(readConfig(env).problems).toEqual([]);
    });

    it("the invocation's input is the status and re-run triggers only: no host, role name or secret ARN", async () => {
        const result = await recordRoles();
        const fn = ofType(result, T.fn)[0]!;
        const owner = ofType(result, T.secret).find((s) => s.inputs["namePrefix"] === "tenancy/test/globex/db-owner-")!;
        const versions = ofType(result, "aws:secretsmanager/secretVersion:SecretVersion");
        expect(versions).toHaveLength(2);
        const given = input(result);
        expect(Object.keys(given).sort()).toEqual(["configSha256", "handlerSha256", "secretVersions", "status"]);
        expect(given).toEqual({
            status: "active",
            secretVersions: { owner: versions.find((v) => v.inputs["secretId"] === owner.id)!.outputs["versionId"], runtime: expect.any(String) },
            handlerSha256: fn.outputs["codeSha256"],
            configSha256: configSha256(envOf(result)),
        });
        expect(eventProblems(given)).toEqual([]);
        expect(JSON.stringify(given)).not.toMatch(/globex|rds\.amazonaws|arn:/);
    });

    it("a change of the function's configuration changes the invocation's input, so the SQL runs again on the new target", async () => {
        const before = await recordRoles();
        for (const changed of [{ address: "tenancy-test-globex.new.eu-central-1.rds.amazonaws.com" }, { port: 5433 }]) {
            const after = await recordRoles({}, changed);
            expect(envOf(after)).not.toEqual(envOf(before));
            expect(input(after)).toEqual({ ...input(before), configSha256: configSha256(envOf(after)) });
            expect(input(after)["configSha256"]).not.toBe(input(before)["configSha256"]);
        }
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
