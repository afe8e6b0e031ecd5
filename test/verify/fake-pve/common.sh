# shellcheck shell=bash
# Shared by the fake PVE commands (see ../fake-pve.ts): state in $FAKE_PVE, every call logged.
S=${FAKE_PVE:?FAKE_PVE is not set}
NODE=${HOSTNAME%%.*}
die() { echo "$*" >&2; exit 255; }
behaviour() { [ -f "$S/behaviour/$1" ] && printf '%s\n' "$(<"$S/behaviour/$1")"; }
gd() { echo "$S/guests/$1"; }
exists() { [ -d "$S/guests/$1" ]; }
gtype() { printf '%s\n' "$(<"$S/guests/$1/type")"; }
conf_get() { sed -n "s/^$2: //p" "$S/guests/$1/conf"; }
set_conf() {
  local id=$1 line k v d
  shift
  declare -A C=()
  while IFS= read -r line; do [ -n "$line" ] && C[${line%%: *}]=${line#*: }; done <"$S/guests/$id/conf"
  while [ $# -gt 0 ]; do
    k=${1#--} v=${2-}
    shift 2 || die "400 missing value for $k"
    if [ "$k" = delete ]; then
      for d in ${v//,/ }; do unset "C[$d]"; done
    else
      [[ $v != *$'\n'* ]] || die "400 Parameter verification failed: $k: value contains a line break"
      C[$k]=$v
    fi
  done
  for k in $(printf '%s\n' "${!C[@]}" | sort); do printf '%s: %s\n' "$k" "${C[$k]}"; done >"$S/guests/$id/conf"
}
restore_guest() {
  local type=$1 volid=$2 id=$3 vmid
  [[ $id =~ ^[1-9][0-9]*$ ]] || die "400 Parameter verification failed: vmid: invalid format"
  if exists "$id"; then die "unable to restore VM $id - VM $id already exists on node '$(<"$S/guests/$id/node")'"; fi
  grep -q "^$volid " "$S/backups.list" 2>/dev/null || die "can't find backup '$volid'"
  [[ $volid =~ /(vm|ct)/([0-9]+)/ ]] || die "unable to parse volume ID '$volid'"
  vmid=${BASH_REMATCH[2]}
  if [ "$type" = qemu ] && [ "${BASH_REMATCH[1]}" != vm ]; then die "unable to restore VM $id - archive '$volid' is not a VM backup"; fi
  if [ "$type" = lxc ] && [ "${BASH_REMATCH[1]}" != ct ]; then die "unable to restore CT $id - archive '$volid' is not a container backup"; fi
  local sleep_s; sleep_s=$(behaviour restore-sleep) && sleep "$sleep_s"
  local fail; fail=$(behaviour restore-fail) && die "$fail"
  mkdir -p "$S/guests/$id"
  echo "$type" >"$S/guests/$id/type"
  echo stopped >"$S/guests/$id/status"
  echo "$NODE" >"$S/guests/$id/node"
  cp "$S/backup-configs/$vmid.conf" "$S/guests/$id/conf"
  # --unique: new MAC addresses, as qmrestore and pct restore do.
  sed -i -E 's/(virtio|e1000|hwaddr)=([0-9A-F]{2}:){5}[0-9A-F]{2}/\1=BC:24:11:00:00:'"$(printf '%02X' $((id % 256)))"'/' "$S/guests/$id/conf"
  echo "restore done: $volid -> $id"
}
start_guest() {
  local id=$1 fail
  [ "$(<"$S/guests/$id/status")" != running ] || die "VM $id already running"
  fail=$(behaviour start-fail) && die "$fail"
  { echo "== $id"; cat "$S/guests/$id/conf"; } >>"$S/start-configs.log"
  echo running >"$S/guests/$id/status"
  if [ -f "$S/behaviour/start-stops" ]; then echo stopped >"$S/guests/$id/status"; fi
}
destroy_guest() {
  local id=$1 force=$2 n
  [ "$(conf_get "$id" protection)" != 1 ] || die "can't remove VM $id - protection mode enabled"
  if [ "$force" != 1 ] && [ "$(<"$S/guests/$id/status")" = running ]; then die "VM $id is running - destroy failed"; fi
  n=$(behaviour destroy-fail) && [ "$n" -gt 0 ] && { echo $((n - 1)) >"$S/behaviour/destroy-fail"; die "trying to acquire lock...\ncan't lock file '/var/lock/qemu-server/lock-$id.conf' - got timeout"; }
  rm -rf "$S/guests/$id"
}
ping_guest() {
  local id=$1 mode n
  [ "$(<"$S/guests/$id/status")" = running ] || die "VM $id is not running"
  mode=$(behaviour ping) || mode=ok
  case $mode in
    ok) return 0 ;;
    fail) die "QEMU guest agent is not running" ;;
    hang) exec sleep 1000 ;;
    after:*)
      n=$(cat "$S/ping-count" 2>/dev/null || echo 0)
      echo $((n + 1)) >"$S/ping-count"
      [ "$n" -ge "${mode#after:}" ] || die "QEMU guest agent is not running" ;;
  esac
}
echo "${0##*/} $*" >>"$S/calls.log"
