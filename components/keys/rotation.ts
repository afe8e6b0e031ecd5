/**
 * Declarative rotation: time is cut into epochs of N days from a fixed anchor, and a keeper that
 * names the current epoch drives replacements. `pulumi up` on a later date computes a new epoch and
 * rotates; on the same epoch it changes nothing. No state, no clock beyond the date handed in.
 */
import type { KeepPolicy, Strategy } from "../../config/strategy";

export const DAY_MS = 86_400_000;

/** The default anchor: epochs start at midnight UTC, counted from the Unix epoch. */
export const DEFAULT_ANCHOR = new Date(0);

export interface RotationEpoch {
  /** Epoch number since the anchor (negative before it). */
  epoch: number;
  /** When this epoch began: the current credential was created for this date. */
  startsAt: Date;
  /** When the next epoch begins: the first `pulumi up` on or after it rotates. */
  nextRotation: Date;
}

function checkDate(what: string, d: Date): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError(`${what}: expected a valid Date, got ${String(d)}`);
}

function checkPeriod(periodDays: number): void {
  if (!Number.isInteger(periodDays) || periodDays < 1) {
    throw new RangeError(`rotation period ${periodDays} is invalid; expected a whole number of days, at least 1`);
  }
}

/** The epoch `now` falls in: `startsAt <= now < nextRotation`. */
export function rotationEpoch(now: Date, periodDays: number, anchor: Date = DEFAULT_ANCHOR): RotationEpoch {
  checkDate("now", now);
  checkDate("anchor", anchor);
  checkPeriod(periodDays);
  const period = periodDays * DAY_MS;
  const epoch = Math.floor((now.getTime() - anchor.getTime()) / period);
  return epochAt(epoch, periodDays, anchor);
}

/** Epoch number `epoch` on the calendar of `periodDays` from `anchor`. */
export function epochAt(epoch: number, periodDays: number, anchor: Date = DEFAULT_ANCHOR): RotationEpoch {
  checkPeriod(periodDays);
  const period = periodDays * DAY_MS;
  const startsAt = new Date(anchor.getTime() + epoch * period);
  return { epoch, startsAt, nextRotation: new Date(startsAt.getTime() + period) };
}

/**
 * The keeper string of an epoch: its start date (`2026-04-09`), readable in the plan and in
 * resource names, and distinct per epoch because epochs are whole days long.
 */
export function epochKeeper(e: RotationEpoch): string {
  return e.startsAt.toISOString().slice(0, 10);
}

/** Generations of a key to keep, the current one included, so nothing still stored loses its key. */
export function retainedGenerations(maxBackupAgeDays: number, periodDays: number): number {
  checkPeriod(periodDays);
  if (!Number.isFinite(maxBackupAgeDays) || maxBackupAgeDays < 0) throw new RangeError(`max backup age ${maxBackupAgeDays} is invalid; expected a number of days, at least 0`);
  return Math.ceil(maxBackupAgeDays / periodDays) + 1;
}

/** The oldest backup a prune policy can leave, in days (months and years at their longest). */
export function keepAgeDays(keep: KeepPolicy): number {
  return Math.max(
    0,
    Math.ceil((keep.keepHourly ?? 0) / 24),
    keep.keepDaily ?? 0,
    (keep.keepWeekly ?? 0) * 7,
    (keep.keepMonthly ?? 0) * 31,
    (keep.keepYearly ?? 0) * 366,
  );
}

export interface BackupAge {
  days: number;
  /** Which copy decides it, for the inventory and the plan. */
  because: string;
}

/**
 * How old a PBS backup can get anywhere it is kept: on PBS (the prune policy), in the NAS's
 * replica snapshots (PBS's oldest plus the replica retention) and off-site (PBS's oldest plus the
 * longest off-site class) for datastores that go off-site. A PBS key must live this long after its
 * last backup.
 */
export function maxBackupAgeDays(strategy: Pick<Strategy, "datastores" | "services" | "offsite">): BackupAge {
  let best: BackupAge = { days: 0, because: "no PBS datastore holds backups" };
  const offsiteDays = Math.max(0, ...strategy.offsite.classes.map((c) => c.retentionDays));
  for (const d of strategy.datastores) {
    const services = strategy.services.filter((s) => s.datastore === d.name);
    if (services.length === 0) continue;
    const onsite = Math.max(...services.map((s) => Math.max(s.retentionDays, keepAgeDays(s.keep))));
    const candidates: BackupAge[] = [
      { days: onsite, because: `datastore ${d.name}: ${onsite} days on PBS` },
      { days: onsite + d.replicaRetentionDays, because: `datastore ${d.name}: ${onsite} days on PBS + ${d.replicaRetentionDays} days in the NAS's replica snapshots` },
    ];
    if (d.offsite && offsiteDays > 0) candidates.push({ days: onsite + offsiteDays, because: `datastore ${d.name}: ${onsite} days on PBS + ${offsiteDays} days off-site` });
    for (const c of candidates) if (c.days > best.days) best = c;
  }
  return best;
}

/** One generation of a rotated key and the dates that govern it. */
export interface Generation extends RotationEpoch {
  keeper: string;
  /** The last day a backup made with this key can still exist. */
  neededUntil: Date;
  /** Whether the key is still needed (current, or retired within retention). */
  retained: boolean;
}

/**
 * The generations to register at `now`: the retained ones (newest first, the current one at index
 * 0) and, after them, `grace` generations past retention that stay registered unprotected, so a
 * `pulumi up` after a gap of up to `grace` periods drops them without tripping `protect`.
 * Generations that ended before `since` never held a backup and are left out.
 */
export function generations(options: {
  now: Date;
  periodDays: number;
  retained: number;
  grace: number;
  maxBackupAgeDays: number;
  anchor?: Date;
  since?: Date;
}): Generation[] {
  const { periodDays, retained, grace } = options;
  if (!Number.isInteger(retained) || retained < 1) throw new RangeError(`retained generations ${retained} is invalid; expected a whole number, at least 1`);
  if (!Number.isInteger(grace) || grace < 0) throw new RangeError(`grace generations ${grace} is invalid; expected a whole number, at least 0`);
  if (options.since) checkDate("since", options.since);
  const anchor = options.anchor ?? DEFAULT_ANCHOR;
  const current = rotationEpoch(options.now, periodDays, anchor);
  const out: Generation[] = [];
  for (let i = 0; i < retained + grace; i++) {
    const e = epochAt(current.epoch - i, periodDays, anchor);
    if (i > 0 && options.since && e.nextRotation.getTime() <= options.since.getTime()) break;
    out.push({ ...e, keeper: epochKeeper(e), neededUntil: new Date(e.nextRotation.getTime() + options.maxBackupAgeDays * DAY_MS), retained: i < retained });
  }
  return out;
}
