import { test } from "node:test";
import assert from "node:assert/strict";
import { onsiteRetention, requiredBuckets } from "../../policies/rules/onsite-retention";
import { change, compliantTopology, failures, without } from "./fixture";

test("HB-RET-ONSITE compliant at daily 7, weekly 4, monthly 12", () => {
  assert.deepEqual(failures(onsiteRetention, compliantTopology()), []);
});

test("HB-RET-ONSITE fails one below the minimum, passes exactly on it", () => {
  const t = change(compliantTopology(), "critical-prune", { keepDaily: 6 });
  assert.deepEqual(failures(onsiteRetention, t), ["data class db: PBS critical keeps daily 6 (expected at least 7)"]);
  assert.deepEqual(failures(onsiteRetention, change(compliantTopology(), "critical-prune", { keepDaily: 7 })), []);
});

test("HB-RET-ONSITE fails without a prune job", () => {
  assert.deepEqual(failures(onsiteRetention, without(compliantTopology(), "homelab-prune")), [
    "data class apps: PBS homelab has no prune job, so nothing enforces its retention",
  ]);
});

test("a weekly job has no dailies to keep, a monthly one only monthlies", () => {
  assert.deepEqual(requiredBuckets("Sun *-*-* 03:00"), ["weekly", "monthly"]);
  assert.deepEqual(requiredBuckets("Sun *-*-01..07 04:00"), ["monthly"]);
  assert.deepEqual(requiredBuckets("*-*-* *:00"), ["daily", "weekly", "monthly"]);
});
