import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import { OWNER_CONNECTION_LIMIT } from "../tenants/capacity";
import { credentialsSecret } from "./credentialsSecret";
import type { Tenant } from "../tenants/registry";
import { hasPostgresqlProvider, NO_ROLE_POWERS } from "./databaseHardening";
import { secretRecoveryWindowDays, tenantOwnerRoleName, tenantRuntimeRoleName, tenantSchemaName, tenantSecretName } from "./naming";

export { OWNER_CONNECTION_LIMIT } from "../tenants/capacity";
/** A runtime session idle inside a transaction longer than this (ms) is terminated: it holds locks and a connection. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

export interface TenantDatabaseArgs {
    /** The shared tenant: slug (names), status (login), database.connectionLimit and statementTimeoutSeconds. */
    tenant: Tenant;
    /** Stack name, part of the secrets' names. */
    stack: string;
    /** The application database of the shared cluster. */
    databaseName: string;
    /** Host written into the secrets (the cluster's writer endpoint, not an admin tunnel). */
    host: pulumi.Input<string>;
    /** Port written into the secrets. */
    port: pulumi.Input<number>;
    /** The cell's NOLOGIN group role (`tenancy_tenants`, DatabaseHardening's): the tenant's roles join it to CONNECT. */
    groupRoleName: pulumi.Input<string>;
    /**
     * The cell's read-only reporting role (`tenancy_reporting`): gets USAGE and SELECT on the schema's tables and sequences
     * (default privileges, and a grant on the sequences already there). The schema dump job's role is its member.
     */
    reportingRoleName: pulumi.Input<string>;
    /** KMS key (ARN or id) encrypting the two credentials secrets. */
    secretKmsKeyId: pulumi.Input<string>;
    /** Protect the schema, the roles, the passwords and the secrets from deletion. */
    protect: boolean;
    /** Tags of every taggable child (the secrets); the caller includes the tenant's ownership tags. */
    tags: Record<string, string>;
    /** The placement's label (tenants/moves.ts), part of the secrets' names: "" for a tenant that never moved. Defaults to "". */
    label?: string;
    /**
     * The placement is a finished move's source (its verified receipt is committed): its roles lose LOGIN and nothing
     * is protected in Pulumi, so removing `move:` deletes it, the schema with CASCADE (its rows are on the target, as
     * the receipt proves). The secrets keep the stack's recovery window. Defaults to false.
     */
    retiring?: boolean;
    /**
     * The placement is the source of a declared move not yet cut over: the move's cutover sets its roles NOLOGIN
     * (writes stop there for good), which a `pulumi refresh` followed by `up` must not undo. Defaults to false.
     */
    moveSource?: boolean;
}

/**
 * A shared tenant on the shared cluster, through the cluster's `postgresql.Provider` (in `opts.provider`): schema
 * `t_<slug>` owned by `t_<slug>_owner` (migrations), the runtime role `t_<slug>_app` with data access only, read access
 * for the reporting role, and both credentials in Secrets Manager. Suspended or offboarded tenants keep their data; their
 * roles lose LOGIN. The schema is never dropped with CASCADE, except as a finished move's retiring source.
 */
export class TenantDatabase extends pulumi.ComponentResource {
    readonly schemaName: pulumi.Output<string>;
    readonly ownerRoleName: pulumi.Output<string>;
    readonly runtimeRoleName: pulumi.Output<string>;
    /** Secret `tenancy/<stack>/<slug>/db-runtime`: JSON {engine, host, port, dbname, username, password, schema}. */
    readonly runtimeSecretArn: pulumi.Output<string>;
    /** Secret `tenancy/<stack>/<slug>/db-owner`, same shape, for migrations. */
    readonly ownerSecretArn: pulumi.Output<string>;

    constructor(name: string, args: TenantDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        const { tenant } = args;
        if (tenant.tier !== "shared") {
            throw new Error(`TenantDatabase ${name}: tenant '${tenant.slug}' is ${tenant.tier} (allowed: shared)`);
        }
        if (!hasPostgresqlProvider(opts)) {
            throw new Error(`TenantDatabase ${name}: pass the shared cluster's postgresql.Provider as opts.provider`);
        }
        super("tenancy:tenant:TenantDatabase", name, {}, opts);

        const db = args.databaseName;
        const schemaName = tenantSchemaName(tenant.slug);
        const retiring = args.retiring ?? false;
        const active = tenant.status === "active" && !retiring;
        const stateful = { parent: this, protect: args.protect && !retiring };
        // A component's dependsOn does not reach its children: the roles (which everything else follows) wait for the
        // caller's dependencies (in a single stack, the cell's writer and hardening).
        const afterHardening: pulumi.CustomResourceOptions = {
            ...stateful, dependsOn: opts?.dependsOn, ...(args.moveSource ? { ignoreChanges: ["login"] } : {}),
        };

        const ownerPassword = new random.RandomPassword(`${name}-owner-password`, { length: 40, special: false }, stateful);
        const owner = new postgresql.Role(
            `${name}-owner`,
            {
                name: tenantOwnerRoleName(tenant.slug),
                login: active,
                password: ownerPassword.result,
                roles: [args.groupRoleName],
                searchPaths: [schemaName],
                connectionLimit: OWNER_CONNECTION_LIMIT,
                ...NO_ROLE_POWERS,
            },
            afterHardening,
        );

        const schema = new postgresql.Schema(
            `${name}-schema`,
            { name: schemaName, database: db, owner: owner.name, dropCascade: retiring, ifNotExists: false },
            stateful,
        );

        const runtimePassword = new random.RandomPassword(`${name}-runtime-password`, { length: 40, special: false }, stateful);
        const runtime = new postgresql.Role(
            `${name}-runtime`,
            {
                name: tenantRuntimeRoleName(tenant.slug),
                login: active,
                password: runtimePassword.result,
                roles: [args.groupRoleName],
                searchPaths: [schemaName],
                connectionLimit: tenant.database.connectionLimit,
                statementTimeout: tenant.database.statementTimeoutSeconds * 1000,
                idleInTransactionSessionTimeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
                ...NO_ROLE_POWERS,
            },
            afterHardening,
        );

        // Grants touching the same catalog row at once fail with "tuple concurrently updated", and for each of these the
        // provider may briefly GRANT the owner role to itself; so this tenant's privileges run one after another, each
        // after the schema and the roles. Tenants still run in parallel: they share no row.
        let previous: pulumi.Resource | undefined;
        const chained = (): pulumi.CustomResourceOptions => ({ parent: this, dependsOn: [schema, owner, runtime, ...(previous ? [previous] : [])] });
        const grant = (suffix: string, grantArgs: postgresql.GrantArgs): void => {
            previous = new postgresql.Grant(`${name}-${suffix}`, grantArgs, chained());
        };
        const defaults = (suffix: string, dpArgs: postgresql.DefaultPrivilegesArgs): void => {
            previous = new postgresql.DefaultPrivileges(`${name}-${suffix}`, dpArgs, chained());
        };
        const inSchema = { database: db, schema: schema.name };
        const byOwner = { database: db, owner: owner.name };
        const reportingRole = args.reportingRoleName;

        // The schema only: it is created here, empty, so every table in it comes later and gets its privileges from the
        // default privileges below (a grant on the tables already in it would grant nothing).
        grant("runtime-schema-usage", { ...inSchema, role: runtime.name, objectType: "schema", privileges: ["USAGE"] });
        grant("reporting-schema-usage", { ...inSchema, role: reportingRole, objectType: "schema", privileges: ["USAGE"] });

        // What the owner (migrations) creates in the schema later: one row per (owner, schema, object type).
        defaults("runtime-default-tables", {
            ...byOwner, schema: schema.name, role: runtime.name, objectType: "table", privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"],
        });
        defaults("reporting-default-tables", {
            ...byOwner, schema: schema.name, role: reportingRole, objectType: "table", privileges: ["SELECT"],
        });
        defaults("runtime-default-sequences", {
            ...byOwner, schema: schema.name, role: runtime.name, objectType: "sequence", privileges: ["USAGE", "SELECT"],
        });
        // pg_dump reads each sequence's state (SELECT last_value): without it the schema dump job (a member of the
        // reporting role) fails. A sequence reveals no more than the tables reporting already reads.
        defaults("reporting-default-sequences", {
            ...byOwner, schema: schema.name, role: reportingRole, objectType: "sequence", privileges: ["SELECT"],
        });
        // Schemas made before the defaults above already hold sequences; in a new, empty schema this grants nothing.
        grant("reporting-sequences-select", { ...inSchema, role: reportingRole, objectType: "sequence", privileges: ["SELECT"] });
        // Only the schema-less form can take away PostgreSQL's built-in EXECUTE for PUBLIC on new functions.
        defaults("no-public-functions", { ...byOwner, role: "public", objectType: "function", privileges: [] });

        const credentials = (purpose: "db-runtime" | "db-owner", role: postgresql.Role, password: random.RandomPassword) =>
            credentialsSecret(`${name}-${purpose}-secret`, {
                secretName: tenantSecretName(args.stack, tenant.slug, purpose, args.label),
                description: `${purpose === "db-runtime" ? "Runtime" : "Migration (schema owner)"} credentials of tenant ${tenant.slug} on ${db}`,
                kmsKeyId: args.secretKmsKeyId,
                tags: args.tags,
                host: args.host,
                port: args.port,
                dbname: db,
                username: role.name,
                password: password.result,
                schema: schema.name,
            }, { ...stateful, recoveryWindowInDays: secretRecoveryWindowDays(args.protect) });
        const runtimeSecret = credentials("db-runtime", runtime, runtimePassword);
        const ownerSecret = credentials("db-owner", owner, ownerPassword);

        this.schemaName = schema.name;
        this.ownerRoleName = owner.name;
        this.runtimeRoleName = runtime.name;
        this.runtimeSecretArn = runtimeSecret.arn;
        this.ownerSecretArn = ownerSecret.arn;
        this.registerOutputs({
            schemaName: this.schemaName,
            ownerRoleName: this.ownerRoleName,
            runtimeRoleName: this.runtimeRoleName,
            runtimeSecretArn: this.runtimeSecretArn,
            ownerSecretArn: this.ownerSecretArn,
        });
    }
}
