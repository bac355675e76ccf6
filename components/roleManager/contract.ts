/**
 * What the deploy (roleManager.ts) and the function (handler.ts) agree on. Free of `pg` and AWS, so the Pulumi program
 * imports it without loading the function's dependencies.
 *
 * The target and the roles are the function's configuration (environment variables, set by the deploy), never part of
 * an invocation: whoever may invoke the function must not be able to point it, and the master password, elsewhere.
 */
import { createHash } from "crypto";

/** Where the function connects and which roles it manages: fixed per function by the deploy. */
export interface RoleManagerConfig {
    /** Endpoint of the instance (its address, never a tunnel: the function runs in the VPC); the TLS server name. */
    host: string;
    port: number;
    /** The application database created with the instance. */
    database: string;
    /** Schema the app's objects live in, owned by `ownerRole`. */
    schema: string;
    /** Migrations: owns the schema and everything in it. */
    ownerRole: string;
    /** The app at runtime: data access in the schema only. */
    runtimeRole: string;
    /** RDS-managed master secret (JSON username/password): read here and nowhere else. */
    masterSecretArn: string;
    /** The roles' secrets (JSON with `password`), written by the deploy. */
    ownerSecretArn: string;
    runtimeSecretArn: string;
}

/** The environment variable of each configuration field. */
export const ROLE_MANAGER_ENV: { readonly [K in keyof RoleManagerConfig]: string } = {
    host: "TENANCY_DB_HOST",
    port: "TENANCY_DB_PORT",
    database: "TENANCY_DB_NAME",
    schema: "TENANCY_DB_SCHEMA",
    ownerRole: "TENANCY_OWNER_ROLE",
    runtimeRole: "TENANCY_RUNTIME_ROLE",
    masterSecretArn: "TENANCY_MASTER_SECRET_ARN",
    ownerSecretArn: "TENANCY_OWNER_SECRET_ARN",
    runtimeSecretArn: "TENANCY_RUNTIME_SECRET_ARN",
};

export const STATUSES = ["active", "suspended", "offboarded"] as const;

/**
 * An invocation's input: only what may vary from run to run. The hashes and versions are not read by the function;
 * they are there so that a change of any of them changes the input, which re-invokes it (CREATE_ONLY scope).
 */
export interface RoleManagerEvent {
    /** `active` lets both roles log in; `suspended` and `offboarded` take LOGIN away and end their sessions. */
    status: (typeof STATUSES)[number];
    /** Versions of the owner and runtime secrets: a new password re-runs the function. */
    secretVersions?: { owner: string; runtime: string };
    /** The function's code hash: new code re-runs it. */
    handlerSha256?: string;
    /** {@link configSha256} of the function's environment: a new target or new role names re-run it. */
    configSha256?: string;
}

/** Every key an event may have; any other is refused. */
export const EVENT_KEYS: readonly (keyof RoleManagerEvent)[] = ["status", "secretVersions", "handlerSha256", "configSha256"];

/** SHA-256 (hex) of environment variables, independent of their order. */
export function configSha256(variables: Record<string, string>): string {
    const sorted = Object.keys(variables).sort().map((k) => [k, variables[k]]);
    return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}
