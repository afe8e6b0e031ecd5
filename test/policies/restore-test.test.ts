import { test } from "node:test";
import assert from "node:assert/strict";
import { restoreTest } from "../../policies/rules/restore-test";
import { compliantTopology, failures, without } from "./fixture";

test("HB-RESTORE compliant with a declared restore test; not applicable to important", () => {
  assert.deepEqual(failures(restoreTest, compliantTopology()), []);
});

test("HB-RESTORE fails for the critical class without one", () => {
  assert.deepEqual(failures(restoreTest, without(compliantTopology(), "restore-test")), ["data class db (tier critical) has no restore test"]);
});

test("HB-RESTORE boundary: a tier list without critical needs none", () => {
  assert.deepEqual(failures(restoreTest, without(compliantTopology(), "restore-test"), { restoreTestTiers: [] }), []);
});
