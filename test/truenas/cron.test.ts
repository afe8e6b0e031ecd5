import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { firesOnDay, nextFiring, parseCalendarEvent, type CalendarEvent } from "../../config/calendar";
import { calendarToCron, compactField, CronConversionError, scheduleProblems } from "../../components/truenas/cron";
import { cronMatcher } from "../fixtures/truenas-server";

const cron = (text: string): ReturnType<typeof calendarToCron> => calendarToCron(parseCalendarEvent(text));

describe("calendarToCron", () => {
  test("converts the strategy's schedules with TrueNAS's dow numbering and compact fields", () => {
    assert.deepEqual(cron("*-*-* 02:00"), { minute: "0", hour: "2", dom: "*", month: "*", dow: "*" });
    assert.deepEqual(cron("Sun *-*-* 03:00"), { minute: "0", hour: "3", dom: "*", month: "*", dow: "7" });
    assert.deepEqual(cron("*-*-01 04:00"), { minute: "0", hour: "4", dom: "1", month: "*", dow: "*" });
    assert.deepEqual(cron("mon..fri 02:30"), { minute: "30", hour: "2", dom: "*", month: "*", dow: "1-5" });
    assert.deepEqual(cron("Fri..Mon 01:00"), { minute: "0", hour: "1", dom: "*", month: "*", dow: "1,5-7" });
    assert.deepEqual(cron("Sat,Sun 06:00"), { minute: "0", hour: "6", dom: "*", month: "*", dow: "6,7" });
    assert.deepEqual(cron("*:0/15"), { minute: "*/15", hour: "*", dom: "*", month: "*", dow: "*" });
    assert.deepEqual(cron("hourly"), { minute: "0", hour: "*", dom: "*", month: "*", dow: "*" });
    assert.deepEqual(cron("*-01,04,07,10-01 03:00"), { minute: "0", hour: "3", dom: "1", month: "*/3", dow: "*" });
    assert.deepEqual(cron("*-*-* 08..18:00"), { minute: "0", hour: "8-18", dom: "*", month: "*", dow: "*" });
  });

  test("a weekday or day set that covers everything is no restriction", () => {
    assert.deepEqual(cron("Mon..Sun *-*-01 04:00"), { minute: "0", hour: "4", dom: "1", month: "*", dow: "*" });
    assert.deepEqual(cron("Sun *-*-01..31 04:00"), { minute: "0", hour: "4", dom: "*", month: "*", dow: "7" });
  });

  test("refuses weekday AND day of month (first Sunday), saying why and what to use", () => {
    assert.throws(() => cron("Sun *-*-01..07 04:00"), (e: unknown) => {
      assert.ok(e instanceof CronConversionError);
      assert.match(e.message, /systemd ANDs weekday and day of month but cron \(TrueNAS\) fires when either matches/);
      assert.match(e.message, /"\*-\*-01 04:00" \(a fixed day of the month\) or "Sun \*-\*-\* 04:00" \(every Sun\)/);
      // Both suggestions convert.
      for (const s of e.message.match(/"([^"]+)" \(/g) ?? []) cron(s.slice(1, s.indexOf('"', 1)));
      return true;
    });
  });

  test("compactField writes steps, ranges and lists", () => {
    assert.equal(compactField([0, 15, 30, 45], 0, 59), "*/15");
    assert.equal(compactField([5, 20, 35, 50], 0, 59), "5,20,35,50");
    assert.equal(compactField([1, 2, 3, 5, 7, 8], 1, 31), "1-3,5,7,8");
    assert.equal(compactField([0, 30], 0, 59), "*/30");
    assert.equal(compactField([3], 0, 23), "3");
  });

  test("property: the cron schedule fires in exactly the minutes the calendar event fires", () => {
    // Wildcards, small sets and nearly-full sets (all but one or two values), where compaction errs.
    const subset = (lo: number, hi: number, max: number) =>
      fc.oneof(
        fc.constant(undefined),
        fc.uniqueArray(fc.integer({ min: lo, max: hi }), { minLength: 1, maxLength: max }),
        fc.uniqueArray(fc.integer({ min: lo, max: hi }), { minLength: 1, maxLength: 2 }).map((drop) => {
          const out: number[] = [];
          for (let v = lo; v <= hi; v++) if (!drop.includes(v)) out.push(v);
          return out;
        }),
      );
    const names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const render = (values: readonly number[] | undefined): string => (values === undefined ? "*" : [...values].sort((a, b) => a - b).join(","));
    const arbEvent = fc
      .record({
        weekdays: subset(0, 6, 7),
        months: subset(1, 12, 12),
        days: subset(1, 31, 31),
        hours: subset(0, 23, 4),
        minutes: fc.oneof(subset(0, 59, 3), fc.constantFrom([0, 15, 30, 45], [0, 20, 40])),
      })
      .map((r) => {
        const wd = r.weekdays ? `${r.weekdays.map((d) => names[d]).join(",")} ` : "";
        return `${wd}*-${render(r.months)}-${render(r.days)} ${render(r.hours)}:${render(r.minutes)}`;
      });
    const DAY = 86_400_000;
    const start = Date.UTC(2024, 0, 1);
    let compared = 0;
    let refused = 0;
    fc.assert(
      fc.property(arbEvent, fc.array(fc.integer({ min: 0, max: 4 * 365 }), { minLength: 2, maxLength: 2 }), (source, offsets) => {
        let event: CalendarEvent;
        try {
          event = parseCalendarEvent(source);
        } catch {
          return; // never fires (e.g. Feb 30): the parser refuses it already
        }
        const bothRestricted = new Set(event.weekdays).size < 7 && new Set(event.days).size < 31;
        let converted: ReturnType<typeof calendarToCron>;
        try {
          converted = calendarToCron(event);
        } catch (error) {
          assert.ok(error instanceof CronConversionError);
          assert.ok(bothRestricted, `refused "${source}" although cron can express it`);
          refused++;
          return;
        }
        assert.ok(!bothRestricted, `converted "${source}", which cron cannot express`);
        const fires = cronMatcher(converted);
        const next = nextFiring(event, new Date(start + (offsets[0] as number) * DAY));
        const days = offsets.map((o) => start + o * DAY);
        if (next) days.push(Date.UTC(next.getUTCFullYear(), next.getUTCMonth(), next.getUTCDate()));
        for (const day of days) {
          const onDay = firesOnDay(event, new Date(day));
          for (let minute = 0; minute < 1440; minute++) {
            const at = new Date(day + minute * 60_000);
            const expected = onDay && event.hours.includes(at.getUTCHours()) && event.minutes.includes(at.getUTCMinutes());
            if (fires(at) !== expected) assert.fail(`"${source}" → ${JSON.stringify(converted)} disagrees at ${at.toISOString()}: calendar ${expected}`);
          }
        }
        compared++;
      }),
      { numRuns: 250, seed: 20250106 },
    );
    assert.ok(compared > 50 && refused > 10, `both paths exercised (compared ${compared}, refused ${refused})`);
  });
});

describe("scheduleProblems mirrors TrueNAS's schedule validation", () => {
  const ok = { minute: "0", hour: "2", dom: "*", month: "*", dow: "1-5", begin: "00:00", end: "23:59" };
  test("accepts a valid windowed schedule", () => assert.deepEqual(scheduleProblems(ok, true), []));
  test("refuses bad fields, an inverted window and a window the schedule never fires in", () => {
    assert.deepEqual(scheduleProblems({ ...ok, dow: "8" }, true).map((p) => p.field), ["dow"]);
    assert.match(scheduleProblems({ ...ok, hour: "2-1" }, true)[0]?.reason ?? "", /cron syntax - "2-1" runs backwards/);
    assert.deepEqual(scheduleProblems({ ...ok, begin: "18:00", end: "06:00" }, true), [{ field: "begin", reason: "Begin time should be less than or equal to end time" }]);
    assert.deepEqual(scheduleProblems({ ...ok, begin: "09:00", end: "17:00" }, true), [{ field: "begin", reason: "Specified schedule does not match specified time interval" }]);
    assert.deepEqual(scheduleProblems({ ...ok, begin: "9:00" }, true).map((p) => p.field), ["begin"]);
    assert.deepEqual(scheduleProblems({ minute: "0", hour: "2", dom: "*", month: "*", dow: "*", begin: "00:00" }, false).map((p) => p.field), ["begin"]);
  });
});
