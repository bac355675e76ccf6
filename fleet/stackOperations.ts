/**
 * One stack's operation through Pulumi's Automation API, as a worker process runs it (fleet/worker.ts). Local: the
 * project from a workspace directory of the worker's own (pulumi/pulumi#8186: concurrent stack selection in one
 * workspace is unsafe). Remote: on Pulumi Deployments (the Automation API's remote workspace) from the repository at a
 * commit, for fleets too large for one runner.
 */
import { LocalWorkspace, RemoteWorkspace, type OpMap, type RemoteGitProgramArgs, type RemoteWorkspaceOptions, type Stack } from "@pulumi/pulumi/automation";
import type { RemoteStack } from "@pulumi/pulumi/automation/remoteStack";
import type { Operation, StackHistory, StackOutcome } from "./types";

/** Where and how a worker runs stacks. */
export type Target =
    | { kind: "local"; workDir: string }
    | {
        kind: "remote";
        /** Pulumi Cloud organization and project: a remote stack is named in full, `<org>/<project>/<stack>`. */
        organization: string;
        project: string;
        /** Git URL of the repository, the commit to run, the project's path in it. */
        url: string;
        commitHash: string;
        projectPath: string;
        /** Passed to the deployment (names of variables of this process: AWS role, Pulumi org, …). */
        envVars: Record<string, string>;
    };

/** A job for a worker. */
export interface WorkerJob {
    kind: "run" | "history";
    stack: string;
    operation?: Operation;
    target: Target;
}

const counts = (m: OpMap | undefined): Record<string, number> => Object.fromEntries(Object.entries(m ?? {}).filter(([, n]) => typeof n === "number")) as Record<string, number>;

async function localStack(stack: string, workDir: string): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack({ stackName: stack, workDir });
}

/**
 * What a stack's remote workspace is created with. RemoteWorkspace refuses a stack name that is not fully qualified.
 * `inheritSettings`: the stack's own deployment settings apply (its OIDC role for AWS, its agent pool: a
 * customer-managed agent inside the VPC reaches the cluster, Pulumi's hosted runners do not), merged with the source,
 * environment and commands given here.
 */
export function remoteStackArgs(stack: string, t: Extract<Target, { kind: "remote" }>): [RemoteGitProgramArgs, RemoteWorkspaceOptions] {
    return [
        { stackName: `${t.organization}/${t.project}/${stack}`, url: t.url, commitHash: t.commitHash, projectPath: t.projectPath },
        { envVars: t.envVars, preRunCommands: ["npm ci"], skipInstallDependencies: true, inheritSettings: true },
    ];
}

async function remoteStack(stack: string, t: Extract<Target, { kind: "remote" }>): Promise<RemoteStack> {
    return RemoteWorkspace.createOrSelectStack(...remoteStackArgs(stack, t));
}

/** Runs the operation; a Pulumi error becomes a `failed` outcome with its message. */
export async function runOperation(stack: string, operation: Operation, target: Target): Promise<Omit<StackOutcome, "stack" | "startedAt" | "durationMs">> {
    const s = target.kind === "local" ? await localStack(stack, target.workDir) : await remoteStack(stack, target);
    switch (operation) {
        case "preview": {
            const r = await s.preview();
            return { status: "ok", changes: counts(r.changeSummary) };
        }
        case "up": {
            const r = await s.up();
            return { status: r.summary.result === "succeeded" ? "ok" : "failed", changes: counts(r.summary.resourceChanges), ...(r.summary.result === "succeeded" ? {} : { message: r.stderr }) };
        }
        case "refresh": {
            const r = await s.refresh();
            return { status: r.summary.result === "succeeded" ? "ok" : "failed", changes: counts(r.summary.resourceChanges), ...(r.summary.result === "succeeded" ? {} : { message: r.stderr }) };
        }
    }
}

/** The stack's last update from its history; a stack that does not exist is not created. */
export async function stackHistory(stack: string, target: Target): Promise<StackHistory> {
    if (target.kind === "remote") throw new Error("status reads the stacks' history locally; run it without --remote");
    const ws = await LocalWorkspace.create({ workDir: target.workDir });
    const stacks = await ws.listStacks();
    if (!stacks.some((s) => s.name === stack || s.name.endsWith(`/${stack}`))) return { stack, exists: false };
    const s = await LocalWorkspace.selectStack({ stackName: stack, workDir: target.workDir });
    const [last] = await s.history(1);
    if (!last) return { stack, exists: true };
    return {
        stack,
        exists: true,
        last: {
            kind: last.kind, result: last.result, startTime: new Date(last.startTime).toISOString(),
            ...(last.endTime ? { endTime: new Date(last.endTime).toISOString() } : {}),
            changes: counts(last.resourceChanges),
        },
    };
}
