/** DatabaseCell on the recorded graph: the cluster's baseline, its physical names per cell, and the aliases of cell main. */
import { describe, expect, it } from "vitest";
import { DatabaseCell, type DatabaseCellArgs, databaseCellProblems } from "../../components/databaseCell";
import { cellNaming } from "../../components/naming";
import { findResource, ofType, record, type RecordResult } from "../../engine/recorder";
import { databaseCellArgs } from "./sharedPlatformArgs";

const recordCell = (
    database: Partial<DatabaseCellArgs["database"]> = {}, overrides: Partial<Omit<DatabaseCellArgs, "database">> = {}, name = `cell-${overrides.cell ?? "main"}`,
): Promise<RecordResult> =>
    record(async () => void new DatabaseCell(name, databaseCellArgs({ readers: 1, ...database }, { protect: true, ...overrides })), { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } });

const FORMER_PLATFORM = "urn:pulumi:test::tenancy::tenancy:platform:SharedPlatform::shared";

describe("DatabaseCell: the cluster's baseline", () => {
    it("cluster instances carry no engineVersion of their own and ignore nothing: they run the cluster's version", async () => {
        const r = await recordCell();
        const instances = ofType(r, "aws:rds/clusterInstance:ClusterInstance");
        expect(instances.map((i) => [i.name, i.inputs["availabilityZone"], i.inputs["promotionTier"]])).toEqual([
            ["cell-main-db-writer", "eu-west-1a", 0], ["cell-main-db-reader-1", "eu-west-1b", 1],
        ]);
        for (const i of instances) {
            expect(i.inputs["engineVersion"], i.name).toBeUndefined();
            expect(i.options.ignoreChanges, i.name).toEqual([]);
            expect(i.options.protect, i.name).toBe(true);
        }
    });

    it("the cluster ignores engineVersion (RDS's minor upgrades) until a major upgrade is asked for, then sends it with allowMajorVersionUpgrade", async () => {
        const steady = findResource(await recordCell(), "aws:rds/cluster:Cluster", "cell-main-db");
        expect(steady.inputs).toMatchObject({ engineVersion: "16.6", allowMajorVersionUpgrade: false, applyImmediately: false });
        expect(steady.options.ignoreChanges).toEqual(["engineVersion"]);
        const r = await recordCell({ engineVersion: "17.4", allowMajorVersionUpgrade: true });
        const upgrading = findResource(r, "aws:rds/cluster:Cluster", "cell-main-db");
        expect(upgrading.inputs).toMatchObject({ engineVersion: "17.4", allowMajorVersionUpgrade: true, applyImmediately: true });
        expect(upgrading.options.ignoreChanges).toEqual([]);
        // The parameter group follows the major version in the same deploy.
        expect(findResource(r, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "cell-main-db-params").inputs["family"]).toBe("aurora-postgresql17");
    });

    it("logical replication is on for a move's source: rds.logical_replication = 1, pending-reboot (a static parameter), the others unchanged", async () => {
        const params = findResource(await recordCell(), "aws:rds/clusterParameterGroup:ClusterParameterGroup", "cell-main-db-params");
        expect(params.inputs["parameters"]).toEqual([
            { name: "rds.force_ssl", value: "1" },
            { name: "log_connections", value: "1" },
            { name: "log_disconnections", value: "1" },
            { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
        ]);
    });

    it("writer and readers have enhanced monitoring through one role for RDS monitoring, created before them", async () => {
        const r = await recordCell();
        const role = findResource(r, "aws:iam/role:Role", "cell-main-db-monitoring");
        const attachment = findResource(r, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cell-main-db-monitoring");
        expect(attachment.inputs["policyArn"]).toBe("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole");
        expect(JSON.parse(role.inputs["assumeRolePolicy"] as string).Statement[0].Principal).toEqual({ Service: "monitoring.rds.amazonaws.com" });
        for (const i of ofType(r, "aws:rds/clusterInstance:ClusterInstance")) {
            expect(i.inputs).toMatchObject({ monitoringInterval: 60, monitoringRoleArn: role.outputs["arn"] });
            expect(i.options.dependsOn).toContain(attachment.urn);
        }
    });

    it("encrypted with the platform's key, its log group created first, protected with a final snapshot per incarnation", async () => {
        const r = await recordCell();
        const cluster = findResource(r, "aws:rds/cluster:Cluster", "cell-main-db");
        const logs = findResource(r, "aws:cloudwatch/logGroup:LogGroup", "cell-main-db-logs");
        const key = databaseCellArgs().kmsKeyArn;
        expect(cluster.inputs).toMatchObject({ storageEncrypted: true, kmsKeyId: key, deletionProtection: true, skipFinalSnapshot: false, iamDatabaseAuthenticationEnabled: true });
        expect(cluster.inputs["finalSnapshotIdentifier"]).toMatch(/^tenancy-test-shared-final-[0-9a-f]{8}$/);
        expect(logs.inputs).toMatchObject({ name: "/aws/rds/cluster/tenancy-test-shared/postgresql", kmsKeyId: key, retentionInDays: 14 });
        expect(cluster.options.dependsOn).toContain(logs.urn);
        for (const x of [cluster, logs, ...ofType(r, "aws:secretsmanager/secret:Secret")]) expect(x.options.protect, x.name).toBe(true);
    });

    it("every PostgreSQL resource goes through the cell's own provider, which waits for the writer", async () => {
        const r = await recordCell();
        const provider = findResource(r, "pulumi:providers:postgresql", "cell-main-pg");
        const writer = findResource(r, "aws:rds/clusterInstance:ClusterInstance", "cell-main-db-writer");
        expect(provider.options.dependsOn).toContain(writer.urn);
        const pg = r.resources.filter((x) => x.type.startsWith("postgresql:"));
        expect(pg.length).toBe(8);
        for (const x of pg) expect(x.provider, x.name).toBe(`${provider.urn}::${provider.id}`);
    });

    it("invalid arguments throw before the component or any child is registered", async () => {
        expect(databaseCellProblems({ cell: "Main-1", database: { ...databaseCellArgs().database, minCapacity: undefined, readers: -1 } })).toEqual([
            "cell: 'Main-1' is not a cell name (allowed: a lower-case letter, then up to 11 letters or digits)",
            "database: set minCapacity and maxCapacity (Serverless v2) or instanceClass",
            "database.readers: -1 is not allowed (allowed: a whole number, 0 or more)",
        ]);
        const err = await recordCell({ readers: -1 }).then(() => undefined, (e: Error) => e);
        expect(err?.message).toMatch(/DatabaseCell cell-main: database\.readers/);
    });
});

describe("DatabaseCell: physical names", () => {
    it("cell main keeps the names the shared cluster had before cells; another cell gets names of its own", async () => {
        expect(cellNaming("prod", "main")).toEqual({ clusterIdentifier: "tenancy-prod-shared", secretOwner: "platform" });
        expect(cellNaming("prod", "b")).toEqual({ clusterIdentifier: "tenancy-prod-cell-b", secretOwner: "cell-b" });
        const main = await recordCell();
        const b = await recordCell({}, { cell: "b" });
        const names = (r: RecordResult) => ({
            cluster: ofType(r, "aws:rds/cluster:Cluster")[0]!.inputs["clusterIdentifier"],
            logs: ofType(r, "aws:cloudwatch/logGroup:LogGroup")[0]!.inputs["name"],
            secrets: ofType(r, "aws:secretsmanager/secret:Secret").map((s) => s.inputs["namePrefix"]),
        });
        expect(names(main)).toEqual({
            cluster: "tenancy-test-shared",
            logs: "/aws/rds/cluster/tenancy-test-shared/postgresql",
            secrets: ["tenancy/test/platform/db-admin-", "tenancy/test/platform/db-reporting-", "tenancy/test/platform/db-backup-"],
        });
        expect(names(b)).toEqual({
            cluster: "tenancy-test-cell-b",
            logs: "/aws/rds/cluster/tenancy-test-cell-b/postgresql",
            secrets: ["tenancy/test/cell-b/db-admin-", "tenancy/test/cell-b/db-reporting-", "tenancy/test/cell-b/db-backup-"],
        });
        // Logical names start with the component's name.
        for (const x of b.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")) expect(x.name.startsWith("cell-b"), x.name).toBe(true);
    });
});

describe("DatabaseCell: aliases of a single stack made before cells", () => {
    it("with formerPlatform every direct child is aliased to its former name under the former SharedPlatform", async () => {
        const r = await recordCell({}, { formerPlatform: "shared" });
        const cell = findResource(r, "tenancy:cell:DatabaseCell", "cell-main");
        expect(cell.options.aliases).toEqual([]);
        const children = r.resources.filter((x) => x.parent === cell.urn);
        expect(children.length).toBeGreaterThan(15);
        for (const x of children) {
            expect(x.options.aliases, x.name).toEqual([{ name: x.name.replace(/^cell-main/, "shared"), parentUrn: FORMER_PLATFORM }]);
        }
        // The ones whose state matters most, by their former names.
        const formerNames = children.map((x) => x.options.aliases[0]!.name);
        expect(formerNames).toEqual(expect.arrayContaining([
            "shared-db", "shared-db-writer", "shared-db-reader-1", "shared-db-params", "shared-db-subnets", "shared-db-sg", "shared-db-logs",
            "shared-db-master-password", "shared-db-final-snapshot", "shared-db-admin-secret", "shared-db-admin-secret-version",
            "shared-db-monitoring", "shared-pg", "shared-hardening", "shared-db-from-app", "shared-db-from-deploy-runner", "shared-deploy-runner-to-db",
        ]));
        // The hardening's children inherit its alias (the engine derives it): their names must start with the component's.
        const hardening = findResource(r, "tenancy:database:DatabaseHardening", "cell-main-hardening");
        const grandchildren = r.resources.filter((x) => x.parent === hardening.urn);
        expect(grandchildren.length).toBeGreaterThan(5);
        for (const x of grandchildren) {
            expect(x.name.startsWith("cell-main-hardening-"), x.name).toBe(true);
            expect(x.options.aliases, x.name).toEqual([]);
        }
    });

    it("without formerPlatform (another cell, a fleet's cell stack) nothing is aliased", async () => {
        for (const r of [await recordCell(), await recordCell({}, { cell: "b" })]) {
            const aliased = r.resources.filter((x) => x.options.aliases.length > 0);
            expect(r.resources.length).toBeGreaterThan(20);
            expect(aliased.map((x) => x.name)).toEqual([]);
        }
    });
});
