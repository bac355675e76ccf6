import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { parseCidr, subnetCidrs } from "../tenants/cidr";

export type NatGatewayMode = "single" | "perAz";

/** An AZ ID: region code abbreviation, `-az`, number (`use1-az1`, `apse2-az3`, `usgw1-az2`). */
export const AZ_ID_PATTERN = /^[a-z]{2,}[0-9]+-az[0-9]+$/;

export interface NetworkArgs {
    /** IPv4 block of the VPC, /16 to /24 (see {@link subnetLayout} for how it is split). */
    cidr: string;
    /**
     * Availability zones the VPC spans, by AZ ID (`use1-az1`, the same physical zone in every account): 2 or 3, in subnet
     * order. Each gets one public, one private and one isolated subnet. Pinned rather than looked up, so an AZ event (a
     * zone leaving the "available" list) never shifts the list and replaces subnets and the databases in them.
     */
    availabilityZoneIds: string[];
    /** One NAT gateway for the whole VPC (`single`, cheaper) or one per AZ (`perAz`, survives an AZ outage). */
    natGateways: NatGatewayMode;
    /** AWS v7 per-resource region. Defaults to the provider's region. */
    region?: string;
    /** Customer-managed KMS key (ARN) that encrypts the flow-log group; its policy must allow CloudWatch Logs. */
    kmsKeyArn: pulumi.Input<string>;
    /** Retention of the flow-log group, in days (a CloudWatch retention period). */
    logRetentionDays: number;
    /** Tags on every taggable resource; a `Name` tag is added where the console shows it. */
    tags: Record<string, string>;
}

/** Subnet blocks of one VPC, per tier, in AZ order. */
export interface SubnetLayout {
    public: string[];
    private: string[];
    isolated: string[];
}

/**
 * The subnet blocks of a VPC. The VPC is split in eighths: public subnets take eighths 0-2, private
 * ("app") subnets eighths 3-5, and isolated ("database") subnets the sixteenths 12-14. A /24 thus gets
 * /27 public subnets, the smallest an ALB accepts, and /28 isolated ones, the AWS minimum; a /16 gets
 * /19 and /20. Blocks of the third AZ are reserved even with two AZs, so adding an AZ moves nothing.
 */
export function subnetLayout(cidr: string, availabilityZones: number): SubnetLayout {
    const c = parseCidr(cidr);
    if (!c) throw new Error(`network cidr: ${cidr} is not an IPv4 CIDR block (allowed: a private /16 to /24)`);
    if (c.prefix < 16 || c.prefix > 24) throw new Error(`network cidr: /${c.prefix} is not allowed (allowed: /16 to /24)`);
    if (availabilityZones !== 2 && availabilityZones !== 3) {
        throw new Error(`network availabilityZones: ${availabilityZones} is not allowed (allowed: 2, 3)`);
    }
    return {
        public: subnetCidrs(cidr, 3, 0, availabilityZones),
        private: subnetCidrs(cidr, 3, 3, availabilityZones),
        isolated: subnetCidrs(cidr, 4, 12, availabilityZones),
    };
}

/**
 * A VPC over 2 or 3 AZs with public, private (NAT egress) and isolated (no internet route) subnets,
 * encrypted flow logs of all traffic, and the default security group closed.
 */
export class Network extends pulumi.ComponentResource {
    readonly vpc: aws.ec2.Vpc;
    readonly vpcId: pulumi.Output<string>;
    readonly cidr: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string>[];
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly isolatedSubnetIds: pulumi.Output<string>[];
    /** Route tables of the private subnets, one per AZ in subnet order (a move's peering routes, components/moveAccess.ts). */
    readonly privateRouteTableIds: pulumi.Output<string>[];
    /** The isolated subnets' route table (databases live there). */
    readonly isolatedRouteTableId: pulumi.Output<string>;
    /** This account's names of the AZs used, in subnet order (as the subnets report them). */
    readonly availabilityZones: pulumi.Output<string[]>;
    /** The AZ IDs used, in subnet order. */
    readonly availabilityZoneIds: string[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything is registered: a bad layout must not leave a half-built component.
        const zoneIds = args.availabilityZoneIds;
        if (zoneIds.length !== 2 && zoneIds.length !== 3) {
            throw new Error(`network availabilityZoneIds: ${zoneIds.length} given (allowed: 2 or 3 AZ IDs)`);
        }
        const layout = subnetLayout(args.cidr, zoneIds.length);
        const badId = zoneIds.find((id) => !AZ_ID_PATTERN.test(id));
        if (badId !== undefined) throw new Error(`network availabilityZoneIds: '${badId}' is not an AZ ID (allowed: such as use1-az1)`);
        const dupId = zoneIds.find((id, i) => zoneIds.indexOf(id) !== i);
        if (dupId !== undefined) throw new Error(`network availabilityZoneIds: ${dupId} is listed twice (allowed: distinct AZ IDs)`);
        if (args.natGateways !== "single" && args.natGateways !== "perAz") {
            throw new Error(`network natGateways: ${String(args.natGateways)} is not allowed (allowed: single, perAz)`);
        }
        if (!Number.isInteger(args.logRetentionDays) || args.logRetentionDays < 1) {
            throw new Error(`network logRetentionDays: ${args.logRetentionDays} is not allowed (allowed: a CloudWatch retention period in days)`);
        }
        super("tenancy:network:Network", name, {}, opts);

        const region = args.region;
        const count = zoneIds.length;
        const parent = { parent: this };
        const named = (n: string) => ({ ...args.tags, Name: n });

        this.vpc = new aws.ec2.Vpc(
            `${name}-vpc`,
            { cidrBlock: args.cidr, enableDnsSupport: true, enableDnsHostnames: true, region, tags: named(`${name}-vpc`) },
            parent,
        );
        const vpcId = this.vpc.id;

        // No rules at all: resources must use their own security groups, never the default one.
        new aws.ec2.DefaultSecurityGroup(
            `${name}-default-sg`,
            { vpcId, ingress: [], egress: [], region, tags: named(`${name}-default-closed`) },
            parent,
        );

        const subnets = (tier: "public" | "private" | "isolated", blocks: string[]) =>
            blocks.map(
                (cidrBlock, i) =>
                    new aws.ec2.Subnet(
                        `${name}-${tier}-${i}`,
                        {
                            vpcId,
                            cidrBlock,
                            availabilityZoneId: zoneIds[i]!,
                            // Nothing here needs a public address: ALBs and NAT gateways get theirs explicitly.
                            mapPublicIpOnLaunch: false,
                            region,
                            tags: named(`${name}-${tier}-${i}`),
                        },
                        parent,
                    ),
            );
        const publicSubnets = subnets("public", layout.public);
        const privateSubnets = subnets("private", layout.private);
        const isolatedSubnets = subnets("isolated", layout.isolated);

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId, region, tags: named(`${name}-igw`) }, parent);
        const publicRt = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId, region, tags: named(`${name}-public`) }, parent);
        new aws.ec2.Route(
            `${name}-public-default`,
            { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id, region },
            parent,
        );
        publicSubnets.forEach(
            (s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: s.id, routeTableId: publicRt.id, region }, parent),
        );

        const natCount = args.natGateways === "perAz" ? count : 1;
        const nats = Array.from({ length: natCount }, (_, i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", region, tags: named(`${name}-nat-${i}`) }, parent);
            return new aws.ec2.NatGateway(
                `${name}-nat-${i}`,
                { allocationId: eip.id, subnetId: publicSubnets[i]!.id, connectivityType: "public", region, tags: named(`${name}-nat-${i}`) },
                { parent: this, dependsOn: [igw] },
            );
        });

        // One table per AZ even with a single NAT, so switching to perAz only changes routes.
        const privateRts = privateSubnets.map((s, i) => {
            const rt = new aws.ec2.RouteTable(`${name}-private-rt-${i}`, { vpcId, region, tags: named(`${name}-private-${i}`) }, parent);
            new aws.ec2.Route(
                `${name}-private-default-${i}`,
                { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nats[Math.min(i, natCount - 1)]!.id, region },
                parent,
            );
            new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: s.id, routeTableId: rt.id, region }, parent);
            return rt;
        });

        // Explicit table with only the implicit local route, rather than relying on the (mutable) main table.
        const isolatedRt = new aws.ec2.RouteTable(`${name}-isolated-rt`, { vpcId, region, tags: named(`${name}-isolated`) }, parent);
        isolatedSubnets.forEach(
            (s, i) => new aws.ec2.RouteTableAssociation(`${name}-isolated-${i}`, { subnetId: s.id, routeTableId: isolatedRt.id, region }, parent),
        );

        this.createFlowLogs(name, args, vpcId);

        this.vpcId = vpcId;
        this.cidr = this.vpc.cidrBlock;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.isolatedSubnetIds = isolatedSubnets.map((s) => s.id);
        this.privateRouteTableIds = privateRts.map((rt) => rt.id);
        this.isolatedRouteTableId = isolatedRt.id;
        // AZ names differ per account (use1-az1 is us-east-1a in one, -1c in another): read them from the subnets.
        this.availabilityZones = pulumi.all(isolatedSubnets.map((s) => s.availabilityZone));
        this.availabilityZoneIds = [...zoneIds];
        this.registerOutputs({
            vpcId: this.vpcId,
            cidr: this.cidr,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            isolatedSubnetIds: this.isolatedSubnetIds,
            availabilityZones: this.availabilityZones,
            availabilityZoneIds: this.availabilityZoneIds,
        });
    }

    /** Flow logs of all traffic into a KMS-encrypted log group, written by a role only the VPC Flow Logs service of this account can assume. */
    private createFlowLogs(name: string, args: NetworkArgs, vpcId: pulumi.Output<string>): void {
        const parent = { parent: this };
        const region = args.region;
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;
        const effectiveRegion = region ?? aws.getRegionOutput({}, parent).region;

        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-flow-logs`,
            { kmsKeyId: args.kmsKeyArn, retentionInDays: args.logRetentionDays, region, tags: args.tags },
            parent,
        );
        const trust = aws.iam.getPolicyDocumentOutput(
            {
                statements: [
                    {
                        actions: ["sts:AssumeRole"],
                        principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
                        conditions: [
                            { test: "StringEquals", variable: "aws:SourceAccount", values: [account] },
                            {
                                test: "ArnLike",
                                variable: "aws:SourceArn",
                                values: [pulumi.interpolate`arn:${partition}:ec2:${effectiveRegion}:${account}:vpc-flow-log/*`],
                            },
                        ],
                    },
                ],
            },
            parent,
        );
        const role = new aws.iam.Role(`${name}-flow-logs`, { assumeRolePolicy: trust.json, tags: args.tags }, parent);
        const write = aws.iam.getPolicyDocumentOutput(
            {
                statements: [
                    {
                        sid: "WriteFlowLogsToThisGroupOnly",
                        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        resources: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
                    },
                ],
            },
            parent,
        );
        const rolePolicy = new aws.iam.RolePolicy(`${name}-flow-logs`, { role: role.id, policy: write.json }, parent);
        new aws.ec2.FlowLog(
            `${name}-flow-log`,
            {
                vpcId,
                trafficType: "ALL",
                logDestinationType: "cloud-watch-logs",
                logDestination: logGroup.arn,
                iamRoleArn: role.arn,
                region,
                tags: { ...args.tags, Name: `${name}-flow-log` },
            },
            // The role must be able to write before the first delivery attempt.
            { parent: this, dependsOn: [rolePolicy] },
        );
    }
}
