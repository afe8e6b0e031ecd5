/**
 * Durations as the strategy writes them: `1h`, `24h`, `7d`, `4w`, `2y`. Kept in minutes so RPOs
 * compare directly with schedule intervals. A year is 365 days, the unit AWS uses for Object Lock
 * and lifecycle days (2 y = 730 days).
 */

const UNIT_MINUTES: Record<string, number> = { m: 1, h: 60, d: 1440, w: 10080, y: 525600 };

export const DURATION_PATTERN = /^(\d+)\s*(m|h|d|w|y)$/;

/** Parses `"24h"` to 1440 minutes; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = UNIT_MINUTES[m[2] as string] as number;
  return value > 0 ? value * unit : undefined;
}

/** Minutes to the largest whole unit that divides them: 1440 → "1d", 90 → "90m". */
export function formatDuration(minutes: number): string {
  if (!Number.isFinite(minutes)) return "never";
  for (const [unit, size] of [["y", 525600], ["w", 10080], ["d", 1440], ["h", 60]] as const) {
    if (minutes >= size && minutes % size === 0) return `${minutes / size}${unit}`;
  }
  return `${minutes}m`;
}

export const MINUTES_PER_DAY = 1440;
