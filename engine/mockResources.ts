/**
 * Computed outputs for mocked resources: what the cloud would fill in after a create.
 *
 * The recorder echoes every input back as state and merges these on top, so programs
 * that interpolate `vpc.id`, `cluster.endpoint` or `cert.domainValidationOptions` see
 * realistic, deterministic values. Unknown types still get an `id` (and an `arn` for AWS).
 */
import { DEFAULT_REGION, MOCK_ACCOUNT_ID, autoName, fakeString, fakeUuid, hexHash } from "./ids";

/** What a resource mock sees. */
export interface ResourceMockContext {
  /** Type token, e.g. `aws:ec2/vpc:Vpc`. */
  type: string;
  /** Logical name. */
  name: string;
  urn: string;
  /** Plain inputs: secrets unwrapped, unknowns dropped. */
  inputs: Record<string, unknown>;
  /** Effective AWS region: the resource's `region` input, else its provider's, else `aws:region` config, else us-east-1. */
  region: string;
  /** Plain state of an earlier resource of this run by its id (e.g. the zone a record points at). */
  stateById(id: string): Record<string, unknown> | undefined;
}

/** What a resource mock returns; `outputs` are merged over the echoed inputs. */
export interface ResourceMockResult {
  id?: string;
  outputs?: Record<string, unknown>;
  /** Output names to mark secret (like the provider's `additionalSecretOutputs`). */
  secretOutputs?: string[];
}

export type ResourceMock = (ctx: ResourceMockContext) => ResourceMockResult;

/** The computed state for one resource, ready to merge over the inputs. */
export interface MockedState {
  id: string;
  outputs: Record<string, unknown>;
  secretOutputs: string[];
}

/** Reads a string input, ignoring non-strings. */
function str(inputs: Record<string, unknown>, key: string): string | undefined {
  const v = inputs[key];
  return typeof v === "string" ? v : undefined;
}

/** Reads a number input, ignoring non-numbers. */
function num(inputs: Record<string, unknown>, key: string): number | undefined {
  const v = inputs[key];
  return typeof v === "number" ? v : undefined;
}

/** A regional ARN in the mock account. */
export function regionalArn(service: string, region: string, resource: string): string {
  return `arn:aws:${service}:${region}:${MOCK_ACCOUNT_ID}:${resource}`;
}

/** A global ARN (IAM, CloudFront): no region, account kept. */
function globalArn(service: string, resource: string): string {
  return `arn:aws:${service}::${MOCK_ACCOUNT_ID}:${resource}`;
}

/** The physical name: the `name` input when given, else a Pulumi-style auto-name. */
function physical(ctx: ResourceMockContext, key = "name", maxLength = 255): string {
  return str(ctx.inputs, key) ?? autoName(ctx.name, ctx.urn).slice(0, maxLength);
}

/** An EC2-style id, e.g. `vpc-0a1b2c3d4e5f60718`. */
function ec2Id(prefix: string, ctx: ResourceMockContext): string {
  return `${prefix}-0${hexHash(ctx.urn, 16)}`;
}

/** Hosted-zone ids of ALB/NLB load balancers per region (the values AWS publishes). */
const ELB_ZONE_IDS: Record<string, string> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "us-west-1": "Z368ELLRRE2KJ0",
  "us-west-2": "Z1H1FL5HABSF5",
  "eu-west-1": "Z32O12XQLNTSW2",
  "eu-west-2": "ZHURV8PSTC4K8",
  "eu-central-1": "Z215JYRZR1TBD5",
  "ap-southeast-1": "Z1LMS91P8CMLE5",
  "ap-southeast-2": "Z1GM3OXH4ZPM65",
  "ap-northeast-1": "Z14GRHDCWA56QT",
};

/** An EC2 resource whose ARN is `<kind>/<id>`. */
function ec2Resource(prefix: string, kind: string, extra?: (ctx: ResourceMockContext, id: string) => Record<string, unknown>): ResourceMock {
  return (ctx) => {
    const id = ec2Id(prefix, ctx);
    return {
      id,
      outputs: { arn: regionalArn("ec2", ctx.region, `${kind}/${id}`), ownerId: MOCK_ACCOUNT_ID, ...extra?.(ctx, id) },
    };
  };
}

/** RDS-managed master password secret, present only when `manageMasterUserPassword` is set; named like RDS names it (`rds!db-<uuid>`, `rds!cluster-<uuid>`). */
function masterUserSecrets(ctx: ResourceMockContext, kind: "db" | "cluster"): Record<string, unknown> {
  if (ctx.inputs["manageMasterUserPassword"] !== true) return {};
  const secretName = `rds!${kind}-${fakeUuid(ctx.urn + "secret")}`;
  const secretArn = regionalArn("secretsmanager", ctx.region, `secret:${secretName}-${fakeString(ctx.urn, 6)}`);
  const kmsKeyId = str(ctx.inputs, "masterUserSecretKmsKeyId") ?? regionalArn("kms", ctx.region, `key/${fakeUuid(ctx.urn + "kms")}`);
  return { masterUserSecrets: [{ secretArn, kmsKeyId, secretStatus: "active" }] };
}

/** Default port by database engine. */
function dbPort(ctx: ResourceMockContext): number {
  const engine = str(ctx.inputs, "engine") ?? "";
  return num(ctx.inputs, "port") ?? (/mysql|maria/.test(engine) ? 3306 : 5432);
}

/** ACM DNS validation records for the certificate's domain and SANs, deduplicated like ACM does. */
function domainValidationOptions(ctx: ResourceMockContext): Record<string, unknown>[] {
  const domain = str(ctx.inputs, "domainName");
  const sans = Array.isArray(ctx.inputs["subjectAlternativeNames"]) ? (ctx.inputs["subjectAlternativeNames"] as unknown[]) : [];
  const names = [domain, ...sans].filter((d): d is string => typeof d === "string");
  const seen = new Set<string>();
  const out: Record<string, unknown>[] = [];
  for (const d of names) {
    if (seen.has(d)) continue;
    seen.add(d);
    const base = d.replace(/^\*\./, "");
    out.push({
      domainName: d,
      resourceRecordName: `_${hexHash("name:" + base, 32)}.${base}.`,
      resourceRecordType: "CNAME",
      resourceRecordValue: `_${hexHash("value:" + base, 32)}.${hexHash("acm:" + base, 10)}.acm-validations.aws.`,
    });
  }
  return out;
}

/** Mocks for the types programs commonly read outputs from; keyed by type token. */
export const RESOURCE_MOCKS: Record<string, ResourceMock> = {
  "aws:ec2/vpc:Vpc": ec2Resource("vpc", "vpc", (ctx) => ({
    cidrBlock: str(ctx.inputs, "cidrBlock") ?? "10.0.0.0/16",
    defaultSecurityGroupId: ec2Id("sg", { ...ctx, urn: ctx.urn + "#sg" }),
    defaultRouteTableId: ec2Id("rtb", { ...ctx, urn: ctx.urn + "#rtb" }),
    mainRouteTableId: ec2Id("rtb", { ...ctx, urn: ctx.urn + "#rtb" }),
    defaultNetworkAclId: ec2Id("acl", { ...ctx, urn: ctx.urn + "#acl" }),
    instanceTenancy: str(ctx.inputs, "instanceTenancy") ?? "default",
  })),
  "aws:ec2/subnet:Subnet": ec2Resource("subnet", "subnet", (ctx) => {
    // Given an AZ ID (`use1-az2`), the mock account names it by its number (`us-east-1b`); real accounts shuffle names.
    const zoneId = str(ctx.inputs, "availabilityZoneId");
    const byId = zoneId ? /-az(\d+)$/.exec(zoneId) : null;
    const az = str(ctx.inputs, "availabilityZone") ?? (byId ? `${ctx.region}${String.fromCharCode(96 + Number(byId[1]))}` : `${ctx.region}a`);
    return { availabilityZone: az, availabilityZoneId: zoneId ?? `${zoneIdPrefix(ctx.region)}-az${azIndex(az) + 1}` };
  }),
  "aws:ec2/securityGroup:SecurityGroup": ec2Resource("sg", "security-group", (ctx) => ({ name: physical(ctx, "name", 255) })),
  "aws:ec2/internetGateway:InternetGateway": ec2Resource("igw", "internet-gateway"),
  "aws:ec2/natGateway:NatGateway": ec2Resource("nat", "natgateway", (ctx) => ({ privateIp: "10.0.0.10", publicIp: fakeIp(ctx.urn) })),
  "aws:ec2/eip:Eip": ec2Resource("eipalloc", "elastic-ip", (ctx, id) => ({ allocationId: id, publicIp: fakeIp(ctx.urn) })),
  "aws:ec2/routeTable:RouteTable": ec2Resource("rtb", "route-table"),
  "aws:ec2/vpcEndpoint:VpcEndpoint": ec2Resource("vpce", "vpc-endpoint"),
  "aws:ec2/launchTemplate:LaunchTemplate": ec2Resource("lt", "launch-template", () => ({ latestVersion: 1 })),
  "aws:ec2/instance:Instance": ec2Resource("i", "instance", (ctx) => ({ privateIp: "10.0.1.10", publicIp: fakeIp(ctx.urn) })),
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ec2Resource("sgr", "security-group-rule", (_c, id) => ({ securityGroupRuleId: id })),
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ec2Resource("sgr", "security-group-rule", (_c, id) => ({ securityGroupRuleId: id })),

  "aws:rds/cluster:Cluster": (ctx) => {
    const id = physical(ctx, "clusterIdentifier", 63).toLowerCase();
    const host = hexHash(ctx.region + "rds", 12);
    return {
      id,
      outputs: {
        clusterIdentifier: id,
        arn: regionalArn("rds", ctx.region, `cluster:${id}`),
        clusterResourceId: `cluster-${hexHash(ctx.urn, 26).toUpperCase()}`,
        endpoint: `${id}.cluster-${host}.${ctx.region}.rds.amazonaws.com`,
        readerEndpoint: `${id}.cluster-ro-${host}.${ctx.region}.rds.amazonaws.com`,
        port: dbPort(ctx),
        hostedZoneId: "Z2R2ITUGPM61AM",
        ...masterUserSecrets(ctx, "cluster"),
      },
    };
  },
  "aws:rds/clusterInstance:ClusterInstance": (ctx) => {
    const id = physical(ctx, "identifier", 63).toLowerCase();
    const host = hexHash(ctx.region + "rds", 12);
    return { id, outputs: { identifier: id, arn: regionalArn("rds", ctx.region, `db:${id}`), endpoint: `${id}.${host}.${ctx.region}.rds.amazonaws.com`, port: dbPort(ctx) } };
  },
  "aws:rds/instance:Instance": (ctx) => {
    const id = physical(ctx, "identifier", 63).toLowerCase();
    const address = `${id}.${hexHash(ctx.region + "rds", 12)}.${ctx.region}.rds.amazonaws.com`;
    const port = dbPort(ctx);
    return {
      id,
      outputs: {
        identifier: id,
        arn: regionalArn("rds", ctx.region, `db:${id}`),
        resourceId: `db-${hexHash(ctx.urn, 26).toUpperCase()}`,
        address,
        endpoint: `${address}:${port}`,
        port,
        hostedZoneId: "Z2R2ITUGPM61AM",
        ...masterUserSecrets(ctx, "db"),
      },
    };
  },
  "aws:rds/subnetGroup:SubnetGroup": (ctx) => {
    const id = physical(ctx).toLowerCase();
    return { id, outputs: { name: id, arn: regionalArn("rds", ctx.region, `subgrp:${id}`) } };
  },
  "aws:rds/parameterGroup:ParameterGroup": (ctx) => {
    const id = physical(ctx).toLowerCase();
    return { id, outputs: { name: id, arn: regionalArn("rds", ctx.region, `pg:${id}`) } };
  },
  "aws:rds/clusterParameterGroup:ClusterParameterGroup": (ctx) => {
    const id = physical(ctx).toLowerCase();
    return { id, outputs: { name: id, arn: regionalArn("rds", ctx.region, `cluster-pg:${id}`) } };
  },

  "aws:lb/loadBalancer:LoadBalancer": (ctx) => {
    const name = physical(ctx, "name", 32);
    const kind = str(ctx.inputs, "loadBalancerType") === "network" ? "net" : "app";
    const arnSuffix = `${kind}/${name}/${hexHash(ctx.urn, 16)}`;
    const arn = regionalArn("elasticloadbalancing", ctx.region, `loadbalancer/${arnSuffix}`);
    return {
      id: arn,
      outputs: {
        name,
        arn,
        arnSuffix,
        dnsName: `${name}-${parseInt(hexHash(ctx.urn, 8), 16)}.${ctx.region}.elb.amazonaws.com`,
        zoneId: ELB_ZONE_IDS[ctx.region] ?? ELB_ZONE_IDS[DEFAULT_REGION],
        loadBalancerType: str(ctx.inputs, "loadBalancerType") ?? "application",
      },
    };
  },
  "aws:lb/targetGroup:TargetGroup": (ctx) => {
    const name = physical(ctx, "name", 32);
    const arnSuffix = `targetgroup/${name}/${hexHash(ctx.urn, 16)}`;
    const arn = regionalArn("elasticloadbalancing", ctx.region, arnSuffix);
    return { id: arn, outputs: { name, arn, arnSuffix } };
  },
  "aws:lb/listener:Listener": (ctx) => {
    const arn = regionalArn("elasticloadbalancing", ctx.region, `listener/app/${ctx.name}/${hexHash(ctx.urn + "lb", 16)}/${hexHash(ctx.urn, 16)}`);
    return { id: arn, outputs: { arn } };
  },
  "aws:lb/listenerRule:ListenerRule": (ctx) => {
    const arn = regionalArn("elasticloadbalancing", ctx.region, `listener-rule/app/${ctx.name}/${hexHash(ctx.urn, 16)}`);
    return { id: arn, outputs: { arn } };
  },

  "aws:acm/certificate:Certificate": (ctx) => {
    const arn = regionalArn("acm", ctx.region, `certificate/${fakeUuid(ctx.urn)}`);
    return {
      id: arn,
      outputs: { arn, domainValidationOptions: domainValidationOptions(ctx), status: "ISSUED", validationMethod: str(ctx.inputs, "validationMethod") ?? "DNS" },
    };
  },
  "aws:acm/certificateValidation:CertificateValidation": (ctx) => {
    const certificateArn = str(ctx.inputs, "certificateArn") ?? "";
    return { id: new Date(0).toISOString(), outputs: { certificateArn } };
  },

  "aws:kms/key:Key": (ctx) => {
    const keyId = fakeUuid(ctx.urn);
    return { id: keyId, outputs: { keyId, arn: regionalArn("kms", ctx.region, `key/${keyId}`) } };
  },
  "aws:kms/alias:Alias": (ctx) => {
    const name = str(ctx.inputs, "name") ?? `alias/${autoName(ctx.name, ctx.urn)}`;
    const targetKeyId = str(ctx.inputs, "targetKeyId") ?? "";
    return {
      id: name,
      outputs: { name, arn: regionalArn("kms", ctx.region, name), targetKeyArn: targetKeyId.startsWith("arn:") ? targetKeyId : regionalArn("kms", ctx.region, `key/${targetKeyId}`) },
    };
  },

  "aws:ecr/repository:Repository": (ctx) => {
    const name = physical(ctx).toLowerCase();
    return {
      id: name,
      outputs: {
        name,
        arn: regionalArn("ecr", ctx.region, `repository/${name}`),
        registryId: MOCK_ACCOUNT_ID,
        repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${ctx.region}.amazonaws.com/${name}`,
      },
    };
  },

  "aws:secretsmanager/secret:Secret": (ctx) => {
    const name = physical(ctx, "name", 512);
    const arn = regionalArn("secretsmanager", ctx.region, `secret:${name}-${fakeString(ctx.urn, 6)}`);
    return { id: arn, outputs: { name, arn } };
  },
  "aws:secretsmanager/secretVersion:SecretVersion": (ctx) => {
    const secretId = str(ctx.inputs, "secretId") ?? "";
    const versionId = fakeUuid(ctx.urn);
    return { id: `${secretId}|${versionId}`, outputs: { arn: secretId, versionId, versionStages: ["AWSCURRENT"] } };
  },

  // AWS Backup: a vault is named by its `name` (its id too); plans and selections get generated ids.
  "aws:backup/vault:Vault": (ctx) => {
    const name = physical(ctx, "name", 50);
    return { id: name, outputs: { name, arn: regionalArn("backup", ctx.region, `backup-vault:${name}`), recoveryPoints: 0 } };
  },
  "aws:backup/vaultLockConfiguration:VaultLockConfiguration": (ctx) => {
    const name = str(ctx.inputs, "backupVaultName") ?? physical(ctx);
    return { id: name, outputs: { backupVaultArn: regionalArn("backup", ctx.region, `backup-vault:${name}`) } };
  },
  "aws:backup/plan:Plan": (ctx) => {
    const id = fakeUuid(ctx.urn);
    return { id, outputs: { arn: regionalArn("backup", ctx.region, `backup-plan:${id}`), version: fakeString(ctx.urn + "version", 32) } };
  },
  "aws:backup/selection:Selection": (ctx) => ({ id: fakeUuid(ctx.urn) }),
  "aws:ecs/cluster:Cluster": (ctx) => {
    const name = physical(ctx);
    const arn = regionalArn("ecs", ctx.region, `cluster/${name}`);
    return { id: arn, outputs: { name, arn } };
  },
  "aws:ecs/service:Service": (ctx) => {
    const name = physical(ctx);
    const cluster = (str(ctx.inputs, "cluster") ?? "default").split("/").pop() ?? "default";
    const arn = regionalArn("ecs", ctx.region, `service/${cluster}/${name}`);
    return { id: arn, outputs: { name, arn } };
  },
  "aws:ecs/taskDefinition:TaskDefinition": (ctx) => {
    const family = str(ctx.inputs, "family") ?? ctx.name;
    const arnWithoutRevision = regionalArn("ecs", ctx.region, `task-definition/${family}`);
    return { id: family, outputs: { family, revision: 1, arn: `${arnWithoutRevision}:1`, arnWithoutRevision } };
  },

  "aws:iam/role:Role": (ctx) => {
    const name = physical(ctx, "name", 64);
    const path = str(ctx.inputs, "path") ?? "/";
    return { id: name, outputs: { name, path, arn: globalArn("iam", `role${path}${name}`), uniqueId: `AROA${hexHash(ctx.urn, 17).toUpperCase()}` } };
  },
  "aws:iam/policy:Policy": (ctx) => {
    const name = physical(ctx, "name", 128);
    const arn = globalArn("iam", `policy${str(ctx.inputs, "path") ?? "/"}${name}`);
    return { id: arn, outputs: { name, arn, policyId: `ANPA${hexHash(ctx.urn, 17).toUpperCase()}` } };
  },
  "aws:iam/instanceProfile:InstanceProfile": (ctx) => {
    const name = physical(ctx, "name", 128);
    return { id: name, outputs: { name, arn: globalArn("iam", `instance-profile/${name}`), uniqueId: `AIPA${hexHash(ctx.urn, 17).toUpperCase()}` } };
  },
  "aws:iam/user:User": (ctx) => {
    const name = physical(ctx, "name", 64);
    return { id: name, outputs: { name, arn: globalArn("iam", `user/${name}`), uniqueId: `AIDA${hexHash(ctx.urn, 17).toUpperCase()}` } };
  },

  "aws:lambda/function:Function": (ctx) => {
    const name = physical(ctx, "name", 64);
    const arn = regionalArn("lambda", ctx.region, `function:${name}`);
    return {
      id: name,
      outputs: {
        name,
        arn,
        qualifiedArn: `${arn}:$LATEST`,
        invokeArn: `arn:aws:apigateway:${ctx.region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
        version: "$LATEST",
        // The real value is the base64 SHA-256 of the uploaded zip; here a stand-in derived from the resource.
        codeSha256: Buffer.from(hexHash(ctx.urn + "code", 64), "hex").toString("base64"),
        lastModified: new Date(0).toISOString(),
      },
    };
  },
  "aws:lambda/invocation:Invocation": (ctx) => {
    const functionName = str(ctx.inputs, "functionName") ?? "";
    // What the function returned is unknowable offline: an empty JSON object stands in for it.
    return { id: `${functionName}_${str(ctx.inputs, "qualifier") ?? "$LATEST"}_${hexHash(JSON.stringify(ctx.inputs), 32)}`, outputs: { result: "{}" } };
  },

  "aws:cloudwatch/logGroup:LogGroup": (ctx) => {
    const name = physical(ctx, "name", 512);
    return { id: name, outputs: { name, arn: regionalArn("logs", ctx.region, `log-group:${name}`) } };
  },

  "aws:cloudwatch/metricAlarm:MetricAlarm": (ctx) => {
    // CloudWatch names alarms by `name` (required in practice); the ARN ends in `alarm:<name>`.
    const name = physical(ctx, "name", 255);
    return { id: name, outputs: { name, arn: regionalArn("cloudwatch", ctx.region, `alarm:${name}`) } };
  },
  "aws:cloudwatch/dashboard:Dashboard": (ctx) => {
    const name = str(ctx.inputs, "dashboardName") ?? ctx.name;
    return { id: name, outputs: { dashboardArn: globalArn("cloudwatch", `dashboard/${name}`) } };
  },
  "aws:cloudwatch/queryDefinition:QueryDefinition": (ctx) => {
    const queryDefinitionId = fakeUuid(ctx.urn);
    return { id: queryDefinitionId, outputs: { queryDefinitionId, arn: regionalArn("logs", ctx.region, `query-definition:${queryDefinitionId}`) } };
  },
  "aws:sns/topic:Topic": (ctx) => {
    const name = physical(ctx, "name", 256);
    const arn = regionalArn("sns", ctx.region, name);
    return { id: arn, outputs: { name, arn, owner: MOCK_ACCOUNT_ID } };
  },
  "aws:sns/topicSubscription:TopicSubscription": (ctx) => {
    const topic = str(ctx.inputs, "topic") ?? regionalArn("sns", ctx.region, ctx.name);
    const arn = `${topic}:${fakeUuid(ctx.urn)}`;
    // Email subscriptions wait for the recipient to confirm.
    const pending = ["email", "email-json"].includes(str(ctx.inputs, "protocol") ?? "");
    return { id: arn, outputs: { arn, ownerId: MOCK_ACCOUNT_ID, pendingConfirmation: pending, confirmationWasAuthenticated: false } };
  },

  "aws:s3/bucket:Bucket": s3Bucket,
  "aws:s3/bucketV2:BucketV2": s3Bucket,

  "aws:route53/zone:Zone": (ctx) => {
    const zoneId = `Z${hexHash(ctx.urn, 20).toUpperCase()}`;
    const nameServers = [1, 2, 3, 4].map((i) => `ns-${parseInt(hexHash(ctx.urn + i, 3), 16)}.awsdns-${10 + i}.net`);
    return { id: zoneId, outputs: { zoneId, nameServers, arn: `arn:aws:route53:::hostedzone/${zoneId}` } };
  },
  "aws:route53/record:Record": (ctx) => {
    const zoneId = str(ctx.inputs, "zoneId") ?? "";
    const name = (str(ctx.inputs, "name") ?? ctx.name).replace(/\.$/, "");
    const zoneName = (str(ctx.stateById(zoneId) ?? {}, "name") ?? "").replace(/\.$/, "");
    // Route 53 treats a relative name as relative to the zone, exactly like the provider computes fqdn.
    const fqdn = zoneName === "" || name === zoneName || name.endsWith(`.${zoneName}`) ? name : `${name}.${zoneName}`;
    return { id: `${zoneId}_${name}_${str(ctx.inputs, "type") ?? "A"}`, outputs: { fqdn } };
  },

  "aws:ssm/parameter:Parameter": (ctx) => {
    const name = physical(ctx, "name", 2048);
    return { id: name, outputs: { name, arn: regionalArn("ssm", ctx.region, `parameter/${name.replace(/^\//, "")}`), version: 1, tier: str(ctx.inputs, "tier") ?? "Standard" } };
  },

  "random:index/randomPassword:RandomPassword": (ctx) => {
    const result = fakeString(ctx.urn, num(ctx.inputs, "length") ?? 16);
    return { id: "none", outputs: { result, bcryptHash: `$2a$10$${fakeString(ctx.urn + "bcrypt", 53)}` }, secretOutputs: ["result", "bcryptHash"] };
  },
  "random:index/randomString:RandomString": (ctx) => {
    const lower = ctx.inputs["upper"] === false && ctx.inputs["special"] !== true;
    const alphabet = lower ? "abcdefghijklmnopqrstuvwxyz0123456789" : undefined;
    const result = fakeString(ctx.urn, num(ctx.inputs, "length") ?? 16, alphabet);
    return { id: result, outputs: { result } };
  },
  "random:index/randomId:RandomId": (ctx) => {
    const bytes = Buffer.from(hexHash(ctx.urn, (num(ctx.inputs, "byteLength") ?? 8) * 2), "hex");
    const prefix = str(ctx.inputs, "prefix") ?? "";
    const b64Url = bytes.toString("base64url");
    return {
      id: b64Url,
      outputs: { hex: prefix + bytes.toString("hex"), b64Url: prefix + b64Url, b64Std: prefix + bytes.toString("base64"), dec: prefix + BigInt("0x" + bytes.toString("hex")).toString() },
    };
  },
  "random:index/randomPet:RandomPet": (ctx) => {
    const id = `${["brave", "calm", "eager"][parseInt(hexHash(ctx.urn, 2), 16) % 3]}-${["otter", "lynx", "heron"][parseInt(hexHash(ctx.urn + "p", 2), 16) % 3]}`;
    return { id, outputs: {} };
  },

  "docker:index/image:Image": (ctx) => {
    const imageName = str(ctx.inputs, "imageName") ?? ctx.name;
    const repo = imageName.replace(/:[^/:]+$/, "");
    const repoDigest = `${repo}@sha256:${hexHash(ctx.urn, 64)}`;
    return { id: repoDigest, outputs: { imageName, repoDigest, baseImageName: imageName } };
  },
};

/** S3 buckets (v7 `Bucket` and legacy `BucketV2`) share one mock. */
function s3Bucket(ctx: ResourceMockContext): ResourceMockResult {
  const bucket = str(ctx.inputs, "bucket") ?? (str(ctx.inputs, "bucketPrefix") ?? `${ctx.name}-`) + hexHash(ctx.urn, 7);
  return {
    id: bucket,
    outputs: {
      bucket,
      arn: `arn:aws:s3:::${bucket}`,
      bucketDomainName: `${bucket}.s3.amazonaws.com`,
      bucketRegionalDomainName: `${bucket}.s3.${ctx.region}.amazonaws.com`,
      hostedZoneId: "Z3AQBSTGFYJSTF",
      region: ctx.region,
    },
  };
}

/** The zone-id prefix AWS uses for a region, e.g. `use1` for us-east-1. */
export function zoneIdPrefix(region: string): string {
  const [geo = "us", dir = "east", n = "1"] = region.split("-");
  return `${geo}${dir[0] ?? "e"}${n}`;
}

/** 0 for `...a`, 1 for `...b`, ... */
function azIndex(az: string): number {
  const c = az.charCodeAt(az.length - 1) - 97;
  return c >= 0 && c < 26 ? c : 0;
}

/** A deterministic public IPv4 address in a documentation range. */
function fakeIp(seed: string): string {
  return `203.0.113.${parseInt(hexHash(seed, 2), 16) % 254 + 1}`;
}

/** The AWS service name in ARNs for a provider module (`lb` → `elasticloadbalancing`). */
const ARN_SERVICES: Record<string, string> = {
  lb: "elasticloadbalancing",
  alb: "elasticloadbalancing",
  elb: "elasticloadbalancing",
  cloudwatch: "logs",
  vpc: "ec2",
  ecr: "ecr",
};

/**
 * Computes id and outputs for one custom resource: the type's mock when known,
 * else a generic id (and ARN for AWS types). `overrides` win over the built-in mocks.
 */
export function mockResourceState(ctx: ResourceMockContext, overrides: Record<string, ResourceMock> = {}): MockedState {
  if (ctx.type.startsWith("pulumi:providers:")) {
    return { id: fakeUuid(ctx.urn), outputs: {}, secretOutputs: [] };
  }
  const mock = overrides[ctx.type] ?? RESOURCE_MOCKS[ctx.type];
  const result = mock?.(ctx) ?? {};
  const outputs = { ...result.outputs };
  let id = result.id;
  if (ctx.type.startsWith("aws:")) {
    id ??= `${ctx.name}-${hexHash(ctx.urn, 8)}`;
    if (outputs["arn"] === undefined) {
      const [, mod = "aws", kind = "resource"] = /^aws:([^/]+)\/([^:]+):/.exec(ctx.type) ?? [];
      outputs["arn"] = regionalArn(ARN_SERVICES[mod] ?? mod, ctx.region, `${kind.toLowerCase()}/${id}`);
    }
  }
  id ??= `${ctx.name}-${hexHash(ctx.urn, 8)}`;
  return { id, outputs, secretOutputs: result.secretOutputs ?? [] };
}
