import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AppService } from "./appService";
import { credentialsSecret } from "./credentialsSecret";
import { DatabaseHardening } from "./databaseHardening";
import { EncryptionKey } from "./encryptionKey";
import { ecrLifecyclePolicy, ENHANCED_MONITORING_INTERVAL_SECONDS, enhancedMonitoringRole } from "./monitoring";
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
    /** Route 53 hosted zone of `domain`, for certificate validation. */
    hostedZoneId: string;
    /** CIDR of the shared VPC. */
    vpcCidr: string;
    /** The shared VPC's availability zones by AZ ID, in subnet order (2 in dev, 3 in prod). */
    availabilityZoneIds: string[];
    /** One NAT gateway for the VPC, or one per AZ. */
    natGateways: "single" | "perAz";
    database: {
        /** Aurora PostgreSQL engine version, e.g. `16.6`: the creation version, and the target of a major upgrade. */
        engineVersion: string;
        /** Send `engineVersion` to the cluster, allowing a major upgrade (see the stack config). Defaults to false. */
        allowMajorVersionUpgrade?: boolean;
        /** Serverless v2 capacity range in ACUs; used when `instanceClass` is unset. */
        minCapacity?: number;
        maxCapacity?: number;
        /** Provisioned instance class; when set, instances use it instead of `db.serverless`. */
        instanceClass?: string;
        /** Reader instances besides the writer, spread over the other AZs. */
        readers: number;
        /** Name of the application database. */
        name: string;
        /** Host and port the PostgreSQL provider connects to instead of the cluster endpoint. Defaults to the endpoint. */
        adminHost?: string;
        adminPort?: number;
        /**
         * Where `pulumi up` connects from: one ingress rule on 5432 into the cluster's security group per security
         * group ID (the deploy runner's) and per private CIDR block. Defaults to none.
         */
        adminIngress?: { securityGroupIds: string[]; cidrBlocks: string[] };
        /** `iam`: the provider logs in with an IAM token (the master user holds `rds_iam`); `password`: with the master password. Defaults to `password`. */
        adminAuth?: "iam" | "password";
        /** TLS of the provider: verify the server certificate against this CA bundle. Defaults to verify-full, /tmp/rds-global-bundle.pem. */
        adminTls?: { mode: "verify-full" | "verify-ca"; rootCertPath: string };
        backupRetentionDays: number;
    };
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
    /** Protect stateful resources (cluster, instances, key, secrets, repository). */
    protect: boolean;
    logRetentionDays: number;
    tags: Record<string, string>;
}

/**
 * The shared side of the platform: VPC, Aurora PostgreSQL, ECS cluster with the multi-tenant app behind an ALB,
 * ECR, the platform KMS key, the PostgreSQL provider and database hardening that shared tenants build on.
 */
export class SharedPlatform extends pulumi.ComponentResource {
    readonly key: EncryptionKey;
    readonly network: Network;
    readonly cluster: aws.rds.Cluster;
    /** The cluster's writer instance: nothing answers on the cluster endpoint before it is available. */
    readonly databaseWriter: aws.rds.ClusterInstance;
    readonly postgresProvider: postgresql.Provider;
    /** The `rds-db:connect` resource of the master user: what the deploy role needs when `adminAuth` is `iam`. */
    readonly adminConnectArn: pulumi.Output<string>;
    /**
     * Security group for the deploy runner (where `pulumi up` runs) in the shared VPC: the cluster admits it on 5432.
     * Created by the program so a new stack needs no hand-made group in its config: start the runner with this group.
     */
    readonly deployRunnerSecurityGroupId: pulumi.Output<string>;
    readonly hardening: DatabaseHardening;
    readonly loadBalancer: LoadBalancer;
    readonly app: AppService;
    readonly repository: aws.ecr.Repository;
    readonly imageUri: pulumi.Output<string>;
    readonly databaseHost: pulumi.Output<string>;
    readonly databasePort: pulumi.Output<number>;
    readonly databaseName: string;
    /** SSM path under which each tenant's runtime record lives. */
    readonly registryPath: string;

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

        // Cluster: the master password comes from random so the PostgreSQL provider can use it; it is also kept in Secrets Manager.
        const masterUsername = "tenancy_admin";
        const masterPassword = new random.RandomPassword(`${name}-db-master-password`, { length: 40, special: false }, child);
        const dbSecurityGroup = new aws.ec2.SecurityGroup(`${name}-db-sg`, {
            vpcId: this.network.vpcId,
            description: "Shared Aurora cluster: PostgreSQL from the shared app only",
            tags: { ...tags, Name: `${name}-db` },
        }, child);
        const subnetGroup = new aws.rds.SubnetGroup(`${name}-db-subnets`, {
            subnetIds: this.network.isolatedSubnetIds,
            description: "Isolated subnets of the shared VPC",
            tags,
        }, child);
        const family = `aurora-postgresql${args.database.engineVersion.split(".")[0]}`;
        const parameterGroup = new aws.rds.ClusterParameterGroup(`${name}-db-params`, {
            family,
            description: "tenancy shared cluster: TLS required, connections logged",
            parameters: [
                { name: "rds.force_ssl", value: "1" },
                { name: "log_connections", value: "1" },
                { name: "log_disconnections", value: "1" },
            ],
            tags,
        }, child);
        const serverless = !args.database.instanceClass;
        // A fixed identifier lets us own the log group Aurora exports to: encrypted and with retention, not RDS's default.
        const clusterIdentifier = `tenancy-${args.stack}-shared`;
        const clusterLogs = new aws.cloudwatch.LogGroup(`${name}-db-logs`, {
            name: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
            kmsKeyId: this.key.arn,
            retentionInDays: args.logRetentionDays,
            tags,
        }, stateful);
        // One suffix per incarnation: a rebuilt cluster's deletion must not collide with an earlier final snapshot.
        const snapshotSuffix = new random.RandomId(`${name}-db-final-snapshot`, { byteLength: 4 }, child);
        const majorUpgrade = args.database.allowMajorVersionUpgrade ?? false;
        this.cluster = new aws.rds.Cluster(`${name}-db`, {
            clusterIdentifier,
            engine: "aurora-postgresql",
            engineMode: "provisioned",
            engineVersion: args.database.engineVersion,
            databaseName: args.database.name,
            masterUsername,
            masterPassword: masterPassword.result,
            storageEncrypted: true,
            kmsKeyId: this.key.arn,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [dbSecurityGroup.id],
            dbClusterParameterGroupName: parameterGroup.name,
            backupRetentionPeriod: args.database.backupRetentionDays,
            preferredBackupWindow: "03:00-04:00",
            copyTagsToSnapshot: true,
            deletionProtection: protect,
            skipFinalSnapshot: !protect,
            finalSnapshotIdentifier: pulumi.interpolate`${clusterIdentifier}-final-${snapshotSuffix.hex}`,
            iamDatabaseAuthenticationEnabled: true,
            enabledCloudwatchLogsExports: ["postgresql"],
            ...(serverless
                ? { serverlessv2ScalingConfiguration: { minCapacity: args.database.minCapacity!, maxCapacity: args.database.maxCapacity! } }
                : {}),
            allowMajorVersionUpgrade: majorUpgrade,
            // A major upgrade runs in this deploy: pending, it would keep the replaced parameter group attached when
            // Pulumi deletes it. Otherwise changes wait for the maintenance window.
            applyImmediately: majorUpgrade,
            tags,
        // RDS applies minor upgrades itself; re-sending the configured older minor would be a downgrade RDS refuses
        // ("Cannot upgrade aurora-postgresql from 16.x to 16.6"), so engineVersion is ignored unless an upgrade is asked for.
        }, { ...stateful, ...(majorUpgrade ? {} : { ignoreChanges: ["engineVersion"] }), dependsOn: [clusterLogs] });
        const azs = this.network.availabilityZones;
        const monitoring = enhancedMonitoringRole(`${name}-db-monitoring`, tags, child);
        const instances: aws.rds.ClusterInstance[] = [];
        for (let i = 0; i <= args.database.readers; i++) {
            instances.push(new aws.rds.ClusterInstance(`${name}-db-${i === 0 ? "writer" : `reader-${i}`}`, {
                clusterIdentifier: this.cluster.id,
                // No engineVersion: instances run the cluster's version, and a copy here would only go stale.
                engine: "aurora-postgresql",
                instanceClass: args.database.instanceClass ?? "db.serverless",
                // Readers go to other AZs than the writer so a zone failure leaves a promotable copy.
                availabilityZone: azs.apply((zones) => zones[i % zones.length]),
                publiclyAccessible: false,
                dbSubnetGroupName: subnetGroup.name,
                autoMinorVersionUpgrade: true,
                performanceInsightsEnabled: true,
                performanceInsightsKmsKeyId: this.key.arn,
                performanceInsightsRetentionPeriod: 7,
                monitoringInterval: ENHANCED_MONITORING_INTERVAL_SECONDS,
                monitoringRoleArn: monitoring.role.arn,
                promotionTier: i,
                tags,
            }, { ...stateful, dependsOn: [monitoring.attachment] }));
        }
        this.databaseWriter = instances[0]!;
        this.databaseHost = this.cluster.endpoint;
        this.databasePort = this.cluster.port;
        this.databaseName = args.database.name;
        credentialsSecret(`${name}-db-admin-secret`, {
            secretName: tenantSecretName(args.stack, "platform", "db-admin"),
            description: "Shared Aurora cluster master credentials",
            kmsKeyId: this.key.arn,
            tags,
            host: this.databaseHost,
            port: this.databasePort,
            dbname: this.databaseName,
            username: masterUsername,
            password: masterPassword.result,
        }, stateful);

        // The provider reaches the cluster from where `pulumi up` runs (README "Reaching the shared cluster"): a runner in
        // the VPC or a tunnel, admitted by the rules below, verifying the RDS certificate, ideally with an IAM token.
        const partition = aws.getPartitionOutput({}, child).partition;
        const account = aws.getCallerIdentityOutput({}, child).accountId;
        const region = aws.getRegionOutput({}, child).region;
        this.adminConnectArn = pulumi.interpolate`arn:${partition}:rds-db:${region}:${account}:dbuser:${this.cluster.clusterResourceId}/${masterUsername}`;
        // The runner's own group: out to the cluster on 5432 and to HTTPS (AWS APIs, GitHub, Pulumi Cloud through the
        // NAT); nothing may connect in. Any further source (a tunnel host, a tooling VPC) comes from adminIngress.
        const runnerSecurityGroup = new aws.ec2.SecurityGroup(`${name}-deploy-runner-sg`, {
            vpcId: this.network.vpcId,
            description: "tenancy deploy runner (pulumi up): PostgreSQL to the shared cluster and HTTPS out, nothing in",
            tags: { ...tags, Name: `${name}-deploy-runner` },
        }, child);
        this.deployRunnerSecurityGroupId = runnerSecurityGroup.id;
        new aws.vpc.SecurityGroupEgressRule(`${name}-deploy-runner-to-db`, {
            securityGroupId: runnerSecurityGroup.id,
            referencedSecurityGroupId: dbSecurityGroup.id,
            ipProtocol: "tcp",
            fromPort: 5432,
            toPort: 5432,
            description: "PostgreSQL to the shared cluster",
            tags,
        }, child);
        new aws.vpc.SecurityGroupEgressRule(`${name}-deploy-runner-https`, {
            securityGroupId: runnerSecurityGroup.id,
            cidrIpv4: "0.0.0.0/0",
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            description: "HTTPS to AWS APIs, GitHub and Pulumi Cloud through the NAT",
            tags,
        }, child);
        new aws.vpc.SecurityGroupIngressRule(`${name}-db-from-deploy-runner`, {
            securityGroupId: dbSecurityGroup.id,
            referencedSecurityGroupId: runnerSecurityGroup.id,
            ipProtocol: "tcp",
            fromPort: 5432,
            toPort: 5432,
            description: "PostgreSQL from the deploy runner (pulumi up)",
            tags,
        }, child);
        const ingress = args.database.adminIngress ?? { securityGroupIds: [], cidrBlocks: [] };
        for (const sg of ingress.securityGroupIds) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-db-from-admin-${sg}`, {
                securityGroupId: dbSecurityGroup.id,
                referencedSecurityGroupId: sg,
                ipProtocol: "tcp",
                fromPort: 5432,
                toPort: 5432,
                description: "PostgreSQL from an admin security group (pulumi up)",
                tags,
            }, child);
        }
        for (const cidr of ingress.cidrBlocks) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-db-from-admin-${cidr.replace("/", "-")}`, {
                securityGroupId: dbSecurityGroup.id,
                cidrIpv4: cidr,
                ipProtocol: "tcp",
                fromPort: 5432,
                toPort: 5432,
                description: "PostgreSQL from the deploy network (pulumi up)",
                tags,
            }, child);
        }
        const tls = args.database.adminTls ?? { mode: "verify-full", rootCertPath: "/tmp/rds-global-bundle.pem" };
        const iam = args.database.adminAuth === "iam";
        this.postgresProvider = new postgresql.Provider(`${name}-pg`, {
            host: args.database.adminHost ?? this.cluster.endpoint,
            port: args.database.adminPort ?? this.cluster.port,
            username: masterUsername,
            // The token is signed for host:port and the region; the master user must hold rds_iam (a one-time grant).
            ...(iam ? { awsRdsIamAuth: true, awsRdsIamRegion: region } : { password: masterPassword.result }),
            database: args.database.name,
            sslmode: tls.mode,
            sslrootcert: tls.rootCertPath,
            superuser: false,
            connectTimeout: 15,
        // The cluster is "available" long before its writer: SQL sent earlier finds no one listening on the endpoint.
        }, { parent: this, dependsOn: [this.databaseWriter] });
        this.hardening = new DatabaseHardening(`${name}-hardening`, {
            databaseName: args.database.name,
            stack: args.stack,
            secretKmsKeyId: this.key.arn,
            host: this.databaseHost,
            port: this.databasePort,
            protect,
            tags,
        }, { parent: this, provider: this.postgresProvider, dependsOn: [this.databaseWriter] });

        const ecsCluster = new aws.ecs.Cluster(`${name}-ecs`, {
            settings: [{ name: "containerInsights", value: "enabled" }],
            tags,
        }, child);
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
        new aws.vpc.SecurityGroupIngressRule(`${name}-db-from-app`, {
            securityGroupId: dbSecurityGroup.id,
            referencedSecurityGroupId: this.app.securityGroupId,
            ipProtocol: "tcp",
            fromPort: 5432,
            toPort: 5432,
            description: "PostgreSQL from the shared app",
            tags,
        }, child);

        this.registerOutputs({
            vpcId: this.network.vpcId,
            clusterEndpoint: this.cluster.endpoint,
            adminConnectArn: this.adminConnectArn,
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
