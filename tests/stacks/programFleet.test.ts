/**
 * The fleet layout's stack programs on the recorded graph: a platform stack, a stack per cell and per tenant, each
 * declaring only its own part with the same component types and logical names as the single layout, reading the
 * others by StackReference, and a stack name the registry does not know refused before anything is registered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record, type RecordedResource, type RecordOptions, type RecordResult } from "../../engine/recorder";
import { main } from "../../stacks/program";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { fleetReferences, recordStack, removeDir, stackRef, tenantOf } from "./harness";

const SHARED = { vpcCidr: "10.0.0.0/16", database: { minCapacity: 0.5, maxCapacity: 4 }, cells: { main: {}, b: { maxCapacity: 8 } } };
const FILES = {
    "alpha.yaml": sharedTenant("alpha"),
    "bravo.yaml": sharedTenant("bravo", "cell: b\nstatus: suspended\n"),
    "charlie.yaml": sharedTenant("charlie", "tier: hybrid\n"),
    "delta.yaml": sharedTenant("delta", "tier: dedicated\nregion: eu-west-1\nnetwork: {cidr: 10.60.0.0/16}\n"),
};
const SLUGS = ["alpha", "bravo", "charlie", "delta"];

const roots: string[] = [];
const repo = (layout: "single" | "fleet", files: Record<string, string> = FILES, shared: Record<string, unknown> = SHARED) => {
    const root = makeRepo(files, baseStackConfig({ "tenancy:layout": layout, "tenancy:shared": shared }));
    roots.push(root);
    return root;
};
afterAll(() => roots.forEach(removeDir));

/** StackReference answers: stack name → its outputs. */
type References = Record<string, Record<string, unknown>>;

/** Records the program as stack `stack` of the fleet fixture (no stack file of its own), answering StackReferences. */
async function recordFleet(root: string, stack: string, references: References = {}, extra: Partial<RecordOptions> = {}): Promise<RecordResult> {
    // Fake values seeded with the environment, so a resource gets the values it has in the single stack.
    return record(() => main(root), { project: "tenancy", stack, stackReferences: references, idSeedStack: "test", ...extra });
}

const ref = stackRef;
const inStack = (urn: string, stack: string) => urn.replace(`urn:pulumi:${stack}::`, "urn:pulumi:ENV::");
/** A resource's identity apart from its stack: type chain and logical name. */
const identity = (r: RecordedResource, stack: string) => inStack(r.urn, stack);
const providerOf = (r: RecordResult, type: string) => r.resources.filter((x) => x.type === type);

let single: RecordResult;
let references: References;
let singleRoot: string;
let fleetRoot: string;

beforeAll(async () => {
    singleRoot = repo("single");
    fleetRoot = repo("fleet");
    single = await recordStack(singleRoot, "test");
    references = fleetReferences(single, "test", ["main", "b"]);
});

describe("fleet: tenant stacks", () => {
    it.each(SLUGS)("%s's stack declares only its tenant's resources, with the single stack's types, names, parents and inputs", async (slug) => {
        const stack = `test.${slug}`;
        const fleet = await recordFleet(fleetRoot, stack, references);
        const owner = tenantOf(fleet);
        const declared = fleet.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.read && !r.type.startsWith("pulumi:providers:"));
        expect(declared.length).toBeGreaterThan(10);
        for (const r of declared) expect(owner(r), r.urn).toBe(slug);
        const singleOwner = tenantOf(single);
        const expected = single.resources.filter((r) => singleOwner(r) === slug).map((r) => identity(r, "test")).sort();
        expect(declared.map((r) => identity(r, stack)).sort()).toEqual(expected);
        // And the same inputs: moving the tenant from the single stack to its own replaces and changes nothing.
        const singleByIdentity = new Map(single.resources.map((r) => [identity(r, "test"), r]));
        for (const r of declared) expect(r.inputs, r.urn).toEqual(singleByIdentity.get(identity(r, stack))!.inputs);
        expect(Object.keys(fleet.outputs["tenants"] as object)).toEqual([slug]);
        expect(fleet.outputs["tenants"]).toEqual({ [slug]: (single.outputs["tenants"] as Record<string, unknown>)[slug] });
    });

    it("every AWS resource of a tenant stack goes through one explicit provider in the environment's region; the platform (and a shared tenant's cell) are read by StackReference", async () => {
        for (const [slug, reads] of [["alpha", ["test", "test.cell-main"]], ["bravo", ["test", "test.cell-b"]], ["charlie", ["test"]], ["delta", ["test"]]] as const) {
            const fleet = await recordFleet(fleetRoot, `test.${slug}`, references);
            const providers = providerOf(fleet, "pulumi:providers:aws");
            expect(providers.map((p) => [p.name, p.inputs["region"]]), slug).toEqual([["aws", "us-east-1"]]);
            const aws = fleet.resources.filter((r) => r.type.startsWith("aws:"));
            expect(aws.length).toBeGreaterThan(0);
            for (const r of aws) expect(r.provider, r.urn).toBe(`${providers[0]!.urn}::${providers[0]!.id}`);
            const refs = fleet.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
            expect(refs.map((r) => [r.read, r.name]).sort(), slug).toEqual(reads.map((s) => [true, ref(s)]).sort());
        }
    });

    it("a shared tenant's stack manages its schema through a PostgreSQL provider of its own for its cell, configured like the cell's", async () => {
        const fleet = await recordFleet(fleetRoot, "test.bravo", references);
        const [own] = providerOf(fleet, "pulumi:providers:postgresql");
        expect(own!.name).toBe("bravo-pg");
        const cells = providerOf(single, "pulumi:providers:postgresql");
        const cellB = cells.find((p) => p.name === "cell-b-pg")!;
        expect(own!.inputs).toEqual(cellB.inputs);
        expect(own!.secretPaths).toContain("password");
        const pg = fleet.resources.filter((r) => r.type.startsWith("postgresql:"));
        expect(pg.length).toBe(11);
        for (const r of pg) expect(r.provider, r.urn).toBe(`${own!.urn}::${own!.id}`);
        // Written into the tenant's secrets as in the single stack: the cell's endpoint, not secret-wrapped.
        const secretBody = JSON.parse(fleet.resources.find((r) => r.name === "bravo-db-db-runtime-secret-version")!.inputs["secretString"] as string);
        expect(secretBody.host).toBe((single.outputs["cells"] as Record<string, { host: string }>)["b"]!.host);
    });

    it("with adminAuth iam the tenant stack's provider signs IAM tokens for the environment's region and holds no password", async () => {
        const root = repo("fleet", FILES, { ...SHARED, database: { ...SHARED.database, adminAuth: "iam" } });
        const fleet = await recordFleet(root, "test.alpha", references);
        const [own] = providerOf(fleet, "pulumi:providers:postgresql");
        expect(own!.inputs).toMatchObject({ awsRdsIamAuth: "true", awsRdsIamRegion: "us-east-1", username: "tenancy_admin" });
        expect(own!.inputs).not.toHaveProperty("password");
        // Nor does the cell stack hand its master password on: nobody needs it.
        const cell = await recordFleet(root, "test.cell-main", references);
        expect(Object.keys(cell.outputs["cell"] as object)).not.toContain("masterPassword");
        expect(cell.outputSecretPaths).toEqual([]);
    });

    it("a suspended tenant's listener rule has the single stack's priority, whatever other tenants exist", async () => {
        const fleet = await recordFleet(fleetRoot, "test.bravo", references);
        const rule = (r: RecordResult) => r.resources.find((x) => x.name === "bravo-maintenance")!.inputs["priority"];
        expect(rule(fleet)).toBe(rule(single));
        const alone = await recordStack(repo("single", { "bravo.yaml": FILES["bravo.yaml"] }), "test");
        expect(rule(alone)).toBe(rule(single));
    });
});

describe("fleet: platform and cell stacks", () => {
    it("the platform stack declares the SharedPlatform only and exports what cells and tenants read", async () => {
        const fleet = await recordStack(fleetRoot, "test");
        const top = fleet.resources.filter((r) => r.parent === fleet.resources[0]!.urn);
        expect(top.map((r) => [r.type, r.name])).toEqual([["tenancy:platform:SharedPlatform", "shared"]]);
        expect(Object.keys(fleet.outputs)).toEqual(["platform"]);
        expect(fleet.outputs["platform"]).toEqual(single.outputs["platform"]);
    });

    it("a cell stack declares its DatabaseCell and its schema dump job only, as in the single stack (same names and inputs), without aliases, on the platform it reads", async () => {
        const fleet = await recordFleet(fleetRoot, "test.cell-b", references);
        const declared = fleet.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.read && r.type !== "pulumi:providers:aws");
        const singleCell = single.resources.find((r) => r.type === "tenancy:cell:DatabaseCell" && r.name === "cell-b")!;
        const singleJob = single.resources.find((r) => r.type === "tenancy:backup:SchemaDumpJob" && r.name === "cell-b-dumps")!;
        const inSingle = single.resources.filter((r) => r.urn === singleCell.urn || r.urn === singleJob.urn
            || (r.urn.includes("tenancy:cell:DatabaseCell$") || r.urn.includes("tenancy:backup:SchemaDumpJob$")) && r.name.startsWith("cell-b"));
        expect(declared.map((r) => identity(r, "test.cell-b")).sort()).toEqual(inSingle.map((r) => identity(r, "test")).sort());
        const singleByIdentity = new Map(inSingle.map((r) => [identity(r, "test"), r]));
        for (const r of declared) expect(r.inputs, r.urn).toEqual(singleByIdentity.get(identity(r, "test.cell-b"))!.inputs);
        const ours = declared.flatMap((r) => r.options.aliases.filter((a) => a.name !== undefined || (a.parentUrn !== undefined && a.parentUrn !== r.parent)));
        expect(ours).toEqual([]);
        const cluster = declared.find((r) => r.type === "aws:rds/cluster:Cluster")!;
        expect(cluster.inputs["clusterIdentifier"]).toBe("tenancy-test-cell-b");
        const platform = (single.outputs["platform"] as Record<string, unknown>);
        const sg = declared.find((r) => r.name === "cell-b-db-sg")!;
        expect(sg.inputs["vpcId"]).toBe(platform["vpcId"]);
        const aws = providerOf(fleet, "pulumi:providers:aws")[0]!;
        for (const r of declared.filter((x) => x.type.startsWith("aws:"))) expect(r.provider, r.urn).toBe(`${aws.urn}::${aws.id}`);
        const cell = fleet.outputs["cell"] as Record<string, unknown>;
        expect(cell).toMatchObject({ host: expect.stringContaining("tenancy-test-cell-b"), databaseName: "tenancy", groupRoleName: "tenancy_tenants", masterUsername: "tenancy_admin" });
        expect(fleet.outputSecretPaths).toContain("cell.masterPassword");
    });
});

describe("fleet: stack names the registry does not know", () => {
    it.each([
        ["test.nosuch", "fleet", /stack test\.nosuch: test has no tenant 'nosuch'/],
        ["test.cell-zzz", "fleet", /stack test\.cell-zzz: test declares no cell 'zzz' \(allowed: test\.cell-b, test\.cell-main\)/],
        ["test.alpha", "single", /stack test\.alpha: environment test has layout single, so its only stack is test/],
        ["nosuch.alpha", "fleet", /Pulumi\.nosuch\.yaml.*no such stack configuration/],
    ] as const)("%s (%s) is one clean error and registers nothing", async (stack, layout, message) => {
        const root = layout === "single" ? singleRoot : fleetRoot;
        const err = await recordFleet(root, stack, references).then(() => undefined, (e: Error) => e);
        expect(err?.constructor.name).toBe("RunError");
        expect(err!.message).toMatch(message);
    });
});

describe("fleet: a tenant stack validates the whole registry", () => {
    it("another tenant's invalid file stops a tenant's stack too: cross-tenant rules hold in every stack", async () => {
        const root = repo("fleet", { ...FILES, "zulu.yaml": sharedTenant("zulu", "subdomain: alpha\n") });
        const err = await recordFleet(root, "test.charlie", references).then(() => undefined, (e: Error) => e);
        expect(err?.constructor.name).toBe("RunError");
        expect(err!.message).toMatch(/tenants\/test\/zulu\.yaml:\d+:\d+ subdomain: .*alpha/);
    });
});
