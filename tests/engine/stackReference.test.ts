import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import {
  SECRET_MARKER,
  STACK_REFERENCE_TYPE,
  awaitOutputDetailed,
  ofType,
  record,
  referenceOutputs,
  secretOutput,
  type RecordOptions,
} from "../../engine/recorder";

const base: RecordOptions = { project: "tenancy", stack: "prod.acme", config: { "aws:region": "eu-west-1" } };

/** A tenant-stack-like program: reads the platform and a cell by StackReference, like stacks/tenant.ts does. */
async function consumer() {
  const org = pulumi.getOrganization();
  const platform = new pulumi.StackReference(`${org}/${pulumi.getProject()}/prod`);
  const cell = new pulumi.StackReference("cell", { name: `${org}/${pulumi.getProject()}/prod.cell-main` });
  const refs = platform.requireOutput("platform");
  const cellRefs = cell.requireOutput("cell");
  return {
    vpcId: refs.apply((p) => (p as { vpcId: string }).vpcId),
    cell: await awaitOutputDetailed(cellRefs),
    platform: await awaitOutputDetailed(refs),
    missing: await awaitOutputDetailed(platform.getOutput("nothing")),
  };
}

const answers = {
  prod: { platform: { vpcId: "vpc-0123" } },
  "organization/tenancy/prod.cell-main": { cell: { host: "db.example", password: secretOutput("s3cret") } },
};

describe("StackReference reads", () => {
  it("are answered from stackReferences by full name or by the stack's name, secret outputs staying secret", async () => {
    const result = await record(consumer, { ...base, stackReferences: answers });
    const out = result.outputs as { vpcId: string; cell: { value: unknown; secret: boolean }; platform: { secret: boolean }; missing: { value: unknown } };
    expect(out.vpcId).toBe("vpc-0123");
    expect(out.platform.secret).toBe(false);
    expect(out.cell).toMatchObject({ value: { host: "db.example", password: "s3cret" }, secret: true });
    expect(out.missing.value).toBeUndefined();

    const reads = ofType(result, STACK_REFERENCE_TYPE);
    expect(reads.map((r) => [r.name, r.id, r.read])).toEqual([
      ["organization/tenancy/prod", "organization/tenancy/prod", true],
      ["cell", "organization/tenancy/prod.cell-main", true],
    ]);
    expect(reads[1]!.outputs).toMatchObject({ secretOutputNames: ["cell"], outputs: { cell: { host: "db.example", password: "s3cret" } } });
    expect(reads[0]!.outputs["secretOutputNames"]).toEqual([]);
  });

  it("mask a secret output's value in the record when secrets are masked", async () => {
    const result = await record(consumer, { ...base, stackReferences: answers, maskSecrets: true });
    const [, cell] = ofType(result, STACK_REFERENCE_TYPE);
    expect(cell!.outputs["outputs"]).toEqual({ cell: { host: "db.example", password: SECRET_MARKER } });
    // (The program's own outputs hold plain copies made by awaitOutputDetailed; the reads must not.)
    expect(JSON.stringify(ofType(result, STACK_REFERENCE_TYPE))).not.toContain("s3cret");
  });

  it("of a stack not in stackReferences fail the run, naming the stack and the known ones", async () => {
    await expect(record(consumer, { ...base, stackReferences: { prod: answers.prod } })).rejects.toThrow(
      "StackReference not mocked: organization/tenancy/prod.cell-main (known: prod)",
    );
    await expect(record(consumer, base)).rejects.toThrow("StackReference not mocked: organization/tenancy/prod (known: none)");
  });

  it("can be answered with another recording's outputs, its secret paths kept secret", async () => {
    const producer = await record(async () => {
      const password = new random.RandomPassword("cell-main-password", { length: 12 });
      return { cell: { host: "db.example", password: password.result } };
    }, { ...base, stack: "prod.cell-main" });
    expect(producer.outputSecretPaths).toEqual(["cell.password"]);
    const result = await record(consumer, { ...base, stackReferences: { prod: answers.prod, "prod.cell-main": referenceOutputs(producer) } });
    const cell = (result.outputs as { cell: { value: { password: string }; secret: boolean } }).cell;
    expect(cell.secret).toBe(true);
    expect(cell.value.password).toBe((producer.outputs["cell"] as { password: string }).password);
  });
});

describe("idSeedStack", () => {
  /** The same component in any stack: auto-names, ids, ARNs and passwords all derive from the URN. */
  async function tenant() {
    const bucket = new aws.s3.Bucket("acme-assets", {});
    const key = new aws.kms.Key("acme-key", {});
    const password = new random.RandomPassword("acme-password", { length: 16 });
    return { bucket: bucket.bucket, keyArn: key.arn, keyId: key.id, password: password.result };
  }

  it("gives a resource recorded in a fleet stack the values it has in the environment's single stack", async () => {
    const single = await record(tenant, { ...base, stack: "prod" });
    const fleet = await record(tenant, { ...base, stack: "prod.acme", idSeedStack: "prod" });
    const unseeded = await record(tenant, { ...base, stack: "prod.acme" });
    expect(fleet.outputs).toEqual(single.outputs);
    expect(unseeded.outputs["keyId"]).not.toEqual(single.outputs["keyId"]);
    // URNs still name the stack the resource is in.
    expect(ofType(fleet, "aws:kms/key:Key")[0]!.urn).toBe("urn:pulumi:prod.acme::tenancy::aws:kms/key:Key::acme-key");
    expect(ofType(fleet, "aws:kms/key:Key")[0]!.id).toBe(ofType(single, "aws:kms/key:Key")[0]!.id);
  });
});

describe("stack traces", () => {
  const callsites = () => (pulumi.Resource as unknown as { callsites: () => unknown[] }).callsites().length;
  it("the SDK's per-resource source-position capture is skipped during a run unless stackTraces is set, and restored after", async () => {
    const program = async () => ({ frames: callsites() });
    expect((await record(program, base)).outputs["frames"]).toBe(0);
    expect((await record(program, { ...base, stackTraces: true })).outputs["frames"]).toBeGreaterThan(0);
    expect(callsites()).toBeGreaterThan(0);
  });
});
