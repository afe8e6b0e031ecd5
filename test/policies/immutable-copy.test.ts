import { test } from "node:test";
import assert from "node:assert/strict";
import { immutableCopy } from "../../policies/rules/immutable-copy";
import { change, compliantTopology, failures, run } from "./fixture";

test("HB-IMMUTABLE compliant: the critical class has a COMPLIANCE-locked off-site copy and a read-only replica", () => {
  assert.deepEqual(failures(immutableCopy, compliantTopology()), []);
  assert.deepEqual(run(immutableCopy, compliantTopology()).map((f) => f.status), ["compliant", "not-applicable"]);
});

test("HB-IMMUTABLE fails when neither the lock is COMPLIANCE nor the replica read-only", () => {
  let t = change(compliantTopology(), "critical-lock", { rule: { defaultRetention: { mode: "GOVERNANCE", days: 2555 } } });
  assert.deepEqual(failures(immutableCopy, t), [], "the read-only replica still counts");
  t = change(t, "replicate-backup", { readonly: "IGNORE" });
  assert.deepEqual(failures(immutableCopy, t), ["data class db (tier critical) has no immutable or offline copy"]);
});

test("HB-IMMUTABLE boundary: one immutable copy is enough", () => {
  const t = change(compliantTopology(), "replicate-backup", { readonly: "IGNORE" });
  assert.deepEqual(failures(immutableCopy, t), []);
});
