/**
 * When the PBS datastore's ZFS snapshot may be taken so that the replica TrueNAS pulls is a
 * consistent datastore: while nothing writes to it (no backup, GC or other job running), after the
 * nightly backups and before garbage collection (so a snapshot holds every chunk the indexes of
 * that night reference, including those of snapshots prune just dropped).
 *
 * Pure schedule arithmetic over a year of firings; the component checks it at construction so a
 * bad snapshot time fails the preview, not a restore.
 */
import { firesOnDay, maxIntervalMinutes, minutesOfDay, type CalendarEvent } from "../../config/calendar";

/** A job that writes to the datastore, with how long one run is expected to take. */
export interface DatastoreJob {
  /** Shown in problems ("backup-application-vms", "gc"). */
  readonly name: string;
  readonly schedule: CalendarEvent;
  /** Expected duration of one run, in minutes; use a generous estimate. */
  readonly expectedDurationMinutes: number;
}

export interface SnapshotTimingInput {
  /** When the PBS host snapshots the datastore's dataset. */
  readonly snapshot: CalendarEvent;
  /** The backup jobs writing into the datastore. */
  readonly backups: readonly DatastoreJob[];
  /** The datastore's garbage collection. */
  readonly gc: DatastoreJob;
  /** Other writers (prune, sync), which must not run at snapshot time either. @default [] */
  readonly otherJobs?: readonly DatastoreJob[];
  /** Start of the window checked (UTC). @default 2024-01-01 */
  readonly from?: Date;
  /** Days checked; a year covers monthly and first-weekday schedules. @default 366 */
  readonly days?: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

function starts(event: CalendarEvent, from: number, days: number): number[] {
  const times = minutesOfDay(event);
  const out: number[] = [];
  for (let d = 0; d < days; d++) {
    const day = from + d * DAY;
    if (!firesOnDay(event, new Date(day))) continue;
    for (const t of times) out.push(day + t * MINUTE);
  }
  return out;
}

/**
 * Jobs with the same schedule and duration run at the same times, so one stands for all: this
 * keeps the timing check linear in distinct schedules, not in services (thousands share a tier's).
 */
export function groupJobs(jobs: readonly DatastoreJob[]): DatastoreJob[] {
  const groups = new Map<string, DatastoreJob[]>();
  for (const job of jobs) {
    const key = `${job.schedule.source}|${job.expectedDurationMinutes}`;
    const list = groups.get(key);
    if (list) list.push(job);
    else groups.set(key, [job]);
  }
  return [...groups.values()].map((list) => {
    const first = list[0] as DatastoreJob;
    return list.length === 1 ? first : { ...first, name: `${first.name} (and ${list.length - 1} more on the same schedule)` };
  });
}

const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);
const date = (t: number): string => new Date(t).toISOString().slice(0, 10);

/**
 * Problems with the snapshot time, one line per distinct conflict (time of day and job), each
 * with its first date and how often it recurs in the window; empty when every snapshot falls in
 * an idle gap after the backups and before GC.
 */
export function snapshotTimingProblems(input: SnapshotTimingInput): string[] {
  // The config is checked at the edge and the component checks its own args: the same question
  // twice per plan, answered once.
  const job = (j: DatastoreJob) => `${j.name}\0${j.schedule.source}\0${j.expectedDurationMinutes}`;
  const key = [input.snapshot.source, input.from?.getTime() ?? "", input.days ?? "", job(input.gc), ...input.backups.map(job), "|", ...(input.otherJobs ?? []).map(job)].join("\n");
  const known = answers.get(key);
  if (known) return [...known];
  const problems = computeSnapshotTimingProblems(input);
  if (answers.size >= 64) answers.clear();
  answers.set(key, problems);
  return [...problems];
}

const answers = new Map<string, readonly string[]>();

function computeSnapshotTimingProblems(input: SnapshotTimingInput): string[] {
  const from = (input.from ?? new Date(Date.UTC(2024, 0, 1))).getTime();
  const days = input.days ?? 366;
  // Jobs that started up to two days earlier may still run into the window.
  const lead = 2;
  // A job's runs are its start times (ascending) and one duration: no object per run, and the runs
  // around an instant are found by binary search, so a year of hourly backups costs a few
  // searches per snapshot rather than a scan of every run.
  const schedule = (job: DatastoreJob): JobRuns => ({
    name: job.name,
    starts: starts(job.schedule, from - lead * DAY, days + lead + 1),
    duration: job.expectedDurationMinutes * MINUTE,
  });
  const backups = input.backups.map(schedule);
  const gc = schedule(input.gc);
  // Findings at one instant are told in this order: backups, GC, other jobs, each run by start.
  const writers = [...backups, gc, ...(input.otherJobs ?? []).map(schedule)];
  const found = new Map<string, { first: number; count: number }>();
  const note = (key: string, at: number): void => {
    const seen = found.get(key);
    if (seen) seen.count++;
    else found.set(key, { first: at, count: 1 });
  };

  for (const t of starts(input.snapshot, from, days)) {
    for (const w of writers) {
      // Running at t: started in (t - duration, t].
      for (let r = firstAfter(w.starts, t - w.duration); r < w.starts.length && (w.starts[r] as number) <= t; r++) {
        const start = w.starts[r] as number;
        note(`the snapshot at ${hhmm(t)} falls while ${w.name} runs (from ${hhmm(start)}, expected until ${hhmm(start + w.duration)})`, t);
      }
    }
    // The latest end of the backups started by t (a backup still running at t is reported above):
    // with one duration per job, that is each job's last start by t.
    let lastBackupEnd = Number.NEGATIVE_INFINITY;
    for (const b of backups) {
      const last = firstAfter(b.starts, t) - 1;
      if (last >= 0) lastBackupEnd = Math.max(lastBackupEnd, (b.starts[last] as number) + b.duration);
    }
    // GC "since the last backup" only counts after that backup ended; with none before t there is nothing to judge.
    if (!Number.isFinite(lastBackupEnd)) continue;
    for (let g = firstAtOrAfter(gc.starts, lastBackupEnd); g < gc.starts.length && (gc.starts[g] as number) <= t; g++) {
      const start = gc.starts[g] as number;
      if (start + gc.duration <= t) {
        note(`${input.gc.name} at ${hhmm(start)} runs between the last backup (done by ${hhmm(lastBackupEnd)}) and the snapshot at ${hhmm(t)}; snapshot before GC`, t);
      }
    }
  }
  return [...found.entries()].map(([text, { first, count }]) => `${text}, first on ${date(first)}${count > 1 ? ` (${count} times in ${days} days)` : ""}`);
}

interface JobRuns {
  name: string;
  /** Start times, ascending. */
  starts: number[];
  duration: number;
}

/** Index of the first time at or after `at` in ascending times. */
function firstAtOrAfter(times: readonly number[], at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first time after `at` in ascending times. */
function firstAfter(times: readonly number[], at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Why the PBS host's snapshot retention could break TrueNAS's incremental chain: the source must
 * keep its snapshots for at least two replication intervals, so one missed pull does not leave the
 * replica without a common snapshot. Undefined when it does.
 */
export function sourceRetentionProblem(snapshot: CalendarEvent, keep: number, replication: CalendarEvent): string | undefined {
  if (!Number.isInteger(keep) || keep < 2) return `the PBS host must keep at least 2 snapshots for incremental replication, got ${keep}`;
  const snapshotEvery = maxIntervalMinutes(snapshot);
  const kept = keep * snapshotEvery;
  const needed = 2 * maxIntervalMinutes(replication);
  if (kept < needed) {
    return `keeping ${keep} snapshots taken "${snapshot.source}" covers ${Math.round(kept / 60)} h, less than two replication intervals of "${replication.source}" (${Math.round(needed / 60)} h); keep at least ${Math.ceil(needed / snapshotEvery)}`;
  }
  return undefined;
}
