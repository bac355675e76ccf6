/** SharedPlatform on the recorded graph: the app's key access, the wildcard record, the runner's group, ECR lifecycle. */
import { describe, expect, it } from "vitest";
import { SharedPlatform } from "../../components/sharedPlatform";
import { sharedPlatformArgs } from "./sharedPlatformArgs";
import { ecrLifecyclePolicy } from "../../components/monitoring";
import { findResource, ofType, record, type RecordResult } from "../../engine/recorder";

const recordPlatform = (): Promise<RecordResult> =>
    record(async () => void new SharedPlatform("shared", sharedPlatformArgs({ protect: true })), { project: "tenancy", stack: "test", config: { "aws:region": "eu-west-1" } });

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


    it("one wildcard record *.<domain> points at the shared ALB: shared and hybrid tenants' host names need none of their own", async () => {
        const r = await recordPlatform();
        const alb = ofType(r, "aws:lb/loadBalancer:LoadBalancer")[0]!;
        const records = ofType(r, "aws:route53/record:Record").filter((x) => x.inputs["type"] === "A");
        expect(records.map((x) => [x.name, x.inputs["name"], x.inputs["zoneId"]])).toEqual([["shared-dns-wildcard", "*.saas.example.com", "Z0TEST0ZONE"]]);
        expect(records[0]!.inputs["aliases"]).toEqual([{ name: alb.outputs["dnsName"], zoneId: alb.outputs["zoneId"], evaluateTargetHealth: true }]);
    });

    it("holds no database: no cluster, no PostgreSQL provider, no SQL (those are the cells')", async () => {
        const r = await recordPlatform();
        expect(r.resources.length).toBeGreaterThan(30);
        expect(r.resources.filter((x) => x.type.startsWith("aws:rds/") || x.type.includes("postgresql"))).toEqual([]);
    });

    it("the deploy runner's group sends only HTTPS itself and admits nothing (each cell adds its PostgreSQL rule)", async () => {
        const r = await recordPlatform();
        const runner = ofType(r, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name === "shared-deploy-runner-sg")!;
        const egress = ofType(r, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((x) => x.inputs["securityGroupId"] === runner.id);
        expect(egress.map((x) => [x.inputs["fromPort"], x.inputs["cidrIpv4"]])).toEqual([[443, "0.0.0.0/0"]]);
        expect(ofType(r, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((x) => x.inputs["securityGroupId"] === runner.id)).toEqual([]);
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
