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
  const from = (input.from ?? new Date(Date.UTC(2024, 0, 1))).getTime();
  const days = input.days ?? 366;
  // Jobs that started up to two days earlier may still run into the window.
  const lead = 2;
  // `order` is the run's place in the writers list: conflicts at one instant are told in that order.
  let order = 0;
  const runs = (job: DatastoreJob): Run[] =>
    starts(job.schedule, from - lead * DAY, days + lead + 1).map((s) => ({ job: job.name, start: s, end: s + job.expectedDurationMinutes * MINUTE, order: order++ }));
  const backups = input.backups.flatMap(runs);
  const gcs = runs(input.gc);
  const writers = [...backups, ...gcs, ...(input.otherJobs ?? []).flatMap(runs)];
  const found = new Map<string, { first: number; count: number }>();
  const note = (key: string, at: number): void => {
    const seen = found.get(key);
    if (seen) seen.count++;
    else found.set(key, { first: at, count: 1 });
  };

  // One sweep over time instead of every snapshot against every run (a year of hourly backups is
  // thousands of runs): the snapshot instants are visited in time order, the runs that have
  // started are kept while they last, and the findings are then told in the snapshots' own order.
  const snapshots = starts(input.snapshot, from, days);
  const visit = snapshots.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
  const byStart = (list: Run[]): Run[] => [...list].sort((a, b) => a.start - b.start || a.order - b.order);
  const writersByStart = byStart(writers);
  const backupsByStart = byStart(backups);
  const gcsByStart = byStart(gcs);
  const during: Run[][] = [];
  const gcBefore: { gc: Run; lastBackupEnd: number }[][] = [];
  let active: Run[] = [];
  let nextWriter = 0;
  let nextBackup = 0;
  // The latest end of the backups started by t (still running ones included, as they are reported apart).
  let lastBackupEnd = Number.NEGATIVE_INFINITY;
  for (const { t, i } of visit) {
    while (nextWriter < writersByStart.length && (writersByStart[nextWriter] as Run).start <= t) active.push(writersByStart[nextWriter++] as Run);
    active = active.filter((w) => w.end > t);
    during[i] = [...active].sort((a, b) => a.order - b.order);
    while (nextBackup < backupsByStart.length && (backupsByStart[nextBackup] as Run).start <= t) {
      lastBackupEnd = Math.max(lastBackupEnd, (backupsByStart[nextBackup] as Run).end);
      nextBackup++;
    }
    // GC "since the last backup" only counts after that backup ended; with none before t there is nothing to judge.
    const hits: Run[] = [];
    if (Number.isFinite(lastBackupEnd)) {
      for (let g = firstAtOrAfter(gcsByStart, lastBackupEnd); g < gcsByStart.length && (gcsByStart[g] as Run).start <= t; g++) {
        const gc = gcsByStart[g] as Run;
        if (gc.end <= t) hits.push(gc);
      }
    }
    gcBefore[i] = hits.sort((a, b) => a.order - b.order).map((gc) => ({ gc, lastBackupEnd }));
  }

  snapshots.forEach((t, i) => {
    for (const w of during[i] ?? []) note(`the snapshot at ${hhmm(t)} falls while ${w.job} runs (from ${hhmm(w.start)}, expected until ${hhmm(w.end)})`, t);
    for (const { gc, lastBackupEnd: done } of gcBefore[i] ?? []) {
      note(`${input.gc.name} at ${hhmm(gc.start)} runs between the last backup (done by ${hhmm(done)}) and the snapshot at ${hhmm(t)}; snapshot before GC`, t);
    }
  });
  return [...found.entries()].map(([text, { first, count }]) => `${text}, first on ${date(first)}${count > 1 ? ` (${count} times in ${days} days)` : ""}`);
}

interface Run {
  job: string;
  start: number;
  end: number;
  order: number;
}

/** Index of the first run starting at or after `at` in runs sorted by start. */
function firstAtOrAfter(runs: readonly Run[], at: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((runs[mid] as Run).start < at) lo = mid + 1;
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
