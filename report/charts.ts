/**
 * Mermaid `xychart-beta` charts for what reads better as a picture: a datastore's usage over the
 * period against the capacity threshold, and job durations against what each service expects.
 * xychart has no legend, so each title says which mark is which.
 */
import type { DurationStat } from "./jobs";
import type { StorageTrend } from "./storage";

const one = (n: number) => String(Math.round(n * 10) / 10);
const label = (text: string) => `"${text.replace(/["\\]/g, "")}"`;

/** A round upper bound a little above the data, so bars do not touch the frame. */
function ceiling(values: readonly number[]): number {
  const max = Math.max(1, ...values) * 1.15;
  const step = max <= 10 ? 1 : max <= 100 ? 10 : 60;
  return Math.ceil(max / step) * step;
}

export function usageChart(trend: StorageTrend, thresholdPercent: number): string[] {
  if (trend.daily.length < 2) return [];
  return [
    "```mermaid",
    "xychart-beta",
    `    title ${label(`Datastore ${trend.store}: used % at the end of each day (flat line: ${thresholdPercent} % threshold)`)}`,
    `    x-axis [${trend.daily.map((d) => label(d.day.slice(5))).join(", ")}]`,
    '    y-axis "used %" 0 --> 100',
    `    line [${trend.daily.map((d) => one(d.used * 100)).join(", ")}]`,
    `    line [${trend.daily.map(() => String(thresholdPercent)).join(", ")}]`,
    "```",
  ];
}

export function durationChart(durations: readonly DurationStat[]): string[] {
  const shown = durations.filter((d) => d.medianMinutes !== null);
  if (shown.length === 0) return [];
  const top = ceiling(shown.flatMap((d) => [d.medianMinutes as number, d.maxMinutes as number, d.expectedMinutes]));
  return [
    "```mermaid",
    "xychart-beta",
    `    title ${label("Backup job duration in minutes: median (bars) against expected (line)")}`,
    `    x-axis [${shown.map((d) => label(d.service)).join(", ")}]`,
    `    y-axis "minutes" 0 --> ${top}`,
    `    bar [${shown.map((d) => one(d.medianMinutes as number)).join(", ")}]`,
    `    line [${shown.map((d) => one(d.expectedMinutes)).join(", ")}]`,
    "```",
  ];
}
