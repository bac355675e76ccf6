/**
 * The schema dumps on the recorded graph of the real stack program, in both layouts: the environment's encrypted bucket
 * (encryption, public access, TLS-only and key-only policy, versioning, lifecycle, protection), and per cell a scheduled
 * Fargate task whose roles, security group rules, schedule and task definition give it exactly what backup/dump.sh
 * needs: read the cell as tenancy_backup, write under its own cell's prefix.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fleetReferences, recordStack, removeDir } from "../stacks/harness";

const SHARED = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { main: {}, b: { maxCapacity: 8 } } };
const FILES = { "alpha.yaml": sharedTenant("alpha"), "bravo.yaml": sharedTenant("bravo", "cell: b\n") };

const roots: string[] = [];
const repo = (overrides: Record<string, unknown> = {}) => {
    const root = makeRepo(FILES, baseStackConfig({ "tenancy:shared": SHARED, ...overrides }));
    roots.push(root);
    return root;
};
afterAll(() => roots.forEach(removeDir));

const ofType = (r: RecordResult, type: string) => r.resources.filter((x) => x.type === type);
const named = (r: RecordResult, type: string, name: string): RecordedResource => {
    const found = r.resources.filter((x) => x.type === type && x.name === name);
    if (found.length !== 1) throw new Error(`${found.length} ${type} named ${name}`);
    return found[0]!;
};
const byUrn = (r: RecordResult, urn: string) => r.resources.find((x) => x.urn === urn)!;
/** A recorded policy document (JSON text) as statements. */
const statements = (json: unknown) => (JSON.parse(json as string) as { Statement: Record<string, unknown>[] }).Statement;
const T = {
    bucket: "aws:s3/bucket:Bucket",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    key: "aws:kms/key:Key",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    schedule: "aws:scheduler/schedule:Schedule",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    store: "tenancy:backup:SchemaDumpStore",
    job: "tenancy:backup:SchemaDumpJob",
};

let single: RecordResult;
let protectedStack: RecordResult;
beforeAll(async () => {
    single = await recordStack(repo(), "test");
    // One recording for every non-default setting: protected, PostgreSQL 15, its own schedule, size, retention, built image.
    protectedStack = await recordStack(repo({
        "tenancy:protect": true,
        "tenancy:shared": { ...SHARED, database: { ...SHARED.database, engineVersion: "15.8" } },
        "tenancy:backup": {
            shared: {
                retentionDays: 90, infrequentAccessAfterDays: 30, schedule: "rate(12 hours)", timezone: "Europe/Berlin", cpu: 1024, memory: 2048,
                ephemeralStorageGiB: 100, buildImage: true,
            },
        },
    }), "test");
});

describe("the dump bucket (one per environment, beside the platform)", () => {
    it("is a SchemaDumpStore 'shared-schema-dumps' under the platform, its bucket encrypted with a customer-managed key of its own, bucket key on", () => {
        const [store] = ofType(single, T.store);
        expect(store!.name).toBe("shared-schema-dumps");
        expect(store!.parent).toBe(named(single, "tenancy:platform:SharedPlatform", "shared").urn);
        const bucket = named(single, T.bucket, "shared-schema-dumps-bucket");
        expect(bucket.parent).toBe(store!.urn);
        const key = named(single, T.key, "shared-schema-dumps-kms-key");
        expect(key.inputs).toMatchObject({ enableKeyRotation: true });
        const platformKey = named(single, T.key, "shared-platform-key");
        expect(key.urn).not.toBe(platformKey.urn);
        const sse = named(single, T.sse, "shared-schema-dumps-bucket");
        expect(sse.inputs).toEqual({
            bucket: bucket.outputs["id"] ?? bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.outputs["arn"] }, bucketKeyEnabled: true }],
        });
    });

    it("blocks public access, enforces the owner, is versioned, and only TLS and uploads under its key are allowed", () => {
        const bucket = named(single, T.bucket, "shared-schema-dumps-bucket");
        const key = named(single, T.key, "shared-schema-dumps-kms-key");
        expect(named(single, T.publicAccess, "shared-schema-dumps-bucket").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        expect(named(single, T.ownership, "shared-schema-dumps-bucket").inputs["rule"]).toEqual({ objectOwnership: "BucketOwnerEnforced" });
        expect(named(single, T.versioning, "shared-schema-dumps-bucket").inputs["versioningConfiguration"]).toEqual({ status: "Enabled" });
        const arn = bucket.outputs["arn"] as string;
        const policy = statements(named(single, T.policy, "shared-schema-dumps-bucket").inputs["policy"]);
        expect(policy).toEqual([
            expect.objectContaining({ Sid: "DenyInsecureTransport", Effect: "Deny", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }),
            expect.objectContaining({
                // IfExists: UploadPart is authorized as s3:PutObject and carries no SSE header; plain StringNotEquals denied every multipart upload.
                Sid: "DenyUploadsNotUnderTheDumpKey", Effect: "Deny", Action: "s3:PutObject", Resource: `${arn}/*`,
                Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": key.outputs["arn"] } },
            }),
            expect.objectContaining({
                Sid: "DenyUploadsNotUnderKms", Effect: "Deny", Action: "s3:PutObject", Resource: `${arn}/*`,
                Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
            }),
        ]);
        // Nothing in it allows anything: access comes from IAM (the jobs' task roles) only.
        expect(policy.filter((s) => s["Effect"] !== "Deny")).toEqual([]);
    });

    it("lifecycle: dumps expire after the retention, noncurrent versions after 7 days, incomplete uploads after 1, delete markers go", () => {
        const rules = (r: RecordResult) => named(r, T.lifecycle, "shared-schema-dumps-bucket").inputs["rules"];
        expect(rules(single)).toEqual([
            {
                id: "expire-schema-dumps", status: "Enabled", filter: { prefix: "" }, expiration: { days: 35 },
                noncurrentVersionExpiration: { noncurrentDays: 7 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
            },
            { id: "remove-expired-delete-markers", status: "Enabled", filter: { prefix: "" }, expiration: { expiredObjectDeleteMarker: true } },
        ]);
        expect((rules(protectedStack) as Record<string, unknown>[])[0]).toMatchObject({
            expiration: { days: 90 }, transitions: [{ days: 30, storageClass: "STANDARD_IA" }],
        });
    });

    it("in a protected stack the bucket, its key and the image repository are protected and the bucket is never emptied; in dev it can go", () => {
        const bucket = named(protectedStack, T.bucket, "shared-schema-dumps-bucket");
        expect(bucket.options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(bucket.inputs["forceDestroy"]).toBe(false);
        expect(named(protectedStack, T.key, "shared-schema-dumps-kms-key").options.protect).toBe(true);
        expect(named(protectedStack, "aws:ecr/repository:Repository", "shared-schema-dumps-repo").options.protect).toBe(true);
        const dev = named(single, T.bucket, "shared-schema-dumps-bucket");
        expect(dev.options.protect).toBe(false);
        expect(dev.inputs["forceDestroy"]).toBe(true);
        // The repository likewise: a dev stack's destroy deletes its images, a protected stack's repository keeps them.
        expect(named(protectedStack, "aws:ecr/repository:Repository", "shared-schema-dumps-repo").inputs["forceDelete"]).toBe(false);
        expect(named(single, "aws:ecr/repository:Repository", "shared-schema-dumps-repo").inputs["forceDelete"]).toBe(true);
    });

    it("the image repository is encrypted with the platform's key, not the dump key (which opens dumps and nothing else)", () => {
        const repository = named(single, "aws:ecr/repository:Repository", "shared-schema-dumps-repo");
        expect(repository.inputs["encryptionConfigurations"]).toEqual([{ encryptionType: "KMS", kmsKey: named(single, T.key, "shared-platform-key").outputs["arn"] }]);
        expect(named(single, T.key, "shared-platform-key").outputs["arn"]).not.toBe(named(single, T.key, "shared-schema-dumps-kms-key").outputs["arn"]);
    });

    it("the platform output names the bucket, its key, the ECS cluster and one image per PostgreSQL major, at the end", () => {
        const platform = single.outputs["platform"] as Record<string, unknown>;
        const keys = Object.keys(platform);
        expect(keys.slice(-5)).toEqual(["ecsClusterArn", "schemaBackupBucket", "schemaBackupBucketArn", "schemaBackupKeyArn", "schemaBackupImages"]);
        const bucket = named(single, T.bucket, "shared-schema-dumps-bucket");
        expect(platform["schemaBackupBucket"]).toBe(bucket.outputs["bucket"]);
        expect(platform["schemaBackupBucketArn"]).toBe(bucket.outputs["arn"]);
        expect(platform["schemaBackupKeyArn"]).toBe(named(single, T.key, "shared-schema-dumps-kms-key").outputs["arn"]);
        expect(platform["ecsClusterArn"]).toBe(named(single, "aws:ecs/cluster:Cluster", "shared-ecs").outputs["arn"]);
        const repository = named(single, "aws:ecr/repository:Repository", "shared-schema-dumps-repo");
        expect(repository.inputs).toMatchObject({ name: "tenancy-test-schema-dump", imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
        expect(platform["schemaBackupImages"]).toEqual({ "16": expect.stringMatching(new RegExp(`^${repository.outputs["repositoryUrl"]}:pg16-[0-9a-f]{12}$`)) });
    });

    it("enabled: false declares no bucket and no job, and the platform output has only the ECS cluster", async () => {
        const off = await recordStack(repo({ "tenancy:backup": { shared: { enabled: false } } }), "test");
        expect(ofType(off, T.store)).toEqual([]);
        expect(ofType(off, T.job)).toEqual([]);
        expect(ofType(off, T.schedule)).toEqual([]);
        expect(Object.keys(off.outputs["platform"] as object).filter((k) => k.startsWith("schemaBackup"))).toEqual([]);
    });
});

describe("each cell's dump job", () => {
    const job = (r: RecordResult, cell: string) => named(r, T.job, `cell-${cell}-dumps`);
    const inJob = (r: RecordResult, cell: string, type: string, suffix: string) => {
        const found = named(r, type, `cell-${cell}-dumps-${suffix}`);
        expect(found.parent).toBe(job(r, cell).urn);
        return found;
    };

    it("one SchemaDumpJob per cell, beside the cell under the stack", () => {
        const jobs = ofType(single, T.job);
        expect(jobs.map((j) => j.name).sort()).toEqual(["cell-b-dumps", "cell-main-dumps"]);
        for (const j of jobs) expect(j.parent).toBe(single.resources[0]!.urn);
    });

    it.each(["main", "b"])("cell %s: the task role may only put objects under <cell>/ with the dump key, through S3, and its metrics", (cell) => {
        const bucketArn = named(single, T.bucket, "shared-schema-dumps-bucket").outputs["arn"] as string;
        const keyArn = named(single, T.key, "shared-schema-dumps-kms-key").outputs["arn"];
        const role = inJob(single, cell, T.role, "task-role");
        expect(statements(role.inputs["assumeRolePolicy"])[0]).toMatchObject({ Principal: { Service: "ecs-tasks.amazonaws.com" } });
        const policies = ofType(single, T.rolePolicy).filter((p) => p.inputs["role"] === role.outputs["id"] || p.inputs["role"] === role.id);
        expect(policies.map((p) => p.name)).toEqual([`cell-${cell}-dumps-task-role`]);
        expect(statements(policies[0]!.inputs["policy"])).toEqual([
            { Sid: "WriteThisCellsDumps", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `${bucketArn}/${cell}/*` },
            {
                Sid: "EncryptThemWithTheDumpKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn,
                Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" }, StringLike: { "kms:EncryptionContext:aws:s3:arn": [bucketArn, `${bucketArn}/${cell}/*`] } },
            },
            { Sid: "PutTheJobsMetrics", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": "Tenancy/SchemaDumps" } } },
        ]);
        // No managed policy on the task role: those statements are all it can do.
        expect(ofType(single, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs["role"] === role.outputs["name"] || a.inputs["role"] === role.inputs["name"])).toEqual([]);
    });

    it("the execution role reads only the job's own login (tenancy_backup's secret), never the cell's master secret", () => {
        const role = inJob(single, "b", T.role, "execution-role");
        const policy = named(single, T.rolePolicy, "cell-b-dumps-execution-role-login");
        expect(policy.inputs["role"]).toBe(role.id);
        const backupSecret = named(single, "aws:secretsmanager/secret:Secret", "cell-b-hardening-backup-secret");
        const [read, decrypt] = statements(policy.inputs["policy"]);
        expect(read).toMatchObject({ Action: "secretsmanager:GetSecretValue", Resource: backupSecret.outputs["arn"] });
        expect(decrypt).toMatchObject({ Action: "kms:Decrypt", Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } } });
    });

    it("the task: Fargate, non-root, read-only root, the cell's major's image, tenancy_backup over verify-full TLS, the password injected from its secret", () => {
        const task = inJob(single, "b", T.taskDefinition, "task");
        const image = (single.outputs["platform"] as Record<string, Record<string, string>>)["schemaBackupImages"]!["16"];
        expect(task.inputs).toMatchObject({ family: "tenancy-test-b-schema-dump", requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "512", memory: "1024", ephemeralStorage: { sizeInGib: 21 } });
        const [container] = JSON.parse(task.inputs["containerDefinitions"] as string) as Record<string, unknown>[];
        expect(container).toMatchObject({ image, user: "999:999", readonlyRootFilesystem: true, privileged: false });
        const env = Object.fromEntries((container!["environment"] as { name: string; value: string }[]).map((e) => [e.name, e.value]));
        const cluster = named(single, "aws:rds/cluster:Cluster", "cell-b-db");
        const bucket = named(single, T.bucket, "shared-schema-dumps-bucket");
        expect(env).toMatchObject({
            DUMP_BUCKET: bucket.outputs["bucket"], DUMP_CELL: "b", DUMP_STACK: "test", DUMP_SSE_KMS_ARN: named(single, T.key, "shared-schema-dumps-kms-key").outputs["arn"],
            PGHOST: cluster.outputs["endpoint"], PGPORT: "5432", PGDATABASE: "tenancy", PGUSER: "tenancy_backup", PGSSLMODE: "verify-full",
        });
        expect(Object.keys(env)).not.toContain("PGPASSWORD");
        const backupSecret = named(single, "aws:secretsmanager/secret:Secret", "cell-b-hardening-backup-secret");
        expect(container!["secrets"]).toEqual([{ name: "PGPASSWORD", valueFrom: `${backupSecret.outputs["arn"]}:password::` }]);
    });

    it("the image creates the task's scratch mount as a VOLUME owned by the task's user (a Fargate bind mount is root-only otherwise) and temp files go there", () => {
        const task = inJob(single, "b", T.taskDefinition, "task");
        const [container] = JSON.parse(task.inputs["containerDefinitions"] as string) as Record<string, unknown>[];
        const [mount] = container!["mountPoints"] as { sourceVolume: string; containerPath: string; readOnly: boolean }[];
        expect(task.inputs["volumes"]).toEqual([{ name: mount!.sourceVolume }]);
        const dir = mount!.containerPath;
        const env = Object.fromEntries((container!["environment"] as { name: string; value: string }[]).map((e) => [e.name, e.value]));
        expect(env).toMatchObject({ TMPDIR: dir, HOME: dir, DUMP_SCRATCH: dir });
        // The official postgres image's postgres user and group are 999:999: the task's user.
        expect(container!["user"]).toBe("999:999");
        const lines = fs.readFileSync(path.join(__dirname, "..", "..", "backup", "Dockerfile"), "utf8").split("\n");
        const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
        const esc = dir.replace(/[/]/g, "\\/");
        const created = at(new RegExp(`^RUN .*mkdir -p ${esc} && chown postgres:postgres ${esc} && chmod 700 ${esc}\\b`));
        const volume = at(new RegExp(`^VOLUME \\["${esc}"\\]$`));
        const user = at(/^USER postgres$/);
        expect([created, volume, user].every((i) => i >= 0), `Dockerfile lines for ${dir}: ${created} ${volume} ${user}`).toBe(true);
        expect(created).toBeLessThan(volume);
        expect(volume).toBeLessThan(user);
        expect(lines.filter((l) => /^USER /.test(l))).toEqual(["USER postgres"]);
    });

    it("its security group admits nothing and reaches only its cell on 5432 and HTTPS; the cell admits it on 5432", () => {
        const sg = inJob(single, "b", T.sg, "sg");
        const cellSg = named(single, T.sg, "cell-b-db-sg");
        const mainSg = named(single, T.sg, "cell-main-db-sg");
        expect(ofType(single, T.ingress).filter((r) => r.inputs["securityGroupId"] === sg.id)).toEqual([]);
        const egress = ofType(single, T.egress).filter((r) => r.inputs["securityGroupId"] === sg.id).map((r) => r.inputs)
            .sort((a, b) => (a["fromPort"] as number) - (b["fromPort"] as number));
        expect(egress).toEqual([
            expect.objectContaining({ cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 }),
            expect.objectContaining({ referencedSecurityGroupId: cellSg.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432 }),
        ]);
        const admitted = ofType(single, T.ingress).filter((r) => r.inputs["referencedSecurityGroupId"] === sg.id);
        expect(admitted.map((r) => [r.name, r.inputs["securityGroupId"], r.inputs["fromPort"], r.inputs["toPort"]])).toEqual([["cell-b-dumps-into-db", cellSg.id, 5432, 5432]]);
        expect(admitted[0]!.inputs["securityGroupId"]).not.toBe(mainSg.id);
    });

    it("EventBridge Scheduler runs the task on the configured schedule in the platform's cluster, private subnets, no public IP, with a role that can only run it", () => {
        const schedule = inJob(single, "main", T.schedule, "schedule");
        const task = inJob(single, "main", T.taskDefinition, "task");
        const sg = inJob(single, "main", T.sg, "sg");
        const role = inJob(single, "main", T.role, "scheduler-role");
        const platform = single.outputs["platform"] as Record<string, unknown>;
        expect(schedule.inputs).toMatchObject({ scheduleExpression: "cron(15 2 * * ? *)", scheduleExpressionTimezone: "UTC", flexibleTimeWindow: { mode: "OFF" }, state: "ENABLED" });
        expect(schedule.inputs["target"]).toMatchObject({
            arn: platform["ecsClusterArn"],
            roleArn: role.outputs["arn"],
            ecsParameters: {
                taskDefinitionArn: task.outputs["arn"], launchType: "FARGATE", taskCount: 1,
                networkConfiguration: { subnets: platform["privateSubnetIds"], securityGroups: [sg.id], assignPublicIp: false },
            },
        });
        expect(statements(role.inputs["assumeRolePolicy"])[0]).toMatchObject({ Principal: { Service: "scheduler.amazonaws.com" } });
        const [run, pass] = statements(named(single, T.rolePolicy, "cell-main-dumps-scheduler-role").inputs["policy"]);
        expect(run).toMatchObject({
            Action: "ecs:RunTask", Resource: "arn:aws:ecs:us-east-1:123456789012:task-definition/tenancy-test-main-schema-dump:*",
            Condition: { ArnEquals: { "ecs:cluster": platform["ecsClusterArn"] } },
        });
        expect(pass).toMatchObject({ Action: "iam:PassRole", Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } });
        expect([...(pass!["Resource"] as string[])].sort()).toEqual([
            inJob(single, "main", T.role, "task-role").outputs["arn"], inJob(single, "main", T.role, "execution-role").outputs["arn"],
        ].sort());
    });

    it.each(["main", "b"])("cell %s: a run that fails (a tenant or the whole job) alarms to the environment's topic of the cell's region", (cell) => {
        const alarm = inJob(single, cell, "aws:cloudwatch/metricAlarm:MetricAlarm", "failed");
        const topic = ofType(single, "aws:sns/topic:Topic").find((t) => t.inputs["name"] === "tenancy-test-alarms" && t.inputs["region"] === "us-east-1")!;
        expect(alarm.inputs).toMatchObject({
            name: `tenancy-test-cell-${cell}-dumps-failed`,
            namespace: "Tenancy/SchemaDumps", metricName: "Failures", dimensions: { Stack: "test", Cell: cell },
            statistic: "Maximum", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, evaluationPeriods: 1,
            treatMissingData: "notBreaching", alarmActions: [topic.outputs["arn"]], okActions: [topic.outputs["arn"]],
        });
        expect(alarm.inputs["tags"]).toMatchObject({ "tenancy:stack": "test", "tenancy:tier": "platform" });
    });

    it("a cell on PostgreSQL 15 runs the pg15 image; the schedule, time zone and task size follow the config", () => {
        const r = protectedStack;
        const images = (r.outputs["platform"] as Record<string, Record<string, string>>)["schemaBackupImages"]!;
        expect(Object.keys(images)).toEqual(["15"]);
        // Built here: the pushed image's digest.
        expect(images["15"]).toBe(named(r, "docker:index/image:Image", "shared-schema-dumps-image-pg15").outputs["repoDigest"]);
        const task = named(r, T.taskDefinition, "cell-main-dumps-task");
        expect(JSON.parse(task.inputs["containerDefinitions"] as string)[0].image).toBe(images["15"]);
        expect(task.inputs).toMatchObject({ cpu: "1024", memory: "2048", ephemeralStorage: { sizeInGib: 100 } });
        expect(named(r, T.schedule, "cell-main-dumps-schedule").inputs).toMatchObject({ scheduleExpression: "rate(12 hours)", scheduleExpressionTimezone: "Europe/Berlin" });
    });

    it("buildImage: the image is built from backup/ for the cells' major and pushed to the dump repository; otherwise nothing is built", () => {
        const images = ofType(protectedStack, "docker:index/image:Image");
        expect(images.map((i) => i.name)).toEqual(["shared-schema-dumps-image-pg15"]);
        expect(images[0]!.inputs["build"]).toMatchObject({ context: expect.stringMatching(/\/backup$/), platform: "linux/amd64", args: { PG_MAJOR: "15" } });
        expect(images[0]!.inputs["imageName"]).toMatch(/tenancy-test-schema-dump:pg15-[0-9a-f]{12}$/);
        expect(ofType(single, "docker:index/image:Image")).toEqual([]);
    });
});

describe("fleet: the same bucket in the platform stack, each job in its cell's stack", () => {
    let fleetRoot: string;
    beforeAll(() => {
        fleetRoot = repo({ "tenancy:layout": "fleet" });
    });
    const identity = (r: RecordedResource, stack: string) => r.urn.replace(`urn:pulumi:${stack}::`, "urn:pulumi:ENV::");

    it("the platform stack declares the store with the single stack's names and inputs, and exports it", async () => {
        const fleet = await recordStack(fleetRoot, "test");
        const store = (r: RecordResult) => {
            const root = ofType(r, T.store)[0]!;
            return r.resources.filter((x) => x.urn === root.urn || x.urn.includes("tenancy:backup:SchemaDumpStore$"));
        };
        expect(store(fleet).length).toBeGreaterThan(8);
        const entries = (r: RecordResult) => store(r).map((x) => [identity(x, "test"), x.inputs] as const).sort((a, b) => a[0].localeCompare(b[0]));
        expect(entries(fleet)).toEqual(entries(single));
        expect(fleet.outputs["platform"]).toEqual(single.outputs["platform"]);
    });

    it("a cell stack declares its job as the single stack does, reading the bucket, key, image and cluster from the platform stack", async () => {
        const references = fleetReferences(single, "test", ["main", "b"]);
        const fleet = await record(() => main(fleetRoot), { project: "tenancy", stack: "test.cell-b", stackReferences: references, idSeedStack: "test" });
        const jobOf = (r: RecordResult, stack: string) => {
            const root = named(r, T.job, "cell-b-dumps");
            return r.resources.filter((x) => x.urn === root.urn || (x.urn.includes("tenancy:backup:SchemaDumpJob$") && x.name.startsWith("cell-b-")))
                .map((x) => [identity(x, stack), x.inputs] as const).sort((a, b) => a[0].localeCompare(b[0]));
        };
        const got = jobOf(fleet, "test.cell-b");
        expect(got.length).toBeGreaterThan(10);
        expect(got).toEqual(jobOf(single, "test"));
        expect(ofType(fleet, T.job)).toHaveLength(1);
        const aws = ofType(fleet, "pulumi:providers:aws")[0]!;
        for (const r of fleet.resources.filter((x) => x.urn.includes("tenancy:backup:SchemaDumpJob$") && x.type.startsWith("aws:"))) {
            expect(r.provider, r.urn).toBe(`${aws.urn}::${aws.id}`);
        }
        expect(byUrn(fleet, named(fleet, T.job, "cell-b-dumps").parent!).type).toBe("pulumi:pulumi:Stack");
    });
});
