/**
 * `npm run plan -- --stack <env|stack> [--tenants <dir>] [--parallel <n>] [--format text|json|markdown|mermaid] [--out <file>]`
 *
 * The offline plan: runs the real stack program under Pulumi's mock monitor with the stack's configuration and prints
 * what it declares, per stack and tenant. A fleet environment (`--stack prod`) plans every stack of it: platform, then
 * cells, then tenant stacks in `--parallel` worker processes (default: one per core); `--stack prod.tyrell` one stack. No credentials, no network, no Pulumi CLI. Invalid config or tenants: the registry's
 * problems on stderr, exit 1, no plan.
 */
import * as fs from "fs";
import * as path from "path";
import { EXIT_USAGE, failOnRegistryError, parseFlags, STACKS_ROOT } from "./cli";
import { planToJson, type Plan } from "./plan/model";
import { renderMarkdown } from "./plan/renderMarkdown";
import { renderMermaid } from "./plan/renderMermaid";
import { renderText } from "./plan/renderText";
import { runPlan } from "./plan/run";
import { defaultParallelism } from "./plan/environment";

const USAGE = "npm run plan -- --stack <env|stack> [--tenants <dir>] [--parallel <n>] [--format text|json|markdown|mermaid] [--out <file>]";
const FORMATS: Record<string, (plan: Plan) => string> = { text: renderText, json: planToJson, markdown: renderMarkdown, mermaid: renderMermaid };

function usageError(message: string): never {
    console.error(`${message}\nusage: ${USAGE}`);
    process.exit(EXIT_USAGE);
}

async function cli(): Promise<void> {
    const { values } = parseFlags(USAGE, {
        stack: { type: "string" },
        tenants: { type: "string" },
        format: { type: "string", default: "text" },
        out: { type: "string" },
        parallel: { type: "string" },
    });
    if (!values.stack) usageError("--stack is required");
    const render = FORMATS[values.format!];
    if (!render) usageError(`--format '${values.format}' is not supported (allowed: ${Object.keys(FORMATS).join(", ")})`);

    const parallel = values.parallel === undefined ? defaultParallelism() : Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1) usageError(`--parallel '${values.parallel}' is not allowed (allowed: a whole number of worker processes, 1 or more)`);

    let plan: Plan;
    try {
        plan = await runPlan({ root: STACKS_ROOT, stack: values.stack, tenantsDir: values.tenants, parallel });
    } catch (e) {
        failOnRegistryError(e);
    }
    const output = render(plan);
    if (values.out) {
        const out = path.resolve(values.out);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, output);
        console.error(`Wrote the ${values.format} plan of stack ${plan.stack} to ${values.out}.`);
    } else {
        process.stdout.write(output);
    }
}

cli().catch((e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(EXIT_USAGE);
});
