/**
 * Everything a report says, computed from what was read: pure, so the tests assert numbers and
 * cells rather than parse Markdown.
 */
import type { Strategy } from "../config/strategy";
import { attribute } from "./attribution";
import { complianceRow, type ComplianceRow } from "./compliance";
import { backupRates, durationStat, failures, groupFailures, jobRuns, maintenanceRates, serviceTasks, type DurationStat, type Failure, type FailureGroup, type JobRate } from "./jobs";
import type { PbsData } from "./pbs-source";
import type { Period } from "./period";
import type { RestoreLog } from "./restore-log";
import { restoreSummary, type RestoreSummary } from "./restore-tests";
import { serviceStatus, type ServiceStatus } from "./status";
import { storageTrends, type StorageTrend } from "./storage";
import type { PoolUsage, TruenasData } from "./truenas-source";

export interface ReportSources {
  pbs: PbsData;
  truenas: TruenasData;
  restoreLog: RestoreLog;
  /** `host:port`, for the header. */
  pbsEndpoint: string;
  truenasEndpoint: string;
}

export interface Report {
  stack: string;
  strategy: Strategy;
  period: Period;
  pbsVersion: string;
  pbsEndpoint: string;
  truenasEndpoint: string;
  truenas: TruenasData;
  backupRates: JobRate[];
  maintenanceRates: JobRate[];
  durations: DurationStat[];
  failures: Failure[];
  failureGroups: FailureGroup[];
  storage: StorageTrend[];
  pool?: PoolUsage;
  statuses: ServiceStatus[];
  restores: RestoreSummary;
  restoreProblems: string[];
  compliance: ComplianceRow[];
  /** What the report could not read or place. */
  notes: string[];
}

export function buildReport(strategy: Strategy, stack: string, period: Period, sources: ReportSources): Report {
  const { pbs, truenas, restoreLog } = sources;
  // A report for a past `--now` must not see what happened after it: a task that ended later
  // was still running then, and a backup made later did not exist yet.
  const tasks = pbs.tasks
    .filter((t) => t.start >= period.start && t.start < period.end)
    .map((t) => (t.end !== undefined && t.end > period.end ? { upid: t.upid, workerType: t.workerType, workerId: t.workerId, start: t.start } : t));
  const snapshots = pbs.snapshots.filter((s) => s.time < period.end);
  const attribution = attribute(strategy, snapshots, tasks);
  const statuses = strategy.services.map((s) => serviceStatus(strategy, s, snapshots, tasks, attribution, period.end));
  const restores = restoreSummary(strategy, restoreLog, period);
  const failed = failures(strategy, tasks, attribution);
  const notes = [...pbs.notes];
  if (attribution.unattributed.length) {
    const where = [...new Set(attribution.unattributed.map((s) => `${s.store}${s.ns ? `:${s.ns}` : ""} ${s.type}/${s.id}`))];
    notes.push(`${attribution.unattributed.length} snapshot(s) belong to no service of the stack (no notes naming one, no matching VM id): ${where.slice(0, 10).join(", ")}${where.length > 10 ? ", …" : ""}`);
  }
  if (restores.otherSites) notes.push(`${restores.otherSites} restore test(s) of another site in ${restoreLog.path} were left out`);
  for (const s of strategy.services) {
    if (!s.guests.vmids?.length && attribution.guestsOf(s).length === 0) {
      notes.push(`${s.name}: its guests are selected by ${s.guests.pool ? `pool ${s.guests.pool}` : "tags"} and PBS has no backup of any of them, so its scheduled runs cannot be counted`);
    }
  }
  return {
    stack,
    strategy,
    period,
    pbsVersion: pbs.version,
    pbsEndpoint: sources.pbsEndpoint,
    truenasEndpoint: sources.truenasEndpoint,
    truenas,
    backupRates: backupRates(strategy, tasks, attribution, period),
    maintenanceRates: maintenanceRates(strategy, tasks, period),
    durations: strategy.services.map((s) => durationStat(s, jobRuns(s, serviceTasks(tasks, attribution, s), period), period)),
    failures: failed,
    failureGroups: groupFailures(failed),
    storage: storageTrends(strategy, pbs.usage, period),
    ...(truenas.available && truenas.pool ? { pool: truenas.pool } : {}),
    statuses,
    restores,
    restoreProblems: restoreLog.problems,
    compliance: statuses.map((st) => complianceRow(strategy, st, restores, truenas, period.end)),
    notes,
  };
}
