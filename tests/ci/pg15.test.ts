import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPg15, startPg15, type Pg15Server } from "../support/pg15";

// The move tests need PostgreSQL 15's server, pg_dump and psql; .ci/run installs them. Without them this fails the
// suite rather than letting those tests be skipped into a green run.
describe("PostgreSQL 15 for the move tests", () => {
    let server: Pg15Server;
    beforeAll(async () => {
        expect(hasPg15(), "apt-get install -y postgresql-15 postgresql-client-15 (README: running the tests)").toBe(true);
        server = await startPg15();
    });
    afterAll(async () => server?.stop());

    it("is version 15 with logical WAL, and its admin is an RDS-like master, not a superuser", async () => {
        const admin = await server.admin();
        try {
            const { rows } = await admin.query(
                `SELECT current_setting('server_version_num')::int / 10000 AS major, current_setting('wal_level') AS wal,
                        r.rolsuper, r.rolreplication, r.rolcreaterole, pg_has_role('pg_signal_backend', 'MEMBER') AS signal,
                        (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS owner
                   FROM pg_roles r WHERE r.rolname = current_user`,
            );
            expect(rows[0]).toEqual({ major: 15, wal: "logical", rolsuper: false, rolreplication: true, rolcreaterole: true, signal: true, owner: "admin" });
            // What only a superuser may do stays refused, as on RDS.
            await expect(admin.query("CREATE EXTENSION IF NOT EXISTS file_fdw")).rejects.toThrow(/permission denied|must be superuser|must have CREATE/i);
        } finally {
            await admin.end();
        }
    });
});
