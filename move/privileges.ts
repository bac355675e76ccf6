/**
 * The tenant's roles, schema and privileges on the TARGET, as the program declares them for that placement:
 * - shared (a cell): what components/tenantDatabase.ts declares: both roles members of the cell's `tenancy_tenants`
 *   group (which alone holds CONNECT), schema owned by the owner, USAGE and default DML for the runtime role, USAGE and
 *   default SELECT (tables and sequences) for `tenancy_reporting` where that role exists ON THE TARGET, no EXECUTE for PUBLIC on new functions;
 * - instance (hybrid/dedicated): what the role manager applies (components/roleManager/handler.ts `applyRoles`),
 *   minus passwords (the role manager sets them from the placement's secrets): CONNECT for both roles only, search
 *   paths, the runtime role's idle timeout, the same default privileges, and PUBLIC without access to the database.
 * Never a role that exists only on the source. Roles that exist on the target (declared by the stack) are used as they
 * are; missing ones are created (and recorded, so abort removes exactly them), taking login, connection limit and
 * statement timeout from the source's roles.
 */
import type { Client } from "pg";
import { IDLE_IN_TRANSACTION_TIMEOUT_MS } from "../components/roleManager/handler";
import { OWNER_CONNECTION_LIMIT } from "../tenants/capacity";
import { REPORTING_ROLE, TENANTS_GROUP_ROLE } from "../components/naming";
import { ident, literal } from "./connect";

/** What prepare learns about the target before changing it. */
export interface TargetFacts {
    database: string;
    /** The admin user (it becomes a member of the owner role, to create objects and set default privileges as it). */
    admin: string;
    placement: "shared" | "instance";
    existingRoles: string[];
    /** `tenancy_tenants` exists: a cell hardened by the program. */
    groupRole: boolean;
    /** `tenancy_reporting` exists on the target. */
    reportingRole: boolean;
    schemaExists: boolean;
}

/** The source's tenant roles, copied to roles prepare creates on the target. */
export interface SourceRole {
    name: string;
    login: boolean;
    connectionLimit: number;
    /** `statement_timeout` set on the role (ms as text, e.g. "30000" or "30s"), if any. */
    statementTimeout?: string;
}

/** Facts of the target, read as the admin. */
export async function targetFacts(client: Client, roles: string[], schema: string, placement?: "shared" | "instance"): Promise<TargetFacts> {
    const { rows } = await client.query(
        `SELECT current_database() AS db, current_user AS me,
                ARRAY(SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY($1)) AS existing,
                EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $2) AS grp,
                EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $2) AND pg_catalog.has_database_privilege($2, current_database(), 'CONNECT') AS cell,
                EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $3) AS reporting,
                EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $4) AS schema_exists`,
        [roles, TENANTS_GROUP_ROLE, REPORTING_ROLE, schema],
    );
    const r = rows[0]!;
    return {
        database: r["db"] as string,
        admin: r["me"] as string,
        // A cell admits its tenants through the group role (roles are cluster-wide: its CONNECT here counts).
        placement: placement ?? (r["cell"] ? "shared" : "instance"),
        existingRoles: r["existing"] as string[],
        groupRole: r["grp"] as boolean,
        reportingRole: r["reporting"] as boolean,
        schemaExists: r["schema_exists"] as boolean,
    };
}

/** The source's owner and runtime roles (login, connection limit, statement timeout), read as the admin. */
export async function sourceRoles(client: Client, roles: string[]): Promise<SourceRole[]> {
    const { rows } = await client.query(
        `SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolconnlimit AS connlimit,
                (SELECT substring(c FROM '^statement_timeout=(.*)$') FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) c
                  WHERE s.setrole = r.oid AND s.setdatabase = 0 AND c LIKE 'statement_timeout=%') AS timeout
           FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1)`,
        [roles],
    );
    return rows.map((r) => ({ name: r["name"] as string, login: r["login"] as boolean, connectionLimit: r["connlimit"] as number, statementTimeout: (r["timeout"] as string | null) ?? undefined }));
}

export interface PrivilegePlan {
    /** Roles this plan creates (abort drops exactly these). */
    createdRoles: string[];
    createdSchema: boolean;
    /** Statements before the DDL, as the admin. */
    before: string[];
    /** Statements after the DDL, as the admin: access to objects restored from the dump. */
    after: string[];
}

/**
 * The SQL that gives the target the tenant's roles, schema and privileges as declared for its placement. Pure: facts in,
 * statements out (tests read it; prepare runs it in the same transaction as the DDL).
 */
export function privilegePlan(p: { schema: string; ownerRole: string; runtimeRole: string; facts: TargetFacts; source: SourceRole[] }): PrivilegePlan {
    const { facts, schema, ownerRole, runtimeRole } = p;
    const [s, o, r] = [ident(schema), ident(p.ownerRole), ident(p.runtimeRole)];
    const shared = facts.placement === "shared";
    const before: string[] = [];
    const createdRoles: string[] = [];
    for (const role of [ownerRole, runtimeRole]) {
        if (facts.existingRoles.includes(role)) continue;
        const src = p.source.find((x) => x.name === role);
        // Login as on the source (no password: the placement's secrets set it); the owner's limit is the program's.
        const limit = shared && role === ownerRole ? OWNER_CONNECTION_LIMIT : (src?.connectionLimit ?? -1);
        before.push(`CREATE ROLE ${ident(role)} ${src?.login === false ? "NOLOGIN" : "LOGIN"} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT ${limit};`);
        before.push(`ALTER ROLE ${ident(role)} SET search_path TO ${s};`);
        if (role === runtimeRole) {
            if (src?.statementTimeout) before.push(`ALTER ROLE ${r} SET statement_timeout TO ${literal(src.statementTimeout)};`);
            before.push(`ALTER ROLE ${r} SET idle_in_transaction_session_timeout TO ${IDLE_IN_TRANSACTION_TIMEOUT_MS};`);
        }
        if (shared && facts.groupRole) before.push(`GRANT ${ident(TENANTS_GROUP_ROLE)} TO ${ident(role)};`);
        createdRoles.push(role);
    }
    // The admin acts as the owner: creates its schema objects and sets its default privileges (PG15 CREATEROLE may).
    before.push(`GRANT ${o} TO ${ident(facts.admin)};`);
    if (!facts.schemaExists) before.push(`CREATE SCHEMA ${s} AUTHORIZATION ${o};`);
    before.push(`REVOKE ALL ON SCHEMA ${s} FROM PUBLIC;`);
    before.push(`GRANT USAGE ON SCHEMA ${s} TO ${r};`);
    const reporting = shared && facts.reportingRole;
    if (reporting) before.push(`GRANT USAGE ON SCHEMA ${s} TO ${ident(REPORTING_ROLE)};`);
    before.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r};`);
    if (reporting) before.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${ident(REPORTING_ROLE)};`);
    before.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${r};`);
    // TenantDatabase's reporting-default-sequences: the cell's nightly schema dumps (tenancy_backup, a member of the
    // reporting role) read every sequence's state.
    if (reporting) before.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT SELECT ON SEQUENCES TO ${ident(REPORTING_ROLE)};`);
    before.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;`);
    const db = ident(facts.database);
    if (!shared) {
        // The role manager's database-level state: only the tenant's roles may connect.
        before.push(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`);
        before.push(`GRANT CONNECT ON DATABASE ${db} TO ${o}, ${r};`);
    } else if (!facts.groupRole) {
        // A cell not (yet) hardened by the program: the roles connect directly; never through PUBLIC.
        before.push(`GRANT CONNECT ON DATABASE ${db} TO ${o}, ${r};`);
    }
    // Objects restored from the dump are created by the owner after the defaults, so these add nothing where the defaults
    // applied; they make a declared-schema target that predates its defaults end up the same (as the role manager does).
    const after = [`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r};`, `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};`];
    if (reporting) after.push(`GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${ident(REPORTING_ROLE)};`, `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${ident(REPORTING_ROLE)};`);
    // Functions restored from the dump: nothing for PUBLIC, as the owner's default privileges declare.
    after.push(`REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} FROM PUBLIC;`);
    return { createdRoles, createdSchema: !facts.schemaExists, before, after };
}
