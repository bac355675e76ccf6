import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import { BACKUP_CONNECTION_LIMIT, REPORTING_CONNECTION_LIMIT } from "../tenants/capacity";
import { credentialsSecret } from "./credentialsSecret";
import { BACKUP_ROLE, REPORTING_ROLE, TENANTS_GROUP_ROLE, tenantSecretName } from "./naming";

/** Maintenance database every PostgreSQL cluster has; tenants must not connect to it. */
export const MAINTENANCE_DATABASE = "postgres";
/** Default template every cluster has: PUBLIC may CONNECT to it (and create TEMP tables) unless revoked. */
export const TEMPLATE_DATABASE = "template1";

/** Role attributes stated explicitly so no platform or tenant role can create roles or databases or bypass RLS. */
export const NO_ROLE_POWERS = { createDatabase: false, createRole: false, superuser: false, replication: false, bypassRowLevelSecurity: false } as const;

export interface DatabaseHardeningArgs {
    /** The application database of the shared cluster, where tenant schemas live. */
    databaseName: string;
    /** Stack name, part of the reporting secret's name. */
    stack: string;
    /** Owner segment of the reporting secret's name, `tenancy/<stack>/<owner>/db-reporting`. Defaults to `platform` (cell `main`). */
    secretOwner?: string;
    /** KMS key (ARN or id) encrypting the reporting credentials secret. */
    secretKmsKeyId: pulumi.Input<string>;
    /** Host written into the reporting secret (the cluster's writer endpoint, not an admin tunnel). */
    host: pulumi.Input<string>;
    /** Port written into the reporting secret. */
    port: pulumi.Input<number>;
    /** Protect the roles, the password and the secret from deletion. */
    protect: boolean;
    /** Tags of every taggable child (the secret). */
    tags: Record<string, string>;
}

/**
 * Whether options carry a PostgreSQL provider for this component's children. Without one the SDK would fall back to
 * the default provider, which connects to whatever `postgresql:*` config (or localhost) says.
 */
export function hasPostgresqlProvider(opts: pulumi.ComponentResourceOptions | undefined): boolean {
    if (postgresql.Provider.isInstance(opts?.provider)) return true;
    const providers = opts?.providers;
    if (!providers) return false;
    return Array.isArray(providers) ? providers.some((p) => postgresql.Provider.isInstance(p)) : postgresql.Provider.isInstance(providers["postgresql"]);
}

/**
 * Database-level hardening of the shared cluster, once per cluster, through the `postgresql.Provider` given in
 * `opts.provider` (inherited by every PostgreSQL child):
 * PUBLIC loses every privilege on the app database, on `postgres` and on `template1`, and CREATE on schema `public`;
 * the NOLOGIN group role `tenancy_tenants` alone holds CONNECT on the app database; the login role `tenancy_reporting`
 * (member of the group) gets its credentials in Secrets Manager, and so does the login role `tenancy_backup` of the
 * cell's schema dumps (a member of `tenancy_reporting`: it reads what reporting reads, tenant by tenant as TenantDatabase
 * grants it, and writes nothing). Tenant roles and grants must depend on {@link ready}.
 */
export class DatabaseHardening extends pulumi.ComponentResource {
    /** `tenancy_tenants`: every tenant role is a member; it alone may CONNECT to the app database. */
    readonly groupRoleName: pulumi.Output<string>;
    /** `tenancy_reporting`: read-only login role, granted SELECT per tenant schema by TenantDatabase. */
    readonly reportingRoleName: pulumi.Output<string>;
    /** Secret `tenancy/<stack>/<secretOwner>/db-reporting`: JSON {engine, host, port, dbname, username, password}. */
    readonly reportingSecretArn: pulumi.Output<string>;
    /** `tenancy_backup`: the schema dump job's login, a member of `tenancy_reporting` (read-only). */
    readonly backupRoleName: pulumi.Output<string>;
    /** Secret `tenancy/<stack>/<secretOwner>/db-backup`, same shape: injected into the dump task (components/backup/schemaDumps.ts). */
    readonly backupSecretArn: pulumi.Output<string>;
    /** What tenant resources depend on: the roles and every database-level grant. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: DatabaseHardeningArgs, opts?: pulumi.ComponentResourceOptions) {
        if (!hasPostgresqlProvider(opts)) {
            throw new Error(`DatabaseHardening ${name}: pass the shared cluster's postgresql.Provider as opts.provider`);
        }
        super("tenancy:database:DatabaseHardening", name, {}, opts);

        const db = args.databaseName;
        const stateful = { parent: this, protect: args.protect };
        // A component's dependsOn does not reach its children: whatever the caller waits for (the cluster's writer)
        // must come before any SQL runs.
        const sql = (extra: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions =>
            pulumi.mergeOptions({ parent: this, dependsOn: opts?.dependsOn }, extra);

        // The provider fails with "tuple concurrently updated" when two grants change the same catalog row at once,
        // so every grant here runs after the previous one.
        const grants: postgresql.Grant[] = [];
        const grant = (suffix: string, grantArgs: postgresql.GrantArgs): postgresql.Grant => {
            const previous = grants[grants.length - 1];
            const g = new postgresql.Grant(`${name}-${suffix}`, grantArgs, sql({ dependsOn: previous ? [previous] : [] }));
            grants.push(g);
            return g;
        };

        grant("app-db-revoke-public", { database: db, role: "public", objectType: "database", privileges: [] });
        grant("postgres-db-revoke-public", { database: MAINTENANCE_DATABASE, role: "public", objectType: "database", privileges: [] });
        grant("template1-db-revoke-public", { database: TEMPLATE_DATABASE, role: "public", objectType: "database", privileges: [] });
        // The provider revokes everything from PUBLIC on the schema, then grants USAGE back: CREATE is gone.
        grant("public-schema-usage-only", { database: db, schema: "public", role: "public", objectType: "schema", privileges: ["USAGE"] });

        const group = new postgresql.Role(
            `${name}-tenants-group`,
            {
                name: TENANTS_GROUP_ROLE,
                login: false,
                ...NO_ROLE_POWERS,
            },
            sql({ protect: args.protect }),
        );
        grant("tenants-connect", { database: db, role: group.name, objectType: "database", privileges: ["CONNECT"] });

        const password = new random.RandomPassword(`${name}-reporting-password`, { length: 40, special: false }, stateful);
        const reporting = new postgresql.Role(
            `${name}-reporting`,
            {
                name: REPORTING_ROLE,
                login: true,
                password: password.result,
                roles: [group.name],
                // Part of the platform's reserved connections; long reports must not block tenants' migrations.
                connectionLimit: REPORTING_CONNECTION_LIMIT,
                statementTimeout: 15 * 60 * 1000,
                ...NO_ROLE_POWERS,
            },
            sql({ protect: args.protect }),
        );

        const secret = credentialsSecret(`${name}-reporting-secret`, {
            secretName: tenantSecretName(args.stack, args.secretOwner ?? "platform", "db-reporting"),
            description: `Read-only reporting credentials of the shared database ${db}`,
            kmsKeyId: args.secretKmsKeyId,
            tags: args.tags,
            host: args.host,
            port: args.port,
            dbname: db,
            username: reporting.name,
            password: password.result,
        }, stateful);

        // The dump job reads through reporting's privileges (USAGE and SELECT per tenant schema, tables and sequences:
        // what pg_dump needs) rather than grants of its own per tenant; its own login keeps its password and limit apart.
        const backupPassword = new random.RandomPassword(`${name}-backup-password`, { length: 40, special: false }, stateful);
        const backup = new postgresql.Role(
            `${name}-backup`,
            {
                name: BACKUP_ROLE,
                login: true,
                password: backupPassword.result,
                roles: [reporting.name],
                // A snapshot session and pg_dump, one tenant at a time (tenants/capacity.ts); part of the reserved connections.
                connectionLimit: BACKUP_CONNECTION_LIMIT,
                ...NO_ROLE_POWERS,
            },
            sql({ protect: args.protect }),
        );
        const backupSecret = credentialsSecret(`${name}-backup-secret`, {
            secretName: tenantSecretName(args.stack, args.secretOwner ?? "platform", "db-backup"),
            description: `Schema dump (read-only) credentials of the shared database ${db}`,
            kmsKeyId: args.secretKmsKeyId,
            tags: args.tags,
            host: args.host,
            port: args.port,
            dbname: db,
            username: backup.name,
            password: backupPassword.result,
        }, stateful);

        this.groupRoleName = group.name;
        this.reportingRoleName = reporting.name;
        this.reportingSecretArn = secret.arn;
        this.backupRoleName = backup.name;
        this.backupSecretArn = backupSecret.arn;
        this.ready = [group, reporting, ...grants];
        this.registerOutputs({
            groupRoleName: this.groupRoleName,
            reportingRoleName: this.reportingRoleName,
            reportingSecretArn: this.reportingSecretArn,
            backupRoleName: this.backupRoleName,
            backupSecretArn: this.backupSecretArn,
        });
    }
}
