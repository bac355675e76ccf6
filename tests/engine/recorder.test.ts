import { describe, it, expect } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import * as postgresql from "@pulumi/postgresql";
import {
  KNOWN_INVOKES,
  SECRET_MARKER,
  awaitOutput,
  awaitOutputDetailed,
  findResource,
  maskedInputs,
  ofType,
  record,
  type RecordOptions,
} from "../../engine/recorder";

const base: RecordOptions = { project: "tenancy", stack: "test", config: { "aws:region": "us-west-2" } };

/** A small component with children, like the ones under components/. */
class Database extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  readonly secret: aws.secretsmanager.Secret;

  constructor(name: string, args: { owner: string }, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Database", name, {}, opts);
    this.password = new random.RandomPassword(`${name}-password`, { length: 24, special: false }, { parent: this });
    this.secret = new aws.secretsmanager.Secret(`${name}-secret`, { description: `db for ${args.owner}` }, { parent: this });
    new aws.secretsmanager.SecretVersion(`${name}-secret-version`, { secretId: this.secret.id, secretString: this.password.result }, { parent: this });
    new postgresql.Role(`${name}-role`, { name: args.owner, login: true, password: this.password.result }, { parent: this, retainOnDelete: true });
    this.registerOutputs({ secretArn: this.secret.arn });
  }
}

/** A program touching components, providers, options, regions and invokes. */
async function sampleProgram() {
  const euWest = new aws.Provider("eu-west", { region: "eu-west-1" });
  const vpc = new aws.ec2.Vpc("main", { cidrBlock: "10.1.0.0/16" }, { protect: true });
  const subnet = new aws.ec2.Subnet("main-a", { vpcId: vpc.id, cidrBlock: "10.1.0.0/24" });
  const bucket = new aws.s3.Bucket("logs", {}, { provider: euWest, dependsOn: [subnet] });
  const key = new aws.kms.Key("sydney", { region: "ap-southeast-2", description: "regional key" });
  const db = new Database("acme-db", { owner: "acme" });
  const policy = await aws.iam.getPolicyDocument({
    statements: [{ sid: "Read", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::logs/*"], principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }] }],
  });
  return {
    vpcId: vpc.id,
    nested: { bucketArn: bucket.arn, keyArn: key.arn },
    dbSecretArn: db.secret.arn,
    password: db.password.result,
    policy: policy.json,
  };
}

describe("record", () => {
  it("records types, names, component parents and explicit providers in registration order", async () => {
    const { resources } = await record(sampleProgram, base);
    const stack = resources[0]!;
    expect(stack.type).toBe("pulumi:pulumi:Stack");
    expect(stack.parent).toBeNull();

    const db = findResource({ resources, outputs: {}, outputSecretPaths: [] }, "test:index:Database", "acme-db");
    expect(db.custom).toBe(false);
    expect(db.parent).toBe(stack.urn);
    // Registration order follows input resolution, so compare the children as a set.
    const children = resources.filter((r) => r.parent === db.urn).map((r) => `${r.type}::${r.name}`);
    expect(children.sort()).toEqual([
      "aws:secretsmanager/secret:Secret::acme-db-secret",
      "aws:secretsmanager/secretVersion:SecretVersion::acme-db-secret-version",
      "postgresql:index/role:Role::acme-db-role",
      "random:index/randomPassword:RandomPassword::acme-db-password",
    ]);
    expect(resources.find((r) => r.name === "acme-db-role")!.urn).toBe(
      "urn:pulumi:test::tenancy::test:index:Database$postgresql:index/role:Role::acme-db-role",
    );

    const provider = resources.find((r) => r.type === "pulumi:providers:aws" && r.name === "eu-west")!;
    expect(provider.inputs["region"]).toBe("eu-west-1");
    const bucket = resources.find((r) => r.type === "aws:s3/bucket:Bucket")!;
    expect(bucket.provider).toBe(`${provider.urn}::${provider.id}`);
    expect(resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!.provider).toBeNull();
    expect(resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!.inputs).toMatchObject({ cidrBlock: "10.1.0.0/16" });
  });

  it("captures protect, retainOnDelete and dependsOn separately from input dependencies", async () => {
    const { resources } = await record(sampleProgram, base);
    const vpc = resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!;
    const subnet = resources.find((r) => r.type === "aws:ec2/subnet:Subnet")!;
    const bucket = resources.find((r) => r.type === "aws:s3/bucket:Bucket")!;
    const role = resources.find((r) => r.type === "postgresql:index/role:Role")!;

    expect(vpc.options.protect).toBe(true);
    expect(subnet.options.protect).toBe(false);
    expect(role.options.retainOnDelete).toBe(true);
    expect(vpc.options.retainOnDelete).toBe(false);
    expect(bucket.options.dependsOn).toEqual([subnet.urn]);
    // The subnet depends on the VPC through an input, not through dependsOn.
    expect(subnet.options.dependsOn).toEqual([]);
    expect(subnet.options.propertyDependencies["vpcId"]).toEqual([vpc.urn]);
  });

  it("captures ignoreChanges, deleteBeforeReplace and aliases", async () => {
    const result = await record(async () => {
      new aws.ec2.SecurityGroup("web", { vpcId: "vpc-1" }, {
        ignoreChanges: ["tags"],
        deleteBeforeReplace: true,
        aliases: [{ name: "web-old" }, "urn:pulumi:test::tenancy::aws:ec2/securityGroup:SecurityGroup::legacy"],
      });
    }, base);
    const [sg] = ofType(result, "aws:ec2/securityGroup:SecurityGroup");
    expect(sg!.options.ignoreChanges).toEqual(["tags"]);
    expect(sg!.options.deleteBeforeReplace).toBe(true);
    expect(sg!.options.aliases).toEqual([
      { name: "web-old", parentUrn: "urn:pulumi:test::tenancy::pulumi:pulumi:Stack::tenancy-test" },
      { urn: "urn:pulumi:test::tenancy::aws:ec2/securityGroup:SecurityGroup::legacy" },
    ]);
  });

  it("flags secret inputs from a RandomPassword and masks them on request", async () => {
    const kept = await record(sampleProgram, base);
    const version = kept.resources.find((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")!;
    const role = kept.resources.find((r) => r.type === "postgresql:index/role:Role")!;
    expect(version.secretPaths).toEqual(["secretString"]);
    expect(role.secretPaths).toEqual(["password"]);
    expect(typeof role.inputs["password"]).toBe("string");
    expect((role.inputs["password"] as string).length).toBe(24);
    expect(maskedInputs(role)).toMatchObject({ name: "acme", login: true, password: SECRET_MARKER });

    const masked = await record(sampleProgram, { ...base, maskSecrets: true });
    const maskedRole = masked.resources.find((r) => r.type === "postgresql:index/role:Role")!;
    expect(maskedRole.inputs["password"]).toBe(SECRET_MARKER);
    expect(masked.outputs["password"]).toBe(SECRET_MARKER);
    expect(JSON.stringify(masked)).not.toContain(role.inputs["password"] as string);
  });

  it("puts the resource's region, else its provider's, else aws:region config, into ARNs", async () => {
    const { outputs } = await record(sampleProgram, base);
    const nested = outputs["nested"] as { bucketArn: string; keyArn: string };
    expect(nested.keyArn).toMatch(/^arn:aws:kms:ap-southeast-2:123456789012:key\/[0-9a-f-]{36}$/);
    expect(outputs["dbSecretArn"]).toMatch(/^arn:aws:secretsmanager:us-west-2:123456789012:secret:acme-db-secret-[0-9a-f]{7}-\w{6}$/);
    expect(nested.bucketArn).toMatch(/^arn:aws:s3:::logs-[0-9a-f]{7}$/);

    const regional = await record(async () => {
      const p = new aws.Provider("frankfurt", { region: "eu-central-1" });
      const lg = new aws.cloudwatch.LogGroup("app", {}, { provider: p });
      const zones = await aws.getAvailabilityZones({}, { provider: p });
      return { arn: lg.arn, zones: zones.names };
    }, { ...base, config: {} });
    expect(regional.outputs["arn"]).toMatch(/^arn:aws:logs:eu-central-1:123456789012:log-group:app-[0-9a-f]{7}$/);
    expect(regional.outputs["zones"]).toEqual(["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
  });

  it("fails the run with 'Mock not implemented' for an invoke outside the known list", async () => {
    expect(KNOWN_INVOKES["aws:ec2/getAmi:getAmi"]).toBeUndefined();
    const program = async () => {
      const ami = aws.ec2.getAmiOutput({ owners: ["amazon"], mostRecent: true });
      new aws.ec2.Instance("web", { ami: ami.id, instanceType: "t3.micro" });
    };
    await expect(record(program, base)).rejects.toThrow("Mock not implemented: aws:ec2/getAmi:getAmi");

    const awaited = async () => {
      await aws.ec2.getAmi({ owners: ["amazon"], mostRecent: true });
    };
    await expect(record(awaited, base)).rejects.toThrow("Mock not implemented: aws:ec2/getAmi:getAmi");
  });

  it("fails the run with the program's own error and leaves the next run and process handlers intact", async () => {
    const listeners = process.listeners("unhandledRejection").length;
    await expect(record(async () => {
      new aws.ecs.Cluster("before-error");
      throw new Error("tenant acme: bad placement");
    }, base)).rejects.toThrow("tenant acme: bad placement");
    expect(process.listeners("unhandledRejection").length).toBe(listeners);
    const next = await record(async () => void new aws.ecs.Cluster("after"), base);
    expect(next.resources.map((r) => r.name)).toEqual(["tenancy-test", "after"]);
  });

  it("lets callers add invokes", async () => {
    const { outputs } = await record(
      async () => ({ id: (await aws.ec2.getAmi({ owners: ["amazon"] })).id }),
      { ...base, invokes: { "aws:ec2/getAmi:getAmi": () => ({ id: "ami-0123" }) } },
    );
    expect(outputs).toEqual({ id: "ami-0123" });
  });

  it("renders getPolicyDocument statements into a real JSON policy", async () => {
    const { outputs } = await record(sampleProgram, base);
    expect(JSON.parse(outputs["policy"] as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Read",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::logs/*",
          Principal: { Service: "logging.s3.amazonaws.com" },
        },
      ],
    });
  });

  it("gives identical records for two runs of the same program", async () => {
    const first = await record(sampleProgram, base);
    const second = await record(sampleProgram, base);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it("does not leak resources, config or providers between runs", async () => {
    await record(sampleProgram, { ...base, config: { "aws:region": "us-west-2", "tenancy:domain": "a.example.com" } });
    const second = await record(async () => {
      const cfg = new pulumi.Config("tenancy");
      new aws.ecs.Cluster("only");
      return { domain: cfg.get("domain") ?? "unset" };
    }, { project: "tenancy", stack: "other" });
    expect(second.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack", "aws:ecs/cluster:Cluster"]);
    expect(second.resources[1]!.urn).toBe("urn:pulumi:other::tenancy::aws:ecs/cluster:Cluster::only");
    expect(second.outputs).toEqual({ domain: "unset" });
  });

  it("passes config like Pulumi does, including secret keys and JSON objects", async () => {
    const { outputs, outputSecretPaths } = await record(async () => {
      const cfg = new pulumi.Config("tenancy");
      return { domain: cfg.require("domain"), sizes: cfg.requireObject<{ small: number }>("sizes"), token: cfg.requireSecret("token") };
    }, { ...base, config: { "tenancy:domain": "example.com", "tenancy:sizes": '{"small":1}', "tenancy:token": "t0k" }, secretKeys: ["tenancy:token"] });
    expect(outputs).toEqual({ domain: "example.com", sizes: { small: 1 }, token: "t0k" });
    expect(outputSecretPaths).toEqual(["token"]);
  });

  it("resolves the program's outputs, including nested Outputs, and keeps Outputs awaitable after the run", async () => {
    let cert: aws.acm.Certificate | undefined;
    const { outputs, outputSecretPaths } = await record(async () => {
      cert = new aws.acm.Certificate("site", { domainName: "example.com", subjectAlternativeNames: ["*.example.com"], validationMethod: "DNS" });
      const rds = new aws.rds.Instance("db", { engine: "postgres", instanceClass: "db.t4g.micro", allocatedStorage: 20, manageMasterUserPassword: true, username: "app" });
      return { endpoint: rds.endpoint, secretArn: rds.masterUserSecrets.apply((s) => s[0]!.secretArn), pw: new random.RandomPassword("p", { length: 8 }).result };
    }, base);
    expect(outputs["endpoint"]).toMatch(/^db-[0-9a-f]{7}\.[0-9a-f]{12}\.us-west-2\.rds\.amazonaws\.com:5432$/);
    expect(outputs["secretArn"]).toMatch(/^arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!/);
    expect(outputSecretPaths).toEqual(["pw"]);

    const dvos = await awaitOutput(cert!.domainValidationOptions);
    expect(dvos.map((d) => d.domainName)).toEqual(["example.com", "*.example.com"]);
    expect(dvos[0]!.resourceRecordName).toMatch(/^_[0-9a-f]{32}\.example\.com\.$/);
    expect(dvos[0]!.resourceRecordType).toBe("CNAME");
    const arn = await awaitOutputDetailed(cert!.arn);
    expect(arn).toMatchObject({ secret: false, known: true });
    expect(arn.value).toMatch(/^arn:aws:acm:us-west-2:123456789012:certificate\//);
  });

  it("records component outputs passed to registerOutputs", async () => {
    const { resources } = await record(async () => void new Database("x", { owner: "x" }), base);
    const db = resources.find((r) => r.type === "test:index:Database")!;
    expect(db.outputs["secretArn"]).toMatch(/^arn:aws:secretsmanager:/);
  });

  it("leaves computed outputs unknown in preview", async () => {
    let vpc: aws.ec2.Vpc | undefined;
    const { resources } = await record(async () => {
      vpc = new aws.ec2.Vpc("v", { cidrBlock: "10.0.0.0/16" });
      new aws.ec2.Subnet("s", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24" });
    }, { ...base, preview: true });
    const subnet = resources.find((r) => r.type === "aws:ec2/subnet:Subnet")!;
    expect(subnet.inputs["vpcId"]).toBe("[unknown]");
    expect(await awaitOutputDetailed(vpc!.id)).toMatchObject({ known: false, value: undefined });
    expect(await awaitOutput(vpc!.cidrBlock)).toBe("10.0.0.0/16");
  });

  it("records 1000 resources in one run", async () => {
    const { resources } = await record(async () => {
      for (let i = 0; i < 1000; i++) new aws.ssm.Parameter(`p${i}`, { type: "String", value: `v${i}` });
    }, base);
    expect(resources).toHaveLength(1001);
    expect(resources[1000]!.outputs["arn"]).toMatch(/:parameter\/p999-[0-9a-f]{7}$/);
  });
});
