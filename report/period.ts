/**
 * The window a report covers. Windows are rolling (the 7 or 30 days before `now`), not calendar
 * weeks or months, so a report run on any day compares like with like and `--now` alone makes
 * a run reproducible.
 */
export const PERIODS = ["weekly", "monthly"] as const;
export type PeriodName = (typeof PERIODS)[number];

export interface Period {
  name: PeriodName;
  /** Unix seconds, inclusive. */
  start: number;
  /** Unix seconds, exclusive: the report's "now". */
  end: number;
  days: number;
}

export const DAY_SECONDS = 86_400;

export function periodEnding(name: PeriodName, now: Date): Period {
  const days = name === "weekly" ? 7 : 30;
  const end = Math.floor(now.getTime() / 1000);
  return { name, start: end - days * DAY_SECONDS, end, days };
}

/** `2026-11-28 08:00 UTC`: reports are read next to PBS's UTC task times. */
export function formatTime(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** `3 d 4 h`, `47 min`, `12 s`: ages and durations at the precision a reader acts on. */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  // Round once at the unit shown, so 3 h 59.99 min reads 4 h 0 min, never 3 h 60 min.
  const minutes = Math.round(s / 60);
  if (minutes < 120) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const hours = Math.round(s / 3600);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
