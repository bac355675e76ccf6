/**
 * The SQL a hybrid or dedicated tenant's role manager runs on its own instance (components/roleManager.ts), rendered
 * from the recorded program: the function's configuration from its environment, the status from its invocation, and
 * the statements from the handler's own `applyRoles` run against a recording client. Nothing is re-typed here, so the
 * listing is what the function sends, with two differences: password verifiers are placeholders, and the catalog
 * lookups are answered as on a first run (the master user is no member of the owner role, no role has memberships).
 */
import type { RecordedResource } from "../../engine/recorder";
import { applyRoles, readConfig, type SqlClient } from "../../components/roleManager/handler";
import { quoteIdentifier, type SqlStatement } from "./render";

const FUNCTION_TYPE = "aws:lambda/function:Function";
const INVOCATION_TYPE = "aws:lambda/invocation:Invocation";
const INSTANCE_TYPE = "aws:rds/instance:Instance";

/** What one tenant's role manager runs, where, and as whom. */
export interface RoleManagerRun {
    /** URN of the invocation that runs it during deploy. */
    invocation: string;
    /** Its input as recorded (JSON text): a change of it re-runs the function. */
    input: string;
    host: string;
    database: string;
    masterUser: string;
    status: string;
    statements: SqlStatement[];
}

const literal = (v: unknown): string => (typeof v === "string" ? `'${v.replace(/'/g, "''")}'` : String(v));

/** A client that records every statement and answers the handler's catalog lookups as on a first run. */
function recordingClient(masterUser: string, sink: string[]): SqlClient {
    return {
        async query(sql: string, values?: unknown[]) {
            sink.push(values ? sql.replace(/\$(\d+)/g, (_, n: string) => literal(values[Number(n) - 1])) : sql);
            if (/^SELECT current_user AS me$/.test(sql)) return { rows: [{ me: masterUser }] };
            if (/pg_has_role\(current_user, \$1, 'USAGE'\) AS m/.test(sql)) return { rows: [{ m: false }] };
            return { rows: [] };
        },
    };
}

/**
 * The role manager run of tenant `slug` in `resources` (those of its tenant, by `owners`), or undefined when the tenant
 * has none (shared, or offboarded with its function gone). Throws when the recorded function's configuration is invalid.
 */
export async function roleManagerRun(resources: readonly RecordedResource[], owners: ReadonlyMap<string, string | null>, slug: string): Promise<RoleManagerRun | undefined> {
    return (await roleManagerRuns(resources, owners, slug))[0];
}

/**
 * Every role manager run of tenant `slug`: one per instance it has (two while a move between a hybrid and a dedicated
 * placement is declared), in declaration order. Each function's invocation is its sibling under one RoleManager.
 */
export async function roleManagerRuns(resources: readonly RecordedResource[], owners: ReadonlyMap<string, string | null>, slug: string): Promise<RoleManagerRun[]> {
    const mine = resources.filter((r) => owners.get(r.urn) === slug);
    const runs: RoleManagerRun[] = [];
    for (const fn of mine.filter((r) => r.type === FUNCTION_TYPE)) {
        const invocation = mine.find((r) => r.type === INVOCATION_TYPE && r.parent === fn.parent);
        if (invocation) runs.push(await oneRun(mine, fn, invocation, slug));
    }
    return runs;
}

async function oneRun(mine: readonly RecordedResource[], fn: RecordedResource, invocation: RecordedResource, slug: string): Promise<RoleManagerRun> {
    const env = ((fn.inputs["environment"] as { variables?: Record<string, string> } | undefined)?.variables ?? {}) as Record<string, string>;
    const { config, problems } = readConfig(env);
    if (!config) throw new Error(`role manager of ${slug}: ${problems.join("; ")}`);
    const input = String(invocation.inputs["input"] ?? "{}");
    const status = (JSON.parse(input) as { status?: string }).status ?? "active";
    const masterUser = String(mine.find((r) => r.type === INSTANCE_TYPE)?.inputs["username"] ?? "master");
    const sql: string[] = [];
    const passwords = { ownerPassword: "owner-placeholder", runtimePassword: "runtime-placeholder" };
    await applyRoles(recordingClient(masterUser, sql), { database: config.database, schema: config.schema, ownerRole: config.ownerRole, runtimeRole: config.runtimeRole, login: status === "active", ...passwords });
    const secretOf = (role: string): string => (role === config.ownerRole ? config.ownerSecretArn : config.runtimeSecretArn);
    // Verifiers are made from the secrets' values at run time; the listing names the secret instead.
    const shown = sql.map((s) => s.replace(/^(ALTER ROLE "([^"]+)" .* PASSWORD )'[^']*'$/, (_, head: string, role: string) => `${head}'<SCRAM-SHA-256 verifier of the password in ${secretOf(role)}>'`));
    // applyRoles brackets its transaction itself: one listing, in the order the function sends it.
    const statements: SqlStatement[] = [{ resource: invocation.urn, type: INVOCATION_TYPE, sql: shown.join(";\n"), database: config.database, txn: null }];
    return { invocation: invocation.urn, input, host: config.host, database: config.database, masterUser, status, statements };
}

/** Comment lines that say where a role manager's SQL runs: not from here, on the tenant's own instance. */
export function roleManagerNotes(run: RoleManagerRun): string[] {
    return [
        `role manager: runs inside the tenant's network on its own instance ${run.host}, database ${quoteIdentifier(run.database)}, as ${run.masterUser}`,
        `(status ${run.status}); invoked during deploy whenever its input changes. Catalog lookups answered as on a first run.`,
    ];
}
