/**
 * Storage over time: each datastore's daily usage in the period (the chart and the trend) and
 * its capacity projection from the whole RRD history PBS keeps (a month), with a recommendation.
 */
import type { Strategy } from "../config/strategy";
import { projectCapacity, type CapacityProjection } from "./capacity";
import type { PbsUsage } from "./pbs-source";
import { formatDate, type Period } from "./period";

export interface DailyUsage {
  /** `2026-11-21`. */
  day: string;
  /** Fraction used at the day's last sample. */
  used: number;
}

export interface StorageTrend {
  store: string;
  total?: number;
  used?: number;
  daily: DailyUsage[];
  /** Fraction-point change from the period's first to its last day. */
  change: number | null;
  /** The fitted growth per day over the period's samples alone. */
  growthPerDay: number | null;
  /** The projection over the whole history. */
  projection?: CapacityProjection;
  recommendation: string;
}

export function dailyUsage(history: PbsUsage["history"], period: Period): DailyUsage[] {
  const byDay = new Map<string, { t: number; used: number }>();
  for (const p of history) {
    if (p.t < period.start || p.t >= period.end) continue;
    const day = formatDate(p.t);
    const seen = byDay.get(day);
    if (!seen || p.t >= seen.t) byDay.set(day, p);
  }
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, p]) => ({ day, used: p.used }));
}

/** What to do about a projection, in the strategy's terms (alert above the threshold). */
export function recommendation(projection: CapacityProjection | undefined, thresholdPercent: number): string {
  if (!projection) return "not enough usage history to project";
  const [threshold, full] = projection.levels;
  if (full?.reached) return "full: backups fail now; free space or add disks immediately";
  if (threshold?.reached) return `above ${thresholdPercent} %: prune, move a service or add disks now`;
  if (threshold?.days === null || threshold === undefined) return "not growing: no action needed";
  const days = threshold.days;
  if (days < 30) return `reaches ${thresholdPercent} % within a month: act now (expand the pool or shorten retention)`;
  if (days < 90) return `reaches ${thresholdPercent} % within a quarter: plan the expansion`;
  return "no action needed this quarter";
}

export function storageTrends(strategy: Strategy, usage: readonly PbsUsage[], period: Period): StorageTrend[] {
  const threshold = strategy.monitoring.capacityThresholdPercent;
  return strategy.datastores.map((d) => {
    const u = usage.find((x) => x.store === d.name);
    const daily = u ? dailyUsage(u.history, period) : [];
    const projection = u ? projectCapacity(u.history.filter((p) => p.t <= period.end), period.end, [threshold / 100, 1]) : undefined;
    const inPeriod = u ? projectCapacity(u.history.filter((p) => p.t >= period.start && p.t <= period.end), period.end, []) : undefined;
    const first = daily[0];
    const last = daily[daily.length - 1];
    return {
      store: d.name,
      ...(u?.total !== undefined ? { total: u.total } : {}),
      ...(u?.used !== undefined ? { used: u.used } : {}),
      daily,
      change: first && last && first !== last ? last.used - first.used : null,
      growthPerDay: inPeriod ? inPeriod.slopePerDay : null,
      ...(projection ? { projection } : {}),
      recommendation: recommendation(projection, threshold),
    };
  });
}
