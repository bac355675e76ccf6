/**
 * The privileges the program declares for the tenant's schema on its placement, from move/privileges.ts (the same
 * statements the move gives a target): a cell's (TenantDatabase: group role, reporting role) or an instance's (the role
 * manager's). The roles exist already (the program made them), so nothing is created; the admin's membership in the
 * owner role is the restore's own business (restore/owner.ts), so the plan's GRANT of it is left out.
 */
import { privilegePlan, type TargetFacts } from "../move/privileges";
import { ident } from "../move/connect";
import { REPORTING_ROLE } from "../components/naming";

export interface DeclaredPrivileges {
    /** Before the schema's objects exist: the schema's own grants and the owner's default privileges. */
    before: string[];
    /** After: grants on every table, sequence and function restored. */
    after: string[];
}

/** The declared privileges of the tenant's schema on its placement, database-level grants of an instance included (for the swap). */
export function declaredPrivileges(p: { schema: string; ownerRole: string; runtimeRole: string; facts: TargetFacts }): DeclaredPrivileges {
    const plan = privilegePlan({ ...p, facts: { ...p.facts, existingRoles: [p.ownerRole, p.runtimeRole], schemaExists: true }, source: [] });
    const membership = `GRANT ${ident(p.ownerRole)} TO ${ident(p.facts.admin)};`;
    return { before: plan.before.filter((s) => s !== membership), after: [...plan.after] };
}

/**
 * A side schema's privileges while it is only a copy: the owner's alone (no USAGE, grants or default privileges for
 * the runtime or reporting role: the app must not write to a copy, and the nightly dump, reading through the reporting
 * role, must not read the tenant twice); functions without PUBLIC EXECUTE as declared. The swap applies the declared
 * privileges (declaredPrivileges) in its transaction.
 */
export function copyPrivileges(p: { schema: string; ownerRole: string }): DeclaredPrivileges {
    const [s, o] = [ident(p.schema), ident(p.ownerRole)];
    return {
        before: [`REVOKE ALL ON SCHEMA ${s} FROM PUBLIC;`, `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;`],
        after: [`REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} FROM PUBLIC;`],
    };
}

/**
 * What the swap takes from the schema it replaces (kept, the owner's): every privilege of the runtime role and, on a
 * cell, of the reporting role, on the schema, its objects and in its default privileges (keyed by the schema's OID,
 * so they stay with it through the rename).
 */
export function revokeFromReplaced(p: { schema: string; ownerRole: string; runtimeRole: string; facts: TargetFacts }): string[] {
    const [s, o] = [ident(p.schema), ident(p.ownerRole)];
    const roles = [ident(p.runtimeRole), ...(p.facts.placement === "shared" && p.facts.reportingRole ? [ident(REPORTING_ROLE)] : [])].join(", ");
    return [
        `REVOKE ALL ON SCHEMA ${s} FROM ${roles};`,
        `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${roles};`,
        `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${s} FROM ${roles};`,
        `REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${s} FROM ${roles};`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} REVOKE ALL ON TABLES FROM ${roles};`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} REVOKE ALL ON SEQUENCES FROM ${roles};`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} REVOKE ALL ON FUNCTIONS FROM ${roles};`,
    ];
}
