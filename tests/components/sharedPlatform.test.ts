/** SharedPlatform's AWS baseline on the recorded graph: cluster versions, enhanced monitoring, ECR lifecycle. */
import { describe, expect, it } from "vitest";
import { SharedPlatform, type SharedPlatformArgs } from "../../components/sharedPlatform";
import { sharedPlatformArgs } from "./sharedPlatformArgs";
import { ecrLifecyclePolicy } from "../../components/monitoring";
import { findResource, ofType, record, type RecordResult } from "../../engine/recorder";

const recordPlatform = (database: Partial<SharedPlatformArgs["database"]> = {}): Promise<RecordResult> =>
    record(async () => void new SharedPlatform("shared", sharedPlatformArgs({ readers: 1, ...database }, { protect: true })), { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } });

describe("SharedPlatform: AWS baseline", () => {
    it("the shared app decrypts with tenant keys only through Secrets Manager in its region (kms:ViaService)", async () => {
        const r = await recordPlatform();
        type Statement = { Sid?: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> };
        const statements = ofType(r, "aws:iam/rolePolicy:RolePolicy").flatMap(
            (p) => (JSON.parse(p.inputs["policy"] as string) as { Statement: Statement[] }).Statement,
        );
        const decrypt = statements.filter((st) => [st.Action].flat().includes("kms:Decrypt"));
        expect(decrypt.length).toBeGreaterThan(0);
        for (const st of decrypt) expect(st.Condition?.["StringEquals"]?.["kms:ViaService"], st.Sid).toBe("secretsmanager.eu-west-1.amazonaws.com");
    });


    it("cluster instances carry no engineVersion of their own and ignore nothing: they run the cluster's version", async () => {
        const r = await recordPlatform();
        const instances = ofType(r, "aws:rds/clusterInstance:ClusterInstance");
        expect(instances).toHaveLength(2);
        for (const i of instances) {
            expect(i.inputs["engineVersion"], i.name).toBeUndefined();
            expect(i.options.ignoreChanges, i.name).toEqual([]);
        }
    });

    it("the cluster ignores engineVersion (RDS's minor upgrades) until a major upgrade is asked for, then sends it with allowMajorVersionUpgrade", async () => {
        const steady = findResource(await recordPlatform(), "aws:rds/cluster:Cluster", "shared-db");
        expect(steady.inputs).toMatchObject({ engineVersion: "16.6", allowMajorVersionUpgrade: false });
        expect(steady.options.ignoreChanges).toEqual(["engineVersion"]);
        const r = await recordPlatform({ engineVersion: "17.4", allowMajorVersionUpgrade: true });
        const upgrading = findResource(r, "aws:rds/cluster:Cluster", "shared-db");
        expect(upgrading.inputs).toMatchObject({ engineVersion: "17.4", allowMajorVersionUpgrade: true, applyImmediately: true });
        expect(steady.inputs["applyImmediately"]).toBe(false);
        expect(upgrading.options.ignoreChanges).toEqual([]);
        // The parameter group follows the major version in the same deploy.
        expect(findResource(r, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "shared-db-params").inputs["family"]).toBe("aurora-postgresql17");
    });

    it("writer and readers have enhanced monitoring through one role for RDS monitoring, created before them", async () => {
        const r = await recordPlatform();
        const role = findResource(r, "aws:iam/role:Role", "shared-db-monitoring");
        const attachment = findResource(r, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "shared-db-monitoring");
        expect(attachment.inputs["policyArn"]).toBe("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole");
        expect(JSON.parse(role.inputs["assumeRolePolicy"] as string).Statement[0].Principal).toEqual({ Service: "monitoring.rds.amazonaws.com" });
        for (const i of ofType(r, "aws:rds/clusterInstance:ClusterInstance")) {
            expect(i.inputs).toMatchObject({ monitoringInterval: 60, monitoringRoleArn: role.outputs["arn"] });
            expect(i.options.dependsOn).toContain(attachment.urn);
        }
    });

    it("the app repository expires untagged images after 14 days and has no rule for tagged releases", async () => {
        const r = await recordPlatform();
        const repo = findResource(r, "aws:ecr/repository:Repository", "shared-app-repo");
        const policy = findResource(r, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "shared-app-repo-lifecycle");
        expect(policy.inputs["repository"]).toBe(repo.outputs["name"]);
        const rules = (JSON.parse(policy.inputs["policy"] as string) as { rules: { selection: { tagStatus: string; countType: string; countUnit: string; countNumber: number }; action: { type: string } }[] }).rules;
        expect(rules.map((x) => [x.selection, x.action.type])).toEqual([
            [{ tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 }, "expire"],
        ]);
        expect(() => ecrLifecyclePolicy(0)).toThrow(/allowed: a whole number of days, at least 1/);
    });
});
