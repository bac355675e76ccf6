/**
 * `npm run fleet -- <preview|up|refresh|status|schedule|adopt> --env <env> [options]` (fleet/cli.ts has the usage):
 * runs an environment's stacks through Pulumi's Automation API, platform then cells then tenants, in worker processes.
 */
import { PulumiCliProcess, WorkerPoolRunner } from "../fleet/automation";
import { fleetCommand } from "../fleet/cli";
import { STACKS_ROOT } from "./cli";
import { projectName } from "./stackRecording";

fleetCommand(process.argv.slice(2), {
    root: STACKS_ROOT,
    runner: (parallel, remote) => new WorkerPoolRunner(STACKS_ROOT, parallel, remote && {
        ...remote,
        project: projectName(STACKS_ROOT),
        projectPath: ".",
        // What the program and the providers need on Pulumi Deployments; credentials come from the deployment's OIDC settings.
        envVars: Object.fromEntries(["AWS_REGION", "PULUMI_ORG"].filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
    }),
    pulumi: new PulumiCliProcess(STACKS_ROOT),
    ...(process.env["PULUMI_ORG"] ? { organization: process.env["PULUMI_ORG"] } : {}),
    proveAdoption: async (env) => (await import("./plan/adoption")).proveAdoption({ root: STACKS_ROOT, env }),
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
}).then((code) => {
    process.exitCode = code;
}, (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
});
