/** --remote: what each stack's run on Pulumi Deployments is created with (fleet/stackOperations.ts), and the CLI's checks. */
import { describe, expect, it } from "vitest";
import { remoteStackArgs } from "../../fleet/stackOperations";
import { fleetCommand, type FleetDeps } from "../../fleet/cli";
import type { StackRunner } from "../../fleet/types";
import { baseStackConfig, makeRepo, sharedTenant } from "../tenants/fixtures";
import { removeAfterFile } from "../support/tempDirs";

const TARGET = { kind: "remote" as const, organization: "acme", project: "tenancy", url: "https://github.com/acme/tenancy.git", commitHash: "a".repeat(40), projectPath: ".", envVars: { AWS_REGION: "us-east-1" } };

describe("remoteStackArgs", () => {
    it("names the stack fully (RemoteWorkspace refuses a short name), pins the commit and inherits the stack's deployment settings", () => {
        const [program, options] = remoteStackArgs("prod.acme", TARGET);
        expect(program).toEqual({ stackName: "acme/tenancy/prod.acme", url: TARGET.url, commitHash: TARGET.commitHash, projectPath: "." });
        // The stack's settings carry the OIDC role for AWS and the agent pool inside the VPC; without them the run has neither.
        expect(options).toMatchObject({ envVars: { AWS_REGION: "us-east-1" }, inheritSettings: true, preRunCommands: ["npm ci"], skipInstallDependencies: true });
    });
});

describe("fleet --remote", () => {
    const root = () => {
        const r = makeRepo({ "acme.yaml": sharedTenant("acme") }, baseStackConfig());
        removeAfterFile(r);
        return r;
    };
    const run = async (argv: string[], organization?: string) => {
        const remotes: unknown[] = [];
        const err: string[] = [];
        const runner: StackRunner = { run: async () => ({ status: "ok", changes: {} }), history: async (stack) => ({ stack, exists: false }), close: async () => {} };
        const deps: FleetDeps = {
            root: root(), runner: (_p, remote) => (remotes.push(remote), runner),
            pulumi: { run: async () => ({ code: 255, stdout: "", stderr: "no stack" }) },
            proveAdoption: async () => { throw new Error("not expected"); },
            ...(organization ? { organization } : {}),
            out: () => {}, err: (t) => err.push(t),
        };
        return { code: await fleetCommand(argv, deps), remotes, err: err.join("") };
    };
    const ARGS = ["preview", "--env", "test", "--remote", "--repo-url", TARGET.url, "--commit", TARGET.commitHash];

    it("needs the Pulumi Cloud organization (--org or PULUMI_ORG) and hands it to the runner", async () => {
        const missing = await run(ARGS);
        expect(missing.code).toBe(1);
        expect(missing.err).toContain("--remote needs the Pulumi Cloud organization: --org <org> or PULUMI_ORG");
        expect(missing.remotes).toEqual([]);
        expect((await run(ARGS, "acme")).remotes).toEqual([{ url: TARGET.url, commitHash: TARGET.commitHash, organization: "acme" }]);
        expect((await run([...ARGS, "--org", "other"], "acme")).remotes).toEqual([{ url: TARGET.url, commitHash: TARGET.commitHash, organization: "other" }]);
    });
});
