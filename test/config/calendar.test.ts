import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CalendarError, describeCalendarEvent, firesOnDay, maxIntervalMinutes, nextFiring, parseCalendarEvent } from "../../config/calendar";

describe("calendar events", () => {
  test("parses the seed's schedules", () => {
    const daily = parseCalendarEvent("*-*-* 02:00");
    assert.deepEqual([daily.hours, daily.minutes], [[2], [0]]);
    assert.equal(daily.weekdays.length, 7);
    const weekly = parseCalendarEvent("Sun *-*-* 03:00");
    assert.deepEqual(weekly.weekdays, [0]);
    const monthly = parseCalendarEvent("Sun *-*-01..07 04:00");
    assert.deepEqual(monthly.days, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(describeCalendarEvent(monthly), "1st Sun of the month 04:00");
    assert.equal(describeCalendarEvent(daily), "daily 02:00");
  });

  test("worst-case intervals: daily 1 d, weekly 7 d, first Sunday 35 d, hourly 1 h", () => {
    assert.equal(maxIntervalMinutes(parseCalendarEvent("*-*-* 02:00")), 1440);
    assert.equal(maxIntervalMinutes(parseCalendarEvent("Sun *-*-* 03:00")), 7 * 1440);
    assert.equal(maxIntervalMinutes(parseCalendarEvent("Sun *-*-01..07 04:00")), 35 * 1440);
    assert.equal(maxIntervalMinutes(parseCalendarEvent("*-*-* *:00")), 60);
    assert.equal(maxIntervalMinutes(parseCalendarEvent("mon..fri 02:30")), 3 * 1440);
  });

  test("the first Sunday of each month in 2026 is what the monthly schedule fires on", () => {
    const e = parseCalendarEvent("Sun *-*-01..07 04:00");
    let at = new Date(Date.UTC(2026, 0, 1));
    const firings: string[] = [];
    for (let i = 0; i < 12; i++) {
      at = nextFiring(e, at) as Date;
      firings.push(at.toISOString().slice(0, 10));
    }
    assert.deepEqual(firings, ["2026-01-04", "2026-02-01", "2026-03-01", "2026-04-05", "2026-05-03", "2026-06-07", "2026-07-05", "2026-08-02", "2026-09-06", "2026-10-04", "2026-11-01", "2026-12-06"]);
  });

  test("fails on what PVE and PBS do not accept, saying what is expected", () => {
    const cases: [string, RegExp][] = [
      ["@1700000000", /@epoch/],
      ["*-*-* 02:00 UTC", /neither a date|timezone/],
      ["*-*-* 24:00", /hour "24" is out of range; expected values from 0 to 23/],
      ["1..10/2:00", /repeated range/],
      ["Funday 02:00", /not a day name/],
      ["*-*-~1 02:00", /reverse days/],
      ["*-02-30 02:00", /never fires/],
      ["", /empty/],
      ["*-*-* 02:00:30", /seconds/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseCalendarEvent(text), (e: unknown) => e instanceof CalendarError && message.test((e as Error).message), text);
    }
  });

  test("property: every firing lies on a day the event allows, and no gap exceeds the reported maximum", () => {
    fc.assert(
      fc.property(
        fc.subarray([0, 1, 2, 3, 4, 5, 6], { minLength: 1 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        (days, hour, minute) => {
          const names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
          const e = parseCalendarEvent(`${days.map((d) => names[d]).join(",")} *-*-* ${hour}:${String(minute).padStart(2, "0")}`);
          const max = maxIntervalMinutes(e);
          let at = new Date(Date.UTC(2025, 0, 1));
          for (let i = 0; i < 20; i++) {
            const next = nextFiring(e, at) as Date;
            assert.ok(firesOnDay(e, next));
            assert.ok(days.includes(next.getUTCDay()));
            if (i > 0) assert.ok((next.getTime() - at.getTime()) / 60000 <= max);
            at = next;
          }
          // One weekday a week means a 7-day gap; more days can only shorten it.
          assert.ok(max <= 7 * 1440);
          if (days.length === 1) assert.equal(max, 7 * 1440);
        },
      ),
      { numRuns: 50 },
    );
  });
});
