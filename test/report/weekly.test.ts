import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ReportResult } from "../../report/cli";
import { GC_EROFS, LOCKED, REPLICATION_ERROR, reportOf, startLab, UNFINISHED, VERIFY_FAILED, type Lab } from "./seed";

let lab: Lab;
let weekly: ReportResult;

before(async () => {
  lab = await startLab();
  weekly = await reportOf(lab, "weekly");
});
after(() => lab.close());

const rate = (subject: string, jobType = "backup") => {
  const all = [...weekly.report.backupRates, ...weekly.report.maintenanceRates];
  return all.find((r) => r.subject === subject && r.jobType === jobType) ?? assert.fail(`no ${jobType} rate for ${subject}`);
};

describe("weekly report: success and failure rates", () => {
  test("per service, per guest backup: failures and missed runs count against the rate", () => {
    assert.deepEqual(
      weekly.report.backupRates.map((r) => [r.subject, r.scheduled, r.ok, r.warnings, r.failed, r.missed]),
      [
        ["database-vms", 336, 334, 0, 2, 0],
        ["application-vms", 14, 12, 1, 0, 1],
        ["file-server", 168, 165, 0, 3, 0],
        ["development-vms", 1, 1, 0, 0, 0],
        ["docker-volumes", 168, 168, 0, 0, 0],
        ["archives", 0, 0, 0, 0, 0],
      ],
    );
    assert.equal(rate("database-vms").rate, 334 / 336);
    // A run with warnings succeeded; the missed one did not.
    assert.equal(rate("application-vms").rate, 13 / 14);
    assert.equal(rate("archives").rate, null);
  });

  test("a run still going at the report's time is running, and its later guests are not missed yet", async () => {
    // At 07:03, vm/101 is three minutes into the 07:00 run and vm/102 has not started.
    const early = await reportOf(lab, "weekly", { now: "2026-11-28T07:03:00Z" });
    const db = early.report.backupRates.find((r) => r.subject === "database-vms") ?? assert.fail();
    // The 07:00 run is not due yet; 11-21's 07:00 run, whose vm/102 started after 07:03, is not the period's.
    assert.deepEqual([db.scheduled, db.ok, db.failed, db.running, db.missed], [334, 333, 2, 1, 0]);
  });

  test("a late guest of the run before the period does not hide a run missed inside it", async () => {
    // From 11-21 02:30: that day's vm/131 (02:40) belongs to the 11-21 run; 11-27's vm/131 is missing.
    const r = await reportOf(lab, "weekly", { now: "2026-11-28T02:30:00Z" });
    const apps = r.report.backupRates.find((x) => x.subject === "application-vms") ?? assert.fail();
    assert.deepEqual([apps.scheduled, apps.ok, apps.warnings, apps.running, apps.missed], [12, 11, 1, 1, 1]);
  });

  test("maintenance per datastore and job type; a restore task is no job", () => {
    assert.deepEqual([rate("homelab", "garbage collection").ok, rate("homelab", "garbage collection").failed], [6, 1]);
    assert.equal(rate("homelab", "garbage collection").rate, 6 / 7);
    assert.deepEqual([rate("homelab", "prune").scheduled, rate("homelab", "prune").ok], [14, 14]);
    assert.deepEqual([rate("homelab", "verify").scheduled, rate("homelab", "verify").failed], [1, 1]);
    assert.deepEqual([rate("critical", "verify").scheduled, rate("critical", "verify").ok], [1, 1]);
    assert.ok(!weekly.report.failures.some((f) => f.message === "connection reset"));
  });

  test("the tables carry the same numbers", () => {
    assert.ok(weekly.markdown.includes("| database-vms | critical | 336 | 334 | 0 | 2 | 0 | 0 | 99.4 % |"));
    assert.ok(weekly.markdown.includes("| application-vms | important | 14 | 12 | 1 | 0 | 1 | 0 | 92.9 % |"));
    assert.ok(weekly.markdown.includes("| homelab | garbage collection | 7 | 6 | 0 | 1 | 0 | 0 | 85.7 % |"));
    assert.ok(weekly.markdown.includes("- **Backups:** 681 of 687 guest backups succeeded (99.1 %); 5 failed, 1 missed."));
  });
});

describe("weekly report: durations", () => {
  const stat = (service: string) => weekly.report.durations.find((d) => d.service === service) ?? assert.fail(service);
  test("a run spans its guests; runs over the expected duration and the trend are counted", () => {
    // vm/101 6 min, 10 s, vm/102 5 min: one 11 min 10 s run per hour, the two failed hours left out.
    assert.equal(stat("database-vms").runs, 166);
    assert.equal(stat("database-vms").medianMinutes, 670 / 60);
    // 12 min runs, then 24 min from half-way: the median of the halves doubled.
    assert.deepEqual([stat("docker-volumes").overExpected, stat("docker-volumes").medianMinutes, stat("docker-volumes").maxMinutes, stat("docker-volumes").trend], [84, 18, 24, 1]);
    // The day vm/131 missed, the run was vm/130 alone: 40 min, under the hour expected.
    assert.deepEqual([stat("application-vms").runs, stat("application-vms").overExpected], [7, 6]);
    assert.equal(stat("archives").medianMinutes, null);
    assert.ok(weekly.markdown.includes("| docker-volumes | 168 | 20 min | 18 min | 24 min | 84 of 168 | +100 % |"));
  });
});

describe("weekly report: failed-job analysis", () => {
  test("failures grouped by PBS's own text, most frequent first, with who they hit", () => {
    assert.deepEqual(
      weekly.report.failureGroups.map((g) => [g.count, g.jobType, g.subjects.join(","), g.message]),
      [
        [3, "backup", "file-server", UNFINISHED],
        [2, "backup", "database-vms", LOCKED],
        [1, "verify", "homelab", VERIFY_FAILED],
        [1, "garbage collection", "homelab", GC_EROFS],
      ],
    );
    assert.ok(weekly.markdown.includes(`| 3 | backup | file-server | 2026-11-28 05:00 UTC | 2026-11-28 07:00 UTC | \`${UNFINISHED}\` |`));
    assert.ok(weekly.markdown.includes(`| 2026-11-26 21:06 UTC | backup | database-vms | \`critical:vm/102\` | 5 min | \`${LOCKED}\` |`));
  });

  test("missed runs, failed verifications and the replication error are named too", () => {
    assert.ok(weekly.markdown.includes("- **application-vms** (backup): 1 scheduled run left no task on PBS."));
    assert.ok(weekly.markdown.includes("- **application-vms**: verification of vm/131 from 2026-11-20 02:40 UTC failed."));
    assert.ok(weekly.markdown.includes(`- **Replication truenas-homelab** to TrueNAS failed 2026-11-28 06:30 UTC: \`${REPLICATION_ERROR}\``));
  });
});

describe("weekly report: storage", () => {
  test("daily usage in the period, its change, and the NAS pool", () => {
    const homelab = weekly.report.storage.find((s) => s.store === "homelab") ?? assert.fail();
    assert.equal(homelab.daily.length, 8);
    assert.equal(homelab.daily[0]?.day, "2026-11-21");
    // 0.5 points a day for a week, give or take the seed's ±0.1 point wobble.
    assert.ok(Math.abs((homelab.change as number) - 0.035) < 0.003, String(homelab.change));
    assert.ok(weekly.markdown.includes("| TrueNAS pool `tank` (ONLINE) | 9.00 TiB | 16.00 TiB | 56.3 % | – (no history) | – |"));
    assert.equal((weekly.markdown.match(/```mermaid\nxychart-beta/g) ?? []).length, 3);
  });

  test("each datastore's replica on TrueNAS: zettarepl's last state and the replica's snapshots", () => {
    assert.ok(weekly.markdown.includes("| `critical` | truenas-critical | SUCCESS | 2026-11-28 06:40 UTC | 2 | 2026-11-28 06:41 UTC |"));
    assert.ok(weekly.markdown.includes(`| \`homelab\` | truenas-homelab | ERROR: \`${REPLICATION_ERROR}\` | 2026-11-28 06:30 UTC | 1 | 2026-11-20 06:31 UTC |`));
  });

  test("a weekly report has no monthly sections", () => {
    for (const heading of ["## Comprehensive backup status", "## Capacity planning", "## Disaster-recovery test results", "## Compliance verification"]) {
      assert.ok(!weekly.markdown.includes(heading), heading);
    }
    assert.ok(weekly.markdown.startsWith("# Weekly backup report: `homelab`\n"));
  });

  test("restore-log problems are listed with their line numbers", () => {
    assert.match(weekly.markdown, /- restore log: `[^`]*restore-tests\.jsonl:3: "\{not json": is not JSON/);
    assert.match(weekly.markdown, /- restore log: `[^`]*restore-tests\.jsonl:8: totalSeconds: "abc": expected a number of seconds`/);
    assert.deepEqual(weekly.warnings, ["report: warning: 2 line(s) of restore-tests.jsonl could not be read; the report lists them"]);
  });
});
