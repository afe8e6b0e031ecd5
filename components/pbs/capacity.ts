/**
 * The steady-state size of a datastore, from what the strategy knows: each service's data and
 * how many restore points its prune policy keeps. PBS deduplicates, so a restore point costs only
 * the chunks that changed since the one before; changes that overwrite the same blocks share
 * chunks, so the growth of a service is bounded both by its daily change over the span its
 * points reach back and by one full copy per point.
 */
import type { KeepPolicy } from "../../config/strategy";

export interface CapacityInput {
  readonly sizeGb: number;
  readonly keep: KeepPolicy;
}

/** Days the oldest point a keep policy retains reaches back. */
export function keepSpanDays(keep: KeepPolicy): number {
  return Math.max(
    keep.keepLast !== undefined ? 1 : 0,
    (keep.keepHourly ?? 0) / 24,
    keep.keepDaily ?? 0,
    (keep.keepWeekly ?? 0) * 7,
    (keep.keepMonthly ?? 0) * 30,
    (keep.keepYearly ?? 0) * 365,
  );
}

/** Restore points a keep policy retains at most. */
export function keepPoints(keep: KeepPolicy): number {
  return (keep.keepLast ?? 0) + (keep.keepHourly ?? 0) + (keep.keepDaily ?? 0) + (keep.keepWeekly ?? 0) + (keep.keepMonthly ?? 0) + (keep.keepYearly ?? 0);
}

/** GB one service is expected to take: a full copy plus its retained changes. */
export function projectServiceGb(service: CapacityInput, dailyChangePercent: number): number {
  const change = dailyChangePercent / 100;
  const growth = Math.min(change * keepSpanDays(service.keep), Math.max(keepPoints(service.keep) - 1, 0));
  return service.sizeGb * (1 + growth);
}

/** GB a datastore is expected to take: the sum of its services, rounded up to a whole GB. */
export function projectDatastoreGb(services: readonly CapacityInput[], dailyChangePercent: number): number {
  return Math.ceil(services.reduce((sum, s) => sum + projectServiceGb(s, dailyChangePercent), 0));
}
