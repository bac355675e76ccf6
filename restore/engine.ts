/**
 * `npm run restore`: one tenant's schema from a dump (or a point-in-time clone, dumped here) into a side schema
 * `<schema>_restore_<ts>` on the tenant's placement, and on `--swap` made the tenant's schema, the former one kept as
 * `<schema>_replaced_<ts>`. Nothing of another tenant is read or changed: every statement names the tenant's schema,
 * its side schemas or its roles.
 *
 * Re-runnable after a kill at any point: the restore commits in one transaction (restore/load.ts), its state lives in
 * the side schema's comment (restore/state.ts), and every run first puts right what a killed run left: an unchecked
 * side schema is dropped and restored again, logins a swap took are given back, a swap killed after its commit is
 * finished. The tenant's schema is never missing (the renames of a swap are one transaction) and its roles are never
 * left NOLOGIN by a run that ends (a killed one: the next run, or README's command, gives them back).
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { Client } from "pg";
import { connect, ident, serverMajor } from "../move/connect";
import { restoreLogins, stopWrites } from "../move/cutover";
import { tenantTables } from "../move/catalog";
import { targetFacts, type TargetFacts } from "../move/privileges";
import { replicationName, STATE_SCHEMA } from "../move/state";
import { MoveError, type Endpoint } from "../move/types";
import { digestProblems, manifestProblems, schemaDigest } from "./digest";
import { dumpSource, fileProblems, lockBudgetProblem, manifestPath, tocLocks, readManifest, readToc, sha256, type DumpToc, type Manifest } from "./dump";
import { load } from "./load";
import { inOwnerTransaction, isMember } from "./owner";
import { copyPrivileges, declaredPrivileges, revokeFromReplaced } from "./privileges";
import { commentSql, restoreSchemas, stampedName, type RestoreState, type SchemaEntry } from "./state";
import { requireTool } from "./tools";
import { RestoreError, type RestoreContext, type RestoreResult, type SchemaDigest } from "./types";

/** A MoveError of a reused piece (connect, stopWrites) is the same kind of failure for the operator. */
async function asRestoreError<T>(fn: () => Promise<T>): Promise<T> {
    try {
        return await fn();
    } catch (err) {
        if (err instanceof MoveError) throw new RestoreError(err.message, err.exitCode, err.problems);
        throw err;
    }
}

/**
 * The target must be the tenant's placement for its tier: its roles exist (the program made them), and it is a cell
 * (its `tenancy_tenants` group may connect) exactly when the tenant is shared. Returns the facts the privileges need.
 */
async function placementFacts(client: Client, ctx: RestoreContext): Promise<TargetFacts> {
    const facts = await targetFacts(client, [ctx.ownerRole, ctx.runtimeRole], ctx.schema);
    const missing = [ctx.ownerRole, ctx.runtimeRole].filter((r) => !facts.existingRoles.includes(r));
    if (missing.length) {
        throw new RestoreError(`tenant ${ctx.tenant} is not on ${ctx.target.label}: its role${missing.length > 1 ? "s" : ""} ${missing.join(", ")} do${missing.length > 1 ? "" : "es"} not exist there (allowed: the admin URL of the tenant's cell or instance, whose roles the program created)`, 1);
    }
    const want = ctx.tier === "shared" ? "shared" : "instance";
    if (facts.placement !== want) {
        throw new RestoreError(
            `--target ${ctx.target.label} is ${facts.placement === "shared" ? "a shared cell (its tenancy_tenants group may connect)" : "not a shared cell (no tenancy_tenants group may connect)"}, but tenant ${ctx.tenant} is ${ctx.tier} (allowed: the tenant's own placement)`,
            1,
        );
    }
    return { ...facts, placement: want };
}

/**
 * A move of the tenant under way on the target (its publication or slot, the move's source; its state row, the move's
 * target) would go on with the replaced schema's tables (publications hold tables by OID) or be overwritten by the
 * move's apply: refused before anything changes.
 */
async function refuseDuringMove(client: Client, ctx: RestoreContext): Promise<void> {
    const name = replicationName(ctx.tenant);
    const { rows } = await client.query(
        `SELECT ARRAY_REMOVE(ARRAY[
                  CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_publication WHERE pubname = $1) THEN 'publication ' || $1 END,
                  CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_replication_slots WHERE slot_name = $1) THEN 'replication slot ' || $1 END,
                  CASE WHEN pg_catalog.to_regclass($2) IS NOT NULL THEN 'state' END], NULL) AS found`,
        [name, `${STATE_SCHEMA}.moves`],
    );
    const found = (rows[0]!["found"] as string[]).filter((f) => f !== "state");
    if ((rows[0]!["found"] as string[]).includes("state")) {
        const state = await client.query(`SELECT phase FROM ${STATE_SCHEMA}.moves WHERE tenant = $1 AND phase <> 'finished'`, [ctx.tenant]).catch(() => ({ rows: [] }));
        if (state.rows.length) found.push(`${STATE_SCHEMA}.moves (phase ${state.rows[0]!["phase"] as string})`);
    }
    if (found.length) throw new RestoreError(`tenant ${ctx.tenant} is being moved (${found.join(", ")} on ${ctx.target.label}): finish or abort the move first (npm run move -- --phase finish|abort)`, 1);
}

async function rolesLogin(client: Client, roles: string[]): Promise<Record<string, boolean>> {
    const { rows } = await client.query("SELECT rolname, rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = ANY($1)", [roles]);
    return Object.fromEntries(rows.map((r) => [r["rolname"] as string, r["rolcanlogin"] as boolean]));
}

const setComment = (client: Client, ctx: RestoreContext, schema: string, state: RestoreState | null): Promise<unknown> =>
    inOwnerTransaction(client, ctx.ownerRole, () => client.query(commentSql(schema, state)));

/** Puts right what a killed run left (see the module's comment); returns what it did, for the operator. */
async function recover(client: Client, ctx: RestoreContext, origin: string): Promise<string[]> {
    const done: string[] = [];
    const { live, sides } = await restoreSchemas(client, ctx.schema);
    if (live?.state?.phase === "swapped") {
        await restoreLogins(client, live.state.logins ?? {});
        await setComment(client, ctx, ctx.schema, null);
        done.push(`a swap killed after its commit: ${ctx.schema} is the copy restored from ${live.state.from} (the former schema is ${live.state.replaced ?? "gone"}); the tenant's logins are back`);
    }
    for (const side of sides) {
        const s = side.state;
        if (s?.phase === "loaded") {
            // Committed but never checked: not trusted, restored again.
            await inOwnerTransaction(client, ctx.ownerRole, () => client.query(`DROP SCHEMA ${ident(side.name)} CASCADE`));
            done.push(`dropped ${side.name}: a restore killed before its check`);
        } else if (s?.phase === "stopping" && !(ctx.mode === "swap" && s.origin === origin)) {
            await restoreLogins(client, s.logins ?? {});
            const { logins: _, ...rest } = s;
            await setComment(client, ctx, side.name, { ...rest, phase: "restored" });
            done.push(`a swap of ${side.name} killed after stopping writes: nothing was swapped; the tenant's logins are back`);
        }
    }
    for (const d of done) ctx.progress(d);
    return done;
}

interface Prepared {
    origin: string;
    from: string;
    toc?: DumpToc;
    manifest?: Manifest;
}

/** Checks a dump file without any server: readable, an archive of exactly the tenant's schema, its manifest. */
async function prepareDump(ctx: RestoreContext, file: string): Promise<Prepared> {
    const problems = fileProblems(file);
    if (problems.length) throw new RestoreError(`cannot read the dump`, 1, problems);
    const toc = await readToc(file, ctx.tenant, ctx.schema);
    const mp = manifestPath(file);
    const manifest = mp ? readManifest(mp, ctx.tenant, ctx.schema) : undefined;
    return { origin: `dump sha256:${await sha256(file)}`, from: file, toc, ...(manifest ? { manifest } : {}) };
}

/** Refused before anything changes: a restore transaction that would take too much of the lock table all tenants share. */
async function refuseLockHog(client: Client, ctx: RestoreContext, toc: DumpToc): Promise<void> {
    const { rows } = await client.query(
        `SELECT current_setting('max_locks_per_transaction')::int AS l, current_setting('max_connections')::int AS c,
                current_setting('max_prepared_transactions')::int AS p`,
    );
    const r = rows[0]!;
    const problem = lockBudgetProblem(tocLocks(toc), { maxLocksPerTransaction: r["l"] as number, maxConnections: r["c"] as number, maxPreparedTransactions: r["p"] as number }, ctx.target.label);
    if (problem) throw new RestoreError(`tenant ${ctx.tenant}'s dump is too large to restore in one transaction on ${ctx.target.label} now; nothing changed`, 1, [problem]);
}

/** Restores into a new side schema and checks it (manifest counts, or the source's digest); returns it. */
async function restoreSide(client: Client, ctx: RestoreContext, prepared: Prepared): Promise<SchemaEntry> {
    const now = ctx.now?.() ?? new Date();
    const work = mkdtempSync(path.join(tmpdir(), "tenancy-restore-"));
    let source: Awaited<ReturnType<typeof dumpSource>> | undefined;
    try {
        let file: string;
        let toc = prepared.toc;
        let expected: SchemaDigest | undefined;
        if (ctx.origin.kind === "source") {
            ctx.progress(`dumping ${ctx.schema} from ${ctx.origin.source.label} (pg_dump of its major version, in a snapshot the tool hashes too)`);
            const from = ctx.origin.source;
            source = await asRestoreError(() => dumpSource(from, ctx.tenant, ctx.schema, ctx.ownerRole));
            file = source.file;
            expected = source.digest;
            toc = await readToc(file, ctx.tenant, ctx.schema);
        } else {
            file = ctx.origin.file;
        }
        await refuseLockHog(client, ctx, toc!);
        const major = await serverMajor(client);
        const psql = await requireTool("psql", major, "the target's major version");
        const pgRestore = await requireTool("pg_restore", major, "the target's major version");
        const { live, sides } = await restoreSchemas(client, ctx.schema);
        const side = stampedName(`${ctx.schema}_restore`, now, sides.map((s) => s.name));
        const checkedAgainst = prepared.manifest ? "manifest" : expected ? "source" : "nothing";
        const state: RestoreState = { v: 1, tenant: ctx.tenant, schema: ctx.schema, phase: "loaded", origin: prepared.origin, from: prepared.from, restoredAt: now.toISOString(), side, checkedAgainst };
        const listFile = path.join(work, "list");
        writeFileSync(listFile, toc!.list);
        ctx.progress(`restoring ${prepared.from} into ${side} on ${ctx.target.label} (one transaction; ${ctx.schema} keeps serving)`);
        await load({
            target: ctx.target, psql, pgRestore, file, listFile, schema: ctx.schema, side, ownerRole: ctx.ownerRole,
            member: await isMember(client, ctx.ownerRole), liveExists: live !== undefined,
            privileges: copyPrivileges({ schema: ctx.schema, ownerRole: ctx.ownerRole }),
            comment: commentSql(ctx.schema, state),
        });
        // The check: a mismatch drops the copy in the same transaction (it is not the dump's content), then exit 2.
        const { digest, problems } = await inOwnerTransaction(client, ctx.ownerRole, async () => {
            const digest = await schemaDigest(client, side);
            const problems = prepared.manifest ? await manifestProblems(client, side, prepared.manifest) : expected ? digestProblems(expected, digest) : [];
            if (problems.length) await client.query(`DROP SCHEMA ${ident(side)} CASCADE`);
            else await client.query(commentSql(side, { ...state, phase: "restored", digest }));
            return { digest, problems };
        });
        if (problems.length) {
            throw new RestoreError(`verification failed: what was restored differs from ${checkedAgainst === "manifest" ? "the dump's manifest" : "the source"}; the side schema was dropped, nothing was swapped`, 2, problems);
        }
        ctx.progress(`restored ${side}: ${digest.tables.length} table(s), ${digest.tables.reduce((n, t) => n + t.rows, 0)} row(s)${checkedAgainst === "nothing" ? "" : `, as ${checkedAgainst === "manifest" ? "the manifest counts" : "the source holds"}`}`);
        return { name: side, state: { ...state, phase: "restored", digest } };
    } finally {
        source?.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}

/**
 * The swap: the tenant's writes stop (roles NOLOGIN, sessions ended, as a move's cutover), then in ONE transaction the
 * side schema is locked against writes, hashed and compared with what was restored (a difference: nothing swapped,
 * logins back, exit 2), the tenant's schema renamed to `<schema>_replaced_<ts>`, the side schema renamed to the
 * tenant's, its privileges set as the program declares them; then the logins come back.
 */
async function swap(client: Client, ctx: RestoreContext, facts: TargetFacts, side: SchemaEntry): Promise<{ replaced?: string; digest: SchemaDigest }> {
    const roles = [ctx.ownerRole, ctx.runtimeRole];
    let state = side.state!;
    const logins = state.logins ?? (await rolesLogin(client, roles));
    if (state.phase !== "stopping") {
        // Recorded before anything stops: a kill from here on is put right by the next run.
        state = { ...state, phase: "stopping", logins };
        await setComment(client, ctx, side.name, state);
    }
    let ended: number;
    try {
        ended = await asRestoreError(() => stopWrites(client, roles));
    } catch (err) {
        await restoreLogins(client, logins);
        throw err;
    }
    ctx.progress(`writes stopped: ${roles.join(", ")} NOLOGIN, ${ended} session(s) ended`);
    await ctx.hooks?.afterStop?.();
    const now = ctx.now?.() ?? new Date();
    const { live, replaced: former } = await restoreSchemas(client, ctx.schema);
    const replaced = live ? stampedName(`${ctx.schema}_replaced`, now, former.map((r) => r.name)) : undefined;
    const privileges = declaredPrivileges({ schema: ctx.schema, ownerRole: ctx.ownerRole, runtimeRole: ctx.runtimeRole, facts });
    const expected = state.digest!;
    const giveBack = async (): Promise<void> => {
        await restoreLogins(client, logins);
        const { logins: _, ...rest } = state;
        await setComment(client, ctx, side.name, { ...rest, phase: "restored" });
    };
    // One transaction: nobody writes the copy between its check and the renames, and a failure renames nothing.
    const swapTransaction = (): Promise<{ problems: string[]; digest: SchemaDigest }> => inOwnerTransaction(client, ctx.ownerRole, async () => {
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(ctx.lockTimeoutMs ?? 30_000))}`);
        const tables = await tenantTables(client, side.name);
        if (tables.length) await client.query(`LOCK TABLE ${tables.map((t) => t.name).join(", ")} IN SHARE MODE`);
        const digest = await schemaDigest(client, side.name);
        const problems = digestProblems(expected, digest);
        if (problems.length) return { problems, digest };
        const s = ident(ctx.schema);
        if (replaced) {
            await client.query(`ALTER SCHEMA ${s} RENAME TO ${ident(replaced)}`);
            for (const sql of revokeFromReplaced({ schema: replaced, ownerRole: ctx.ownerRole, runtimeRole: ctx.runtimeRole, facts })) await client.query(sql);
        }
        await client.query(`ALTER SCHEMA ${ident(side.name)} RENAME TO ${s}`);
        for (const sql of [...privileges.before, ...privileges.after]) await client.query(sql);
        const swappedAt = new Date().toISOString();
        await client.query(commentSql(ctx.schema, { ...state, phase: "swapped", swappedAt, ...(replaced ? { replaced } : {}) }));
        if (replaced) {
            const { logins: _, digest: __, ...about } = state;
            await client.query(commentSql(replaced, { ...about, phase: "replaced", replaced, swappedAt }));
        }
        return { problems, digest };
    });
    let outcome: { problems: string[]; digest: SchemaDigest };
    try {
        outcome = await swapTransaction();
    } catch (err) {
        // Rolled back (a lock that would not come, a statement refused): nothing swapped, the tenant writes again.
        await giveBack();
        throw new RestoreError(`the swap failed and was rolled back: ${(err as Error).message}; nothing was swapped, the tenant's logins are back`, 1);
    }
    const { problems, digest } = outcome;
    if (problems.length) {
        await giveBack();
        throw new RestoreError(`verification failed: ${side.name} is not what was restored (changed since?); nothing was swapped, the tenant's logins are back`, 2, problems);
    }
    await ctx.hooks?.afterSwap?.();
    await restoreLogins(client, logins);
    await setComment(client, ctx, ctx.schema, null);
    ctx.progress(`swapped: ${ctx.schema} is the restored copy (${digest.tables.length} table(s) verified)${replaced ? `; the former schema is kept as ${replaced}` : ""}; logins back`);
    return { ...(replaced ? { replaced } : {}), digest };
}

/**
 * A source's origin names the clone INSTANCE, not its address: re-cloning to another time under the same identifier
 * gives the same host:port/db, so the server's start time and the database's OID go in too (a new clone is a new start;
 * a mere reboot of the same clone only costs a fresh restore, never a stale copy swapped in).
 */
async function prepareSource(source: Endpoint): Promise<Prepared> {
    const client = await asRestoreError(() => connect(source));
    try {
        const { rows } = await client.query(
            `SELECT pg_catalog.pg_postmaster_start_time()::text AS started, d.oid::text AS db
               FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`,
        );
        return { origin: `source ${source.label} started ${rows[0]!["started"] as string} database ${rows[0]!["db"] as string}`, from: source.label };
    } finally {
        await client.end().catch(() => undefined);
    }
}

export async function runRestore(ctx: RestoreContext): Promise<RestoreResult> {
    const prepared: Prepared = ctx.origin.kind === "dump" ? await prepareDump(ctx, ctx.origin.file) : await prepareSource(ctx.origin.source);
    const client = await asRestoreError(() => connect(ctx.target));
    const lockKey = `tenancy-restore ${ctx.schema}`;
    let locked = false;
    try {
        locked = (await client.query("SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext($1)) AS ok", [lockKey])).rows[0]!["ok"] === true;
        if (!locked) throw new RestoreError(`another restore of tenant ${ctx.tenant} is running on ${ctx.target.label}: wait for it`, 1);
        const facts = await placementFacts(client, ctx);
        await refuseDuringMove(client, ctx);
        const recovered = await recover(client, ctx, prepared.origin);
        const { sides, replaced } = await restoreSchemas(client, ctx.schema);
        let side = sides.filter((s) => s.state?.origin === prepared.origin && (s.state.phase === "restored" || s.state.phase === "stopping")).at(-1);
        const reused = side !== undefined;
        if (!side) {
            const done = ctx.mode === "swap" ? replaced.filter((r) => r.state?.origin === prepared.origin).at(-1) : undefined;
            if (done) {
                // The same command again after its swap finished: nothing to do (a second swap would replace writes made since).
                ctx.progress(`already swapped in at ${done.state!.swappedAt} (the former schema is ${done.name}): nothing to do`);
                const current = await inOwnerTransaction(client, ctx.ownerRole, () => schemaDigest(client, ctx.schema));
                return { mode: ctx.mode, sideSchema: done.state!.side, reused: true, checkedAgainst: done.state!.checkedAgainst, replacedSchema: done.name, digest: current, recovered };
            }
            side = await restoreSide(client, ctx, prepared);
        } else {
            ctx.progress(`${side.name} was restored from ${side.state!.from} at ${side.state!.restoredAt}: using it`);
        }
        const base = { mode: ctx.mode, sideSchema: side.name, reused, checkedAgainst: side.state!.checkedAgainst, recovered };
        if (ctx.mode === "side-by-side") return { ...base, digest: side.state!.digest! };
        const swapped = await swap(client, ctx, facts, side);
        return { ...base, digest: swapped.digest, ...(swapped.replaced ? { replacedSchema: swapped.replaced } : {}) };
    } finally {
        if (locked) await client.query("SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext($1))", [lockKey]).catch(() => undefined);
        await client.end().catch(() => undefined);
    }
}
