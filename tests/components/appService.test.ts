import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { AppService, AppServiceArgs, CONTAINER_NAME, appServiceProblems, fargateSizeProblem } from "../../components/appService";
import { MOCK_ACCOUNT_ID, RecordResult, RecordedResource, awaitOutput, ofType, record } from "../../engine/recorder";

const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${MOCK_ACCOUNT_ID}:secret:tenancy/test/acme/db-runtime-AbCdEf`;
const KEY_ARN = `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/secrets`;
const LOG_KEY_ARN = `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/logs`;
const ALB_SG = "sg-0a1b2c3d4e5f60718";

const BASE: AppServiceArgs = {
    clusterArn: `arn:aws:ecs:eu-west-1:${MOCK_ACCOUNT_ID}:cluster/tenancy-main`,
    vpcId: "vpc-0123456789abcdef0",
    vpcCidr: "10.20.0.0/16",
    subnetIds: ["subnet-private-a", "subnet-private-b"],
    region: "eu-west-1",
    image: `${MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tenancy-app@sha256:abc`,
    cpu: 512,
    memory: 1024,
    desiredCount: 2,
    containerPort: 8080,
    targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:${MOCK_ACCOUNT_ID}:targetgroup/web/0123`,
    loadBalancerSecurityGroupId: ALB_SG,
    environment: { TENANT: "acme", LOG_LEVEL: "info" },
    secrets: { DATABASE_PASSWORD: `${SECRET_ARN}:password::`, DATABASE_USER: `${SECRET_ARN}:username::` },
    readableSecretArns: [SECRET_ARN],
    kmsKeyArns: [KEY_ARN],
    logKmsKeyArn: LOG_KEY_ARN,
    logRetentionDays: 30,
    tags: { "tenancy:tenant": "acme" },
};

interface Run {
    result: RecordResult;
    outputs: Record<"securityGroupId" | "taskRoleArn" | "taskRoleName" | "executionRoleArn" | "logGroupName" | "taskDefinitionArn", string>;
}

/** Records a stack holding one AppService named `acme-app` and resolves its outputs. */
async function run(overrides: Partial<AppServiceArgs> = {}): Promise<Run> {
    let app: AppService | undefined;
    const result = await record(
        async () => {
            app = new AppService("acme-app", { ...BASE, ...overrides });
        },
        { project: "tenancy", stack: "test", config: { "aws:region": "us-east-1" } },
    );
    const a = app!;
    const outputs = await awaitOutput(pulumi.output({
        securityGroupId: a.securityGroupId,
        taskRoleArn: a.taskRoleArn,
        taskRoleName: a.taskRoleName,
        executionRoleArn: a.executionRoleArn,
        logGroupName: a.logGroupName,
        taskDefinitionArn: a.taskDefinitionArn,
    }));
    return { result, outputs };
}

const one = (result: RecordResult, type: string, name?: string): RecordedResource => {
    const found = ofType(result, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
    return found[0]!;
};
const statements = (r: RecordedResource, key: string) => (JSON.parse(r.inputs[key] as string) as { Statement: Record<string, unknown>[] }).Statement;
interface Container {
    name: string;
    image: string;
    essential: boolean;
    user: string;
    privileged: boolean;
    readonlyRootFilesystem: boolean;
    linuxParameters: { initProcessEnabled: boolean };
    portMappings: { containerPort: number }[];
    mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
    environment: { name: string; value: string }[];
    secrets: { name: string; valueFrom: string }[];
    logConfiguration: { logDriver: string; options: Record<string, string> };
}
const containers = (result: RecordResult) =>
    JSON.parse(one(result, "aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"] as string) as Container[];
const SERVICE = "aws:ecs/service:Service";

describe("argument checks", () => {
    test("Fargate sizes: valid CPU/memory pairs pass, others name what is allowed", () => {
        expect(fargateSizeProblem(256, 512)).toBeUndefined();
        expect(fargateSizeProblem(256, 1536)).toMatch(/allowed: 512, 1024, 2048/);
        expect(fargateSizeProblem(1024, 8192)).toBeUndefined();
        expect(fargateSizeProblem(1024, 1024)).toMatch(/allowed: 2048 to 8192/);
        expect(fargateSizeProblem(300, 1024)).toMatch(/not a Fargate CPU value/);
    });

    test("a secret-looking environment variable is rejected: secrets must go through `secrets`", () => {
        for (const name of ["API_TOKEN", "db_password", "SigningKey", "CLIENT_SECRET", "AWS_CREDENTIALS"]) {
            expect(appServiceProblems({ ...BASE, environment: { [name]: "x" } })).toEqual([
                `environment.${name}: looks like a secret; pass it through secrets (a Secrets Manager reference)`,
            ]);
        }
    });

    test("a name in both environment and secrets, min > max, and desiredCount outside [min, max] are rejected; 0 is allowed", () => {
        expect(appServiceProblems({ ...BASE, environment: { DATABASE_USER: "x" } })).toEqual([expect.stringMatching(/^environment\.DATABASE_USER: also set in secrets/)]);
        expect(appServiceProblems({ ...BASE, autoscaling: { min: 4, max: 2 } })).toEqual(["autoscaling.min: 4 exceeds max 2"]);
        expect(appServiceProblems({ ...BASE, desiredCount: 5, autoscaling: { min: 1, max: 3 } })).toEqual([expect.stringMatching(/^desiredCount: 5 is outside autoscaling \[1, 3\]/)]);
        expect(appServiceProblems({ ...BASE, desiredCount: 0, autoscaling: { min: 1, max: 3 } })).toEqual([]);
        expect(appServiceProblems(BASE)).toEqual([]);
    });

    test("invalid arguments throw before the component or any child is registered", async () => {
        const bad: Partial<AppServiceArgs>[] = [
            { environment: { DB_PASSWORD: "hunter2" } },
            { environment: { DATABASE_USER: "app" } },
            { autoscaling: { min: 3, max: 1 } },
            { desiredCount: 9, autoscaling: { min: 1, max: 3 } },
            { cpu: 256, memory: 4096 },
            { containerPort: 80 },
        ];
        for (const b of bad) {
            const result = await record(
                async () => {
                    expect(() => new AppService("acme-app", { ...BASE, ...b })).toThrow(/^app service acme-app: /);
                },
                { project: "tenancy", stack: "test" },
            );
            expect(result.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
        }
    });
});

describe("AppService", () => {
    test("the app security group admits only the ALB's security group on the container port; egress is 443 anywhere and 5432 to the VPC", async () => {
        const { result, outputs } = await run();
        const sg = one(result, "aws:ec2/securityGroup:SecurityGroup");
        expect(outputs.securityGroupId).toBe(sg.id);
        expect(sg.inputs["ingress"]).toBeUndefined();
        expect(sg.inputs["egress"]).toBeUndefined();
        expect(ofType(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs)).toEqual([
            expect.objectContaining({ securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 8080, toPort: 8080, referencedSecurityGroupId: ALB_SG }),
        ]);
        const ingress = one(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs;
        expect(ingress["cidrIpv4"] ?? ingress["cidrIpv6"] ?? ingress["prefixListId"]).toBeUndefined();
        const egress = ofType(result, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs);
        expect(egress).toEqual([
            expect.objectContaining({ securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
            expect.objectContaining({ securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "10.20.0.0/16" }),
        ]);
    });

    test("tasks run on Fargate in the private subnets with no public IP, registered in the target group, with rollback on failed deployments", async () => {
        const { result, outputs } = await run();
        const service = one(result, SERVICE);
        expect(service.inputs).toMatchObject({
            cluster: BASE.clusterArn,
            launchType: "FARGATE",
            taskDefinition: outputs.taskDefinitionArn,
            desiredCount: 2,
            networkConfiguration: { subnets: BASE.subnetIds, securityGroups: [outputs.securityGroupId], assignPublicIp: false },
            loadBalancers: [{ targetGroupArn: BASE.targetGroupArn, containerName: CONTAINER_NAME, containerPort: 8080 }],
            deploymentCircuitBreaker: { enable: true, rollback: true },
            propagateTags: "SERVICE",
            enableExecuteCommand: false,
            healthCheckGracePeriodSeconds: 60,
            waitForSteadyState: false,
        });
    });

    test("the container runs as a non-root user with a read-only root filesystem, unprivileged, with an init process and a writable /tmp", async () => {
        const { result } = await run();
        const taskDefinition = one(result, "aws:ecs/taskDefinition:TaskDefinition");
        expect(taskDefinition.inputs).toMatchObject({
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: "512",
            memory: "1024",
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
            volumes: [{ name: "tmp" }],
        });
        const [c, ...others] = containers(result);
        expect(others).toEqual([]);
        expect(c).toMatchObject({
            name: CONTAINER_NAME,
            image: BASE.image,
            essential: true,
            user: "1000",
            privileged: false,
            readonlyRootFilesystem: true,
            linuxParameters: { initProcessEnabled: true },
            portMappings: [{ containerPort: 8080 }],
            mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        });
    });

    test("secrets are injected from Secrets Manager and never appear in the environment", async () => {
        const { result } = await run();
        const [c] = containers(result);
        expect(c!.secrets).toEqual([
            { name: "DATABASE_PASSWORD", valueFrom: `${SECRET_ARN}:password::` },
            { name: "DATABASE_USER", valueFrom: `${SECRET_ARN}:username::` },
        ]);
        expect(c!.environment).toEqual([
            { name: "LOG_LEVEL", value: "info" },
            { name: "TENANT", value: "acme" },
        ]);
        const definitions = one(result, "aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"] as string;
        expect(definitions).not.toContain("hunter2");
    });

    test("logs go to a log group encrypted with the log key, in the service's region", async () => {
        const { result, outputs } = await run();
        const group = one(result, "aws:cloudwatch/logGroup:LogGroup");
        expect(group.inputs).toMatchObject({ kmsKeyId: LOG_KEY_ARN, retentionInDays: 30, region: "eu-west-1" });
        expect(outputs.logGroupName).toBe(group.outputs["name"]);
        expect(containers(result)[0]!.logConfiguration).toEqual({
            logDriver: "awslogs",
            options: { "awslogs-group": outputs.logGroupName, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": CONTAINER_NAME },
        });
    });

    test("without an explicit region the log driver uses the provider's region", async () => {
        const { result } = await run({ region: undefined });
        expect(containers(result)[0]!.logConfiguration.options["awslogs-region"]).toBe("us-east-1");
    });

    test("the execution role reads exactly the given secrets and decrypts only through Secrets Manager, on top of the ECS managed policy", async () => {
        const { result, outputs } = await run();
        const role = one(result, "aws:iam/role:Role", "acme-app-execution");
        expect(outputs.executionRoleArn).toBe(role.outputs["arn"]);
        expect(one(result, "aws:ecs/taskDefinition:TaskDefinition").inputs["executionRoleArn"]).toBe(role.outputs["arn"]);
        const attachment = one(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        expect(attachment.inputs).toEqual({ role: role.id, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" });
        const inline = one(result, "aws:iam/rolePolicy:RolePolicy", "acme-app-execution-secrets");
        expect(inline.inputs["role"]).toBe(role.id);
        expect(statements(inline, "policy")).toEqual([
            { Sid: "ReadInjectedSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: SECRET_ARN },
            {
                Sid: "DecryptInjectedSecrets",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: KEY_ARN,
                Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
            },
        ]);
        // The task definition waits for the permissions its tasks need at start.
        expect(one(result, "aws:ecs/taskDefinition:TaskDefinition").options.dependsOn).toEqual(expect.arrayContaining([attachment.urn, inline.urn]));
    });

    test("with no secrets to read, the execution role has no inline policy at all", async () => {
        const { result } = await run({ secrets: {}, readableSecretArns: [], kmsKeyArns: [] });
        expect(ofType(result, "aws:iam/rolePolicy:RolePolicy")).toEqual([]);
        expect(containers(result)[0]!.secrets).toEqual([]);
    });

    test("both roles trust only ECS tasks of this account; the task role is separate and gets no permissions by default", async () => {
        const { result, outputs } = await run();
        const task = one(result, "aws:iam/role:Role", "acme-app-task");
        expect(outputs.taskRoleArn).toBe(task.outputs["arn"]);
        expect(outputs.taskRoleName).toBe(task.outputs["name"]);
        expect(outputs.taskRoleArn).not.toBe(outputs.executionRoleArn);
        expect(one(result, "aws:ecs/taskDefinition:TaskDefinition").inputs["taskRoleArn"]).toBe(task.outputs["arn"]);
        for (const role of ofType(result, "aws:iam/role:Role")) {
            expect(statements(role, "assumeRolePolicy")).toEqual([
                expect.objectContaining({
                    Effect: "Allow",
                    Action: "sts:AssumeRole",
                    Principal: { Service: "ecs-tasks.amazonaws.com" },
                    Condition: expect.objectContaining({ StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } }),
                }),
            ]);
        }
        const taskCondition = statements(task, "assumeRolePolicy")[0]!["Condition"];
        expect(taskCondition).toMatchObject({ ArnLike: { "aws:SourceArn": `arn:aws:ecs:eu-west-1:${MOCK_ACCOUNT_ID}:*` } });
        expect(ofType(result, "aws:iam/rolePolicy:RolePolicy").map((p) => p.name)).toEqual(["acme-app-execution-secrets"]);
    });

    test("taskPolicyStatements become the task role's only inline policy", async () => {
        const bucket = "arn:aws:s3:::acme-uploads";
        const { result } = await run({ taskPolicyStatements: [{ sid: "Uploads", actions: ["s3:GetObject", "s3:PutObject"], resources: [`${bucket}/*`] }] });
        const task = one(result, "aws:iam/role:Role", "acme-app-task");
        const policy = one(result, "aws:iam/rolePolicy:RolePolicy", "acme-app-task");
        expect(policy.inputs["role"]).toBe(task.id);
        expect(statements(policy, "policy")).toEqual([{ Sid: "Uploads", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: `${bucket}/*` }]);
    });

    test("autoscaling tracks CPU on the service in the given region, and only then does Pulumi stop managing desiredCount", async () => {
        const { result } = await run({ autoscaling: { min: 2, max: 6 } });
        const service = one(result, SERVICE);
        expect(service.options.ignoreChanges).toEqual(["desiredCount"]);
        const target = one(result, "aws:appautoscaling/target:Target");
        expect(target.inputs).toMatchObject({
            serviceNamespace: "ecs",
            scalableDimension: "ecs:service:DesiredCount",
            resourceId: `service/tenancy-main/${service.outputs["name"] as string}`,
            minCapacity: 2,
            maxCapacity: 6,
            region: "eu-west-1",
        });
        const policy = one(result, "aws:appautoscaling/policy:Policy");
        expect(policy.inputs).toMatchObject({
            policyType: "TargetTrackingScaling",
            resourceId: target.inputs["resourceId"],
            region: "eu-west-1",
            targetTrackingScalingPolicyConfiguration: expect.objectContaining({
                targetValue: 60,
                predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
            }),
        });

        const fixed = await run();
        expect(one(fixed.result, SERVICE).options.ignoreChanges).toEqual([]);
        expect(ofType(fixed.result, "aws:appautoscaling/target:Target")).toEqual([]);
    });

    test("desiredCount 0 suspends the service: it is applied as 0 and autoscaling is left out so it cannot scale back up", async () => {
        const { result } = await run({ desiredCount: 0, autoscaling: { min: 2, max: 6 } });
        const service = one(result, SERVICE);
        expect(service.inputs["desiredCount"]).toBe(0);
        expect(service.options.ignoreChanges).toEqual([]);
        expect(ofType(result, "aws:appautoscaling/target:Target")).toEqual([]);
        expect(ofType(result, "aws:appautoscaling/policy:Policy")).toEqual([]);
    });

    test("every regional child gets the given region; IAM (global) gets none; every child is parented to and named after the component", async () => {
        const { result } = await run({ region: "ap-southeast-2", autoscaling: { min: 2, max: 6 }, taskPolicyStatements: [{ actions: ["s3:ListBucket"], resources: ["*"] }] });
        const component = one(result, "tenancy:compute:AppService");
        const children = result.resources.filter((r) => r.parent === component.urn);
        expect(children).toHaveLength(result.resources.length - 2);
        expect(children.filter((r) => !r.name.startsWith("acme-app-")).map((r) => r.name)).toEqual([]);
        const iam = children.filter((r) => r.type.startsWith("aws:iam/"));
        expect(iam.every((r) => r.inputs["region"] === undefined)).toBe(true);
        const regional = children.filter((r) => !r.type.startsWith("aws:iam/"));
        expect(regional.filter((r) => r.inputs["region"] !== "ap-southeast-2").map((r) => `${r.type} ${r.name}`)).toEqual([]);
        const taggable = children.filter((r) => !["aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:appautoscaling/policy:Policy"].includes(r.type));
        for (const r of taggable) expect(r.inputs["tags"], `${r.type} ${r.name}`).toMatchObject({ "tenancy:tenant": "acme" });
    });
});
