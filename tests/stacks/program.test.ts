import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordedResource, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { readStackFile } from "../../tenants/registry";
import { TAG_STACK, TAG_TENANT, TAG_TIER } from "../../components/tags";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fixtureRepo, type FixtureRepo } from "../support/fixtureRepo";
import { recordStack, removeDir, stringsIn, tenantOf } from "./harness";

const STATEFUL = [
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:rds/instance:Instance",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "postgresql:index/role:Role",
    "postgresql:index/schema:Schema",
];

const parseJson = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);

let dev: RecordResult;
let prod: RecordResult;
let fixture: FixtureRepo;

// The fixture stacks (tests/support/fixtureRepo.ts), not the repository's examples, which users edit.
beforeAll(async () => {
    fixture = fixtureRepo();
    dev = await recordStack(fixture.root, "dev");
    prod = await recordStack(fixture.root, "prod");
});
afterAll(() => fixture.remove());

/** The A record Route 53 answers `host` with: an exact record first, else the wildcard one label up. */
const resolve = (r: RecordResult, host: string) => {
    const records = r.resources.filter((x) => x.type === "aws:route53/record:Record" && x.inputs.type === "A");
    return records.find((x) => x.inputs.name === host) ?? records.find((x) => x.inputs.name === `*.${host.slice(host.indexOf(".") + 1)}`);
};

/** The platform's fleet overview dashboard: it lists every tenant, so adding or removing one changes it (and only it). */
const FLEET_OVERVIEW = "shared-monitoring-fleet";

const custom = (r: RecordResult) => r.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"));
const ofType = (r: RecordResult, type: string) => r.resources.filter((x) => x.type === type);

describe("the fixture stacks", () => {
    it("dev builds one SharedPlatform and a placement per tier", () => {
        const types = dev.resources.map((r) => r.type);
        expect(types.filter((t) => t === "tenancy:platform:SharedPlatform")).toHaveLength(1);
        expect(ofType(dev, "tenancy:tenant:Tenant").map((r) => r.name).sort()).toEqual(["acme", "globex", "initech"]);
        const placement = (slug: string) => dev.resources.filter((r) => r.type.startsWith("tenancy:tenant:") && r.type !== "tenancy:tenant:TenantMonitoring" && r.name.startsWith(`${slug}-`)).map((r) => r.type);
        expect(placement("acme")).toEqual(["tenancy:tenant:TenantDatabase"]);
        expect(placement("globex")).toEqual(["tenancy:tenant:HybridDatabase"]);
        expect(placement("initech")).toEqual(["tenancy:tenant:DedicatedInstance"]);
    });

    it("exports a per-tenant map of what was built", () => {
        const tenants = dev.outputs.tenants as Record<string, { tier: string; hostnames: string[]; database: { host: string; schema?: string } }>;
        expect(Object.keys(tenants).sort()).toEqual(["acme", "globex", "initech"]);
        expect(tenants.acme).toMatchObject({ tier: "shared", hostnames: ["acme.dev.tenancy-example.com"], database: { schema: "t_acme" } });
        expect(tenants.globex.database.host).toMatch(/rds\.amazonaws\.com$/);
        expect(tenants.initech.database.host).toMatch(/eu-west-1\.rds\.amazonaws\.com$/);
    });
});

describe.each([["dev"], ["prod"]])("security baseline (%s)", (stack) => {
    const result = () => (stack === "dev" ? dev : prod);

    it("every security group and rule description uses only the characters EC2 accepts (an apostrophe fails the call)", () => {
        // EC2 API: GroupDescription and rule Description allow a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*, up to 255.
        const allowed = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
        const types = ["aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"];
        const described = result().resources.filter((r) => types.includes(r.type) && typeof r.inputs.description === "string");
        expect(described.length).toBeGreaterThan(0);
        expect(described.some((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toBe(true);
        for (const r of described) expect(r.inputs.description as string, r.urn).toMatch(allowed);
    });

    it("no database is publicly accessible", () => {
        const dbs = [...ofType(result(), "aws:rds/instance:Instance"), ...ofType(result(), "aws:rds/clusterInstance:ClusterInstance")];
        expect(dbs.length).toBeGreaterThan(0);
        for (const db of dbs) expect(db.inputs.publiclyAccessible, db.urn).toBe(false);
    });

    it("every database, secret and log group is encrypted with a customer-managed key created in the stack", () => {
        const keyArns = new Set(ofType(result(), "aws:kms/key:Key").map((k) => k.outputs.arn as string));
        expect(keyArns.size).toBeGreaterThan(0);
        for (const db of [...ofType(result(), "aws:rds/instance:Instance"), ...ofType(result(), "aws:rds/cluster:Cluster")]) {
            expect(db.inputs.storageEncrypted, db.urn).toBe(true);
            expect(keyArns.has(db.inputs.kmsKeyId as string), db.urn).toBe(true);
        }
        for (const s of ofType(result(), "aws:secretsmanager/secret:Secret")) expect(keyArns.has(s.inputs.kmsKeyId as string), s.urn).toBe(true);
        for (const g of ofType(result(), "aws:cloudwatch/logGroup:LogGroup")) {
            expect(keyArns.has(g.inputs.kmsKeyId as string), g.urn).toBe(true);
            expect(g.inputs.retentionInDays, g.urn).toBeGreaterThan(0);
        }
        for (const k of ofType(result(), "aws:kms/key:Key")) expect(k.inputs.enableKeyRotation, k.urn).toBe(true);
    });

    it("the shared cluster exports its logs to a log group of ours (encrypted, with retention), created first", () => {
        const cluster = ofType(result(), "aws:rds/cluster:Cluster")[0];
        const group = ofType(result(), "aws:cloudwatch/logGroup:LogGroup").find((g) => g.inputs.name === `/aws/rds/cluster/${cluster.inputs.clusterIdentifier}/postgresql`);
        expect(group, "cluster log group").toBeDefined();
        expect(cluster.options.dependsOn).toContain(group!.urn);
    });

    it("backups are kept at least 7 days", () => {
        for (const db of [...ofType(result(), "aws:rds/instance:Instance")]) expect(db.inputs.backupRetentionPeriod as number).toBeGreaterThanOrEqual(7);
        for (const db of [...ofType(result(), "aws:rds/cluster:Cluster")]) expect(db.inputs.backupRetentionPeriod as number).toBeGreaterThanOrEqual(7);
    });

    it("ingress from anywhere reaches only load balancers, on 443 and 80", () => {
        const sgs = new Map(ofType(result(), "aws:ec2/securityGroup:SecurityGroup").map((s) => [s.id, s]));
        for (const sg of sgs.values()) expect(sg.inputs.ingress ?? [], sg.urn).toEqual([]);
        const open = ofType(result(), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
            (r) => r.inputs.cidrIpv4 === "0.0.0.0/0" || r.inputs.cidrIpv6 === "::/0",
        );
        expect(open.length).toBeGreaterThan(0);
        for (const rule of open) {
            expect([443, 80], rule.urn).toContain(rule.inputs.fromPort);
            expect(rule.inputs.toPort).toBe(rule.inputs.fromPort);
            expect(sgs.get(rule.inputs.securityGroupId as string)?.name, rule.urn).toMatch(/-alb-/);
        }
        const dbRules = ofType(result(), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.fromPort === 5432);
        for (const rule of dbRules) {
            expect(rule.inputs.referencedSecurityGroupId, rule.urn).toBeTruthy();
            expect(rule.inputs.cidrIpv4, rule.urn).toBeUndefined();
        }
    });

    it("no container gets a secret-looking environment variable; secrets come from Secrets Manager", () => {
        const defs = ofType(result(), "aws:ecs/taskDefinition:TaskDefinition");
        expect(defs.length).toBeGreaterThan(0);
        for (const def of defs) {
            for (const c of parseJson(def.inputs.containerDefinitions) as { environment?: { name: string }[]; secrets?: { valueFrom: string }[]; readonlyRootFilesystem: boolean; privileged: boolean }[]) {
                for (const env of c.environment ?? []) expect(env.name, def.urn).not.toMatch(/PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i);
                for (const s of c.secrets ?? []) expect(s.valueFrom, def.urn).toMatch(/^arn:aws:secretsmanager:/);
                expect(c.readonlyRootFilesystem).toBe(true);
                expect(c.privileged).toBe(false);
            }
        }
        for (const svc of ofType(result(), "aws:ecs/service:Service")) {
            expect((svc.inputs.networkConfiguration as { assignPublicIp: boolean }).assignPublicIp, svc.urn).toBe(false);
        }
    });

    it("every resource carries stack and tier tags, and tenant resources their tenant's tag", () => {
        const owner = tenantOf(result());
        const taggable = custom(result()).filter((r) => r.inputs.tags !== undefined);
        expect(taggable.length).toBeGreaterThan(50);
        for (const r of taggable) {
            const tags = r.inputs.tags as Record<string, string>;
            expect(tags[TAG_STACK], r.urn).toBe(stack);
            const slug = owner(r);
            if (slug) {
                expect(tags[TAG_TENANT], r.urn).toBe(slug);
                expect(tags[TAG_TIER], r.urn).not.toBe("platform");
            } else {
                expect(tags[TAG_TIER], r.urn).toBe("platform");
                expect(tags[TAG_TENANT], r.urn).toBeUndefined();
            }
        }
    });

    it("every tenant resource is named with its slug", () => {
        const owner = tenantOf(result());
        for (const r of result().resources) {
            const slug = owner(r);
            if (slug) expect(r.name.startsWith(slug), r.urn).toBe(true);
        }
    });

    it("a tenant schema is never dropped with CASCADE", () => {
        for (const s of ofType(result(), "postgresql:index/schema:Schema")) expect(s.inputs.dropCascade, s.urn).toBe(false);
    });

    it("no tenant resource references another tenant's VPC, key, secret or schema", () => {
        const owner = tenantOf(result());
        const owned = new Map<string, Set<string>>();
        const ownedBy = (slug: string) => owned.get(slug) ?? owned.set(slug, new Set()).get(slug)!;
        for (const r of custom(result())) {
            const slug = owner(r);
            if (!slug) continue;
            if (r.type === "aws:ec2/vpc:Vpc" || r.type === "aws:kms/key:Key" || r.type === "aws:secretsmanager/secret:Secret") {
                ownedBy(slug).add(r.id!);
                if (r.outputs.arn) ownedBy(slug).add(r.outputs.arn as string);
            }
            if (r.type === "postgresql:index/schema:Schema") ownedBy(slug).add(r.inputs.name as string);
        }
        expect(owned.size).toBeGreaterThanOrEqual(2);
        for (const r of custom(result())) {
            const slug = owner(r);
            if (!slug) continue;
            const strings = stringsIn(r.inputs);
            for (const [other, ids] of owned) {
                if (other === slug) continue;
                for (const id of ids) expect(strings.some((s) => s === id || s.includes(`"${id}"`) || s.startsWith(`${id}:`)), `${r.urn} references ${other}'s ${id}`).toBe(false);
            }
        }
    });
});

describe("ordering on the shared cluster", () => {
    /** Every URN `urn` waits for, directly or through others (its provider included). */
    const waitsFor = (result: RecordResult, urn: string): Set<string> => {
        const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
        const seen = new Set<string>();
        const next = (u: string) => {
            const r = byUrn.get(u);
            return [...(r?.options.dependencies ?? []), ...(r?.provider ? [r.provider.split("::").slice(0, -1).join("::")] : [])];
        };
        const todo = next(urn);
        while (todo.length) {
            const u = todo.pop()!;
            if (seen.has(u)) continue;
            seen.add(u);
            todo.push(...next(u));
        }
        return seen;
    };

    it("no SQL runs before the cluster's writer exists: the provider and every PostgreSQL resource wait for it", () => {
        for (const result of [dev, prod]) {
            const writer = ofType(result, "aws:rds/clusterInstance:ClusterInstance").find((r) => r.name === "cell-main-db-writer")!;
            const pg = result.resources.filter((r) => r.type.startsWith("postgresql:") || r.type === "pulumi:providers:postgresql");
            expect(pg.length).toBeGreaterThan(10);
            for (const r of pg) expect(waitsFor(result, r.urn).has(writer.urn), r.urn).toBe(true);
        }
    });

    it("RDS's automatic minor upgrades of the shared cluster are not reverted by the next update", () => {
        for (const r of ofType(prod, "aws:rds/cluster:Cluster")) expect(r.options.ignoreChanges, r.urn).toContain("engineVersion");
        // Instances send no version at all: they run the cluster's.
        const instances = ofType(prod, "aws:rds/clusterInstance:ClusterInstance");
        expect(instances.length).toBeGreaterThan(0);
        for (const r of instances) expect(r.inputs.engineVersion, r.urn).toBeUndefined();
    });
});

describe("protection", () => {
    it("in prod every stateful resource is protected and databases cannot be deleted without a snapshot", () => {
        const stateful = prod.resources.filter((r) => STATEFUL.includes(r.type));
        expect(stateful.length).toBeGreaterThan(20);
        for (const r of stateful) expect(r.options.protect, r.urn).toBe(true);
        for (const db of [...ofType(prod, "aws:rds/instance:Instance"), ...ofType(prod, "aws:rds/cluster:Cluster")]) {
            expect(db.inputs.deletionProtection, db.urn).toBe(true);
            expect(db.inputs.skipFinalSnapshot, db.urn).toBe(false);
            expect(db.inputs.finalSnapshotIdentifier, db.urn).toMatch(/-final-[0-9a-f]{8}$/);
        }
    });

    it("in dev nothing is protected, so throwaway stacks can be destroyed", () => {
        expect(dev.resources.filter((r) => r.options.protect)).toEqual([]);
    });
});

describe("placement", () => {
    it("a dedicated tenant's regional resources all live in its region", () => {
        const owner = tenantOf(prod);
        const tyrell = custom(prod).filter((r) => owner(r) === "tyrell");
        const regional = tyrell.filter((r) => !r.type.startsWith("aws:iam/") && !r.type.startsWith("aws:route53/") && r.type.startsWith("aws:") && r.type !== "aws:ssm/parameter:Parameter");
        expect(regional.length).toBeGreaterThan(30);
        for (const r of regional) expect(r.inputs.region, r.urn).toBe("eu-central-1");
        const vpc = tyrell.find((r) => r.type === "aws:ec2/vpc:Vpc")!;
        expect(vpc.inputs.cidrBlock).toBe("10.40.0.0/16");
    });

    it("prod's dedicated database is multi-AZ; the shared cluster has a reader in another AZ", () => {
        const tyrellDb = ofType(prod, "aws:rds/instance:Instance").find((r) => r.name.startsWith("tyrell-"))!;
        expect(tyrellDb.inputs.multiAz).toBe(true);
        const instances = ofType(prod, "aws:rds/clusterInstance:ClusterInstance");
        expect(instances).toHaveLength(2);
        expect(new Set(instances.map((i) => i.inputs.availabilityZone)).size).toBe(2);
    });

    it("a hybrid tenant gets its own encrypted instance in the shared VPC's isolated subnets", () => {
        const owner = tenantOf(prod);
        const instance = ofType(prod, "aws:rds/instance:Instance").find((r) => owner(r) === "cyberdyne")!;
        const key = ofType(prod, "aws:kms/key:Key").find((r) => owner(r) === "cyberdyne")!;
        expect(instance.inputs.kmsKeyId).toBe(key.outputs.arn);
        const subnetGroup = ofType(prod, "aws:rds/subnetGroup:SubnetGroup").find((r) => owner(r) === "cyberdyne")!;
        const isolated = ofType(prod, "aws:ec2/subnet:Subnet").filter((s) => tenantOf(prod)(s) === null && /isolated/.test(s.name)).map((s) => s.id);
        expect(isolated.length).toBe(3);
        expect([...(subnetGroup.inputs.subnetIds as string[])].sort()).toEqual([...isolated].sort());
    });

    it("a suspended shared tenant keeps its DNS but answers from a maintenance page, and cannot log in", () => {
        const rule = ofType(prod, "aws:lb/listenerRule:ListenerRule").find((r) => r.name === "wayne-maintenance")!;
        expect((rule.inputs.actions as { type: string; fixedResponse: { statusCode: string } }[])[0]).toMatchObject({ type: "fixed-response", fixedResponse: { statusCode: "503" } });
        expect(resolve(prod, "wayne.tenancy-example.com")?.name).toBe("shared-dns-wildcard");
        const roles = ofType(prod, "postgresql:index/role:Role").filter((r) => r.name.startsWith("wayne-"));
        expect(roles.length).toBe(2);
        for (const role of roles) expect(role.inputs.login, role.urn).toBe(false);
        expect(ofType(prod, "postgresql:index/schema:Schema").some((s) => s.inputs.name === "t_wayne")).toBe(true);
    });

    it("an offboarded tenant keeps its schema and roles but is no longer served", () => {
        expect(ofType(prod, "postgresql:index/schema:Schema").find((s) => s.inputs.name === "t_soylent")?.options.protect).toBe(true);
        expect(ofType(prod, "aws:route53/record:Record").filter((r) => r.name.startsWith("soylent-"))).toEqual([]);
        for (const role of ofType(prod, "postgresql:index/role:Role").filter((r) => r.name.startsWith("soylent-"))) expect(role.inputs.login).toBe(false);
    });

    it("shared and hybrid tenants' own host names resolve through the platform's wildcard; dedicated ones have records of their own, which win", () => {
        const owner = tenantOf(dev);
        const records = ofType(dev, "aws:route53/record:Record").filter((r) => r.inputs.type === "A");
        expect(records.filter((r) => owner(r) === "acme" || owner(r) === "globex")).toEqual([]);
        expect(resolve(dev, "acme.dev.tenancy-example.com")?.name).toBe("shared-dns-wildcard");
        expect(resolve(dev, "initech.dev.tenancy-example.com")?.name).toMatch(/^initech-/);
    });

    it("a shared tenant declares 20 resources (was 18: reporting, whose member the schema dump job is, reads its sequences), plus its monitoring (6)", () => {
        const owner = tenantOf(dev);
        const acme = dev.resources.filter((r) => owner(r) === "acme");
        expect(acme.map((r) => r.name).sort()).toEqual([
            "acme", "acme-db", "acme-db-db-owner-secret", "acme-db-db-owner-secret-version", "acme-db-db-runtime-secret", "acme-db-db-runtime-secret-version",
            "acme-db-no-public-functions", "acme-db-owner", "acme-db-owner-password", "acme-db-reporting-default-sequences", "acme-db-reporting-default-tables",
            "acme-db-reporting-schema-usage", "acme-db-reporting-sequences-select",
            "acme-db-runtime", "acme-db-runtime-default-sequences", "acme-db-runtime-default-tables", "acme-db-runtime-password", "acme-db-runtime-schema-usage",
            "acme-db-schema",
            "acme-monitoring", "acme-monitoring-app-connections", "acme-monitoring-app-errors", "acme-monitoring-app-latency-p99", "acme-monitoring-dashboard", "acme-monitoring-logs",
            "acme-registry",
        ]);
    });

    it("each active tenant's host points at the load balancer that serves it", () => {
        const albs = new Map(ofType(dev, "aws:lb/loadBalancer:LoadBalancer").map((a) => [a.outputs.dnsName as string, a]));
        const target = (host: string) => albs.get((resolve(dev, host)!.inputs.aliases as { name: string }[])[0].name)!;
        expect(target("acme.dev.tenancy-example.com").name).toMatch(/^shared-/);
        expect(target("globex.dev.tenancy-example.com").name).toMatch(/^shared-/);
        expect(target("initech.dev.tenancy-example.com").name).toMatch(/^initech-/);
        expect(target("initech.dev.tenancy-example.com").inputs.region).toBe("eu-west-1");
    });
});

describe("synthetic tenant sets", () => {
    const roots: string[] = [];
    afterAll(() => roots.forEach(removeDir));
    const repo = (files: Record<string, string>, config = baseStackConfig()) => {
        const root = makeRepo(files, config);
        roots.push(root);
        return root;
    };

    it("adding a tenant changes no other resource's name or inputs", async () => {
        const files = {
            "alpha.yaml": sharedTenant("alpha"),
            "bravo.yaml": sharedTenant("bravo", "tier: hybrid\n"),
            "delta.yaml": sharedTenant("delta", "tier: dedicated\nnetwork: {cidr: 10.60.0.0/16}\n"),
        };
        const before = await recordStack(repo(files), "test");
        const after = await recordStack(repo({ ...files, "charlie.yaml": sharedTenant("charlie"), "echo.yaml": sharedTenant("echo", "tier: dedicated\nnetwork: {cidr: 10.61.0.0/16}\n") }), "test");
        const afterByUrn = new Map(after.resources.map((r) => [r.urn, r]));
        for (const r of before.resources.filter((x) => x.type !== "pulumi:pulumi:Stack")) {
            const same = afterByUrn.get(r.urn);
            expect(same, `${r.urn} disappeared`).toBeDefined();
            // Except the fleet overview dashboard, whose very purpose is to list every tenant.
            if (r.name !== FLEET_OVERVIEW) expect(same!.inputs, r.urn).toEqual(r.inputs);
        }
        expect(after.resources.find((r) => r.name === FLEET_OVERVIEW)!.inputs["dashboardBody"]).toContain("tenancy-test-echo-db-cpu");
        expect(after.resources.length).toBeGreaterThan(before.resources.length);
    });

    it("the order of tenant files does not matter: removing one leaves the others identical", async () => {
        const all = Object.fromEntries(["alpha", "bravo", "charlie", "delta"].map((s) => [`${s}.yaml`, sharedTenant(s)]));
        const { ["bravo.yaml"]: _gone, ...rest } = all;
        const full = await recordStack(repo(all), "test");
        const fewer = await recordStack(repo(rest), "test");
        const fullByUrn = new Map(full.resources.map((r) => [r.urn, r]));
        for (const r of fewer.resources.filter((x) => x.type !== "pulumi:pulumi:Stack" && x.name !== FLEET_OVERVIEW)) expect(fullByUrn.get(r.urn)?.inputs, r.urn).toEqual(r.inputs);
    });

    it("a suspended dedicated tenant scales to zero behind a maintenance response; offboarded keeps only its data", async () => {
        const result = await recordStack(repo({
            "sleepy.yaml": sharedTenant("sleepy", "tier: dedicated\nstatus: suspended\nnetwork: {cidr: 10.70.0.0/16}\n"),
            "gone.yaml": sharedTenant("gone", "tier: dedicated\nstatus: offboarded\nnetwork: {cidr: 10.71.0.0/16}\n"),
        }), "test");
        const owner = tenantOf(result);
        const sleepy = (t: string) => result.resources.filter((r) => owner(r) === "sleepy" && r.type === t);
        expect(sleepy("aws:ecs/service:Service")[0].inputs.desiredCount).toBe(0);
        expect(sleepy("aws:appautoscaling/target:Target")).toEqual([]);
        const https = sleepy("aws:lb/listener:Listener").find((l) => l.inputs.port === 443)!;
        expect((https.inputs.defaultActions as { type: string }[])[0].type).toBe("fixed-response");
        expect(sleepy("aws:route53/record:Record").length).toBeGreaterThan(0);
        const gone = (t: string) => result.resources.filter((r) => owner(r) === "gone" && r.type === t);
        expect(gone("aws:rds/instance:Instance")).toHaveLength(1);
        expect(gone("aws:kms/key:Key")).toHaveLength(1);
        expect(gone("aws:ecs/service:Service")).toEqual([]);
        expect(gone("aws:lb/loadBalancer:LoadBalancer")).toEqual([]);
        expect(gone("aws:route53/record:Record")).toEqual([]);
    });

    it("invalid tenants stop the program with one clean error before any resource is registered", async () => {
        const root = repo({ "bad.yaml": "slug: bad\n", "worse.yaml": sharedTenant("worse", "tier: premium\n") });
        // The program itself, not the tools' up-front validation: this is what `pulumi up` runs.
        const { stackFile } = readStackFile(root, "test");
        const err = await record(() => main(root), { project: "tenancy", stack: "test", config: stackFile!.pulumiConfig }).then(() => undefined, (e: Error) => e);
        expect(err?.constructor.name).toBe("RunError");
        expect(err!.message).toContain("tenants/test/bad.yaml:1:1 displayName: is required");
        expect(err!.message).toContain('tenants/test/worse.yaml:3:7 tier: "premium" is not allowed');
    });
});

describe("cells in a single stack", () => {
    it("only cell main's direct children carry aliases, each to its former name under the SharedPlatform 'shared'; nothing else is aliased", () => {
        for (const [stack, r] of [["dev", dev], ["prod", prod]] as const) {
            const cell = r.resources.find((x) => x.type === "tenancy:cell:DatabaseCell" && x.name === "cell-main")!;
            expect(cell.parent, stack).toBe(r.resources[0]!.urn);
            const children = r.resources.filter((x) => x.parent === cell.urn);
            // Provider SDKs add aliases of their own to a type's former token, same name and parent; ours rename or re-parent.
            const ours = (x: RecordedResource) =>
                x.options.aliases.filter((a) => a.name !== undefined || a.urn !== undefined || a.noParent || (a.parentUrn !== undefined && a.parentUrn !== x.parent));
            const aliased = r.resources.filter((x) => ours(x).length > 0);
            expect(children.length).toBeGreaterThan(15);
            expect(aliased.map((x) => x.urn).sort()).toEqual(children.map((x) => x.urn).sort());
            for (const x of aliased) {
                expect(ours(x), x.urn).toEqual([
                    { name: x.name.replace(/^cell-main/, "shared"), parentUrn: `urn:pulumi:${stack}::tenancy::tenancy:platform:SharedPlatform::shared` },
                ]);
            }
        }
    });

    it("every declared cell is its own cluster, and each shared tenant's SQL goes through its own cell's provider after that cell's writer", async () => {
        const config = baseStackConfig({
            "tenancy:shared": { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { main: {}, b: { maxCapacity: 8 } } },
        });
        const root = makeRepo({ "alpha.yaml": sharedTenant("alpha"), "bravo.yaml": sharedTenant("bravo", "cell: b\n") }, config);
        try {
            const r = await recordStack(root, "test");
            expect(ofType(r, "tenancy:cell:DatabaseCell").map((c) => c.name)).toEqual(["cell-b", "cell-main"]);
            expect(ofType(r, "aws:rds/cluster:Cluster").map((c) => [c.name, c.inputs.clusterIdentifier])).toEqual([
                ["cell-b-db", "tenancy-test-cell-b"], ["cell-main-db", "tenancy-test-shared"],
            ]);
            const providers = new Map(ofType(r, "pulumi:providers:postgresql").map((p) => [`${p.urn}::${p.id}`, p.name]));
            const schemas = ofType(r, "postgresql:index/schema:Schema");
            expect(schemas.map((s) => [s.inputs.name, providers.get(s.provider!)])).toEqual([["t_alpha", "cell-main-pg"], ["t_bravo", "cell-b-pg"]]);
            const bravoOwner = ofType(r, "postgresql:index/role:Role").find((x) => x.name === "bravo-db-owner")!;
            const writerB = ofType(r, "aws:rds/clusterInstance:ClusterInstance").find((x) => x.name === "cell-b-db-writer")!;
            expect(bravoOwner.options.dependsOn).toContain(writerB.urn);
            expect(ofType(r, "aws:rds/cluster:Cluster").find((c) => c.name === "cell-b-db")!.options.aliases).toEqual([]);
        } finally {
            removeDir(root);
        }
    });
});
