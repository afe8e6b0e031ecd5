import { test } from "node:test";
import assert from "node:assert/strict";
import { bucketClass, offsiteRetention } from "../../policies/rules/offsite-retention";
import { change, compliantTopology, failures, run, without } from "./fixture";

test("HB-RET-OFFSITE compliant: the critical bucket keeps and locks 2555 days", () => {
  assert.deepEqual(failures(offsiteRetention, compliantTopology()), []);
  assert.deepEqual(run(offsiteRetention, compliantTopology()).map((f) => f.status), ["compliant"]);
});

test("HB-RET-OFFSITE fails one day short, passes exactly on the promise", () => {
  const short = change(compliantTopology(), "critical-lifecycle", { rules: [{ id: "c", status: "Enabled", expiration: { days: 2554 } }] });
  assert.deepEqual(failures(offsiteRetention, short), ["data class db: S3 lab-critical keeps 2554 days; the critical class promises 2555"]);
});

test("HB-RET-OFFSITE fails when the lock outlasts the expiration, or there is no expiration", () => {
  const locked = change(compliantTopology(), "critical-lock", { rule: { defaultRetention: { mode: "COMPLIANCE", days: 2600 } } });
  assert.deepEqual(failures(offsiteRetention, locked), ["data class db: S3 lab-critical locks 2600 days, longer than its 2555-day expiration"]);
  assert.deepEqual(failures(offsiteRetention, without(compliantTopology(), "critical-lifecycle")), ["data class db: S3 lab-critical has no lifecycle expiration; expected 2555 days"]);
  assert.equal(bucketClass("S3 homelab-offsite-yearly"), "yearly");
});
