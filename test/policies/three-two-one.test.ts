import { test } from "node:test";
import assert from "node:assert/strict";
import { threeTwoOne } from "../../policies/rules/three-two-one";
import { compliantTopology, failures, run, without } from "./fixture";

test("HB-321 compliant: critical has 4 copies on 3 media with 1 off-site; important is declared on-site only", () => {
  assert.deepEqual(failures(threeTwoOne, compliantTopology()), []);
  assert.equal(run(threeTwoOne, compliantTopology()).length, 2);
});

test("HB-321 fails when the off-site sync is gone", () => {
  assert.deepEqual(failures(threeTwoOne, without(compliantTopology(), "offsite-critical")), ["data class db has 0 off-site, expected at least 1"]);
});

test("HB-321 fails when the NAS replica is gone (copies and media)", () => {
  const f = failures(threeTwoOne, without(compliantTopology(), "replicate-backup"));
  assert.deepEqual(f, [
    "data class db has 2 copies, expected at least 3; 1 media, expected at least 2; 0 off-site, expected at least 1",
    "data class apps has 2 copies, expected at least 3; 1 media, expected at least 2",
  ]);
});

test("HB-321 boundary: exactly 3 copies on 2 media passes for an on-site-only tier; a lowered minimum passes 2", () => {
  assert.deepEqual(failures(threeTwoOne, compliantTopology(), { minCopies: 3, minMedia: 2 }), []);
  const noNas = without(compliantTopology(), "replicate-backup");
  assert.deepEqual(failures(threeTwoOne, noNas, { minCopies: 2, minMedia: 1, minOffsite: 0 }), []);
});

test("HB-321 an undeclared on-site tier is not passed silently", () => {
  const f = failures(threeTwoOne, compliantTopology(), { tiers: { important: { rpoMinutes: 1440 } } });
  assert.deepEqual(f, ["data class apps has 0 off-site, expected at least 1"]);
});
