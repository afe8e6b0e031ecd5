import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ReportResult } from "../../report/cli";
import { cellText } from "../../report/markdown";
import { REPLICATION_ERROR, reportOf, startLab, type Lab } from "./seed";

let lab: Lab;
let monthly: ReportResult;

before(async () => {
  lab = await startLab();
  monthly = await reportOf(lab, "monthly");
});
after(() => lab.close());

const status = (service: string) => monthly.report.statuses.find((s) => s.service.name === service) ?? assert.fail(service);
const row = (service: string) => monthly.report.compliance.find((c) => c.service === service) ?? assert.fail(service);

describe("monthly report: comprehensive status", () => {
  test("file-server is stale: its newest backup is older than the RPO plus its run time", () => {
    assert.deepEqual(
      monthly.report.statuses.map((s) => [s.service.name, s.status]),
      [["database-vms", "fresh"], ["application-vms", "fresh"], ["file-server", "stale"], ["development-vms", "fresh"], ["docker-volumes", "fresh"], ["archives", "fresh"]],
    );
    assert.equal(status("file-server").stalest?.guest, "vm/110");
    assert.equal(status("file-server").newest, Date.parse("2026-11-28T04:00:05Z") / 1000);
    assert.equal(status("file-server").allowedSeconds, 85 * 60);
    assert.ok(monthly.markdown.includes("- **Stale services:** file-server."));
    assert.ok(monthly.markdown.includes("| file-server | critical | vm/110 | 55 | 2026-11-28 04:00 UTC | 4 h 0 min | 85 min | ❌ stale (vm/110) | failed 2026-11-28 07:00 UTC |"));
  });

  test("fresh up to RPO plus expected run time, stale one second later", async () => {
    // Reported as of earlier moments, the 04:00:05 backup is the newest one either way.
    const edge = await reportOf(lab, "monthly", { now: "2026-11-28T05:25:05Z" });
    const late = await reportOf(lab, "monthly", { now: "2026-11-28T05:25:06Z" });
    const fs = (r: ReportResult) => r.report.statuses.find((s) => s.service.name === "file-server")?.status;
    assert.equal(fs(edge), "fresh");
    assert.equal(fs(late), "stale");
  });

  test("guests of pool services are placed by the backup notes, and an unknown guest is a note", () => {
    assert.deepEqual(status("application-vms").guests.map((g) => g.guest), ["vm/130", "vm/131"]);
    assert.deepEqual(status("development-vms").guests.map((g) => g.guest), ["vm/140"]);
    assert.deepEqual(status("archives").guests.map((g) => g.guest), ["vm/150"]);
    assert.ok(monthly.report.notes.some((n) => n.includes("1 snapshot(s) belong to no service") && n.includes("homelab:archive vm/199")));
  });
});

describe("monthly report: capacity planning", () => {
  test("homelab crosses 80 % within days and is flagged; critical has months", () => {
    const homelab = monthly.report.storage.find((s) => s.store === "homelab")?.projection ?? assert.fail();
    const critical = monthly.report.storage.find((s) => s.store === "critical")?.projection ?? assert.fail();
    assert.ok(Math.abs(homelab.slopePerDay - 0.005) < 1e-4, String(homelab.slopePerDay));
    // Seeded at 0.60 + 0.5 points a day from 35 days back: 77.5 % now, 80 % in 5 days, full in 45.
    assert.ok(Math.abs((homelab.levels[0]?.days as number) - 5) < 0.6, String(homelab.levels[0]?.days));
    assert.ok(Math.abs((homelab.levels[1]?.days as number) - 45) < 0.6, String(homelab.levels[1]?.days));
    assert.ok(Math.abs((critical.levels[0]?.days as number) - 105) < 1, String(critical.levels[0]?.days));
    assert.match(monthly.markdown, /\| `homelab` \| 77\.5 % \| \+0\.50 points \| in 4 days \(2026-12-0[23]\) \| in 4[45] days \(2027-01-1[12]\) \| reaches 80 % within a month: act now/);
    assert.match(monthly.markdown, /\| `critical` \| 53\.8 % \| \+0\.25 points \| in 10[45] days .* \| no action needed this quarter \|/);
  });
});

describe("monthly report: disaster-recovery tests", () => {
  test("tests of the period against the stack's RTOs; the other site's test and older ones are out", () => {
    assert.deepEqual(
      monthly.report.restores.results.map((r) => [r.test.service, r.test.kind, r.test.result, r.withinRto]),
      [
        ["file-server", "monthly", "pass", true],
        ["database-vms", "database", "pass", true],
        ["application-vms", "monthly", "fail", null],
        ["docker-volumes", "weekly", "pass", false],
        ["database-vms", "weekly", "pass", true],
        ["application-vms", "weekly", "pass", true],
        [null, "weekly", "fail", true],
      ],
    );
    assert.equal(monthly.report.restores.otherSites, 1);
    assert.ok(monthly.markdown.includes("4 of 7 restore tests passed within their RTO."));
    assert.ok(monthly.markdown.includes("| 2026-11-27 03:00 | weekly | no service | ? ? → scratch 9006 | ❌ fail | 0 s | 0 s | yes | no backup of any selected service on storage pbs-critical |"));
    assert.ok(monthly.markdown.includes("| 2026-11-20 03:00 | weekly | docker-volumes | qemu 120 → scratch 9003 | ✅ pass | 67 min | 60 min | no |  |"));
  });

  test("the strategy's monthly checklist, with what proves each item", () => {
    assert.deepEqual(monthly.report.restores.checklist.map((c) => [c.done, c.evidence]), [
      [true, "file-server on 2026-11-07 (line 1)"],
      [true, "database-vms on 2026-11-08 (line 2)"],
      [false, "only failed: application-vms on 2026-11-15"],
    ]);
    assert.ok(monthly.markdown.includes("- [ ] Application restore test (a monthly VM test of another tier): only failed: application-vms on 2026-11-15"));
  });
});

describe("monthly report: compliance verification", () => {
  test("database-vms keeps every promise", () => {
    const r = row("database-vms");
    assert.deepEqual([r.rpo.verdict, r.verified.verdict, r.restoreTested.verdict, r.replicated.verdict, r.offsite.verdict, r.compliant], ["met", "met", "met", "met", "met", "yes"]);
    assert.equal(r.replicated.text, "replicated 2026-11-28 06:40 UTC");
    assert.equal(r.offsite.text, "synced 2026-11-01 09:12 UTC");
    assert.equal(r.restoreTested.text, "weekly test passed 2026-11-23 in 25 min (RTO 1h)");
  });

  test("each broken promise is its own cell, saying why", () => {
    assert.equal(cellText(row("file-server").rpo), "❌ vm/110 last backed up 4 h 0 min ago (> RPO 1h + 25 min run)");
    assert.equal(cellText(row("docker-volumes").restoreTested), "❌ passed 2026-11-20 but took 67 min (> RTO 1h)");
    assert.equal(cellText(row("application-vms").verified), "❌ verification failed: vm/131 of 2026-11-20 02:40 UTC");
    assert.equal(cellText(row("application-vms").replicated), `❌ truenas-homelab failed 2026-11-28 06:30 UTC: ${REPLICATION_ERROR}`);
    assert.equal(cellText(row("application-vms").offsite), "➖ on-site by tier: the strategy sends critical data only off-site (cost)");
    assert.equal(cellText(row("development-vms").restoreTested), "❌ no restore test in the period");
    assert.deepEqual(monthly.report.compliance.map((c) => c.compliant), ["yes", "no", "no", "no", "no", "no"]);
    assert.ok(monthly.markdown.includes(`| file-server | critical | ${cellText(row("file-server").rpo)} | ✅ newest verified snapshot 4 h 0 min old | ✅ monthly test passed 2026-11-07 in 48 min (RTO 1h) | ✅ replicated 2026-11-28 06:40 UTC | ✅ synced 2026-11-01 09:12 UTC | no |`));
    assert.ok(monthly.markdown.includes("- **Compliance:** 1 of 6 services meet every promise."));
  });
});
