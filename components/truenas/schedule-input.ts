/** The cron schedule inputs of TrueNAS tasks, checked and filled with TrueNAS's own defaults. */
import { CRON_FIELDS, scheduleProblems } from "./cron";
import { isRecord, isUnknown, type Checker } from "./fields";

/**
 * Reads `key` as a cron schedule: missing fields get TrueNAS's defaults (minute "00", the rest
 * "*", and for windowed schedules begin "00:00", end "23:59") so that state matches what `query`
 * returns, then every problem TrueNAS would report fails the check.
 */
export function checkSchedule(c: Checker, key: string, options: { windowed: boolean; required: boolean }): void {
  const raw = c.record(key, { required: options.required });
  if (raw === undefined || isUnknown(raw)) return;
  const filled: Record<string, unknown> = {};
  const defaults: Record<string, string> = { minute: "00", hour: "*", dom: "*", month: "*", dow: "*" };
  for (const field of CRON_FIELDS) filled[field] = raw[field] ?? defaults[field];
  if (options.windowed) {
    filled.begin = raw.begin ?? "00:00";
    filled.end = raw.end ?? "23:59";
  }
  for (const extra of Object.keys(raw)) {
    if (!(extra in filled)) c.fail(`${key}.${extra}`, `unknown schedule field; expected ${Object.keys(filled).join(", ")}`);
  }
  for (const problem of scheduleProblems(filled, options.windowed)) c.fail(`${key}.${problem.field}`, problem.reason);
  c.inputs[key] = filled;
}

/** True when a schedule input is present (or not yet known). */
export function hasSchedule(value: unknown): boolean {
  return isRecord(value) || isUnknown(value);
}
