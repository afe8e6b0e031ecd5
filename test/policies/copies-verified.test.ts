import { test } from "node:test";
import assert from "node:assert/strict";
import { copiesVerified } from "../../policies/rules/copies-verified";
import { change, compliantTopology, failures, without } from "./fixture";

test("HB-VERIFIED compliant: verify jobs, scheduled replication, a declared bucket", () => {
  assert.deepEqual(failures(copiesVerified, compliantTopology()), []);
});

test("HB-VERIFIED fails when a datastore loses its verify job", () => {
  assert.deepEqual(failures(copiesVerified, without(compliantTopology(), "homelab-verify")), [
    "data class apps: PBS homelab is not verified (no verify job covers it)",
  ]);
});

test("HB-VERIFIED boundary: a verify job without a schedule runs only by hand and does not count", () => {
  const t = change(compliantTopology(), "homelab-verify", { schedule: undefined });
  assert.equal(failures(copiesVerified, t).length, 1);
  const scoped = change(compliantTopology(), "homelab-verify", { ns: "other" });
  assert.equal(failures(copiesVerified, scoped).length, 1, "a job on another namespace does not cover the root");
});
