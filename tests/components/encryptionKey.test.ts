import { describe, expect, test } from "vitest";
import { EncryptionKey } from "../../components/encryptionKey";
import { ofType, record } from "../../engine/recorder";

async function keyOf(protect: boolean) {
    const result = await record(
        async () => {
            new EncryptionKey("acme-kms", { description: "acme data", region: "eu-west-1", tags: { "tenancy:tenant": "acme" }, protect });
        },
        { project: "tenancy", stack: "test", config: { "aws:region": "us-east-1" } },
    );
    const keys = ofType(result, "aws:kms/key:Key");
    expect(keys).toHaveLength(1);
    return keys[0]!;
}

describe("EncryptionKey", () => {
    test("the key is retained on delete whether protected or not: snapshots, backups and logs encrypted with it outlive its owner", async () => {
        for (const protect of [true, false]) {
            const key = await keyOf(protect);
            expect(key.options).toMatchObject({ protect, retainOnDelete: true });
        }
    });

    test("rotation on, a 30-day deletion window, in the given region", async () => {
        const key = await keyOf(true);
        expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30, region: "eu-west-1", description: "acme data" });
    });
});

describe("EncryptionKey: service principals", () => {
    const recordKey = (servicePrincipals: ConstructorParameters<typeof EncryptionKey>[1]["servicePrincipals"]) => record(
        async () => {
            new EncryptionKey("alarms-kms", { description: "alarm topics", region: "eu-west-1", tags: {}, protect: false, servicePrincipals });
        },
        { project: "tenancy", stack: "test", config: { "aws:region": "us-east-1" } },
    );

    test("a service principal gets its own statement with exactly the data-key actions asked for, beside the account and CloudWatch Logs", async () => {
        const result = await recordKey([{ sid: "CloudWatchAlarmsUseKey", service: "cloudwatch.amazonaws.com", actions: ["kms:Decrypt", "kms:GenerateDataKey*"] }]);
        const policy = JSON.parse(ofType(result, "aws:kms/key:Key")[0]!.inputs["policy"] as string) as { Statement: Record<string, unknown>[] };
        expect(policy.Statement.map((s) => s["Sid"])).toEqual(["AccountAdministers", "CloudWatchLogsOfThisAccount", "CloudWatchAlarmsUseKey"]);
        expect(policy.Statement[2]).toEqual({
            Sid: "CloudWatchAlarmsUseKey", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*",
        });
    });

    test("without service principals the policy is what it was: the account and CloudWatch Logs only", async () => {
        const result = await recordKey(undefined);
        const policy = JSON.parse(ofType(result, "aws:kms/key:Key")[0]!.inputs["policy"] as string) as { Statement: Record<string, unknown>[] };
        expect(policy.Statement.map((s) => s["Sid"])).toEqual(["AccountAdministers", "CloudWatchLogsOfThisAccount"]);
    });

    test("administrative or wildcard actions, a service that is not one, or a Sid taken are refused before anything is registered", async () => {
        await expect(recordKey([{ sid: "Bad", service: "cloudwatch.amazonaws.com", actions: ["kms:*"] }])).rejects.toThrow(/servicePrincipals\[0\]\.actions: kms:\* is not allowed \(allowed: kms:Decrypt, kms:DescribeKey, kms:Encrypt, kms:GenerateDataKey\*, kms:ReEncrypt\*\)/);
        await expect(recordKey([{ sid: "Bad", service: "cloudwatch.amazonaws.com", actions: ["kms:ScheduleKeyDeletion"] }])).rejects.toThrow(/kms:ScheduleKeyDeletion is not allowed/);
        await expect(recordKey([{ sid: "AccountAdministers", service: "cloudwatch", actions: ["kms:Decrypt"] }])).rejects.toThrow(/servicePrincipals\[0\]\.sid: AccountAdministers is taken.*servicePrincipals\[0\]\.service: 'cloudwatch' is not a service principal/);
    });
});
