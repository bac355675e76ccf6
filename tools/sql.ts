/**
 * `npm run sql -- --stack <name> [--tenant <slug> | --platform] [--locks] [--base <plan.json>]`: prints the SQL that
 * the `@pulumi/postgresql` resources of the real stack program execute (docs/sql-mapping.md), as a psql script,
 * grouped: the platform first, then each tenant in slug order, each in registration order.
 * With `--base`, a plan of the deployed state (`npm run plan -- --format json`): only what an update from that state
 * runs (creations, in-place updates such as `ALTER ROLE … NOLOGIN` on suspension, replacements and deletions).
 * Offline: the program runs under the recording engine; passwords are placeholders.
 */
import * as fs from "fs";
import type { RecordedResource } from "../engine/recorder";
import { identityOf } from "./plan/adoption";
import { compare, parsePlan, type Plan } from "./plan/model";
import { closest } from "../tenants/problems";
import { loadRegistry, type Registry } from "../tenants/registry";
import { attributeCells, attributeTenants, recordStack as recordProgram } from "./stackRecording";
import { EXIT_USAGE, failOnRegistryError, parseFlags, STACKS_ROOT } from "./cli";
import { roleManagerNotes, roleManagerRuns } from "./sql/roleManager";
import { POSTGRESQL_TYPES, quoteIdentifier, renderSql, renderSqlUpdate, type DeclaredResource, type RenderOptions, type SqlStatement } from "./sql/render";

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
    // A fleet's SQL is its stacks' SQL: recorded in the single layout, every cell and tenant with the same logical names.
    const { registry, recording } = await recordProgram({ root, stack, maskSecrets: opts.maskSecrets ?? true, layout: "single" });
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

/**
 * Role manager sections of the hybrid and dedicated tenants in scope, in slug order. With a base plan, only those whose
 * invocation input changed (a status change, new passwords, new code or configuration), since only those run again.
 */
export async function roleManagerSections(recording: StackRecording, scope: Scope, base?: Plan): Promise<SqlSection[]> {
    if (scope.kind === "platform") return [];
    const owners = attributeTenants(recording.resources);
    const before = new Map((base?.resources ?? []).map((r) => [r.urn, JSON.stringify(r.inputs["input"])]));
    // A moving tenant's source may be an instance too.
    const onInstance = (t: (typeof recording.registry.tenants)[number]) => t.tier !== "shared" || (t.move !== undefined && t.move.from.tier !== "shared");
    const slugs = recording.registry.tenants.filter((t) => onInstance(t) && (scope.kind === "all" || t.slug === scope.slug)).map((t) => t.slug).sort();
    const sections: SqlSection[] = [];
    for (const slug of slugs) {
        for (const run of await roleManagerRuns(recording.resources, owners, slug)) {
            if (base && before.get(run.invocation) === JSON.stringify(run.input)) continue;
            sections.push({ tenant: slug, notes: roleManagerNotes(run), statements: run.statements });
        }
    }
    return sections;
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

/** One group of a script: a cell's platform hardening or one tenant's statements, with comment lines saying what they are. */
export interface SqlSection {
    /** Tenant slug, or null for the platform. */
    tenant: string | null;
    /** The cell whose cluster the statements run on: a platform section's cell; a shared tenant's cell. */
    cell?: string;
    /** Comment lines (without `-- `) printed under the section's heading. */
    notes: string[];
    statements: SqlStatement[];
}

type Scoped = { tenant: string | null; cell?: string; resource: DeclaredResource };

/** Platform sections (by cell) first, then tenants by slug (a moving tenant's two cells by name). */
function sectionOrder(a: { tenant: string | null; cell?: string }, b: { tenant: string | null; cell?: string }): number {
    if (a.tenant === null && b.tenant === null) return compare(a.cell ?? "", b.cell ?? "");
    return a.tenant === null ? -1 : b.tenant === null ? 1 : compare(a.tenant, b.tenant) || compare(a.cell ?? "", b.cell ?? "");
}

/** A section per tenant and cell: a tenant moving between cells (or off one) has SQL on two clusters. */
function sectionKey(tenant: string | null, cell: string | undefined): string {
    return tenant === null ? `cell ${cell ?? ""}` : `${tenant}|${cell ?? ""}`;
}

/** The cell whose cluster a tenant's resource runs on: its provider's cell (single layout), else the tenant's. */
function cellOfProvider(provider: string | null, cells: ReadonlyMap<string, string>): string | undefined {
    return provider ? cells.get(provider.slice(0, provider.lastIndexOf("::"))) : undefined;
}

/** The scope's `postgresql:*` resources grouped by owner (each cell's platform hardening, then tenants), order kept. */
function grouped(items: readonly Scoped[]): { tenant: string | null; cell?: string; resources: DeclaredResource[] }[] {
    const groups = new Map<string, { tenant: string | null; cell?: string; resources: DeclaredResource[] }>();
    for (const i of items) {
        const key = sectionKey(i.tenant, i.cell);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { tenant: i.tenant, ...(i.cell !== undefined ? { cell: i.cell } : {}), resources: [] }));
        g.resources.push(i.resource);
    }
    return [...groups.values()].sort(sectionOrder);
}

function scoped(recording: StackRecording, scope: Scope): Scoped[] {
    const owners = attributeTenants(recording.resources);
    const cells = attributeCells(recording.resources);
    const tenantCells = new Map(recording.registry.tenants.map((t) => [t.slug, t.cell]));
    return selectPostgresql(recording.resources, scope).map((r) => {
        const tenant = owners.get(r.urn) ?? null;
        const cell = tenant === null ? cells.get(r.urn) : (cellOfProvider(r.provider, cells) ?? tenantCells.get(tenant));
        return { tenant, ...(cell !== undefined ? { cell } : {}), resource: r };
    });
}

/** Every statement of the scope, grouped: each cell's platform hardening first, then each tenant. */
export function sqlSections(recording: StackRecording, scope: Scope, opts: Omit<RenderOptions, "database" | "username" | "superuser"> = {}): SqlSection[] {
    return grouped(scoped(recording, scope)).map(({ tenant, cell, resources }) => ({
        tenant,
        ...(cell !== undefined ? { cell } : {}),
        notes: [],
        statements: renderSql(resources, { ...opts, ...providerOptions(recording) }),
    }));
}

/** Schema name → owner, from declared Schema resources. */
function declaredSchemaOwners(resources: readonly DeclaredResource[]): Record<string, string> {
    const owners: Record<string, string> = {};
    for (const r of resources) {
        if (r.type === POSTGRESQL_TYPES.schema && typeof r.inputs["name"] === "string" && typeof r.inputs["owner"] === "string") owners[r.inputs["name"]] = r.inputs["owner"];
    }
    return owners;
}

/**
 * What `pulumi up` runs on the shared cluster to go from the `base` plan to the recorded program, grouped by tenant:
 * new resources' CREATE statements, in-place updates as the provider runs them, replacements (delete, then create)
 * and deletions named. Throws when the base plan is of another stack. Inputs compare with secrets masked on both
 * sides, so a changed password does not show (neither does the plan).
 */
export function changeSections(base: Plan, recording: StackRecording, scope: Scope, opts: Omit<RenderOptions, "database" | "username" | "superuser"> = {}): SqlSection[] {
    const stack = recording.registry.config.stack;
    if (base.stack !== stack) throw new Error(`the base plan is of stack '${base.stack}', not '${stack}': compare plans of the same stack`);
    const head = scoped(recording, scope);
    const inScope = (tenant: string | null): boolean => (scope.kind === "all" ? true : scope.kind === "platform" ? tenant === null : tenant === scope.slug);
    // A base plan of a fleet has its resources in many stacks: one resource has one identity in every layout.
    const baseCells = attributeCells(base.resources);
    const was = new Map(base.resources.filter((r) => r.custom && r.type.startsWith("postgresql:") && inScope(r.tenant)).map((r) => [identityOf(r.urn), r]));
    const render: RenderOptions = {
        ...opts,
        ...providerOptions(recording),
        schemaOwners: { ...declaredSchemaOwners([...was.values()]), ...declaredSchemaOwners(head.map((h) => h.resource)) },
    };
    const sections = new Map<string, SqlSection>();
    const tenantCells = new Map(recording.registry.tenants.map((t) => [t.slug, t.cell]));
    const section = (tenant: string | null, cell?: string): SqlSection => {
        const c = tenant === null ? cell : (cell ?? tenantCells.get(tenant));
        const key = sectionKey(tenant, c);
        let s = sections.get(key);
        if (!s) sections.set(key, (s = { tenant, ...(c !== undefined ? { cell: c } : {}), notes: [], statements: [] }));
        return s;
    };
    const name = (r: { urn: string; type: string }): string => `${r.type.replace(/^postgresql:index\/\w+:/, "")} ${r.urn.split("::").pop()}`;
    for (const { tenant, cell, resource: r } of head) {
        const before = was.get(identityOf(r.urn));
        if (!before) {
            section(tenant, cell).statements.push(...renderSql([r], render));
            continue;
        }
        if (JSON.stringify(before.inputs) === JSON.stringify(r.inputs)) continue;
        const supported: string[] = [POSTGRESQL_TYPES.role, POSTGRESQL_TYPES.grant, POSTGRESQL_TYPES.defaultPrivileges];
        if (!supported.includes(r.type)) {
            const keys = [...new Set([...Object.keys(before.inputs), ...Object.keys(r.inputs)])].filter((k) => JSON.stringify(before.inputs[k]) !== JSON.stringify(r.inputs[k]));
            section(tenant, cell).notes.push(`${name(r)}: ${keys.join(", ")} changed; not rendered (see plan:diff for whether it is replaced)`);
            continue;
        }
        try {
            section(tenant, cell).statements.push(...renderSqlUpdate(before, r, render));
        } catch {
            // A Grant whose role, schema or object changed is replaced: the provider revokes the old grant, then grants anew.
            section(tenant, cell).notes.push(`${name(r)}: replaced (the old grant is revoked, then:)`);
            section(tenant, cell).statements.push(...renderSql([r], render));
        }
    }
    const now = new Set(head.map((h) => identityOf(h.resource.urn)));
    for (const r of was.values()) {
        if (!now.has(identityOf(r.urn))) section(r.tenant, baseCells.get(r.urn)).notes.push(`${name(r)}: deleted (the provider drops it: ${r.type === POSTGRESQL_TYPES.schema || r.type === POSTGRESQL_TYPES.role ? "data or logins are lost, see plan:diff's data-loss guard" : "privileges are revoked"})`);
    }
    return [...sections.values()].sort(sectionOrder);
}

/** A psql script of sections, each under a heading naming the platform or the tenant (and its tier). */
export function sectionsToScript(sections: readonly SqlSection[], fallbackDatabase: string, tiers: ReadonlyMap<string, string> = new Map()): string {
    return sections
        .map((s) => {
            // SQL on a cell is a shared placement's, also the source's (or target's) of a moving hybrid or dedicated tenant.
            const tier = s.tenant !== null ? tiers.get(s.tenant) : undefined;
            const detail = [tier !== undefined && s.cell !== undefined ? "shared" : tier, s.tenant !== null && s.cell !== undefined ? `cell ${s.cell}` : undefined].filter(Boolean).join(", ");
            const title = s.tenant === null ? `platform${s.cell !== undefined ? `: cell ${s.cell}'s cluster` : ""}` : `tenant ${s.tenant}${detail ? ` (${detail})` : ""}`;
            const lines = [`-- ==== ${title} ====`, ...s.notes.map((n) => `-- ${n}`)];
            if (s.statements.length) lines.push(toScript(s.statements, fallbackDatabase));
            return lines.join("\n");
        })
        .join("\n\n");
}

async function cli(): Promise<void> {
    const USAGE = "npm run sql -- --stack <name> [--tenant <slug> | --platform] [--locks] [--base <plan.json>]";
    const { values } = parseFlags(USAGE, {
        stack: { type: "string" },
        tenant: { type: "string" },
        platform: { type: "boolean" },
        locks: { type: "boolean" },
        base: { type: "string" },
    });
    const usage = (message: string): never => {
        console.error(`${message}\nusage: ${USAGE}`);
        process.exit(EXIT_USAGE);
    };
    if (!values.stack) usage("--stack is required");
    if (values.tenant !== undefined && values.platform) usage("--tenant and --platform exclude each other");
    const stack = values.stack!;
    let base: Plan | undefined;
    if (values.base !== undefined) {
        try {
            base = parsePlan(fs.readFileSync(values.base, "utf8"), values.base);
        } catch (e) {
            usage((e as Error).message.replace(/^ENOENT: no such file or directory, open '(.*)'$/, "$1: no such file"));
        }
        if (base!.stack !== stack) usage(`${values.base}: a plan of stack '${base!.stack}', not '${stack}': compare plans of the same stack`);
    }

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
    const opts = { locks: values.locks ?? false };
    const sections = base ? changeSections(base, recording, scope, opts) : sqlSections(recording, scope, opts);
    sections.push(...(await roleManagerSections(recording, scope, base)));
    const { database = "postgres", username = "postgres" } = recording.provider;
    const what = scope.kind === "tenant" ? `tenant ${scope.slug}` : scope.kind === "platform" ? "platform hardening" : "platform and every tenant";
    console.log(
        base
            ? `-- SQL that an update from ${values.base} runs in ${stack} (${what}; every stack of a fleet): changes only, grouped by cell and tenant.`
            : `-- SQL of ${stack} (${what}; every stack of a fleet): @pulumi/postgresql on each cell's cluster (each cell's platform hardening first, then each shared tenant on its cell, in registration order), then each hybrid and dedicated tenant's role manager on its own instance.`,
    );
    console.log(`-- The provider connects as ${username} to ${database}; passwords are placeholders. Mapping: docs/sql-mapping.md`);
    if (sections.length === 0) {
        const tier = recording.registry.tenants.find((t) => scope.kind === "tenant" && t.slug === scope.slug)?.tier;
        console.log(base ? "-- nothing changes." : `-- tenant ${scope.kind === "tenant" ? scope.slug : ""} is ${tier}: it declares no SQL.`);
        return;
    }
    console.log(sectionsToScript(sections, database, new Map(recording.registry.tenants.map((t) => [t.slug, t.tier]))));
}

if (require.main === module) {
    cli().catch((e: unknown) => {
        console.error(e);
        process.exit(EXIT_USAGE);
    });
}
