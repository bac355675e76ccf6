/** Debian's PostgreSQL 15 servers for the move tests: see {@link startPg15} in tools/pgServer.ts (shared with the bench). */
export { ADMIN_ROLE, APP_DATABASE, hasPg15, PG15_BIN, startPg15, type Pg15Options, type Pg15Server } from "../../tools/pgServer";
