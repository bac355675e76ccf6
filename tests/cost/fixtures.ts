/** Fixture plans for the cost estimator: hand-made resource graphs, so each test states exactly what it prices. */
import type { CostInputPlan, CostInputResource, CostInputTenant } from "../../cost/estimate";

let counter = 0;

/** A recorded resource as the plan keeps it. */
export function res(type: string, name: string, inputs: Record<string, unknown> = {}, opts: Partial<CostInputResource> = {}): CostInputResource {
    counter++;
    return {
        urn: opts.urn ?? `urn:pulumi:${opts.stack ?? "test"}::tenancy::${type}::${name}-${counter}`,
        stack: opts.stack ?? "test",
        type,
        name,
        parent: opts.parent ?? null,
        custom: opts.custom ?? true,
        provider: opts.provider ?? null,
        tenant: opts.tenant ?? null,
        inputs,
    };
}

export const tenant = (slug: string, tier: string, extra: Partial<CostInputTenant> = {}): CostInputTenant => ({ slug, tier, status: "active", cell: tier === "shared" ? "main" : null, ...extra });

export const planOf = (tenants: CostInputTenant[], resources: CostInputResource[], region = "us-east-1"): CostInputPlan => ({ region, tenants, resources });

/**
 * The resources of a dedicated tenant of size medium in eu-central-1 (its resources carry `region`, as the program
 * declares them with AWS v7's per-resource region): Multi-AZ db.r6g.large with 100 GB gp3, two Fargate tasks of 1 vCPU
 * and 2 GB, an internet-facing ALB over two AZs, two NAT gateways with their EIPs, a KMS key, three secrets, two log
 * groups, the ALB's log bucket, the role manager's Lambda function, and free network plumbing.
 */
export function dedicatedTenant(slug: string, region = "eu-central-1"): CostInputResource[] {
    const t = { tenant: slug };
    const rg = { region };
    return [
        res("tenancy:tenant:Tenant", slug, {}, { ...t, custom: false }),
        res("aws:ec2/vpc:Vpc", `${slug}-dedicated-net-vpc`, { cidrBlock: "10.40.0.0/16", ...rg }, t),
        res("aws:ec2/subnet:Subnet", `${slug}-dedicated-net-public-0`, rg, t),
        res("aws:rds/instance:Instance", `${slug}-dedicated-db-instance`, {
            identifier: `tenancy-test-dedicated-${slug}`, instanceClass: "db.r6g.large", multiAz: true, allocatedStorage: 100,
            maxAllocatedStorage: 500, storageType: "gp3", engine: "postgres", ...rg,
            tags: { "tenancy:tenant": slug, "tenancy:tier": "dedicated" },
        }, t),
        res("aws:ecs/taskDefinition:TaskDefinition", `${slug}-dedicated-app-task`, {
            family: `${slug}-dedicated-app`, cpu: "1024", memory: "2048", runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" }, ...rg,
        }, t),
        res("aws:ecs/service:Service", `${slug}-dedicated-app-service`, {
            desiredCount: 2, launchType: "FARGATE", taskDefinition: `arn:aws:ecs:${region}:123456789012:task-definition/${slug}-dedicated-app:1`, ...rg,
        }, t),
        res("aws:lb/loadBalancer:LoadBalancer", `${slug}-dedicated-alb-alb`, { loadBalancerType: "application", internal: false, subnets: ["subnet-a", "subnet-b"], ...rg }, t),
        res("aws:lb/listener:Listener", `${slug}-dedicated-alb-https`, rg, t),
        res("aws:ec2/natGateway:NatGateway", `${slug}-dedicated-net-nat-0`, rg, t),
        res("aws:ec2/natGateway:NatGateway", `${slug}-dedicated-net-nat-1`, rg, t),
        res("aws:ec2/eip:Eip", `${slug}-dedicated-net-nat-0`, { domain: "vpc", ...rg }, t),
        res("aws:ec2/eip:Eip", `${slug}-dedicated-net-nat-1`, { domain: "vpc", ...rg }, t),
        res("aws:kms/key:Key", `${slug}-dedicated-kms-key`, rg, t),
        res("aws:secretsmanager/secret:Secret", `${slug}-dedicated-roles-db-owner`, rg, t),
        res("aws:secretsmanager/secret:Secret", `${slug}-dedicated-roles-db-runtime`, rg, t),
        res("aws:secretsmanager/secret:Secret", `${slug}-dedicated-app-secret`, rg, t),
        res("aws:secretsmanager/secretVersion:SecretVersion", `${slug}-dedicated-app-secret-version`, rg, t),
        res("aws:cloudwatch/logGroup:LogGroup", `${slug}-dedicated-app-logs`, { retentionInDays: 30, ...rg }, t),
        res("aws:cloudwatch/logGroup:LogGroup", `${slug}-dedicated-net-flow-logs`, { retentionInDays: 30, ...rg }, t),
        res("aws:s3/bucket:Bucket", `${slug}-dedicated-alb-logs`, rg, t),
        res("aws:s3/bucketPolicy:BucketPolicy", `${slug}-dedicated-alb-logs-policy`, rg, t),
        res("aws:lambda/function:Function", `${slug}-dedicated-roles-fn`, { memorySize: 256, ...rg }, t),
        res("aws:iam/role:Role", `${slug}-dedicated-app-task`, {}, t),
        res("postgresql:index/role:Role", `${slug}-dedicated-roles-runtime`, { connectionLimit: 20 }, t),
    ];
}
