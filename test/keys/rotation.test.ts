import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, epochKeeper, generations, keepAgeDays, maxBackupAgeDays, retainedGenerations, rotationEpoch } from "../../components/keys/rotation";
import { stackStrategy } from "../network/strategy";

// 1990..2100: well inside Date's range, and covers dates before and after any anchor used here.
const dateArb = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }).map((t) => new Date(t));
const periodArb = fc.integer({ min: 1, max: 3650 });

describe("rotationEpoch", () => {
  test("a fixed example: 90-day epochs from the Unix epoch", () => {
    const e = rotationEpoch(new Date("2026-05-20T12:00:00Z"), 90);
    assert.equal(e.epoch, 228);
    assert.equal(e.startsAt.toISOString(), "2026-03-08T00:00:00.000Z");
    assert.equal(e.nextRotation.toISOString(), "2026-06-06T00:00:00.000Z");
    assert.equal(epochKeeper(e), "2026-03-08");
  });

  test("now lies in [startsAt, nextRotation), and an epoch is exactly the period long", () => {
    fc.assert(
      fc.property(dateArb, periodArb, dateArb, (now, period, anchor) => {
        const e = rotationEpoch(now, period, anchor);
        assert.ok(e.startsAt.getTime() <= now.getTime() && now.getTime() < e.nextRotation.getTime());
        assert.equal(e.nextRotation.getTime() - e.startsAt.getTime(), period * DAY_MS);
      }),
    );
  });

  test("the keeper does not change before the period is over", () => {
    fc.assert(
      fc.property(dateArb, periodArb, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (now, period, fraction) => {
        const e = rotationEpoch(now, period);
        const later = new Date(e.startsAt.getTime() + Math.floor(fraction * period * DAY_MS));
        assert.equal(epochKeeper(rotationEpoch(later, period)), epochKeeper(e));
        assert.equal(rotationEpoch(later, period).epoch, e.epoch);
      }),
    );
  });

  test("the keeper changes once the period is over: a later pulumi up rotates with no manual step", () => {
    fc.assert(
      fc.property(dateArb, periodArb, fc.integer({ min: 0, max: 10 * DAY_MS }), (now, period, extra) => {
        const e = rotationEpoch(now, period);
        const later = rotationEpoch(new Date(e.nextRotation.getTime() + (extra % (period * DAY_MS))), period);
        assert.equal(later.epoch, e.epoch + 1);
        assert.notEqual(epochKeeper(later), epochKeeper(e));
        assert.equal(later.startsAt.getTime(), e.nextRotation.getTime());
      }),
    );
  });

  test("two dates a full period or more apart never share a keeper; keepers only move forward", () => {
    fc.assert(
      fc.property(dateArb, periodArb, fc.integer({ min: 0, max: 4000 * DAY_MS }), (t1, period, gap) => {
        const a = rotationEpoch(t1, period);
        const b = rotationEpoch(new Date(t1.getTime() + gap), period);
        assert.ok(b.epoch >= a.epoch);
        if (gap >= period * DAY_MS) assert.notEqual(epochKeeper(a), epochKeeper(b));
      }),
    );
  });

  test("refuses an invalid period or date", () => {
    assert.throws(() => rotationEpoch(new Date(), 0), /rotation period 0 is invalid/);
    assert.throws(() => rotationEpoch(new Date(), 1.5), /whole number of days/);
    assert.throws(() => rotationEpoch(new Date("nope"), 90), /now: expected a valid Date/);
  });
});

describe("retention of old keys", () => {
  test("ceil(max backup age / period) + 1 generations", () => {
    assert.equal(retainedGenerations(0, 90), 1);
    assert.equal(retainedGenerations(90, 90), 2);
    assert.equal(retainedGenerations(91, 90), 3);
    assert.equal(retainedGenerations(2927, 90), 34);
  });

  test("no generation whose backups may still exist is ever left unprotected, whatever the date", () => {
    fc.assert(
      fc.property(dateArb, periodArb, fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 5 }), (now, period, age, grace) => {
        const gens = generations({ now, periodDays: period, retained: retainedGenerations(age, period), grace, maxBackupAgeDays: age });
        assert.equal(gens.length, retainedGenerations(age, period) + grace);
        assert.equal(gens[0]?.epoch, rotationEpoch(now, period).epoch, "the current generation comes first");
        for (const g of gens) if (g.neededUntil.getTime() > now.getTime()) assert.ok(g.retained, `generation ${g.keeper} is still needed at ${now.toISOString()}`);
        // The generation just past retention ended so long ago that nothing made with it can remain.
        const firstRetired = gens.find((g) => !g.retained);
        if (firstRetired) assert.ok(firstRetired.neededUntil.getTime() <= rotationEpoch(now, period).startsAt.getTime());
        for (let i = 1; i < gens.length; i++) assert.equal((gens[i - 1] as { epoch: number }).epoch - 1, gens[i]?.epoch);
      }),
    );
  });

  test("generations that ended before the ring was first used are not registered", () => {
    const now = new Date("2026-05-20T00:00:00Z");
    const all = generations({ now, periodDays: 90, retained: 5, grace: 2, maxBackupAgeDays: 400 });
    assert.equal(all.length, 7);
    const since = generations({ now, periodDays: 90, retained: 5, grace: 2, maxBackupAgeDays: 400, since: new Date("2026-01-01T00:00:00Z") });
    assert.deepEqual(since.map((g) => g.keeper), ["2026-03-08", "2025-12-08"]);
    assert.deepEqual(generations({ now, periodDays: 90, retained: 5, grace: 2, maxBackupAgeDays: 400, since: now }).map((g) => g.keeper), ["2026-03-08"]);
  });

  test("keep policies in days: hours by the day, months and years at their longest", () => {
    assert.equal(keepAgeDays({}), 0);
    assert.equal(keepAgeDays({ keepHourly: 24, keepDaily: 7 }), 7);
    assert.equal(keepAgeDays({ keepHourly: 49 }), 3);
    assert.equal(keepAgeDays({ keepDaily: 7, keepWeekly: 4 }), 28);
    assert.equal(keepAgeDays({ keepMonthly: 12 }), 372);
    assert.equal(keepAgeDays({ keepYearly: 2 }), 732);
  });

  test("the longest-lived copy decides: homelab's critical datastore off-site for 7 years, the lab's for 3", () => {
    assert.deepEqual(maxBackupAgeDays(stackStrategy("homelab")), { days: 372 + 2555, because: "datastore critical: 372 days on PBS + 2555 days off-site" });
    assert.deepEqual(maxBackupAgeDays(stackStrategy("lab")), { days: 93 + 1095, because: "datastore lab-critical: 93 days on PBS + 1095 days off-site" });
  });

  test("without an off-site datastore, the NAS's replica snapshots decide", () => {
    const s = stackStrategy("lab", (raw) => {
      raw.tiers = { critical: { rpo: "1h", rto: "1h", schedule: "*-*-* *:00", offsite: false }, important: { rpo: "24h", rto: "4h", schedule: "*-*-* 02:00", offsite: false } };
      raw.datastores = raw.datastores?.map((d, i) => (i === 0 ? { ...d, offsite: false } : d));
    });
    assert.deepEqual(maxBackupAgeDays(s), { days: 93 + 28, because: "datastore lab-critical: 93 days on PBS + 28 days in the NAS's replica snapshots" });
  });
});
