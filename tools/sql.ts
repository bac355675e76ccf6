/**
 * `npm run sql -- --stack <name> [--tenant <slug> | --platform] [--locks]`: prints, in registration order, the SQL that
 * the `@pulumi/postgresql` resources of the real stack program execute (docs/sql-mapping.md), as a psql script.
 * Offline: the program runs under the recording engine; passwords are placeholders.
 */
import type { RecordedResource } from "../engine/recorder";
import { closest } from "../tenants/problems";
import { loadRegistry, type Registry } from "../tenants/registry";
import { attributeTenants, recordStack as recordProgram } from "./stackRecording";
import { EXIT_USAGE, failOnRegistryError, parseFlags, STACKS_ROOT } from "./cli";
import { quoteIdentifier, renderSql, type RenderOptions, type SqlStatement } from "./sql/render";

const PROVIDER_TYPE = "pulumi:providers:postgresql";

/** Which declared resources to render: everything, the platform's hardening only, or one tenant's. */
export type Scope = { kind: "all" } | { kind: "platform" } | { kind: "tenant"; slug: string };

export interface StackRecording {
    registry: Registry;
    /** Every resource the program registered, in registration order. */
    resources: RecordedResource[];
    /** What the shared cluster's `postgresql.Provider` connects to and as, and whether that user is a superuser. */
    provider: { database?: string; username?: string; superuser?: boolean };
}

/**
 * Validates the stack's registry (throws a RegistryError with every problem) and runs the real stack program on it
 * under the recording engine. Secrets are masked unless `maskSecrets: false`.
 */
export async function recordStack(root: string, stack: string, opts: { maskSecrets?: boolean } = {}): Promise<StackRecording> {
    const { registry, recording } = await recordProgram({ root, stack, maskSecrets: opts.maskSecrets ?? true });
    const { resources } = recording;
    const provider = resources.find((r) => r.type === PROVIDER_TYPE);
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    // Provider configuration is recorded as strings ("false").
    const flag = (v: unknown): boolean | undefined => (v === true || v === "true" ? true : v === false || v === "false" ? false : undefined);
    return {
        registry,
        resources,
        provider: { database: str(provider?.inputs["database"]), username: str(provider?.inputs["username"]), superuser: flag(provider?.inputs["superuser"]) },
    };
}

/** The `postgresql:*` resources in scope, in registration order. */
export function selectPostgresql(resources: readonly RecordedResource[], scope: Scope): RecordedResource[] {
    const owners = attributeTenants(resources);
    return resources.filter((r) => {
        if (!r.custom || !r.type.startsWith("postgresql:")) return false;
        if (scope.kind === "all") return true;
        const slug = owners.get(r.urn) ?? null;
        return scope.kind === "platform" ? slug === null : slug === scope.slug;
    });
}

/** The provider's connection as render options: its database, its user, and whether that user is a superuser. */
export function providerOptions(recording: StackRecording): Pick<RenderOptions, "database" | "username" | "superuser"> {
    const { database, username, superuser } = recording.provider;
    return { ...(database ? { database } : {}), ...(username ? { username } : {}), ...(superuser !== undefined ? { superuser } : {}) };
}

/** The statements of a scope, rendered against the provider's configured database and user. */
export function stackSql(recording: StackRecording, scope: Scope, opts: Omit<RenderOptions, "database" | "username" | "superuser"> = {}): SqlStatement[] {
    return renderSql(selectPostgresql(recording.resources, scope), { ...opts, ...providerOptions(recording) });
}

/**
 * A psql script: `\connect` whenever the database changes, one `BEGIN … COMMIT` per provider transaction, each
 * resource introduced by its URN.
 */
export function toScript(statements: readonly SqlStatement[], fallbackDatabase: string): string {
    const lines: string[] = [];
    let database: string | undefined;
    let i = 0;
    while (i < statements.length) {
        const first = statements[i]!;
        let j = i + 1;
        while (first.txn !== null && j < statements.length && statements[j]!.txn === first.txn && statements[j]!.resource === first.resource) j++;
        const db = first.database ?? fallbackDatabase;
        if (db !== database) {
            lines.push(...(lines.length ? [""] : []), `\\connect ${quoteIdentifier(db)}`);
            database = db;
        }
        lines.push("", `-- ${first.resource}`);
        if (first.txn !== null) lines.push("BEGIN;");
        for (const s of statements.slice(i, j)) lines.push(`${s.sql};`);
        if (first.txn !== null) lines.push("COMMIT;");
        i = j;
    }
    return lines.join("\n");
}

async function cli(): Promise<void> {
    const USAGE = "npm run sql -- --stack <name> [--tenant <slug> | --platform] [--locks]";
    const { values } = parseFlags(USAGE, {
        stack: { type: "string" },
        tenant: { type: "string" },
        platform: { type: "boolean" },
        locks: { type: "boolean" },
    });
    const usage = (message: string): never => {
        console.error(`${message}\nusage: ${USAGE}`);
        process.exit(EXIT_USAGE);
    };
    if (!values.stack) usage("--stack is required");
    if (values.tenant !== undefined && values.platform) usage("--tenant and --platform exclude each other");
    const stack = values.stack!;

    let recording: StackRecording;
    try {
        // Validate first, so a broken registry reports every problem instead of failing inside the program.
        const { tenants } = loadRegistry({ root: STACKS_ROOT, stack });
        if (values.tenant !== undefined) {
            const slugs = tenants.map((t) => t.slug).sort();
            if (!slugs.includes(values.tenant)) {
                const hint = closest(values.tenant, slugs);
                usage(`unknown tenant '${values.tenant}' in stack ${stack}${hint ? ` (did you mean '${hint}'?)` : ""} (tenants: ${slugs.join(", ") || "none"})`);
            }
        }
        recording = await recordStack(STACKS_ROOT, stack);
    } catch (e) {
        failOnRegistryError(e);
    }

    const scope: Scope = values.tenant !== undefined ? { kind: "tenant", slug: values.tenant } : values.platform ? { kind: "platform" } : { kind: "all" };
    const statements = stackSql(recording, scope, { locks: values.locks ?? false });
    const { database = "postgres", username = "postgres" } = recording.provider;
    const what = scope.kind === "tenant" ? `tenant ${scope.slug}` : scope.kind === "platform" ? "platform hardening" : "platform and every tenant";
    console.log(`-- SQL that @pulumi/postgresql runs on the shared cluster of stack ${stack} (${what}), in registration order.`);
    console.log(`-- The provider connects as ${username} to ${database}; passwords are placeholders. Mapping: docs/sql-mapping.md`);
    if (scope.kind === "tenant" && statements.length === 0) {
        const tier = recording.registry.tenants.find((t) => t.slug === scope.slug)?.tier;
        console.log(`-- tenant ${scope.slug} is ${tier}: it declares nothing on the shared cluster.`);
        return;
    }
    console.log(toScript(statements, database));
}

if (require.main === module) {
    cli().catch((e: unknown) => {
        console.error(e);
        process.exit(EXIT_USAGE);
    });
}
