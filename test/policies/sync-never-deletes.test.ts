import { test } from "node:test";
import assert from "node:assert/strict";
import { syncNeverDeletes } from "../../policies/rules/sync-never-deletes";
import { change, compliantTopology, failures, run, without } from "./fixture";

test("HB-SYNC compliant in COPY mode; SYNC and MOVE fail", () => {
  assert.deepEqual(failures(syncNeverDeletes, compliantTopology()), []);
  for (const mode of ["SYNC", "MOVE"]) {
    assert.deepEqual(failures(syncNeverDeletes, change(compliantTopology(), "offsite-critical", { transferMode: mode })), [
      `offsite-critical transfers in "${mode}" mode; expected COPY`,
    ]);
  }
});

test("HB-SYNC has nothing to judge without a cloud sync", () => {
  assert.deepEqual(run(syncNeverDeletes, without(compliantTopology(), "offsite-critical")), []);
});
