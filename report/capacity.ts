/**
 * Capacity projection: when a datastore crosses a usage level, from its usage history by
 * ordinary least squares. Pure, so its properties are tested with fast-check.
 *
 * The line is fitted on centred times: unix seconds squared overflow a double's precision long
 * before the sums of a month of samples would.
 */
import { DAY_SECONDS } from "./period";

export interface UsagePoint {
  /** Unix seconds. */
  t: number;
  /** Fraction used, 0..1. */
  used: number;
}

export interface LevelProjection {
  /** Fraction, 0..1. */
  level: number;
  /** The newest sample is already at or above the level. */
  reached: boolean;
  /** Days from `now` until the fitted line reaches the level; null when usage is not growing. */
  days: number | null;
  /** Unix seconds of that moment; null with `days`. */
  at: number | null;
}

export interface CapacityProjection {
  samples: number;
  /** Change of the fraction used per day (0.01 = one percentage point a day). */
  slopePerDay: number;
  /** The fitted fraction at `now`. */
  fittedNow: number;
  /** The newest sample. */
  latest: number;
  levels: LevelProjection[];
}

/**
 * Projects when usage reaches each level (fractions such as 0.8 and 1). Undefined with fewer
 * than two samples at distinct times: no line can be fitted.
 */
export function projectCapacity(points: readonly UsagePoint[], now: number, levels: readonly number[]): CapacityProjection | undefined {
  const samples = points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.used));
  if (samples.length < 2) return undefined;
  const n = samples.length;
  const tMean = samples.reduce((s, p) => s + p.t, 0) / n;
  const yMean = samples.reduce((s, p) => s + p.used, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of samples) {
    const dx = p.t - tMean;
    sxx += dx * dx;
    sxy += dx * (p.used - yMean);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const fittedNow = yMean + slope * (now - tMean);
  const newest = samples.reduce((a, b) => (b.t >= a.t ? b : a));
  const slopePerDay = slope * DAY_SECONDS;
  return {
    samples: n,
    slopePerDay,
    fittedNow,
    latest: newest.used,
    levels: levels.map((level) => {
      if (newest.used >= level) return { level, reached: true, days: 0, at: now };
      // A flat or shrinking store never gets there; tiny positive slopes are real growth.
      if (!(slope > 0)) return { level, reached: false, days: null, at: null };
      const days = Math.max(0, (level - fittedNow) / slopePerDay);
      return { level, reached: false, days, at: now + days * DAY_SECONDS };
    }),
  };
}
