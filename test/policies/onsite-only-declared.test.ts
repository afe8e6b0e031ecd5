import { test } from "node:test";
import assert from "node:assert/strict";
import { onsiteOnlyDeclared } from "../../policies/rules/onsite-only-declared";
import { compliantTopology, failures, run } from "./fixture";

test("HB-321-ONSITE reports the declared on-site-only class with its reason", () => {
  assert.deepEqual(failures(onsiteOnlyDeclared, compliantTopology()), [
    "data class apps (tier important) has no off-site copy by declaration: the strategy sends critical data only off-site (cost)",
  ]);
  assert.equal(onsiteOnlyDeclared.enforcement, "advisory");
});

test("HB-321-ONSITE is not applicable to a class that goes off-site or has no declaration", () => {
  const findings = run(onsiteOnlyDeclared, compliantTopology(), { tiers: { important: { rpoMinutes: 1440 } } });
  assert.deepEqual(findings.map((f) => f.status), ["not-applicable", "not-applicable"]);
});
