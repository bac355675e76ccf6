import { afterAll, describe, expect, it } from "vitest";
import { availabilityZoneProblems, azIdPrefix, zoneIdsFor } from "../../stacks/config";
import { baseStackConfig, makeRepo, sharedTenant, validateConfig as validate } from "../tenants/fixtures";
import { recordStack, removeDir } from "./harness";

/** Validates a `Pulumi.test.yaml` built from the fixture config with `overrides`, located in its own text. */
const messages = (overrides: Record<string, unknown>) => validate(overrides).problems.map((p) => `${p.field}: ${p.message}`);

describe("availabilityZoneIds: pinned zones per region", () => {
    it("AZ ID prefixes follow the region code", () => {
        expect(["us-east-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "us-gov-west-1", "eu-west-3", "ca-central-1"].map(azIdPrefix))
            .toEqual(["use1", "euc1", "apse2", "apne1", "usgw1", "euw3", "cac1"]);
        expect(azIdPrefix("xx-sideways-1")).toBeUndefined();
    });

    it("the fixture's config is valid, and VPCs take the first zones of their region in the configured order", () => {
        const { config, problems } = validate({});
        expect(problems).toEqual([]);
        expect(zoneIdsFor(config!, "us-east-1", 2)).toEqual(["use1-az1", "use1-az2"]);
        expect(zoneIdsFor(config!, "eu-west-1", 3)).toEqual(["euw1-az1", "euw1-az2", "euw1-az3"]);
    });

    it("every allowed region needs an entry, with an example of what to add", () => {
        expect(messages({ "tenancy:availabilityZoneIds": { "us-east-1": ["use1-az1", "use1-az2"] } })).toEqual([
            "tenancy:availabilityZoneIds: has no entry for eu-west-1, a region of this stack (add eu-west-1: [euw1-az1, euw1-az2])",
        ]);
    });

    it("IDs of another region, duplicates, too few for the shared VPC or highAvailability, and unknown regions are all reported at once", () => {
        const got = validate({
            "tenancy:highAvailability": true,
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", availabilityZones: 3, database: { minCapacity: 0.5, maxCapacity: 4 } },
            "tenancy:availabilityZoneIds": {
                "us-east-1": ["use1-az1", "euw1-az2"],
                "eu-west-1": ["euw1-az1", "euw1-az1", "euw1-az2"],
                "ap-south-1": ["aps1-az1", "aps1-az2"],
            },
        });
        expect(got.config).toBeUndefined();
        expect(got.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
            "tenancy:availabilityZoneIds.us-east-1: lists 2 AZ IDs; the shared VPC and dedicated VPCs here need 3",
            "tenancy:availabilityZoneIds.us-east-1[1]: euw1-az2 is not an AZ ID of us-east-1 (allowed: use1-az<n>)",
            "tenancy:availabilityZoneIds.eu-west-1[1]: euw1-az1 is listed twice",
            "tenancy:availabilityZoneIds.ap-south-1: ap-south-1 is not a region of this stack (allowed: us-east-1, eu-west-1)",
        ]);
        // Located in the stack file, not at 1:1.
        expect(got.problems.every((p) => p.line !== undefined && p.line > 1)).toBe(true);
    });

    it("malformed IDs fail the schema with the expected shape", () => {
        expect(messages({ "tenancy:availabilityZoneIds": { "us-east-1": ["us-east-1a", "use1-az2"], "eu-west-1": ["euw1-az1", "euw1-az2"] } }))
            .toEqual([expect.stringMatching(/^tenancy:availabilityZoneIds\.us-east-1\[0\]: must be an AZ ID such as use1-az1/)]);
    });

    it("availabilityZoneProblems is pure and checks only what is configured", () => {
        expect(availabilityZoneProblems({
            allowedRegions: ["eu-central-1"], region: "eu-central-1", highAvailability: false,
            shared: { availabilityZones: 2 } as never, availabilityZoneIds: { "eu-central-1": ["euc1-az1", "euc1-az2"] },
        })).toEqual([]);
    });
});

describe("the program places VPCs in the pinned zones", () => {
    const roots: string[] = [];
    afterAll(() => roots.forEach(removeDir));

    it("shared VPC: the stack region's first zones; dedicated VPC: its region's first 3 with highAvailability; Aurora instances in the subnets' zones", async () => {
        const config = baseStackConfig({
            "tenancy:highAvailability": true,
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", availabilityZones: 2, database: { minCapacity: 0.5, maxCapacity: 4, readers: 1 } },
            "tenancy:availabilityZoneIds": { "us-east-1": ["use1-az4", "use1-az2", "use1-az1"], "eu-west-1": ["euw1-az3", "euw1-az1", "euw1-az2"] },
        });
        const root = makeRepo({ "tyrell.yaml": sharedTenant("tyrell", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.40.0.0/16}\n") }, config);
        roots.push(root);
        const result = await recordStack(root, "test");
        const subnets = result.resources.filter((r) => r.type === "aws:ec2/subnet:Subnet");
        const zonesOf = (prefix: string) => [...new Set(subnets.filter((s) => s.name.startsWith(prefix)).map((s) => s.inputs["availabilityZoneId"]))];
        expect(zonesOf("shared-net-")).toEqual(["use1-az4", "use1-az2"]);
        expect(zonesOf("tyrell-")).toEqual(["euw1-az3", "euw1-az1", "euw1-az2"]);
        expect(subnets.every((s) => s.inputs["availabilityZone"] === undefined)).toBe(true);
        // The writer and reader sit in the AZs the isolated subnets report (mock account: azN is letter N).
        const instances = result.resources.filter((r) => r.type === "aws:rds/clusterInstance:ClusterInstance");
        expect(instances.map((i) => i.inputs["availabilityZone"])).toEqual(["us-east-1d", "us-east-1b"]);
    });
});

describe("AWS baseline across the stack", () => {
    const roots: string[] = [];
    afterAll(() => roots.forEach(removeDir));

    it("Aurora and RDS instances are versioned apart; a dedicated ALB has deletion protection only while active in a protected stack", async () => {
        const config = baseStackConfig({
            "tenancy:protect": true,
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { engineVersion: "16.6", minCapacity: 0.5, maxCapacity: 4 } },
            "tenancy:instanceDatabases": { engineVersion: "17", allowMajorVersionUpgrade: true },
        });
        const dedicated = (slug: string, status: string, cidr: string) => sharedTenant(slug, `tier: dedicated\nstatus: ${status}\nnetwork: {cidr: ${cidr}}\n`);
        const root = makeRepo({
            "hooli.yaml": sharedTenant("hooli", "tier: hybrid\n"),
            "tyrell.yaml": dedicated("tyrell", "active", "10.40.0.0/16"),
            "sleepy.yaml": dedicated("sleepy", "suspended", "10.41.0.0/16"),
        }, config);
        roots.push(root);
        const result = await recordStack(root, "test");
        const cluster = result.resources.find((r) => r.type === "aws:rds/cluster:Cluster")!;
        expect(cluster.inputs).toMatchObject({ engineVersion: "16.6", allowMajorVersionUpgrade: false });
        const instances = result.resources.filter((r) => r.type === "aws:rds/instance:Instance");
        expect(instances).toHaveLength(3);
        for (const i of instances) expect(i.inputs, i.name).toMatchObject({ engineVersion: "17", allowMajorVersionUpgrade: true, monitoringInterval: 60 });
        const albs = Object.fromEntries(result.resources.filter((r) => r.type === "aws:lb/loadBalancer:LoadBalancer").map((r) => [r.name, r.inputs["enableDeletionProtection"]]));
        expect(albs).toEqual({ "shared-alb-alb": true, "tyrell-dedicated-alb-alb": true, "sleepy-dedicated-alb-alb": false });
    });
});
