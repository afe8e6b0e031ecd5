/**
 * The capacity check: PBS datastores (through the PBS API, with its usage history) and TrueNAS
 * pools (through `pool.query`, with usage samples the check keeps itself), each alerting above
 * the threshold and projecting the days until full from the trend.
 */
import { shellQuote } from "../agents/shell";
import {
  MonitoringArgsError,
  checkNumber,
  checkOnCalendar,
  checkPingUrl,
  pbsAddress,
  resolvePbsEndpoint,
  type PbsApiEndpoint,
  type ResolvedPbsEndpoint,
} from "./connection";
import { defaultCheckLayout, type CheckLayout } from "./layout";
import { DATASTORE_NAME } from "../pbs/fields";
import { ALERT_SH, checkPrologue, COMMON_SH, PBS_API_SH, TREND_JQ } from "./shell-lib";
import { formatFingerprint, isSha256Fingerprint } from "../pbs/tls";

/** The TrueNAS API, queried from the check's host. */
export interface TruenasApiEndpoint {
  /** Host name or address of the NAS. */
  host: string;
  /** @default 443 */
  port?: number;
  /** SHA-256 fingerprint of a self-signed NAS certificate. @default none: the system's CAs verify it */
  fingerprint?: string;
  /** CA bundle on the check's host for a NAS certificate from a private CA. @default the system's trust store */
  caFile?: string;
  /** The API key's user; give it the read-only READONLY_ADMIN role, nothing more. */
  username: string;
  /** Pools to check. @default every pool `pool.query` returns */
  pools?: string[];
}

export interface CapacitySpec {
  /** PBS as the check's host reaches it (`127.0.0.1` on the PBS host), with the audit token's id. */
  pbs: PbsApiEndpoint;
  /** Datastores to check. @default every datastore the token can see */
  datastores?: string[];
  /** Alert (warning) at or above this much used. @default 80 */
  thresholdPercent?: number;
  /** Alert as an error at or above this much used. @default 95 */
  criticalPercent?: number;
  /** Alert (warning) when the trend fills the store within this many days, even below the threshold. @default 30 */
  fullWithinDays?: number;
  /** Pools of the NAS. @default none */
  truenas?: TruenasApiEndpoint;
  /** How often an open alert is repeated. @default 24 */
  repeatHours?: number;
  /** Healthchecks URL pinged around each run: the monitor's own dead-man's switch. @default none */
  healthcheckUrl?: string;
  /** `OnCalendar=` of the timer. @default "hourly" */
  schedule?: string;
  /** Seconds each API call may take. @default 20 */
  timeoutSeconds?: number;
}

export interface ResolvedCapacitySpec {
  pbs: ResolvedPbsEndpoint;
  datastores: string[];
  thresholdPercent: number;
  criticalPercent: number;
  fullWithinDays: number;
  truenas?: { url: string; username: string; fingerprint?: string; caFile?: string; pools: string[] };
  repeatHours: number;
  healthcheckUrl?: string;
  schedule: string;
  timeoutSeconds: number;
}

const POOL = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/**
 * Applies defaults and checks everything, reporting all problems at once.
 * @throws MonitoringArgsError
 */
export function resolveCapacitySpec(spec: CapacitySpec, component = "capacity check"): ResolvedCapacitySpec {
  const problems: string[] = [];
  const pbs = resolvePbsEndpoint("pbs", spec.pbs ?? ({} as PbsApiEndpoint), problems);
  const datastores = spec.datastores ?? [];
  datastores.forEach((d, i) => DATASTORE_NAME.test(d) || problems.push(`datastores[${i}] ${JSON.stringify(d)} is not a datastore name`));
  const thresholdPercent = spec.thresholdPercent ?? 80;
  const criticalPercent = spec.criticalPercent ?? 95;
  checkNumber("thresholdPercent", thresholdPercent, 1, 99, problems);
  checkNumber("criticalPercent", criticalPercent, 1, 100, problems);
  if (criticalPercent < thresholdPercent) problems.push(`criticalPercent ${criticalPercent} is below thresholdPercent ${thresholdPercent}`);
  const fullWithinDays = spec.fullWithinDays ?? 30;
  checkNumber("fullWithinDays", fullWithinDays, 0, 3650, problems);
  const repeatHours = spec.repeatHours ?? 24;
  checkNumber("repeatHours", repeatHours, 1, 24 * 365, problems);
  const timeoutSeconds = spec.timeoutSeconds ?? 20;
  checkNumber("timeoutSeconds", timeoutSeconds, 1, 300, problems);
  const schedule = spec.schedule ?? "hourly";
  checkOnCalendar("schedule", schedule, problems);
  const healthcheckUrl = checkPingUrl("healthcheckUrl", spec.healthcheckUrl, problems);

  let truenas: ResolvedCapacitySpec["truenas"];
  if (spec.truenas) {
    const t = spec.truenas;
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(t.host ?? "")) problems.push(`truenas.host ${JSON.stringify(t.host)} is invalid; expected a host name or IPv4 address`);
    const port = t.port ?? 443;
    checkNumber("truenas.port", port, 1, 65535, problems);
    if (t.fingerprint !== undefined && !isSha256Fingerprint(t.fingerprint)) problems.push(`truenas.fingerprint ${JSON.stringify(t.fingerprint)} is invalid; expected a SHA-256 fingerprint`);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(t.username ?? "")) problems.push(`truenas.username ${JSON.stringify(t.username)} is not a user name`);
    if (t.caFile !== undefined && !/^\/[^\s'"\\`$]*$/.test(t.caFile)) problems.push(`truenas.caFile ${JSON.stringify(t.caFile)} is not an absolute path`);
    (t.pools ?? []).forEach((p, i) => POOL.test(p) || problems.push(`truenas.pools[${i}] ${JSON.stringify(p)} is not a pool name`));
    truenas = {
      url: `wss://${t.host}:${port}/api/current`,
      username: t.username,
      ...(t.fingerprint !== undefined && isSha256Fingerprint(t.fingerprint) ? { fingerprint: formatFingerprint(t.fingerprint) } : {}),
      ...(t.caFile !== undefined ? { caFile: t.caFile } : {}),
      pools: [...(t.pools ?? [])],
    };
  }
  if (problems.length > 0) throw new MonitoringArgsError(component, problems);
  return {
    pbs,
    datastores: [...datastores],
    thresholdPercent,
    criticalPercent,
    fullWithinDays,
    ...(truenas ? { truenas } : {}),
    repeatHours,
    ...(healthcheckUrl !== undefined ? { healthcheckUrl } : {}),
    schedule,
    timeoutSeconds,
  };
}

/** The env file: the PBS audit token's secret and, with pools, the TrueNAS API key. */
export function renderCapacityEnv(pbsTokenSecret: string, truenasApiKey?: string): string {
  for (const [what, v] of [["the PBS token secret", pbsTokenSecret], ["the TrueNAS API key", truenasApiKey]] as const) {
    if (v !== undefined && (v === "" || /[\r\n\0]/.test(v))) throw new Error(`capacity check: ${what} is empty or contains a line break`);
  }
  const lines = ["# homelab-backup capacity check secrets, written by Pulumi.", `PBS_TOKEN_SECRET=${shellQuote(pbsTokenSecret)}`];
  if (truenasApiKey !== undefined) lines.push(`TRUENAS_API_KEY=${shellQuote(truenasApiKey)}`);
  return lines.join("\n") + "\n";
}

function bashArray(values: string[]): string {
  return `(${values.map(shellQuote).join(" ")})`;
}

export function renderCapacityScript(spec: ResolvedCapacitySpec, layout: CheckLayout = defaultCheckLayout("capacity")): string {
  const t = spec.truenas;
  const truenasArgs = t
    ? ["--url", t.url, "--user", t.username, ...(t.fingerprint ? ["--fingerprint", t.fingerprint] : []), ...(t.caFile ? ["--cafile", t.caFile] : []), "--timeout", String(spec.timeoutSeconds)]
    : [];
  return `#!/bin/bash
# homelab-backup capacity check: PBS datastores${t ? " and TrueNAS pools" : ""} against ${spec.thresholdPercent} % used,
# with the days until full projected from the trend. Written by Pulumi: edits here are overwritten.
# Exit 0 when every store was checked (alerts go through homelab-backup-notify), 1 when one could
# not be, 2 when the check cannot run at all.
set -uo pipefail
umask 077
PATH="$PATH:/usr/sbin:/sbin"

PBS_ADDR=${shellQuote(pbsAddress(spec.pbs))}
PBS_FINGERPRINT=${shellQuote(spec.pbs.fingerprint)}
PBS_TOKEN_ID=${shellQuote(spec.pbs.tokenId)}
PBS_TIMEOUT=${spec.timeoutSeconds}
DATASTORES=${bashArray(spec.datastores)}
THRESHOLD=${spec.thresholdPercent}
CRITICAL=${spec.criticalPercent}
FULL_WITHIN_DAYS=${spec.fullWithinDays}
REPEAT_SECONDS=${spec.repeatHours * 3600}
HEALTHCHECK=${shellQuote(spec.healthcheckUrl ?? "")}
CHECK_POOLS=${t ? 1 : 0}
POOLS=${bashArray(t?.pools ?? [])}
TRUENAS_QUERY=(${[layout.truenasQuery, ...truenasArgs].map(shellQuote).join(" ")})
ENV_FILE=${shellQuote(layout.envFile)}
STATE_DIR=${shellQuote(layout.stateDir)}
NOTIFY=${shellQuote(layout.notify)}
# The projection needs a day of history; pool samples are kept for this long.
MIN_SPAN=86400
SAMPLE_DAYS=35

${COMMON_SH}
${PBS_API_SH}
${ALERT_SH}
TREND=${shellQuote(TREND_JQ)}

${checkPrologue("Capacity check", ["PBS_TOKEN_SECRET", "TRUENAS_API_KEY"])}
mkdir -p "$STATE_DIR"
hc_ping "$HEALTHCHECK" /start

# report <key> <what> <percent> <used bytes> <total bytes> <days or ""> <history days>
report() {
  local key=$1 what=$2 pct=$3 used=$4 total=$5 days=$6 span=$7 trend sev="" title
  if [ -n "$days" ]; then trend="At the trend of the last $span days it is full in $days days."
  else trend="It is not growing over the last $span days, so there is no days-until-full projection."
  fi
  local text="$what is $pct % full ($(gb "$used") of $(gb "$total") GB used, threshold $THRESHOLD %). $trend"
  log "$text"
  if [ "$pct" -ge "$CRITICAL" ]; then sev=error title="$what is $pct % full"
  elif [ "$pct" -ge "$THRESHOLD" ]; then sev=warning title="$what is $pct % full"
  elif [ -n "$days" ] && [ "$days" -le "$FULL_WITHIN_DAYS" ]; then sev=warning title="$what fills up in $days days"
  fi
  if [ -n "$sev" ]; then alert "$key" "$sev" "$title" "$text"
  else resolve "$key" "$what is back to $pct % used" "$text"
  fi
}

contains() {
  local want=$1 x
  shift
  for x in "$@"; do [ "$x" = "$want" ] && return 0; done
  return 1
}
# An empty list of names means all of them.
wanted() { [ "$#" -eq 1 ] || contains "$@"; }

check_datastores() {
  if ! pbs_connect || ! pbs_get "$TMP/usage.json" /status/datastore-usage; then
    alert pbs-api error "Capacity check cannot read PBS" "$PBS_ERROR"
    UNCHECKED=$((UNCHECKED + 1))
    return
  fi
  resolve pbs-api "Capacity check reads PBS again" "The PBS API at $PBS_ADDR answers again."
  local seen=() store total used err days span pct
  # Fields split on the unit separator: tabs are whitespace to read, which merges empty fields.
  while IFS=$'\\x1f' read -r store total used err days span; do
    wanted "$store" "\${DATASTORES[@]}" || continue
    seen+=("$store")
    if [ -z "$total" ] || [ "$total" = 0 ]; then
      alert "usage-$store" error "Datastore $store reports no usage" "PBS reports no usage for datastore $store\${err:+ ($err)}: not mounted, offline or unavailable."
      UNCHECKED=$((UNCHECKED + 1))
      continue
    fi
    resolve "usage-$store" "Datastore $store reports its usage again" "PBS reports the usage of datastore $store again."
    pct=$((used * 100 / total))
    report "datastore-$store" "PBS datastore $store" "$pct" "$used" "$total" "$days" "$span"
  done < <(jq -r --argjson min "$MIN_SPAN" "$TREND"'
    .data[] | (.["history-start"] // 0) as $start | (.["history-delta"] // 86400) as $delta
    | ([(.history // []) | to_entries[] | [($start + .key * $delta), .value]]) as $points
    | ($points | map(select(.[1] != null))) as $known
    | [.store, (.total // ""), (.used // ""), (.error // ""),
       (if (.total // 0) > 0 then ((.used / .total) as $cur | $points | days_to_full($cur; $min)) // "" else "" end),
       (if ($known | length) > 1 then (($known[-1][0] - $known[0][0]) / 86400 | floor) else 0 end)]
    | map(tostring) | join("\\u001f")' "$TMP/usage.json")
  for store in "\${DATASTORES[@]}"; do
    if ! contains "$store" "\${seen[@]}"; then
      alert "usage-$store" error "Datastore $store is missing" "PBS does not list datastore $store in its usage: it does not exist, or the token $PBS_TOKEN_ID lacks the DatastoreAudit role on /datastore/$store."
      UNCHECKED=$((UNCHECKED + 1))
    fi
  done
}

check_pools() {
  if ! TRUENAS_API_KEY="$TRUENAS_API_KEY" "\${TRUENAS_QUERY[@]}" pool.query >"$TMP/pools.json" 2>"$TMP/pools.err"; then
    alert truenas-api error "Capacity check cannot read TrueNAS" "$(head -n 3 "$TMP/pools.err")"
    UNCHECKED=$((UNCHECKED + 1))
    return
  fi
  resolve truenas-api "Capacity check reads TrueNAS again" "The TrueNAS API answers again."
  local seen=() name size allocated status healthy file days span pct
  while IFS=$'\\x1f' read -r name size allocated status healthy; do
    wanted "$name" "\${POOLS[@]}" || continue
    seen+=("$name")
    if [ "$status" != ONLINE ] || [ "$healthy" != true ]; then
      alert "pool-health-$name" error "TrueNAS pool $name is $status" "TrueNAS reports pool $name as $status (healthy: $healthy)."
    else
      resolve "pool-health-$name" "TrueNAS pool $name is ONLINE again" "TrueNAS reports pool $name as ONLINE and healthy."
    fi
    if [ -z "$size" ] || [ "$size" = 0 ]; then
      alert "pool-usage-$name" error "TrueNAS pool $name reports no size" "pool.query reports no size for pool $name."
      continue
    fi
    # TrueNAS keeps no usage history in pool.query: the check records a sample per run.
    file="$STATE_DIR/pool-$name.samples"
    printf '%s %s\\n' "$NOW" "$(awk -v a="$allocated" -v s="$size" 'BEGIN { printf "%.6f", a / s }')" >>"$file"
    awk -v since=$((NOW - SAMPLE_DAYS * 86400)) '$1 >= since' "$file" >"$file.new" && mv -f "$file.new" "$file"
    days=$(jq -R -n -r --argjson min "$MIN_SPAN" --argjson a "$allocated" --argjson s "$size" "$TREND"'
      [inputs | split(" ") | map(tonumber)] | days_to_full($a / $s; $min) // ""' "$file")
    span=$(awk 'NR == 1 { first = $1 } { last = $1 } END { printf "%d", (last - first) / 86400 }' "$file")
    pct=$((allocated * 100 / size))
    report "pool-$name" "TrueNAS pool $name" "$pct" "$allocated" "$size" "$days" "$span"
  done < <(jq -r '.[] | [.name, (.size // ""), (.allocated // ""), (.status // "UNKNOWN"), .healthy] | map(tostring) | join("\\u001f")' "$TMP/pools.json")
  for name in "\${POOLS[@]}"; do
    if ! contains "$name" "\${seen[@]}"; then
      alert "pool-usage-$name" error "TrueNAS pool $name is missing" "pool.query does not list pool $name."
      UNCHECKED=$((UNCHECKED + 1))
    fi
  done
}

check_datastores
[ "$CHECK_POOLS" -eq 0 ] || check_pools

if [ "$UNCHECKED" -gt 0 ]; then
  hc_ping "$HEALTHCHECK" /fail "$UNCHECKED store(s) could not be checked"
  exit 1
fi
hc_ping "$HEALTHCHECK" "" "$ALERTS alert(s)"
exit 0
`;
}
