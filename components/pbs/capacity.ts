/**
 * The steady-state size of a datastore, from what the strategy knows: each service's data and
 * the restore points its prune policy keeps. PBS deduplicates, so a retained point costs only
 * the chunks that changed since the retained point before it. With a share `c` of the data
 * changing each day, independently, a gap of `g` days leaves `1 - (1 - c)^g` of it changed:
 * hourly and daily points cost little, monthly ones more, and none more than a full copy.
 */
import type { KeepPolicy } from "../../config/strategy";

export interface CapacityInput {
  readonly sizeGb: number;
  readonly keep: KeepPolicy;
}

/** Retained points and the days between consecutive ones, per keep bucket. */
function gaps(keep: KeepPolicy): [count: number, days: number][] {
  return [
    [keep.keepLast ?? 0, 1],
    [keep.keepHourly ?? 0, 1 / 24],
    [keep.keepDaily ?? 0, 1],
    [keep.keepWeekly ?? 0, 7],
    [keep.keepMonthly ?? 0, 30],
    [keep.keepYearly ?? 0, 365],
  ];
}

/** Restore points a keep policy retains at most. */
export function keepPoints(keep: KeepPolicy): number {
  return gaps(keep).reduce((sum, [count]) => sum + count, 0);
}

/** Share of the data that differs after `days` of changing `dailyChangePercent` a day. */
export function changedShare(days: number, dailyChangePercent: number): number {
  return 1 - Math.pow(1 - Math.min(Math.max(dailyChangePercent, 0), 100) / 100, days);
}

/** GB one service is expected to take: one full copy plus, per retained point, what changed since the one before. */
export function projectServiceGb(service: CapacityInput, dailyChangePercent: number): number {
  const points = keepPoints(service.keep);
  if (points === 0) return service.sizeGb;
  // The newest point is the full copy; every other point adds the change over its gap.
  let growth = -changedShare(gaps(service.keep).find(([count]) => count > 0)?.[1] ?? 1, dailyChangePercent);
  for (const [count, days] of gaps(service.keep)) growth += count * changedShare(days, dailyChangePercent);
  return service.sizeGb * (1 + Math.max(growth, 0));
}

/** GB a datastore is expected to take: the sum of its services, rounded up to a whole GB. */
export function projectDatastoreGb(services: readonly CapacityInput[], dailyChangePercent: number): number {
  return Math.ceil(services.reduce((sum, s) => sum + projectServiceGb(s, dailyChangePercent), 0));
}
