import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { durationChart, usageChart } from "../../report/charts";
import type { DurationStat } from "../../report/jobs";
import type { StorageTrend } from "../../report/storage";
import { mermaidParser } from "../review/helpers";

const trend = (days: number, store = "homelab"): StorageTrend => ({
  store,
  daily: Array.from({ length: days }, (_, i) => ({ day: new Date(Date.UTC(2026, 9, 29 + i)).toISOString().slice(0, 10), used: 0.626 + i * 0.00497 })),
  change: null,
  growthPerDay: null,
  recommendation: "",
});
const stat = (service: string, median: number | null, expected: number): DurationStat => ({
  service, runs: median === null ? 0 : 3, expectedMinutes: expected, medianMinutes: median, maxMinutes: median, overExpected: 0, trend: null,
});
const body = (lines: string[]) => lines.slice(1, -1).join("\n");

describe("charts", () => {
  test("usage: one point a day and a flat threshold line, percent on a 0-100 axis", () => {
    const lines = usageChart(trend(3), 80);
    assert.deepEqual(lines.slice(3, 7), ['    x-axis ["10-29", "10-30", "10-31"]', '    y-axis "used %" 0 --> 100', "    line [62.6, 63.1, 63.6]", "    line [80, 80, 80]"]);
    assert.deepEqual(usageChart(trend(1), 80), [], "one day is no trend");
  });

  test("durations: services that never ran are left out; the axis clears the longest value", () => {
    const lines = durationChart([stat("db", 11.17, 25), stat("idle", null, 60), stat("apps", 70.2, 60)]);
    assert.deepEqual(lines.slice(3, 7), ['    x-axis ["db", "apps"]', '    y-axis "minutes" 0 --> 90', "    bar [11.2, 70.2]", "    line [25, 60]"]);
    assert.deepEqual(durationChart([stat("idle", null, 60)]), []);
  });

  test("a month of usage and every service's durations parse with Mermaid's own parser", async () => {
    const mermaid = await mermaidParser();
    const charts = [
      usageChart(trend(31), 80),
      usageChart(trend(8, "critical"), 85),
      durationChart([stat("database-vms", 11.17, 25), stat("application-vms", 70.17, 60), stat("file-server", 8, 25), stat("development-vms", 50, 60), stat("docker-volumes", 0.4, 20), stat("archives", 35, 45)]),
      durationChart([stat("long-running-service", 600, 120)]),
    ];
    for (const chart of charts) {
      assert.equal(chart[0], "```mermaid");
      await mermaid.parse(body(chart));
    }
    await assert.rejects(mermaid.parse(body(charts[0] as string[]).replace("line [", "line [x")), "the parser does reject a broken chart");
  });
});
