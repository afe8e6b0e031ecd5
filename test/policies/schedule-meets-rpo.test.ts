import { test } from "node:test";
import assert from "node:assert/strict";
import { scheduleMeetsRpo } from "../../policies/rules/schedule-meets-rpo";
import { change, compliantTopology, failures } from "./fixture";

test("HB-RPO compliant: hourly critical, daily important", () => {
  assert.deepEqual(failures(scheduleMeetsRpo, compliantTopology()), []);
});

test("HB-RPO fails when a critical job runs daily", () => {
  const t = change(compliantTopology(), "backup-db", { schedule: "*-*-* 02:00" });
  assert.deepEqual(failures(scheduleMeetsRpo, t), ['data class db: "*-*-* 02:00" leaves up to 1d between backups; tier critical\'s RPO is 1h']);
});

test("HB-RPO boundary: an interval equal to the RPO passes, one minute more fails", () => {
  assert.deepEqual(failures(scheduleMeetsRpo, compliantTopology(), { tiers: { critical: { rpoMinutes: 60 } } }), []);
  assert.equal(failures(scheduleMeetsRpo, compliantTopology(), { tiers: { critical: { rpoMinutes: 59 } } }).length, 1);
});

test("HB-RPO fails on a tier the policy config does not know", () => {
  const t = change(compliantTopology(), "backup-apps", { notesTemplate: "{{guestname}} · service apps · tier gold" });
  assert.deepEqual(failures(scheduleMeetsRpo, t), ["data class apps: tier gold has no RPO in the policy config"]);
});
