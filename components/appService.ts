import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fargateSizeProblem as fargateTaskSizeProblem } from "../model/fargate";

/** Name of the app container in the task definition (and in the service's load-balancer mapping). */
export const CONTAINER_NAME = "app";

/** The non-root user the container runs as. */
export const CONTAINER_USER = "1000";

/** Environment variable names that must come from Secrets Manager, never from plain `environment`. */
export const SECRET_LOOKING_NAME = /(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL)/i;

export interface AppServiceAutoscaling {
    /** Fewest running tasks. */
    min: number;
    /** Most running tasks. */
    max: number;
    /** Average CPU utilization the service is scaled to hold, in percent. Defaults to 60. */
    cpuTargetPercent?: number;
}

export interface AppServiceArgs {
    /** ECS cluster (ARN) the service runs in. */
    clusterArn: pulumi.Input<string>;
    /** VPC of the service's security group. */
    vpcId: pulumi.Input<string>;
    /** CIDR of that VPC: the only destination for PostgreSQL (5432) traffic. */
    vpcCidr: string;
    /** Private subnets the tasks run in; tasks never get a public IP. */
    subnetIds: pulumi.Input<string>[];
    /** AWS v7 per-resource region of every regional resource here. Defaults to the provider's region. */
    region?: string;
    /** Container image, ideally pinned by digest. */
    image: pulumi.Input<string>;
    /** Fargate task CPU units (256 … 16384). */
    cpu: number;
    /** Fargate task memory in MiB; must be valid for `cpu` (see {@link fargateSizeProblem}). */
    memory: number;
    /** Tasks to run; 0 suspends the service (and its autoscaling). */
    desiredCount: number;
    /**
     * Target-tracking autoscaling on average CPU. `desiredCount` must lie within [min, max] unless it is 0. When set,
     * Pulumi stops managing the service's desired count. Defaults to none (a fixed `desiredCount`).
     */
    autoscaling?: AppServiceAutoscaling;
    /** Port the app listens on, 1024-65535 (the container runs as a non-root user). */
    containerPort: number;
    /** Target group (type `ip`) the tasks register with. */
    targetGroupArn: pulumi.Input<string>;
    /** Security group of the load balancer: the only source allowed to reach `containerPort`. */
    loadBalancerSecurityGroupId: pulumi.Input<string>;
    /** Plain, non-secret environment variables. Names that look like secrets are rejected: use `secrets`. */
    environment: Record<string, pulumi.Input<string>>;
    /** Environment variable name → Secrets Manager `valueFrom` (secret ARN, or `ARN:jsonKey::`). */
    secrets: Record<string, pulumi.Input<string>>;
    /** Exact secret ARNs the execution role may read to inject `secrets`; an empty list grants none. */
    readableSecretArns: pulumi.Input<string>[];
    /** KMS keys (ARNs) the execution role may decrypt those secrets with, through Secrets Manager only. */
    kmsKeyArns: pulumi.Input<string>[];
    /** Customer-managed KMS key (ARN) that encrypts the container log group. */
    logKmsKeyArn: pulumi.Input<string>;
    /** Retention of the container log group, in days (a CloudWatch retention period). */
    logRetentionDays: number;
    /** What the app itself may do, as the task role's inline policy. Defaults to nothing. */
    taskPolicyStatements?: aws.types.input.iam.GetPolicyDocumentStatementArgs[];
    /** Task definition family. Defaults to the component name; it must be unique per account and region. */
    family?: string;
    /** Tags on every taggable resource; a `Name` tag is added where the console shows it. */
    tags: Record<string, string>;
}

/** Why a CPU/memory pair is not a Fargate task size, as `field: what is wrong`; the table is model/fargate.ts, shared with the stack config. */
export function fargateSizeProblem(cpu: number, memory: number): string | undefined {
    const p = fargateTaskSizeProblem(cpu, memory);
    return p && `${p.field}: ${p.message}`;
}

/** Every problem with the arguments, in user terms; empty when they are valid. */
export function appServiceProblems(args: AppServiceArgs): string[] {
    const problems: string[] = [];
    for (const key of Object.keys(args.environment)) {
        if (key in args.secrets) problems.push(`environment.${key}: also set in secrets (allowed: one or the other)`);
        else if (SECRET_LOOKING_NAME.test(key)) problems.push(`environment.${key}: looks like a secret; pass it through secrets (a Secrets Manager reference)`);
    }
    const size = fargateSizeProblem(args.cpu, args.memory);
    if (size) problems.push(size);
    if (!Number.isInteger(args.desiredCount) || args.desiredCount < 0) problems.push(`desiredCount: ${args.desiredCount} is not allowed (allowed: a whole number, 0 suspends)`);
    const a = args.autoscaling;
    if (a) {
        if (!Number.isInteger(a.min) || a.min < 0) problems.push(`autoscaling.min: ${a.min} is not allowed (allowed: a whole number, at least 0)`);
        if (!Number.isInteger(a.max) || a.max < 1) problems.push(`autoscaling.max: ${a.max} is not allowed (allowed: a whole number, at least 1)`);
        if (a.min > a.max) problems.push(`autoscaling.min: ${a.min} exceeds max ${a.max}`);
        else if (args.desiredCount !== 0 && (args.desiredCount < a.min || args.desiredCount > a.max)) {
            problems.push(`desiredCount: ${args.desiredCount} is outside autoscaling [${a.min}, ${a.max}] (allowed: within it, or 0 to suspend)`);
        }
        const t = a.cpuTargetPercent;
        if (t !== undefined && !(t > 0 && t <= 100)) problems.push(`autoscaling.cpuTargetPercent: ${t} is not allowed (allowed: above 0, at most 100)`);
    }
    if (!Number.isInteger(args.containerPort) || args.containerPort < 1024 || args.containerPort > 65535) {
        problems.push(`containerPort: ${args.containerPort} is not allowed (allowed: 1024 to 65535; the container runs as a non-root user)`);
    }
    if (!Number.isInteger(args.logRetentionDays) || args.logRetentionDays < 1) {
        problems.push(`logRetentionDays: ${args.logRetentionDays} is not allowed (allowed: a CloudWatch retention period in days)`);
    }
    if (args.subnetIds.length === 0) problems.push("subnetIds: must name at least one private subnet");
    return problems;
}

/**
 * A Fargate service behind a load balancer's target group: non-root, read-only root filesystem, no public IP,
 * reachable only from the load balancer, secrets injected from Secrets Manager by a least-privilege execution role.
 */
export class AppService extends pulumi.ComponentResource {
    readonly service: aws.ecs.Service;
    readonly securityGroupId: pulumi.Output<string>;
    readonly taskRoleArn: pulumi.Output<string>;
    readonly taskRoleName: pulumi.Output<string>;
    readonly executionRoleArn: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;
    readonly taskDefinitionArn: pulumi.Output<string>;

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = appServiceProblems(args);
        if (problems.length > 0) throw new Error(`app service ${name}: ${problems.join("; ")}`);
        super("tenancy:compute:AppService", name, {}, opts);
        const parent = { parent: this };
        const region = args.region;
        const effectiveRegion = region ?? aws.getRegionOutput({}, parent).region;
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;

        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { kmsKeyId: args.logKmsKeyArn, retentionInDays: args.logRetentionDays, region, tags: args.tags },
            // The app's logs outlive the service (offboarding removes it); retention still expires them.
            { ...parent, retainOnDelete: true },
        );

        // --- Roles. Both are assumable only by ECS tasks of this account; the task role also only from this region's
        // ECS (the source ARN AWS documents for task roles; the execution role is assumed without one).
        const trust = (sourceArn: boolean) =>
            aws.iam.getPolicyDocumentOutput(
                {
                    statements: [
                        {
                            actions: ["sts:AssumeRole"],
                            principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
                            conditions: [
                                { test: "StringEquals", variable: "aws:SourceAccount", values: [account] },
                                ...(sourceArn
                                    ? [{ test: "ArnLike", variable: "aws:SourceArn", values: [pulumi.interpolate`arn:${partition}:ecs:${effectiveRegion}:${account}:*`] }]
                                    : []),
                            ],
                        },
                    ],
                },
                parent,
            );
        const executionRole = new aws.iam.Role(
            `${name}-execution`,
            { description: `Starts ${name} tasks: pulls the image, writes logs, injects secrets`, assumeRolePolicy: trust(false).json, tags: args.tags },
            parent,
        );
        const executionPolicies: pulumi.Resource[] = [
            new aws.iam.RolePolicyAttachment(
                `${name}-execution`,
                { role: executionRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy` },
                parent,
            ),
        ];
        const secretStatements: aws.types.input.iam.GetPolicyDocumentStatementArgs[] = [];
        if (args.readableSecretArns.length > 0) {
            secretStatements.push({ sid: "ReadInjectedSecrets", actions: ["secretsmanager:GetSecretValue"], resources: args.readableSecretArns });
        }
        if (args.kmsKeyArns.length > 0) {
            secretStatements.push({
                sid: "DecryptInjectedSecrets",
                actions: ["kms:Decrypt"],
                resources: args.kmsKeyArns,
                conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [pulumi.interpolate`secretsmanager.${effectiveRegion}.amazonaws.com`] }],
            });
        }
        if (secretStatements.length > 0) {
            executionPolicies.push(
                new aws.iam.RolePolicy(
                    `${name}-execution-secrets`,
                    { role: executionRole.id, policy: aws.iam.getPolicyDocumentOutput({ statements: secretStatements }, parent).json },
                    parent,
                ),
            );
        }

        const taskRole = new aws.iam.Role(
            `${name}-task`,
            { description: `What the ${name} app itself may do`, assumeRolePolicy: trust(true).json, tags: args.tags },
            parent,
        );
        const taskStatements = args.taskPolicyStatements ?? [];
        if (taskStatements.length > 0) {
            new aws.iam.RolePolicy(
                `${name}-task`,
                { role: taskRole.id, policy: aws.iam.getPolicyDocumentOutput({ statements: taskStatements }, parent).json },
                parent,
            );
        }

        // --- Network: in only from the load balancer; out to AWS APIs (via NAT) and PostgreSQL in the VPC.
        const sg = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { vpcId: args.vpcId, description: "App tasks: container port from the load balancer only", region, tags: { ...args.tags, Name: `${name}-app` } },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-in-lb`,
            {
                securityGroupId: sg.id,
                ipProtocol: "tcp",
                fromPort: args.containerPort,
                toPort: args.containerPort,
                referencedSecurityGroupId: args.loadBalancerSecurityGroupId,
                region,
                tags: { ...args.tags, Name: `${name}-in-lb` },
            },
            parent,
        );
        const egress: [string, number, string][] = [
            ["https", 443, "0.0.0.0/0"],
            ["postgres", 5432, args.vpcCidr],
        ];
        for (const [key, port, cidr] of egress) {
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-out-${key}`,
                { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: cidr, region, tags: { ...args.tags, Name: `${name}-out-${key}` } },
                parent,
            );
        }

        // --- Task definition.
        const sorted = <T>(record: Record<string, T>) => Object.keys(record).sort().map((k) => [k, record[k]!] as const);
        const containerDefinitions = pulumi.jsonStringify([
            {
                name: CONTAINER_NAME,
                image: args.image,
                essential: true,
                user: CONTAINER_USER,
                privileged: false,
                readonlyRootFilesystem: true,
                linuxParameters: { initProcessEnabled: true, capabilities: { drop: ["ALL"] } },
                portMappings: [{ containerPort: args.containerPort, protocol: "tcp" }],
                // The root filesystem is read-only; /tmp is a task-scoped scratch volume.
                mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
                environment: sorted(args.environment).map(([k, value]) => ({ name: k, value })),
                secrets: sorted(args.secrets).map(([k, valueFrom]) => ({ name: k, valueFrom })),
                logConfiguration: {
                    logDriver: "awslogs",
                    options: { "awslogs-group": logGroup.name, "awslogs-region": effectiveRegion, "awslogs-stream-prefix": CONTAINER_NAME },
                },
            },
        ]);
        const taskDefinition = new aws.ecs.TaskDefinition(
            `${name}-task`,
            {
                family: args.family ?? name,
                requiresCompatibilities: ["FARGATE"],
                networkMode: "awsvpc",
                cpu: String(args.cpu),
                memory: String(args.memory),
                runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
                executionRoleArn: executionRole.arn,
                taskRoleArn: taskRole.arn,
                containerDefinitions,
                volumes: [{ name: "tmp" }],
                region,
                tags: args.tags,
            },
            // Secrets are fetched at task start: the execution role must be able to read them by then.
            { parent: this, dependsOn: executionPolicies },
        );

        // --- Service. A suspended service (desiredCount 0) has no autoscaling, which would otherwise scale it back up.
        const autoscaling = args.desiredCount > 0 ? args.autoscaling : undefined;
        this.service = new aws.ecs.Service(
            `${name}-service`,
            {
                cluster: args.clusterArn,
                taskDefinition: taskDefinition.arn,
                desiredCount: args.desiredCount,
                launchType: "FARGATE",
                networkConfiguration: { subnets: args.subnetIds, securityGroups: [sg.id], assignPublicIp: false },
                loadBalancers: [{ targetGroupArn: args.targetGroupArn, containerName: CONTAINER_NAME, containerPort: args.containerPort }],
                deploymentCircuitBreaker: { enable: true, rollback: true },
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                healthCheckGracePeriodSeconds: 60,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                enableExecuteCommand: false,
                waitForSteadyState: false,
                region,
                tags: args.tags,
            },
            { parent: this, ...(autoscaling ? { ignoreChanges: ["desiredCount"] } : {}) },
        );

        if (autoscaling) {
            const clusterName = pulumi.output(args.clusterArn).apply((arn) => arn.split("/").pop()!);
            const target = new aws.appautoscaling.Target(
                `${name}-scaling`,
                {
                    serviceNamespace: "ecs",
                    scalableDimension: "ecs:service:DesiredCount",
                    resourceId: pulumi.interpolate`service/${clusterName}/${this.service.name}`,
                    minCapacity: autoscaling.min,
                    maxCapacity: autoscaling.max,
                    region,
                    tags: args.tags,
                },
                parent,
            );
            new aws.appautoscaling.Policy(
                `${name}-cpu`,
                {
                    policyType: "TargetTrackingScaling",
                    serviceNamespace: target.serviceNamespace,
                    scalableDimension: target.scalableDimension,
                    resourceId: target.resourceId,
                    targetTrackingScalingPolicyConfiguration: {
                        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                        targetValue: autoscaling.cpuTargetPercent ?? 60,
                        scaleOutCooldown: 60,
                        scaleInCooldown: 300,
                    },
                    region,
                },
                parent,
            );
        }

        this.securityGroupId = sg.id;
        this.taskRoleArn = taskRole.arn;
        this.taskRoleName = taskRole.name;
        this.executionRoleArn = executionRole.arn;
        this.logGroupName = logGroup.name;
        this.taskDefinitionArn = taskDefinition.arn;
        this.registerOutputs({
            securityGroupId: this.securityGroupId,
            taskRoleArn: this.taskRoleArn,
            taskRoleName: this.taskRoleName,
            executionRoleArn: this.executionRoleArn,
            logGroupName: this.logGroupName,
            taskDefinitionArn: this.taskDefinitionArn,
        });
    }
}
