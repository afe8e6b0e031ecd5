/**
 * The one schedule type (systemd calendar events, as PVE and PBS take them) serialised for
 * TrueNAS, whose tasks take a cron object `{minute, hour, dom, month, dow}` with dow 1=Mon..7=Sun.
 *
 * The conversion is exact or it refuses: a schedule that fires at other times than the strategy
 * says would silently change an RPO. The one thing cron cannot say is "weekday AND day of month":
 * systemd ANDs the two, while cron (croniter, which TrueNAS validates and runs schedules with)
 * fires when EITHER matches once both are restricted.
 */
import type { CalendarEvent } from "../../config/calendar";

/** A TrueNAS cron schedule: each field `*`, a number, a range `a-b`, a step `*\/n` or a comma list of those. */
export interface CronSchedule {
  readonly minute: string;
  readonly hour: string;
  readonly dom: string;
  readonly month: string;
  /** 1 = Monday .. 7 = Sunday (TrueNAS's numbering; croniter also reads 0 as Sunday). */
  readonly dow: string;
}

/** A cron schedule restricted to a time-of-day window, as snapshot and replication tasks take it. */
export interface WindowedCronSchedule extends CronSchedule {
  /** "HH:MM", inclusive. @default "00:00" */
  readonly begin: string;
  /** "HH:MM", inclusive. @default "23:59" */
  readonly end: string;
}

/** The calendar event cannot be written as a cron schedule; `message` says why and what to use instead. */
export class CronConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.message = message;
    this.name = "CronConversionError";
  }
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * Writes a sorted value set compactly: `*` when it covers the field, `*\/n` for an even step from
 * the field's start to its end, otherwise ranges (3+ consecutive values) and single values.
 */
export function compactField(values: readonly number[], lo: number, hi: number): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  if (sorted.length === 0) throw new Error("a cron field needs at least one value");
  if (sorted.length === hi - lo + 1) return "*";
  if (sorted.length >= 2 && sorted[0] === lo) {
    const step = (sorted[1] as number) - lo;
    const even = sorted.every((v, i) => v === lo + i * step);
    if (step > 1 && even && (sorted[sorted.length - 1] as number) + step > hi) return `*/${step}`;
  }
  const parts: string[] = [];
  let start = sorted[0] as number;
  let prev = start;
  const flush = (): void => {
    if (prev - start >= 2) parts.push(`${start}-${prev}`);
    else for (let v = start; v <= prev; v++) parts.push(String(v));
  };
  for (const v of sorted.slice(1)) {
    if (v === prev + 1) {
      prev = v;
      continue;
    }
    flush();
    start = v;
    prev = v;
  }
  flush();
  return parts.join(",");
}

function covers(values: readonly number[], lo: number, hi: number): boolean {
  return new Set(values).size === hi - lo + 1;
}

/** The time and month parts of the event as written, for suggestions in error messages. */
function suggestionParts(event: CalendarEvent): { month: string; firstDay: string; time: string; weekdays: string } {
  const tokens = event.source.split(/\s+/);
  const time = tokens.find((t) => t.includes(":")) ?? "00:00";
  const date = tokens.find((t) => t.includes("-") && !t.includes(":")) ?? "*-*-*";
  const fields = date.split("-");
  const month = fields.length === 3 ? (fields[1] as string) : fields.length === 2 ? (fields[0] as string) : "*";
  const firstDay = String(event.days[0] ?? 1).padStart(2, "0");
  const weekdays = event.weekdays.map((d) => DAY_NAMES[d]).join(",");
  return { month, firstDay, time, weekdays };
}

/**
 * Converts a parsed calendar event into the cron object TrueNAS tasks take, with dow 1=Mon..7=Sun
 * and compact fields. The cron schedule fires in exactly the minutes the calendar event fires.
 *
 * @throws CronConversionError when the event restricts both the weekday and the day of the month
 *   (`Sun *-*-01..07 04:00`): cron ORs those two fields, so no cron schedule fires only then. The
 *   message suggests the nearest schedules both syntaxes express.
 */
export function calendarToCron(event: CalendarEvent): CronSchedule {
  const weekdayRestricted = !covers(event.weekdays, 0, 6);
  const dayRestricted = !covers(event.days, 1, 31);
  if (weekdayRestricted && dayRestricted) {
    const s = suggestionParts(event);
    throw new CronConversionError(
      `"${event.source}" fires only on ${s.weekdays} that are also day ${compactField(event.days, 1, 31)} of the month; ` +
        "systemd ANDs weekday and day of month but cron (TrueNAS) fires when either matches, so no TrueNAS schedule fires exactly then. " +
        `Use a schedule both can express, e.g. "*-${s.month}-${s.firstDay} ${s.time}" (a fixed day of the month) or ` +
        `"${s.weekdays} *-${s.month}-* ${s.time}" (every ${s.weekdays})`,
    );
  }
  return {
    minute: compactField(event.minutes, 0, 59),
    hour: compactField(event.hours, 0, 23),
    dom: dayRestricted ? compactField(event.days, 1, 31) : "*",
    month: compactField(event.months, 1, 12),
    dow: weekdayRestricted ? compactField(event.weekdays.map((d) => (d === 0 ? 7 : d)), 1, 7) : "*",
  };
}

/** `calendarToCron` plus the whole-day window snapshot and replication tasks take. */
export function calendarToWindowedCron(event: CalendarEvent): WindowedCronSchedule {
  return { ...calendarToCron(event), begin: "00:00", end: "23:59" };
}

// ---------------------------------------------------------------------------------------------
// Validation, mirroring what TrueNAS (croniter) accepts, so a bad schedule fails at preview.

const BOUNDS = {
  minute: [0, 59],
  hour: [0, 23],
  dom: [1, 31],
  month: [1, 12],
  dow: [0, 7],
} as const satisfies Record<keyof CronSchedule, readonly [number, number]>;

export const CRON_FIELDS = ["minute", "hour", "dom", "month", "dow"] as const;

/** Values a cron field matches, or a reason it is not valid cron. */
export function expandCronField(text: string, lo: number, hi: number): { values: number[] } | { error: string } {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\*|\d{1,2})(?:-(\d{1,2}))?(?:\/(\d{1,2}))?$/.exec(part.trim());
    if (!m) return { error: `"${part}" is not *, a number, a range a-b or a step */n` };
    if (m[1] === "*" && m[2] !== undefined) return { error: `"${part}" mixes * and a range` };
    const start = m[1] === "*" ? lo : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[1] === "*" || m[3] !== undefined ? hi : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (step < 1) return { error: `"${part}" has a step of 0` };
    if (start < lo || end > hi) return { error: `"${part}" is outside ${lo}-${hi}` };
    if (end < start) return { error: `"${part}" runs backwards` };
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return { values: [...values].sort((a, b) => a - b) };
}

function minutesOfDay(schedule: CronSchedule): number[] | undefined {
  const h = expandCronField(schedule.hour, 0, 23);
  const m = expandCronField(schedule.minute, 0, 59);
  if ("error" in h || "error" in m) return undefined;
  return h.values.flatMap((hour) => m.values.map((minute) => hour * 60 + minute));
}

function parseTime(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return undefined;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** One problem with a schedule input, named by its path below `property`. */
export interface ScheduleProblem {
  readonly field: string;
  readonly reason: string;
}

/**
 * Problems TrueNAS would report for this schedule: non-cron fields, and for windowed schedules a
 * malformed or inverted window, or a window in which the schedule never fires.
 */
export function scheduleProblems(schedule: Partial<Record<string, unknown>>, windowed: boolean): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  for (const field of CRON_FIELDS) {
    const value = schedule[field];
    if (typeof value !== "string") {
      problems.push({ field, reason: `expected a cron field string, got ${JSON.stringify(value)}` });
      continue;
    }
    const [lo, hi] = BOUNDS[field];
    const result = expandCronField(value, lo, hi);
    if ("error" in result) problems.push({ field, reason: `Please ensure fields match cron syntax - ${result.error}` });
  }
  if (!windowed) {
    for (const key of ["begin", "end"]) {
      if (schedule[key] !== undefined) problems.push({ field: key, reason: "this task's schedule has no time window" });
    }
    return problems;
  }
  const begin = typeof schedule.begin === "string" ? parseTime(schedule.begin) : undefined;
  const end = typeof schedule.end === "string" ? parseTime(schedule.end) : undefined;
  if (begin === undefined) problems.push({ field: "begin", reason: `expected "HH:MM", got ${JSON.stringify(schedule.begin)}` });
  if (end === undefined) problems.push({ field: "end", reason: `expected "HH:MM", got ${JSON.stringify(schedule.end)}` });
  if (begin !== undefined && end !== undefined && problems.length === 0) {
    if (begin > end) problems.push({ field: "begin", reason: "Begin time should be less than or equal to end time" });
    else {
      const minutes = minutesOfDay(schedule as unknown as CronSchedule) ?? [];
      if (!minutes.some((t) => t >= begin && t <= end)) {
        problems.push({ field: "begin", reason: "Specified schedule does not match specified time interval" });
      }
    }
  }
  return problems;
}
