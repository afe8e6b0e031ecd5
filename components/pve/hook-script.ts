/**
 * The vzdump hook script (issue #12): pre-backup health checks at job-start, the run's duration
 * and the dead-man's switch at the end. vzdump runs the job's `script` as
 * `<script> <phase> [<mode> <vmid>]` with STOREID (the PVE storage id) in the environment, and a
 * non-zero exit at job-start aborts the job before any guest is touched.
 *
 * One vzdump hook serves every job, and vzdump does not tell it which job runs; three critical
 * jobs share one storage in the seed. So each job gets its own entry point, a two-line wrapper
 * that names the job, while the shared script alone still works from STOREID (exactly when one
 * job uses the storage).
 */
import { shellQuote } from "../agents/shell";
import {
  MonitoringArgsError,
  checkName,
  checkNumber,
  checkPingUrl,
  pbsAddress,
  resolvePbsEndpoint,
  type PbsApiEndpoint,
  type ResolvedPbsEndpoint,
} from "../monitoring/connection";
import { NOTIFY_COMMAND } from "../monitoring/notify-script";
import { COMMON_SH, PBS_API_SH } from "../monitoring/shell-lib";
import { DATASTORE_NAME, NAMESPACE } from "../pbs/fields";

/** One vzdump job (one service) whose runs the hook checks. */
export interface BackupHookJob {
  /** The service the job backs up; names its entry point (`<jobDir>/<name>`). */
  name: string;
  /** The PVE storage id the job writes to (vzdump's STOREID). */
  storageId: string;
  /** The PBS datastore behind that storage. */
  datastore: string;
  /** The storage's PBS namespace. @default the root namespace */
  namespace?: string;
  /** Space one run may need (GB, 10^9 bytes): the job does not start without it. */
  expectedSizeGb: number;
  /** How long a run is expected to take (minutes): a longer one is reported at job-end. */
  expectedDurationMinutes: number;
  /** Healthchecks-style URL: `/start` at job-start, itself on success, `/fail` on failure. @default none */
  healthcheckUrl?: string;
}

export interface BackupHookSpec {
  /**
   * PBS as the PVE nodes reach it (its backup VLAN address). `tokenId` is a read-only audit
   * token: the DatastoreAudit role (privilege Datastore.Audit) on `/datastore/<store>` of every
   * datastore the jobs write to, nothing else; it reads the datastore's config (maintenance
   * mode) and status (space).
   */
  pbs: PbsApiEndpoint;
  /** Every vzdump job that names the hook as its script. */
  jobs: BackupHookJob[];
  /** A job is refused when its expected size would take the datastore to this much used. @default 80 */
  capacityThresholdPercent?: number;
  /** Also notify (info) when a job passes its checks; hourly jobs make that 24 messages a day each. @default false */
  notifyOnSuccess?: boolean;
  /** Seconds the TLS handshake and each API call may take. @default 15 */
  timeoutSeconds?: number;
}

export interface ResolvedBackupHookSpec {
  pbs: ResolvedPbsEndpoint;
  jobs: (Required<Omit<BackupHookJob, "healthcheckUrl">> & { healthcheckUrl?: string })[];
  capacityThresholdPercent: number;
  notifyOnSuccess: boolean;
  timeoutSeconds: number;
}

export interface BackupHookLayout {
  /** The shared hook script. */
  scriptPath: string;
  /** Directory of the per-job entry points. */
  jobDir: string;
  /** Root-only env file with the audit token's secret. */
  envFile: string;
  /** Run state between phases (start time, refusal, failed guests); tmpfs is right. */
  stateDir: string;
  notify: string;
}

export const DEFAULT_HOOK_LAYOUT: BackupHookLayout = {
  scriptPath: "/usr/local/lib/homelab-backup/vzdump-hook",
  jobDir: "/usr/local/lib/homelab-backup/vzdump-hook.d",
  envFile: "/etc/homelab-backup/vzdump-hook.env",
  stateDir: "/run/homelab-backup/vzdump-hook",
  notify: NOTIFY_COMMAND,
};

/** The entry point to set as the job's `script`. */
export function jobScriptPath(job: string, layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): string {
  return `${layout.jobDir}/${job}`;
}

const STORAGE_ID = /^[a-z][a-z0-9._-]*$/i;

/**
 * Applies defaults and checks everything, reporting all problems at once.
 * @throws MonitoringArgsError
 */
export function resolveBackupHookSpec(spec: BackupHookSpec, component = "backup hook"): ResolvedBackupHookSpec {
  const problems: string[] = [];
  const pbs = resolvePbsEndpoint("pbs", spec.pbs ?? ({} as PbsApiEndpoint), problems);
  const jobs = spec.jobs ?? [];
  if (jobs.length === 0) problems.push("jobs is empty; expected the vzdump jobs the hook checks");
  const names = new Set<string>();
  const storages = new Map<string, string>();
  const resolved = jobs.map((j, i) => {
    const at = `jobs[${i}]`;
    checkName(`${at}.name`, j.name, problems);
    if (names.has(j.name)) problems.push(`${at}.name ${JSON.stringify(j.name)} is used twice`);
    names.add(j.name);
    if (!STORAGE_ID.test(j.storageId ?? "")) problems.push(`${at}.storageId ${JSON.stringify(j.storageId)} is not a PVE storage id`);
    if (!DATASTORE_NAME.test(j.datastore ?? "")) problems.push(`${at}.datastore ${JSON.stringify(j.datastore)} is not a datastore name`);
    if (j.namespace !== undefined && !NAMESPACE.test(j.namespace)) problems.push(`${at}.namespace ${JSON.stringify(j.namespace)} is not a namespace path`);
    // STOREID is all vzdump says: one storage must mean one datastore and namespace.
    const target = `datastore ${j.datastore}${j.namespace ? `, namespace ${j.namespace}` : ""}`;
    const other = storages.get(j.storageId);
    if (other !== undefined && other !== target) problems.push(`${at}.storageId ${JSON.stringify(j.storageId)} points at ${target} here and at ${other} in another job`);
    storages.set(j.storageId, target);
    checkNumber(`${at}.expectedSizeGb`, j.expectedSizeGb, 0, 1_000_000, problems, false);
    checkNumber(`${at}.expectedDurationMinutes`, j.expectedDurationMinutes, 0, 7 * 24 * 60, problems, false);
    const healthcheckUrl = checkPingUrl(`${at}.healthcheckUrl`, j.healthcheckUrl, problems);
    return {
      name: j.name,
      storageId: j.storageId,
      datastore: j.datastore,
      namespace: j.namespace ?? "",
      expectedSizeGb: j.expectedSizeGb,
      expectedDurationMinutes: j.expectedDurationMinutes,
      ...(healthcheckUrl !== undefined ? { healthcheckUrl } : {}),
    };
  });
  const capacityThresholdPercent = spec.capacityThresholdPercent ?? 80;
  checkNumber("capacityThresholdPercent", capacityThresholdPercent, 1, 100, problems);
  const timeoutSeconds = spec.timeoutSeconds ?? 15;
  checkNumber("timeoutSeconds", timeoutSeconds, 1, 120, problems);
  if (problems.length > 0) throw new MonitoringArgsError(component, problems);
  return { pbs, jobs: resolved, capacityThresholdPercent, notifyOnSuccess: spec.notifyOnSuccess ?? false, timeoutSeconds };
}

/** The env file: the audit token's secret. */
export function renderHookEnv(pbsTokenSecret: string): string {
  if (pbsTokenSecret === "" || /[\r\n\0]/.test(pbsTokenSecret)) throw new Error("backup hook: the PBS token secret is empty or contains a line break");
  return ["# homelab-backup vzdump hook secrets, written by Pulumi.", `PBS_TOKEN_SECRET=${shellQuote(pbsTokenSecret)}`].join("\n") + "\n";
}

/** A job's entry point: the shared hook, told which job runs. */
export function renderJobEntry(job: string, layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): string {
  return [
    "#!/bin/sh",
    `# vzdump hook of the homelab-backup job "${job}"; written by Pulumi. Set as the job's script.`,
    `exec ${shellQuote(layout.scriptPath)} --job ${shellQuote(job)} "$@"`,
    "",
  ].join("\n");
}

/** What a removed hook leaves behind: vzdump refuses to run a job whose hook script is missing. */
export const HOOK_STUB = [
  "#!/bin/sh",
  "# The homelab-backup vzdump hook was removed; this stub keeps jobs that still name it running.",
  "exit 0",
  "",
].join("\n");

export function renderHookScript(spec: ResolvedBackupHookSpec, layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): string {
  const storages = new Map<string, string>();
  for (const j of spec.jobs) storages.set(j.storageId, `${j.datastore}|${j.namespace}`);
  const storageLines = [...storages].map(([id, target]) => `  [${shellQuote(id)}]=${shellQuote(target)}`);
  const jobLines = spec.jobs.map(
    (j) =>
      `  [${shellQuote(j.name)}]=${shellQuote([j.storageId, Math.round(j.expectedSizeGb * 1e9), Math.round(j.expectedDurationMinutes * 60), j.healthcheckUrl ?? ""].join("|"))}`,
  );
  return `#!/bin/bash
# homelab-backup vzdump hook: pre-backup health checks (issue #12). Written by Pulumi: edits here
# are overwritten. vzdump runs it as the job's script:
#   vzdump-hook [--job <name>] <phase> [<mode> <vmid>]      STOREID etc. in the environment
# job-start: PBS reachable with the pinned certificate, the datastore not in maintenance, room for
#   the job under ${spec.capacityThresholdPercent} % used; a failed check exits 1, which aborts the job.
# job-end: the run's duration against the expected one; job-abort and backup-abort: failures.
set -uo pipefail
umask 077
PATH="$PATH:/usr/sbin:/sbin"

PBS_ADDR=${shellQuote(pbsAddress(spec.pbs))}
PBS_FINGERPRINT=${shellQuote(spec.pbs.fingerprint)}
PBS_TOKEN_ID=${shellQuote(spec.pbs.tokenId)}
PBS_TIMEOUT=${spec.timeoutSeconds}
THRESHOLD=${spec.capacityThresholdPercent}
NOTIFY_ON_SUCCESS=${spec.notifyOnSuccess ? 1 : 0}
ENV_FILE=${shellQuote(layout.envFile)}
STATE_DIR=${shellQuote(layout.stateDir)}
NOTIFY=${shellQuote(layout.notify)}
# PVE storage id -> datastore|namespace
declare -A STORAGES=(
${storageLines.join("\n")}
)
# job -> storage id|expected bytes|expected seconds|healthchecks URL
declare -A JOBS=(
${jobLines.join("\n")}
)

${COMMON_SH}
${PBS_API_SH}

job=""
if [ "\${1:-}" = --job ]; then
  job=\${2:-}
  shift $(($# < 2 ? $# : 2))
  if [ -z "$job" ] || [ -z "\${JOBS[$job]+x}" ]; then
    warn "homelab-backup hook: no job named '$job' is configured; checking by storage"
    job=""
  fi
fi
phase=\${1:-}
storeid=\${STOREID:-}
node=$(uname -n)

# Sets store and ns (empty: not a PBS storage the hook knows), size (bytes), expected (seconds),
# hc (ping URL), label and key (the run's state files) for the job being run.
target() {
  local candidates=() j s b
  store="" ns="" size=0 expected=0 hc=""
  if [ -n "$storeid" ] && [ -n "\${STORAGES[$storeid]+x}" ]; then
    IFS='|' read -r store ns <<<"\${STORAGES[$storeid]}"
  fi
  if [ -z "$job" ] && [ -n "$storeid" ]; then
    for j in "\${!JOBS[@]}"; do
      [ "\${JOBS[$j]%%|*}" != "$storeid" ] || candidates+=("$j")
    done
    [ "\${#candidates[@]}" -ne 1 ] || job=\${candidates[0]}
  fi
  if [ -n "$job" ]; then
    IFS='|' read -r s size expected hc <<<"\${JOBS[$job]}"
    label="$job" key="job-$job"
    # vzdump says where it writes: a job moved to another storage is checked where it writes.
    if [ -n "$storeid" ] && [ "$s" != "$storeid" ]; then
      warn "homelab-backup hook: job $job is configured for storage $s but writes to $storeid; checking $storeid"
    fi
  else
    # Several jobs share the storage and this run did not say which it is: the largest of them
    # must fit, and there is no job to time or ping.
    for j in "\${candidates[@]}"; do
      IFS='|' read -r s b _ <<<"\${JOBS[$j]}"
      [ "$b" -le "$size" ] || size=$b
    done
    label="on storage \${storeid:-(none)}" key="storage-\${storeid:-none}"
  fi
}

# The job must not start: say why in the task log, to people and to the dead-man's switch.
refuse() {
  warn "homelab-backup hook: backup job $label refused: $1"
  : >"$STATE_DIR/$key.refused"
  notify error "Backup job $label refused on $node" "$1" || true
  hc_ping "$hc" /fail "$1"
  exit 1
}

job_start() {
  local mode mtype total used avail after
  target
  mkdir -p "$STATE_DIR"
  rm -f "$STATE_DIR/$key".*
  date +%s >"$STATE_DIR/$key.start"
  hc_ping "$hc" /start
  if [ -z "$store" ]; then
    log "homelab-backup hook: storage \${storeid:-(none)} is not a PBS storage this hook checks; backup job $label starts unchecked"
    return 0
  fi
  [ -r "$ENV_FILE" ] || refuse "$ENV_FILE is missing; it holds the PBS audit token (pulumi up writes it)"
  PBS_TOKEN_SECRET=""
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  pbs_connect || refuse "$PBS_ERROR"
  pbs_get "$TMP/config.json" "/config/datastore/$store" || refuse "$PBS_ERROR"
  mode=$(jq -r '.data["maintenance-mode"] // empty' "$TMP/config.json")
  if [ -n "$mode" ]; then
    mtype=$(printf '%s' "$mode" | tr ',' '\\n' | sed -n 's/^type=//p')
    # read-only refuses writes as surely as offline: a backup would fail half-way.
    refuse "datastore $store is in maintenance mode \${mtype:-?} ($mode); PBS takes no backups until it is cleared (proxmox-backup-manager datastore update $store --delete maintenance-mode)"
  fi
  pbs_get "$TMP/status.json" "/admin/datastore/$store/status" || refuse "$PBS_ERROR"
  read -r total used avail < <(jq -r '.data | [.total // 0, .used // 0, .avail // 0] | map(floor | tostring) | join(" ")' "$TMP/status.json")
  [ "\${total:-0}" -gt 0 ] || refuse "datastore $store reports no size (not mounted?)"
  if [ "$avail" -lt "$size" ]; then
    refuse "datastore $store has $(gb "$avail") GB free, but backup job $label may write up to $(gb "$size") GB"
  fi
  after=$(((used + size) * 100 / total))
  if [ "$after" -ge "$THRESHOLD" ]; then
    refuse "datastore $store is $((used * 100 / total)) % full; with up to $(gb "$size") GB from backup job $label it would reach $after %, at or above the $THRESHOLD % threshold"
  fi
  local msg="PBS at $PBS_ADDR verified (pinned certificate); datastore $store\${ns:+ (namespace $ns)} accepts backups, $(gb "$avail") GB free, at most $after % used after the job"
  log "homelab-backup hook: backup job $label may start: $msg"
  [ "$NOTIFY_ON_SUCCESS" -eq 0 ] || notify info "Backup job $label starts on $node" "$msg" || true
}

job_end() {
  local start="" failed="" elapsed
  target
  [ ! -f "$STATE_DIR/$key.start" ] || start=$(cat "$STATE_DIR/$key.start")
  [ ! -f "$STATE_DIR/$key.failed" ] || failed=$(tr '\\n' ' ' <"$STATE_DIR/$key.failed" | sed 's/ *$//')
  # vzdump goes on after a guest fails and ends the job normally: the failures are in our notes.
  if [ -n "$failed" ]; then
    notify error "Backup job $label had failures on $node" "vzdump could not back up guest(s) $failed; see the job's task log on $node." || true
    hc_ping "$hc" /fail "guests failed: $failed"
  else
    hc_ping "$hc" ""
  fi
  if [ -n "$start" ] && [ "$expected" -gt 0 ]; then
    elapsed=$(($(date +%s) - start))
    log "homelab-backup hook: backup job $label took $(human_duration "$elapsed"), expected $(human_duration "$expected")"
    if [ "$elapsed" -gt "$expected" ]; then
      notify warning "Backup job $label ran long on $node" "It took $(human_duration "$elapsed"), longer than the expected $(human_duration "$expected"). A job that keeps growing runs into the next one and into the datastore's maintenance window; raise expectedDuration or look at what grew." || true
    fi
  fi
  rm -f "$STATE_DIR/$key".*
}

job_abort() {
  target
  # A refusal at job-start has been reported and pinged already; vzdump aborts the job after it.
  if [ ! -f "$STATE_DIR/$key.refused" ]; then
    notify error "Backup job $label aborted on $node" "vzdump aborted the job; see its task log on $node." || true
    hc_ping "$hc" /fail "vzdump aborted the job"
  fi
  rm -f "$STATE_DIR/$key".*
}

case "$phase" in
  job-start) job_start ;;
  job-end) job_end ;;
  job-abort) job_abort ;;
  backup-abort)
    target
    mkdir -p "$STATE_DIR"
    printf '%s\\n' "\${3:-?}" >>"$STATE_DIR/$key.failed"
    ;;
  # job-init, backup-start, backup-end, log-end, pre-stop, pre-restart, post-restart: nothing to check.
  *) ;;
esac
exit 0
`;
}
