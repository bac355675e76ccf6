/**
 * `npm run --silent stacks -- [--canary <stack>]`: the stacks of this repository, from its `Pulumi.<stack>.yaml` files,
 * as GitHub Actions step outputs (`name=value` lines for $GITHUB_OUTPUT), so CI matrices follow the files instead of a
 * hard-coded list:
 *   stacks=["dev","prod"]                      every stack
 *   matrix={"include":[{stack,region,caBundle}]} every stack, with its `aws:region` and the RDS CA bundle path
 *   canary=… / promote=… / promote-count=N     with --canary: that stack alone, and every other one (deploy order)
 */
import * as fs from "fs";
import { DEFAULT_RDS_CA_BUNDLE } from "../stacks/config";
import { EXIT_USAGE, parseFlags, STACKS_ROOT } from "./cli";
import { readStackFile } from "../tenants/registry";
import { formatProblem } from "../tenants/problems";

/** One stack as a CI job needs it. */
export interface StackTarget {
    stack: string;
    /** `aws:region` of the stack file: the region of the job's AWS credentials. */
    region: string;
    /** Where `pulumi up` expects the RDS CA bundle (`tenancy:shared.database.adminTls.rootCertPath`). */
    caBundle: string;
}

// Names reach shell commands and expressions through the matrix: nothing a shell or a path could misread.
const SAFE_STACK = /^[A-Za-z0-9_-]+$/;

/** The stacks under `root`, sorted by name; throws one message listing every problem. */
export function listStacks(root: string): StackTarget[] {
    const names = fs.readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice("Pulumi.".length, -".yaml".length)).sort();
    const problems: string[] = [];
    const targets: StackTarget[] = [];
    for (const stack of names) {
        if (!SAFE_STACK.test(stack)) {
            problems.push(`Pulumi.${stack}.yaml: stack name '${stack}' is not allowed (allowed: A-Z, a-z, 0-9, '_', '-')`);
            continue;
        }
        const { stackFile, problems: found } = readStackFile(root, stack);
        if (!stackFile) {
            problems.push(...found.map(formatProblem));
            continue;
        }
        if (!stackFile.region) {
            problems.push(`${stackFile.file} aws:region: is required: the stack's AWS region, e.g. us-east-1`);
            continue;
        }
        const shared = stackFile.values["shared"] as { database?: { adminTls?: { rootCertPath?: unknown } } } | undefined;
        const caBundle = shared?.database?.adminTls?.rootCertPath;
        targets.push({ stack, region: stackFile.region, caBundle: typeof caBundle === "string" ? caBundle : DEFAULT_RDS_CA_BUNDLE });
    }
    if (names.length === 0) problems.push("no Pulumi.<stack>.yaml files found");
    if (problems.length) throw new Error(problems.join("\n"));
    return targets;
}

/** `$GITHUB_OUTPUT` lines for the targets; with a canary, that stack first and alone, then the rest. */
export function githubOutputs(targets: readonly StackTarget[], canary?: string): string {
    const lines = [`stacks=${JSON.stringify(targets.map((t) => t.stack))}`, `matrix=${JSON.stringify({ include: targets })}`];
    if (canary !== undefined) {
        const first = targets.filter((t) => t.stack === canary);
        if (first.length === 0) throw new Error(`canary stack '${canary}' has no Pulumi.${canary}.yaml (stacks: ${targets.map((t) => t.stack).join(", ")})`);
        const rest = targets.filter((t) => t.stack !== canary);
        lines.push(`canary=${JSON.stringify({ include: first })}`, `promote=${JSON.stringify({ include: rest })}`, `promote-count=${rest.length}`);
    }
    return lines.join("\n");
}

if (require.main === module) {
    const { values } = parseFlags("npm run --silent stacks -- [--canary <stack>]", { canary: { type: "string" } });
    try {
        console.log(githubOutputs(listStacks(STACKS_ROOT), values.canary));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(EXIT_USAGE);
    }
}
