# shellcheck shell=bash
# The PVE restore test's body; restore-test-script.ts puts the settings above it.
NODE=$(uname -n)
NODE=${NODE%%.*}
MODE=${1:-}
case "$MODE" in
  weekly|monthly|cleanup) ;;
  *) echo "usage: $0 weekly|monthly|cleanup" >&2; exit 2 ;;
esac

# --- the gate -----------------------------------------------------------------------------------
# At most nine digits (PVE's own limit): a longer number would wrap around in bash's arithmetic.
in_range() { [[ $1 =~ ^[1-9][0-9]{0,8}$ ]] && (( $1 >= SCRATCH_FROM && $1 <= SCRATCH_TO )); }
guard() {
  local id=$1 action=$2
  if ! in_range "$id"; then
    say "refusing to $action guest $id: outside the scratch range $SCRATCH_FROM-$SCRATCH_TO"
    return 1
  fi
  if [ -n "${PROD[$id]:-}" ]; then
    say "refusing to $action guest $id: it is a production guest (or an unmarked guest of someone else)"
    return 1
  fi
}
# Every PVE command that changes a guest, or runs something inside one, goes through here.
pve() {
  local type=$1 action=$2 id=$3
  shift 3
  guard "$id" "$action" || return 97
  case "$type:$action" in
    qemu:restore) qmrestore "$1" "$id" --unique 1 ${TARGET_STORAGE:+--storage "$TARGET_STORAGE"} ;;
    lxc:restore) pct restore "$id" "$1" --unique 1 ${TARGET_STORAGE:+--storage "$TARGET_STORAGE"} ;;
    qemu:destroy) qm destroy "$id" --purge 1 --destroy-unreferenced-disks 1 ;;
    lxc:destroy) pct destroy "$id" --purge 1 --force 1 --destroy-unreferenced-disks 1 ;;
    qemu:set|qemu:start|qemu:stop) qm "$action" "$id" "$@" ;;
    lxc:set|lxc:start|lxc:stop) pct "$action" "$id" "$@" ;;
    *) say "unknown action $type:$action"; return 2 ;;
  esac
}
# Asks the guest whether it is up. A probe can hang (an agent socket nobody answers), so it runs
# under timeout, which cannot run a shell function: hence the gate here as well as in pve.
probe() {
  local type=$1 id=$2 secs=$3
  guard "$id" probe || return 97
  # In the background, so a stop signal is handled at once rather than after the probe; without
  # the lock's descriptor, so a probe outliving a killed run does not hold the next run back.
  if [ "$type" = qemu ]; then
    timeout -k 2 "$secs" qm guest cmd "$id" ping 9>&- &
  else
    timeout -k 2 "$secs" pct exec "$id" -- true 9>&- &
  fi
  PROBE_PID=$!
  wait "$PROBE_PID"
  local rc=$?
  PROBE_PID=""
  return "$rc"
}
declare -A TOOL=([qemu]=qm [lxc]=pct)
guest_config() { "${TOOL[$1]}" config "$2"; }
guest_status() { local s; s=$("${TOOL[$1]}" status "$2" 2>/dev/null) && echo "${s#status: }"; }
guest_exists() { "${TOOL[$1]}" status "$2" >/dev/null 2>&1; }
has_tag() { [[ ";${1//[ ,]/;};" == *";$2;"* ]]; }
is_marked() { has_tag "$(guest_config "$1" "$2" 2>/dev/null | sed -n 's/^tags: //p')" "$MARK"; }

# --- what exists ----------------------------------------------------------------------------------
declare -A RES_TYPE=() RES_NODE=() RES_POOL=() RES_TAGS=() RES_TEMPLATE=() USED=()
load_resources() {
  local json tsv vmid type node pool tags template
  json=$(pvesh get /cluster/resources --type vm --output-format json) || { say "pvesh get /cluster/resources failed"; return 1; }
  # perl and JSON::PP are part of every PVE node; "-" stands for an empty field, which read would collapse.
  tsv=$(printf '%s' "$json" | perl -MJSON::PP -e '
    my $d = JSON::PP->new->decode(join("", <STDIN>));
    for my $r (@$d) {
      next unless defined $r->{vmid} && ($r->{type} // "") =~ /^(qemu|lxc)$/;
      my @f = map { my $v = $_ // ""; $v =~ s/\s+/ /g; $v eq "" ? "-" : $v }
        ($r->{vmid}, $r->{type}, $r->{node}, $r->{pool}, $r->{tags}, $r->{template} ? 1 : 0);
      print join("\t", @f), "\n";
    }') || { say "could not read the output of pvesh get /cluster/resources"; return 1; }
  while IFS=$'\t' read -r vmid type node pool tags template; do
    [ -n "$vmid" ] || continue
    RES_TYPE[$vmid]=$type
    RES_NODE[$vmid]=${node#-}
    RES_POOL[$vmid]=${pool#-}
    RES_TAGS[$vmid]=${tags#-}
    RES_TEMPLATE[$vmid]=$template
  done <<<"$tsv"
}

BK_VMID=() BK_TYPE=() BK_VOLID=() BK_TIME=()
load_backups() {
  local out volid _format _type _size _vmid _rest
  out=$(pvesm list "$STORAGE" --content backup) || { say "pvesm list $STORAGE failed"; return 1; }
  while read -r volid _format _type _size _vmid _rest; do
    [ "$volid" != Volid ] || continue
    [[ $volid == "$STORAGE:backup/"* ]] || continue
    [[ ${volid#"$STORAGE:backup/"} =~ ^(vm|ct)/([1-9][0-9]*)/([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$ ]] || continue
    BK_TYPE+=("${BASH_REMATCH[1]}")
    BK_VMID+=("${BASH_REMATCH[2]}")
    BK_TIME+=("${BASH_REMATCH[3]}")
    BK_VOLID+=("$volid")
  done <<<"$out"
}

# Guest -> the first service naming it; per service, its guests. A guest in scope is production,
# and so is every existing guest without the mark, whatever range it sits in.
declare -A SCOPE=()
SVC_GUESTS=()
add_scope() {
  local i=$1 id=$2
  PROD[$id]=1
  [ "${RES_TEMPLATE[$id]:-0}" != 1 ] || return 0
  # A VM in a containers-only service (or the reverse) is not its guest; an id the cluster no
  # longer knows keeps its backups, whose type decides.
  case "${SVC_KIND[$i]}:${RES_TYPE[$id]:-}" in
    vm:lxc | ct:qemu) return 0 ;;
  esac
  [ -n "${SCOPE[$id]:-}" ] || SCOPE[$id]=$i
  [[ " ${SVC_GUESTS[$i]} " == *" $id "* ]] || SVC_GUESTS[$i]+=" $id"
}
resolve_scope() {
  local i id t
  for id in "${!RES_TYPE[@]}"; do
    has_tag "${RES_TAGS[$id]}" "$MARK" || PROD[$id]=1
  done
  for i in "${!SVC_NAME[@]}"; do
    SVC_GUESTS[$i]=""
    for id in ${SVC_VMIDS[$i]}; do add_scope "$i" "$id"; done
    for id in $(printf '%s\n' "${!RES_TYPE[@]}" | sort -n); do
      if [ -n "${SVC_POOL[$i]}" ] && [ "${RES_POOL[$id]}" = "${SVC_POOL[$i]}" ]; then add_scope "$i" "$id"; fi
      for t in ${SVC_TAGS[$i]}; do
        if has_tag "${RES_TAGS[$id]}" "$t"; then add_scope "$i" "$id"; fi
      done
    done
  done
}
# The bridge restored NICs go to must exist and have no port: link_down alone is one setting away
# from a production network.
bridge_problem() {
  local ports
  if ! ip link show dev "$BRIDGE" >/dev/null 2>&1; then
    echo "the isolated bridge $BRIDGE does not exist on $NODE"
    return
  fi
  ports=$(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); printf "%s ", $2 }')
  [ -z "$ports" ] || echo "the isolated bridge $BRIDGE has ports (${ports% }), so it is not isolated"
}
kind_allows() { [ "$1" = auto ] || [ "$1" = "$2" ]; }

# --- one restore test -------------------------------------------------------------------------------
RESULTS=() WARNINGS=() FAILED=0
CUR_ID="" CUR_TYPE="" CUR_OWNED=0 CUR_DONE=1
CUR_SVC="" CUR_GUEST="" CUR_VOLID="" CUR_BTIME="" CUR_T0=0 CUR_RESTORE_MS=0

# One log line and one line of the notification.
record() {
  local i=$1 guest=$2 type=$3 volid=$4 btime=$5 scratch=$6 restore_ms=$7 boot_ms=$8 reason=$9
  local total_ms=$(( restore_ms + boot_ms )) result=pass service="" tier="" rto_ms=0 rto_s=0
  if [ -n "$i" ]; then
    service=${SVC_NAME[$i]} tier=${SVC_TIER[$i]} rto_ms=${SVC_RTO_MS[$i]} rto_s=${SVC_RTO_S[$i]}
    if [ -z "$reason" ] && (( total_ms > rto_ms )); then
      reason="restore and boot took $(secs "$total_ms") s, over the RTO of $rto_s s"
    fi
  fi
  [ -z "$reason" ] || { result=fail; FAILED=1; }
  local line
  line=$(printf '{"ts":%s,"kind":%s,"site":%s,"service":%s,"tier":%s,"guest":%s,"guestType":%s,"volid":%s,"backupTime":%s,"scratchVmid":%s,"restoreSeconds":%s,"bootSeconds":%s,"totalSeconds":%s,"rtoSeconds":%s,"result":%s%s}' \
    "$(jstr "$(iso_now)")" "$(jstr "$MODE")" "$(jstr "$SITE")" "$(jval "$service")" "$(jval "$tier")" "$(jnum "$guest")" "$(jval "$type")" \
    "$(jval "$volid")" "$(jval "$btime")" "$(jnum "$scratch")" "$(secs "$restore_ms")" "$(secs "$boot_ms")" "$(secs "$total_ms")" "$rto_s" \
    "$(jstr "$result")" "$( [ -z "$reason" ] || printf ',"reason":%s' "$(jstr "$reason")")")
  write_log "$line"
  RESULTS+=("${service:-?} ${type:-guest} ${guest:-?}${btime:+ from $btime}: $result, restore $(secs "$restore_ms") s + boot $(secs "$boot_ms") s = $(secs "$total_ms") s of RTO $rto_s s${reason:+ ($reason)}")
}

# Destroys a guest this run restored, or one carrying the mark; never anything else.
# 0: gone; 1: destroying failed; 2: not ours, left alone.
destroy_guest() {
  local type=$1 id=$2 owned=$3 try out
  guest_exists "$type" "$id" || return 0
  if [ "$owned" != 1 ] && ! is_marked "$type" "$id"; then
    say "not destroying guest $id: it does not carry the tag $MARK"
    return 2
  fi
  guard "$id" destroy || return 2
  for try in 1 2 3; do
    # Protection came from the backup's config; destroy refuses while it is set.
    if grep -qx 'protection: 1' <<<"$(guest_config "$type" "$id" 2>/dev/null)"; then pve "$type" set "$id" --protection 0 >/dev/null 2>&1; fi
    if [ "$(guest_status "$type" "$id")" != stopped ]; then pve "$type" stop "$id" >/dev/null 2>&1; fi
    out=$(pve "$type" destroy "$id" 2>&1)
    guest_exists "$type" "$id" || return 0
    say "destroying scratch guest $id failed (try $try): $(last_line "$out")"
    sleep "$POLL"
  done
  return 1
}

destroy_current() {
  [ -n "$CUR_ID" ] || return 0
  local id=$CUR_ID rc=0
  destroy_guest "$CUR_TYPE" "$id" "$CUR_OWNED" || rc=$?
  CUR_ID=""
  case $rc in
    0) rm -f "$STATE_DIR/current"; return 0 ;;
    2) WARNINGS+=("guest $id exists but this run did not restore it and it carries no mark; left alone") ;;
    *) WARNINGS+=("scratch guest $id could not be destroyed; destroy it by hand (${TOOL[$CUR_TYPE]} destroy $id --purge 1)") ;;
  esac
  USED[$id]=1
  return "$rc"
}

free_scratch_id() {
  local id
  for (( id = SCRATCH_FROM; id <= SCRATCH_TO; id++ )); do
    [ -z "${PROD[$id]:-}" ] && [ -z "${RES_TYPE[$id]:-}" ] && [ -z "${USED[$id]:-}" ] || continue
    echo "$id"
    return 0
  done
  return 1
}

# The NIC with our bridge, the link down, and no VLAN settings (a tag on a bridge without VLAN
# awareness fails the start).
isolated_net() {
  local IFS=, part out=()
  for part in $1; do
    case $part in bridge=*|tag=*|trunks=*|link_down=*) ;; *) out+=("$part") ;; esac
  done
  out+=("bridge=$BRIDGE" "link_down=1")
  echo "${out[*]}"
}

isolate() {
  local type=$1 id=$2 volid=$3 conf line args=() out
  conf=$(guest_config "$type" "$id") || { REASON="could not read the restored config"; return 1; }
  while IFS= read -r line; do
    [[ $line =~ ^(net[0-9]+):\ (.*)$ ]] || continue
    args+=("--${BASH_REMATCH[1]}" "$(isolated_net "${BASH_REMATCH[2]}")")
  done <<<"$conf"
  if ! out=$(pve "$type" set "$id" --tags "$MARK" --description "$MARK: restore test of $volid, started $(iso_now); destroyed when the test ends" --onboot 0 --protection 0 "${args[@]}" 2>&1); then
    REASON="could not isolate the scratch guest: $(last_line "$out")"
    return 1
  fi
  # Never boot on the strength of the set alone: read back what PVE stored.
  conf=$(guest_config "$type" "$id") || { REASON="could not read the isolated config"; return 1; }
  while IFS= read -r line; do
    [[ $line =~ ^net[0-9]+:\  ]] || continue
    if [[ ",${line#*: }," != *",bridge=$BRIDGE,"* || ",${line#*: }," != *",link_down=1,"* ]]; then
      REASON="a NIC is not isolated after the set: $line"
      return 1
    fi
  done <<<"$conf"
  is_marked "$type" "$id" || { REASON="the scratch guest does not carry the mark after the set"; return 1; }
}

# Config read first, matched after: grep -q at the end of a pipe would stop the writer early, and
# pipefail would then read the match as a failure.
agent_enabled() {
  local conf
  conf=$(guest_config qemu "$1" 2>/dev/null) || return 1
  grep -Eq '^agent: (1|enabled=1)(,|$)' <<<"$conf"
}

wait_boot() {
  local type=$1 id=$2 deadline left wait_s status
  deadline=$(( $(now_ms) + BOOT_TIMEOUT * 1000 ))
  local check=ping
  if [ "$type" = qemu ] && ! agent_enabled "$id"; then
    if [ "$REQUIRE_AGENT" = 1 ]; then
      REASON="the QEMU guest agent is not enabled in the backup's config (agent: 1), so the boot cannot be proven"
      return 1
    fi
    check=running
  fi
  while :; do
    status=$(guest_status "$type" "$id")
    if [ "$status" != running ]; then
      REASON="the guest is ${status:-gone} instead of running while booting"
      return 1
    fi
    [ "$check" = running ] && return 0
    left=$(( deadline - $(now_ms) ))
    wait_s=$(( (left + 999) / 1000 ))
    (( wait_s > 10 )) && wait_s=10
    (( wait_s < 1 )) && wait_s=1
    if probe "$type" "$id" "$wait_s" >/dev/null 2>&1; then
      return 0
    fi
    left=$(( deadline - $(now_ms) ))
    if (( left <= 0 )); then
      if [ "$type" = qemu ]; then REASON="no answer from the QEMU guest agent within $BOOT_TIMEOUT s"; else REASON="the container did not run a command within $BOOT_TIMEOUT s"; fi
      return 1
    fi
    sleep "$(secs $(( left < POLL * 1000 ? left : POLL * 1000 )))"
  done
}

# Restores one backup to a scratch guest, boots it isolated, destroys it, logs the result.
test_backup() {
  local i=$1 guest=$2 btype=$3 volid=$4 btime=$5
  local type=qemu scratch out t1 boot_ms=0
  [ "$btype" = ct ] && type=lxc
  REASON=""
  if ! scratch=$(free_scratch_id); then
    record "$i" "$guest" "$type" "$volid" "$btime" "" 0 0 "no free guest id in the scratch range $SCRATCH_FROM-$SCRATCH_TO"
    return
  fi
  say "testing $volid (guest $guest, service ${SVC_NAME[$i]}) as scratch guest $scratch"
  CUR_ID=$scratch CUR_TYPE=$type CUR_OWNED=0 CUR_DONE=0
  CUR_SVC=$i CUR_GUEST=$guest CUR_VOLID=$volid CUR_BTIME=$btime CUR_RESTORE_MS=0
  printf '%s %s %s\n' "$scratch" "$type" "$volid" >"$STATE_DIR/current"
  CUR_T0=$(now_ms)
  if ! out=$(pve "$type" restore "$scratch" "$volid" 2>&1); then
    REASON="restore failed: $(last_line "$out")"
  else
    CUR_OWNED=1
    if isolate "$type" "$scratch" "$volid"; then
      t1=$(now_ms)
      CUR_RESTORE_MS=$(( t1 - CUR_T0 ))
      if ! out=$(pve "$type" start "$scratch" 2>&1); then
        REASON="start failed: $(last_line "$out")"
      elif ! wait_boot "$type" "$scratch"; then
        :
      fi
      boot_ms=$(( $(now_ms) - t1 ))
    fi
  fi
  [ "$CUR_RESTORE_MS" != 0 ] || CUR_RESTORE_MS=$(( $(now_ms) - CUR_T0 ))
  destroy_current
  if [ $? = 1 ]; then
    REASON="${REASON:+$REASON; }the scratch guest $scratch could not be destroyed"
  fi
  CUR_DONE=1
  record "$i" "$guest" "$type" "$volid" "$btime" "$scratch" "$CUR_RESTORE_MS" "$boot_ms" "$REASON"
}

# A run that is stopped (systemd, Ctrl-C) or fails still destroys its scratch guest and says so.
PROBE_PID=""
on_exit() {
  local rc=$?
  trap - EXIT
  # timeout runs its command in a process group of its own, which a stop signal to ours misses.
  [ -z "$PROBE_PID" ] || kill "$PROBE_PID" 2>/dev/null
  if [ -n "$CUR_ID" ]; then
    local scratch=$CUR_ID
    destroy_current
    if [ "$CUR_DONE" = 0 ]; then
      CUR_DONE=1
      record "$CUR_SVC" "$CUR_GUEST" "$CUR_TYPE" "$CUR_VOLID" "$CUR_BTIME" "$scratch" "$(( $(now_ms) - CUR_T0 ))" 0 "the run was stopped (${STOPPED_BY:-exit $rc}) during the test"
      notify error "homelab-backup restore test ($MODE, $SITE): stopped" "$(printf '%s\n' "${RESULTS[@]}" "${WARNINGS[@]}")"
    fi
    [ "$rc" -ne 0 ] || rc=1
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'STOPPED_BY=SIGTERM; exit 143' TERM
trap 'STOPPED_BY=SIGINT; exit 130' INT
trap 'STOPPED_BY=SIGHUP; exit 129' HUP

# --- the run ----------------------------------------------------------------------------------------
cleanup_leftovers() {
  local id
  for id in $(printf '%s\n' "${!RES_TYPE[@]}" | sort -n); do
    in_range "$id" && has_tag "${RES_TAGS[$id]}" "$MARK" || continue
    if [ -n "${PROD[$id]:-}" ]; then
      WARNINGS+=("guest $id carries the tag $MARK but is a production guest; left alone")
      continue
    fi
    if [ "${RES_NODE[$id]}" != "$NODE" ]; then
      WARNINGS+=("scratch guest $id left by an earlier run is on node ${RES_NODE[$id]}; that node's run destroys it")
      USED[$id]=1
      continue
    fi
    say "destroying scratch guest $id left by an earlier run"
    if destroy_guest "${RES_TYPE[$id]}" "$id" 0; then
      unset "RES_TYPE[$id]"
      CLEANED+=("$id")
    else
      USED[$id]=1
      CLEANUP_FAILED=1
      WARNINGS+=("scratch guest $id left by an earlier run could not be destroyed")
    fi
  done
  if [ -f "$STATE_DIR/current" ]; then
    local cid _ctype cvolid
    read -r cid _ctype cvolid <"$STATE_DIR/current" || true
    # The window between a restore and its mark: such a guest may just as well be someone else's now.
    if [ -n "${RES_TYPE[$cid]:-}" ] && ! has_tag "${RES_TAGS[$cid]}" "$MARK"; then
      WARNINGS+=("guest $cid was being restored from $cvolid when a run ended and carries no mark; left alone, check it by hand")
    fi
    rm -f "$STATE_DIR/current"
  fi
}

mkdir -p "$STATE_DIR"
exec 9>>"$STATE_DIR/lock"
if ! flock -w 21600 9; then
  say "another restore test has held $STATE_DIR/lock for 6 hours"
  exit 75
fi
if [ -n "${HOMELAB_RESTORE_TEST_SEED:-}" ]; then RANDOM=$HOMELAB_RESTORE_TEST_SEED; else RANDOM=$(( $(od -An -N2 -tu2 /dev/urandom) )); fi

CLEANED=() CLEANUP_FAILED=0
if ! load_resources; then
  notify error "homelab-backup restore test ($MODE, $SITE): cannot list guests" "pvesh get /cluster/resources failed on $NODE"
  exit 1
fi
resolve_scope
cleanup_leftovers
if [ "$MODE" = cleanup ]; then
  [ "${#CLEANED[@]}" -eq 0 ] || WARNINGS+=("destroyed scratch guests left by an earlier run: ${CLEANED[*]}")
  [ "${#WARNINGS[@]}" -eq 0 ] || notify warning "homelab-backup restore test cleanup ($SITE)" "$(printf '%s\n' "${WARNINGS[@]}")"
  exit "$CLEANUP_FAILED"
fi
if ! load_backups; then
  record "" "" "" "" "" "" 0 0 "pvesm list $STORAGE --content backup failed"
  notify error "homelab-backup restore test ($MODE, $SITE): cannot list backups" "pvesm list $STORAGE failed on $NODE"
  exit 1
fi
problem=$(bridge_problem)
if [ -n "$problem" ]; then
  record "" "" "" "" "" "" 0 0 "$problem"
  notify error "homelab-backup restore test ($MODE, $SITE): fail" "$problem"
  exit 1
fi
CUTOFF=$(date -u -d "@$(( $(date +%s) - MAX_AGE ))" +%Y-%m-%dT%H:%M:%SZ)

if [ "$MODE" = weekly ]; then
  declare -A ELIGIBLE=()
  for k in "${!BK_VOLID[@]}"; do
    id=${BK_VMID[$k]}
    [ -n "${SCOPE[$id]:-}" ] && kind_allows "${SVC_KIND[${SCOPE[$id]}]}" "${BK_TYPE[$k]}" && [[ ! ${BK_TIME[$k]} < $CUTOFF ]] || continue
    ELIGIBLE[$id]+=" $k"
  done
  mapfile -t guests < <(printf '%s\n' "${!ELIGIBLE[@]}" | sed '/^$/d' | sort -n)
  if [ "${#guests[@]}" -eq 0 ]; then
    record "" "" "" "" "" "" 0 0 "no backup of a guest in scope on $STORAGE is newer than $CUTOFF"
  else
    # A random guest first, then one of its recent backups: hourly guests would otherwise crowd out the rest.
    guest=${guests[RANDOM % ${#guests[@]}]}
    read -r -a picks <<<"${ELIGIBLE[$guest]}"
    k=${picks[RANDOM % ${#picks[@]}]}
    test_backup "${SCOPE[$guest]}" "$guest" "${BK_TYPE[$k]}" "${BK_VOLID[$k]}" "${BK_TIME[$k]}"
  fi
else
  for i in "${!SVC_NAME[@]}"; do
    [[ " ${MONTHLY[*]} " == *" ${SVC_NAME[$i]} "* ]] || continue
    if [ -z "${SVC_GUESTS[$i]// /}" ]; then
      record "$i" "" "" "" "" "" 0 0 "no guest of service ${SVC_NAME[$i]} was found"
      continue
    fi
    for guest in ${SVC_GUESTS[$i]}; do
      latest=""
      for k in "${!BK_VOLID[@]}"; do
        [ "${BK_VMID[$k]}" = "$guest" ] && kind_allows "${SVC_KIND[$i]}" "${BK_TYPE[$k]}" || continue
        if [ -z "$latest" ] || [[ ${BK_TIME[$k]} > ${BK_TIME[$latest]} ]]; then latest=$k; fi
      done
      if [ -z "$latest" ]; then
        record "$i" "$guest" "" "" "" "" 0 0 "no backup of guest $guest on $STORAGE"
      elif [[ ${BK_TIME[$latest]} < $CUTOFF ]]; then
        t=qemu; [ "${BK_TYPE[$latest]}" = ct ] && t=lxc
        record "$i" "$guest" "$t" "${BK_VOLID[$latest]}" "${BK_TIME[$latest]}" "" 0 0 "the latest backup of guest $guest is older than $CUTOFF"
      else
        test_backup "$i" "$guest" "${BK_TYPE[$latest]}" "${BK_VOLID[$latest]}" "${BK_TIME[$latest]}"
      fi
    done
  done
fi

if [ "$FAILED" = 1 ]; then level=error; verdict=fail
elif [ "${#WARNINGS[@]}" -gt 0 ]; then level=warning; verdict=pass
else level=info; verdict=pass; fi
[ "${#CLEANED[@]}" -eq 0 ] || WARNINGS+=("destroyed scratch guests left by an earlier run: ${CLEANED[*]}")
notify "$level" "homelab-backup restore test ($MODE, $SITE): $verdict" "$(printf '%s\n' "${RESULTS[@]}" "${WARNINGS[@]}")"
# Warnings (a guest left alone, leftovers cleaned) reach the notification; only failures fail the unit.
[ "$FAILED" = 0 ] && [ "$CLEANUP_FAILED" = 0 ]
exit $?
