/**
 * `npm run move -- --tenant <slug> --phase <prepare|sync|cutover|finish|abort|all> [--env <env> | --source <url> --target <url>]
 *                  [--schema <name>] [--receipt <file>] [--max-pause-ms <n>] [--max-lag-bytes <n>] [--format text|json]`
 *
 * Moves a tenant's data between placements with logical replication (move/engine.ts). Progress goes to stderr (text, or
 * JSON lines with --format json), the result to stdout. Exit codes: 0 done, 1 usage or preflight error (every problem at
 * once, nothing changed), 2 verification failed (source writable again, nothing flipped).
 */
import { parseArgs } from "util";
import { STACKS_ROOT } from "./cli";
import { endpoint, urlProblems, withClient } from "../move/connect";
import { runMove, type EngineResult } from "../move/engine";
import { resolveEnvironment } from "../move/environment";
import { MoveError, PHASES, type MoveContext, type Phase, type ProgressEvent } from "../move/types";
import { tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName, TENANTS_GROUP_ROLE } from "../components/naming";
import { SLUG_PATTERN } from "../tenants/schema";

export const USAGE =
    "npm run move -- --tenant <slug> --phase <prepare|sync|cutover|finish|abort|all> (--env <env> | --source <postgres-url> --target <postgres-url>) [--schema <name>] [--receipt <file>] [--max-pause-ms <n>] [--max-lag-bytes <n>] [--format text|json]";

const OPTIONS = {
    tenant: { type: "string" },
    phase: { type: "string" },
    env: { type: "string" },
    source: { type: "string" },
    target: { type: "string" },
    schema: { type: "string" },
    receipt: { type: "string" },
    "max-pause-ms": { type: "string" },
    "max-lag-bytes": { type: "string" },
    format: { type: "string" },
} as const;

export interface MoveArgs {
    tenant: string;
    phase: Phase;
    env?: string;
    source?: string;
    target?: string;
    schema: string;
    receipt?: string;
    maxPauseMs: number;
    maxLagBytes: number;
    format: "text" | "json";
}

const DEFAULT_MAX_PAUSE_MS = 5_000;
const DEFAULT_MAX_LAG_BYTES = 1024 * 1024;

/** Every problem of the command line at once (never just the first), or the parsed arguments. */
export function parseMoveArgs(argv: string[]): { args?: MoveArgs; problems: string[] } {
    const problems: string[] = [];
    const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
    for (const t of tokens ?? []) {
        if (t.kind === "option" && !(t.name in OPTIONS)) problems.push(`--${t.name}: unknown option (allowed: ${Object.keys(OPTIONS).map((k) => `--${k}`).join(", ")})`);
        else if (t.kind === "option" && t.value === undefined) problems.push(`--${t.name}: needs a value`);
    }
    if (positionals.length) problems.push(`${positionals.join(" ")}: unexpected argument (options only)`);
    const str = (k: keyof typeof OPTIONS): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);

    const tenant = str("tenant");
    if (tenant === undefined) problems.push("--tenant: required (a tenant's slug)");
    else if (!SLUG_PATTERN.test(tenant)) problems.push(`--tenant: '${tenant}' is not a slug (allowed: a-z, 0-9 and '-', starting with a letter)`);
    const phase = str("phase");
    if (phase === undefined) problems.push(`--phase: required (allowed: ${PHASES.join(", ")})`);
    else if (!(PHASES as readonly string[]).includes(phase)) problems.push(`--phase: '${phase}' (allowed: ${PHASES.join(", ")})`);

    const [env, source, target] = [str("env"), str("source"), str("target")];
    if (env !== undefined && (source !== undefined || target !== undefined)) problems.push("--env: not with --source/--target (allowed: one of them: the environment's coordinates, or explicit admin URLs)");
    else if (env === undefined && source === undefined && target === undefined) problems.push("--env or --source and --target: required (where the tenant's data is and where it goes)");
    else if (env === undefined) {
        if (source === undefined) problems.push("--source: required with --target (the admin URL of the tenant's current placement)");
        if (target === undefined) problems.push("--target: required with --source (the admin URL of the new placement)");
    }
    if (env !== undefined && !/^[a-z][a-z0-9-]*$/.test(env)) problems.push(`--env: '${env}' is not an environment name (allowed: a-z, 0-9 and '-')`);
    if (source !== undefined) problems.push(...urlProblems("--source", source));
    if (target !== undefined) problems.push(...urlProblems("--target", target));

    const schema = str("schema") ?? (tenant && SLUG_PATTERN.test(tenant) ? tenantSchemaName(tenant) : "");
    if (str("schema") !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) problems.push(`--schema: '${schema}' (allowed: a-z, 0-9 and '_', at most 63 characters, not starting with a digit)`);
    const number = (k: "max-pause-ms" | "max-lag-bytes", fallback: number): number => {
        const v = str(k);
        if (v === undefined) return fallback;
        if (!/^[1-9][0-9]{0,11}$/.test(v)) {
            problems.push(`--${k}: '${v}' (allowed: a positive whole number)`);
            return fallback;
        }
        return Number(v);
    };
    const maxPauseMs = number("max-pause-ms", DEFAULT_MAX_PAUSE_MS);
    const maxLagBytes = number("max-lag-bytes", DEFAULT_MAX_LAG_BYTES);
    const format = str("format") ?? "text";
    if (format !== "text" && format !== "json") problems.push(`--format: '${format}' (allowed: text, json)`);
    const receipt = str("receipt");
    if (receipt === "") problems.push("--receipt: empty (allowed: a file path)");

    if (problems.length) return { problems };
    return {
        problems,
        args: {
            tenant: tenant!, phase: phase as Phase, schema, maxPauseMs, maxLagBytes, format: format as "text" | "json",
            ...(env !== undefined ? { env } : { source: source!, target: target! }),
            ...(receipt !== undefined ? { receipt } : {}),
        },
    };
}

/**
 * A cell's database admits its tenants through the group role `tenancy_tenants` (DatabaseHardening); an instance
 * (hybrid/dedicated) never has it. Roles are cluster-wide, so it is the group's CONNECT on this database that counts.
 */
export async function detectPlacement(url: string): Promise<"shared" | "instance"> {
    return withClient(endpoint(url), async (c) => {
        const { rows } = await c.query(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1) AND pg_catalog.has_database_privilege($1, current_database(), 'CONNECT') AS cell",
            [TENANTS_GROUP_ROLE],
        );
        return rows[0]!["cell"] === true ? "shared" : "instance";
    });
}

function printProgress(format: "text" | "json"): (e: ProgressEvent) => void {
    return (e) => {
        if (format === "json") {
            process.stderr.write(`${JSON.stringify(e)}\n`);
            return;
        }
        if (e.kind === "step") process.stderr.write(`move: ${e.message}\n`);
        else if (e.kind === "lag") process.stderr.write(`move: lag ${e.bytes} bytes\n`);
        else if (e.done) process.stderr.write(`move: copied ${e.table}: ${e.rows} rows, ${e.bytes} bytes\n`);
    };
}

function summary(result: EngineResult): string {
    const lines = [`phase ${result.phase}: done`];
    if (result.prepare) lines.push(result.prepare.prepared ? `prepared (roles created: ${result.prepare.state.createdRoles.join(", ") || "none"})` : `already prepared (phase ${result.prepare.state.phase})`);
    if (result.sync) lines.push(`synced: ${result.sync.tables.length} table(s), lag ${result.sync.lagBytes} bytes`);
    if (result.cutover) {
        const r = result.cutover.receipt;
        lines.push(`cut over: write pause ${r.writePauseMs} ms, ${r.tables.length} table(s) verified, ${r.sequences.length} sequence(s) set${result.cutover.flipped ? `; ${result.cutover.flipped}` : ""}`);
    }
    if (result.finish) lines.push("finished: replication objects dropped; the source keeps the data, its roles NOLOGIN");
    if (result.abort) lines.push(`aborted: ${result.abort.target.join(", ") || "nothing on the target"}`);
    return `${lines.join("\n")}\n`;
}

export async function main(argv: string[]): Promise<number> {
    const { args, problems } = parseMoveArgs(argv);
    if (!args) {
        process.stderr.write(`${problems.map((p) => `move: ${p}`).join("\n")}\n\nusage: ${USAGE}\n${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was changed.\n`);
        return 1;
    }
    try {
        let ctx: MoveContext;
        let receiptPath = args.receipt;
        const common = {
            tenant: args.tenant,
            schema: args.schema,
            ownerRole: tenantOwnerRoleName(args.tenant),
            runtimeRole: tenantRuntimeRoleName(args.tenant),
            maxPauseMs: args.maxPauseMs,
            maxLagBytes: args.maxLagBytes,
            progress: printProgress(args.format),
        };
        if (args.env !== undefined) {
            const env = await resolveEnvironment({ root: STACKS_ROOT, env: args.env, tenant: args.tenant });
            ctx = { ...common, source: env.source, target: env.target, targetPlacement: env.targetPlacement, flip: env.flip };
            receiptPath ??= env.receiptPath;
        } else {
            ctx = { ...common, source: endpoint(args.source!), target: endpoint(args.target!), targetPlacement: await detectPlacement(args.target!) };
        }
        const result = await runMove(ctx, args.phase, receiptPath ? { receiptPath } : {});
        process.stdout.write(args.format === "json" ? `${JSON.stringify({ ok: true, exitCode: 0, ...result }, null, 2)}\n` : summary(result));
        return 0;
    } catch (err) {
        if (err instanceof MoveError) {
            if (args.format === "json") process.stdout.write(`${JSON.stringify({ ok: false, exitCode: err.exitCode, error: err.message, problems: err.problems }, null, 2)}\n`);
            process.stderr.write(`move: ${err.message}\n${err.problems.map((p) => `  - ${p}\n`).join("")}`);
            return err.exitCode;
        }
        // Not a user's mistake: keep the trace for whoever debugs it, but never a URL's password (pg does not print them).
        process.stderr.write(`move: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
        return 1;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => process.exit(code));
}
