import { test } from "node:test";
import assert from "node:assert/strict";
import { restoreTest } from "../../policies/rules/restore-test";
import { bashArray } from "../../model/restore-tests";
import { change, compliantTopology, failures, run, without } from "./fixture";

test("HB-RESTORE is mandatory", () => {
  assert.equal(restoreTest.enforcement, "mandatory");
});

test("HB-RESTORE compliant: the critical service is restored in full monthly; not applicable to important", () => {
  assert.deepEqual(failures(restoreTest, compliantTopology()), []);
  const findings = run(restoreTest, compliantTopology());
  assert.deepEqual(findings.find((f) => f.subject === "db")?.status, "compliant");
  assert.deepEqual(findings.find((f) => f.subject === "apps")?.status, "not-applicable");
});

test("HB-RESTORE fails for the critical class without a restore test", () => {
  assert.deepEqual(failures(restoreTest, without(compliantTopology(), "restore-test", "restore-test-deploy")), ["data class db (tier critical) has no restore test"]);
});

test("HB-RESTORE boundary: the weekly random draw alone is not the monthly full test", () => {
  const weeklyOnly = change(compliantTopology(), "restore-test-deploy", { create: "SVC_NAME=(db)\nMONTHLY=()\n" });
  assert.deepEqual(failures(restoreTest, weeklyOnly), ["data class db (tier critical) is only in the weekly random draw; the monthly full restore test does not cover it"]);
});

test("HB-RESTORE reads only what a restore test deployed: a look-alike command elsewhere covers nothing", () => {
  const elsewhere = change(compliantTopology(), "restore-test-deploy", {}, { urn: "urn:pulumi:test::homelab-backup::command:remote:Command::restore-test-deploy" });
  assert.deepEqual(failures(restoreTest, elsewhere), ["data class db (tier critical) has no restore test"]);
});

test("HB-RESTORE boundary: a tier list without critical needs none", () => {
  assert.deepEqual(failures(restoreTest, without(compliantTopology(), "restore-test", "restore-test-deploy"), { restoreTestTiers: [] }), []);
});

test("the script's arrays read as bash reads them, quoted words included", () => {
  assert.deepEqual(bashArray("X=1\nSVC_VMIDS=('101 102' 110 '')\n", "SVC_VMIDS"), ["101 102", "110", ""]);
  assert.deepEqual(bashArray("MONTHLY=()\n", "MONTHLY"), []);
  assert.deepEqual(bashArray("NOT_MONTHLY=(a)\n", "MONTHLY"), []);
});

test("HB-RESTORE for agents: dumps need a database restore test, files borgmatic's extract check", async () => {
  const { resolvePolicyConfig } = await import("../../policies/config");
  const borg = (verification: string) => ({
    location: "borg ssh://nas/db01", kind: "borg-repository" as const, medium: "nas" as const, site: "onsite" as const,
    encrypted: true, immutable: false, verified: true, verification, protected: true,
  });
  const classes = [
    { name: "db01/database-dumps", kind: "database-dumps" as const, tier: "critical", job: "x", copies: [borg("borgmatic checks: repository every 1 week")] },
    { name: "db01/configs", kind: "configs" as const, tier: "critical", job: "x", copies: [borg("borgmatic checks: repository every 1 week, extract every 1 month")] },
    { name: "db02/configs", kind: "configs" as const, tier: "critical", job: "x", copies: [borg("borgmatic checks: repository every 1 week")] },
  ];
  const dbTest = { type: "homelab:verify:DatabaseRestoreTest", name: "db01-restore-test", urn: "urn:x", props: {}, protect: false };
  const check = (resources: typeof dbTest[]) =>
    restoreTest.check({ resources, classes, config: resolvePolicyConfig({}) }).filter((f) => f.status === "non-compliant").map((f) => f.message);
  assert.deepEqual(check([dbTest]), ["data class db02/configs (tier critical) is never extracted (no borgmatic extract check)"]);
  assert.deepEqual(check([]), [
    "data class db01/database-dumps (tier critical) has no database restore test",
    "data class db02/configs (tier critical) is never extracted (no borgmatic extract check)",
  ]);
});
