import * as fs from "fs";
import * as path from "path";
import type { z } from "zod";
import {
    availabilityZoneProblems, capacityProblems, CONFIG_NAMESPACE, defaultCellOf, resolveCellDatabase, SECRET_CONFIG_KEYS, StackConfigSchema, type StackConfig,
} from "../stacks/config";
import { canonical, formatCidr, isPrivate, overlaps, parseCidr } from "./cidr";
import { backupConfigProblems, tenantBackupProblems, type TenantBackupChoice } from "../stacks/backupConfig";
import { closest, fieldPath, RegistryError, SourceFile, type PathSegment, type Problem } from "./problems";
import {
    isReservedHost, RESERVED_NAMES, TenantFileSchema, type SizeName, type Status, type TenantFile, type Tier,
} from "./schema";
import { cellUsage } from "../model/cells";
import { THRESHOLD_SPECS, type ThresholdName, type ThresholdOverrides } from "../stacks/monitoringConfig";
import { OWNER_CONNECTION_LIMIT } from "./capacity";
import { ACM_MAIN_NAME_MAX, tenantCertificates, type CustomDomain } from "./certificates";
import {
    isReceiptOf, moveAllowed, MOVES_DIR, MoveReceiptSchema, placementKey, placementLabels, samePlacement, type MoveReceipt, type Placement,
} from "./moves";

export type { MoveReceipt, Placement } from "./moves";

/** A validated tenant with every default resolved: the plain data the stack program places. */
export interface Tenant {
    slug: string;
    displayName: string;
    tier: Tier;
    status: Status;
    /** AWS region the tenant's resources live in (the stack's region unless dedicated elsewhere). */
    region: string;
    /** Dedicated tenants only. */
    network?: { cidr: string };
    subdomain: string;
    /** `<subdomain>.<domain>` first, then the custom domains. */
    hostnames: string[];
    /** Out-of-zone names are attached to the load balancer only once `verified`. */
    customDomains: CustomDomain[];
    /** Hybrid and dedicated tenants only. */
    size?: SizeName;
    /** Shared tenants only: the cell (Aurora cluster) holding the tenant's schema. */
    cell?: string;
    release: { channel: string; version: string };
    features: string[];
    branding: { primaryColor?: string; logoUrl?: string };
    database: { backupRetentionDays: number; connectionLimit: number; statementTimeoutSeconds: number };
    tags: Record<string, string>;
    /** The file's `backup:` choice (hybrid and dedicated tenants): policy, longer retention, copy region. Absent: the stack's defaults. */
    backup?: TenantBackupChoice;
    /**
     * Suffix of the names of this placement that would collide with another placement of the tenant (tenants/moves.ts):
     * "" (or absent) for a tenant that never moved; a move's target gets its placement key and keeps it after the move.
     */
    label?: string;
    /**
     * A move under way (`move:` in the file): `from` is the placement the data is in now, which the program keeps while
     * it builds this one. `cutover` when `receipt` is this move's verified receipt: the registry points here.
     */
    move?: { from: Placement; cutover: boolean };
    /** The receipt of the tenant's last move (`tenants/<env>/.moves/<slug>.json`), when one is committed. */
    receipt?: MoveReceipt;
    /** The file's `monitoring:` (absent when it has none): who is told of the tenant's alarms, its threshold overrides. */
    monitoring?: { contact?: string; thresholds: ThresholdOverrides };
    /** Tenant file, relative to the repository root. */
    file: string;
}

export interface Registry {
    config: StackConfig;
    tenants: Tenant[];
    /** What the user should know but is not wrong: entries of the tenant directory that were ignored. */
    notices?: Problem[];
}

/** The `config:` block of a `Pulumi.<stack>.yaml`, as Pulumi hands it to a program. */
export interface StackFile {
    /** Path relative to the repository root. */
    file: string;
    source: SourceFile;
    /** `tenancy:` values with the namespace stripped; secure values are replaced by `[secret]`. */
    values: Record<string, unknown>;
    /** Full keys (`ns:key`) → string values, JSON for objects, exactly as `pulumi.runtime.setAllConfig` expects. */
    pulumiConfig: Record<string, string>;
    /** Full keys whose values are secure. */
    secretKeys: string[];
    region?: string;
}

export const SECRET_PLACEHOLDER = "[secret]";

/** Reads `Pulumi.<stack>.yaml` without the Pulumi CLI. Secure values cannot be decrypted offline and stay `[secret]`. */
export function readStackFile(root: string, stack: string): { stackFile?: StackFile; problems: Problem[] } {
    const file = `Pulumi.${stack}.yaml`;
    const abs = path.join(root, file);
    if (!fs.existsSync(abs)) {
        const known = fs.readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
        return { problems: [{ file, field: "", message: `no such stack configuration (stacks: ${known.join(", ") || "none"})` }] };
    }
    const read = readTextFile(abs, MAX_STACK_FILE_BYTES, "a stack configuration file");
    if ("problem" in read) return { problems: [{ file, field: "", message: read.problem }] };
    const source = new SourceFile(file, read.text);
    const syntax = source.syntaxProblems();
    if (syntax.length) return { problems: syntax };
    const js = source.toJS();
    if ("problem" in js) return { problems: [js.problem] };
    const doc = js.value as { config?: Record<string, unknown> } | null;
    const config = doc?.config ?? {};
    const values: Record<string, unknown> = {};
    const pulumiConfig: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(config)) {
        const secure = typeof value === "object" && value !== null && "secure" in value;
        pulumiConfig[key] = secure ? SECRET_PLACEHOLDER : typeof value === "string" ? value : JSON.stringify(value);
        if (secure) secretKeys.push(key);
        if (key.startsWith(`${CONFIG_NAMESPACE}:`)) values[key.slice(CONFIG_NAMESPACE.length + 1)] = secure ? SECRET_PLACEHOLDER : value;
    }
    const region = typeof config["aws:region"] === "string" ? (config["aws:region"] as string) : undefined;
    return { stackFile: { file, source, values, pulumiConfig, secretKeys, region }, problems: [] };
}

/**
 * Validates the `tenancy:` configuration. `source` locates problems in the stack file; without it (a config that
 * did not come from a file) problems name the key only.
 */
export function validateStackConfig(
    values: Record<string, unknown>,
    ctx: { stack: string; region?: string; file: string; source?: SourceFile },
): { config?: StackConfig; problems: Problem[] } {
    const problems: Problem[] = [];
    // Stacks of a fleet (`prod.cell-main`, `prod.tyrell`) share their environment's configuration and names.
    const env = ctx.stack.split(".")[0]!;
    const locate: Locate = (p, message, opts = {}) => {
        const [head, ...rest] = p;
        const field = `${CONFIG_NAMESPACE}:${fieldPath([String(head ?? ""), ...rest])}`;
        const [atHead, ...atRest] = opts.at ?? p;
        const where = atHead === undefined ? ["config"] : ["config", `${CONFIG_NAMESPACE}:${String(atHead)}`, ...atRest];
        return ctx.source ? ctx.source.problem(where, message, { key: opts.key, field }) : { file: ctx.file, field, message };
    };
    if (!ctx.region) problems.push({ file: ctx.file, field: "aws:region", message: "is required: the stack's AWS region, e.g. us-east-1" });
    for (const k of SECRET_CONFIG_KEYS) {
        if (typeof values[k] === "string" && values[k] !== SECRET_PLACEHOLDER) {
            problems.push(locate([k], `must be a secret: set it with 'pulumi config set --secret ${CONFIG_NAMESPACE}:${k} ...'`));
        }
    }
    const parsed = StackConfigSchema.safeParse(values, { reportInput: true });
    if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, locate, StackConfigSchema));
    if (problems.length || !parsed.success || !ctx.region) return { problems };
    const { appSecretKey: _secret, ...rest } = parsed.data;
    const config: StackConfig = {
        ...rest,
        stack: env,
        env,
        region: ctx.region,
        allowedRegions: [ctx.region, ...rest.regions.filter((r) => r !== ctx.region)],
        cells: Object.fromEntries(Object.entries(rest.shared.cells).sort(([a], [b]) => a.localeCompare(b))
            .map(([name, cell]) => [name, resolveCellDatabase(rest.shared.database, cell)])),
        defaultCell: defaultCellOf(rest.shared),
    };
    const cellNames = Object.keys(config.cells);
    if (rest.shared.defaultCell !== undefined && !cellNames.includes(rest.shared.defaultCell)) {
        problems.push(locate(["shared", "defaultCell"], `'${rest.shared.defaultCell}' is not a cell of this stack (allowed: ${cellNames.join(", ")})`));
    }
    for (const [name, cell] of Object.entries(config.cells)) {
        // The base was checked whole; a cell's overrides may still leave it without a size (e.g. minCapacity alone on a provisioned base).
        if (name in rest.shared.cells && Object.keys(rest.shared.cells[name]!).length) {
            for (const p of capacityProblems(cell)) problems.push(locate(["shared", "cells", name, p.field], `${p.message} (cell ${name}, with shared.database's values)`, { at: ["shared", "cells", name] }));
        }
    }
    if (!parseCidr(config.shared.vpcCidr) || !isPrivate(parseCidr(config.shared.vpcCidr)!)) {
        problems.push(locate(["shared", "vpcCidr"], "must be a private (RFC 1918) IPv4 block"));
    }
    for (const p of availabilityZoneProblems(config)) problems.push(locate(p.path, p.message, { key: p.key }));
    for (const p of backupConfigProblems(config)) problems.push(locate(p.path, p.message));
    return { config: problems.length ? undefined : config, problems };
}

/**
 * Locates a problem: `path` names the field; `opts.at` is where to point instead (a missing field points at its
 * parent), `opts.key` points at the key rather than the value.
 */
type Locate = (path: PathSegment[], message: string, opts?: { key?: boolean; at?: PathSegment[] }) => Problem;

/** The keys an object schema allows at `path` inside `schema`: through defaults, optionals, transforms, lists and unions. */
function allowedKeys(schema: z.core.$ZodType, path: readonly PathSegment[]): string[] {
    type Def = { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; options?: z.core.$ZodType[]; element?: z.core.$ZodType; valueType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType> };
    const defOf = (n: z.core.$ZodType) => n._zod.def as Def;
    // Every concrete schema a wrapper may stand for (a union stands for each of its options).
    const expand = (n: z.core.$ZodType | undefined, depth = 0): z.core.$ZodType[] => {
        if (!n || depth > 10) return [];
        const def = defOf(n);
        if (["default", "optional", "nullable", "prefault", "readonly"].includes(def.type) && def.innerType) return expand(def.innerType, depth + 1);
        if (def.type === "pipe" && def.in) return expand(def.in, depth + 1);
        if (def.type === "union" && def.options) return def.options.flatMap((o) => expand(o, depth + 1));
        return [n];
    };
    let nodes = expand(schema);
    for (const seg of path) {
        nodes = nodes.flatMap((n) => {
            const def = defOf(n);
            if (def.type === "object" && def.shape) return expand(def.shape[String(seg)]);
            if (def.type === "array" && typeof seg === "number") return expand(def.element);
            if (def.type === "record") return expand(def.valueType);
            return [];
        });
    }
    return [...new Set(nodes.flatMap((n) => (defOf(n).type === "object" && defOf(n).shape ? Object.keys(defOf(n).shape!) : [])))];
}

/** Turns zod issues into located problems, with "did you mean" and the allowed keys for unknown keys. */
function zodProblems(issues: readonly z.core.$ZodIssue[], locate: Locate, schema: z.core.$ZodType): Problem[] {
    const out: Problem[] = [];
    for (const issue of issues) {
        const p = issue.path.map((s) => (typeof s === "symbol" ? String(s) : s)) as PathSegment[];
        if (issue.code === "unrecognized_keys") {
            const known = allowedKeys(schema, p);
            for (const key of issue.keys) {
                const hint = closest(key, known);
                // At the top level the hint is enough (the README and the JSON Schema list the fields); nested, name them all.
                const allowed = p.length > 0 || !hint ? ` (allowed: ${known.join(", ") || "none"})` : "";
                out.push(locate([...p, key], `unknown field${hint ? ` (did you mean '${hint}'?)` : ""}${allowed}`, { key: true }));
            }
            continue;
        }
        if (issue.code === "invalid_type" && issue.input === undefined) {
            // A missing field has no position of its own: point at its parent's key (the file's mapping for a top-level field).
            out.push(p.length > 1 ? locate(p, "is required", { at: p.slice(0, -1), key: true }) : locate(p, "is required", { at: [] }));
            continue;
        }
        out.push(locate(p, issueMessage(issue)));
    }
    return out;
}

function issueMessage(issue: z.core.$ZodIssue): string {
    if (issue.code === "invalid_type") {
        // The schema's own wording ("must be a whole number") says more than the JSON type.
        if (issue.message.startsWith("must be")) return `${issue.message} (got ${describe(issue.input)})`;
        const expected = issue.expected === "int" ? "a whole number" : article(issue.expected);
        return `must be ${expected} (got ${describe(issue.input)})`;
    }
    if (issue.code === "invalid_key") return issue.issues.map((i) => i.message).join("; ");
    if (issue.code === "invalid_value") return `${describe(issue.input)} is not allowed (allowed: ${issue.values.join(", ")})`;
    return issue.message;
}

function article(expected: string): string {
    return expected === "array" ? "a list" : expected === "object" ? "a mapping" : /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describe(v: unknown): string {
    // YAML reads a key with nothing after it as null; users wrote nothing, so say that.
    if (v === null) return "an empty value";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "a mapping";
    if (typeof v === "string") return JSON.stringify(v);
    return String(v);
}

interface ParsedTenant {
    source: SourceFile;
    data: TenantFile;
    /** True when the file passed every check of its own (cross-file rules aside). */
    clean: boolean;
}

/** Tenant files larger than this are not parsed: a real one is a few hundred bytes, and YAML parsing is not free. */
export const MAX_TENANT_FILE_BYTES = 64 * 1024;

/** A stack file is a few kilobytes; this only stops a runaway one. */
const MAX_STACK_FILE_BYTES = 1024 * 1024;

/** The text of one file, or why it cannot be read, without a stack trace for any file-system surprise. */
function readTextFile(abs: string, maxBytes: number, what: string): { text: string } | { problem: string } {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(abs);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const link = (() => { try { return fs.lstatSync(abs).isSymbolicLink(); } catch { return false; } })();
        if (link && (code === "ENOENT" || code === "ELOOP")) return { problem: "is a broken symbolic link (it points to a file that does not exist)" };
        return { problem: `cannot be read (${code ?? (e as Error).message})` };
    }
    if (stat.isDirectory()) return { problem: `is a directory, not ${what}` };
    // Checked before reading: a FIFO would block the read forever, a device would never end.
    if (!stat.isFile()) return { problem: "is not a regular file" };
    const tooBig = (bytes: number) => ({ problem: `is ${bytes} bytes; ${what} may be at most ${maxBytes} bytes` });
    if (stat.size > maxBytes) return tooBig(stat.size);
    try {
        const text = fs.readFileSync(abs, "utf8");
        return Buffer.byteLength(text) > maxBytes ? tooBig(Buffer.byteLength(text)) : { text };
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { problem: code === "EACCES" || code === "EPERM" ? `cannot be read (${code}: check its permissions)` : `cannot be read (${code ?? (e as Error).message})` };
    }
}

/** True when `abs` is a directory (following links); false for anything else, including what cannot be examined. */
function isDirectory(abs: string): boolean {
    try {
        return fs.statSync(abs).isDirectory();
    } catch {
        return false;
    }
}

/** The tenant file schema with every field optional: what a file with errors still says, for the checks against the stack. */
const PartialTenantFileSchema = TenantFileSchema.partial();

/** Custom domains that take the stack's own domain or a reserved platform host name, as `[path, message]`. */
function customDomainNameProblems(names: readonly unknown[], domain: string): [(string | number)[], string][] {
    const out: [(string | number)[], string][] = [];
    names.forEach((d, i) => {
        if (typeof d !== "string") return;
        if (d === domain) out.push([["customDomains", i], `'${d}' is the stack's own domain`]);
        else if (isReservedHost(d, domain)) out.push([["customDomains", i], `'${d}' is reserved by the platform`]);
    });
    return out;
}

/**
 * What can still be checked in a file with schema errors: the file without the values at fault (the leaf where the
 * parents are mappings, the whole list otherwise) and the top-level fields that had a problem, so checks that depend
 * on them (a tier, a slug) are skipped rather than guessed.
 */
function salvage(raw: object, issues: readonly z.core.$ZodIssue[]): { data?: Partial<TenantFile>; invalid: Set<string> } {
    const copy = structuredClone(raw) as Record<string, unknown>;
    const invalid = new Set<string>();
    const remove = (path: readonly PropertyKey[]) => {
        let parent: Record<string, unknown> = copy;
        for (let i = 0; i < path.length; i++) {
            const seg = String(path[i]);
            const value = parent[seg];
            if (i === path.length - 1 || typeof value !== "object" || value === null || Array.isArray(value)) {
                delete parent[seg];
                return;
            }
            parent = value as Record<string, unknown>;
        }
    };
    for (const issue of issues) {
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys) remove([...issue.path, k]);
            continue;
        }
        if (issue.path.length === 0) return { invalid };
        invalid.add(String(issue.path[0]));
        remove(issue.path);
    }
    // A removed leaf can leave its parent incomplete (a required field): then drop the parent too, once.
    for (let attempt = 0; attempt < 2; attempt++) {
        const result = PartialTenantFileSchema.safeParse(copy);
        if (result.success) return { data: result.data, invalid };
        for (const issue of result.error.issues) {
            if (issue.path.length === 0) return { invalid };
            invalid.add(String(issue.path[0]));
            delete copy[String(issue.path[0])];
        }
    }
    return { invalid };
}

/**
 * Reads and validates every tenant file of a directory against the stack configuration, reporting every problem in
 * every file at once: a file with schema errors still gets the checks against the stack that its valid fields allow.
 */
export function loadTenants(root: string, tenantsDir: string, config: StackConfig): { tenants: Tenant[]; problems: Problem[]; notices: Problem[] } {
    const absDir = path.resolve(root, tenantsDir);
    const relDir = path.relative(root, absDir).split(path.sep).join("/") || ".";
    const fail = (message: string) => ({ tenants: [], problems: [{ file: relDir, field: "", message }], notices: [] });
    if (!fs.existsSync(absDir)) return fail("tenant directory does not exist");
    if (!isDirectory(absDir)) return fail("is not a directory (the stack's tenantsDir must be a directory of tenant files)");
    let names: string[];
    try {
        names = fs.readdirSync(absDir).sort();
    } catch (e) {
        return fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const problems: Problem[] = [];
    const parsed: ParsedTenant[] = [];
    /** Files with schema errors: what is valid in them still meets the other files (unique host names, networks). */
    const salvaged: CrossFileEntry[] = [];
    const ignored: string[] = [];
    for (const name of names) {
        const rel = path.posix.join(relDir, name);
        const abs = path.join(absDir, name);
        // The move receipts (`npm run move` writes them; a retirement commits them): read below, not a stray entry.
        if (name === MOVES_DIR && isDirectory(abs)) continue;
        if (name.endsWith(".yml")) {
            problems.push({ file: rel, field: "", message: "tenant files end in .yaml: rename it" });
            continue;
        }
        if (!name.endsWith(".yaml")) {
            ignored.push(isDirectory(abs) ? `${name}/` : name);
            continue;
        }
        const read = readTextFile(abs, MAX_TENANT_FILE_BYTES, "a tenant file");
        if ("problem" in read) {
            problems.push({ file: rel, field: "", message: read.problem });
            continue;
        }
        const source = new SourceFile(rel, read.text);
        const syntax = source.syntaxProblems();
        if (syntax.length) {
            problems.push(...syntax);
            continue;
        }
        const js = source.toJS();
        if ("problem" in js) {
            problems.push(js.problem);
            continue;
        }
        const raw = js.value;
        if (raw === null || raw === undefined) {
            problems.push({ file: rel, line: 1, column: 1, field: "", message: "file is empty: a tenant file needs at least slug and displayName" });
            continue;
        }
        if (typeof raw !== "object" || Array.isArray(raw)) {
            problems.push(source.problem([], "a tenant file must be a mapping of fields (slug, displayName, ...)"));
            continue;
        }
        const fileSlug = name.slice(0, -".yaml".length);
        const result = TenantFileSchema.safeParse(raw, { reportInput: true });
        if (result.success) {
            const own = contextProblems(source, result.data, new Set(), fileSlug, config);
            problems.push(...own);
            parsed.push({ source, data: result.data, clean: own.length === 0 });
            continue;
        }
        problems.push(...zodProblems(result.error.issues, (p, m, o) => source.problem(o?.at ?? p, m, { key: o?.key, field: fieldPath(p) }), TenantFileSchema));
        const { data, invalid } = salvage(raw, result.error.issues);
        if (data) {
            problems.push(...contextProblems(source, data, invalid, fileSlug, config));
            salvaged.push({ source, data, invalid });
        }
        // A list with a problem is left out of the salvaged file whole; its entries' names are still checked, in place.
        if (invalid.has("customDomains")) {
            const entries = (raw as Record<string, unknown>)["customDomains"];
            const names = Array.isArray(entries) ? entries.map((e) => (typeof e === "string" ? e : (e as { name?: unknown } | null)?.name)) : [];
            for (const [path, message] of customDomainNameProblems(names, config.domain)) problems.push(source.problem(path, message, { field: fieldPath(path) }));
        }
    }
    const notices: Problem[] = ignored.length
        ? [{
            file: relDir,
            field: "",
            message: `ignored ${ignored.length} ${ignored.length === 1 ? "entry that is not a tenant file" : "entries that are not tenant files"} (<slug>.yaml): ${ignored.join(", ")}`,
        }]
        : [];
    const fileSlugs = names.filter((n) => n.endsWith(".yaml")).map((n) => n.slice(0, -".yaml".length));
    const moves = names.includes(MOVES_DIR) && isDirectory(path.join(absDir, MOVES_DIR))
        ? readReceipts(path.join(absDir, MOVES_DIR), path.posix.join(relDir, MOVES_DIR), fileSlugs)
        : { receipts: new Map<string, MoveReceipt>(), problems: [], notices: [] };
    problems.push(...moves.problems);
    notices.push(...moves.notices);
    const tenants = parsed.filter((p) => p.clean).map((p) => resolveTenant(p, config, moves.receipts.get(p.data.slug)));
    const entries: CrossFileEntry[] = [...parsed.map((p) => ({ source: p.source, data: p.data, invalid: new Set<string>() })), ...salvaged]
        .sort((a, b) => a.source.file.localeCompare(b.source.file));
    problems.push(...crossFileProblems(entries, tenants, config));
    return { tenants: problems.length ? [] : tenants, problems, notices };
}

/** A JSON syntax error at its line and column (V8 names the character position). */
function jsonSyntaxProblem(file: string, text: string, e: Error): Problem {
    const message = e.message.replace(/\s*(in JSON )?at position \d+.*$/, "").replace(/ \(line \d+ column \d+\)$/, "");
    const at = /at position (\d+)/.exec(e.message);
    if (!at) return { file, line: 1, column: 1, field: "", message: `invalid JSON: ${message}` };
    const before = text.slice(0, Number(at[1])).split("\n");
    return { file, line: before.length, column: before[before.length - 1]!.length + 1, field: "", message: `invalid JSON: ${message}` };
}

/** A receipt is a few kilobytes per table; this only stops a runaway file. */
const MAX_RECEIPT_BYTES = 1024 * 1024;

/**
 * The move receipts of a tenant directory (`.moves/<slug>.json`, written by `npm run move`): a receipt that is not
 * valid JSON of the receipt's shape is a problem at its line; one without a tenant file, or another entry, a notice.
 */
function readReceipts(absDir: string, relDir: string, slugs: readonly string[]): { receipts: Map<string, MoveReceipt>; problems: Problem[]; notices: Problem[] } {
    const receipts = new Map<string, MoveReceipt>();
    const problems: Problem[] = [];
    const notices: Problem[] = [];
    let names: string[];
    try {
        names = fs.readdirSync(absDir).sort();
    } catch (e) {
        return { receipts, problems: [{ file: relDir, field: "", message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }], notices };
    }
    const ignored: string[] = [];
    const orphans: string[] = [];
    for (const name of names) {
        const rel = path.posix.join(relDir, name);
        if (!name.endsWith(".json")) {
            ignored.push(isDirectory(path.join(absDir, name)) ? `${name}/` : name);
            continue;
        }
        const slug = name.slice(0, -".json".length);
        if (!slugs.includes(slug)) {
            orphans.push(name);
            continue;
        }
        const read = readTextFile(path.join(absDir, name), MAX_RECEIPT_BYTES, "a move receipt");
        if ("problem" in read) {
            problems.push({ file: rel, field: "", message: read.problem });
            continue;
        }
        let raw: unknown;
        try {
            raw = JSON.parse(read.text);
        } catch (e) {
            problems.push(jsonSyntaxProblem(rel, read.text, e as Error));
            continue;
        }
        // JSON is YAML: the YAML parser locates a field by line and column.
        const source = new SourceFile(rel, read.text);
        const parsed = MoveReceiptSchema.safeParse(raw, { reportInput: true });
        if (!parsed.success) {
            for (const issue of parsed.error.issues) {
                const p = issue.path.map((x) => (typeof x === "symbol" ? String(x) : x)) as PathSegment[];
                problems.push(source.problem(p, `${issueMessage(issue)} (a move receipt as npm run move writes it)`));
            }
            continue;
        }
        if (parsed.data.tenant !== slug) {
            problems.push(source.problem(["tenant"], `'${parsed.data.tenant}' must equal the file name '${slug}'`));
            continue;
        }
        receipts.set(slug, parsed.data);
    }
    if (orphans.length) notices.push({ file: relDir, field: "", message: `receipts of tenants without a file, kept but unused: ${orphans.join(", ")}` });
    if (ignored.length) notices.push({ file: relDir, field: "", message: `ignored ${ignored.length === 1 ? "an entry" : `${ignored.length} entries`} that ${ignored.length === 1 ? "is" : "are"} not a receipt (<slug>.json): ${ignored.join(", ")}` });
    return { receipts, problems, notices };
}

/**
 * Every rule that needs the stack (tiers, regions, networks, host names, channels, the feature catalog) and the
 * file name, for one file. `invalid` names top-level fields that had schema errors: checks that depend on them are
 * skipped, so a wrong tier does not also produce a wrong "only dedicated tenants ..." message.
 */
function contextProblems(source: SourceFile, data: Partial<TenantFile>, invalid: ReadonlySet<string>, fileSlug: string, config: StackConfig): Problem[] {
    const problems: Problem[] = [];
    const at = (p: PathSegment[], m: string) => problems.push(source.problem(p, m));
    const ok = (k: keyof TenantFile) => !invalid.has(k);
    if (data.slug !== undefined && data.slug !== fileSlug) at(["slug"], `'${data.slug}' must equal the file name '${fileSlug}'`);
    const tier = ok("tier") ? (data.tier ?? config.tiers.default) : undefined;
    if (tier && !config.tiers.allowed.includes(tier)) {
        at(["tier"], `'${tier}' is not allowed in stack ${config.stack} (allowed: ${config.tiers.allowed.join(", ")})`);
    }
    if (data.region !== undefined) {
        if (tier && tier !== "dedicated") at(["region"], `only dedicated tenants choose a region; ${tier} tenants run in ${config.region}`);
        else if (!config.allowedRegions.includes(data.region)) at(["region"], `'${data.region}' is not allowed (allowed: ${config.allowedRegions.join(", ")})`);
    }
    if (tier === "dedicated" && !data.network && ok("network")) at(["network"], "dedicated tenants need network.cidr: a private /16 to /24 block for their VPC");
    if (tier && tier !== "dedicated" && data.network) at(["network"], `only dedicated tenants have their own network; remove it for a ${tier} tenant`);
    if (data.network) networkProblems(data.network.cidr, config).forEach((m) => at(["network", "cidr"], m));
    if (data.subdomain !== undefined && (RESERVED_NAMES as readonly string[]).includes(data.subdomain)) {
        at(["subdomain"], `'${data.subdomain}' is reserved by the platform`);
    }
    const customDomains = data.customDomains ?? [];
    customDomainNameProblems(customDomains.map((d) => d.name), config.domain).forEach(([path, message]) => at(path, message));
    // Which names can lead a certificate depends on the tier and every host name: skipped when any of them is invalid.
    const subdomain = data.subdomain ?? data.slug;
    const certificatesCheckable = tier && subdomain !== undefined && ok("customDomains") && ok("subdomain") && ok("slug");
    if (certificatesCheckable && (data.status ?? "active") !== "offboarded") {
        certificateProblems({ ...data, customDomains }, tier, subdomain, config).forEach(([p, m]) => at(p, m));
    }
    if (data.cell !== undefined && ok("cell")) {
        const cells = Object.keys(config.cells);
        if (tier && tier !== "shared") at(["cell"], `only shared tenants live on a cell; a ${tier} tenant has its own database`);
        else if (!cells.includes(data.cell)) at(["cell"], `'${data.cell}' is not a cell of stack ${config.stack} (allowed: ${cells.join(", ")})`);
    }
    if (ok("move")) moveProblems(data, tier, config, at);
    if (data.size !== undefined && tier === "shared") at(["size"], "shared tenants have no size: they run on the shared platform (sizes are for hybrid and dedicated)");
    const channel = data.release?.channel ?? "stable";
    if (!(channel in config.channels)) {
        at(["release", "channel"], `'${channel}' is not a release channel of stack ${config.stack} (allowed: ${Object.keys(config.channels).join(", ")})`);
    } else if (tier && tier !== "dedicated" && config.channels[channel] !== config.channels.stable) {
        // The registry must state the version that serves the tenant, and the shared app runs one version: stable's.
        at(["release", "channel"], `${tier} tenants are served by the shared app, which runs stable (${config.channels.stable}); channel '${channel}' (${config.channels[channel]}) is for dedicated tenants`);
    }
    if (data.release?.version !== undefined && tier && tier !== "dedicated") {
        at(["release", "version"], `only dedicated tenants pin a version; ${tier} tenants run the shared app's stable release`);
    }
    const features = data.features ?? [];
    features.forEach((f, i) => {
        if (!config.features.includes(f)) {
            const hint = closest(f, config.features);
            at(["features", i], `'${f}' is not in the feature catalog${hint ? ` (did you mean '${hint}'?)` : ""} (allowed: ${config.features.join(", ") || "none"})`);
        }
    });
    if (tier === "shared" && data.database?.backupRetentionDays !== undefined) {
        at(["database", "backupRetentionDays"], "shared tenants use the shared cluster's backups; only hybrid and dedicated tenants set a retention");
    }
    for (const k of ["connectionLimit", "statementTimeoutSeconds"] as const) {
        if (tier && tier !== "shared" && data.database?.[k] !== undefined) at(["database", k], `only shared tenants set ${k}; a ${tier} tenant has its own database`);
    }
    const region = tier === "dedicated" ? (data.region ?? config.region) : config.region;
    if (tier && ok("backup") && ok("region") && ok("database")) {
        const retention = data.database?.backupRetentionDays ?? config.shared.database.backupRetentionDays;
        for (const [p, m] of tenantBackupProblems(data.backup, { tier, region, backupRetentionDays: retention, retentionInFile: data.database?.backupRetentionDays !== undefined }, config)) at(p, m);
    }
    // A threshold of something the tier does not have would silently do nothing: refused where it stands.
    for (const k of Object.keys(data.monitoring?.thresholds ?? {}) as ThresholdName[]) {
        const tiers: readonly Tier[] = THRESHOLD_SPECS[k].tiers;
        if (tier && !tiers.includes(tier)) at(["monitoring", "thresholds", k], `does not apply to a ${tier} tenant (it applies to ${tiers.join(", ")})`);
    }
    return problems;
}

/** What is wrong with a dedicated VPC's block on its own (the checks across files are crossFileProblems'). */
function networkProblems(cidr: string, config: StackConfig): string[] {
    const c = parseCidr(cidr);
    if (!c) return ["must be an IPv4 CIDR block such as 10.20.0.0/16"];
    if (c.prefix < 16 || c.prefix > 24) return [`/${c.prefix} is not allowed (allowed: /16 to /24)`];
    if (!isPrivate(c)) return [`${cidr} is not private (allowed: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)`];
    if (canonical(c).base !== c.base) return [`host bits are set (did you mean ${formatCidr(canonical(c))}?)`];
    const shared = parseCidr(config.shared.vpcCidr)!;
    return overlaps(c, shared) ? [`${cidr} overlaps the shared VPC ${config.shared.vpcCidr}`] : [];
}

/** The `move:` block against the file's own placement and the stack (MOVE.md B): each problem at its field. */
function moveProblems(data: Partial<TenantFile>, tier: Tier | undefined, config: StackConfig, at: (p: PathSegment[], m: string) => void): void {
    const from = data.move?.from;
    if (!from) return;
    const f = (...p: PathSegment[]) => ["move", "from", ...p];
    if ((data.status ?? "active") === "offboarded") {
        at(["move"], "an offboarded tenant is not served and cannot move; set status active or suspended for the move, or remove move");
    }
    if (!config.tiers.allowed.includes(from.tier)) {
        at(f("tier"), `'${from.tier}' is not a tier of stack ${config.stack} (allowed: ${config.tiers.allowed.join(", ")})`);
    }
    const cells = Object.keys(config.cells);
    if (from.cell !== undefined) {
        if (from.tier !== "shared") at(f("cell"), `only a shared source has a cell; a ${from.tier} source has its own database`);
        else if (!cells.includes(from.cell)) at(f("cell"), `'${from.cell}' is not a cell of stack ${config.stack} (allowed: ${cells.join(", ")})`);
    }
    if (from.region !== undefined) {
        if (from.tier !== "dedicated") at(f("region"), `only a dedicated source has a region of its own; a ${from.tier} source runs in ${config.region}`);
        else if (!config.allowedRegions.includes(from.region)) at(f("region"), `'${from.region}' is not allowed (allowed: ${config.allowedRegions.join(", ")})`);
    }
    if (from.size !== undefined && from.tier === "shared") at(f("size"), "a shared source has no size (sizes are for hybrid and dedicated)");
    if (from.tier === "dedicated" && !from.network) at(f("tier"), "a dedicated source needs move.from.network.cidr: the block of its VPC, as its file had it");
    if (from.tier !== "dedicated" && from.network) at(f("network"), `only a dedicated source has its own network; remove it for a ${from.tier} source`);
    if (from.network) networkProblems(from.network.cidr, config).forEach((m) => at(f("network", "cidr"), m));
    if (!tier) return;
    const source = { tier: from.tier, cell: from.tier === "shared" ? (from.cell ?? config.defaultCell) : undefined };
    const target = { tier, cell: tier === "shared" ? (data.cell ?? config.defaultCell) : undefined };
    const region = (t: Tier, r: string | undefined) => (t === "dedicated" ? (r ?? config.region) : config.region);
    if (samePlacement({ ...source, region: region(from.tier, from.region) }, { ...target, region: region(tier, data.region) })) {
        at(f("tier"), `is the placement this file states (${placementKey(target)}); move.from is where the data is now, which must differ`);
    } else if (!moveAllowed(source, target)) {
        at(f("tier"), `a move ${from.tier} → ${tier} is not supported (allowed: shared → shared on another cell, shared → hybrid, shared → dedicated, ` +
            "hybrid → shared, hybrid → dedicated, dedicated → shared, dedicated → hybrid)");
    }
}

/** Applies the stack's defaults to one valid tenant file (its rules were checked by contextProblems). */
function resolveTenant({ source, data }: ParsedTenant, config: StackConfig, receipt?: MoveReceipt): Tenant {
    const tier = data.tier ?? config.tiers.default;
    const subdomain = data.subdomain ?? data.slug;
    const channel = data.release.channel ?? "stable";
    const current: Omit<Placement, "label"> = {
        tier,
        region: tier === "dedicated" ? (data.region ?? config.region) : config.region,
        ...(tier === "shared" ? { cell: data.cell ?? config.defaultCell } : { size: data.size ?? "small" }),
        ...(data.network ? { network: { cidr: data.network.cidr } } : {}),
    };
    const f = data.move?.from;
    const from: Omit<Placement, "label"> | undefined = f && {
        tier: f.tier,
        region: f.tier === "dedicated" ? (f.region ?? config.region) : config.region,
        ...(f.tier === "shared" ? { cell: f.cell ?? config.defaultCell } : { size: f.size ?? "small" }),
        ...(f.network ? { network: { cidr: f.network.cidr } } : {}),
    };
    const labels = placementLabels(current, from, receipt);
    return {
        slug: data.slug,
        displayName: data.displayName,
        tier,
        status: data.status,
        region: tier === "dedicated" ? (data.region ?? config.region) : config.region,
        ...(data.network ? { network: { cidr: data.network.cidr } } : {}),
        subdomain,
        hostnames: [`${subdomain}.${config.domain}`, ...data.customDomains.map((d) => d.name)],
        customDomains: data.customDomains,
        ...(tier === "shared" ? { cell: data.cell ?? config.defaultCell } : { size: data.size ?? "small" }),
        release: { channel, version: data.release.version ?? config.channels[channel] },
        features: data.features,
        branding: data.branding,
        database: {
            backupRetentionDays: data.database.backupRetentionDays ?? config.shared.database.backupRetentionDays,
            connectionLimit: data.database.connectionLimit ?? config.shared.database.tenantConnectionLimit,
            statementTimeoutSeconds: data.database.statementTimeoutSeconds ?? config.shared.database.tenantStatementTimeoutSeconds,
        },
        tags: data.tags,
        ...(data.backup ? { backup: data.backup } : {}),
        ...(labels.current ? { label: labels.current } : {}),
        ...(from ? { move: { from: { ...from, label: labels.from ?? "" }, cutover: isReceiptOf(receipt, from, current) } } : {}),
        ...(receipt ? { receipt } : {}),
        ...(data.monitoring ? {
            monitoring: {
                ...(data.monitoring.contact !== undefined ? { contact: data.monitoring.contact } : {}),
                thresholds: Object.fromEntries(Object.entries(data.monitoring.thresholds ?? {}).filter(([, v]) => v !== undefined)),
            },
        } : {}),
        file: source.file,
    };
}

/** One file as the rules across files see it: complete, or what was valid in a file with schema errors. */
interface CrossFileEntry {
    source: SourceFile;
    data: Partial<TenantFile>;
    /** Top-level fields with schema errors: left out of the comparisons. */
    invalid: ReadonlySet<string>;
}

/** Rules across files: unique slugs, host names and networks; shared cluster capacity. */
function crossFileProblems(entries: CrossFileEntry[], tenants: Tenant[], config: StackConfig): Problem[] {
    const problems: Problem[] = [];
    const hostOwner = new Map<string, { file: string; field: string }>();
    const slugs = new Map<string, string>();
    const networks: { cidr: string; file: string }[] = [];
    for (const { source, data, invalid } of entries) {
        if (data.slug !== undefined) {
            const other = slugs.get(data.slug);
            if (other) problems.push(source.problem(["slug"], `'${data.slug}' is already used by ${other}`));
            else slugs.set(data.slug, source.file);
        }
        const label = invalid.has("subdomain") ? undefined : (data.subdomain ?? data.slug);
        const hosts: [PathSegment[], string][] = [
            ...(label !== undefined ? [[data.subdomain !== undefined ? ["subdomain"] : ["slug"], `${label}.${config.domain}`] as [PathSegment[], string]] : []),
            ...(invalid.has("customDomains") ? [] : (data.customDomains ?? [])).map((d, i): [PathSegment[], string] => [["customDomains", i], d.name]),
        ];
        for (const [p, host] of hosts) {
            const owner = hostOwner.get(host);
            if (owner && owner.file !== source.file) {
                problems.push(source.problem(p, `host name ${host} is already used by ${owner.file} (${owner.field})`));
            } else if (!owner) hostOwner.set(host, { file: source.file, field: fieldPath(p) });
        }
        // A moving dedicated source's VPC is live until it is retired: it counts like any other.
        const blocks: [PathSegment[], string | undefined][] = [[["network", "cidr"], data.network?.cidr], [["move", "from", "network", "cidr"], data.move?.from.network?.cidr]];
        for (const [p, cidr] of blocks) {
            const c = cidr ? parseCidr(cidr) : undefined;
            if (!cidr || !c) continue;
            const clash = networks.find((n) => overlaps(parseCidr(n.cidr)!, c));
            if (clash) problems.push(source.problem(p, `${cidr} overlaps ${clash.cidr} of ${clash.file}`));
            networks.push({ cidr, file: source.file });
        }
    }
    problems.push(...listenerQuotaProblems(entries, tenants, config));
    for (const use of cellUsage(config.cells, tenants)) {
        if (use.headroom >= 0) continue;
        const { capacity, consumers } = use;
        const top = consumers.slice(0, 10);
        const others = Object.keys(config.cells).filter((c) => c !== use.cell);
        problems.push({
            file: config.tenantsDir,
            field: "database.connectionLimit",
            message:
                `shared tenants on cell ${use.cell} may open ${use.used} connections (runtime limits plus ${OWNER_CONNECTION_LIMIT} per owner role) but its cluster accepts ${capacity.available} ` +
                `(max_connections ${capacity.maxConnections} for ${capacity.basis}, minus ${capacity.reserved} reserved for the platform); ` +
                `lower connection limits, raise the cell's capacity, ${others.length ? `put new tenants on another cell (cell: ${others.join(" | ")}), ` : "declare another cell (tenancy:shared.cells), "}or move tenants to hybrid. Largest: ` +
                top.map((c) => `${c.slug} ${c.connections - OWNER_CONNECTION_LIMIT}`).join(", ") + (consumers.length > top.length ? `, and ${consumers.length - top.length} more` : ""),
        });
    }
    return problems;
}

/** Host names no ACM certificate can carry: every candidate main name is over ACM's 64-character limit. */
function certificateProblems(data: Partial<TenantFile> & Pick<TenantFile, "customDomains">, tier: Tier, subdomain: string, config: StackConfig): [PathSegment[], string][] {
    const hostname = `${subdomain}.${config.domain}`;
    const { unfit } = tenantCertificates({ dedicated: tier === "dedicated", hostname, customDomains: data.customDomains, zoneDomain: config.domain });
    return unfit.map((name): [PathSegment[], string] => {
        const i = data.customDomains.findIndex((d) => d.name === name);
        const where: PathSegment[] = i >= 0 ? ["customDomains", i] : [data.subdomain !== undefined ? "subdomain" : "slug"];
        const instead = name === hostname ? "no in-zone custom domain is short enough to lead it instead" : `${hostname} is too long to lead it instead`;
        return [where, `${name} (${name.length} characters) cannot lead a certificate: ACM allows at most ${ACM_MAIN_NAME_MAX} characters in a certificate's main name, ` +
            `and ${instead} (allowed: a subdomain or an in-zone custom domain short enough to be the main name)`];
    });
}

/**
 * Certificates per HTTPS listener within the AWS quota (`tenancy:certificatesPerListener`): the shared load balancer's
 * listener carries those of every served shared and hybrid tenant, a dedicated tenant's its own. Reported at the
 * tenant whose certificates cross the limit, in file order.
 */
function listenerQuotaProblems(entries: CrossFileEntry[], tenants: Tenant[], config: StackConfig): Problem[] {
    const quota = config.certificatesPerListener;
    const problems: Problem[] = [];
    const sourceOf = new Map(entries.map((p) => [p.data.slug, p.source]));
    const at = (t: Tenant, message: string) => {
        const source = sourceOf.get(t.slug);
        problems.push(source ? source.problem(["customDomains"], message, { key: true }) : { file: t.file, field: "customDomains", message });
    };
    const count = (t: Tenant) =>
        tenantCertificates({ dedicated: t.tier === "dedicated", hostname: t.hostnames[0]!, customDomains: t.customDomains, zoneDomain: config.domain }).listenerCertificates;
    const served = tenants.filter((t) => t.status !== "offboarded");
    let shared = 0;
    const contributors: string[] = [];
    let reported = false;
    for (const t of served.filter((x) => x.tier !== "dedicated")) {
        const n = count(t);
        if (n === 0) continue;
        shared += n;
        contributors.push(`${t.slug} ${n}`);
        if (shared > quota && !reported) {
            reported = true;
            at(t, `the shared load balancer's HTTPS listener would carry more than ${quota} certificates besides its default one ` +
                `(allowed: ${quota}, tenancy:certificatesPerListener, the AWS quota "Certificates per Application Load Balancer"); ` +
                `so far: ${contributors.join(", ")}; mark fewer custom domains verified, use names under the stack's domain, ` +
                `or raise the quota with AWS and in tenancy:certificatesPerListener`);
        }
    }
    for (const t of served.filter((x) => x.tier === "dedicated")) {
        const n = count(t);
        if (n > quota) at(t, `the tenant's load balancer would carry ${n} certificates besides its default one (allowed: ${quota}, tenancy:certificatesPerListener)`);
    }
    return problems;
}

/** Reads the stack file, validates the config and every tenant of the stack. Throws a RegistryError with all problems. */
export function loadRegistry(opts: { root: string; stack: string; tenantsDir?: string }): Registry & { notices: Problem[] } {
    const { stackFile, problems } = readStackFile(opts.root, opts.stack);
    if (!stackFile) throw new RegistryError(problems);
    const { config, problems: configProblems } = validateStackConfig(stackFile.values, {
        stack: opts.stack, region: stackFile.region, file: stackFile.file, source: stackFile.source,
    });
    if (!config) throw new RegistryError(configProblems);
    const { tenants, problems: tenantProblems, notices } = loadTenants(opts.root, opts.tenantsDir ?? config.tenantsDir, config);
    if (tenantProblems.length) throw new RegistryError(tenantProblems, notices);
    return { config, tenants, notices };
}
