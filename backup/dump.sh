#!/usr/bin/env bash
# Logical backup of one shared database cell: every tenant schema on it, one after another, each to
#   s3://$DUMP_BUCKET/$DUMP_CELL/<slug>/<UTC yyyy-mm-ddThh-mm-ssZ>.dump   (pg_dump --format=custom --schema=t_<slug>)
#   s3://$DUMP_BUCKET/$DUMP_CELL/<slug>/<same>.json                       {slug, cell, schema, serverVersion, startedAt, finishedAt, tables}
# The manifest's row counts are taken inside the transaction whose snapshot pg_dump uses (--snapshot), so they count
# exactly the rows in the dump. The manifest is uploaded after its dump: a manifest means a complete dump.
#
# Connection: libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT), as the
# cell's `tenancy_backup` role (a member of `tenancy_reporting`: read-only). Never a role that can create roles.
# Settings: DUMP_BUCKET, DUMP_CELL, DUMP_SSE_KMS_ARN (required); DUMP_STACK (metric dimension), DUMP_SCRATCH (where
# dumps are written before upload, default /scratch), DUMP_LOCK_WAIT_TIMEOUT (pg_dump's wait for a table lock, default 5min).
#
# Exit status: 0 every tenant dumped; 1 some tenants failed (the others were still dumped); 2 nothing could be dumped
# (no connection, wrong client version, a privileged login). Either way the metric Tenancy/SchemaDumps Failures
# (dimensions Stack, Cell) counts the failures and TenantsDumped the successes, for an alarm (README).
set -uo pipefail
# A snapshot session that died (an error stops it) must fail its tenant, not kill the job with SIGPIPE on our next write.
trap '' PIPE

: "${DUMP_BUCKET:?DUMP_BUCKET is required}" "${DUMP_CELL:?DUMP_CELL is required}" "${DUMP_SSE_KMS_ARN:?DUMP_SSE_KMS_ARN is required}"
STACK=${DUMP_STACK:-unknown}
SCRATCH=${DUMP_SCRATCH:-/scratch}
LOCK_WAIT=${DUMP_LOCK_WAIT_TIMEOUT:-5min}
export PGAPPNAME=${PGAPPNAME:-tenancy-schema-dump}

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
query() { psql -X -q -w -At -v ON_ERROR_STOP=1 -c "$1"; }

# One data point per run: Failures (tenants that failed, or 1 when the job could not start) and TenantsDumped.
report() {
    local failures=$1 dumped=$2 dims
    dims="[{\"Name\":\"Stack\",\"Value\":\"$STACK\"},{\"Name\":\"Cell\",\"Value\":\"$DUMP_CELL\"}]"
    aws cloudwatch put-metric-data --namespace Tenancy/SchemaDumps --metric-data \
        "[{\"MetricName\":\"Failures\",\"Dimensions\":$dims,\"Value\":$failures,\"Unit\":\"Count\"},{\"MetricName\":\"TenantsDumped\",\"Dimensions\":$dims,\"Value\":$dumped,\"Unit\":\"Count\"}]" \
        || log "could not put the metric (an alarm on missing data still tells)"
}

fatal() {
    log "FAILED: $*"
    report 1 0
    exit 2
}

# --- Preflight: who we are, and a client of the server's major version (pg_dump refuses newer servers, and an older
# server's dump from a newer client may not restore onto that server).
me=$(query "SELECT r.rolname || ' ' || (r.rolsuper OR r.rolcreaterole) || ' ' || current_setting('server_version_num') FROM pg_catalog.pg_roles r WHERE r.rolname = current_user") \
    || fatal "cannot connect to ${PGHOST:-?}:${PGPORT:-5432}/${PGDATABASE:-?} as ${PGUSER:-?}"
read -r role privileged server_num <<<"$me"
[ "$privileged" = "false" ] || fatal "refuses to run as $role: a role that can create roles or is a superuser (the master user) must not be the backup job's"
server_major=$((server_num / 10000))
client_major=$(pg_dump --version | sed -nE 's/^pg_dump \(PostgreSQL\) ([0-9]+).*/\1/p')
[ "$client_major" = "$server_major" ] || fatal "pg_dump $client_major does not match the server's major version $server_major (use the image built for PostgreSQL $server_major)"

# --- The tenants: every schema t_<slug> owned by its owner role t_<slug>_owner (how TenantDatabase creates them), so a
# tenant is backed up from the moment its schema exists until it is dropped, whatever its status or a move in progress.
schemas=$(query "SELECT n.nspname FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
                 WHERE n.nspname ~ '^t_[a-z0-9_]+\$' AND r.rolname = n.nspname || '_owner' ORDER BY 1") \
    || fatal "cannot list the tenant schemas"

# Dumps one schema; returns non-zero on any failure (logged), leaving nothing behind in the scratch directory.
dump_schema() {
    local schema=$1 slug epoch started stamp base file manifest snapshot counts server_version tables finished rc=0
    slug=${schema#t_}
    slug=${slug//_/-}
    epoch=$(date -u +%s)
    started=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
    stamp=$(date -u -d "@$epoch" +%Y-%m-%dT%H-%M-%SZ)
    base="$DUMP_CELL/$slug/$stamp"
    file="$SCRATCH/$slug.dump"
    manifest="$SCRATCH/$slug.json"

    # tenancy_backup owns no tenant table and cannot bypass row-level security (RDS's master cannot grant BYPASSRLS):
    # pg_dump (row_security off) refuses such a table. Say which and what to do, rather than an error mid-dump.
    local rls
    rls=$(query "SELECT string_agg(pg_catalog.format('%I.%I', n.nspname, c.relname), ', ' ORDER BY c.relname)
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = '$schema' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
                   AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
                   AND NOT (SELECT r.rolbypassrls FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)") \
        || { log "$slug: could not check for row-level security"; return 1; }
    if [ -n "$rls" ]; then
        log "$slug: row-level security on $rls: $role can neither dump nor count it (not its owner, no BYPASSRLS); see README \"Logical backups of shared tenants\", row-level security"
        return 1
    fi

    # A read-only REPEATABLE READ transaction exports its snapshot; it stays open (idle) until pg_dump has finished.
    # Only its stdout is read: its stderr (a NOTICE, WARNING or error) goes to the job's log, never taken for the
    # snapshot id or the counts. row_security off, as pg_dump's: a table under RLS fails the count instead of shortening it.
    coproc SNAP { psql -X -q -w -At -v ON_ERROR_STOP=1 -v schema="$schema"; }
    # Once a failed session has ended, bash unsets SNAP: every use below tolerates that (set -u) and fails the tenant.
    local snap_pid=${SNAP_PID:-}
    printf '%s\n' "SET idle_in_transaction_session_timeout = 0;" "SET row_security = off;" "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" \
        "SELECT pg_catalog.pg_export_snapshot();" >&"${SNAP[1]:-}" 2>/dev/null
    IFS= read -r -t 120 snapshot <&"${SNAP[0]:-}" 2>/dev/null || snapshot=""
    if [[ ! $snapshot =~ ^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$ ]]; then
        log "$slug: could not export a snapshot: $snapshot"
        rc=1
    else
        # Rows per table (leaf tables: what pg_dump writes data for), counted in that snapshot.
        printf '%s\n' "SELECT pg_catalog.to_json(current_setting('server_version'))::text || E'\\t' || coalesce((
            SELECT jsonb_agg(jsonb_build_object('name', c.relname, 'rows',
                     (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint)
                   ORDER BY c.relname)
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = :'schema' AND c.relkind = 'r'), '[]'::jsonb)::text;" >&"${SNAP[1]:-}" 2>/dev/null
        IFS= read -r -t 3600 counts <&"${SNAP[0]:-}" 2>/dev/null || counts=""
        server_version=${counts%%$'\t'*}
        tables=${counts#*$'\t'}
        if [[ $counts != *$'\t'* || $server_version != \"*\" || $tables != \[*\] ]]; then
            log "$slug: could not count the rows: $counts"
            rc=1
        elif ! pg_dump --format=custom --schema="$schema" --snapshot="$snapshot" --lock-wait-timeout="$LOCK_WAIT" --file="$file"; then
            log "$slug: pg_dump failed"
            rc=1
        else
            finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        fi
    fi
    printf '%s\n' "COMMIT;" '\q' >&"${SNAP[1]:-}" 2>/dev/null
    [ -z "$snap_pid" ] || wait "$snap_pid" 2>/dev/null

    if [ "$rc" = 0 ] && ! pg_restore --list "$file" >/dev/null; then
        log "$slug: the dump does not read back"
        rc=1
    fi
    if [ "$rc" = 0 ]; then
        printf '{"slug":"%s","cell":"%s","schema":"%s","serverVersion":%s,"startedAt":"%s","finishedAt":"%s","tables":%s}\n' \
            "$slug" "$DUMP_CELL" "$schema" "$server_version" "$started" "$finished" "$tables" >"$manifest"
        local upload=(--sse aws:kms --sse-kms-key-id "$DUMP_SSE_KMS_ARN" --only-show-errors)
        if ! aws s3 cp "$file" "s3://$DUMP_BUCKET/$base.dump" "${upload[@]}"; then
            log "$slug: upload of the dump failed"
            rc=1
        elif ! aws s3 cp "$manifest" "s3://$DUMP_BUCKET/$base.json" --content-type application/json "${upload[@]}"; then
            log "$slug: upload of the manifest failed"
            rc=1
        else
            log "$slug: dumped $schema to s3://$DUMP_BUCKET/$base.dump ($(stat -c %s "$file") bytes)"
        fi
    fi
    rm -f "$file" "$manifest"
    return "$rc"
}

failed=()
dumped=0
for schema in $schemas; do
    if dump_schema "$schema"; then
        dumped=$((dumped + 1))
    else
        failed+=("$schema")
        log "$schema: FAILED (the other tenants go on)"
    fi
done

report "${#failed[@]}" "$dumped"
if [ "${#failed[@]}" -gt 0 ]; then
    log "cell $DUMP_CELL: $dumped dumped, ${#failed[@]} FAILED: ${failed[*]}"
    exit 1
fi
log "cell $DUMP_CELL: $dumped dumped"
