/**
 * `npm run fleet -- <preview|up|refresh|status|schedule|adopt> --env <env> [options]`: the orchestrator's commands,
 * with their dependencies (the stack runner, the `pulumi` CLI, git, the clock) injected so tests drive every path with
 * fakes. tools/fleet.ts wires the real ones.
 */
import { execFileSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { fleetStacks, scheduleSteps, type FleetStack } from "../model/fleet";
import { formatProblem, RegistryError } from "../tenants/problems";
import { loadRegistry, type Registry } from "../tenants/registry";
import type { AdoptionProof } from "../tools/plan/adoption";
import { adoptionCommands, renderAdoption, shellLine } from "./adopt";
import { loadRecord, RecordError, runId, saveRecord, type RunRecord } from "./record";
import { exitCode, renderReport, runFleet } from "./run";
import { renderScheduleText, scheduleDocument } from "./schedule";
import { selectStacks } from "./selection";
import { OPERATIONS, type Operation, type PulumiCli, type StackRunner } from "./types";

export const USAGE = [
    "npm run fleet -- schedule --env <env> [--format text|json] [selection]",
    "npm run fleet -- preview|up|refresh --env <env> [selection] [--parallel <n>] [--record <file> | --resume <file>] [--remote --repo-url <url> --commit <sha> [--org <org>]]",
    "npm run fleet -- status --env <env> [selection]",
    "npm run fleet -- adopt --env <env> [--execute]",
    "selection: [--tenant <slug>]... [--changed-since <git ref>]",
].join("\n       ");

/** Exit codes: 0 done; 1 usage or input error, nothing run; 2 a stack failed or was skipped (or adopt's proof failed). */
export const EXIT = { ok: 0, usage: 1, failed: 2 } as const;

export interface FleetDeps {
    /** Repository root (`Pulumi.<env>.yaml`, tenant directories, `.fleet/`). */
    root: string;
    /** The stack runner for `parallel` stacks at once; `remote` when the stacks run on Pulumi Deployments. */
    runner: (parallel: number, remote?: { url: string; commitHash: string; organization: string }) => StackRunner;
    /** The Pulumi Cloud organization remote stacks belong to (PULUMI_ORG), unless --org is given. */
    organization?: string;
    pulumi: PulumiCli;
    /** The adoption proof (offline plans of both layouts). */
    proveAdoption: (env: string) => Promise<AdoptionProof>;
    /** Files changed between a git ref and HEAD; throws with git's message when the ref is unknown. */
    changedFiles?: (ref: string) => string[];
    now?: () => Date;
    out: (text: string) => void;
    err: (text: string) => void;
}

class UsageError extends Error {}

/** Tag on the environment's stack: the commit its last complete `fleet up` (no failure, no --tenant) deployed. */
export const DEPLOYED_TAG = "tenancy:deployed-commit";
/** `--changed-since deployed`: since the commit in {@link DEPLOYED_TAG}. */
export const DEPLOYED_REF = "deployed";
/** Tag on the environment's stack: `fleet` once it is a fleet's platform (its first fleet deploy, or adopt --execute). */
export const LAYOUT_TAG = "tenancy:layout";

/** A stack tag's value; undefined when unset or the stack does not exist. */
async function stackTag(deps: FleetDeps, stack: string, key: string): Promise<string | undefined> {
    const r = await deps.pulumi.run(["stack", "tag", "get", key, "--stack", stack]);
    const value = r.stdout.trim();
    return r.code === 0 && value !== "" ? value : undefined;
}

async function setStackTag(deps: FleetDeps, stack: string, key: string, value: string): Promise<void> {
    const r = await deps.pulumi.run(["stack", "tag", "set", key, value, "--stack", stack]);
    // The deploy itself succeeded; without the tag the next run diffs from an older commit (more stacks, never fewer).
    if (r.code !== 0) deps.err(`warning: could not set tag ${key} on stack ${stack} (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n")[0]}\n`);
}

/**
 * Refuses a fleet \`up\` over an environment stack deployed in the single layout and never adopted: the platform
 * program no longer declares the cells and tenants, so the update would delete them (adopt moves them first). A stack
 * that does not exist or was never updated is a new environment.
 */
async function assertAdopted(env: string, deps: FleetDeps): Promise<void> {
    if ((await stackTag(deps, env, LAYOUT_TAG)) === "fleet") return;
    const h = await deps.pulumi.run(["stack", "history", "--json", "--page-size", "1", "--stack", env]);
    if (h.code !== 0) return;
    let updates: unknown;
    try {
        updates = JSON.parse(h.stdout);
    } catch {
        updates = undefined;
    }
    if (Array.isArray(updates) && updates.length === 0) return;
    throw new UsageError(
        `stack ${env} was deployed in the single layout (no tag ${LAYOUT_TAG}=fleet): as a fleet's platform its update would delete its cells and tenants. ` +
        `Move them into their stacks first: npm run fleet -- adopt --env ${env} (then with --execute)`,
    );
}

/** Files changed between `ref` and HEAD in the repository at `root` (renames as a removal and an addition). */
export function gitChangedFiles(root: string, ref: string): string[] {
    const run = (args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    try {
        run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch {
        throw new UsageError(`--changed-since ${ref}: not a commit of this repository (allowed: a branch, tag or commit, e.g. origin/main or the last deployed commit)`);
    }
    return run(["diff", "--name-only", "--no-renames", ref, "HEAD"]).split("\n").filter(Boolean);
}

function headCommit(root: string): string | undefined {
    try {
        return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

function parse(argv: string[]) {
    try {
        return parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                env: { type: "string" },
                tenant: { type: "string", multiple: true },
                "changed-since": { type: "string" },
                parallel: { type: "string" },
                format: { type: "string", default: "text" },
                record: { type: "string" },
                resume: { type: "string" },
                remote: { type: "boolean", default: false },
                "repo-url": { type: "string" },
                org: { type: "string" },
                commit: { type: "string" },
                execute: { type: "boolean", default: false },
            },
        });
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
}

/** The environment's registry; an invalid one is every problem, nothing run. */
function registryOf(root: string, env: string): Registry {
    if (env.includes(".")) throw new UsageError(`--env ${env}: an environment, not a stack (e.g. --env ${env.split(".")[0]}; select a tenant with --tenant)`);
    return loadRegistry({ root, stack: env });
}

async function selected(registry: Registry, values: ReturnType<typeof parse>["values"], deps: FleetDeps, base?: string): Promise<{ stacks: FleetStack[]; notes: string[]; base?: string }> {
    const { config, tenants } = registry;
    const all = fleetStacks({ env: config.stack, layout: config.layout, cells: Object.keys(config.cells), tenants });
    const changedSince = values["changed-since"];
    const notes: string[] = [];
    // `deployed`: the commit the environment's last complete up recorded (a resume passes the one its run used).
    if (changedSince === DEPLOYED_REF && base === undefined) {
        base = await stackTag(deps, config.stack, DEPLOYED_TAG);
        // Only a full commit id reaches git: a tag edited by hand into something else is treated as no mark.
        if (base !== undefined && !/^[0-9a-f]{40}$/.test(base)) {
            notes.push(`tag ${DEPLOYED_TAG} on stack ${config.stack} is ${JSON.stringify(base.slice(0, 60))}, not a commit id: every stack`);
            base = undefined;
        } else if (base === undefined) notes.push(`no deployed commit recorded on stack ${config.stack} (tag ${DEPLOYED_TAG}): every stack`);
    }
    const ref = changedSince === DEPLOYED_REF ? base : changedSince;
    const listChanges = deps.changedFiles ?? ((r: string) => gitChangedFiles(deps.root, r));
    let changedFiles: string[] | undefined;
    try {
        changedFiles = ref !== undefined ? listChanges(ref) : undefined;
    } catch (e) {
        // A recorded commit that history no longer has (a rewritten branch) must not stop every deploy: all stacks is safe.
        if (!(e instanceof UsageError) || changedSince !== DEPLOYED_REF) throw e;
        notes.push(`deployed commit ${ref!.slice(0, 12)} (tag ${DEPLOYED_TAG}) is not in this checkout: every stack`);
        base = undefined;
    }
    const result = selectStacks(all, { ...(values.tenant ? { tenants: values.tenant } : {}), ...(changedFiles ? { changedFiles } : {}) }, {
        env: config.stack, tenantsDir: config.tenantsDir,
    });
    if (result.unknownTenants.length) {
        throw new UsageError(`--tenant ${result.unknownTenants.join(", ")}: not a tenant of ${config.stack} (tenants: ${tenants.map((t) => t.slug).sort().join(", ") || "none"})`);
    }
    notes.push(...result.removedTenants.map((slug) =>
        `tenant ${slug}'s file was removed: the orchestrator never destroys a tenant; retire its stack deliberately (pulumi destroy -s ${config.stack}.${slug}, after the data-loss review).`));
    return { stacks: result.stacks, notes, ...(changedSince === DEPLOYED_REF && base !== undefined ? { base } : {}) };
}

/** Runs one command; returns its exit code. Never throws for a user's mistake. */
export async function fleetCommand(argv: string[], deps: FleetDeps): Promise<number> {
    try {
        return await command(argv, deps);
    } catch (e) {
        if (e instanceof RegistryError) {
            deps.err(e.problems.map(formatProblem).join("\n") + `\n\n${e.problems.length} problem${e.problems.length === 1 ? "" : "s"} found; nothing was run.\n`);
            return EXIT.usage;
        }
        if (e instanceof UsageError || e instanceof RecordError) {
            deps.err(`${e.message}\nusage: ${USAGE}\n`);
            return EXIT.usage;
        }
        throw e;
    }
}

async function command(argv: string[], deps: FleetDeps): Promise<number> {
    const { values, positionals } = parse(argv);
    const [cmd, ...extra] = positionals;
    const commands = [...OPERATIONS, "status", "schedule", "adopt"];
    if (!cmd || !commands.includes(cmd)) throw new UsageError(`${cmd ? `'${cmd}' is not a command` : "a command is required"} (allowed: ${commands.join(", ")})`);
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (!values.env) throw new UsageError("--env is required");
    const parallel = values.parallel === undefined ? Math.max(1, os.availableParallelism()) : Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel ${values.parallel}: must be a whole number from 1 to 64`);
    if (values.format !== "text" && values.format !== "json") throw new UsageError(`--format ${values.format}: not supported (allowed: text, json)`);

    if (cmd === "adopt") return adopt(values.env, values.execute!, deps);
    if (values.resume && cmd !== "preview" && cmd !== "up" && cmd !== "refresh") throw new UsageError("--resume continues a preview, up or refresh");
    const resumed = values.resume ? loadRecord(path.resolve(deps.root, values.resume)) : undefined;
    if (resumed) {
        if (resumed.env !== values.env || resumed.operation !== cmd) {
            throw new UsageError(`--resume ${values.resume}: that run was '${resumed.operation} --env ${resumed.env}', not '${cmd} --env ${values.env}'`);
        }
        // The resumed run's selection, so a resume never widens or narrows what the run covers.
        if (values.tenant || values["changed-since"]) throw new UsageError("--resume takes the selection of the run it continues; leave out --tenant and --changed-since");
        if (resumed.selection.tenants) values.tenant = resumed.selection.tenants;
        if (resumed.selection.changedSince) values["changed-since"] = resumed.selection.changedSince;
        // Finishing a run with other code than its first stacks got would leave the environment mixed.
        const head = headCommit(deps.root);
        if (resumed.selection.commit && head && resumed.selection.commit !== head) {
            throw new UsageError(`--resume ${values.resume}: that run deployed commit ${resumed.selection.commit.slice(0, 12)}, this checkout is at ${head.slice(0, 12)}; check out its commit to resume, or start a new run`);
        }
    }
    const registry = registryOf(deps.root, values.env);
    const { stacks, notes, base } = await selected(registry, values, deps, resumed?.selection.base);
    for (const n of notes) deps.err(`note: ${n}\n`);
    const steps = scheduleSteps(stacks);

    if (cmd === "schedule") {
        const doc = scheduleDocument(registry.config.stack, registry.config.layout, steps);
        deps.out(values.format === "json" ? JSON.stringify(doc, null, 2) + "\n" : renderScheduleText(doc, parallel));
        return EXIT.ok;
    }
    if (values.remote && (!values["repo-url"] || !values.commit)) throw new UsageError("--remote needs --repo-url and --commit: Pulumi Deployments runs the program from the repository at that commit");
    const organization = values.org ?? deps.organization;
    if (values.remote && !organization) throw new UsageError("--remote needs the Pulumi Cloud organization: --org <org> or PULUMI_ORG (remote stacks are named <org>/<project>/<stack>)");
    if (!stacks.length) {
        deps.out(`No stack of ${values.env} is selected${values["changed-since"] ? ` (nothing that any stack reads changed since ${values["changed-since"]})` : ""}: nothing to run.\n`);
        return EXIT.ok;
    }
    const runner = deps.runner(parallel, values.remote ? { url: values["repo-url"]!, commitHash: values.commit!, organization: organization! } : undefined);
    try {
        if (cmd === "status") return await status(stacks, runner, deps);
        if (cmd === "up" && registry.config.layout === "fleet") await assertAdopted(registry.config.stack, deps);
        return await operate(cmd as Operation, steps, parallel, runner, registry, values, resumed, deps, base);
    } finally {
        await runner.close();
    }
}

async function operate(
    operation: Operation, steps: ReturnType<typeof scheduleSteps>, parallel: number, runner: StackRunner, registry: Registry,
    values: ReturnType<typeof parse>["values"], resumed: RunRecord | undefined, deps: FleetDeps, base: string | undefined,
): Promise<number> {
    const now = deps.now ?? (() => new Date());
    const record: RunRecord = resumed ?? {
        version: 1,
        id: runId(now(), operation),
        env: registry.config.stack,
        operation,
        selection: {
            ...(values.tenant ? { tenants: values.tenant } : {}),
            ...(values["changed-since"] ? { changedSince: values["changed-since"] } : {}),
            ...(base ? { base } : {}),
            ...(headCommit(deps.root) ? { commit: headCommit(deps.root) } : {}),
        },
        startedAt: now().toISOString(),
        stacks: {},
    };
    const file = path.resolve(deps.root, values.resume ?? values.record ?? path.join(".fleet", "runs", `${record.id}.json`));
    const done = new Set(Object.entries(record.stacks).filter(([, o]) => o.status === "ok" || o.status === "changed").map(([s]) => s));
    const total = steps.reduce((n, s) => n + s.stacks.length, 0);
    deps.err(`${operation} ${registry.config.stack}: ${total} stacks in ${steps.length} steps, ${parallel} at once; record ${path.relative(deps.root, file)}` +
        (resumed ? ` (resuming: ${done.size} done)` : "") + "\n");
    saveRecord(file, record);
    const outcomes = await runFleet({
        steps, operation, parallel, runner, record,
        onOutcome: (o, r) => {
            saveRecord(file, r);
            deps.err(`  ${o.stack}: ${o.status}\n`);
        },
    });
    record.finishedAt = now().toISOString();
    saveRecord(file, record);
    deps.out(renderReport(outcomes, done));
    const code = exitCode(outcomes) === 0 ? EXIT.ok : EXIT.failed;
    const env = registry.config.stack;
    const platform = record.stacks[env];
    if (operation === "up" && registry.config.layout === "fleet" && (platform?.status === "ok" || platform?.status === "changed")) {
        await setStackTag(deps, env, LAYOUT_TAG, "fleet");
    }
    // Only a complete up of everything selected by change moves the mark: after --tenant, other stacks may be behind.
    if (operation === "up" && code === EXIT.ok && !record.selection.tenants && record.selection.commit) {
        await setStackTag(deps, env, DEPLOYED_TAG, record.selection.commit);
        deps.err(`${env}: deployed commit ${record.selection.commit.slice(0, 12)} recorded (tag ${DEPLOYED_TAG})\n`);
    }
    if (code !== EXIT.ok) deps.out(`Resume with: npm run fleet -- ${operation} --env ${registry.config.stack} --resume ${path.relative(deps.root, file)}\n`);
    return code;
}

async function status(stacks: readonly FleetStack[], runner: StackRunner, deps: FleetDeps): Promise<number> {
    const rows = await Promise.all(stacks.map((s) => runner.history(s.name)));
    const width = Math.max(5, ...stacks.map((s) => s.name.length));
    const lines = rows.map((h) => {
        if (!h.exists) return `${h.stack.padEnd(width)}  not created`;
        if (!h.last) return `${h.stack.padEnd(width)}  created, never updated`;
        const changes = Object.entries(h.last.changes ?? {}).filter(([op, n]) => op !== "same" && n > 0).map(([op, n]) => `${op} ${n}`).join(", ");
        return `${h.stack.padEnd(width)}  ${h.last.kind} ${h.last.result}  ${h.last.startTime}${changes ? `  ${changes}` : ""}`;
    });
    deps.out(lines.join("\n") + "\n");
    return rows.some((h) => h.last?.result === "failed") ? EXIT.failed : EXIT.ok;
}

async function adopt(env: string, execute: boolean, deps: FleetDeps): Promise<number> {
    registryOf(deps.root, env);
    const proof = await deps.proveAdoption(env);
    const commands = proof.ok ? adoptionCommands(proof) : [];
    deps.out(renderAdoption(proof, commands));
    if (!proof.ok) return EXIT.failed;
    if (!execute) return EXIT.ok;
    for (const c of commands) {
        deps.err(`$ ${shellLine(c.args)}\n`);
        const r = await deps.pulumi.run(c.args);
        // An existing stack is what a re-run after an interruption finds: fine for `stack init`, nothing else.
        if (r.code !== 0 && !(c.args[0] === "stack" && /already exists/i.test(r.stderr))) {
            deps.err(`${r.stderr || r.stdout}\nstopped: '${shellLine(c.args)}' exited ${r.code}; the commands before it are done, re-run adopt --execute to continue.\n`);
            return EXIT.failed;
        }
    }
    // From now on `fleet up` deploys the environment's stack as the fleet's platform.
    await setStackTag(deps, env, LAYOUT_TAG, "fleet");
    deps.out(`Adopted: ${proof.moves.length} stacks hold their resources now. Next: npm run fleet -- preview --env ${env}\n`);
    return EXIT.ok;
}
