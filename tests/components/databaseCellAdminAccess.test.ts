/**
 * How `pulumi up` reaches a cell's cluster (DatabaseCell): the PostgreSQL provider's connection (TLS verified against the RDS CA
 * bundle, IAM or password authentication) and the ingress rules admitting the deploy runner, on the recorded graph;
 * and the stack config that drives them, validated.
 */
import { describe, expect, it } from "vitest";
import { DatabaseCell, type DatabaseCellArgs } from "../../components/databaseCell";
import { databaseCellArgs, TEST_PLATFORM } from "./sharedPlatformArgs";
import { MOCK_ACCOUNT_ID, ofType, record, type RecordResult, type RecordedResource } from "../../engine/recorder";
import { baseStackConfig, registryProblems } from "../tenants/fixtures";

async function recordPlatform(database: Partial<DatabaseCellArgs["database"]> = {}): Promise<RecordResult> {
    return record(async () => {
        const cell = new DatabaseCell("cell-main", databaseCellArgs(database));
        return { adminConnectArn: cell.adminConnectArn };
    }, { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } });
}

const provider = (r: RecordResult): RecordedResource => {
    const found = ofType(r, "pulumi:providers:postgresql");
    expect(found).toHaveLength(1);
    return found[0]!;
};
const cluster = (r: RecordResult): RecordedResource => ofType(r, "aws:rds/cluster:Cluster")[0]!;
const dbSecurityGroup = (r: RecordResult): RecordedResource => ofType(r, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name === "cell-main-db-sg")!;
const rulesIntoDb = (r: RecordResult): RecordedResource[] =>
    ofType(r, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((x) => x.inputs.securityGroupId === dbSecurityGroup(r).id);

describe("the shared cluster's PostgreSQL provider", () => {
    it("verifies the server certificate (verify-full) against the RDS CA bundle, by default at /tmp/rds-global-bundle.pem", async () => {
        const r = await recordPlatform();
        const p = provider(r);
        expect(p.inputs.sslmode).toBe("verify-full");
        expect(p.inputs.sslrootcert).toBe("/tmp/rds-global-bundle.pem");
        // The certificate names the cluster endpoints: the provider connects to the endpoint itself.
        expect(p.inputs.host).toBe(cluster(r).outputs.endpoint);
        // Provider configuration reaches the plugin as strings.
        expect(p.inputs.superuser).toBe("false");
    });

    it("takes the TLS mode and bundle path from the config", async () => {
        const p = provider(await recordPlatform({ adminTls: { mode: "verify-ca", rootCertPath: "/etc/pki/rds.pem" } }));
        expect(p.inputs).toMatchObject({ sslmode: "verify-ca", sslrootcert: "/etc/pki/rds.pem" });
    });

    it("with adminAuth iam logs in with an IAM token for the stack's region and holds no password", async () => {
        const r = await recordPlatform({ adminAuth: "iam" });
        const p = provider(r);
        expect(p.inputs).toMatchObject({ awsRdsIamAuth: "true", awsRdsIamRegion: "eu-west-1", username: "tenancy_admin" });
        expect(p.inputs).not.toHaveProperty("password");
        const c = cluster(r);
        expect(c.inputs.iamDatabaseAuthenticationEnabled).toBe(true);
        expect(r.outputs.adminConnectArn).toBe(`arn:aws:rds-db:eu-west-1:${MOCK_ACCOUNT_ID}:dbuser:${c.outputs.clusterResourceId}/tenancy_admin`);
    });

    it("with adminAuth password (the default) logs in with the master password and no IAM token", async () => {
        const p = provider(await recordPlatform());
        expect(typeof p.inputs.password).toBe("string");
        expect(p.inputs.password).not.toBe("");
        expect(p.inputs.awsRdsIamAuth).toBeUndefined();
    });
});

describe("ingress for pulumi up", () => {
    it("by default only the shared app and the program's own deploy-runner group reach the cluster", async () => {
        const rules = rulesIntoDb(await recordPlatform());
        expect(rules.map((x) => [x.name, x.inputs.referencedSecurityGroupId, x.inputs.fromPort])).toEqual([
            ["cell-main-db-from-app", TEST_PLATFORM.appSecurityGroupId, 5432],
            ["cell-main-db-from-deploy-runner", TEST_PLATFORM.deployRunnerSecurityGroupId, 5432],
        ]);
    });

    it("the deploy runner's group (the platform's) gets one egress rule to this cell on 5432, and nothing else from the cell", async () => {
        const r = await recordPlatform();
        const egress = ofType(r, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
        expect(egress.map((x) => [x.name, x.inputs.securityGroupId, x.inputs.referencedSecurityGroupId, x.inputs.fromPort, x.inputs.toPort])).toEqual([
            ["cell-main-deploy-runner-to-db", TEST_PLATFORM.deployRunnerSecurityGroupId, dbSecurityGroup(r).id, 5432, 5432],
        ]);
        expect(ofType(r, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((x) => x.inputs.securityGroupId !== dbSecurityGroup(r).id)).toEqual([]);
    });

    it("one rule on 5432 per configured security group and private CIDR block, named after it", async () => {
        const r = await recordPlatform({ adminIngress: { securityGroupIds: ["sg-0123456789abcdef0"], cidrBlocks: ["10.100.0.0/24"] } });
        const rules = rulesIntoDb(r).filter((x) => !["cell-main-db-from-app", "cell-main-db-from-deploy-runner"].includes(x.name));
        expect(rules.map((x) => x.name).sort()).toEqual(["cell-main-db-from-admin-10.100.0.0-24", "cell-main-db-from-admin-sg-0123456789abcdef0"]);
        for (const rule of rules) expect(rule.inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 5432, toPort: 5432 });
        const bySg = rules.find((x) => x.inputs.referencedSecurityGroupId)!;
        expect(bySg.inputs.referencedSecurityGroupId).toBe("sg-0123456789abcdef0");
        expect(bySg.inputs.cidrIpv4).toBeUndefined();
        const byCidr = rules.find((x) => x.inputs.cidrIpv4)!;
        expect(byCidr.inputs.cidrIpv4).toBe("10.100.0.0/24");
        expect(byCidr.inputs.referencedSecurityGroupId).toBeUndefined();
    });
});

describe("stack config of the admin connection", () => {
    const problems = (database: Record<string, unknown>): string[] =>
        registryProblems({}, baseStackConfig({ "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4, ...database } } }));

    it("accepts security group IDs and private CIDR blocks, iam auth and a bundle path", () => {
        expect(problems({
            adminIngress: { securityGroupIds: ["sg-0123456789abcdef0", "sg-01234567"], cidrBlocks: ["10.100.0.0/24"] },
            adminAuth: "iam",
            adminTls: { mode: "verify-full", rootCertPath: "/opt/certs/rds.pem" },
        })).toEqual([]);
    });

    it("rejects malformed IDs, unknown modes and relative bundle paths, each at its key", () => {
        const found = problems({
            adminIngress: { securityGroupIds: ["sg-xyz"], cidrBlocks: ["10.1.0.0"] },
            adminAuth: "token",
            adminTls: { mode: "require", rootCertPath: "certs/rds.pem" },
        });
        expect(found).toEqual([
            expect.stringMatching(/tenancy:shared\.database\.adminIngress\.securityGroupIds\[0\]: must be a security group ID/),
            expect.stringMatching(/tenancy:shared\.database\.adminIngress\.cidrBlocks\[0\]: must be an IPv4 CIDR block/),
            expect.stringMatching(/tenancy:shared\.database\.adminAuth: "token" is not allowed \(allowed: iam, password\)/),
            expect.stringMatching(/tenancy:shared\.database\.adminTls\.mode: "require" is not allowed \(allowed: verify-full, verify-ca\)/),
            expect.stringMatching(/tenancy:shared\.database\.adminTls\.rootCertPath: must be an absolute path/),
        ]);
    });

    it("rejects public CIDR blocks and repeated entries: nothing public reaches the cluster", () => {
        expect(problems({ adminIngress: { securityGroupIds: ["sg-01234567", "sg-01234567"], cidrBlocks: ["0.0.0.0/0", "10.1.0.0/24"] } })).toEqual([
            expect.stringMatching(/tenancy:shared\.database\.adminIngress\.securityGroupIds\[1\]: sg-01234567 is listed twice$/),
            expect.stringMatching(/tenancy:shared\.database\.adminIngress\.cidrBlocks\[0\]: 0\.0\.0\.0\/0 is not private \(allowed: /),
        ]);
    });

    it("refuses a loopback adminHost under verify-full (the certificate names the endpoint) and explains the tunnel", () => {
        expect(problems({ adminHost: "localhost", adminPort: 15432 })).toEqual([
            expect.stringMatching(/tenancy:shared\.database\.adminHost: localhost is not a name on the cluster's certificate, so verify-full fails: .*\/etc\/hosts/),
        ]);
        expect(problems({ adminHost: "127.0.0.1", adminTls: { mode: "verify-ca" } })).toEqual([]);
    });
});
