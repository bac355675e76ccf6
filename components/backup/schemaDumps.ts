/**
 * Logical backups of shared tenants (README "Logical backups of shared tenants"): one encrypted bucket per environment
 * ({@link SchemaDumpStore}, beside the platform) and, per shared database cell, a scheduled Fargate task that dumps each
 * tenant schema of the cell into `<bucket>/<cell>/<slug>/` ({@link SchemaDumpJob}, beside the cell). The task runs
 * backup/dump.sh (its image: backup/Dockerfile) as the cell's `tenancy_backup` role, a member of the read-only
 * `tenancy_reporting` role (components/databaseHardening.ts); it can write only under its cell's prefix.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { EncryptionKey } from "../encryptionKey";
import { ecrLifecyclePolicy } from "../monitoring";
import { DEFAULT_UNTAGGED_IMAGE_EXPIRY_DAYS } from "../sharedPlatform";

/** CloudWatch namespace of the job's metrics `Failures` and `TenantsDumped` (dimensions Stack, Cell): what backup/dump.sh puts. */
export const SCHEMA_DUMP_METRIC_NAMESPACE = "Tenancy/SchemaDumps";
/** The image's `postgres` user (official image, uid 999): the task never runs as root. */
const CONTAINER_USER = "999:999";
const CONTAINER_NAME = "dump";
/** Where the image keeps the RDS CA bundle (backup/Dockerfile). */
const RDS_CA_BUNDLE = "/usr/local/share/rds-global-bundle.pem";

/** `pg16-<content hash>`: a new tag whenever the dump program changes, so the immutable repository takes it. */
export function schemaDumpImageTag(major: string, programFiles: readonly string[]): string {
    const hash = createHash("sha256");
    for (const content of programFiles) hash.update(content).update("\0");
    return `pg${major}-${hash.digest("hex").slice(0, 12)}`;
}

/** The PostgreSQL major version of an engine version: `16.6` → `16`. */
export function postgresMajor(engineVersion: string): string {
    return engineVersion.split(".")[0]!;
}

/** ECR repository of the dump images of an environment: one name per environment, as the documented build command uses it. */
export function schemaDumpRepositoryName(env: string): string {
    return `tenancy-${env}-schema-dump`;
}

export interface SchemaDumpStoreArgs {
    /** The environment: the repository's name. */
    env: string;
    /** Days a dump stays (the lifecycle's expiration). */
    retentionDays: number;
    /** Days a noncurrent version stays (an overwritten object's, or an expired one's). */
    noncurrentVersionDays: number;
    /** Move dumps to Standard-IA after this many days. Defaults to never. */
    infrequentAccessAfterDays?: number;
    /** One image per PostgreSQL major the cells run, with its tag (see {@link schemaDumpImageTag}). */
    images: { major: string; tag: string }[];
    /** Build and push the images from this directory (backup/) with @pulumi/docker. Defaults to none: the images are expected in the repository. */
    buildContext?: string;
    /** KMS key of the image repository: the platform's, not the dump key (whoever may decrypt dumps needs nothing else). */
    repositoryKeyArn: pulumi.Input<string>;
    /** Protect the key, the bucket and the repository; a protected bucket is never emptied by Pulumi, nor its repository. */
    protect: boolean;
    tags: Record<string, string>;
}

/**
 * The environment's dump bucket and image repository: SSE-KMS with a key of its own (bucket key on), public access
 * blocked, owner-enforced, TLS only, uploads only with that key, versioned, with lifecycle rules (expiry after the
 * retention, noncurrent versions after a few days, incomplete multipart uploads after one, delete markers cleaned up).
 * No Object Lock (README: a tenant's erasure must stay possible; the jobs cannot delete anyway).
 */
export class SchemaDumpStore extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly keyArn: pulumi.Output<string>;
    readonly repositoryUrl: pulumi.Output<string>;
    /** Image URI per PostgreSQL major (`16` → `<repository>:pg16-…`, or its digest when built here). */
    readonly images: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: SchemaDumpStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = schemaDumpStoreProblems(args);
        if (problems.length) throw new Error(`SchemaDumpStore ${name}: ${problems.join("; ")}`);
        super("tenancy:backup:SchemaDumpStore", name, {}, opts);
        const { protect, tags } = args;
        const child = { parent: this };
        // The bucket's safeguards go with it: retained when it is, never a bare bucket left behind.
        const retained = { parent: this, retainOnDelete: protect };

        const key = new EncryptionKey(`${name}-kms`, { description: `tenancy ${args.env}: shared tenants' schema dumps`, tags, protect }, child);
        const bucket = new aws.s3.Bucket(`${name}-bucket`, {
            // A dev stack can go with its dumps; a protected one never loses them to Pulumi.
            forceDestroy: !protect,
            tags: { ...tags, Name: `${name}-bucket` },
        }, { parent: this, protect, retainOnDelete: protect });
        const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-bucket`, {
            bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
        }, retained);
        const ownership = new aws.s3.BucketOwnershipControls(`${name}-bucket`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, retained);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-bucket`, {
            bucket: bucket.id,
            // The bucket key cuts KMS calls (and their cost) to one per object batch; the context becomes the bucket's ARN.
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
        }, retained);
        // Versioned: an upload under an existing key (a rerun within the same second) keeps the earlier dump for a while.
        const versioning = new aws.s3.BucketVersioning(`${name}-bucket`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, retained);
        new aws.s3.BucketLifecycleConfiguration(`${name}-bucket`, {
            bucket: bucket.id,
            rules: [
                {
                    id: "expire-schema-dumps",
                    status: "Enabled",
                    filter: { prefix: "" },
                    expiration: { days: args.retentionDays },
                    noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                    ...(args.infrequentAccessAfterDays !== undefined ? { transitions: [{ days: args.infrequentAccessAfterDays, storageClass: "STANDARD_IA" }] } : {}),
                },
                // Expiring a versioned object leaves a delete marker; once its noncurrent version is gone, so is the marker.
                { id: "remove-expired-delete-markers", status: "Enabled", filter: { prefix: "" }, expiration: { expiredObjectDeleteMarker: true } },
            ],
        }, { ...retained, dependsOn: [versioning] });
        const document = aws.iam.getPolicyDocumentOutput({
            statements: [
                {
                    sid: "DenyInsecureTransport",
                    effect: "Deny",
                    principals: [{ type: "*", identifiers: ["*"] }],
                    actions: ["s3:*"],
                    resources: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                    conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
                },
                {
                    // An upload that names a key must name this bucket's (the job does). IfExists: UploadPart is authorized
                    // as s3:PutObject and carries no SSE header (plain StringNotEquals denied every multipart upload);
                    // a request without the header gets the bucket's default encryption, the same key.
                    sid: "DenyUploadsNotUnderTheDumpKey",
                    effect: "Deny",
                    principals: [{ type: "*", identifiers: ["*"] }],
                    actions: ["s3:PutObject"],
                    resources: [pulumi.interpolate`${bucket.arn}/*`],
                    conditions: [{ test: "StringNotEqualsIfExists", variable: "s3:x-amz-server-side-encryption-aws-kms-key-id", values: [key.arn] }],
                },
                {
                    // And an upload that names an encryption names SSE-KMS: no SSE-S3 object (it carries no key id to check).
                    sid: "DenyUploadsNotUnderKms",
                    effect: "Deny",
                    principals: [{ type: "*", identifiers: ["*"] }],
                    actions: ["s3:PutObject"],
                    resources: [pulumi.interpolate`${bucket.arn}/*`],
                    conditions: [{ test: "StringNotEqualsIfExists", variable: "s3:x-amz-server-side-encryption", values: ["aws:kms"] }],
                },
            ],
        }, child);
        // S3 rejects concurrent configuration changes of one bucket; the public-access block must be in place first anyway.
        new aws.s3.BucketPolicy(`${name}-bucket`, { bucket: bucket.id, policy: document.json }, { ...retained, dependsOn: [publicAccess, ownership] });

        const repository = new aws.ecr.Repository(`${name}-repo`, {
            name: schemaDumpRepositoryName(args.env),
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            // Not the dump key: README keeps that key for dumps alone, so a restore operator's Decrypt grant opens nothing else.
            encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.repositoryKeyArn }],
            // Images are rebuilt from backup/: a dev stack's destroy may delete them; a protected stack's never.
            forceDelete: !protect,
            tags,
        }, { parent: this, protect });
        new aws.ecr.LifecyclePolicy(`${name}-repo-lifecycle`, {
            repository: repository.name,
            policy: JSON.stringify(ecrLifecyclePolicy(DEFAULT_UNTAGGED_IMAGE_EXPIRY_DAYS)),
        }, child);

        this.images = {};
        for (const { major, tag } of args.images) {
            const uri = pulumi.interpolate`${repository.repositoryUrl}:${tag}`;
            if (!args.buildContext) {
                this.images[major] = uri;
                continue;
            }
            const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, child);
            this.images[major] = new docker.Image(`${name}-image-pg${major}`, {
                imageName: uri,
                build: { context: args.buildContext, platform: "linux/amd64", args: { PG_MAJOR: major } },
                registry: { server: repository.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) },
            }, child).repoDigest;
        }
        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.keyArn = key.arn;
        this.repositoryUrl = repository.repositoryUrl;
        this.registerOutputs({ bucketName: this.bucketName, keyArn: this.keyArn, repositoryUrl: this.repositoryUrl });
    }
}

/** Checks of the store's arguments that need no engine. */
export function schemaDumpStoreProblems(args: Pick<SchemaDumpStoreArgs, "retentionDays" | "infrequentAccessAfterDays" | "images">): string[] {
    const problems: string[] = [];
    if (!Number.isInteger(args.retentionDays) || args.retentionDays < 1) problems.push(`retentionDays: ${args.retentionDays} is not allowed (allowed: a whole number of days, at least 1)`);
    const ia = args.infrequentAccessAfterDays;
    if (ia !== undefined && (ia < 30 || ia >= args.retentionDays)) {
        problems.push(`infrequentAccessAfterDays: ${ia} is not allowed (allowed: 30 or more, and less than retentionDays ${args.retentionDays})`);
    }
    if (args.images.length === 0) problems.push("images: name at least one PostgreSQL major version");
    return problems;
}

export interface SchemaDumpJobArgs {
    /** The environment: the task family's name and a metric dimension. */
    env: string;
    /** The cell: its bucket prefix `<cell>/`, the family's name and a metric dimension. */
    cell: string;
    /** Image URI with the cell's PostgreSQL major (SchemaDumpStore.images). */
    image: pulumi.Input<string>;
    /** The platform's ECS cluster, where the tasks run. */
    clusterArn: pulumi.Input<string>;
    vpcId: pulumi.Input<string>;
    /** Private subnets of the shared VPC (outbound through the NAT to S3, ECR, Logs and Secrets Manager). */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The cell's database security group: it admits the job on 5432. */
    databaseSecurityGroupId: pulumi.Input<string>;
    /** Where and what the job connects to: the cell's writer endpoint and app database. */
    database: { host: pulumi.Input<string>; port: pulumi.Input<number>; name: pulumi.Input<string> };
    /** The job's login (`tenancy_backup`) and its secret (JSON with `password`), encrypted with `secretKmsKeyArn`. */
    login: { username: pulumi.Input<string>; secretArn: pulumi.Input<string> };
    /** The platform key: the login's secret and the log group. */
    secretKmsKeyArn: pulumi.Input<string>;
    /** The dump bucket and its key (SchemaDumpStore). */
    bucket: { name: pulumi.Input<string>; arn: pulumi.Input<string>; keyArn: pulumi.Input<string> };
    /** EventBridge Scheduler expression and its time zone. */
    schedule: string;
    timezone: string;
    /** Fargate size and storage (GiB) of a task. */
    cpu: number;
    memory: number;
    ephemeralStorageGiB: number;
    logRetentionDays: number;
    tags: Record<string, string>;
}

/**
 * One cell's scheduled dump: an EventBridge Scheduler schedule runs a Fargate task (backup/dump.sh) in the shared VPC's
 * private subnets with a security group of its own that the cell admits on 5432. Its task role may only put objects
 * under `<cell>/` of the bucket (with the bucket's key) and its metrics; its execution role reads only the job's login.
 */
export class SchemaDumpJob extends pulumi.ComponentResource {
    readonly securityGroupId: pulumi.Output<string>;
    readonly taskDefinitionArn: pulumi.Output<string>;
    readonly taskRoleArn: pulumi.Output<string>;
    readonly scheduleArn: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;

    constructor(name: string, args: SchemaDumpJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tenancy:backup:SchemaDumpJob", name, {}, opts);
        const { tags } = args;
        const child = { parent: this };
        const partition = aws.getPartitionOutput({}, child).partition;
        const account = aws.getCallerIdentityOutput({}, child).accountId;
        const region = aws.getRegionOutput({}, child).region;
        const family = `tenancy-${args.env}-${args.cell}-schema-dump`;

        const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
            kmsKeyId: args.secretKmsKeyArn, retentionInDays: args.logRetentionDays, tags,
        // A removed cell's job logs tell what its last dumps did; retention still expires them.
        }, { ...child, retainOnDelete: true });

        const trust = (service: string, sourceArn?: pulumi.Input<string>) => aws.iam.getPolicyDocumentOutput({
            statements: [{
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: [service] }],
                conditions: [
                    { test: "StringEquals", variable: "aws:SourceAccount", values: [account] },
                    ...(sourceArn ? [{ test: "ArnLike", variable: "aws:SourceArn", values: [sourceArn] }] : []),
                ],
            }],
        }, child).json;

        const executionRole = new aws.iam.Role(`${name}-execution-role`, {
            description: `Starts the ${args.cell} cell's schema dump tasks: pulls the image, writes logs, injects the job's login`,
            assumeRolePolicy: trust("ecs-tasks.amazonaws.com"),
            tags,
        }, child);
        const executionPolicies: pulumi.Resource[] = [
            new aws.iam.RolePolicyAttachment(`${name}-execution-role`, {
                role: executionRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
            }, child),
            new aws.iam.RolePolicy(`${name}-execution-role-login`, {
                role: executionRole.id,
                policy: aws.iam.getPolicyDocumentOutput({
                    statements: [
                        { sid: "ReadTheJobsLogin", actions: ["secretsmanager:GetSecretValue"], resources: [args.login.secretArn] },
                        {
                            sid: "DecryptItThroughSecretsManager",
                            actions: ["kms:Decrypt"],
                            resources: [args.secretKmsKeyArn],
                            conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [pulumi.interpolate`secretsmanager.${region}.amazonaws.com`] }],
                        },
                    ],
                }, child).json,
            }, child),
        ];

        const taskRole = new aws.iam.Role(`${name}-task-role`, {
            description: `What the ${args.cell} cell's schema dump task may do: write under ${args.cell}/ of the dump bucket`,
            assumeRolePolicy: trust("ecs-tasks.amazonaws.com", pulumi.interpolate`arn:${partition}:ecs:${region}:${account}:*`),
            tags,
        }, child);
        new aws.iam.RolePolicy(`${name}-task-role`, {
            role: taskRole.id,
            policy: aws.iam.getPolicyDocumentOutput({
                statements: [
                    {
                        // Write only, and only its own cell's prefix: no read, list or delete of any dump.
                        sid: "WriteThisCellsDumps",
                        actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
                        resources: [pulumi.interpolate`${args.bucket.arn}/${args.cell}/*`],
                    },
                    {
                        // SSE-KMS uploads need a data key (and Decrypt for multipart ones), only through S3 for this bucket.
                        sid: "EncryptThemWithTheDumpKey",
                        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
                        resources: [args.bucket.keyArn],
                        conditions: [
                            { test: "StringEquals", variable: "kms:ViaService", values: [pulumi.interpolate`s3.${region}.amazonaws.com`] },
                            { test: "StringLike", variable: "kms:EncryptionContext:aws:s3:arn", values: [args.bucket.arn, pulumi.interpolate`${args.bucket.arn}/${args.cell}/*`] },
                        ],
                    },
                    {
                        sid: "PutTheJobsMetrics",
                        actions: ["cloudwatch:PutMetricData"],
                        resources: ["*"],
                        conditions: [{ test: "StringEquals", variable: "cloudwatch:namespace", values: [SCHEMA_DUMP_METRIC_NAMESPACE] }],
                    },
                ],
            }, child).json,
        }, child);

        // --- Network: nothing in; out to the cell on 5432 and HTTPS (S3, ECR, Logs, Secrets Manager through the NAT).
        const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
            vpcId: args.vpcId,
            description: `Schema dump tasks of cell ${args.cell}: PostgreSQL to the cell and HTTPS out, nothing in`,
            tags: { ...tags, Name: `${name}` },
        }, child);
        new aws.vpc.SecurityGroupEgressRule(`${name}-to-db`, {
            securityGroupId: sg.id, referencedSecurityGroupId: args.databaseSecurityGroupId, ipProtocol: "tcp", fromPort: 5432, toPort: 5432,
            description: `PostgreSQL to cell ${args.cell}`, tags,
        }, child);
        new aws.vpc.SecurityGroupEgressRule(`${name}-https`, {
            securityGroupId: sg.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443,
            description: "HTTPS to AWS APIs through the NAT", tags,
        }, child);
        new aws.vpc.SecurityGroupIngressRule(`${name}-into-db`, {
            securityGroupId: args.databaseSecurityGroupId, referencedSecurityGroupId: sg.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432,
            description: "PostgreSQL from the schema dump tasks", tags,
        }, child);

        const environment: Record<string, pulumi.Input<string>> = {
            AWS_REGION: region,
            DUMP_BUCKET: args.bucket.name,
            DUMP_CELL: args.cell,
            DUMP_SSE_KMS_ARN: args.bucket.keyArn,
            DUMP_SCRATCH: "/scratch",
            DUMP_STACK: args.env,
            HOME: "/scratch",
            PGDATABASE: args.database.name,
            PGHOST: args.database.host,
            PGPORT: pulumi.output(args.database.port).apply(String),
            PGSSLMODE: "verify-full",
            PGSSLROOTCERT: RDS_CA_BUNDLE,
            PGUSER: args.login.username,
            // The root filesystem is read-only: pg_dump, psql and the AWS CLI write temporary files here.
            TMPDIR: "/scratch",
        };
        const taskDefinition = new aws.ecs.TaskDefinition(`${name}-task`, {
            family,
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: String(args.cpu),
            memory: String(args.memory),
            ephemeralStorage: { sizeInGib: args.ephemeralStorageGiB },
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi.jsonStringify([{
                name: CONTAINER_NAME,
                image: args.image,
                essential: true,
                user: CONTAINER_USER,
                privileged: false,
                readonlyRootFilesystem: true,
                linuxParameters: { initProcessEnabled: true, capabilities: { drop: ["ALL"] } },
                // The dump is written here before its upload: the task's ephemeral storage.
                mountPoints: [{ sourceVolume: "scratch", containerPath: "/scratch", readOnly: false }],
                environment: Object.keys(environment).sort().map((k) => ({ name: k, value: environment[k] })),
                // The job's own login, never the master's: injected by the execution role, not visible in the task definition.
                secrets: [{ name: "PGPASSWORD", valueFrom: pulumi.interpolate`${args.login.secretArn}:password::` }],
                logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": CONTAINER_NAME } },
            }]),
            volumes: [{ name: "scratch" }],
            tags,
        // The login is injected at task start: the execution role must be able to read it by then.
        }, { ...child, dependsOn: executionPolicies });

        // --- Schedule: EventBridge Scheduler (time zones, retries of a failed RunTask, no rule-per-target limits).
        const schedulerRole = new aws.iam.Role(`${name}-scheduler-role`, {
            description: `Lets EventBridge Scheduler start the ${args.cell} cell's schema dump task`,
            assumeRolePolicy: trust("scheduler.amazonaws.com"),
            tags,
        }, child);
        new aws.iam.RolePolicy(`${name}-scheduler-role`, {
            role: schedulerRole.id,
            policy: aws.iam.getPolicyDocumentOutput({
                statements: [
                    {
                        sid: "RunTheDumpTask",
                        actions: ["ecs:RunTask"],
                        resources: [pulumi.interpolate`arn:${partition}:ecs:${region}:${account}:task-definition/${family}:*`],
                        conditions: [{ test: "ArnEquals", variable: "ecs:cluster", values: [args.clusterArn] }],
                    },
                    {
                        sid: "PassItsRoles",
                        actions: ["iam:PassRole"],
                        resources: [taskRole.arn, executionRole.arn],
                        conditions: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
                    },
                ],
            }, child).json,
        }, child);
        const schedule = new aws.scheduler.Schedule(`${name}-schedule`, {
            description: `Logical backup of every shared tenant schema of cell ${args.cell} (backup/dump.sh)`,
            scheduleExpression: args.schedule,
            scheduleExpressionTimezone: args.timezone,
            flexibleTimeWindow: { mode: "OFF" },
            state: "ENABLED",
            target: {
                arn: args.clusterArn,
                roleArn: schedulerRole.arn,
                ecsParameters: {
                    taskDefinitionArn: taskDefinition.arn,
                    launchType: "FARGATE",
                    platformVersion: "LATEST",
                    taskCount: 1,
                    networkConfiguration: { subnets: args.subnetIds, securityGroups: [sg.id], assignPublicIp: false },
                },
                // A RunTask refused for capacity is retried for an hour; a task that ran and failed is not (its exit status and metric tell).
                retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
            },
        }, child);

        this.securityGroupId = sg.id;
        this.taskDefinitionArn = taskDefinition.arn;
        this.taskRoleArn = taskRole.arn;
        this.scheduleArn = schedule.arn;
        this.logGroupName = logGroup.name;
        this.registerOutputs({ taskDefinitionArn: this.taskDefinitionArn, scheduleArn: this.scheduleArn, logGroupName: this.logGroupName });
    }
}
