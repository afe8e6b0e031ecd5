import { test } from "node:test";
import assert from "node:assert/strict";
import { offsiteCostWaste } from "../../policies/rules/offsite-cost-waste";
import { change, compliantTopology, failures, run } from "./fixture";

const sized = (gb: number, objects: number) => ({ tags: { "homelab-backup:expected-gb": String(gb), "homelab-backup:expected-objects": String(objects) } });
const deepArchive = (days: number, expire: number) => ({
  rules: [{ id: "critical", status: "Enabled", transitions: [{ days, storageClass: "DEEP_ARCHIVE" }], expiration: { days: expire } }],
});

test("HB-COST compliant: Deep Archive kept past its 180-day minimum, objects of 1 MB", () => {
  let t = change(compliantTopology(), "critical-lifecycle", deepArchive(0, 2555));
  t = change(t, "critical-bucket", sized(100, 100 * 1024));
  assert.deepEqual(failures(offsiteCostWaste, t), []);
  assert.ok(run(offsiteCostWaste, t).some((f) => f.status === "compliant" && f.subject.endsWith("critical-bucket")));
});

test("HB-COST flags an expiration before the class's minimum duration, with the days billed for nothing", () => {
  const t = change(compliantTopology(), "critical-lifecycle", deepArchive(30, 120));
  assert.deepEqual(failures(offsiteCostWaste, t), [
    "lab-critical: rule critical moves objects to DEEP_ARCHIVE on day 30 and expires them on day 120, before its 180-day minimum: every object is billed 90 days it is not kept",
  ]);
});

test("HB-COST boundary: expiring exactly at the minimum passes, one day earlier does not", () => {
  assert.deepEqual(failures(offsiteCostWaste, change(compliantTopology(), "critical-lifecycle", deepArchive(10, 190))), []);
  assert.equal(failures(offsiteCostWaste, change(compliantTopology(), "critical-lifecycle", deepArchive(10, 189))).length, 1);
});

test("HB-COST flags small objects headed for an archive class, by the sync's upload class too", () => {
  let t = change(compliantTopology(), "critical-bucket", sized(1, 1024 * 1024 / 64)); // 64 KB each
  t = change(t, "offsite-critical", { storageClass: "DEEP_ARCHIVE" });
  assert.deepEqual(failures(offsiteCostWaste, t), [
    "lab-critical: 16384 objects of 64.0 KB on average go to DEEP_ARCHIVE, whose 40 KB per-object overhead adds 63 % to the stored size",
  ]);
  // The same objects in S3 Standard carry no per-object overhead: nothing to judge.
  const standard = change(t, "offsite-critical", { storageClass: "STANDARD" });
  assert.deepEqual(failures(offsiteCostWaste, standard), []);
  assert.ok(run(offsiteCostWaste, standard).some((f) => f.status === "not-applicable" && f.subject.endsWith("critical-bucket")));
});

test("HB-COST boundary: 128 KB objects pass, smaller ones do not", () => {
  const at = (kb: number) => change(change(compliantTopology(), "critical-bucket", sized(1, (1024 * 1024) / kb)), "critical-lifecycle", deepArchive(0, 2555));
  assert.deepEqual(failures(offsiteCostWaste, at(128)), []);
  assert.equal(failures(offsiteCostWaste, at(64)).length, 1);
});

test("HB-COST flags a lifecycle that transitions small objects (varies_by_storage_class)", () => {
  const t = change(compliantTopology(), "critical-lifecycle", { ...deepArchive(0, 2555), transitionDefaultMinimumObjectSize: "varies_by_storage_class" });
  assert.equal(failures(offsiteCostWaste, t).length, 1);
  assert.match(failures(offsiteCostWaste, t)[0]!, /moves objects under 128 KB into archive classes/);
});
