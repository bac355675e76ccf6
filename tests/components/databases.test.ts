import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { describe, expect, it } from "vitest";
import { DatabaseHardening } from "../../components/databaseHardening";
import { DatabaseInstance, type DatabaseInstanceArgs, databaseInstanceProblems, parameterGroupFamily } from "../../components/databaseInstance";
import { HybridDatabase, type HybridDatabaseArgs, hybridInstanceIdentifier } from "../../components/hybridDatabase";
import { instanceIdentifier, secretRecoveryWindowDays } from "../../components/naming";
import { TenantDatabase } from "../../components/tenantDatabase";
import { findResource, ofType, record, type RecordedResource, type RecordOptions, type RecordResult } from "../../engine/recorder";
import type { SizePreset } from "../../stacks/config";
import type { Tenant } from "../../tenants/registry";

const base: RecordOptions = { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } };
const TAGS = { "tenancy:stack": "test", "tenancy:tier": "hybrid", "tenancy:tenant": "acme" };
const SMALL: SizePreset = { dbInstanceClass: "db.t4g.medium", allocatedStorageGb: 20, maxAllocatedStorageGb: 100, cpu: 512, memory: 1024, minTasks: 1, maxTasks: 3 };
const APP_SG = "sg-0app0000000000001";

const T = {
    key: "aws:kms/key:Key",
    instance: "aws:rds/instance:Instance",
    params: "aws:rds/parameterGroup:ParameterGroup",
    subnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    secret: "aws:secretsmanager/secret:Secret",
    secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
    password: "random:index/randomPassword:RandomPassword",
    randomId: "random:index/randomId:RandomId",
    iamRole: "aws:iam/role:Role",
    iamAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    role: "postgresql:index/role:Role",
    schema: "postgresql:index/schema:Schema",
    grant: "postgresql:index/grant:Grant",
    defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
} as const;

function tenant(overrides: Partial<Tenant> = {}): Tenant {
    const slug = overrides.slug ?? "acme";
    return {
        slug,
        displayName: "Acme",
        tier: "shared",
        status: "active",
        region: "eu-west-1",
        subdomain: slug,
        hostnames: [`${slug}.saas.example.com`],
        customDomains: [],
        release: { channel: "stable", version: "2.0.0" },
        features: [],
        branding: {},
        database: { backupRetentionDays: 7, connectionLimit: 20, statementTimeoutSeconds: 30 },
        tags: {},
        file: `tenants/test/${slug}.yaml`,
        ...overrides,
    };
}

function hybridArgs(overrides: Partial<HybridDatabaseArgs> = {}): HybridDatabaseArgs {
    return {
        tenant: tenant({ tier: "hybrid", size: "small", database: { backupRetentionDays: 14, connectionLimit: 20, statementTimeoutSeconds: 30 } }),
        stack: "test",
        size: SMALL,
        engineVersion: "16.6",
        vpcId: "vpc-0shared000000001",
        isolatedSubnetIds: ["subnet-0iso0000000000a", "subnet-0iso0000000000b"],
        privateSubnetIds: ["subnet-0prv0000000000a", "subnet-0prv0000000000b"],
        appSecurityGroupId: APP_SG,
        multiAz: true,
        protect: true,
        logRetentionDays: 30,
        tags: TAGS,
        ...overrides,
    };
}

function instanceArgs(overrides: Partial<DatabaseInstanceArgs> = {}): DatabaseInstanceArgs {
    return {
        identifier: "tenancy-test-globex",
        region: "eu-central-1",
        vpcId: "vpc-0dedicated00001",
        subnetIds: ["subnet-0a", "subnet-0b"],
        allowedSecurityGroupIds: ["sg-0svc1", "sg-0svc2"],
        kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        engineVersion: "16.6",
        instanceClass: "db.r6g.large",
        allocatedStorageGb: 100,
        maxAllocatedStorageGb: 500,
        multiAz: false,
        backupRetentionDays: 7,
        protect: false,
        databaseName: "app",
        masterUsername: "tenancy_admin",
        logRetentionDays: 14,
        tags: { "tenancy:stack": "test", "tenancy:tier": "dedicated", "tenancy:tenant": "globex" },
        ...overrides,
    };
}

/** Records a hybrid database and returns its resolved outputs alongside the graph. */
async function recordHybrid(overrides: Partial<HybridDatabaseArgs> = {}): Promise<RecordResult> {
    return record(async () => {
        const db = new HybridDatabase("acme-db", hybridArgs(overrides));
        return {
            keyArn: db.keyArn,
            address: db.address,
            port: db.port,
            databaseName: db.databaseName,
            credentialsSecretArn: db.credentialsSecretArn,
            instanceArn: db.instanceArn,
        };
    }, base);
}

const sharedKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/shared-0000";

/** What a TenantDatabase takes of its cell's hardening. */
const cellRoles = (h: DatabaseHardening) => ({ groupRoleName: h.groupRoleName, reportingRoleName: h.reportingRoleName });

/** The shared cluster's hardening plus shared tenants, through one PostgreSQL provider. */
async function recordShared(tenants: Tenant[], protect = true): Promise<RecordResult> {
    return record(async () => {
        const provider = new postgresql.Provider("shared-pg", { host: "localhost", port: 5432, database: "tenancy", username: "tenancy_admin", superuser: false, sslmode: "require" });
        const common = { stack: "test", secretKmsKeyId: sharedKeyArn, host: "shared.cluster-x.eu-west-1.rds.amazonaws.com", port: 5432, protect, tags: { "tenancy:stack": "test", "tenancy:tier": "shared" } };
        const hardening = new DatabaseHardening("shared-hardening", { ...common, databaseName: "tenancy" }, { provider });
        const out: Record<string, unknown> = { reportingSecretArn: hardening.reportingSecretArn, groupRoleName: hardening.groupRoleName, reportingRoleName: hardening.reportingRoleName, backupRoleName: hardening.backupRoleName, backupSecretArn: hardening.backupSecretArn };
        for (const t of tenants) {
            const db = new TenantDatabase(`${t.slug}-db`, { ...common, tenant: t, databaseName: "tenancy", ...cellRoles(hardening) }, { provider, dependsOn: hardening.ready });
            out[t.slug] = {
                schemaName: db.schemaName,
                ownerRoleName: db.ownerRoleName,
                runtimeRoleName: db.runtimeRoleName,
                runtimeSecretArn: db.runtimeSecretArn,
                ownerSecretArn: db.ownerSecretArn,
            };
        }
        return out;
    }, base);
}

/** Resources below `ancestor` (any depth). */
function descendants(result: RecordResult, ancestor: RecordedResource): RecordedResource[] {
    const below = new Set([ancestor.urn]);
    const out: RecordedResource[] = [];
    for (const r of result.resources) {
        if (r.parent && below.has(r.parent)) {
            below.add(r.urn);
            out.push(r);
        }
    }
    return out;
}

/** Every URN `urn` waits for, directly or through others. */
function dependencyClosure(result: RecordResult, urn: string): Set<string> {
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const stack = [...(byUrn.get(urn)?.options.dependencies ?? [])];
    while (stack.length) {
        const next = stack.pop()!;
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(...(byUrn.get(next)?.options.dependencies ?? []));
    }
    return seen;
}

/** The catalog row a grant or default-privileges resource rewrites. */
function privilegeTarget(r: RecordedResource): string {
    const i = r.inputs as Record<string, string>;
    if (r.type === T.grant) return i["objectType"] === "database" ? `database ${i["database"]}` : `schema ${i["database"]}.${i["schema"]}`;
    return `default ${i["database"]}.${i["owner"]}.${i["schema"] ?? "*"}.${i["objectType"]}`;
}

/** The DatabaseInstance inside the recorded HybridDatabase. */
const dbComponent = (result: RecordResult): RecordedResource => findResource(result, "tenancy:database:DatabaseInstance", "acme-db-db");

const one = (result: RecordResult, type: string, parent?: RecordedResource): RecordedResource => {
    const found = (parent ? descendants(result, parent) : result.resources).filter((r) => r.type === type);
    expect(found, `one ${type}`).toHaveLength(1);
    return found[0]!;
};

describe("DatabaseInstance (through HybridDatabase)", () => {
    it("a hybrid tenant's instance is encrypted with the key created for it, private, TLS-only and IAM-enabled", async () => {
        const result = await recordHybrid();
        const key = one(result, T.key);
        const keyArn = key.outputs["arn"];
        expect(result.outputs["keyArn"]).toBe(keyArn);
        const db = one(result, T.instance);
        expect(db.inputs).toMatchObject({
            identifier: "tenancy-test-hybrid-acme",
            engine: "postgres",
            storageType: "gp3",
            storageEncrypted: true,
            kmsKeyId: keyArn,
            performanceInsightsEnabled: true,
            performanceInsightsKmsKeyId: keyArn,
            performanceInsightsRetentionPeriod: 7,
            manageMasterUserPassword: true,
            masterUserSecretKmsKeyId: keyArn,
            publiclyAccessible: false,
            iamDatabaseAuthenticationEnabled: true,
            caCertIdentifier: "rds-ca-rsa2048-g1",
            autoMinorVersionUpgrade: true,
            copyTagsToSnapshot: true,
            applyImmediately: false,
            multiAz: true,
            dbName: "app",
            username: "tenancy_admin",
            instanceClass: "db.t4g.medium",
            allocatedStorage: 20,
            maxAllocatedStorage: 100,
            backupRetentionPeriod: 14,
            enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        });
        expect(db.inputs["password"]).toBeUndefined();
        // Minor versions belong to auto minor upgrades: a pinned "16.6" would become a refused downgrade.
        expect(db.inputs["engineVersion"]).toBe("16");
        const sg = one(result, T.sg, dbComponent(result));
        expect(db.inputs["vpcSecurityGroupIds"]).toEqual([sg.id]);
        expect(db.inputs["dbSubnetGroupName"]).toBe(one(result, T.subnetGroup).outputs["name"]);
        expect(db.inputs["parameterGroupName"]).toBe(one(result, T.params).outputs["name"]);
    });

    it("the shared app gets the runtime role's secret, never the RDS-managed master secret; the outputs describe the instance", async () => {
        const result = await recordHybrid();
        const db = one(result, T.instance);
        const managed = (db.outputs["masterUserSecrets"] as { secretArn: string }[])[0]!.secretArn;
        const runtime = ofType(result, T.secret).find((s) => s.inputs["namePrefix"] === "tenancy/test/acme/db-runtime-")!;
        expect(runtime.inputs["kmsKeyId"]).toBe(one(result, T.key).outputs["arn"]);
        expect(result.outputs).toMatchObject({
            credentialsSecretArn: runtime.outputs["arn"],
            address: db.outputs["address"],
            port: 5432,
            databaseName: "app",
            instanceArn: db.outputs["arn"],
        });
        expect(managed).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:rds!/);
    });

    it("protect keeps the data: deletion protection, a final snapshot named per incarnation, retained backups, protected key, instance and logs", async () => {
        const result = await recordHybrid({ protect: true });
        const db = one(result, T.instance);
        expect(db.inputs).toMatchObject({ deletionProtection: true, skipFinalSnapshot: false, deleteAutomatedBackups: false });
        // A random suffix created with the instance: stable across updates, new for a re-created instance, so the
        // second deletion of `tenancy-test-hybrid-acme` cannot fail on the first one's snapshot.
        const suffix = one(result, "random:index/randomId:RandomId");
        expect(suffix.name).toBe("acme-db-db-final-snapshot");
        expect(db.inputs["finalSnapshotIdentifier"]).toBe(`tenancy-test-hybrid-acme-final-${String(suffix.outputs["hex"])}`);
        expect(db.inputs["finalSnapshotIdentifier"]).toMatch(/^tenancy-test-hybrid-acme-final-[0-9a-f]{8}$/);
        expect(db.options.protect).toBe(true);
        expect(one(result, T.key).options.protect).toBe(true);
        for (const lg of descendants(result, dbComponent(result)).filter((r) => r.type === T.logGroup)) expect(lg.options.protect).toBe(true);
        // The application roles' passwords and secrets belong with the data.
        const roleData = ofType(result, T.secret).concat(ofType(result, T.password));
        expect(roleData).toHaveLength(4);
        for (const r of roleData) expect(r.options.protect, r.name).toBe(true);
        // Rebuildable from code: not protected, so a version change can replace them.
        for (const type of [T.params, T.subnetGroup, T.sg, T.ingress]) {
            for (const r of ofType(result, type)) expect(r.options.protect, r.name).toBe(false);
        }
    });

    it("without protect the instance can be destroyed: no deletion protection, no final snapshot, nothing protected", async () => {
        const result = await recordHybrid({ protect: false });
        const db = one(result, T.instance);
        expect(db.inputs).toMatchObject({ deletionProtection: false, skipFinalSnapshot: true, deleteAutomatedBackups: true });
        expect(result.resources.filter((r) => r.options.protect).map((r) => r.name)).toEqual([]);
    });

    it("a backup retention under 7 days throws before any resource exists", async () => {
        let error: unknown;
        const result = await record(async () => {
            try {
                new HybridDatabase("acme-db", hybridArgs({ tenant: tenant({ tier: "hybrid", database: { backupRetentionDays: 3, connectionLimit: 20, statementTimeoutSeconds: 30 } }) }));
            } catch (err) {
                error = err;
            }
        }, base);
        expect(String(error)).toMatch(/tenants\/test\/acme\.yaml.*backupRetentionDays: 3 is not allowed \(allowed: 7 to 35\)/);
        expect(result.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
        expect(() => databaseInstanceProblems(instanceArgs({ backupRetentionDays: 6 }))).not.toThrow();
        expect(databaseInstanceProblems(instanceArgs({ backupRetentionDays: 6 }))).toEqual(["backupRetentionDays: 6 is not allowed (allowed: 7 to 35)"]);
        expect(databaseInstanceProblems(instanceArgs({ backupRetentionDays: 7 }))).toEqual([]);
        await expect(record(async () => void new DatabaseInstance("x", instanceArgs({ backupRetentionDays: 1 })), base)).rejects.toThrow(/backupRetentionDays: 1/);
    });

    it("invalid identifiers, versions and networks are refused with the field and what is allowed", () => {
        expect(databaseInstanceProblems(instanceArgs({ identifier: "Tenancy_Test", engineVersion: "sixteen", subnetIds: ["subnet-0a"], allowedSecurityGroupIds: [] }))).toEqual([
            expect.stringMatching(/^identifier: 'Tenancy_Test' is not an RDS identifier/),
            expect.stringMatching(/^engineVersion: 'sixteen' is not a supported PostgreSQL version/),
            "subnetIds: RDS needs subnets in at least two availability zones",
        ]);
        expect(databaseInstanceProblems(instanceArgs({ identifier: "tenancy--x" }))).toHaveLength(1);
        expect(databaseInstanceProblems(instanceArgs({ maxAllocatedStorageGb: 50 }))).toEqual(["maxAllocatedStorageGb: 50 is below allocatedStorageGb (100)"]);
        expect(parameterGroupFamily("16.6")).toBe("postgres16");
        expect(parameterGroupFamily("17")).toBe("postgres17");
    });

    it("the parameter group of the version's family forces TLS and logs connections and slow statements", async () => {
        const result = await recordHybrid();
        const params = one(result, T.params);
        expect(params.inputs["family"]).toBe("postgres16");
        expect(params.inputs["parameters"]).toEqual(
            expect.arrayContaining([
                expect.objectContaining({ name: "rds.force_ssl", value: "1" }),
                expect.objectContaining({ name: "log_connections", value: "1" }),
                expect.objectContaining({ name: "log_disconnections", value: "1" }),
                expect.objectContaining({ name: "log_min_duration_statement", value: "1000" }),
            ]),
        );
    });

    it("logical replication is on for a move's source: rds.logical_replication = 1, pending-reboot (static), in hybrid and dedicated instances alike", async () => {
        const expected = { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" };
        const hybrid = one(await recordHybrid(), T.params).inputs["parameters"] as Record<string, unknown>[];
        const dedicated = one(await record(async () => void new DatabaseInstance("globex-db", instanceArgs()), base), T.params);
        for (const parameters of [hybrid, dedicated.inputs["parameters"] as Record<string, unknown>[]]) {
            expect(parameters.filter((p) => p["name"] === "rds.logical_replication")).toEqual([expected]);
            // Only the static parameter names an apply method: the others keep theirs, so nothing else shows in a diff.
            expect(parameters.filter((p) => "applyMethod" in p)).toEqual([expected]);
        }
        expect(dedicated.inputs["region"]).toBe("eu-central-1");
    });

    it("only the shared app's and the role manager's security groups reach 5432, and the database has no egress rule", async () => {
        const result = await recordHybrid();
        const sg = one(result, T.sg, dbComponent(result));
        const roleManagerSg = one(result, T.sg, findResource(result, "tenancy:database:RoleManager", "acme-db-roles"));
        expect(sg.inputs["vpcId"]).toBe("vpc-0shared000000001");
        expect(sg.inputs["ingress"] ?? []).toEqual([]);
        expect(sg.inputs["egress"] ?? []).toEqual([]);
        const rules = ofType(result, T.ingress);
        expect(rules.map((r) => r.inputs["referencedSecurityGroupId"]).sort()).toEqual([APP_SG, roleManagerSg.id].sort());
        for (const rule of rules) {
            expect(rule.inputs).toMatchObject({ securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432 });
            for (const k of ["cidrIpv4", "cidrIpv6", "prefixListId"]) expect(rule.inputs[k]).toBeUndefined();
        }
        expect(ofType(result, T.egress).filter((r) => r.inputs["securityGroupId"] === sg.id)).toEqual([]);
        expect(ofType(result, T.sgRule)).toEqual([]);
    });

    it("log groups exist at the names RDS writes to, encrypted and retained, before the instance", async () => {
        const result = await recordHybrid();
        const keyArn = one(result, T.key).outputs["arn"];
        const logGroups = descendants(result, dbComponent(result)).filter((r) => r.type === T.logGroup);
        expect(logGroups.map((l) => l.inputs["name"]).sort()).toEqual(["/aws/rds/instance/tenancy-test-hybrid-acme/postgresql", "/aws/rds/instance/tenancy-test-hybrid-acme/upgrade"]);
        for (const lg of logGroups) expect(lg.inputs).toMatchObject({ kmsKeyId: keyArn, retentionInDays: 30 });
        const db = one(result, T.instance);
        expect(db.options.dependsOn).toEqual(expect.arrayContaining(logGroups.map((l) => l.urn)));
    });

    it("every child is parented, named after its component, tagged, and in the requested region", async () => {
        const result = await record(async () => void new DatabaseInstance("globex-db", instanceArgs()), base);
        const component = findResource(result, "tenancy:database:DatabaseInstance", "globex-db");
        const children = descendants(result, component);
        expect(children.map((c) => c.type).sort()).toEqual([
            T.logGroup, T.logGroup, T.params, T.instance, T.subnetGroup, T.sg, T.ingress, T.ingress, T.randomId, T.iamRole, T.iamAttachment,
        ].sort());
        for (const c of children) {
            expect(c.parent).toBe(component.urn);
            expect(c.name.startsWith("globex-db-"), c.name).toBe(true);
            // Random and IAM (global) resources have no region; an IAM attachment has no tags.
            if (!c.type.startsWith("aws:") || c.type.startsWith("aws:iam/")) continue;
            expect(c.inputs["region"], c.name).toBe("eu-central-1");
            expect(c.inputs["tags"], c.name).toEqual(instanceArgs().tags);
        }
        expect(ofType(result, T.ingress).map((r) => r.inputs["referencedSecurityGroupId"])).toEqual(["sg-0svc1", "sg-0svc2"]);
        expect(component.outputs).toMatchObject({ port: 5432, resourceId: expect.stringMatching(/^db-/) });
    });

    it("a HybridDatabase refuses a tenant that is not hybrid", async () => {
        await expect(record(async () => void new HybridDatabase("x", hybridArgs({ tenant: tenant({ tier: "shared" }) })), base)).rejects.toThrow(/allowed: hybrid/);
    });
});

describe("DatabaseHardening", () => {
    it("PUBLIC loses the app, maintenance and template1 databases and CREATE on schema public; only the tenants group may CONNECT", async () => {
        const result = await recordShared([]);
        const grants = ofType(result, T.grant).map((g) => g.inputs);
        expect(grants).toEqual([
            { database: "tenancy", role: "public", objectType: "database", privileges: [] },
            { database: "postgres", role: "public", objectType: "database", privileges: [] },
            { database: "template1", role: "public", objectType: "database", privileges: [] },
            { database: "tenancy", schema: "public", role: "public", objectType: "schema", privileges: ["USAGE"] },
            { database: "tenancy", role: "tenancy_tenants", objectType: "database", privileges: ["CONNECT"] },
        ]);
        const group = findResource(result, T.role, "shared-hardening-tenants-group");
        expect(group.inputs).toMatchObject({ name: "tenancy_tenants", login: false, superuser: false, createRole: false });
        expect(result.outputs["groupRoleName"]).toBe("tenancy_tenants");
    });

    it("the reporting role logs in with a generated secret password, belongs to the group, and its credentials are in an encrypted secret", async () => {
        const result = await recordShared([]);
        const reporting = findResource(result, T.role, "shared-hardening-reporting");
        expect(reporting.inputs).toMatchObject({ name: "tenancy_reporting", login: true, roles: ["tenancy_tenants"], superuser: false, bypassRowLevelSecurity: false });
        expect(reporting.secretPaths).toContain("password");
        const password = findResource(result, T.password, "shared-hardening-reporting-password");
        expect(password.inputs).toMatchObject({ length: 40, special: false });
        const secret = findResource(result, T.secret, "shared-hardening-reporting-secret");
        expect(secret.inputs).toMatchObject({ namePrefix: "tenancy/test/platform/db-reporting-", kmsKeyId: sharedKeyArn, tags: { "tenancy:stack": "test", "tenancy:tier": "shared" } });
        expect(result.outputs["reportingSecretArn"]).toBe(secret.outputs["arn"]);
        const version = findResource(result, T.secretVersion, "shared-hardening-reporting-secret-version");
        expect(version.secretPaths).toEqual(["secretString"]);
        expect(JSON.parse(version.inputs["secretString"] as string)).toEqual({
            engine: "postgres",
            host: "shared.cluster-x.eu-west-1.rds.amazonaws.com",
            port: 5432,
            dbname: "tenancy",
            username: "tenancy_reporting",
            password: reporting.inputs["password"],
        });
    });

    it("the schema dump job's role tenancy_backup is a member of the reporting role only, without powers, with 4 connections (2 in use, 2 ending) and its own encrypted secret", async () => {
        const result = await recordShared([]);
        const backup = findResource(result, T.role, "shared-hardening-backup");
        expect(backup.inputs).toMatchObject({
            name: "tenancy_backup", login: true, roles: ["tenancy_reporting"], connectionLimit: 4,
            superuser: false, createRole: false, createDatabase: false, replication: false, bypassRowLevelSecurity: false,
        });
        expect(backup.secretPaths).toContain("password");
        const password = findResource(result, T.password, "shared-hardening-backup-password");
        expect(password.inputs).toMatchObject({ length: 40, special: false });
        const secret = findResource(result, T.secret, "shared-hardening-backup-secret");
        expect(secret.inputs).toMatchObject({ namePrefix: "tenancy/test/platform/db-backup-", kmsKeyId: sharedKeyArn });
        expect(result.outputs["backupSecretArn"]).toBe(secret.outputs["arn"]);
        expect(result.outputs["backupRoleName"]).toBe("tenancy_backup");
        const version = findResource(result, T.secretVersion, "shared-hardening-backup-secret-version");
        expect(JSON.parse(version.inputs["secretString"] as string)).toMatchObject({ username: "tenancy_backup", password: backup.inputs["password"], dbname: "tenancy" });
        // Nothing is granted to it directly: what it reads comes from the reporting role, tenant by tenant.
        expect(ofType(result, T.grant).filter((g) => g.inputs["role"] === "tenancy_backup")).toEqual([]);
    });

    it("no SQL runs before what the caller waits for (the cluster's writer): a component's dependsOn reaches every PostgreSQL child", async () => {
        const result = await record(async () => {
            const writer = new aws.rds.ClusterInstance("writer", { clusterIdentifier: "shared", instanceClass: "db.r6g.large", engine: "aurora-postgresql" });
            const provider = new postgresql.Provider("shared-pg", { host: "localhost", superuser: false });
            const common = { stack: "test", secretKmsKeyId: sharedKeyArn, host: "h", port: 5432, protect: false, tags: {} };
            const hardening = new DatabaseHardening("shared-hardening", { ...common, databaseName: "tenancy" }, { provider, dependsOn: [writer] });
            new TenantDatabase("acme-db", { ...common, tenant: tenant(), databaseName: "tenancy", ...cellRoles(hardening) }, { provider, dependsOn: [writer] });
        }, base);
        const writer = findResource(result, "aws:rds/clusterInstance:ClusterInstance", "writer");
        const pg = result.resources.filter((r) => r.type.startsWith("postgresql:") && r.custom && !r.type.startsWith("pulumi:providers"));
        expect(pg.length).toBe(5 + 3 + 3 + 8);
        for (const r of pg) expect(dependencyClosure(result, r.urn).has(writer.urn), r.name).toBe(true);
    });

    it("refuses to run without a PostgreSQL provider (the default one would connect to localhost)", async () => {
        await expect(
            record(async () => void new DatabaseHardening("h", { databaseName: "tenancy", stack: "test", secretKmsKeyId: "k", host: "h", port: 5432, protect: false, tags: {} }), base),
        ).rejects.toThrow(/postgresql\.Provider/);
    });
});

describe("TenantDatabase", () => {
    const acme = tenant({ slug: "acme-corp", database: { backupRetentionDays: 7, connectionLimit: 12, statementTimeoutSeconds: 45 } });

    it("a tenant schema is owned by its owner role, never dropped with CASCADE, and protected", async () => {
        const result = await recordShared([acme]);
        const schema = one(result, T.schema);
        expect(schema.inputs).toEqual({ name: "t_acme_corp", database: "tenancy", owner: "t_acme_corp_owner", dropCascade: false, ifNotExists: false });
        expect(schema.options.protect).toBe(true);
        expect(result.outputs["acme-corp"]).toMatchObject({ schemaName: "t_acme_corp", ownerRoleName: "t_acme_corp_owner", runtimeRoleName: "t_acme_corp_app" });
    });

    it("the runtime role takes its connection limit and statement timeout from the tenant, and has no powers", async () => {
        const result = await recordShared([acme]);
        const runtime = findResource(result, T.role, "acme-corp-db-runtime");
        expect(runtime.inputs).toMatchObject({
            name: "t_acme_corp_app",
            login: true,
            roles: ["tenancy_tenants"],
            searchPaths: ["t_acme_corp"],
            connectionLimit: 12,
            statementTimeout: 45_000,
            idleInTransactionSessionTimeout: 60_000,
            superuser: false, createDatabase: false, createRole: false, replication: false, bypassRowLevelSecurity: false,
        });
        const owner = findResource(result, T.role, "acme-corp-db-owner");
        expect(owner.inputs).toMatchObject({ name: "t_acme_corp_owner", login: true, connectionLimit: 5, roles: ["tenancy_tenants"], searchPaths: ["t_acme_corp"], superuser: false, bypassRowLevelSecurity: false });
    });

    it("a suspended or offboarded tenant's roles cannot log in, and the data stays", async () => {
        for (const status of ["suspended", "offboarded"] as const) {
            const result = await recordShared([tenant({ status })]);
            expect(findResource(result, T.role, "acme-db-runtime").inputs["login"], status).toBe(false);
            expect(findResource(result, T.role, "acme-db-owner").inputs["login"], status).toBe(false);
            expect(one(result, T.schema).options.protect).toBe(true);
            expect(one(result, T.schema).inputs["dropCascade"]).toBe(false);
        }
    });

    it("the runtime role gets data access only, reporting gets read access, and new functions are not executable by PUBLIC; nothing is granted on tables of the schema, which is empty when created", async () => {
        const result = await recordShared([acme]);
        const component = findResource(result, "tenancy:tenant:TenantDatabase", "acme-corp-db");
        const mine = descendants(result, component);
        const grants = mine.filter((r) => r.type === T.grant).map((g) => g.inputs);
        expect(grants).toEqual([
            { database: "tenancy", schema: "t_acme_corp", role: "t_acme_corp_app", objectType: "schema", privileges: ["USAGE"] },
            { database: "tenancy", schema: "t_acme_corp", role: "tenancy_reporting", objectType: "schema", privileges: ["USAGE"] },
            // pg_dump (the schema dump job, a member of reporting) reads sequences: those a schema made earlier holds already.
            { database: "tenancy", schema: "t_acme_corp", role: "tenancy_reporting", objectType: "sequence", privileges: ["SELECT"] },
        ]);
        const defaults = mine.filter((r) => r.type === T.defaultPrivileges).map((d) => d.inputs);
        expect(defaults).toEqual([
            { database: "tenancy", owner: "t_acme_corp_owner", schema: "t_acme_corp", role: "t_acme_corp_app", objectType: "table", privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"] },
            { database: "tenancy", owner: "t_acme_corp_owner", schema: "t_acme_corp", role: "tenancy_reporting", objectType: "table", privileges: ["SELECT"] },
            { database: "tenancy", owner: "t_acme_corp_owner", schema: "t_acme_corp", role: "t_acme_corp_app", objectType: "sequence", privileges: ["USAGE", "SELECT"] },
            { database: "tenancy", owner: "t_acme_corp_owner", schema: "t_acme_corp", role: "tenancy_reporting", objectType: "sequence", privileges: ["SELECT"] },
            // Schema-less on purpose: a per-schema entry cannot revoke PostgreSQL's built-in EXECUTE for PUBLIC.
            { database: "tenancy", owner: "t_acme_corp_owner", role: "public", objectType: "function", privileges: [] },
        ]);
        // Nothing grants CREATE, TRUNCATE or anything on another schema to the runtime role.
        for (const g of [...grants, ...defaults]) {
            if (g["role"] === "t_acme_corp_app") expect(g["privileges"]).not.toContain("CREATE");
            if (g["schema"] !== undefined) expect(g["schema"]).toBe("t_acme_corp");
        }
    });

    it("no two grants on the same object run without a dependsOn chain between them, across hardening and tenants", async () => {
        const result = await recordShared([acme, tenant({ slug: "globex" }), tenant({ slug: "initech", status: "suspended" })]);
        const privileges = result.resources.filter((r) => r.type === T.grant || r.type === T.defaultPrivileges);
        expect(privileges.length).toBe(5 + 3 * 8);
        const byTarget = new Map<string, RecordedResource[]>();
        for (const p of privileges) byTarget.set(privilegeTarget(p), [...(byTarget.get(privilegeTarget(p)) ?? []), p]);
        expect([...byTarget.values()].some((group) => group.length > 1)).toBe(true);
        for (const [target, group] of byTarget) {
            for (let i = 0; i < group.length; i++) {
                for (let j = i + 1; j < group.length; j++) {
                    const [a, b] = [group[i]!, group[j]!];
                    const ordered = dependencyClosure(result, a.urn).has(b.urn) || dependencyClosure(result, b.urn).has(a.urn);
                    expect(ordered, `${a.name} and ${b.name} both change ${target}`).toBe(true);
                }
            }
        }
    });

    it("every tenant grant waits for the schema, both roles and the cluster's hardening", async () => {
        const result = await recordShared([acme]);
        const component = findResource(result, "tenancy:tenant:TenantDatabase", "acme-corp-db");
        const mine = descendants(result, component);
        const schema = one(result, T.schema);
        const roles = mine.filter((r) => r.type === T.role).map((r) => r.urn);
        const hardening = findResource(result, "tenancy:database:DatabaseHardening", "shared-hardening");
        const hardeningGrants = descendants(result, hardening).filter((r) => r.type === T.grant).map((r) => r.urn);
        for (const p of mine.filter((r) => r.type === T.grant || r.type === T.defaultPrivileges)) {
            const deps = dependencyClosure(result, p.urn);
            for (const needed of [schema.urn, ...roles, ...hardeningGrants]) expect(deps.has(needed), `${p.name} after ${needed}`).toBe(true);
            expect(p.options.protect).toBe(false);
        }
        for (const role of mine.filter((r) => r.type === T.role)) {
            expect(role.options.dependsOn).toEqual(expect.arrayContaining(hardeningGrants));
        }
    });

    it("credentials live in per-tenant secrets encrypted with the given key, and passwords never appear in plain text", async () => {
        const result = await recordShared([acme]);
        const component = findResource(result, "tenancy:tenant:TenantDatabase", "acme-corp-db");
        const mine = descendants(result, component);
        const secrets = mine.filter((r) => r.type === T.secret);
        // Name prefixes: AWS appends a unique suffix, so a re-created tenant never collides with a secret in its recovery window.
        expect(secrets.map((s) => [s.inputs["name"], s.inputs["namePrefix"]])).toEqual([
            [undefined, "tenancy/test/acme-corp/db-runtime-"], [undefined, "tenancy/test/acme-corp/db-owner-"],
        ]);
        for (const s of secrets) {
            expect(s.inputs).toMatchObject({ kmsKeyId: sharedKeyArn, recoveryWindowInDays: 30, tags: { "tenancy:stack": "test", "tenancy:tier": "shared" } });
            expect(s.options.protect).toBe(true);
        }
        const out = result.outputs["acme-corp"] as Record<string, string>;
        expect(out["runtimeSecretArn"]).toBe(secrets[0]!.outputs["arn"]);
        expect(out["ownerSecretArn"]).toBe(secrets[1]!.outputs["arn"]);

        const roles = new Map(mine.filter((r) => r.type === T.role).map((r) => [r.inputs["name"] as string, r]));
        for (const v of mine.filter((r) => r.type === T.secretVersion)) {
            expect(v.secretPaths).toEqual(["secretString"]);
            const body = JSON.parse(v.inputs["secretString"] as string) as Record<string, unknown>;
            expect(body).toMatchObject({ engine: "postgres", host: "shared.cluster-x.eu-west-1.rds.amazonaws.com", port: 5432, dbname: "tenancy", schema: "t_acme_corp" });
            const role = roles.get(body["username"] as string)!;
            expect(role.inputs["password"]).toBe(body["password"]);
        }
        for (const role of roles.values()) {
            expect(role.secretPaths).toEqual(["password"]);
            expect(role.options.protect).toBe(true);
        }
        for (const p of mine.filter((r) => r.type === T.password)) {
            expect(p.inputs).toMatchObject({ length: 40, special: false });
            expect(p.options.protect).toBe(true);
        }
    });

    it("every PostgreSQL resource goes through the cluster's provider, never the default one", async () => {
        const result = await recordShared([acme]);
        const provider = findResource(result, "pulumi:providers:postgresql", "shared-pg");
        const pg = result.resources.filter((r) => r.type.startsWith("postgresql:"));
        expect(pg.length).toBeGreaterThan(0);
        for (const r of pg) expect(r.provider, r.name).toBe(`${provider.urn}::${provider.id}`);
        expect(result.resources.filter((r) => r.type === "pulumi:providers:postgresql")).toHaveLength(1);
    });

    it("nothing is protected when the stack does not protect, so dev stacks can be destroyed", async () => {
        const result = await recordShared([acme], false);
        expect(result.resources.filter((r) => r.options.protect).map((r) => r.name)).toEqual([]);
    });

    it("unprotected secrets skip the recovery window: a dev rebuild can create them again at once", async () => {
        const result = await recordShared([acme], false);
        const secrets = ofType(result, T.secret);
        expect(secrets.length).toBeGreaterThan(0);
        for (const s of secrets) expect(s.inputs["recoveryWindowInDays"], s.name).toBe(0);
    });

    it("refuses a tenant that is not shared, and a missing provider", async () => {
        await expect(recordShared([tenant({ tier: "hybrid", size: "small" })])).rejects.toThrow(/allowed: shared/);
        await expect(
            record(async () => {
                const provider = new postgresql.Provider("pg", { host: "localhost" });
                const hardening = new DatabaseHardening("h", { databaseName: "tenancy", stack: "test", secretKmsKeyId: "k", host: "h", port: 5432, protect: false, tags: {} }, { provider });
                new TenantDatabase("acme-db", { tenant: tenant(), stack: "test", databaseName: "tenancy", host: pulumi.output("h"), port: 5432, ...cellRoles(hardening), secretKmsKeyId: "k", protect: false, tags: {} });
            }, base),
        ).rejects.toThrow(/postgresql\.Provider/);
    });
});

describe("naming: re-creates never collide with what a deletion leaves behind", () => {
    it("hybrid and dedicated instances of one tenant get different identifiers (a tier move creates the new one first)", () => {
        expect(instanceIdentifier("prod", "acme", "hybrid")).toBe("tenancy-prod-hybrid-acme");
        expect(instanceIdentifier("prod", "acme", "dedicated")).toBe("tenancy-prod-dedicated-acme");
        expect(hybridInstanceIdentifier("prod", "acme")).toBe(instanceIdentifier("prod", "acme", "hybrid"));
    });

    it("secrets wait out 30 days only where the data is protected", () => {
        expect(secretRecoveryWindowDays(true)).toBe(30);
        expect(secretRecoveryWindowDays(false)).toBe(0);
    });
});

describe("AWS baseline of hybrid and dedicated instances", () => {
    it("enhanced monitoring every 60 s through a role only RDS monitoring of this account can assume", async () => {
        const result = await recordHybrid();
        const db = one(result, T.instance);
        const role = findResource(result, T.iamRole, "acme-db-db-monitoring");
        const attachment = findResource(result, T.iamAttachment, "acme-db-db-monitoring");
        expect(db.inputs).toMatchObject({ monitoringInterval: 60, monitoringRoleArn: role.outputs["arn"] });
        expect(JSON.parse(role.inputs["assumeRolePolicy"] as string).Statement).toEqual([{
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Principal: { Service: "monitoring.rds.amazonaws.com" },
            Condition: { StringEquals: { "aws:SourceAccount": expect.stringMatching(/^\d{12}$/) } },
        }]);
        expect(attachment.inputs).toEqual({ role: role.outputs["name"], policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" });
        // RDS checks the role's permissions when the instance is created.
        expect(db.options.dependsOn).toContain(attachment.urn);
    });

    it("a major version upgrade needs allowMajorVersionUpgrade: off by default, passed through when asked", async () => {
        expect(one(await recordHybrid(), T.instance).inputs["allowMajorVersionUpgrade"]).toBe(false);
        const upgrading = one(await recordHybrid({ engineVersion: "17", allowMajorVersionUpgrade: true }), T.instance);
        expect(upgrading.inputs).toMatchObject({ engineVersion: "17", allowMajorVersionUpgrade: true });
    });

    it("an upgrade applies in its deploy (the replaced parameter group must be free to delete); otherwise changes wait", async () => {
        expect(one(await recordHybrid(), T.instance).inputs["applyImmediately"]).toBe(false);
        const upgrading = await recordHybrid({ engineVersion: "17", allowMajorVersionUpgrade: true });
        expect(one(upgrading, T.instance).inputs["applyImmediately"]).toBe(true);
        expect(one(upgrading, "aws:rds/parameterGroup:ParameterGroup").inputs["family"]).toBe("postgres17");
    });
});
