/**
 * bash functions the generated check scripts and the vzdump hook share, pasted into each script
 * (a script is then one self-contained file, hashed and diffed as one). They expect `set -u`,
 * `TMP` (a private temp dir) and the config variables each block names.
 */

/** Logging, the private temp dir, notify and healthchecks pings. Needs NOTIFY. */
export const COMMON_SH = `log() { printf '%s\\n' "$*"; }
warn() { printf '%s\\n' "$*" >&2; }

TMP=$(mktemp -d "\${TMPDIR:-/tmp}/homelab-backup.XXXXXX") || { warn "cannot create a temp dir"; exit 2; }
trap 'rm -rf "$TMP"' EXIT

# Sends one message through homelab-backup-notify. A failed delivery is logged, never fatal:
# the check or the backup must not fail because a phone was unreachable.
notify() {
  if [ ! -x "$NOTIFY" ]; then
    warn "$NOTIFY is not installed; not sent: [$1] $2"
    return 1
  fi
  local rc=0
  # Never the caller's stdin: inside a read loop, a command that reads it eats the loop's lines.
  "$NOTIFY" "$1" "$2" "$3" </dev/null || rc=$?
  [ "$rc" -eq 0 ] || warn "$NOTIFY exited $rc for: [$1] $2"
  return "$rc"
}

# Healthchecks-style dead-man's switch: hc_ping <url> <""|/start|/fail> [message].
hc_ping() {
  [ -n "$1" ] || return 0
  if ! curl --silent --show-error --fail --output /dev/null --max-time 10 --retry 2 \\
      --data-binary "\${3:-}" "$1$2" </dev/null 2>"$TMP/hc.err"; then
    warn "healthchecks ping $1$2 failed: $(head -n 1 "$TMP/hc.err")"
  fi
  return 0
}

# "40 s", "25 min", "2 h", "2 h 5 min", "3 d 4 h" from seconds.
human_duration() {
  local s=$1
  if [ "$s" -ge 86400 ]; then unit_pair $((s / 86400)) d $((s % 86400 / 3600)) h
  elif [ "$s" -ge 3600 ]; then unit_pair $((s / 3600)) h $((s % 3600 / 60)) min
  elif [ "$s" -ge 60 ]; then printf '%d min' $((s / 60))
  else printf '%d s' "$s"
  fi
}
# The smaller unit only when it is not zero.
unit_pair() {
  if [ "$3" -eq 0 ]; then printf '%d %s' "$1" "$2"; else printf '%d %s %d %s' "$1" "$2" "$3" "$4"; fi
}

# Decimal gigabytes, as the strategy sizes data.
gb() { printf '%d' $(($1 / 1000000000)); }
`;

/**
 * The PBS API with the pinned certificate. Needs PBS_ADDR (host:port), PBS_FINGERPRINT
 * (upper-case, colon-separated), PBS_TOKEN_ID, PBS_TOKEN_SECRET and PBS_TIMEOUT; sets PBS_ERROR.
 *
 * Trust is the pinned certificate, as PVE's `pbs` storage does it: the certificate is fetched
 * and its SHA-256 fingerprint compared before anything is sent, then every call is pinned to
 * that certificate's public key, so no call (and no token) can reach a server holding another
 * key, whatever answers between the two steps (curl compares the whole key, read from a file). `--insecure`
 * only lifts chain validation, which a self-signed PBS certificate can never pass; it is never
 * used without the pin.
 */
export const PBS_API_SH = `PBS_PIN=""
PBS_ERROR=""

pbs_connect() {
  local rc=0 fp reason
  PBS_PIN=""
  timeout "$PBS_TIMEOUT" openssl s_client -connect "$PBS_ADDR" </dev/null >"$TMP/s_client.out" 2>"$TMP/s_client.err" || rc=$?
  # One openssl reads both: the fingerprint line, then the certificate's public key.
  if ! openssl x509 -noout -fingerprint -sha256 -pubkey <"$TMP/s_client.out" >"$TMP/cert.txt" 2>/dev/null; then
    if [ "$rc" -eq 124 ]; then reason="no TLS handshake within \${PBS_TIMEOUT}s"
    else
      reason=$(grep -m 1 -oE 'Connection refused|Connection reset by peer|Name or service not known|Temporary failure in name resolution|No route to host|Network is unreachable|wrong version number' "$TMP/s_client.err")
      reason=\${reason:-no TLS certificate received}
    fi
    PBS_ERROR="PBS at $PBS_ADDR is unreachable: $reason"
    return 1
  fi
  read -r fp <"$TMP/cert.txt"
  fp=\${fp#*=}
  fp=\${fp^^}
  if [ "$fp" != "$PBS_FINGERPRINT" ]; then
    PBS_ERROR="the certificate of PBS at $PBS_ADDR has SHA-256 fingerprint $fp, but $PBS_FINGERPRINT is pinned; refusing to send the token (compare with proxmox-backup-manager cert info)"
    return 1
  fi
  sed -n '/-----BEGIN PUBLIC KEY-----/,/-----END PUBLIC KEY-----/p' "$TMP/cert.txt" >"$TMP/pbs.pub"
  if [ ! -s "$TMP/pbs.pub" ]; then
    PBS_ERROR="could not read the public key of the certificate of PBS at $PBS_ADDR"
    return 1
  fi
  PBS_PIN="$TMP/pbs.pub"
}

# The token goes to curl as a config file on standard input, never on its command line, where
# every local user could read it in the process list.
pbs_auth_config() {
  local value="PBSAPIToken=$PBS_TOKEN_ID:$PBS_TOKEN_SECRET"
  value=\${value//\\\\/\\\\\\\\}
  value=\${value//\\"/\\\\\\"}
  printf 'header = "Authorization: %s"\\n' "$value"
}

# pbs_get <file> <path> [curl --data-urlencode k=v ...]: the answer in <file>; its result is ".data".
pbs_get() {
  local out=$1 path=$2 code msg
  shift 2
  if [ -z "$PBS_PIN" ]; then PBS_ERROR="pbs_get before pbs_connect"; return 1; fi
  code=$(pbs_auth_config | curl --config - --silent --show-error --insecure --pinnedpubkey "$PBS_PIN" \\
    --connect-timeout 10 --max-time "$PBS_TIMEOUT" --get --output "$TMP/pbs.body" --write-out '%{http_code}' \\
    "$@" "https://$PBS_ADDR/api2/json$path" 2>"$TMP/curl.err") || true
  case "$code" in
    2??) mv -f "$TMP/pbs.body" "$out"; return 0 ;;
    000|"")
      PBS_ERROR="GET $path on PBS at $PBS_ADDR failed: $(head -n 1 "$TMP/curl.err")"
      return 1 ;;
  esac
  msg=$(jq -r '.message // empty' "$TMP/pbs.body" 2>/dev/null | tr '\\n' ' ' | sed 's/ *$//')
  PBS_ERROR="PBS answered $code to GET $path: \${msg:-no message}"
  case "$code" in
    401|403) PBS_ERROR="$PBS_ERROR (is the audit token $PBS_TOKEN_ID right, with the DatastoreAudit role on the datastore?)" ;;
  esac
  return 1
}
`;

/**
 * Alert state for the timer checks: one file per open alert holding "<severity> <epoch sent>",
 * so an alert is sent when it opens, when its severity changes and again every REPEAT_SECONDS,
 * and its resolution once. Needs STATE_DIR, NOW, REPEAT_SECONDS.
 */
export const ALERT_SH = `alert_file() { printf '%s/alert.%s' "$STATE_DIR" "$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_')"; }

# alert <key> <warning|error> <title> <body>
alert() {
  local f prev_sev="" prev_at=0
  f=$(alert_file "$1")
  ALERTS=$((ALERTS + 1))
  warn "$3: $4"
  if [ -f "$f" ]; then read -r prev_sev prev_at <"$f" || true; fi
  if [ "$prev_sev" = "$2" ] && [ $((NOW - \${prev_at:-0})) -lt "$REPEAT_SECONDS" ]; then
    log "(already notified $(human_duration $((NOW - prev_at))) ago)"
    return 0
  fi
  # Recorded only once delivered, so an undelivered alert is tried again on the next run.
  if notify "$2" "$3" "$4"; then printf '%s %s\\n' "$2" "$NOW" >"$f"; fi
}

# resolve <key> <title> <body>: an open alert is closed with one info message.
resolve() {
  local f
  f=$(alert_file "$1")
  [ -f "$f" ] || return 0
  if notify info "$2" "$3"; then rm -f "$f"; fi
}

# forget <key-prefix> <key>...: closes without a message the alerts under the prefix not named.
forget_except() {
  local prefix f keep k
  prefix=$(alert_file "$1")
  shift
  for f in "$prefix"*; do
    [ -e "$f" ] || continue
    keep=0
    for k in "$@"; do [ "$f" = "$(alert_file "$k")" ] && keep=1; done
    [ "$keep" -eq 1 ] || rm -f "$f"
  done
}
`;

/**
 * jq: days until a used fraction reaches 1, from a least-squares line through [epoch, fraction]
 * points; null without enough history or without growth. A line over the whole window, not the
 * last two samples, so one large backup or one GC run does not swing the projection.
 */
export const TREND_JQ = `def days_to_full($current; $min_span):
  map(select(.[1] != null)) as $p
  | if ($p | length) < 2 or (($p[-1][0] - $p[0][0]) < $min_span) then null
    else
      ($p | map(.[0]) | add / length) as $mt
      | ($p | map(.[1]) | add / length) as $mf
      | ($p | map((.[0] - $mt) * (.[1] - $mf)) | add) as $sxy
      | ($p | map((.[0] - $mt) * (.[0] - $mt)) | add) as $sxx
      | if $sxx == 0 then null
        else ($sxy / $sxx) as $slope
        | if $slope <= 0 then null
          elif $current >= 1 then 0
          else ((1 - $current) / $slope / 86400 | floor)
          end
        end
    end;`;

/**
 * The start every check script shares: the counters, the node's name, and the root-only env file
 * with the check's secrets (their variables emptied first, so a stale environment never leaks in).
 */
export function checkPrologue(title: string, secretVars: readonly string[]): string {
  return `NOW=$(date +%s)
ALERTS=0
UNCHECKED=0
node=$(uname -n)

if [ ! -r "$ENV_FILE" ]; then
  warn "$ENV_FILE is missing; it holds the audit token (pulumi up writes it)"
  notify error "${title} cannot run on $node" "$ENV_FILE is missing; it holds the PBS audit token." || true
  exit 2
fi
${secretVars.map((v) => `${v}=""`).join(" ")}
# shellcheck disable=SC1090
. "$ENV_FILE"`;
}
