/**
 * Declaring a move on the recorded graph (single layout): for every allowed direction the source placement stays
 * exactly as it was (same URNs, same inputs), the target is built beside it with no physical name in common, the
 * registry record stays at the source (its value left to the flip) until this move's receipt, then points at the target
 * while the source's roles lose LOGIN and protection; retiring the move leaves the target exactly as it was at cutover.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource, RecordResult } from "../../engine/recorder";
import type { MoveReceipt } from "../../tenants/moves";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { recordStack, removeDir, stringsIn, tenantOf } from "./harness";

const SHARED = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 8 }, cells: { main: {}, b: {} } };
const CONFIG = baseStackConfig({ "tenancy:shared": SHARED, "tenancy:protect": true });
const DOMAIN = "saas.example.com";

/** One tenant per allowed direction: its file before the move (at the source) and while moving (at the target). */
const DIRECTIONS: Record<string, { before: string; moving: string; from: MoveReceipt["from"]; to: MoveReceipt["to"] }> = {
    c2c: {
        before: "",
        moving: "cell: b\nmove:\n  from: { tier: shared, cell: main }\n",
        from: { server: "a", tier: "shared", cell: "main", label: "" }, to: { server: "b", tier: "shared", cell: "b", label: "shared-b" },
    },
    s2h: {
        before: "",
        moving: "tier: hybrid\nmove:\n  from: { tier: shared }\n",
        from: { server: "a", tier: "shared", cell: "main", label: "" }, to: { server: "b", tier: "hybrid", label: "hybrid" },
    },
    s2d: {
        before: `customDomains: [shop.s2d.${DOMAIN}]\n`,
        moving: `customDomains: [shop.s2d.${DOMAIN}]\ntier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\nmove:\n  from: { tier: shared }\n`,
        from: { server: "a", tier: "shared", cell: "main", label: "" }, to: { server: "b", tier: "dedicated", region: "eu-west-1", label: "dedicated" },
    },
    h2d: {
        before: "tier: hybrid\nsize: medium\n",
        moving: "tier: dedicated\nnetwork: {cidr: 10.61.0.0/16}\nmove:\n  from: { tier: hybrid, size: medium }\n",
        from: { server: "a", tier: "hybrid", label: "" }, to: { server: "b", tier: "dedicated", region: "us-east-1", label: "dedicated" },
    },
    h2s: {
        before: "tier: hybrid\n",
        moving: "move:\n  from: { tier: hybrid }\n",
        from: { server: "a", tier: "hybrid", label: "" }, to: { server: "b", tier: "shared", cell: "main", label: "shared-main" },
    },
    d2s: {
        before: `customDomains: [shop.d2s.${DOMAIN}]\ntier: dedicated\nnetwork: {cidr: 10.62.0.0/16}\n`,
        moving: `customDomains: [shop.d2s.${DOMAIN}]\ncell: b\nmove:\n  from: { tier: dedicated, network: {cidr: 10.62.0.0/16} }\n`,
        from: { server: "a", tier: "dedicated", region: "us-east-1", label: "" }, to: { server: "b", tier: "shared", cell: "b", label: "shared-b" },
    },
    d2h: {
        before: "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.63.0.0/16}\n",
        moving: "tier: hybrid\nmove:\n  from: { tier: dedicated, region: eu-west-1, network: {cidr: 10.63.0.0/16} }\n",
        from: { server: "a", tier: "dedicated", region: "eu-west-1", label: "" }, to: { server: "b", tier: "hybrid", label: "hybrid" },
    },
};
const SLUGS = Object.keys(DIRECTIONS);

function receipt(slug: string): MoveReceipt {
    const d = DIRECTIONS[slug]!;
    return {
        tenant: slug, schema: `t_${slug}`, from: d.from, to: d.to, startedAt: "2026-11-23T10:00:00.000Z", finishedAt: "2026-11-23T10:01:00.000Z",
        writePauseMs: 900, tables: [], sequences: [], verified: true,
    };
}

const roots: string[] = [];
function repo(files: Record<string, string>, receipts: Record<string, MoveReceipt> = {}): string {
    const root = makeRepo(files, CONFIG);
    roots.push(root);
    if (Object.keys(receipts).length) fs.mkdirSync(path.join(root, "tenants/test/.moves"));
    for (const [slug, r] of Object.entries(receipts)) fs.writeFileSync(path.join(root, "tenants/test/.moves", `${slug}.json`), JSON.stringify(r, null, 2));
    return root;
}
afterAll(() => roots.forEach(removeDir));

const files = (key: "before" | "moving" | "retired") => Object.fromEntries(SLUGS.map((s) => {
    const d = DIRECTIONS[s]!;
    const text = key === "retired" ? d.moving.replace(/move:\n {2}from: .*\n/, "") : d[key];
    return [`${s}.yaml`, sharedTenant(s, text)];
}));
const allReceipts = () => Object.fromEntries(SLUGS.map((s) => [s, receipt(s)]));

let before: RecordResult;
let moving: RecordResult;
let cutover: RecordResult;
let retired: RecordResult;
beforeAll(async () => {
    [before, moving, cutover, retired] = await Promise.all([
        recordStack(repo(files("before")), "test"),
        recordStack(repo(files("moving")), "test"),
        recordStack(repo(files("moving"), allReceipts()), "test"),
        recordStack(repo(files("retired"), allReceipts()), "test"),
    ]);
}, 120_000);

/** The resources of one tenant, by URN. */
function ofTenant(result: RecordResult, slug: string): Map<string, RecordedResource> {
    const owner = tenantOf(result);
    return new Map(result.resources.filter((r) => owner(r) === slug).map((r) => [r.urn, r]));
}
const REGISTRY = "aws:ssm/parameter:Parameter";
const MOVE_ACCESS = "tenancy:network:MoveAccess";
/** Placement components are the Tenant's children other than its registry, DNS, certificates, maintenance and move access. */
const isPlacementRoot = (r: RecordedResource) => ["tenancy:tenant:TenantDatabase", "tenancy:tenant:HybridDatabase", "tenancy:tenant:DedicatedInstance"].includes(r.type);
function descendants(all: Map<string, RecordedResource>, root: RecordedResource): RecordedResource[] {
    const out = [root];
    for (let i = 0; i < out.length; i++) for (const r of all.values()) if (r.parent === out[i]!.urn) out.push(r);
    return out;
}

describe("declaring a move: the source stays exactly as it was", () => {
    it.each(SLUGS)("%s: every resource of the source placement keeps its URN, inputs, provider and protection", (slug) => {
        const was = ofTenant(before, slug);
        const now = ofTenant(moving, slug);
        const roots = [...was.values()].filter(isPlacementRoot);
        expect(roots).toHaveLength(1);
        const source = descendants(was, roots[0]!);
        expect(source.length).toBeGreaterThan(5);
        for (const r of source) {
            const after = now.get(r.urn);
            expect(after, r.urn).toBeDefined();
            expect(after!.inputs, r.urn).toEqual(r.inputs);
            expect(after!.provider, r.urn).toBe(r.provider);
            expect(after!.options.protect, r.urn).toBe(r.options.protect);
        }
        // And the target is built beside it: a second placement.
        expect([...now.values()].filter(isPlacementRoot)).toHaveLength(2);
    });

    it.each(SLUGS)("%s: no physical name of the target collides with the source's (secrets, identifiers, log groups, parameters, records)", (slug) => {
        const now = [...ofTenant(moving, slug).values()].filter((r) => r.custom && !r.read);
        const keys = new Map<string, string>();
        let named = 0;
        for (const r of now) {
            // ACM gives a name one validation record per account: certificate.ts shares it on purpose (allowOverwrite, retained on delete).
            if (r.type === "aws:route53/record:Record" && r.inputs["allowOverwrite"] === true && r.options.retainOnDelete) continue;
            for (const field of ["name", "namePrefix", "identifier", "finalSnapshotIdentifier", ...(r.type === "aws:ecs/taskDefinition:TaskDefinition" ? ["family"] : [])]) {
                const value = r.inputs[field];
                if (typeof value !== "string") continue;
                // PostgreSQL objects are per server (provider); AWS names per region (and Route 53 per zone).
                const scope = r.type.startsWith("postgresql:") ? r.provider : String(r.inputs["region"] ?? "us-east-1");
                const key = `${r.type}|${scope}|${field}|${value}`;
                named++;
                expect(keys.get(key), `${r.urn} and ${keys.get(key)} share ${field} ${value}`).toBeUndefined();
                keys.set(key, r.urn);
            }
        }
        expect(named).toBeGreaterThan(4);
    });

    it.each(SLUGS)("%s: the registry record stays at the source, its value left to the flip (ignoreChanges) until the receipt", (slug) => {
        const registry = (r: RecordResult) => [...ofTenant(r, slug).values()].find((x) => x.type === REGISTRY)!;
        const was = registry(before);
        const now = registry(moving);
        expect(now.urn).toBe(was.urn);
        expect(now.inputs["insecureValue"]).toEqual(was.inputs["insecureValue"]);
        expect(now.options.ignoreChanges).toEqual(["insecureValue"]);
        expect(was.options.ignoreChanges).toEqual([]);
        const after = registry(cutover);
        expect(after.options.ignoreChanges).toEqual([]);
        expect(after.inputs["insecureValue"]).not.toEqual(was.inputs["insecureValue"]);
        // The value the program declares after the receipt is the one the flip wrote (moves.<slug>.cutover.parameter.value).
        const spec = (moving.outputs["moves"] as Record<string, { cutover: { parameter: { name: string; value: string } } }>)[slug]!;
        expect(spec.cutover.parameter).toEqual({ name: `/tenancy/test/tenants/${slug}`, region: "us-east-1", value: after.inputs["insecureValue"] });
        expect(JSON.parse(after.inputs["insecureValue"] as string).tier).toBe(DIRECTIONS[slug]!.to.tier);
    });
});

describe("what the cutover changes on the source stays the cutover's until the receipt (a refresh and up must not undo it)", () => {
    it.each(SLUGS)("%s: the source's roles ignore LOGIN and its host records their target while moving; nothing ignored before or after", (slug) => {
        const was = ofTenant(before, slug);
        const now = ofTenant(moving, slug);
        const from = DIRECTIONS[slug]!.from.tier;
        const roles = [...now.values()].filter((r) => r.type === "postgresql:index/role:Role" && was.has(r.urn));
        const hosts = [...now.values()].filter((r) => r.type === "aws:route53/record:Record" && was.has(r.urn) && !r.options.retainOnDelete);
        if (from === "shared") expect(roles.length).toBeGreaterThan(0);
        for (const r of roles) expect(r.options.ignoreChanges, r.urn).toEqual(["login"]);
        if (from === "dedicated" || DIRECTIONS[slug]!.to.tier === "dedicated") {
            // A dedicated source has a record per in-zone host; a shared source only for names the wildcard does not cover.
            const expected = { s2d: 1, d2s: 2, d2h: 1, h2d: 0 }[slug];
            expect(hosts.length, slug).toBe(expected);
        }
        for (const r of hosts) expect(r.options.ignoreChanges, r.urn).toEqual(["aliases"]);
        for (const r of [...was.values()]) {
            if (r.type === "postgresql:index/role:Role" || r.type === "aws:route53/record:Record") expect(r.options.ignoreChanges, r.urn).toEqual([]);
        }
        for (const r of ofTenant(cutover, slug).values()) {
            if (r.type === "postgresql:index/role:Role" || r.type === "aws:route53/record:Record") expect(r.options.ignoreChanges, r.urn).toEqual([]);
        }
    });
});

describe("the moves output (npm run move -- --env)", () => {
    it("lists every moving tenant with both placements' admin facts and no password", () => {
        const moves = moving.outputs["moves"] as Record<string, Record<string, Record<string, unknown>>>;
        expect(Object.keys(moves).sort()).toEqual([...SLUGS].sort());
        expect(before.outputs["moves"]).toBeUndefined();
        expect(retired.outputs["moves"]).toBeUndefined();
        const s2h = moves["s2h"]!;
        expect(s2h["from"]).toEqual({
            tier: "shared", cell: "main", region: "us-east-1", label: "", host: expect.any(String), port: 5432, database: "tenancy", adminSecretArn: expect.stringMatching(/^arn:aws:secretsmanager:/),
        });
        expect(s2h["to"]).toMatchObject({ tier: "hybrid", region: "us-east-1", label: "hybrid", database: "app", adminSecretArn: expect.stringMatching(/^arn:aws:secretsmanager:/) });
        expect(moves["d2h"]!["from"]).toMatchObject({ tier: "dedicated", region: "eu-west-1", label: "", database: "app" });
        expect(JSON.stringify(moves)).not.toMatch(/password"?\s*:/i);
        expect(typeof s2h["runnerPolicy"]).toBe("string");
    });

    it("DNS: the flip's records point every in-zone host at the target's load balancer for moves to and from dedicated; none otherwise", () => {
        const moves = moving.outputs["moves"] as Record<string, { cutover: { dns: { name: string; zoneId: string; alias: { name: string } }[] } }>;
        expect(moves["s2h"]!.cutover.dns).toEqual([]);
        expect(moves["c2c"]!.cutover.dns).toEqual([]);
        expect(moves["s2d"]!.cutover.dns.map((d) => d.name)).toEqual([`s2d.${DOMAIN}`, `shop.s2d.${DOMAIN}`]);
        expect(moves["d2s"]!.cutover.dns.map((d) => d.name)).toEqual([`d2s.${DOMAIN}`, `shop.d2s.${DOMAIN}`]);
        const platform = moving.outputs["platform"] as { loadBalancerDnsName: string };
        expect(moves["d2s"]!.cutover.dns[0]!.alias.name).toBe(platform.loadBalancerDnsName);
        expect(moves["s2d"]!.cutover.dns[0]!.alias.name).not.toBe(platform.loadBalancerDnsName);
        for (const d of moves["s2d"]!.cutover.dns) expect(d.zoneId).toBe("Z0TEST0ZONE");
    });
});

describe("DNS of moves to and from dedicated", () => {
    const records = (r: RecordResult, slug: string) => [...ofTenant(r, slug).values()].filter((x) => x.type === "aws:route53/record:Record" && !/cert-validation|validation/.test(x.name));
    it("before the receipt a dedicated target declares no host records; the source keeps its own", () => {
        expect(records(moving, "s2d").map((r) => r.inputs["name"])).toEqual([`shop.s2d.${DOMAIN}`]);
        expect(records(moving, "s2d").map((r) => r.urn)).toEqual(records(before, "s2d").map((r) => r.urn));
        expect(records(moving, "d2s").map((r) => r.urn).sort()).toEqual(records(before, "d2s").map((r) => r.urn).sort());
    });
    it("after the receipt the target takes the records over (allowOverwrite, the source's records as aliases): none is deleted", () => {
        const s2d = records(cutover, "s2d");
        expect(s2d.map((r) => r.inputs["name"]).sort()).toEqual([`s2d.${DOMAIN}`, `shop.s2d.${DOMAIN}`]);
        for (const r of s2d) expect(r.inputs["allowOverwrite"]).toBe(true);
        const shop = s2d.find((r) => r.inputs["name"] === `shop.s2d.${DOMAIN}`)!;
        const former = records(before, "s2d")[0]!;
        expect(shop.options.aliases.map((a) => `${a.parentUrn}|${a.name}`)).toEqual([`${former.parent}|${former.name}`]);
        const d2s = records(cutover, "d2s");
        expect(d2s.map((r) => r.inputs["name"]).sort()).toEqual([`d2s.${DOMAIN}`, `shop.d2s.${DOMAIN}`]);
        const formerUrns = new Set(records(before, "d2s").map((r) => `${r.parent}|${r.name}`));
        for (const r of d2s) {
            expect(r.inputs["allowOverwrite"]).toBe(true);
            expect(r.options.aliases.map((a) => `${a.parentUrn}|${a.name}`).every((a) => formerUrns.has(a))).toBe(true);
            expect(r.options.aliases).toHaveLength(1);
        }
    });
});

describe("after this move's receipt", () => {
    it.each(SLUGS)("%s: the source's roles lose LOGIN and nothing of the source is protected; the target stays protected", (slug) => {
        const all = ofTenant(cutover, slug);
        const placements = [...all.values()].filter(isPlacementRoot);
        expect(placements).toHaveLength(2);
        const was = new Set(ofTenant(before, slug).keys());
        const source = placements.find((p) => was.has(p.urn))!;
        const target = placements.find((p) => p !== source)!;
        const sourceResources = descendants(all, source);
        for (const r of sourceResources) expect(r.options.protect, r.urn).toBe(false);
        expect(descendants(all, target).some((r) => r.options.protect)).toBe(true);
        const roles = sourceResources.filter((r) => r.type === "postgresql:index/role:Role");
        const invocations = sourceResources.filter((r) => r.type === "aws:lambda/invocation:Invocation");
        expect(roles.length + invocations.length).toBeGreaterThan(0);
        for (const r of roles) expect(r.inputs["login"], r.urn).toBe(false);
        for (const r of invocations) expect(JSON.parse(r.inputs["input"] as string).status, r.urn).toBe("suspended");
        // A shared source's schema goes with CASCADE when the move is retired (its rows are on the target); never before.
        for (const r of sourceResources.filter((x) => x.type === "postgresql:index/schema:Schema")) {
            expect(r.inputs["dropCascade"], r.urn).toBe(true);
            expect(ofTenant(moving, slug).get(r.urn)!.inputs["dropCascade"], r.urn).toBe(false);
        }
        // A dedicated source serves no one any more: its service at zero, its load balancer deletable.
        for (const r of sourceResources.filter((x) => x.type === "aws:ecs/service:Service")) expect(r.inputs["desiredCount"], r.urn).toBe(0);
        for (const r of sourceResources.filter((x) => x.type === "aws:lb/loadBalancer:LoadBalancer")) expect(r.inputs["enableDeletionProtection"], r.urn).toBe(false);
        if (DIRECTIONS[slug]!.from.tier === "dedicated") {
            expect(sourceResources.filter((x) => x.type === "aws:ecs/service:Service")).toHaveLength(1);
            expect(sourceResources.filter((x) => x.type === "aws:lb/loadBalancer:LoadBalancer")).toHaveLength(1);
            expect(sourceResources.filter((x) => x.type === "aws:route53/record:Record" && !x.options.retainOnDelete)).toEqual([]);
        }
        const instances = sourceResources.filter((r) => r.type === "aws:rds/instance:Instance");
        for (const r of instances) {
            expect(r.inputs["deletionProtection"]).toBe(false);
            // The final snapshot and the backups stay.
            expect(r.inputs["skipFinalSnapshot"]).toBe(false);
            expect(r.inputs["deleteAutomatedBackups"]).toBe(false);
        }
    });
});

describe("retiring the move (move removed, receipt kept)", () => {
    it.each(SLUGS)("%s: the tenant's resources equal the target's at cutover: same URNs, inputs and options, nothing renamed", (slug) => {
        const cut = ofTenant(cutover, slug);
        const was = new Set(ofTenant(before, slug).keys());
        const sourceRoot = [...cut.values()].filter(isPlacementRoot).find((p) => was.has(p.urn))!;
        const dropped = new Set(descendants(cut, sourceRoot).map((r) => r.urn));
        for (const r of cut.values()) if (r.type === MOVE_ACCESS) descendants(cut, r).forEach((x) => dropped.add(x.urn));
        // The source's AWS Backup plan goes with it (the target's region has its own), the whole TenantBackup when the target is shared.
        for (const r of cut.values()) {
            if (r.type !== "tenancy:backup:TenantBackup") continue;
            const sourceOnly = (x: RecordedResource) => DIRECTIONS[slug]!.to.tier === "shared" || [`${slug}-backup-plan`, `${slug}-backup-selection`].includes(x.name);
            descendants(cut, r).filter(sourceOnly).forEach((x) => dropped.add(x.urn));
        }
        // The source's alarms go with it: those whose dimensions name one of its resources (its instance identifier).
        const sourceIds = new Set(descendants(cut, sourceRoot).flatMap((r) => [r.outputs["identifier"], r.outputs["arnSuffix"]]).filter((v): v is string => typeof v === "string"));
        for (const r of cut.values()) {
            if (r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && stringsIn([r.inputs["dimensions"], r.inputs["metricQueries"]]).some((v) => sourceIds.has(v))) dropped.add(r.urn);
        }
        const expected = [...cut.values()].filter((r) => !dropped.has(r.urn));
        const now = ofTenant(retired, slug);
        expect([...now.keys()].sort()).toEqual(expected.map((r) => r.urn).sort());
        for (const r of expected) {
            const after = now.get(r.urn)!;
            // The tenant's dashboard stays (same URN), without the retired source's widgets.
            if (r.type !== "aws:cloudwatch/dashboard:Dashboard") expect(after.inputs, r.urn).toEqual(r.inputs);
            expect(after.options.protect, r.urn).toBe(r.options.protect);
            expect(after.options.aliases, r.urn).toEqual(r.options.aliases);
            expect(after.options.ignoreChanges, r.urn).toEqual(r.options.ignoreChanges);
        }
    });
});
