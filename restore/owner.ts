/**
 * The admin acts as the tenant's owner role only while it needs to, as the program's PostgreSQL provider and role
 * manager do on RDS/Aurora (the master user is not a superuser): the membership is granted inside the transaction that
 * needs it and revoked before its commit, so a kill never leaves it behind. A membership the admin already had is
 * kept as it was.
 */
import type { Client } from "pg";
import { ident } from "../move/connect";

/** The admin may use the owner's privileges now (PostgreSQL 16's implicit ADMIN OPTION alone does not count). */
export async function isMember(client: Client, ownerRole: string): Promise<boolean> {
    const { rows } = await client.query("SELECT pg_catalog.pg_has_role(current_user, $1, 'USAGE') AS m", [ownerRole]);
    return rows[0]!["m"] === true;
}

/** Runs `fn` in one transaction as a member of `ownerRole`; rolls back on any error. */
export async function inOwnerTransaction<T>(client: Client, ownerRole: string, fn: () => Promise<T>): Promise<T> {
    await client.query("BEGIN");
    try {
        const member = await isMember(client, ownerRole);
        if (!member) await client.query(`GRANT ${ident(ownerRole)} TO CURRENT_USER`);
        const result = await fn();
        if (!member) await client.query(`REVOKE ${ident(ownerRole)} FROM CURRENT_USER`);
        await client.query("COMMIT");
        return result;
    } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}

/** A committed membership, for another session (pg_dump): true when granted here (the caller revokes it). */
export async function grantOwner(client: Client, ownerRole: string): Promise<boolean> {
    if (await isMember(client, ownerRole)) return false;
    await client.query(`GRANT ${ident(ownerRole)} TO CURRENT_USER`);
    return true;
}
