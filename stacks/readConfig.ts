import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { formatProblem, SourceFile, RegistryError } from "../tenants/problems";
import { loadTenants, readStackFile, SECRET_PLACEHOLDER, validateStackConfig, type Registry } from "../tenants/registry";
import { CONFIG_NAMESPACE, SECRET_CONFIG_KEYS, StackConfigSchema, type StackConfig } from "./config";

/** Pulumi hands structured config to programs as JSON text; plain strings stay strings. */
function parseConfigValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** The stack file for locating problems, when it is a readable file; problems then name the key only. */
function readSource(file: string, abs: string): SourceFile | undefined {
    try {
        return fs.statSync(abs).isFile() ? new SourceFile(file, fs.readFileSync(abs, "utf8")) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Reads the stack's configuration through `pulumi.Config` (so `pulumi config set` and the offline plan both work),
 * validates it and the stack's tenant files. Throws a RegistryError with every problem; registers nothing.
 */
export function readStack(root: string): { registry: Registry; appSecretKey?: pulumi.Output<string> } {
    const stack = pulumi.getStack();
    // A fleet's cell and tenant stacks (`prod.cell-main`, `prod.tyrell`) have no stack file: they read the environment's.
    if (stack.includes(".")) return readEnvironmentStack(root, stack);
    const cfg = new pulumi.Config(CONFIG_NAMESPACE);
    const values: Record<string, unknown> = {};
    for (const key of StackConfigSchema.keyof().options) {
        if ((SECRET_CONFIG_KEYS as readonly string[]).includes(key)) continue;
        const raw = cfg.get(key);
        if (raw !== undefined) values[key] = parseConfigValue(raw);
    }
    let appSecretKey: pulumi.Output<string> | undefined;
    for (const key of SECRET_CONFIG_KEYS) {
        const secret = cfg.getSecret(key);
        if (secret !== undefined) {
            values[key] = SECRET_PLACEHOLDER;
            appSecretKey = secret;
        }
    }
    const file = `Pulumi.${stack}.yaml`;
    const abs = path.join(root, file);
    // The stack file, when present, only locates problems; the values come from Pulumi.
    const source = readSource(file, abs);
    const region = new pulumi.Config("aws").get("region");
    const { config, problems } = validateStackConfig(values, { stack, region, file, source });
    if (!config) throw new RegistryError(problems);
    const { tenants, problems: tenantProblems, notices } = loadTenants(root, config.tenantsDir, config);
    if (tenantProblems.length) throw new RegistryError(tenantProblems, notices);
    // A warning, not a note: an ignored `wonka.YAML` is most likely a tenant the user expects to see planned.
    for (const n of notices) void pulumi.log.warn(formatProblem(n));
    return { registry: { config, tenants, notices }, appSecretKey };
}

/**
 * The configuration of a fleet's cell or tenant stack: the environment's `Pulumi.<env>.yaml` read from the repository
 * (plain values; `secure:` ones are the platform stack's and stay placeholders), so `pulumi up -s prod.tyrell` needs no
 * stack file and no `pulumi config` of its own. Validated like any stack's, with the whole registry.
 */
function readEnvironmentStack(root: string, stack: string): { registry: Registry } {
    const env = stack.slice(0, stack.indexOf("."));
    const { stackFile, problems } = readStackFile(root, env);
    if (!stackFile) throw new RegistryError(problems);
    const { config, problems: configProblems } = validateStackConfig(stackFile.values, { stack, region: stackFile.region, file: stackFile.file, source: stackFile.source });
    if (!config) throw new RegistryError(configProblems);
    const { tenants, problems: tenantProblems, notices } = environmentTenants(root, config, stackFile.source.text);
    if (tenantProblems.length) throw new RegistryError(tenantProblems, notices);
    for (const n of notices) void pulumi.log.warn(formatProblem(n));
    return { registry: { config, tenants, notices } };
}

/** Validated tenants by root, directory and stack file text, while a registry snapshot is open (see {@link withRegistrySnapshot}). */
let snapshot: Map<string, ReturnType<typeof loadTenants>> | undefined;

/**
 * Runs `fn` with the tenant files taken as a snapshot: a fleet's cell and tenant stacks recorded inside it validate each
 * environment's whole registry once, not once per stack. For the offline plan, which records every stack of one
 * checkout (1000 tenant stacks each validating 1000 tenant files made planning a fleet quadratic). Nested calls share
 * the outer snapshot; it is dropped when the outermost call ends, so the next plan reads the files again.
 */
export async function withRegistrySnapshot<T>(fn: () => Promise<T>): Promise<T> {
    if (snapshot !== undefined) return fn();
    snapshot = new Map();
    try {
        return await fn();
    } finally {
        snapshot = undefined;
    }
}

/** Opens a snapshot for the rest of this process (a plan worker, which lives for one plan). */
export function openRegistrySnapshot(): void {
    snapshot ??= new Map();
}

/** `loadTenants`, remembered inside a registry snapshot; outside one (a real `pulumi up`), read every time. */
function environmentTenants(root: string, config: StackConfig, stackFileText: string): ReturnType<typeof loadTenants> {
    if (snapshot === undefined) return loadTenants(root, config.tenantsDir, config);
    const key = `${path.resolve(root, config.tenantsDir)}\0${stackFileText}`;
    let loaded = snapshot.get(key);
    if (loaded === undefined) snapshot.set(key, (loaded = loadTenants(root, config.tenantsDir, config)));
    return loaded;
}
