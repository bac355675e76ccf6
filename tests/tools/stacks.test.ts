import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { DEFAULT_RDS_CA_BUNDLE } from "../../stacks/config";
import { githubOutputs, listStacks } from "../../tools/stacks";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A directory holding `Pulumi.<name>.yaml` per entry (objects are the `config:` map, strings verbatim). */
function repo(files: Record<string, Record<string, unknown> | string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "tenancy-stacks-"));
    dirs.push(root);
    for (const [name, config] of Object.entries(files)) {
        fs.writeFileSync(path.join(root, `Pulumi.${name}.yaml`), typeof config === "string" ? config : stringify({ config }));
    }
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: tenancy\n");
    return root;
}

/** Parses `name=value` lines as $GITHUB_OUTPUT would, JSON values decoded. */
function outputs(text: string): Record<string, unknown> {
    return Object.fromEntries(text.split("\n").map((l) => [l.slice(0, l.indexOf("=")), JSON.parse(l.slice(l.indexOf("=") + 1))]));
}

describe("listStacks", () => {
    it("lists every Pulumi.<stack>.yaml, sorted, with its aws:region and RDS CA bundle path", () => {
        const root = repo({
            staging: { "aws:region": "eu-west-1" },
            dev: { "aws:region": "us-east-1", "tenancy:shared": { database: { adminTls: { rootCertPath: "/opt/rds.pem" } } } },
            prod: { "aws:region": "ap-southeast-2" },
        });
        expect(listStacks(root)).toEqual([
            { stack: "dev", region: "us-east-1", caBundle: "/opt/rds.pem" },
            { stack: "prod", region: "ap-southeast-2", caBundle: DEFAULT_RDS_CA_BUNDLE },
            { stack: "staging", region: "eu-west-1", caBundle: DEFAULT_RDS_CA_BUNDLE },
        ]);
    });

    it("the repository's own stacks are exactly its Pulumi.<stack>.yaml files", () => {
        const root = path.resolve(__dirname, "../..");
        const files = fs.readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice(7, -5)).sort();
        expect(files.length).toBeGreaterThan(0);
        expect(listStacks(root).map((t) => t.stack)).toEqual(files);
    });

    it("refuses, all at once, a file without aws:region and a stack name a shell could misread", () => {
        const root = repo({ "a$(id)": { "aws:region": "us-east-1" }, noregion: { "tenancy:domain": "x.example.com" }, ok: { "aws:region": "us-east-1" } });
        expect(() => listStacks(root)).toThrow(
            "Pulumi.a$(id).yaml: stack name 'a$(id)' is not allowed (allowed: A-Z, a-z, 0-9, '_', '-')\n" +
                "Pulumi.noregion.yaml aws:region: is required: the stack's AWS region, e.g. us-east-1",
        );
    });
});

describe("githubOutputs", () => {
    const targets = [
        { stack: "dev", region: "us-east-1", caBundle: "/tmp/a.pem" },
        { stack: "prod", region: "eu-west-1", caBundle: "/tmp/b.pem" },
        { stack: "staging", region: "eu-west-1", caBundle: "/tmp/b.pem" },
    ];

    it("one line per output: the stack list and a matrix of them", () => {
        const text = githubOutputs(targets);
        expect(text.split("\n")).toHaveLength(2);
        expect(outputs(text)).toEqual({ stacks: ["dev", "prod", "staging"], matrix: { include: targets } });
    });

    it("with a canary: that stack alone first, then every other one, and their count", () => {
        expect(outputs(githubOutputs(targets, "dev"))).toMatchObject({
            canary: { include: [targets[0]] },
            promote: { include: [targets[1], targets[2]] },
            "promote-count": 2,
        });
        expect(outputs(githubOutputs([targets[0]!], "dev"))["promote-count"]).toBe(0);
    });

    it("a canary without a stack file is an error naming the stacks", () => {
        expect(() => githubOutputs(targets.slice(1), "dev")).toThrow("canary stack 'dev' has no Pulumi.dev.yaml (stacks: prod, staging)");
    });
});
