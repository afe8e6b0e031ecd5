# shellcheck shell=bash
# The database restore test's body; database-restore-script.ts puts the settings above it.
#
# For each database the agent dumps: take the repository's latest archive, find the dump that
# borgmatic stored in it (<DUMP_ROOT>/<hook>_databases/<host>/<name>), restore it into a
# scratch database, run the check query, drop the scratch database whatever happened, and write
# one JSON line. A dump of "all" holds many databases: each is cut out of it and tested alone.

export BORG_PASSPHRASE=""
WORK="$STATE_DIR/work"
SYSTEM_PG=" template0 template1 postgres "
SYSTEM_MY=" information_schema mysql performance_schema sys "
declare -A PROD_DB=()
RESULTS=() WARNINGS=() FAILED=0
CUR_E="" CUR_SCRATCH="" CUR_DONE=1 CUR_DB="" CUR_T0=0

# --- the gate: only scratch names, never a production database's -----------------------------------
guard_db() {
  local name=$1 action=$2
  if [[ ! $name =~ ^restoretest_[a-z0-9_]+$ ]]; then
    say "refusing to $action database $name: not a scratch database name"
    return 1
  fi
  if [ -n "${PROD_DB[$name]:-}" ]; then
    say "refusing to $action database $name: a production database has that name"
    return 1
  fi
}
scratch_name() {
  local s=${1,,}
  s=${s//[^a-z0-9_]/_}
  s="restoretest_$s"
  echo "${s:0:63}"
}

# --- database clients --------------------------------------------------------------------------------
MYSQL_ARGS=()
use_entry() {
  local e=$1 var=${E_PWVAR[$1]} password=""
  [ -z "$var" ] || password=${!var:-}
  unset PGHOST PGPORT PGUSER PGPASSWORD MYSQL_PWD
  MYSQL_ARGS=()
  if [ "${E_KIND[$e]}" = postgresql ]; then
    [ -z "${E_HOST[$e]}" ] || export PGHOST=${E_HOST[$e]}
    [ -z "${E_PORT[$e]}" ] || export PGPORT=${E_PORT[$e]}
    [ -z "${E_USER[$e]}" ] || export PGUSER=${E_USER[$e]}
    [ -z "$password" ] || export PGPASSWORD=$password
    export PGCONNECT_TIMEOUT=10
  else
    # As borgmatic's hook connects: TCP whenever a host or port is given.
    [ -z "${E_HOST[$e]}" ] || MYSQL_ARGS+=(--host "${E_HOST[$e]}")
    [ -z "${E_PORT[$e]}" ] || MYSQL_ARGS+=(--port "${E_PORT[$e]}")
    [ -z "${E_HOST[$e]}${E_PORT[$e]}" ] || MYSQL_ARGS+=(--protocol tcp)
    [ -z "${E_USER[$e]}" ] || MYSQL_ARGS+=(--user "${E_USER[$e]}")
    [ -z "$password" ] || export MYSQL_PWD=$password
  fi
}
sql_admin() {
  if [ "${E_KIND[$1]}" = postgresql ]; then
    psql -X -q -At -v ON_ERROR_STOP=1 -d postgres -c "$2"
  else
    mysql "${MYSQL_ARGS[@]}" --batch --skip-column-names -e "$2"
  fi
}
create_scratch() {
  local e=$1 name=$2
  guard_db "$name" create || return 1
  if [ "${E_KIND[$e]}" = postgresql ]; then
    sql_admin "$e" "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" && sql_admin "$e" "CREATE DATABASE \"$name\""
  else
    sql_admin "$e" "DROP DATABASE IF EXISTS \`$name\`; CREATE DATABASE \`$name\`"
  fi
}
drop_scratch() {
  local e=$1 name=$2
  guard_db "$name" drop || return 1
  if [ "${E_KIND[$e]}" = postgresql ]; then
    sql_admin "$e" "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
  else
    sql_admin "$e" "DROP DATABASE IF EXISTS \`$name\`"
  fi
}
scratch_exists() {
  local e=$1 name=$2
  if [ "${E_KIND[$e]}" = postgresql ]; then
    [ -n "$(sql_admin "$e" "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]
  else
    [ -n "$(sql_admin "$e" "SHOW DATABASES LIKE '$name'")" ]
  fi
}

# --- cutting one database out of a dump --------------------------------------------------------------
# pg_dumpall: one section per database, headed `-- Database "<name>" dump`. Its CREATE/ALTER
# DATABASE and \connect lines would act on the production database: they are dropped, and so are
# ownership changes (as pg_restore --no-owner does for custom dumps). COPY data passes untouched.
pg_dumpall_awk() {
  awk -v mode="$1" -v db="$2" '
    BEGIN { want = "-- Database \"" db "\" dump" }
    copy { if (ins && mode == "section") print; if ($0 == "\\.") copy = 0; next }
    /^COPY .* FROM stdin;$/ { copy = 1; if (ins && mode == "section") print; next }
    /^-- Database ".*" dump$/ {
      ins = ($0 == want)
      if (mode == "list") { name = substr($0, 14); print substr(name, 1, length(name) - 6) }
      next
    }
    /^-- PostgreSQL database cluster dump complete$/ { ins = 0; next }
    !ins || mode != "section" { next }
    /^(CREATE|DROP|ALTER|COMMENT ON) DATABASE / { next }
    /^(GRANT|REVOKE) .* ON DATABASE / { next }
    /^\\c(onnect)?( |$)/ { next }
    /^ALTER .* OWNER TO / { next }
    { print }
  ' "$3"
}
# mysqldump --databases: the session settings before the first `-- Current Database:` header,
# then the named database's section without its DROP/CREATE DATABASE and USE statements.
my_dump_awk() {
  awk -v mode="$1" -v db="$2" '
    BEGIN { want = "-- Current Database: `" db "`"; pre = 1 }
    /^-- Current Database: `.*`$/ {
      pre = 0; ins = ($0 == want)
      if (mode == "list") { name = substr($0, 23); print substr(name, 1, length(name) - 1) }
      next
    }
    mode != "section" { next }
    /^(\/\*![0-9]+ )?(CREATE|DROP) DATABASE/ { next }
    /^USE / { next }
    pre || ins { print }
  ' "$3"
}
dump_databases() {
  local e=$1 file=$2
  if [ "${E_KIND[$e]}" = postgresql ]; then
    pg_dumpall_awk list "" "$file" | while IFS= read -r n; do [[ $SYSTEM_PG == *" $n "* ]] || echo "$n"; done
  else
    my_dump_awk list "" "$file" | while IFS= read -r n; do [[ $SYSTEM_MY == *" ${n//\`\`/\`} "* ]] || echo "${n//\`\`/\`}"; done
  fi
}

restore_into() {
  local e=$1 file=$2 db=$3 scratch=$4 out section="$WORK/section.sql"
  guard_db "$scratch" restore || { REASON="refused to restore into $scratch"; return 1; }
  if [ "${E_KIND[$e]}" = postgresql ]; then
    if [ "$(head -c 5 "$file")" = PGDMP ]; then
      out=$(pg_restore --no-owner --no-privileges --exit-on-error -d "$scratch" "$file" 2>&1) || { REASON="pg_restore failed: $(last_line "$out")"; return 1; }
      return 0
    fi
    if [[ $'\n'$(head -n 5 "$file") == *$'\n'"-- PostgreSQL database cluster dump"* ]]; then
      pg_dumpall_awk section "$db" "$file" >"$section"
      [ -s "$section" ] || { REASON="database $db is not in the dump"; return 1; }
    else
      grep -Ev '^\\c(onnect)?( |$)' "$file" >"$section"
    fi
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$scratch" -f "$section" 2>&1) || { REASON="psql failed: $(last_line "$out")"; return 1; }
  else
    if ! grep -qxF -- "-- Current Database: \`${db//\`/\`\`}\`" "$file"; then REASON="database $db is not in the dump"; return 1; fi
    my_dump_awk section "${db//\`/\`\`}" "$file" >"$section"
    # --one-database ignores whatever a stray USE would aim at another database.
    out=$(mysql "${MYSQL_ARGS[@]}" --one-database "$scratch" <"$section" 2>&1) || { REASON="mysql failed: $(last_line "$out")"; return 1; }
  fi
}

default_query() {
  if [ "${E_KIND[$1]}" = postgresql ]; then
    echo "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
  else
    echo "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
  fi
}
# Passes when the query succeeds and its first value is neither empty, 0, false nor NULL.
run_check() {
  local e=$1 scratch=$2 query=$3 out value
  if [ "${E_KIND[$e]}" = postgresql ]; then
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$scratch" -c "$query" 2>&1) || { REASON="check query failed: $(last_line "$out")"; return 1; }
    value=$(printf '%s\n' "$out" | head -n 1)
    value=${value%%|*}
  else
    out=$(mysql "${MYSQL_ARGS[@]}" --batch --skip-column-names -D "$scratch" -e "$query" 2>&1) || { REASON="check query failed: $(last_line "$out")"; return 1; }
    value=$(printf '%s\n' "$out" | head -n 1)
    value=${value%%$'\t'*}
  fi
  case ${value,,} in
    "" | 0 | f | false | null) REASON="check query returned ${value:-no row}: $query"; return 1 ;;
  esac
}

record() {
  local e=$1 db=$2 archive=$3 restore_ms=$4 total_ms=$5 reason=$6 result=pass engine=""
  [ -z "$e" ] || engine=${E_KIND[$e]}
  if [ -z "$reason" ] && (( total_ms > RTO_MS )); then
    reason="restore and check took $(secs "$total_ms") s, over the RTO of $RTO_S s"
  fi
  [ -z "$reason" ] || { result=fail; FAILED=1; }
  write_log "$(printf '{"ts":%s,"kind":"database","site":%s,"service":%s,"agent":%s,"engine":%s,"database":%s,"archive":%s,"restoreSeconds":%s,"totalSeconds":%s,"rtoSeconds":%s,"result":%s%s}' \
    "$(jstr "$(iso_now)")" "$(jstr "$SITE")" "$(jstr "$SERVICE")" "$(jstr "$AGENT")" "$(jval "$engine")" "$(jval "$db")" "$(jval "$archive")" \
    "$(secs "$restore_ms")" "$(secs "$total_ms")" "$RTO_S" "$(jstr "$result")" "$( [ -z "$reason" ] || printf ',"reason":%s' "$(jstr "$reason")")")"
  RESULTS+=("${engine:-database} ${db:-?}: $result, restore $(secs "$restore_ms") s, total $(secs "$total_ms") s of RTO $RTO_S s${reason:+ ($reason)}")
}

# Restores one database of a dump into its scratch database, checks it, drops it, logs it.
test_database() {
  local e=$1 file=$2 db=$3 archive=$4 extract_ms=$5
  local scratch t0 t1="" restore_ms total_ms query out
  scratch=$(scratch_name "$db")
  REASON=""
  CUR_E=$e CUR_SCRATCH=$scratch CUR_DB=$db CUR_DONE=0
  t0=$(now_ms)
  CUR_T0=$t0
  restore_ms=$extract_ms
  if ! out=$(create_scratch "$e" "$scratch" 2>&1); then
    REASON="could not create the scratch database $scratch: $(last_line "$out")"
  elif restore_into "$e" "$file" "$db" "$scratch"; then
    t1=$(now_ms)
    restore_ms=$(( extract_ms + t1 - t0 ))
    query=${QUERY["${E_KIND[$e]}.$db"]:-$(default_query "$e")}
    run_check "$e" "$scratch" "$query"
  fi
  [ -n "$t1" ] || restore_ms=$(( extract_ms + $(now_ms) - t0 ))
  if ! out=$(drop_scratch "$e" "$scratch" 2>&1) || scratch_exists "$e" "$scratch"; then
    REASON="${REASON:+$REASON; }the scratch database $scratch could not be dropped: $(last_line "$out")"
  fi
  CUR_SCRATCH=""
  total_ms=$(( extract_ms + $(now_ms) - t0 ))
  CUR_DONE=1
  record "$e" "$db" "$archive" "$restore_ms" "$total_ms" "$REASON"
}

# A stopped or failing run still drops its scratch database and removes the extracted dumps.
on_exit() {
  local rc=$?
  trap - EXIT
  if [ -n "$CUR_SCRATCH" ]; then
    use_entry "$CUR_E"
    drop_scratch "$CUR_E" "$CUR_SCRATCH" >/dev/null 2>&1 || WARNINGS+=("could not drop the scratch database $CUR_SCRATCH")
    if [ "$CUR_DONE" = 0 ]; then
      record "$CUR_E" "$CUR_DB" "${ARCHIVE:-}" 0 "$(( $(now_ms) - CUR_T0 ))" "the run was stopped (${STOPPED_BY:-exit $rc}) during the test"
      notify error "homelab-backup database restore test ($AGENT, $SITE): stopped" "$(printf '%s\n' "${RESULTS[@]}" "${WARNINGS[@]}")"
    fi
    [ "$rc" -ne 0 ] || rc=1
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap on_exit EXIT
trap 'STOPPED_BY=SIGTERM; exit 143' TERM
trap 'STOPPED_BY=SIGINT; exit 130' INT
trap 'STOPPED_BY=SIGHUP; exit 129' HUP

# A failure before any database was tested: one line per entry, so the report still sees it.
fail_all() {
  local e
  local e db
  for e in "${!E_KIND[@]}"; do
    [ "${E_TEST[$e]}" = 1 ] || continue
    if [ -z "${E_DBS[$e]}" ]; then record "$e" "" "${ARCHIVE:-}" 0 0 "$1"; fi
    for db in ${E_DBS[$e]}; do record "$e" "$db" "${ARCHIVE:-}" 0 0 "$1"; done
  done
  notify error "homelab-backup database restore test ($AGENT, $SITE): fail" "$1"
  exit 1
}

# --- the run ----------------------------------------------------------------------------------------
mkdir -p "$STATE_DIR"
# The agent skips directories holding .nobackup: extracted dumps never end up in an archive.
touch "$STATE_DIR/.nobackup"
exec 9>>"$STATE_DIR/lock"
if ! flock -w 21600 9; then
  say "another database restore test has held $STATE_DIR/lock for 6 hours"
  exit 75
fi
for e in "${!E_KIND[@]}"; do for db in ${E_DBS[$e]}; do PROD_DB[$db]=1; done; done
rm -rf "$WORK"
mkdir -m 0700 "$WORK"

[ -r "$SECRETS" ] || fail_all "$SECRETS is missing; it holds the repository passphrase"
set -a
# shellcheck disable=SC1090
. "$SECRETS"
set +a

# Scratch databases a crashed run left behind, on every server the agent dumps (tested this time or not).
declare -A SEEN=()
for e in "${!E_KIND[@]}"; do
  key="${E_KIND[$e]}|${E_HOST[$e]}|${E_PORT[$e]}"
  [ -z "${SEEN[$key]:-}" ] || continue
  SEEN[$key]=1
  use_entry "$e"
  if [ "${E_KIND[$e]}" = postgresql ]; then
    leftovers=$(sql_admin "$e" "SELECT datname FROM pg_database WHERE datname LIKE 'restoretest\_%'" 2>&1) || { WARNINGS+=("could not list databases on ${E_HOST[$e]:-localhost}: $(last_line "$leftovers")"); continue; }
  else
    leftovers=$(sql_admin "$e" "SHOW DATABASES LIKE 'restoretest\_%'" 2>&1) || { WARNINGS+=("could not list databases on ${E_HOST[$e]:-localhost}: $(last_line "$leftovers")"); continue; }
  fi
  for name in $leftovers; do
    say "dropping scratch database $name left by an earlier run"
    if drop_scratch "$e" "$name" >/dev/null; then WARNINGS+=("dropped scratch database $name left by an earlier run"); else WARNINGS+=("could not drop scratch database $name left by an earlier run"); fi
  done
done

ARCHIVE=$(borg list --lock-wait 600 --short --glob-archives "$ARCHIVE_GLOB" --sort-by timestamp --last 1 "$REPO" 2>"$WORK/borg.err") || fail_all "borg list failed: $(last_line "$(cat "$WORK/borg.err")")"
[ -n "$ARCHIVE" ] || fail_all "the repository has no archive matching $ARCHIVE_GLOB"
# borgmatic keeps its dumps under the agent's borgmatic_source_directory: one extract brings all of
# them (exit 1 is borg's warning, e.g. a dump directory the archive does not have).
mkdir -m 0700 "$WORK/extract"
t0=$(now_ms)
(cd "$WORK/extract" && borg extract --lock-wait 600 "$REPO::$ARCHIVE" "${DUMP_ROOT#/}") 2>"$WORK/borg.err"
rc=$?
(( rc <= 1 )) || fail_all "borg extract from $ARCHIVE failed: $(last_line "$(cat "$WORK/borg.err")")"
extract_ms=$(( $(now_ms) - t0 ))

for e in "${!E_KIND[@]}"; do
  [ "${E_TEST[$e]}" = 1 ] || continue
  use_entry "$e"
  file=""
  for hook in ${E_HOOKS[$e]}; do
    candidate="$WORK/extract/${DUMP_ROOT#/}/$hook/${E_PATHHOST[$e]}/${E_NAME[$e]}"
    if [ -f "$candidate" ]; then file=$candidate; break; fi
  done
  if [ -z "$file" ]; then
    for db in ${E_DBS[$e]:-${E_NAME[$e]}}; do record "$e" "$db" "$ARCHIVE" 0 0 "archive $ARCHIVE holds no dump of ${E_KIND[$e]} ${E_NAME[$e]} (looked for ${DUMP_ROOT}/{${E_HOOKS[$e]// /,}}/${E_PATHHOST[$e]}/${E_NAME[$e]})"; done
    continue
  fi
  if [ -n "${E_DBS[$e]}" ]; then
    read -r -a dbs <<<"${E_DBS[$e]}"
  else
    mapfile -t dbs < <(dump_databases "$e" "$file")
    for db in "${dbs[@]}"; do PROD_DB[$db]=1; done
    if [ "${#dbs[@]}" -eq 0 ]; then
      record "$e" "" "$ARCHIVE" "$extract_ms" "$extract_ms" "the dump of ${E_KIND[$e]} ${E_NAME[$e]} holds no database"
      continue
    fi
  fi
  for db in "${dbs[@]}"; do
    test_database "$e" "$file" "$db" "$ARCHIVE" "$extract_ms"
  done
  rm -f "$file"
done

if [ "$FAILED" = 1 ]; then level=error; verdict=fail
elif [ "${#WARNINGS[@]}" -gt 0 ]; then level=warning; verdict=pass
else level=info; verdict=pass; fi
notify "$level" "homelab-backup database restore test ($AGENT, $SITE): $verdict" "$(printf '%s\n' "${RESULTS[@]}" "${WARNINGS[@]}")"
[ "$FAILED" = 0 ]
exit $?
