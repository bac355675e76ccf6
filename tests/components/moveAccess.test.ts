/** MoveAccess on the recorded graph: the deploy runner's path to a move's hybrid or dedicated instance, and its secrets. */
import { describe, expect, it } from "vitest";
import { MOVE_ACCESS_TYPE, MoveAccess, type MoveAccessArgs, moveAccessProblems } from "../../components/moveAccess";
import { awaitOutput, ofType, record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { isStateful } from "../../tools/plan/replacements";

const T = {
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
    accepter: "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
    route: "aws:ec2/route:Route",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

const RUNNER_SG = "sg-0runner000000001";
const HYBRID_SG = "sg-0hybrid000000001";
const DEDICATED_SG = "sg-0dedicated00001";
const TAGS = { "tenancy:stack": "test", "tenancy:tier": "dedicated", "tenancy:tenant": "acme" };
const CELL_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/test/platform/db-admin-AbCdEf";
const PLATFORM_KEY = "arn:aws:kms:eu-west-1:123456789012:key/platform";
const DEDICATED_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-AbCdEf";
const DEDICATED_KEY = "arn:aws:kms:us-east-1:123456789012:key/acme";

const runner = (overrides: Partial<MoveAccessArgs["runner"]> = {}): MoveAccessArgs["runner"] => ({
    securityGroupId: RUNNER_SG,
    vpcId: "vpc-0shared000000001",
    vpcCidr: "10.0.0.0/16",
    subnetCidrs: ["10.0.96.0/19", "10.0.128.0/19"],
    routeTableIds: ["rtb-0private0000000a", "rtb-0private0000000b"],
    region: "eu-west-1",
    ...overrides,
});

const dedicated = (overrides: Partial<NonNullable<MoveAccessArgs["dedicated"]>> = {}): NonNullable<MoveAccessArgs["dedicated"]> => ({
    region: "us-east-1",
    vpcId: "vpc-0tenant000000001",
    vpcCidr: "10.40.0.0/16",
    routeTableId: "rtb-0isolated000000a",
    securityGroupId: DEDICATED_SG,
    ...overrides,
});

/** A shared → dedicated move to another region, unless overridden. */
function args(overrides: Partial<MoveAccessArgs> = {}): MoveAccessArgs {
    return {
        tenant: "acme",
        runner: runner(),
        dedicated: dedicated(),
        adminSecrets: [
            { secretArn: CELL_SECRET, kmsKeyArn: PLATFORM_KEY, region: "eu-west-1" },
            { secretArn: DEDICATED_SECRET, kmsKeyArn: DEDICATED_KEY, region: "us-east-1" },
        ],
        tags: TAGS,
        ...overrides,
    };
}

interface Run {
    result: RecordResult;
    runnerPolicy: string;
}

async function run(a: MoveAccessArgs): Promise<Run> {
    let access: MoveAccess | undefined;
    const result = await record(async () => {
        access = new MoveAccess("acme-move-access", a);
    }, { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } });
    return { result, runnerPolicy: await awaitOutput(access!.runnerPolicy) };
}

const component = (r: RecordResult) => r.resources.find((x) => x.type === MOVE_ACCESS_TYPE)!;
const children = (r: RecordResult) => r.resources.filter((x) => x.parent === component(r).urn);
const byName = (r: RecordResult, name: string): RecordedResource => {
    const found = r.resources.find((x) => x.name === name);
    if (!found) throw new Error(`no resource named ${name} (have: ${r.resources.map((x) => x.name).join(", ")})`);
    return found;
};
const port5432 = { ipProtocol: "tcp", fromPort: 5432, toPort: 5432 };

describe("MoveAccess: a hybrid placement (in the shared VPC)", () => {
    it("admits the runner's security group on 5432 and gives the runner an egress rule to the instance, nothing else", async () => {
        const { result } = await run(args({ dedicated: undefined, hybrid: { securityGroupId: HYBRID_SG } }));
        const kids = children(result);
        expect(kids.map((k) => [k.type, k.name]).sort()).toEqual([
            [T.egress, "acme-move-access-runner-to-hybrid"],
            [T.ingress, "acme-move-access-hybrid-from-runner"],
        ]);
        expect(byName(result, "acme-move-access-hybrid-from-runner").inputs).toMatchObject({
            securityGroupId: HYBRID_SG, referencedSecurityGroupId: RUNNER_SG, ...port5432, region: "eu-west-1",
        });
        expect(byName(result, "acme-move-access-runner-to-hybrid").inputs).toMatchObject({
            securityGroupId: RUNNER_SG, referencedSecurityGroupId: HYBRID_SG, ...port5432, region: "eu-west-1",
        });
        for (const k of kids) expect(k.inputs["cidrIpv4"], k.name).toBeUndefined();
        expect(ofType(result, T.peering)).toEqual([]);
    });
});

describe("MoveAccess: a dedicated placement in another region", () => {
    it("peers the shared VPC (requester, stack region) with the tenant VPC (accepter, its region), accepted in the tenant's region", async () => {
        const { result } = await run(args());
        const [peering] = ofType(result, T.peering);
        expect(ofType(result, T.peering)).toHaveLength(1);
        expect(peering!.inputs).toMatchObject({ vpcId: "vpc-0shared000000001", peerVpcId: "vpc-0tenant000000001", peerRegion: "us-east-1", region: "eu-west-1" });
        // Inter-region peering cannot be accepted by the requester: autoAccept there is refused.
        expect(peering!.inputs["autoAccept"]).toBeUndefined();
        const [accepter] = ofType(result, T.accepter);
        expect(accepter!.inputs).toMatchObject({ vpcPeeringConnectionId: peering!.id, autoAccept: true, region: "us-east-1" });
        expect(peering!.parent).toBe(component(result).urn);
        expect(accepter!.parent).toBe(component(result).urn);
    });

    it("routes only the other VPC's CIDR through the peering: the runner's route tables to the tenant VPC, the tenant's isolated table back", async () => {
        const { result } = await run(args());
        const [peering] = ofType(result, T.peering);
        const [accepter] = ofType(result, T.accepter);
        const routes = ofType(result, T.route);
        expect(routes.map((r) => [r.inputs["routeTableId"], r.inputs["destinationCidrBlock"], r.inputs["region"]]).sort()).toEqual([
            ["rtb-0isolated000000a", "10.0.0.0/16", "us-east-1"],
            ["rtb-0private0000000a", "10.40.0.0/16", "eu-west-1"],
            ["rtb-0private0000000b", "10.40.0.0/16", "eu-west-1"],
        ]);
        for (const r of routes) {
            expect(r.inputs["vpcPeeringConnectionId"], r.name).toBe(peering!.id);
            for (const k of ["gatewayId", "natGatewayId", "transitGatewayId"]) expect(r.inputs[k], r.name).toBeUndefined();
            // A route to a peering that is not yet active is refused: after the accepter.
            expect(r.options.dependsOn, r.name).toContain(accepter!.urn);
        }
    });

    it("security group rules by CIDR (references do not cross regions): the instance admits the shared VPC's private subnets, the runner may reach the tenant VPC", async () => {
        const { result } = await run(args());
        const [accepter] = ofType(result, T.accepter);
        const ingress = ofType(result, T.ingress);
        expect(ingress.map((r) => r.inputs["cidrIpv4"])).toEqual(["10.0.96.0/19", "10.0.128.0/19"]);
        for (const r of ingress) {
            expect(r.inputs).toMatchObject({ securityGroupId: DEDICATED_SG, ...port5432, region: "us-east-1" });
            expect(r.inputs["referencedSecurityGroupId"]).toBeUndefined();
        }
        const egress = ofType(result, T.egress);
        expect(egress.map((r) => r.inputs)).toEqual([expect.objectContaining({ securityGroupId: RUNNER_SG, cidrIpv4: "10.40.0.0/16", ...port5432, region: "eu-west-1" })]);
        for (const r of [...ingress, ...egress]) expect(r.options.dependsOn, r.name).toContain(accepter!.urn);
    });
});

describe("MoveAccess: a dedicated placement in the stack's region", () => {
    it("peers without peerRegion and references the security groups across the peering (same region), accepted in that region", async () => {
        const { result } = await run(args({ dedicated: dedicated({ region: "eu-west-1" }) }));
        const [peering] = ofType(result, T.peering);
        expect(peering!.inputs["peerRegion"]).toBeUndefined();
        expect(ofType(result, T.accepter)[0]!.inputs["region"]).toBe("eu-west-1");
        expect(ofType(result, T.ingress).map((r) => r.inputs)).toEqual([
            expect.objectContaining({ securityGroupId: DEDICATED_SG, referencedSecurityGroupId: RUNNER_SG, ...port5432, region: "eu-west-1" }),
        ]);
        expect(ofType(result, T.egress).map((r) => r.inputs)).toEqual([
            expect.objectContaining({ securityGroupId: RUNNER_SG, referencedSecurityGroupId: DEDICATED_SG, ...port5432, region: "eu-west-1" }),
        ]);
        for (const r of [...ofType(result, T.ingress), ...ofType(result, T.egress)]) expect(r.inputs["cidrIpv4"]).toBeUndefined();
    });
});

describe("MoveAccess: the runner reads the two placements' admin secrets during the move", () => {
    it("the policy grants GetSecretValue on exactly those secrets and Decrypt of their keys only through Secrets Manager, per region", async () => {
        const { runnerPolicy } = await run(args());
        const doc = JSON.parse(runnerPolicy) as { Statement: { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }[] };
        const list = (v: string | string[]) => (Array.isArray(v) ? [...v].sort() : [v]);
        expect(doc.Statement.map((s) => [s.Sid, list(s.Action), list(s.Resource), s.Condition ?? null])).toEqual([
            ["ReadMoveAdminSecrets", ["secretsmanager:GetSecretValue"], [CELL_SECRET, DEDICATED_SECRET].sort(), null],
            ["DecryptThemThroughSecretsManagerEuwest1", ["kms:Decrypt"], [PLATFORM_KEY], { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } }],
            ["DecryptThemThroughSecretsManagerUseast1", ["kms:Decrypt"], [DEDICATED_KEY], { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } }],
        ]);
    });

    it("attaches it to the runner's role only when the role is given; without one nothing IAM is declared", async () => {
        const without = await run(args());
        expect(ofType(without.result, T.rolePolicy)).toEqual([]);
        const withRole = await run(args({ runner: runner({ roleName: "tenancy-deploy" }) }));
        const policies = ofType(withRole.result, T.rolePolicy);
        expect(policies.map((p) => [p.name, p.inputs["role"], p.parent])).toEqual([["acme-move-access-runner-secrets", "tenancy-deploy", component(withRole.result).urn]]);
        expect(JSON.parse(policies[0]!.inputs["policy"] as string)).toEqual(JSON.parse(withRole.runnerPolicy));
    });
});

describe("MoveAccess: the component", () => {
    it("a hybrid → dedicated move gets both paths; every child is parented, named after the component, unprotected and stateless (retiring the move removes it cleanly)", async () => {
        const { result } = await run(args({ hybrid: { securityGroupId: HYBRID_SG }, runner: runner({ roleName: "tenancy-deploy" }) }));
        const kids = children(result);
        expect(kids.map((k) => k.type).sort()).toEqual([
            T.peering, T.accepter, T.route, T.route, T.route, T.rolePolicy, T.egress, T.egress, T.ingress, T.ingress, T.ingress,
        ].sort());
        for (const k of kids) {
            expect(k.name.startsWith("acme-move-access-"), k.name).toBe(true);
            expect(k.options.protect, k.name).toBe(false);
            expect(isStateful(k.type), k.name).toBe(false);
        }
        // Security group rule descriptions take only a-z A-Z 0-9 spaces and ._-:/()#,@[]+=;{}!$* (no apostrophe).
        for (const k of kids.filter((x) => x.type === T.ingress || x.type === T.egress)) expect(k.inputs["description"], k.name).toMatch(/^[a-zA-Z0-9 ._\-:/()#,@[\]+=;{}!$*]{1,255}$/);
        // Every child that AWS tags carries the tenant's tags.
        for (const k of kids.filter((x) => x.type !== T.route && x.type !== T.rolePolicy)) expect(k.inputs["tags"], k.name).toMatchObject(TAGS);
        expect(result.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.parent !== component(result).urn && r.type !== MOVE_ACCESS_TYPE)).toEqual([]);
    });

    it("invalid arguments throw before the component or any child is registered, naming every problem", async () => {
        const bad = args({
            runner: runner({ vpcCidr: "10.0.0.0/16", subnetCidrs: ["10.9.0.0/19"], routeTableIds: [], region: "nowhere" }),
            dedicated: dedicated({ vpcCidr: "10.0.128.0/20" }),
            adminSecrets: [],
        });
        expect(moveAccessProblems(bad)).toEqual([
            "runner.region: 'nowhere' is not an AWS region (allowed: such as eu-west-1)",
            "runner.subnetCidrs: 10.9.0.0/19 is not inside the shared VPC 10.0.0.0/16",
            "runner.routeTableIds: empty (allowed: the route tables of the shared VPC's private subnets)",
            "dedicated.vpcCidr: 10.0.128.0/20 overlaps the shared VPC 10.0.0.0/16 (a peering needs distinct blocks)",
            "adminSecrets: empty (allowed: the admin secrets of the move's two placements)",
        ]);
        const result = await record(async () => {
            expect(() => new MoveAccess("acme-move-access", bad)).toThrow(/^MoveAccess acme-move-access: runner.region/);
        }, { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } });
        expect(result.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
        expect(moveAccessProblems(args())).toEqual([]);
    });
});
