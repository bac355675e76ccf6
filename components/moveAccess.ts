import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { overlaps, parseCidr } from "../tenants/cidr";

/** Type token of the component. */
export const MOVE_ACCESS_TYPE = "tenancy:network:MoveAccess";

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export interface MoveAccessArgs {
    /** Slug of the moving tenant: in rule descriptions. */
    tenant: string;
    /** The deploy runner (where `pulumi up` and `npm run move` run) and the shared VPC it runs in. */
    runner: {
        /** The runner's security group (SharedPlatform `deployRunnerSecurityGroupId`). */
        securityGroupId: pulumi.Input<string>;
        /** The shared VPC: requester of a peering. */
        vpcId: pulumi.Input<string>;
        /** CIDR of the shared VPC: what the tenant VPC routes back through a peering. */
        vpcCidr: string;
        /**
         * CIDR blocks of the shared VPC's private subnets, where the runner runs (`subnetLayout(vpcCidr, zones).private`):
         * what a dedicated instance in another region admits, security group references not crossing regions.
         */
        subnetCidrs: string[];
        /** Route tables of those subnets (Network `privateRouteTableIds`): each gets a route to a dedicated tenant's VPC. */
        routeTableIds: pulumi.Input<string>[];
        /** Region of the shared VPC (the stack's). */
        region: string;
        /**
         * Name of the IAM role the runner runs as. When set, the role gets {@link MoveAccess.runnerPolicy} as an inline
         * policy while the move is declared. Defaults to none: the program does not know the role (a CI variable), and
         * the operator grants the policy the stack exports instead (README "Moving a tenant").
         */
        roleName?: pulumi.Input<string>;
    };
    /** A hybrid placement of the move (source or target): its instance's security group, in the shared VPC. Defaults to none. */
    hybrid?: { securityGroupId: pulumi.Input<string> };
    /** A dedicated placement of the move (source or target): its own VPC and instance, in its region. Defaults to none. */
    dedicated?: {
        region: string;
        vpcId: pulumi.Input<string>;
        /** CIDR of the tenant's VPC (`network.cidr`); must not overlap the shared VPC. */
        vpcCidr: string;
        /** Route table of the tenant VPC's isolated subnets, where the instance is (Network `isolatedRouteTableId`). */
        routeTableId: pulumi.Input<string>;
        /** The instance's security group (DatabaseInstance `securityGroupId`). */
        securityGroupId: pulumi.Input<string>;
    };
    /**
     * The admin (master) secrets of the move's two placements, which the engine reads in `--env` mode: a cell's
     * `db-admin` secret, an instance's RDS-managed master secret; each with the key that encrypts it and its region.
     */
    adminSecrets: { secretArn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string>; region: string }[];
    /** Tags of every taggable child; the caller includes the tenant's ownership tags. */
    tags: Record<string, string>;
}

/** Every problem of the args, as `field: what is wrong (allowed: …)`; empty when they are valid. */
export function moveAccessProblems(args: MoveAccessArgs): string[] {
    const problems: string[] = [];
    const { runner, dedicated } = args;
    const region = (field: string, value: string) => {
        if (!REGION_PATTERN.test(value)) problems.push(`${field}: '${value}' is not an AWS region (allowed: such as eu-west-1)`);
    };
    region("runner.region", runner.region);
    const shared = parseCidr(runner.vpcCidr);
    if (!shared) problems.push(`runner.vpcCidr: ${runner.vpcCidr} is not an IPv4 CIDR block`);
    for (const text of runner.subnetCidrs) {
        const c = parseCidr(text);
        if (!c) problems.push(`runner.subnetCidrs: ${text} is not an IPv4 CIDR block`);
        else if (shared && (c.prefix < shared.prefix || !overlaps(c, shared))) problems.push(`runner.subnetCidrs: ${text} is not inside the shared VPC ${runner.vpcCidr}`);
    }
    if (runner.subnetCidrs.length === 0) problems.push("runner.subnetCidrs: empty (allowed: the CIDR blocks of the shared VPC's private subnets)");
    if (runner.routeTableIds.length === 0) problems.push("runner.routeTableIds: empty (allowed: the route tables of the shared VPC's private subnets)");
    if (dedicated) {
        region("dedicated.region", dedicated.region);
        const own = parseCidr(dedicated.vpcCidr);
        if (!own) problems.push(`dedicated.vpcCidr: ${dedicated.vpcCidr} is not an IPv4 CIDR block`);
        else if (shared && overlaps(own, shared)) problems.push(`dedicated.vpcCidr: ${dedicated.vpcCidr} overlaps the shared VPC ${runner.vpcCidr} (a peering needs distinct blocks)`);
    }
    if (args.adminSecrets.length === 0) problems.push("adminSecrets: empty (allowed: the admin secrets of the move's two placements)");
    for (const s of args.adminSecrets) region("adminSecrets.region", s.region);
    return problems;
}

/**
 * What a declared move needs beyond both placements, for the data engine (`npm run move -- --env`) that runs where
 * `pulumi up` runs: the deploy runner, in the shared VPC with its own security group. Cells admit the runner already;
 * this admits it on 5432 to a hybrid instance (security group rules in the shared VPC) and to a dedicated instance
 * (a VPC peering shared VPC ↔ tenant VPC, inter-region when the tenant lives elsewhere, routes for the other VPC's
 * block only, security group rules), and states which admin secrets the runner reads. Declared only while the move
 * is: retiring the move removes all of it. Nothing here holds data, so nothing is protected.
 */
export class MoveAccess extends pulumi.ComponentResource {
    /**
     * IAM policy (JSON) the runner needs during the move: read the two placements' admin secrets, decrypt them only
     * through Secrets Manager. Attached to `runner.roleName` when given; otherwise the operator attaches it.
     */
    readonly runnerPolicy: pulumi.Output<string>;
    /** The peering to a dedicated tenant's VPC, when there is one. */
    readonly peeringConnectionId?: pulumi.Output<string>;

    constructor(name: string, args: MoveAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = moveAccessProblems(args);
        if (problems.length) throw new Error(`MoveAccess ${name}: ${problems.join("; ")}`);
        super(MOVE_ACCESS_TYPE, name, {}, opts);
        const { runner, tags, tenant } = args;
        const child = { parent: this };
        const postgres = { ipProtocol: "tcp", fromPort: 5432, toPort: 5432 } as const;

        if (args.hybrid) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-hybrid-from-runner`, {
                securityGroupId: args.hybrid.securityGroupId, referencedSecurityGroupId: runner.securityGroupId, ...postgres,
                description: `PostgreSQL from the deploy runner while ${tenant} moves`, region: runner.region, tags,
            }, child);
            new aws.vpc.SecurityGroupEgressRule(`${name}-runner-to-hybrid`, {
                securityGroupId: runner.securityGroupId, referencedSecurityGroupId: args.hybrid.securityGroupId, ...postgres,
                description: `PostgreSQL to the hybrid instance of ${tenant} while it moves`, region: runner.region, tags,
            }, child);
        }

        const dedicated = args.dedicated;
        if (dedicated) {
            const sameRegion = dedicated.region === runner.region;
            // Requester in the shared VPC's region; the tenant's side accepts in its own (an inter-region request
            // cannot be auto-accepted by its requester). One account, so no peerOwnerId.
            const peering = new aws.ec2.VpcPeeringConnection(`${name}-peering`, {
                vpcId: runner.vpcId,
                peerVpcId: dedicated.vpcId,
                ...(sameRegion ? {} : { peerRegion: dedicated.region }),
                region: runner.region,
                tags: { ...tags, Name: `${name}-peering` },
            }, child);
            // The same tags on both sides: in one region both resources manage the same connection's tags.
            const accepter = new aws.ec2.VpcPeeringConnectionAccepter(`${name}-peering-accept`, {
                vpcPeeringConnectionId: peering.id,
                autoAccept: true,
                region: dedicated.region,
                tags: { ...tags, Name: `${name}-peering` },
            }, child);
            // Routes and rules through the peering need it active.
            const afterAccept = { parent: this, dependsOn: [accepter] };
            runner.routeTableIds.forEach((routeTableId, i) => new aws.ec2.Route(`${name}-route-to-tenant-${i}`, {
                routeTableId, destinationCidrBlock: dedicated.vpcCidr, vpcPeeringConnectionId: peering.id, region: runner.region,
            }, afterAccept));
            new aws.ec2.Route(`${name}-route-to-shared`, {
                routeTableId: dedicated.routeTableId, destinationCidrBlock: runner.vpcCidr, vpcPeeringConnectionId: peering.id, region: dedicated.region,
            }, afterAccept);
            const into = { securityGroupId: dedicated.securityGroupId, ...postgres, description: `PostgreSQL from the deploy runner while ${tenant} moves`, region: dedicated.region, tags };
            const out = { securityGroupId: runner.securityGroupId, ...postgres, description: `PostgreSQL to the dedicated instance of ${tenant} while it moves`, region: runner.region, tags };
            if (sameRegion) {
                // Same region: security groups can name each other across the peering, the tightest rule.
                new aws.vpc.SecurityGroupIngressRule(`${name}-dedicated-from-runner`, { ...into, referencedSecurityGroupId: runner.securityGroupId }, afterAccept);
                new aws.vpc.SecurityGroupEgressRule(`${name}-runner-to-dedicated`, { ...out, referencedSecurityGroupId: dedicated.securityGroupId }, afterAccept);
            } else {
                // References do not cross regions: the runner's subnets by CIDR. The shared app in those subnets cannot
                // use the path: its own egress on 5432 is limited to the shared VPC's block.
                runner.subnetCidrs.forEach((cidr, i) => new aws.vpc.SecurityGroupIngressRule(`${name}-dedicated-from-runner-${i}`, { ...into, cidrIpv4: cidr }, afterAccept));
                new aws.vpc.SecurityGroupEgressRule(`${name}-runner-to-dedicated`, { ...out, cidrIpv4: dedicated.vpcCidr }, afterAccept);
            }
            this.peeringConnectionId = peering.id;
        }

        this.runnerPolicy = runnerPolicyDocument(args.adminSecrets, child);
        if (runner.roleName !== undefined) {
            new aws.iam.RolePolicy(`${name}-runner-secrets`, { role: runner.roleName, policy: this.runnerPolicy }, child);
        }
        this.registerOutputs({ runnerPolicy: this.runnerPolicy, peeringConnectionId: this.peeringConnectionId });
    }
}

/** The runner's policy: GetSecretValue on exactly the admin secrets, Decrypt of their keys only through Secrets Manager of their region. */
function runnerPolicyDocument(secrets: MoveAccessArgs["adminSecrets"], opts: pulumi.InvokeOptions): pulumi.Output<string> {
    const regions = [...new Set(secrets.map((s) => s.region))].sort();
    return aws.iam.getPolicyDocumentOutput({
        statements: [
            { sid: "ReadMoveAdminSecrets", actions: ["secretsmanager:GetSecretValue"], resources: secrets.map((s) => s.secretArn) },
            ...regions.map((region) => ({
                sid: `DecryptThemThroughSecretsManager${region.replace(/-/g, "").replace(/^./, (c) => c.toUpperCase())}`,
                actions: ["kms:Decrypt"],
                resources: secrets.filter((s) => s.region === region).map((s) => s.kmsKeyArn),
                conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [`secretsmanager.${region}.amazonaws.com`] }],
            })),
        ],
    }, opts).json;
}
