/**
 * Which copy holds the newest restore point at or before a time: PBS (read through PVE's storage
 * listing) or the TrueNAS replica of the datastore (its ZFS snapshots).
 *
 * A replica snapshot is the whole datastore frozen at the moment it was taken, so it holds every
 * backup PBS had then, including ones PBS has pruned since. Its contents cannot be listed through
 * the API, so what it holds is reasoned from the schedule:
 * - the run that should have produced the point is the newest firing of the service's schedule
 *   that had finished (its expected duration) by the requested time; a run still going at that
 *   time may have backed this guest up after it;
 * - if PBS has a backup from that run or later (at or before the time), PBS wins: it is readable now;
 * - if PBS has none from that run but has later backups, the job kept running and prune removed
 *   that one; the first replica snapshot taken after the run ended holds it, because the PBS
 *   host snapshots the dataset before its prune job runs (the config check enforces that order);
 * - if PBS has nothing from that run or after, the run never produced a backup, and no copy can
 *   have it.
 */
import { nextFiring } from "../config/calendar";
import type { Service } from "../config/strategy";
import { isoUtc, shortUtc } from "./format";
import { isUsable, type RestorePoint } from "./points";

export interface ReplicaSnapshot {
  /** `tank/replica/critical@auto-2026-11-26_05-31`. */
  readonly name: string;
  readonly createdAt: Date;
}

export type ReplicaLookup =
  | { readonly ok: true; readonly dataset: string; readonly snapshots: readonly ReplicaSnapshot[] }
  | { readonly ok: false; readonly dataset: string; readonly why: string };

export type Choice =
  | { readonly copy: "pbs"; readonly point: RestorePoint; readonly why: string; readonly notes: readonly string[] }
  | {
      readonly copy: "replica";
      /** When the run that made the point started. */
      readonly run: Date;
      readonly snapshot: ReplicaSnapshot;
      readonly dataset: string;
      readonly why: string;
      /** The newest point PBS can restore right now, older than the one asked for. */
      readonly pbsFallback?: RestorePoint;
      readonly notes: readonly string[];
    }
  | { readonly copy: "none"; readonly why: string; readonly notes: readonly string[] };

const MINUTE = 60_000;

/** The newest firing of the service's schedule whose run had ended by `at`. */
export function lastFinishedRun(service: Pick<Service, "schedule" | "intervalMinutes" | "expectedDurationMinutes">, at: Date): Date | undefined {
  const latestStart = at.getTime() - service.expectedDurationMinutes * MINUTE;
  // Two worst-case intervals back always contains a firing before latestStart.
  let cursor = new Date(latestStart - 2 * service.intervalMinutes * MINUTE - MINUTE);
  let last: Date | undefined;
  for (;;) {
    const next = nextFiring(service.schedule, cursor);
    if (next === undefined || next.getTime() > latestStart) return last;
    last = next;
    cursor = next;
  }
}

function skippedNotes(points: readonly RestorePoint[], at: Date | undefined): string[] {
  return points
    .filter((p) => !isUsable(p) && (at === undefined || p.time <= at))
    .map((p) => `skipped ${p.volid}: its last verification failed`);
}

export function chooseLatest(points: readonly RestorePoint[]): Choice {
  const notes = skippedNotes(points, undefined);
  const best = points.find(isUsable);
  if (!best) return { copy: "none", why: points.length === 0 ? "PBS holds no backup of this guest" : "every backup of this guest failed verification", notes };
  // Prune always keeps the newest backup, so the replica (an older state of the same store) cannot be newer.
  return { copy: "pbs", point: best, why: `the newest backup on PBS (storage ${best.storage})`, notes };
}

export async function chooseAt(
  service: Pick<Service, "schedule" | "intervalMinutes" | "expectedDurationMinutes">,
  points: readonly RestorePoint[],
  at: Date,
  replica: () => Promise<ReplicaLookup>,
): Promise<Choice> {
  const notes = skippedNotes(points, at);
  const usable = points.filter(isUsable);
  const pbsBest = usable.find((p) => p.time <= at);
  const run = lastFinishedRun(service, at);
  const onPbs = (why: string, extra: string[] = []): Choice =>
    pbsBest
      ? { copy: "pbs", point: pbsBest, why, notes: [...notes, ...extra] }
      : { copy: "none", why: `no backup of this guest at or before ${shortUtc(at)} is on PBS`, notes: [...notes, ...extra] };

  if (run === undefined || (pbsBest && pbsBest.time >= run)) {
    return onPbs(`PBS holds the newest backup at or before ${shortUtc(at)} (storage ${pbsBest?.storage ?? "?"})`);
  }
  const pbsText = pbsBest ? `its newest at or before then is ${shortUtc(pbsBest.time)}` : "it has none at or before then";
  if (!usable.some((p) => p.time > run)) {
    return onPbs(`PBS has no backup from the ${shortUtc(run)} run or later (${pbsText})`, [
      `the ${shortUtc(run)} run left no backup and nothing after it did either, so it never ran or failed: no copy can hold it`,
    ]);
  }
  const lookup = await replica();
  const pruned = `the ${shortUtc(run)} run's backup was pruned on PBS (${pbsText})`;
  if (!lookup.ok) {
    return onPbs(`${pruned}; the replica could not be consulted`, [`replica ${lookup.dataset} not consulted: ${lookup.why}; it may still hold the ${shortUtc(run)} backup`]);
  }
  const ended = run.getTime() + service.expectedDurationMinutes * MINUTE;
  const holding = [...lookup.snapshots].filter((s) => s.createdAt.getTime() >= ended).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
  if (!holding) {
    const oldest = [...lookup.snapshots].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
    return onPbs(`${pruned}, and no replica snapshot was taken after it`, [
      `replica ${lookup.dataset}: ${oldest ? `no snapshot from after ${shortUtc(new Date(ended))} (the newest is ${shortUtc(lookup.snapshots.reduce((a, b) => (a.createdAt > b.createdAt ? a : b)).createdAt)})` : "has no snapshots"}`,
    ]);
  }
  return {
    copy: "replica",
    run,
    snapshot: holding,
    dataset: lookup.dataset,
    why:
      `${pruned}, but replica snapshot ${holding.name} from ${shortUtc(holding.createdAt)} was taken after that run ended ` +
      `(and before the prune that removed it), so it still holds the backup of ${isoUtc(run)}`,
    ...(pbsBest ? { pbsFallback: pbsBest } : {}),
    notes,
  };
}
