import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { projectCapacity, type UsagePoint } from "../../report/capacity";
import { recommendation } from "../../report/storage";

const DAY = 86_400;
const T0 = 1_790_000_000;

const close = (actual: number | null | undefined, expected: number, tolerance: number) =>
  actual !== null && actual !== undefined && Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));

describe("capacity projection", () => {
  test("two samples a day apart: one point a day reaches 80 % and full when the line says", () => {
    const p = projectCapacity([{ t: T0, used: 0.5 }, { t: T0 + DAY, used: 0.51 }], T0 + DAY, [0.8, 1]);
    assert.ok(p);
    assert.ok(close(p.slopePerDay, 0.01, 1e-9));
    assert.ok(close(p.levels[0]?.days, 29, 1e-9), `80 %: ${p.levels[0]?.days}`);
    assert.ok(close(p.levels[1]?.days, 49, 1e-9), `full: ${p.levels[1]?.days}`);
    assert.equal(p.levels[0]?.at, T0 + DAY + 29 * DAY);
  });

  test("a level the newest sample already passed is reached today; a flat or shrinking store never gets there", () => {
    const reached = projectCapacity([{ t: T0, used: 0.7 }, { t: T0 + DAY, used: 0.85 }], T0 + DAY, [0.8, 1]);
    assert.deepEqual(reached?.levels[0], { level: 0.8, reached: true, days: 0, at: T0 + DAY });
    assert.equal(reached?.levels[1]?.reached, false);
    for (const used of [0.6, 0.5]) {
      const p = projectCapacity([{ t: T0, used: 0.6 }, { t: T0 + DAY, used }], T0 + DAY, [0.8]);
      assert.deepEqual(p?.levels[0], { level: 0.8, reached: false, days: null, at: null });
    }
  });

  test("no projection from fewer than two samples at distinct times; non-finite samples are dropped", () => {
    assert.equal(projectCapacity([], T0, [0.8]), undefined);
    assert.equal(projectCapacity([{ t: T0, used: 0.5 }], T0, [0.8]), undefined);
    assert.equal(projectCapacity([{ t: T0, used: 0.5 }, { t: T0, used: 0.6 }], T0, [0.8]), undefined);
    assert.equal(projectCapacity([{ t: T0, used: 0.5 }, { t: T0 + DAY, used: Number.NaN }], T0, [0.8]), undefined);
    assert.equal(projectCapacity([{ t: T0, used: 0.5 }, { t: T0 + DAY, used: Number.NaN }, { t: T0 + 2 * DAY, used: 0.52 }], T0, [0.8])?.samples, 2);
  });

  const line = fc.record({
    start: fc.integer({ min: 1_500_000_000, max: 2_000_000_000 }),
    step: fc.integer({ min: 60, max: DAY }),
    n: fc.integer({ min: 2, max: 150 }),
    y0: fc.double({ min: 0, max: 0.5, noNaN: true }),
    perDay: fc.double({ min: 1e-4, max: 0.02, noNaN: true }),
    ahead: fc.integer({ min: 0, max: 10 * DAY }),
  });
  const points = (l: { start: number; step: number; n: number; y0: number; perDay: number }): UsagePoint[] =>
    Array.from({ length: l.n }, (_, i) => ({ t: l.start + i * l.step, used: l.y0 + (l.perDay * i * l.step) / DAY }));

  test("property: on an exact growing line, the days are where the line crosses the level", () => {
    fc.assert(
      fc.property(line, fc.double({ min: 0.55, max: 1, noNaN: true }), (l, level) => {
        const pts = points(l);
        const newest = pts[pts.length - 1] as UsagePoint;
        fc.pre(newest.used < level);
        const now = newest.t + l.ahead;
        const p = projectCapacity(pts, now, [level]);
        const expected = Math.max(0, (level - (l.y0 + (l.perDay * (now - l.start)) / DAY)) / l.perDay);
        return close(p?.levels[0]?.days, expected, 1e-6);
      }),
    );
  });

  const cloud = fc.array(fc.record({ t: fc.integer({ min: 1_700_000_000, max: 1_700_000_000 + 60 * DAY }), used: fc.double({ min: 0, max: 0.75, noNaN: true }) }), { minLength: 2, maxLength: 60 });

  test("property: the order of the samples does not matter", () => {
    fc.assert(
      fc.property(cloud, fc.integer({ min: 1, max: 1000 }), (pts, seed) => {
        const shuffled = [...pts].sort((a, b) => ((a.t * 31 + seed) % 97) - ((b.t * 31 + seed) % 97) || a.used - b.used);
        const now = 1_700_000_000 + 61 * DAY;
        const a = projectCapacity(pts, now, [0.8, 1]);
        const b = projectCapacity(shuffled, now, [0.8, 1]);
        if (a === undefined || b === undefined) return a === b;
        return a.levels.every((l, i) => (l.days === null ? b.levels[i]?.days === null : close(b.levels[i]?.days, l.days, 1e-6)));
      }),
    );
  });

  test("property: moving every sample and now by the same time moves nothing", () => {
    fc.assert(
      fc.property(cloud, fc.integer({ min: -100_000_000, max: 100_000_000 }), (pts, shift) => {
        const now = 1_700_000_000 + 61 * DAY;
        const a = projectCapacity(pts, now, [0.8]);
        const b = projectCapacity(pts.map((p) => ({ t: p.t + shift, used: p.used })), now + shift, [0.8]);
        if (a === undefined || b === undefined) return a === b;
        const [x, y] = [a.levels[0], b.levels[0]];
        return x?.days === null ? y?.days === null : close(y?.days, x?.days as number, 1e-5);
      }),
    );
  });

  test("property: a lower level is never reached later than a higher one", () => {
    fc.assert(
      fc.property(cloud, fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), (pts, a, b) => {
        const [low, high] = a < b ? [a, b] : [b, a];
        const p = projectCapacity(pts, 1_700_000_000 + 61 * DAY, [low, high]);
        if (!p) return true;
        const [l, h] = p.levels;
        if (!l || !h || h.days === null) return true;
        return l.days !== null && l.days <= h.days;
      }),
    );
  });

  test("property: a store that never grew gets no date for a level it has not reached", () => {
    fc.assert(
      fc.property(cloud, (pts) => {
        const times = [...new Set(pts.map((p) => p.t))].sort((a, b) => a - b);
        const values = pts.map((p) => p.used).sort((a, b) => b - a).slice(0, times.length);
        const shrinking = times.map((t, i) => ({ t, used: values[i] as number }));
        const p = projectCapacity(shrinking, 1_700_000_000 + 61 * DAY, [0.8, 1]);
        return p === undefined || p.levels.every((l) => l.reached || l.days === null);
      }),
    );
  });
});

describe("capacity recommendation", () => {
  const at = (days: number | null) => projectCapacity([{ t: T0, used: 0.5 }, { t: T0 + DAY, used: 0.5 + (days === null ? 0 : 0.3 / (days + 1)) }], T0 + DAY, [0.8, 1]) ?? assert.fail("no projection");
  test("says how urgent the threshold is, in the strategy's terms", () => {
    assert.match(recommendation(at(10), 80), /^reaches 80 % within a month: act now/);
    assert.match(recommendation(at(60), 80), /^reaches 80 % within a quarter: plan the expansion/);
    assert.equal(recommendation(at(200), 80), "no action needed this quarter");
    assert.equal(recommendation(at(null), 80), "not growing: no action needed");
    assert.match(recommendation(projectCapacity([{ t: T0, used: 0.7 }, { t: T0 + DAY, used: 0.85 }], T0 + DAY, [0.8, 1]), 80), /^above 80 %/);
    assert.match(recommendation(projectCapacity([{ t: T0, used: 0.9 }, { t: T0 + DAY, used: 1 }], T0 + DAY, [0.8, 1]), 80), /^full/);
    assert.equal(recommendation(undefined, 80), "not enough usage history to project");
  });
});
