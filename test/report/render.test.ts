import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bytes, code, percent } from "../../report/markdown";
import { formatSpan, periodEnding } from "../../report/period";
import { dailyUsage } from "../../report/storage";

describe("report formatting", () => {
  test("PBS text stays verbatim on one line, whatever backticks it holds", () => {
    assert.equal(code("backup ended but finished flag is not set."), "`backup ended but finished flag is not set.`");
    assert.equal(code("unable to parse `x`"), "`` unable to parse `x` ``");
    assert.equal(code("a ``b`` c"), "``` a ``b`` c ```");
    assert.equal(code("first line\n  second line"), "`first line ⏎ second line`");
  });

  test("sizes, shares and spans at the precision a reader acts on", () => {
    assert.equal(bytes(9 * 1024 ** 4), "9.00 TiB");
    assert.equal(bytes(512), "512 B");
    assert.equal(bytes(undefined), "–");
    assert.equal(percent(334 / 336), "99.4 %");
    assert.equal(percent(null), "–");
    assert.deepEqual([45, 89, 90, 7199, 14_399, 14_401, 172_799, 3 * 86_400 + 5 * 3600].map(formatSpan), ["45 s", "89 s", "2 min", "2 h 0 min", "4 h 0 min", "4 h 0 min", "2 d 0 h", "3 d 5 h"]);
  });

  test("a day's usage is its last sample; samples outside the period are left out", () => {
    const period = periodEnding("weekly", new Date("2026-11-28T08:00:00Z"));
    const t = (iso: string) => Date.parse(iso) / 1000;
    const days = dailyUsage(
      [
        { t: t("2026-11-21T07:00:00Z"), used: 0.1 },
        { t: t("2026-11-21T12:00:00Z"), used: 0.5 },
        { t: t("2026-11-21T18:00:00Z"), used: 0.52 },
        { t: t("2026-11-22T06:00:00Z"), used: 0.53 },
        { t: t("2026-11-28T08:00:00Z"), used: 0.9 },
      ],
      period,
    );
    assert.deepEqual(days, [{ day: "2026-11-21", used: 0.52 }, { day: "2026-11-22", used: 0.53 }]);
  });
});
