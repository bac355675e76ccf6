/**
 * `npm run restore -- --tenant <slug> (--dump <file> | --source <postgres-url>) --target <postgres-url>
 *                     (--env <env> | --tier <shared|hybrid|dedicated>) [--side-by-side | --swap]`
 *
 * Restores one tenant's schema into a side schema `<schema>_restore_<yyyymmddhhmmss>` on its placement (the default,
 * `--side-by-side`), and with `--swap` makes that copy the tenant's schema, the former one kept as
 * `<schema>_replaced_<ts>` (restore/engine.ts). The tier decides the privileges the schema gets: `--env` reads it from
 * the environment's tenant file (and refuses a tenant the environment does not have), `--tier` states it. Progress goes
 * to stderr, the result to stdout. Exit codes: 0 done, 1 usage error (nothing changed), 2 verification failed (nothing
 * swapped, the tenant's logins as before).
 */
import { parseArgs } from "util";
import { STACKS_ROOT } from "./cli";
import { endpoint, urlProblems } from "../move/connect";
import { MoveError } from "../move/types";
import { runRestore } from "../restore/engine";
import { RestoreError, TIERS, type Mode, type RestoreResult, type Tier } from "../restore/types";
import { tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName } from "../components/naming";
import { SLUG_PATTERN } from "../tenants/schema";
import { loadRegistry } from "../tenants/registry";
import { formatProblem, RegistryError } from "../tenants/problems";

export const USAGE =
    "npm run restore -- --tenant <slug> (--dump <file> | --source <postgres-url>) --target <postgres-url> (--env <env> | --tier <shared|hybrid|dedicated>) [--side-by-side | --swap]";

const OPTIONS = {
    tenant: { type: "string" },
    dump: { type: "string" },
    source: { type: "string" },
    target: { type: "string" },
    env: { type: "string" },
    tier: { type: "string" },
    "side-by-side": { type: "boolean" },
    swap: { type: "boolean" },
} as const;

export interface RestoreArgs {
    tenant: string;
    dump?: string;
    source?: string;
    target: string;
    env?: string;
    tier?: Tier;
    mode: Mode;
}

/** Every problem of the command line at once (never just the first), or the parsed arguments. */
export function parseRestoreArgs(argv: string[]): { args?: RestoreArgs; problems: string[] } {
    const problems: string[] = [];
    const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
    for (const t of tokens ?? []) {
        if (t.kind !== "option") continue;
        const known = OPTIONS[t.name as keyof typeof OPTIONS];
        if (!known) problems.push(`--${t.name}: unknown option (allowed: ${Object.keys(OPTIONS).map((k) => `--${k}`).join(", ")})`);
        else if (known.type === "string" && t.value === undefined) problems.push(`--${t.name}: needs a value`);
        else if (known.type === "boolean" && t.value !== undefined) problems.push(`--${t.name}: takes no value`);
    }
    if (positionals.length) problems.push(`${positionals.join(" ")}: unexpected argument (options only)`);
    const str = (k: keyof typeof OPTIONS): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);

    const tenant = str("tenant");
    if (tenant === undefined) problems.push("--tenant: required (a tenant's slug)");
    else if (!SLUG_PATTERN.test(tenant)) problems.push(`--tenant: '${tenant}' is not a slug (allowed: a-z, 0-9 and '-', starting with a letter)`);
    const [dump, source, target] = [str("dump"), str("source"), str("target")];
    if (dump !== undefined && source !== undefined) problems.push("--dump: not with --source (allowed: one of them: a dump file, or a server restored or cloned to the time wanted)");
    else if (dump === undefined && source === undefined) problems.push("--dump or --source: required (what to restore from)");
    if (dump === "") problems.push("--dump: empty (allowed: a file path)");
    if (source !== undefined) problems.push(...urlProblems("--source", source));
    if (target === undefined) problems.push("--target: required (the admin URL of the tenant's cell or instance)");
    else problems.push(...urlProblems("--target", target));
    const [env, tier] = [str("env"), str("tier")];
    if (env !== undefined && tier !== undefined) problems.push("--env: not with --tier (allowed: one of them: the environment whose tenant file states the tier, or the tier)");
    else if (env === undefined && tier === undefined) problems.push(`--env or --tier: required (the tenant's tier decides its schema's privileges; allowed tiers: ${TIERS.join(", ")})`);
    if (env !== undefined && !/^[a-z][a-z0-9-]*$/.test(env)) problems.push(`--env: '${env}' is not an environment name (allowed: a-z, 0-9 and '-')`);
    if (tier !== undefined && !(TIERS as readonly string[]).includes(tier)) problems.push(`--tier: '${tier}' (allowed: ${TIERS.join(", ")})`);
    if (values["side-by-side"] === true && values["swap"] === true) problems.push("--side-by-side: not with --swap (allowed: one of them; --side-by-side is the default)");

    if (problems.length) return { problems };
    return {
        problems,
        args: {
            tenant: tenant!, target: target!, mode: values["swap"] === true ? "swap" : "side-by-side",
            ...(dump !== undefined ? { dump } : { source: source! }),
            ...(env !== undefined ? { env } : { tier: tier as Tier }),
        },
    };
}

/** The tenant's tier from its file in environment `env`; a tenant the environment does not have is a usage error. */
export function tierFromEnvironment(root: string, env: string, slug: string): Tier {
    let tenants;
    let tenantsDir: string;
    try {
        const registry = loadRegistry({ root, stack: env });
        tenants = registry.tenants;
        tenantsDir = registry.config.tenantsDir;
    } catch (err) {
        if (err instanceof RegistryError) throw new RestoreError(`environment ${env} does not validate (npm run validate -- --stack ${env})`, 1, err.problems.map(formatProblem));
        throw err;
    }
    const tenant = tenants.find((t) => t.slug === slug);
    if (!tenant) throw new RestoreError(`no tenant '${slug}' in environment ${env} (${tenantsDir})`, 1);
    return tenant.tier;
}

function summary(r: RestoreResult, args: RestoreArgs, schema: string): string {
    const rows = r.digest.tables.reduce((n, t) => n + t.rows, 0);
    const checked = r.checkedAgainst === "manifest" ? "checked against the dump's manifest" : r.checkedAgainst === "source" ? "checked against the source's hashes" : "no manifest to check against";
    const lines = r.recovered.map((x) => `recovered: ${x}`);
    if (r.mode === "side-by-side") {
        lines.push(
            `restored ${r.sideSchema}${r.reused ? " (already restored from the same origin by an earlier run)" : ""}: ${r.digest.tables.length} table(s), ${rows} row(s), ${checked}; ${schema} is untouched`,
            `inspect it (e.g. as the reporting role, or as the admin after GRANT ${tenantOwnerRoleName(args.tenant)} TO <admin>), then swap it in: the same command with --swap`,
        );
    } else {
        lines.push(
            `swapped: ${schema} is the restored copy (${r.digest.tables.length} table(s), ${rows} row(s), verified by row counts and hashes); the former schema is kept as ${r.replacedSchema ?? "(there was none)"}`,
            ...(r.replacedSchema ? [`undo: README "Restoring a tenant (runbook)", "Undoing a swap"; drop ${r.replacedSchema} only once sure`] : []),
        );
    }
    return `${lines.join("\n")}\n`;
}

export async function main(argv: string[]): Promise<number> {
    const { args, problems } = parseRestoreArgs(argv);
    if (!args) {
        process.stderr.write(`${problems.map((p) => `restore: ${p}`).join("\n")}\n\nusage: ${USAGE}\n${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was changed.\n`);
        return 1;
    }
    try {
        const tier = args.tier ?? tierFromEnvironment(STACKS_ROOT, args.env!, args.tenant);
        const schema = tenantSchemaName(args.tenant);
        const result = await runRestore({
            tenant: args.tenant,
            schema,
            ownerRole: tenantOwnerRoleName(args.tenant),
            runtimeRole: tenantRuntimeRoleName(args.tenant),
            tier,
            origin: args.dump !== undefined ? { kind: "dump", file: args.dump } : { kind: "source", source: endpoint(args.source!) },
            target: endpoint(args.target),
            mode: args.mode,
            progress: (m) => process.stderr.write(`restore: ${m}\n`),
        });
        process.stdout.write(summary(result, args, schema));
        return 0;
    } catch (err) {
        if (err instanceof RestoreError || err instanceof MoveError) {
            process.stderr.write(`restore: ${err.message}\n${err.problems.map((p) => `  - ${p}\n`).join("")}`);
            return err.exitCode;
        }
        // Not a user's mistake: keep the trace for whoever debugs it (pg never prints a URL's password).
        process.stderr.write(`restore: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
        return 1;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => process.exit(code));
}
