/**
 * The freshness check: the newest snapshot of every service's guests against the tier's RPO, and
 * backup tasks still running past their job's expected duration. Both read PBS, so one timer.
 */
import { shellQuote } from "../agents/shell";
import {
  MonitoringArgsError,
  checkName,
  checkNumber,
  checkOnCalendar,
  checkPingUrl,
  pbsAddress,
  resolvePbsEndpoint,
  type PbsApiEndpoint,
  type ResolvedPbsEndpoint,
} from "./connection";
import { defaultCheckLayout, type CheckLayout } from "./layout";
import { DATASTORE_NAME, NAMESPACE } from "../pbs/fields";
import { ALERT_SH, checkPrologue, COMMON_SH, PBS_API_SH } from "./shell-lib";

/** One service of the strategy, as the check needs it. */
export interface FreshnessService {
  /** The service's name; names its alert. */
  name: string;
  /** PBS datastore its backups land in. */
  datastore: string;
  /** PBS namespace, when the datastore has one per tier. @default the root namespace */
  namespace?: string;
  /** The guests (VM or container ids) whose newest snapshot must be within the RPO. */
  vmids: number[];
  /** The tier's RPO in minutes. */
  rpoMinutes: number;
  /** How long a run of the service's job is expected to take (minutes). */
  expectedDurationMinutes: number;
  /**
   * Extra age allowed on top of the RPO before an alert: a backup's time is when it started, so
   * right before the next run ends the newest one is about RPO + duration old by design.
   * @default expectedDurationMinutes
   */
  graceMinutes?: number;
}

export interface FreshnessSpec {
  /** PBS as the check's host reaches it (`127.0.0.1` on the PBS host), with the audit token's id. */
  pbs: PbsApiEndpoint;
  /** PBS node name in `/nodes/{node}/tasks`. @default "localhost" */
  pbsNode?: string;
  /** Every service of the strategy, with its guests resolved to ids. */
  services: FreshnessService[];
  /** Expected duration of backup tasks of guests no service names. @default 120 */
  defaultExpectedDurationMinutes?: number;
  /** How often an open alert is repeated. @default 24 */
  repeatHours?: number;
  /** Healthchecks URL pinged around each run: the monitor's own dead-man's switch. @default none */
  healthcheckUrl?: string;
  /** `OnCalendar=` of the timer. @default "*:0/15" */
  schedule?: string;
  /** Seconds each API call may take. @default 20 */
  timeoutSeconds?: number;
}

export interface ResolvedFreshnessService {
  name: string;
  datastore: string;
  namespace: string;
  vmids: number[];
  rpoMinutes: number;
  expectedDurationMinutes: number;
  graceMinutes: number;
}

export interface ResolvedFreshnessSpec {
  pbs: ResolvedPbsEndpoint;
  pbsNode: string;
  services: ResolvedFreshnessService[];
  defaultExpectedDurationMinutes: number;
  repeatHours: number;
  healthcheckUrl?: string;
  schedule: string;
  timeoutSeconds: number;
}


/**
 * Applies defaults and checks everything, reporting all problems at once.
 * @throws MonitoringArgsError
 */
export function resolveFreshnessSpec(spec: FreshnessSpec, component = "freshness check"): ResolvedFreshnessSpec {
  const problems: string[] = [];
  const pbs = resolvePbsEndpoint("pbs", spec.pbs ?? ({} as PbsApiEndpoint), problems);
  const pbsNode = spec.pbsNode ?? "localhost";
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(pbsNode)) problems.push(`pbsNode ${JSON.stringify(pbsNode)} is not a node name`);
  const services = spec.services ?? [];
  if (services.length === 0) problems.push("services is empty; expected the services whose backups must stay fresh");
  const names = new Set<string>();
  const guests = new Map<string, string>();
  const resolved = services.map((s, i) => {
    const at = `services[${i}]`;
    checkName(`${at}.name`, s.name, problems);
    if (names.has(s.name)) problems.push(`${at}.name ${JSON.stringify(s.name)} is used twice`);
    names.add(s.name);
    if (!DATASTORE_NAME.test(s.datastore ?? "")) problems.push(`${at}.datastore ${JSON.stringify(s.datastore)} is not a datastore name`);
    if (s.namespace !== undefined && !NAMESPACE.test(s.namespace)) problems.push(`${at}.namespace ${JSON.stringify(s.namespace)} is not a namespace path`);
    // Guests picked by pool or tag must be resolved to ids first: PBS groups backups by id.
    if (!Array.isArray(s.vmids) || s.vmids.length === 0) problems.push(`${at}.vmids is empty; expected the ids of the service's guests`);
    for (const [j, id] of (s.vmids ?? []).entries()) {
      checkNumber(`${at}.vmids[${j}]`, id, 100, 999_999_999, problems);
      const key = `${s.datastore}|${s.namespace ?? ""}|${id}`;
      const other = guests.get(key);
      if (other !== undefined && other !== s.name) problems.push(`${at}.vmids[${j}] ${id} in ${s.datastore} is also a guest of service ${other}`);
      guests.set(key, s.name);
    }
    checkNumber(`${at}.rpoMinutes`, s.rpoMinutes, 1, 10 * 366 * 24 * 60, problems);
    checkNumber(`${at}.expectedDurationMinutes`, s.expectedDurationMinutes, 1, 7 * 24 * 60, problems);
    const graceMinutes = s.graceMinutes ?? s.expectedDurationMinutes;
    checkNumber(`${at}.graceMinutes`, graceMinutes, 0, 7 * 24 * 60, problems);
    return {
      name: s.name,
      datastore: s.datastore,
      namespace: s.namespace ?? "",
      vmids: [...(s.vmids ?? [])],
      rpoMinutes: s.rpoMinutes,
      expectedDurationMinutes: s.expectedDurationMinutes,
      graceMinutes,
    };
  });
  const defaultExpectedDurationMinutes = spec.defaultExpectedDurationMinutes ?? 120;
  checkNumber("defaultExpectedDurationMinutes", defaultExpectedDurationMinutes, 1, 7 * 24 * 60, problems);
  const repeatHours = spec.repeatHours ?? 24;
  checkNumber("repeatHours", repeatHours, 1, 24 * 365, problems);
  const timeoutSeconds = spec.timeoutSeconds ?? 20;
  checkNumber("timeoutSeconds", timeoutSeconds, 1, 300, problems);
  const schedule = spec.schedule ?? "*:0/15";
  checkOnCalendar("schedule", schedule, problems);
  const healthcheckUrl = checkPingUrl("healthcheckUrl", spec.healthcheckUrl, problems);
  if (problems.length > 0) throw new MonitoringArgsError(component, problems);
  return {
    pbs,
    pbsNode,
    services: resolved,
    defaultExpectedDurationMinutes,
    repeatHours,
    ...(healthcheckUrl !== undefined ? { healthcheckUrl } : {}),
    schedule,
    timeoutSeconds,
  };
}

/** The env file: the PBS audit token's secret. */
export function renderFreshnessEnv(pbsTokenSecret: string): string {
  if (pbsTokenSecret === "" || /[\r\n\0]/.test(pbsTokenSecret)) throw new Error("freshness check: the PBS token secret is empty or contains a line break");
  return ["# homelab-backup freshness check secrets, written by Pulumi.", `PBS_TOKEN_SECRET=${shellQuote(pbsTokenSecret)}`].join("\n") + "\n";
}

export function renderFreshnessScript(spec: ResolvedFreshnessSpec, layout: CheckLayout = defaultCheckLayout("freshness")): string {
  // name|datastore|namespace|vmids|rpo s|grace s|expected s: names and paths hold no "|".
  const services = spec.services.map((s) =>
    shellQuote([s.name, s.datastore, s.namespace, s.vmids.join(" "), s.rpoMinutes * 60, s.graceMinutes * 60, s.expectedDurationMinutes * 60].join("|")),
  );
  const guests = spec.services.flatMap((s) => s.vmids.map((id) => `[${shellQuote(`${s.datastore}|${s.namespace}|${id}`)}]=${shellQuote(`${s.name}|${s.expectedDurationMinutes * 60}`)}`));
  return `#!/bin/bash
# homelab-backup freshness check: every service's newest backups against its tier's RPO, and
# backup tasks running past their job's expected duration. Written by Pulumi: edits here are
# overwritten. Exit 0 when everything was checked (alerts go through homelab-backup-notify), 1
# when something could not be, 2 when the check cannot run at all.
set -uo pipefail
umask 077
PATH="$PATH:/usr/sbin:/sbin"

PBS_ADDR=${shellQuote(pbsAddress(spec.pbs))}
PBS_FINGERPRINT=${shellQuote(spec.pbs.fingerprint)}
PBS_TOKEN_ID=${shellQuote(spec.pbs.tokenId)}
PBS_NODE=${shellQuote(spec.pbsNode)}
PBS_TIMEOUT=${spec.timeoutSeconds}
REPEAT_SECONDS=${spec.repeatHours * 3600}
DEFAULT_EXPECTED=${spec.defaultExpectedDurationMinutes * 60}
HEALTHCHECK=${shellQuote(spec.healthcheckUrl ?? "")}
ENV_FILE=${shellQuote(layout.envFile)}
STATE_DIR=${shellQuote(layout.stateDir)}
NOTIFY=${shellQuote(layout.notify)}
SERVICES=(
${services.map((s) => `  ${s}`).join("\n")}
)
# datastore|namespace|guest id -> service|expected duration in seconds
declare -A GUEST_SERVICE=(${guests.join(" ")})

${COMMON_SH}
${PBS_API_SH}
${ALERT_SH}

${checkPrologue("Freshness check", ["PBS_TOKEN_SECRET"])}
mkdir -p "$STATE_DIR"
hc_ping "$HEALTHCHECK" /start

utc() { date -u -d "@$1" '+%Y-%m-%d %H:%M UTC'; }

# NEWEST: a file of "id<TAB>time" lines, the newest backup per guest id of one datastore
# namespace, fetched once per namespace however many services share it. By id whatever the type:
# a guest id is a VM or a container, never both.
newest_of() {
  local store=$1 ns=$2 args=()
  NEWEST="$TMP/newest-$store-\${ns//\\//_}"
  [ ! -f "$NEWEST" ] || return 0
  [ -z "$ns" ] || args=(--data-urlencode "ns=$ns")
  pbs_get "$TMP/snapshots.json" "/admin/datastore/$store/snapshots" "\${args[@]}" || return 1
  jq -r '.data | group_by(.["backup-id"]) | .[] | [.[0]["backup-id"], (map(.["backup-time"]) | max)] | @tsv' "$TMP/snapshots.json" >"$NEWEST"
}

check_freshness() {
  local entry name store ns vmids rpo grace expected where id newest age stale
  for entry in "\${SERVICES[@]}"; do
    IFS='|' read -r name store ns vmids rpo grace expected <<<"$entry"
    where="datastore $store\${ns:+, namespace $ns}"
    if ! newest_of "$store" "$ns"; then
      alert "read-$name" error "Freshness check cannot read the backups of $name" "$PBS_ERROR"
      UNCHECKED=$((UNCHECKED + 1))
      continue
    fi
    resolve "read-$name" "Freshness check reads the backups of $name again" "The backups of service $name in $where can be read again."
    stale=""
    for id in $vmids; do
      newest=$(awk -v id="$id" -F '\\t' '$1 == id { print $2 }' "$NEWEST")
      if [ -z "$newest" ]; then
        stale="$stale
- guest $id has no backup in $where"
        continue
      fi
      age=$((NOW - newest))
      if [ "$age" -gt $((rpo + grace)) ]; then
        stale="$stale
- guest $id: newest backup $(human_duration "$age") old ($(utc "$newest"))"
      fi
    done
    if [ -n "$stale" ]; then
      alert "stale-$name" error "Service $name missed its RPO" "Service $name promises an RPO of $(human_duration "$rpo") (alert after $(human_duration $((rpo + grace))), allowing for its $(human_duration "$expected") run):$stale"
    else
      log "service $name: every guest backed up within $(human_duration $((rpo + grace)))"
      resolve "stale-$name" "Service $name is within its RPO again" "Every guest of service $name has a backup within its RPO of $(human_duration "$rpo")."
    fi
  done
}

# A backup task's worker id is "<store>:[<namespace>/]<type>/<id>".
check_running() {
  if ! pbs_get "$TMP/tasks.json" "/nodes/$PBS_NODE/tasks" --data-urlencode running=1 --data-urlencode typefilter=backup --data-urlencode limit=0; then
    alert tasks-api error "Freshness check cannot list running backups" "$PBS_ERROR"
    UNCHECKED=$((UNCHECKED + 1))
    return
  fi
  resolve tasks-api "Freshness check lists running backups again" "The PBS task list answers again."
  local upid start wid store rest group type id ns key service expected running open=()
  while IFS=$'\\t' read -r upid start wid; do
    store=\${wid%%:*}
    rest=\${wid#*:}
    id=\${rest##*/}
    group=\${rest%/*}
    type=\${group##*/}
    ns=""
    [ "$group" = "$type" ] || ns=\${group%/*}
    service="" expected=$DEFAULT_EXPECTED
    if [ -n "\${GUEST_SERVICE[$store|$ns|$id]+x}" ]; then
      IFS='|' read -r service expected <<<"\${GUEST_SERVICE[$store|$ns|$id]}"
    fi
    running=$((NOW - start))
    [ "$running" -gt "$expected" ] || continue
    key="long-$store-$ns-$type-$id"
    open+=("$key")
    alert "$key" warning "Backup of $type/$id is running long" "The backup of $type/$id into datastore $store\${ns:+, namespace $ns}\${service:+ (service $service)} has run for $(human_duration "$running") since $(utc "$start"); its job is expected to take $(human_duration "$expected").
Task: $upid"
  done < <(jq -r '.data[] | select(.worker_type == "backup" and (.endtime == null)) | [.upid, .starttime, (.worker_id // "")] | @tsv' "$TMP/tasks.json")
  # A task that ended closes its alert without a message: the job's own result reports the end.
  forget_except long- "\${open[@]}"
}

if ! pbs_connect; then
  alert pbs-api error "Freshness check cannot reach PBS" "$PBS_ERROR"
  hc_ping "$HEALTHCHECK" /fail "$PBS_ERROR"
  exit 1
fi
resolve pbs-api "Freshness check reaches PBS again" "The PBS API at $PBS_ADDR answers again."
check_freshness
check_running

if [ "$UNCHECKED" -gt 0 ]; then
  hc_ping "$HEALTHCHECK" /fail "$UNCHECKED check(s) could not run"
  exit 1
fi
hc_ping "$HEALTHCHECK" "" "$ALERTS alert(s)"
exit 0
`;
}
