/**
 * Job statistics of a period: success rates per service (backups) and per datastore
 * (maintenance), job durations against the service's expected duration, and the failures with
 * PBS's own error text.
 *
 * Schedules are read in UTC, as everywhere in this project (PBS and PVE hosts run on UTC).
 */
import { nextFiring, type CalendarEvent } from "../config/calendar";
import type { Service, Strategy } from "../config/strategy";
import { jobTypeOf, storeOfTask, type Attribution, type JobType } from "./attribution";
import type { PbsTask } from "./pbs-source";
import type { Period } from "./period";

export type Outcome = "ok" | "warning" | "failed" | "running";

/** PBS's task status: "OK", "WARNINGS: n", or the error message itself. */
export function outcomeOf(task: PbsTask): Outcome {
  if (task.end === undefined || task.status === undefined) return "running";
  if (task.status === "OK") return "ok";
  if (/^WARNINGS?\b/.test(task.status)) return "warning";
  return "failed";
}

/** Firings of `event` in [from, to), unix seconds. */
export function firings(event: CalendarEvent, from: number, to: number): number[] {
  const out: number[] = [];
  let at = nextFiring(event, new Date((from - 1) * 1000));
  while (at && at.getTime() / 1000 < to) {
    out.push(at.getTime() / 1000);
    at = nextFiring(event, at);
  }
  return out;
}

export interface JobRate {
  /** A service for backups, a datastore for the rest. */
  subject: string;
  jobType: JobType;
  /** Runs the schedule asked for (per guest for backups); undefined when nothing schedules it. */
  scheduled?: number;
  ok: number;
  warnings: number;
  failed: number;
  running: number;
  /** Scheduled runs that left no task at all. */
  missed: number;
  /** Successes (with or without warnings) over finished and missed runs; null with neither. */
  rate: number | null;
}

/** `started`: the tasks that answer the schedule (all of them unless some run outside it). */
function rateOf(subject: string, jobType: JobType, tasks: readonly PbsTask[], scheduled: number | undefined, started = tasks.length): JobRate {
  const count = (o: Outcome) => tasks.filter((t) => outcomeOf(t) === o).length;
  const ok = count("ok");
  const warnings = count("warning");
  const failed = count("failed");
  const running = count("running");
  const missed = scheduled === undefined ? 0 : Math.max(0, scheduled - started);
  const denominator = ok + warnings + failed + missed;
  return { subject, jobType, ...(scheduled !== undefined ? { scheduled } : {}), ok, warnings, failed, running, missed, rate: denominator ? (ok + warnings) / denominator : null };
}

/**
 * Firings the period holds to account, leaving out those too recent to have finished: a job
 * fired ten minutes ago has not reached its last guest yet.
 */
function dueFirings(event: CalendarEvent, period: Period, expectedMinutes: number): number[] {
  return firings(event, period.start, period.end - expectedMinutes * 60);
}

function scheduledRuns(event: CalendarEvent, period: Period, expectedMinutes: number, perRun: number): number {
  return dueFirings(event, period, expectedMinutes).length * perRun;
}

/** The firing a task answers: the latest one at or before its start (sorted `fires`). */
export function firingOf(fires: readonly number[], start: number): number | undefined {
  let lo = 0;
  let hi = fires.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((fires[mid] as number) <= start) {
      found = fires[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export function serviceTasks(tasks: readonly PbsTask[], attribution: Attribution, service: Service): PbsTask[] {
  return tasks.filter((t) => attribution.serviceOfTask(t) === service);
}

/**
 * Only tasks answering a due firing count against the schedule: at the period's start a late
 * guest of the previous firing, at its end the first guests of a run still going.
 */
export function backupRates(strategy: Strategy, tasks: readonly PbsTask[], attribution: Attribution, period: Period): JobRate[] {
  return strategy.services.map((service) => {
    const guests = attribution.guestsOf(service).length;
    const own = serviceTasks(tasks, attribution, service);
    if (!guests) return rateOf(service.name, "backup", own, undefined);
    const due = dueFirings(service.schedule, period, service.expectedDurationMinutes);
    const all = firings(service.schedule, period.start - service.intervalMinutes * 60, period.end);
    const dueSet = new Set(due);
    const started = own.filter((t) => dueSet.has(firingOf(all, t.start) ?? Number.NaN)).length;
    return rateOf(service.name, "backup", own, due.length * guests, started);
  });
}

/** Maintenance per datastore: one prune job per namespace, one GC and one verify job each. */
export function maintenanceRates(strategy: Strategy, tasks: readonly PbsTask[], period: Period): JobRate[] {
  const stores = strategy.datastores.map((d) => d.name);
  const out: JobRate[] = [];
  for (const d of strategy.datastores) {
    const here = tasks.filter((t) => storeOfTask(t, stores) === d.name);
    const pruneJobs = new Set(strategy.services.filter((s) => s.datastore === d.name).map((s) => s.namespace ?? "")).size;
    const schedules: [JobType, number | undefined][] = [
      // A maintenance job is one task that starts when the schedule fires: a few minutes' grace.
      ["prune", pruneJobs ? scheduledRuns(d.prune, period, 5, pruneJobs) : undefined],
      ["garbage collection", scheduledRuns(d.gc, period, 5, 1)],
      ["verify", scheduledRuns(d.verifySchedule, period, 5, 1)],
      ["sync", undefined],
    ];
    for (const [jobType, scheduled] of schedules) {
      const of = here.filter((t) => jobTypeOf(t.workerType) === jobType);
      if (jobType === "sync" && of.length === 0) continue;
      // verify-new adds a verify task per backup: only the scheduled job's runs answer its schedule.
      const started = jobType === "verify" ? of.filter((t) => t.workerType === "verificationjob").length : of.length;
      out.push(rateOf(d.name, jobType, of, scheduled, started));
    }
  }
  return out;
}

export interface JobRun {
  /** When the schedule fired (unix seconds). */
  firing: number;
  start: number;
  end: number;
  /** Seconds from the first guest's start to the last guest's end. */
  seconds: number;
}

/**
 * A service's job runs: its guests' tasks grouped by the schedule firing they belong to, because
 * the expected duration is the whole job's (vzdump backs the guests up one after another).
 * Only runs whose every task finished without error count: a failed run's time says nothing.
 */
export function jobRuns(service: Service, tasks: readonly PbsTask[], period: Period): JobRun[] {
  const fires = firings(service.schedule, period.start - service.intervalMinutes * 60, period.end);
  const groups = new Map<number, PbsTask[]>();
  for (const task of tasks) {
    // A manual run before any firing still is a run, keyed by its own start.
    const key = firingOf(fires, task.start) ?? task.start;
    groups.set(key, [...(groups.get(key) ?? []), task]);
  }
  const runs: JobRun[] = [];
  for (const [firing, group] of groups) {
    if (group.some((t) => outcomeOf(t) === "running" || outcomeOf(t) === "failed")) continue;
    const start = Math.min(...group.map((t) => t.start));
    const end = Math.max(...group.map((t) => t.end as number));
    runs.push({ firing, start, end, seconds: end - start });
  }
  return runs.sort((a, b) => a.start - b.start);
}

export interface DurationStat {
  service: string;
  runs: number;
  expectedMinutes: number;
  medianMinutes: number | null;
  maxMinutes: number | null;
  /** Runs longer than expected: the strategy alerts on these. */
  overExpected: number;
  /** Median of the period's second half against its first half, as a fraction; null without both. */
  trend: number | null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function durationStat(service: Service, runs: readonly JobRun[], period: Period): DurationStat {
  const minutes = runs.map((r) => r.seconds / 60);
  const half = (period.start + period.end) / 2;
  const first = median(runs.filter((r) => r.start < half).map((r) => r.seconds / 60));
  const second = median(runs.filter((r) => r.start >= half).map((r) => r.seconds / 60));
  return {
    service: service.name,
    runs: runs.length,
    expectedMinutes: service.expectedDurationMinutes,
    medianMinutes: median(minutes),
    maxMinutes: minutes.length ? Math.max(...minutes) : null,
    overExpected: minutes.filter((m) => m > service.expectedDurationMinutes).length,
    trend: first !== null && second !== null && first > 0 ? (second - first) / first : null,
  };
}

export interface Failure {
  at: number;
  jobType: JobType;
  /** The service (backups) or datastore. */
  subject: string;
  workerId: string;
  seconds?: number;
  /** PBS's own error text. */
  message: string;
}

export interface FailureGroup {
  message: string;
  jobType: JobType;
  count: number;
  subjects: string[];
  first: number;
  last: number;
}

export function failures(strategy: Strategy, tasks: readonly PbsTask[], attribution: Attribution): Failure[] {
  const stores = strategy.datastores.map((d) => d.name);
  const out: Failure[] = [];
  for (const task of tasks) {
    const jobType = jobTypeOf(task.workerType);
    if (!jobType || outcomeOf(task) !== "failed") continue;
    const subject = jobType === "backup" ? attribution.serviceOfTask(task)?.name ?? `unattributed (${task.workerId})` : storeOfTask(task, stores) ?? task.workerId;
    out.push({
      at: task.start,
      jobType,
      subject,
      workerId: task.workerId,
      ...(task.end !== undefined ? { seconds: task.end - task.start } : {}),
      message: (task.status as string).trim(),
    });
  }
  return out.sort((a, b) => b.at - a.at);
}

/** The same PBS error on several runs is one problem: grouped by type and text, most frequent first. */
export function groupFailures(list: readonly Failure[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const f of list) {
    const key = `${f.jobType}\u0000${f.message}`;
    const g = groups.get(key) ?? { message: f.message, jobType: f.jobType, count: 0, subjects: [], first: f.at, last: f.at };
    g.count++;
    if (!g.subjects.includes(f.subject)) g.subjects.push(f.subject);
    g.first = Math.min(g.first, f.at);
    g.last = Math.max(g.last, f.at);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.last - a.last);
}
