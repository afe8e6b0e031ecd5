/**
 * systemd calendar events, the schedule syntax PVE (`/cluster/backup`) and PBS jobs share.
 *
 * Only the subset both servers accept is allowed: no `@epoch`, no timezones, no sub-second
 * precision, no `~` reverse days and no repeated ranges (`1..10/2`). Parsing to expanded value
 * sets lets the rest of the library do maths on schedules (RPO checks, cron conversion, overlap)
 * without re-reading text.
 */

/** A parsed calendar event, each field expanded to the sorted set of values it matches. */
export interface CalendarEvent {
  /** The event as written (trimmed), which is what PVE and PBS receive. */
  readonly source: string;
  /** Days of the week, 0 = Sunday .. 6 = Saturday. */
  readonly weekdays: readonly number[];
  /** Months, 1..12. */
  readonly months: readonly number[];
  /** Days of the month, 1..31. */
  readonly days: readonly number[];
  /** Hours, 0..23. */
  readonly hours: readonly number[];
  /** Minutes, 0..59. */
  readonly minutes: readonly number[];
  /** Which fields were written as `*` (or left out), so converters can keep them compact. */
  readonly wildcard: {
    readonly weekdays: boolean;
    readonly months: boolean;
    readonly days: boolean;
    readonly hours: boolean;
    readonly minutes: boolean;
  };
}

/** Thrown for a calendar event outside the supported subset; `message` says what was expected. */
export class CalendarError extends Error {}

const WEEKDAYS: Record<string, number> = {
  sun: 0, sunday: 0, mon: 1, monday: 1, tue: 2, tuesday: 2, wed: 3, wednesday: 3,
  thu: 4, thursday: 4, fri: 5, friday: 5, sat: 6, saturday: 6,
};

const SHORTHANDS: Record<string, string> = {
  minutely: "*-*-* *:*:00",
  hourly: "*-*-* *:00:00",
  daily: "*-*-* 00:00:00",
  weekly: "Mon *-*-* 00:00:00",
  monthly: "*-*-01 00:00:00",
  yearly: "*-01-01 00:00:00",
  annually: "*-01-01 00:00:00",
};

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/** Expands one numeric field (`*`, `5`, `1,3`, `1..7`, `*\/15`, `0/2`) into its values. */
function expandField(text: string, lo: number, hi: number, what: string): { values: number[]; wildcard: boolean } {
  if (text === "*") return { values: range(lo, hi), wildcard: true };
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\*|\d{1,4})(?:\.\.(\d{1,4}))?(?:\/(\d{1,4}))?$/.exec(part);
    if (!m) throw new CalendarError(`${what} "${part}" is not a number, a range a..b, a list or a repetition a/step`);
    if (m[2] !== undefined && m[3] !== undefined) {
      throw new CalendarError(`${what} "${part}" is a repeated range, which PVE and PBS do not support; write a list instead`);
    }
    const start = m[1] === "*" ? lo : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? hi : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (step < 1) throw new CalendarError(`${what} "${part}" has a step of 0; expected a step of 1 or more`);
    if (start < lo || start > hi || end < lo || end > hi) {
      throw new CalendarError(`${what} "${part}" is out of range; expected values from ${lo} to ${hi}`);
    }
    if (end < start) throw new CalendarError(`${what} "${part}" runs backwards; expected a..b with a <= b`);
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return { values: [...values].sort((a, b) => a - b), wildcard: false };
}

function expandWeekdays(text: string): number[] {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [a, b, ...rest] = part.split("..");
    const from = WEEKDAYS[(a ?? "").toLowerCase()];
    const to = b === undefined ? from : WEEKDAYS[b.toLowerCase()];
    if (from === undefined || to === undefined || rest.length > 0) {
      throw new CalendarError(`weekday "${part}" is not a day name; expected Mon, Tue, Wed, Thu, Fri, Sat, Sun, a range like Mon..Fri or a list`);
    }
    // Weekday ranges wrap (Fri..Mon), as in systemd.
    for (let d = from; ; d = (d + 1) % 7) {
      values.add(d);
      if (d === to) break;
    }
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Parses a calendar event such as `*-*-* 02:00`, `Sun *-*-* 03:00`, `Sun *-*-01..07 04:00`,
 * `mon..fri 02:30`, `*:0/15` or a shorthand (`daily`, `weekly`, `hourly`, `monthly`).
 * @throws CalendarError naming the part that is wrong and what is expected
 */
export function parseCalendarEvent(input: string): CalendarEvent {
  const source = input.trim();
  if (source === "") throw new CalendarError("the schedule is empty; expected a calendar event such as \"*-*-* 02:00\"");
  if (source.startsWith("@")) throw new CalendarError("@epoch timestamps are not supported by PVE and PBS; expected a calendar event");
  if (source.includes("~")) throw new CalendarError("reverse days (~) are not supported by PVE and PBS; expected days counted from the start of the month");
  const text = SHORTHANDS[source.toLowerCase()] ?? source;
  const tokens = text.split(/\s+/);

  let weekdays: number[] = range(0, 6);
  let weekdayWildcard = true;
  if (tokens.length > 0 && /^[a-z]/i.test(tokens[0] ?? "")) {
    weekdays = expandWeekdays(tokens.shift() as string);
    weekdayWildcard = weekdays.length === 7;
  }

  let datePart = "*-*-*";
  let timePart = "00:00:00";
  for (const token of tokens) {
    if (token.includes("-") && !token.includes(":")) datePart = token;
    else if (token.includes(":")) timePart = token;
    else throw new CalendarError(`"${token}" is neither a date (Y-M-D) nor a time (H:M); expected a calendar event such as "Sun *-*-* 03:00"`);
  }
  if (tokens.length > 2) throw new CalendarError(`"${source}" has more parts than weekday, date and time`);
  if (/[A-Za-z]/.test(timePart) && timePart.split(" ").length > 0 && /[A-Z]{2,}|UTC/.test(timePart)) {
    throw new CalendarError("timezones are not supported by PVE and PBS; the server's own timezone is used");
  }

  const dateFields = datePart.split("-");
  if (dateFields.length === 2) dateFields.unshift("*");
  if (dateFields.length !== 3) throw new CalendarError(`date "${datePart}" is not Y-M-D or M-D`);
  const [yearText, monthText, dayText] = dateFields as [string, string, string];
  if (yearText !== "*") expandField(yearText, 1970, 2199, "year");
  const months = expandField(monthText, 1, 12, "month");
  const days = expandField(dayText, 1, 31, "day");

  const timeFields = timePart.split(":");
  if (timeFields.length < 2 || timeFields.length > 3) throw new CalendarError(`time "${timePart}" is not H:M or H:M:S`);
  const [hourText, minuteText, secondText] = timeFields as [string, string, string | undefined];
  if (secondText !== undefined && secondText !== "0" && secondText !== "00") {
    if (secondText.includes(".")) throw new CalendarError("sub-second precision is not supported by PVE and PBS");
    throw new CalendarError(`seconds "${secondText}" are not supported; expected jobs on whole minutes (":00")`);
  }
  const hours = expandField(hourText, 0, 23, "hour");
  const minutes = expandField(minuteText, 0, 59, "minute");

  const event: CalendarEvent = {
    source,
    weekdays,
    months: months.values,
    days: days.values,
    hours: hours.values,
    minutes: minutes.values,
    wildcard: {
      weekdays: weekdayWildcard,
      months: months.wildcard,
      days: days.wildcard,
      hours: hours.wildcard,
      minutes: minutes.wildcard,
    },
  };
  if (!hasAnyDay(event)) throw new CalendarError(`"${source}" never fires: no month has the days it names`);
  return event;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function hasAnyDay(event: CalendarEvent): boolean {
  return event.months.some((m) => event.days.some((d) => d <= (DAYS_IN_MONTH[m - 1] ?? 31)));
}

/** True when the calendar event fires on that (UTC-interpreted) calendar day. */
export function firesOnDay(event: CalendarEvent, date: Date): boolean {
  return (
    event.months.includes(date.getUTCMonth() + 1) &&
    event.days.includes(date.getUTCDate()) &&
    event.weekdays.includes(date.getUTCDay())
  );
}

/** Minutes of the day at which the event fires, ascending. */
export function minutesOfDay(event: CalendarEvent): number[] {
  const out: number[] = [];
  for (const h of event.hours) for (const m of event.minutes) out.push(h * 60 + m);
  return out;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Four years cover every weekday/month-length combination that matters for gaps of up to a year. */
const HORIZON_DAYS = 4 * 366;

/**
 * The longest time between two consecutive firings, in minutes, over a four-year window: the
 * worst-case data loss of a job on this schedule (its RPO contribution). `Sun *-*-01..07 04:00`
 * gives 35 days, `*-*-* 02:00` one day.
 */
const intervalCache = new Map<string, number>();

export function maxIntervalMinutes(event: CalendarEvent, from?: Date): number {
  // Thousands of services share a handful of schedules: compute each one once.
  if (from !== undefined) return computeMaxInterval(event, from);
  const cached = intervalCache.get(event.source);
  if (cached !== undefined) return cached;
  const value = computeMaxInterval(event, new Date(Date.UTC(2024, 0, 1)));
  intervalCache.set(event.source, value);
  return value;
}

function computeMaxInterval(event: CalendarEvent, from: Date): number {
  const times = minutesOfDay(event);
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  let previous: number | undefined;
  let first: number | undefined;
  let longest = 0;
  for (let d = 0; d < HORIZON_DAYS; d++) {
    const day = new Date(start + d * DAY);
    if (!firesOnDay(event, day)) continue;
    for (const t of times) {
      const at = start + d * DAY + t * MINUTE;
      if (previous !== undefined) longest = Math.max(longest, (at - previous) / MINUTE);
      else first = at;
      previous = at;
    }
  }
  if (first === undefined) return Number.POSITIVE_INFINITY;
  return longest === 0 ? HORIZON_DAYS * 24 * 60 : longest;
}

/** The next firing strictly after `after` (UTC), or undefined when none falls in the next four years. */
export function nextFiring(event: CalendarEvent, after: Date): Date | undefined {
  const times = minutesOfDay(event);
  const dayStart = Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate());
  for (let d = 0; d < HORIZON_DAYS; d++) {
    const day = new Date(dayStart + d * DAY);
    if (!firesOnDay(event, day)) continue;
    for (const t of times) {
      const at = dayStart + d * DAY + t * MINUTE;
      if (at > after.getTime()) return new Date(at);
    }
  }
  return undefined;
}

/** A short human description for tables: "daily 02:00", "Sun 03:00", "hourly :00". */
export function describeCalendarEvent(event: CalendarEvent): string {
  const everyDay = event.wildcard.weekdays && event.wildcard.days && event.wildcard.months;
  const names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const time =
    event.hours.length === 24 && event.minutes.length === 1
      ? `hourly at :${String(event.minutes[0]).padStart(2, "0")}`
      : event.hours.length * event.minutes.length <= 3
        ? minutesOfDay(event)
            .map((m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`)
            .join(", ")
        : `${event.hours.length * event.minutes.length}x a day`;
  if (everyDay) return event.hours.length === 24 ? time : `daily ${time}`;
  const weekdayText = event.wildcard.weekdays ? "" : event.weekdays.map((d) => names[d]).join(",");
  if (!event.wildcard.days && event.days.length === 7 && event.days[0] === 1 && event.weekdays.length === 1) {
    return `1st ${weekdayText} of the month ${time}`;
  }
  if (!event.wildcard.days) return `${weekdayText ? weekdayText + " " : ""}day ${event.days.join(",")} ${time}`.trim();
  return `${weekdayText} ${time}`.trim();
}
