import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { Network, NetworkArgs, subnetLayout } from "../../components/network";
import { MOCK_ACCOUNT_ID, RecordResult, RecordedResource, awaitOutput, ofType, record } from "../../engine/recorder";

const KEY = `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/flow-logs`;
const BASE: NetworkArgs = {
    cidr: "10.20.0.0/16",
    availabilityZoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
    natGateways: "perAz",
    region: "eu-west-1",
    kmsKeyArn: KEY,
    logRetentionDays: 90,
    tags: { "tenancy:tenant": "acme" },
};

interface Run {
    result: RecordResult;
    outputs: {
        vpcId: string;
        cidr: string;
        publicSubnetIds: string[];
        privateSubnetIds: string[];
        isolatedSubnetIds: string[];
        availabilityZones: string[];
        privateRouteTableIds: string[];
        isolatedRouteTableId: string;
    };
}

/** Records a stack holding one Network named `net` and resolves its outputs. */
async function run(overrides: Partial<NetworkArgs> = {}): Promise<Run> {
    let net: Network | undefined;
    const result = await record(
        async () => {
            net = new Network("net", { ...BASE, ...overrides });
        },
        {
            project: "tenancy",
            stack: "test",
            config: { "aws:region": "us-east-1" },
            // Zones are pinned by ID: a lookup of "available" zones (which shifts during an AZ event) must not happen.
            invokes: {
                "aws:index/getAvailabilityZones:getAvailabilityZones": () => {
                    throw new Error("Network must not look up availability zones");
                },
            },
        },
    );
    const n = net!;
    const outputs = await awaitOutput(pulumi.output({
        vpcId: n.vpcId,
        cidr: n.cidr,
        publicSubnetIds: n.publicSubnetIds,
        privateSubnetIds: n.privateSubnetIds,
        isolatedSubnetIds: n.isolatedSubnetIds,
        availabilityZones: n.availabilityZones,
        privateRouteTableIds: n.privateRouteTableIds,
        isolatedRouteTableId: n.isolatedRouteTableId,
    }));
    return { result, outputs };
}

const byName = (rs: RecordedResource[], name: string) => {
    const found = rs.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}`);
    return found;
};
const policy = (r: RecordedResource, key: string) =>
    JSON.parse(r.inputs[key] as string) as { Statement: Record<string, unknown>[] };

describe("subnetLayout", () => {
    test("a /16 is split into /19 public and private and /20 isolated subnets, tiers never overlapping", () => {
        expect(subnetLayout("10.20.0.0/16", 3)).toEqual({
            public: ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"],
            private: ["10.20.96.0/19", "10.20.128.0/19", "10.20.160.0/19"],
            isolated: ["10.20.192.0/20", "10.20.208.0/20", "10.20.224.0/20"],
        });
    });

    test("a /24 still gets /27 public subnets (the smallest an ALB accepts) and /28 isolated ones (the AWS minimum)", () => {
        expect(subnetLayout("192.168.7.0/24", 3)).toEqual({
            public: ["192.168.7.0/27", "192.168.7.32/27", "192.168.7.64/27"],
            private: ["192.168.7.96/27", "192.168.7.128/27", "192.168.7.160/27"],
            isolated: ["192.168.7.192/28", "192.168.7.208/28", "192.168.7.224/28"],
        });
    });

    test("two AZs use exactly the blocks of the first two of three, so adding an AZ later moves no subnet", () => {
        const two = subnetLayout("10.30.0.0/20", 2);
        const three = subnetLayout("10.30.0.0/20", 3);
        expect(two.public).toEqual(three.public.slice(0, 2));
        expect(two.private).toEqual(three.private.slice(0, 2));
        expect(two.isolated).toEqual(three.isolated.slice(0, 2));
    });

    test("VPCs outside /16 to /24 and AZ counts other than 2 or 3 are rejected with the allowed values", () => {
        expect(() => subnetLayout("10.0.0.0/25", 2)).toThrow("allowed: /16 to /24");
        expect(() => subnetLayout("10.0.0.0/15", 2)).toThrow("allowed: /16 to /24");
        expect(() => subnetLayout("10.0.0.0/16", 4)).toThrow("allowed: 2, 3");
        expect(() => subnetLayout("10.0.0.300/16", 2)).toThrow("not an IPv4 CIDR");
    });
});

describe("Network", () => {
    test("each tier has one subnet per pinned AZ ID, in the given order, with the layout's blocks and no public IPs", async () => {
        const { result, outputs } = await run({ availabilityZoneIds: ["euw1-az3", "euw1-az1"], cidr: "10.40.0.0/22" });
        const subnets = ofType(result, "aws:ec2/subnet:Subnet");
        expect(subnets).toHaveLength(6);
        const layout = subnetLayout("10.40.0.0/22", 2);
        for (const tier of ["public", "private", "isolated"] as const) {
            const tierSubnets = [0, 1].map((i) => byName(subnets, `net-${tier}-${i}`));
            expect(tierSubnets.map((s) => s.inputs["cidrBlock"])).toEqual(layout[tier]);
            // By ID, never by name: names differ per account, and a name list looked up at deploy time can shift.
            expect(tierSubnets.map((s) => s.inputs["availabilityZoneId"])).toEqual(["euw1-az3", "euw1-az1"]);
            expect(tierSubnets.map((s) => s.inputs["availabilityZone"])).toEqual([undefined, undefined]);
        }
        expect(subnets.every((s) => s.inputs["mapPublicIpOnLaunch"] === false)).toBe(true);
        // This account's names, as the subnets report them (the mock names azN by its number).
        expect(outputs.availabilityZones).toEqual(["eu-west-1c", "eu-west-1a"]);
        expect(outputs.publicSubnetIds).toEqual([0, 1].map((i) => byName(subnets, `net-public-${i}`).id));
        expect(outputs.privateSubnetIds).toEqual([0, 1].map((i) => byName(subnets, `net-private-${i}`).id));
        expect(outputs.isolatedSubnetIds).toEqual([0, 1].map((i) => byName(subnets, `net-isolated-${i}`).id));
        expect(outputs.cidr).toBe("10.40.0.0/22");
    });

    test("the private route tables (one per AZ, in AZ order) and the isolated one are outputs: a move's peering routes go there", async () => {
        const { result, outputs } = await run({ availabilityZoneIds: ["euw1-az3", "euw1-az1"] });
        expect(outputs.privateRouteTableIds).toEqual([0, 1].map((i) => byName(result.resources, `net-private-rt-${i}`).id));
        expect(outputs.isolatedRouteTableId).toBe(byName(result.resources, "net-isolated-rt").id);
    });

    test("the VPC has DNS support and DNS hostnames on, and its id is the vpcId output", async () => {
        const { result, outputs } = await run();
        const [vpc] = ofType(result, "aws:ec2/vpc:Vpc");
        expect(vpc!.inputs).toMatchObject({ cidrBlock: "10.20.0.0/16", enableDnsSupport: true, enableDnsHostnames: true });
        expect(outputs.vpcId).toBe(vpc!.id);
    });

    test("perAz: one NAT gateway with its own VPC EIP in each public subnet, each AZ's private subnets routed to their own NAT", async () => {
        const { result } = await run({ natGateways: "perAz" });
        const nats = ofType(result, "aws:ec2/natGateway:NatGateway");
        const eips = ofType(result, "aws:ec2/eip:Eip");
        const subnets = ofType(result, "aws:ec2/subnet:Subnet");
        expect(nats).toHaveLength(3);
        expect(eips.map((e) => e.inputs["domain"])).toEqual(["vpc", "vpc", "vpc"]);
        expect(nats.map((n) => n.inputs["subnetId"])).toEqual([0, 1, 2].map((i) => byName(subnets, `net-public-${i}`).id));
        expect(new Set(nats.map((n) => n.inputs["allocationId"]))).toEqual(new Set(eips.map((e) => e.id)));
        for (const i of [0, 1, 2]) {
            const route = byName(result.resources, `net-private-default-${i}`);
            expect(route.inputs["natGatewayId"]).toBe(byName(nats, `net-nat-${i}`).id);
            expect(route.inputs["routeTableId"]).toBe(byName(result.resources, `net-private-rt-${i}`).id);
        }
    });

    test("single: one NAT gateway in the first public subnet, and every AZ's private route table routes to it", async () => {
        const { result } = await run({ natGateways: "single" });
        const nats = ofType(result, "aws:ec2/natGateway:NatGateway");
        expect(nats).toHaveLength(1);
        expect(ofType(result, "aws:ec2/eip:Eip")).toHaveLength(1);
        expect(nats[0]!.inputs["subnetId"]).toBe(byName(result.resources, "net-public-0").id);
        const privateRoutes = ofType(result, "aws:ec2/route:Route").filter((r) => r.name.startsWith("net-private-default-"));
        expect(privateRoutes).toHaveLength(3);
        expect(privateRoutes.every((r) => r.inputs["natGatewayId"] === nats[0]!.id)).toBe(true);
    });

    test("public subnets route 0.0.0.0/0 to the internet gateway; isolated subnets have no route out at all", async () => {
        const { result } = await run();
        const igw = ofType(result, "aws:ec2/internetGateway:InternetGateway")[0]!;
        const publicRt = byName(result.resources, "net-public-rt");
        const isolatedRt = byName(result.resources, "net-isolated-rt");
        const routes = ofType(result, "aws:ec2/route:Route");
        expect(routes.filter((r) => r.inputs["routeTableId"] === publicRt.id).map((r) => r.inputs)).toEqual([
            expect.objectContaining({ destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }),
        ]);
        expect(routes.filter((r) => r.inputs["routeTableId"] === isolatedRt.id)).toEqual([]);
        expect(isolatedRt.inputs["routes"]).toBeUndefined();
        const associations = ofType(result, "aws:ec2/routeTableAssociation:RouteTableAssociation");
        const isolatedIds = [0, 1, 2].map((i) => byName(ofType(result, "aws:ec2/subnet:Subnet"), `net-isolated-${i}`).id);
        for (const id of isolatedIds) {
            expect(associations.find((a) => a.inputs["subnetId"] === id)?.inputs["routeTableId"]).toBe(isolatedRt.id);
        }
        // Every subnet is associated explicitly, none falls back to the main route table.
        expect(associations).toHaveLength(9);
    });

    test("the VPC's default security group is taken over with no ingress and no egress rules", async () => {
        const { result } = await run();
        const [sg] = ofType(result, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
        expect(sg!.inputs["vpcId"]).toBe(ofType(result, "aws:ec2/vpc:Vpc")[0]!.id);
        expect(sg!.inputs["ingress"]).toEqual([]);
        expect(sg!.inputs["egress"]).toEqual([]);
    });

    test("flow logs of ALL traffic go to a log group encrypted with the given key and kept logRetentionDays", async () => {
        const { result } = await run();
        const [flowLog] = ofType(result, "aws:ec2/flowLog:FlowLog");
        const [group] = ofType(result, "aws:cloudwatch/logGroup:LogGroup");
        expect(group!.inputs).toMatchObject({ kmsKeyId: KEY, retentionInDays: 90 });
        expect(flowLog!.inputs).toMatchObject({
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: group!.outputs["arn"],
            vpcId: ofType(result, "aws:ec2/vpc:Vpc")[0]!.id,
        });
    });

    test("the flow-log role is assumable only by VPC Flow Logs of this account and may only write to its log group", async () => {
        const { result } = await run();
        const [role] = ofType(result, "aws:iam/role:Role");
        const [rolePolicy] = ofType(result, "aws:iam/rolePolicy:RolePolicy");
        const [flowLog] = ofType(result, "aws:ec2/flowLog:FlowLog");
        const groupArn = ofType(result, "aws:cloudwatch/logGroup:LogGroup")[0]!.outputs["arn"];
        expect(flowLog!.inputs["iamRoleArn"]).toBe(role!.outputs["arn"]);
        expect(flowLog!.options.dependsOn).toContain(rolePolicy!.urn);
        const trust = policy(role!, "assumeRolePolicy").Statement;
        expect(trust).toHaveLength(1);
        expect(trust[0]).toMatchObject({
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Principal: { Service: "vpc-flow-logs.amazonaws.com" },
            Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } },
        });
        expect(rolePolicy!.inputs["role"]).toBe(role!.id);
        const statements = policy(rolePolicy!, "policy").Statement;
        expect(statements).toEqual([
            expect.objectContaining({
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [groupArn, `${groupArn}:*`],
            }),
        ]);
    });

    test("every regional child gets the tenant's region (no extra provider needed); IAM, being global, gets none", async () => {
        const { result } = await run({ region: "ap-southeast-2", availabilityZoneIds: ["apse2-az1", "apse2-az2", "apse2-az3"] });
        const custom = result.resources.filter((r) => r.custom);
        const [regional, global] = [custom.filter((r) => !r.type.startsWith("aws:iam/")), custom.filter((r) => r.type.startsWith("aws:iam/"))];
        expect(regional.length).toBeGreaterThan(30);
        expect(regional.filter((r) => r.inputs["region"] !== "ap-southeast-2").map((r) => r.name)).toEqual([]);
        expect(global.every((r) => r.inputs["region"] === undefined)).toBe(true);
        expect(custom.every((r) => r.provider === null)).toBe(true);
        expect(ofType(result, "aws:ec2/subnet:Subnet").map((s) => s.inputs["availabilityZoneId"])).toContain("apse2-az3");
    });

    test("every child is parented to the component, named after it, and carries the tags (with a Name where AWS shows one)", async () => {
        const { result } = await run();
        const component = ofType(result, "tenancy:network:Network")[0]!;
        const children = result.resources.filter((r) => r.parent === component.urn);
        expect(children).toHaveLength(result.resources.length - 2);
        expect(children.filter((r) => !r.name.startsWith("net-")).map((r) => r.name)).toEqual([]);
        for (const type of ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable"]) {
            for (const r of ofType(result, type)) expect(r.inputs["tags"]).toEqual({ "tenancy:tenant": "acme", Name: expect.stringMatching(/^net-/) });
        }
        const untaggable = new Set(["aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:iam/rolePolicy:RolePolicy"]);
        for (const r of children.filter((c) => !untaggable.has(c.type))) expect(r.inputs["tags"]).toMatchObject({ "tenancy:tenant": "acme" });
    });

    test("invalid arguments throw before the component or any child is registered", async () => {
        for (const bad of [
            { cidr: "10.0.0.0/25" },
            { availabilityZoneIds: ["euw1-az1", "euw1-az2", "euw1-az3", "euw1-az4"] },
            { availabilityZoneIds: ["euw1-az1", "eu-west-1b"] },
            { availabilityZoneIds: ["euw1-az1", "euw1-az1"] },
            { natGateways: "none" as never },
            { logRetentionDays: 0 },
        ]) {
            const result = await record(
                async () => {
                    expect(() => new Network("net", { ...BASE, ...bad })).toThrow(/^network /);
                },
                { project: "tenancy", stack: "test" },
            );
            expect(result.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
        }
    });
});
