import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AppService } from "./appService";
import { EncryptionKey } from "./encryptionKey";
import { ecrLifecyclePolicy } from "./monitoring";
import { LoadBalancer } from "./loadBalancer";
import { secretRecoveryWindowDays, tenantParameterName, tenantSecretName } from "./naming";
import { Network } from "./network";

/** Default of SharedPlatformArgs.untaggedImageExpiryDays. */
export const DEFAULT_UNTAGGED_IMAGE_EXPIRY_DAYS = 14;

export interface SharedPlatformArgs {
    /** Stack name, used in secret and parameter names. */
    stack: string;
    /** Tenants are served at `<subdomain>.<domain>`; the ALB certificate covers `*.<domain>` and `<domain>`. */
    domain: string;
    /** Route 53 hosted zone of `domain`: certificate validation and the wildcard record `*.<domain>`. */
    hostedZoneId: string;
    /** CIDR of the shared VPC. */
    vpcCidr: string;
    /** The shared VPC's availability zones by AZ ID, in subnet order (2 in dev, 3 in prod). */
    availabilityZoneIds: string[];
    /** One NAT gateway for the VPC, or one per AZ. */
    natGateways: "single" | "perAz";
    app: {
        cpu: number;
        memory: number;
        desiredCount: number;
        containerPort: number;
        healthCheckPath: string;
        /** When set, the image is built from this directory and pushed to the ECR repository. */
        buildContext?: string;
    };
    /** ECR repository name of the app. */
    appRepository: string;
    /** Version of the shared app (the stable channel): the image tag. */
    releaseVersion: string;
    /** The app's signing key; a random one when unset. */
    appSecretKey?: pulumi.Output<string>;
    /** Days an untagged image stays in the app repository before it expires; tagged releases are kept. Defaults to 14. */
    untaggedImageExpiryDays?: number;
    /** Protect stateful resources (key, secrets, repository, access logs). */
    protect: boolean;
    logRetentionDays: number;
    tags: Record<string, string>;
}

/**
 * The shared side of the platform: VPC, ECS cluster with the multi-tenant app behind an ALB (and the wildcard record
 * `*.<domain>` to it), ECR, the platform KMS key, the deploy runner's security group and the runtime registry's path.
 * The shared tenants' databases are {@link DatabaseCell}s beside it.
 */
export class SharedPlatform extends pulumi.ComponentResource {
    readonly key: EncryptionKey;
    readonly network: Network;
    /**
     * Security group for the deploy runner (where `pulumi up` runs) in the shared VPC: every cell admits it on 5432.
     * Created by the program so a new stack needs no hand-made group in its config: start the runner with this group.
     */
    readonly deployRunnerSecurityGroupId: pulumi.Output<string>;
    readonly loadBalancer: LoadBalancer;
    readonly app: AppService;
    readonly repository: aws.ecr.Repository;
    readonly imageUri: pulumi.Output<string>;
    /** `*.<domain>` → the ALB: the default host names of shared and hybrid tenants. */
    readonly wildcardRecord: aws.route53.Record;
    /** SSM path under which each tenant's runtime record lives. */
    readonly registryPath: string;
    /** The platform's ECS cluster (the app's; the cells' schema dump tasks run in it too). */
    readonly ecsClusterArn: pulumi.Output<string>;

    constructor(name: string, args: SharedPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tenancy:platform:SharedPlatform", name, {}, opts);
        const { protect, tags } = args;
        const child = { parent: this };
        const stateful = { parent: this, protect };

        this.key = new EncryptionKey(`${name}-platform`, { description: `tenancy ${args.stack}: shared platform data, secrets and logs`, tags, protect }, child);

        this.network = new Network(`${name}-net`, {
            cidr: args.vpcCidr,
            availabilityZoneIds: args.availabilityZoneIds,
            natGateways: args.natGateways,
            kmsKeyArn: this.key.arn,
            logRetentionDays: args.logRetentionDays,
            tags,
        }, child);

        this.repository = new aws.ecr.Repository(`${name}-app-repo`, {
            name: args.appRepository,
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: this.key.arn }],
            forceDelete: false,
            tags,
        }, stateful);
        new aws.ecr.LifecyclePolicy(`${name}-app-repo-lifecycle`, {
            repository: this.repository.name,
            policy: JSON.stringify(ecrLifecyclePolicy(args.untaggedImageExpiryDays ?? DEFAULT_UNTAGGED_IMAGE_EXPIRY_DAYS)),
        }, child);
        this.imageUri = this.appImage(name, args);

        const partition = aws.getPartitionOutput({}, child).partition;
        const account = aws.getCallerIdentityOutput({}, child).accountId;
        const region = aws.getRegionOutput({}, child).region;
        // The runner's own group: HTTPS out (AWS APIs, GitHub, Pulumi Cloud through the NAT), PostgreSQL to each cell (the
        // cell's rule); nothing may connect in. Any further source (a tunnel host, a tooling VPC) comes from adminIngress.
        const runnerSecurityGroup = new aws.ec2.SecurityGroup(`${name}-deploy-runner-sg`, {
            vpcId: this.network.vpcId,
            description: "tenancy deploy runner (pulumi up): PostgreSQL to the shared cluster and HTTPS out, nothing in",
            tags: { ...tags, Name: `${name}-deploy-runner` },
        }, child);
        this.deployRunnerSecurityGroupId = runnerSecurityGroup.id;
        new aws.vpc.SecurityGroupEgressRule(`${name}-deploy-runner-https`, {
            securityGroupId: runnerSecurityGroup.id,
            cidrIpv4: "0.0.0.0/0",
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            description: "HTTPS to AWS APIs, GitHub and Pulumi Cloud through the NAT",
            tags,
        }, child);

        const ecsCluster = new aws.ecs.Cluster(`${name}-ecs`, {
            settings: [{ name: "containerInsights", value: "enabled" }],
            tags,
        }, child);
        this.ecsClusterArn = ecsCluster.arn;
        this.loadBalancer = new LoadBalancer(`${name}-alb`, {
            vpcId: this.network.vpcId,
            vpcCidr: args.vpcCidr,
            subnetIds: this.network.publicSubnetIds,
            domainNames: [`*.${args.domain}`, args.domain],
            hostedZoneId: args.hostedZoneId,
            zoneDomain: args.domain,
            targetPort: args.app.containerPort,
            healthCheckPath: args.app.healthCheckPath,
            logRetentionDays: args.logRetentionDays,
            protect,
            tags,
        }, child);

        const appSecret = new aws.secretsmanager.Secret(`${name}-app-secret`, {
            namePrefix: `${tenantSecretName(args.stack, "platform", "app-secret-key")}-`,
            description: "Signing key of the shared app",
            kmsKeyId: this.key.arn,
            recoveryWindowInDays: secretRecoveryWindowDays(protect),
            tags,
        }, stateful);
        const secretKey = args.appSecretKey ?? new random.RandomPassword(`${name}-app-secret-key`, { length: 64, special: false }, child).result;
        const appSecretValue = new aws.secretsmanager.SecretVersion(`${name}-app-secret-value`, { secretId: appSecret.id, secretString: pulumi.secret(secretKey) }, child);

        this.registryPath = tenantParameterName(args.stack, "").replace(/\/$/, "");
        this.app = new AppService(`${name}-app`, {
            clusterArn: ecsCluster.arn,
            vpcId: this.network.vpcId,
            vpcCidr: args.vpcCidr,
            subnetIds: this.network.privateSubnetIds,
            image: this.imageUri,
            cpu: args.app.cpu,
            memory: args.app.memory,
            desiredCount: args.app.desiredCount,
            containerPort: args.app.containerPort,
            targetGroupArn: this.loadBalancer.targetGroupArn,
            loadBalancerSecurityGroupId: this.loadBalancer.securityGroupId,
            environment: {
                TENANCY_STACK: args.stack,
                TENANCY_REGISTRY_PATH: this.registryPath,
                TENANCY_DOMAIN: args.domain,
                PORT: String(args.app.containerPort),
            },
            // The version's ARN (the secret's): tasks must not start before the secret has a value to inject.
            secrets: { APP_SECRET_KEY: appSecretValue.arn },
            readableSecretArns: [appSecret.arn],
            kmsKeyArns: [this.key.arn],
            logKmsKeyArn: this.key.arn,
            logRetentionDays: args.logRetentionDays,
            // The app resolves tenants from the registry and reads the runtime credentials of the tenants it serves
            // (shared and hybrid, by the tier tag every tenant secret carries). Owner (migration) credentials, master
            // secrets and dedicated tenants' secrets stay out of reach.
            taskPolicyStatements: [
                {
                    sid: "ReadTenantRegistry",
                    actions: ["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"],
                    resources: [
                        pulumi.interpolate`arn:${partition}:ssm:${region}:${account}:parameter${this.registryPath}`,
                        pulumi.interpolate`arn:${partition}:ssm:${region}:${account}:parameter${this.registryPath}/*`,
                    ],
                },
                {
                    sid: "ReadServedTenantRuntimeCredentials",
                    actions: ["secretsmanager:GetSecretValue"],
                    resources: [pulumi.interpolate`arn:${partition}:secretsmanager:${region}:${account}:secret:tenancy/${args.stack}/*/db-runtime-*`],
                    conditions: [{ test: "StringEquals", variable: "aws:ResourceTag/tenancy:tier", values: ["shared", "hybrid"] }],
                },
                {
                    sid: "DecryptServedTenantSecrets",
                    actions: ["kms:Decrypt"],
                    resources: [pulumi.interpolate`arn:${partition}:kms:${region}:${account}:key/*`],
                    conditions: [
                        { test: "StringEquals", variable: "aws:ResourceTag/tenancy:stack", values: [args.stack] },
                        { test: "StringEquals", variable: "aws:ResourceTag/tenancy:tier", values: ["platform", "hybrid"] },
                        // Only to read secrets: the task cannot decrypt anything else those keys encrypt.
                        { test: "StringEquals", variable: "kms:ViaService", values: [pulumi.interpolate`secretsmanager.${region}.amazonaws.com`] },
                    ],
                },
            ],
            tags,
        }, child);
        // Every `<subdomain>.<domain>` of a shared or hybrid tenant resolves here without a record of its own: the app
        // answers 404 for hosts it does not serve (unknown, offboarded), and records of dedicated tenants win over it.
        this.wildcardRecord = new aws.route53.Record(`${name}-dns-wildcard`, {
            zoneId: args.hostedZoneId,
            name: `*.${args.domain}`,
            type: "A",
            aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true }],
        }, child);

        this.registerOutputs({
            vpcId: this.network.vpcId,
            loadBalancerDnsName: this.loadBalancer.dnsName,
            imageUri: this.imageUri,
        });
    }

    /** The app image for the release: built and pushed when a build context is configured, else expected in ECR. */
    private appImage(name: string, args: SharedPlatformArgs): pulumi.Output<string> {
        const tag = pulumi.interpolate`${this.repository.repositoryUrl}:${args.releaseVersion}`;
        if (!args.app.buildContext) return tag;
        const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
        const image = new docker.Image(`${name}-app-image`, {
            imageName: tag,
            build: { context: args.app.buildContext, platform: "linux/amd64" },
            registry: { server: this.repository.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) },
        }, { parent: this });
        return image.repoDigest;
    }
}
