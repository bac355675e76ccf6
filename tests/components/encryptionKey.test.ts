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
