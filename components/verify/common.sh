# shellcheck shell=bash
# Bash helpers both restore-test scripts include (see common.ts).
say() { echo "$SCRIPT_NAME: $*" >&2; }
now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }
secs() { local ms=$(( ($1 + 99) / 100 )); printf '%d.%d' $(( ms / 10 )) $(( ms % 10 )); }
iso_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
# A JSON string; control characters other than tab and newline are dropped, as is anything past 1000 bytes.
jstr() {
  local s=${1:0:1000}
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  s=${s//$'\t'/\\t}
  s=${s//[$'\001'-$'\010'$'\013'$'\014'$'\016'-$'\037'$'\177']/}
  printf '"%s"' "$s"
}
# A JSON string, or null when empty.
jval() { if [ -n "$1" ]; then jstr "$1"; else printf null; fi; }
# A JSON number, or null when empty.
jnum() { if [ -n "$1" ]; then printf '%s' "$1"; else printf null; fi; }
# The line of a command's output that says what went wrong: the last one naming an error (psql
# follows its ERROR line with the query and a caret), else the last non-empty one (PVE's way).
last_line() {
  local found
  found=$(printf '%s\n' "$1" | grep -E 'ERROR|FATAL|[Ee]rror' | tail -n 1)
  [ -n "$found" ] || found=$(printf '%s\n' "$1" | sed '/^[[:space:]]*$/d' | tail -n 1)
  printf '%s' "$found"
}
write_log() {
  mkdir -p "${LOG%/*}"
  # One printf per line: appends from two scripts never interleave inside a line.
  printf '%s\n' "$1" >>"$LOG" || say "could not write to $LOG"
}
notify() {
  if [ -x "$NOTIFY" ]; then
    "$NOTIFY" "$1" "$2" "$3" || say "the notify command $NOTIFY failed"
  else
    say "no notify command at $NOTIFY; $1: $2"
  fi
}
