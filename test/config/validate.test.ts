import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkSecretKeys, formatProblem, keepPolicyFor, parseStrategy } from "../../config/validate";
import { minimalConfig, withConfig } from "../helpers/config";

function problems(raw: Record<string, unknown>): string[] {
  const r = parseStrategy(raw);
  return r.ok ? [] : r.problems.map(formatProblem);
}

function expectProblem(raw: Record<string, unknown>, path: string, message: RegExp) {
  const lines = problems(raw);
  const line = lines.find((l) => l.startsWith(`homelab-backup:${path}: `));
  assert.ok(line, `expected a problem at ${path}, got:\n${lines.join("\n")}`);
  assert.match(line, message);
}

describe("config validation", () => {
  test("a minimal config is valid and resolves the seed's defaults", () => {
    const r = parseStrategy(minimalConfig());
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    const s = r.strategy;
    assert.deepEqual(s.tiers.map((t) => [t.name, t.rpo, t.rto]), [["critical", "1h", "1h"], ["important", "24h", "4h"], ["archive", "35d", "24h"]]);
    assert.equal(s.hosts.pbs.port, 8007);
    assert.deepEqual(s.retention.onsite, { hourly: 24, daily: 7, weekly: 4, monthly: 12 });
    assert.deepEqual(s.offsite.classes.map((c) => [c.name, c.retentionDays]), [["monthly", 730], ["yearly", 1825], ["critical", 2555]]);
    assert.equal(s.monitoring.capacityThresholdPercent, 80);
    const db = s.services[0]!;
    assert.equal(db.schedule.source, "*-*-* *:00");
    assert.equal(db.namespace, "critical");
    assert.equal(db.offsite, true);
    assert.deepEqual(db.keep, { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 });
    assert.deepEqual(s.services[1]!.keep, { keepDaily: 14, keepWeekly: 4, keepMonthly: 12 });
    assert.equal(s.services[1]!.offsite, false);
  });

  test("fails on a service naming an unknown tier", () => {
    expectProblem(withConfig((c) => (c.services[0].tier = "gold")), "services[0].tier", /"gold" is not a declared tier; expected one of critical, important, archive/);
  });

  test("fails on a schedule less frequent than the tier's RPO", () => {
    expectProblem(
      withConfig((c) => (c.services[1].schedule = "Sun *-*-* 03:00")),
      "services[1].schedule",
      /"Sun \*-\*-\* 03:00" leaves up to 1w between backups, longer than tier "important"'s RPO of 24h/,
    );
    expectProblem(
      withConfig((c) => (c.tiers = { important: { rpo: "24h", rto: "4h", schedule: "Sun *-*-* 03:00", offsite: false } })),
      "tiers.important.schedule",
      /longer than the tier's RPO of 24h/,
    );
  });

  test("fails on retention shorter than the schedule interval", () => {
    expectProblem(
      withConfig((c) => {
        c.services[1].tier = "archive";
        c.services[1].schedule = "Sun *-*-* 03:00";
        c.services[1].retention = "3d";
      }),
      "services[1].retention",
      /"3d" is shorter than the schedule's interval of 1w.*expected at least 1w/,
    );
  });

  test("fails on duplicate names", () => {
    expectProblem(withConfig((c) => (c.services[1].name = "db")), "services[1].name", /"db" is a duplicate service name \(also at index 0\)/);
    expectProblem(
      withConfig((c) => c.hosts.pve.nodes.push({ name: "pve1", address: "10.0.10.12", backupAddress: "10.20.0.12" })),
      "hosts.pve.nodes[1].name",
      /duplicate node name/,
    );
    expectProblem(
      withConfig((c) => (c.datastores = [{ name: "store", path: "/a" }, { name: "store", path: "/b" }])),
      "datastores[1].name",
      /duplicate datastore name/,
    );
  });

  test("fails on a VLAN id outside 1-4094", () => {
    for (const id of [0, 4095, 5000]) {
      expectProblem(withConfig((c) => (c.network.backupVlan.id = id)), "network.backupVlan.id", new RegExp(`^homelab-backup:network.backupVlan.id: ${id} is invalid; expected a VLAN id from 1 to 4094$`));
    }
    assert.deepEqual(problems(withConfig((c) => (c.network.backupVlan.id = 4094))), []);
  });

  test("fails on overlapping subnets", () => {
    expectProblem(withConfig((c) => (c.network.subnets.lan = "10.20.0.128/25")), "network.subnets.lan", /overlaps the backup VLAN subnet 10.20.0.0\/24/);
    expectProblem(withConfig((c) => (c.network.subnets.lan = "10.0.0.0/16")), "network.subnets.lan", /overlaps subnet management/);
  });

  test("fails on a backup address outside the VLAN and on duplicates", () => {
    expectProblem(withConfig((c) => (c.hosts.pbs.backupAddress = "10.30.0.20")), "hosts.pbs.backupAddress", /"10.30.0.20" is outside the backup VLAN 10.20.0.0\/24/);
    expectProblem(withConfig((c) => (c.hosts.truenas.backupAddress = "10.20.0.20")), "hosts.truenas.backupAddress", /duplicate backup address/);
  });

  test("fails on a service selecting no guest, an unknown datastore, a VM in two services", () => {
    expectProblem(withConfig((c) => (c.services[0].guests = {})), "services[0].guests", /selects no guest; expected vmids, a pool or tags/);
    expectProblem(withConfig((c) => (c.services[0].datastore = "nope")), "services[0].datastore", /"nope" is not a declared datastore/);
    expectProblem(withConfig((c) => (c.services[1].guests = { vmids: [101] })), "services[1].guests.vmids", /101 is already backed up by service "db"/);
  });

  test("fails on a service whose off-site decision differs from its datastore's", () => {
    expectProblem(
      withConfig((c) => (c.services[1].datastore = "critical")),
      "services[1].datastore",
      /"critical" goes off-site but service "apps" stays on-site; a datastore's chunk store is replicated whole/,
    );
    const r = parseStrategy(withConfig((c) => (c.services[0].tier = "important")));
    assert.ok(r.ok);
    assert.equal(r.strategy.services[0]!.datastore, "homelab", "an unset datastore defaults to one whose offsite setting matches");
  });

  test("fails on agents naming unknown services and on unknown allowDestroy names", () => {
    expectProblem(
      withConfig((c) => (c.agents = [{ name: "h1", address: "10.20.0.50", service: "ghost", repository: "/r" }])),
      "agents[0].service",
      /"ghost" is not a declared service/,
    );
    expectProblem(
      withConfig((c) => (c.protection = { allowDestroy: [{ name: "nothing", reason: "lab teardown only" }] })),
      "protection.allowDestroy[0].name",
      /names no data-bearing resource/,
    );
    expectProblem(
      withConfig((c) => (c.protection = { allowDestroy: [{ name: "homelab", reason: "no" }] })),
      "protection.allowDestroy[0].reason",
      /expected a reason of at least 10 characters/,
    );
  });

  test("field rules: schedule syntax, durations, fingerprints, https, unknown keys, missing keys", () => {
    expectProblem(withConfig((c) => (c.services[0].schedule = "*-*-* 25:00")), "services[0].schedule", /hour "25" is out of range/);
    expectProblem(withConfig((c) => (c.services[0].retention = "7 days")), "services[0].retention", /expected a duration such as 1h, 24h, 7d, 4w or 2y/);
    expectProblem(withConfig((c) => (c.hosts.pbs.fingerprint = "AA:BB")), "hosts.pbs.fingerprint", /"AA:BB" is invalid; expected a SHA-256/);
    expectProblem(withConfig((c) => (c.hosts.pve.endpoint = "http://pve:8006")), "hosts.pve.endpoint", /TLS is mandatory/);
    expectProblem(withConfig((c) => (c.hosts.pbs.fingreprint = "x")), "hosts.pbs.fingreprint", /unknown key/);
    expectProblem(withConfig((c) => delete c.services), "services", /is missing; expected a list/);
    expectProblem(withConfig((c) => (c.security = { kmsRotationDays: 30 })), "security.kmsRotationDays", /30 is invalid; expected 90 to 2560 days/);
  });

  test("fails on schedules TrueNAS cannot express, naming a schedule that works", () => {
    expectProblem(
      withConfig((c) => (c.offsite = { syncSchedule: "Sun *-*-01..07 04:00" })),
      "offsite.syncSchedule",
      /"Sun \*-\*-01\.\.07 04:00" cannot be a TrueNAS schedule: .*cron \(TrueNAS\) fires when either matches.*"\*-\*-01 04:00"/,
    );
    assert.deepEqual(problems(withConfig((c) => (c.offsite = { syncSchedule: "*-*-01 04:00" }))), []);
  });

  test("fails on a replication snapshot taken while backups write to the datastore", () => {
    expectProblem(
      withConfig((c) => (c.services[1].expectedDuration = "250m")),
      "datastores[1].snapshotSchedule",
      /^homelab-backup:datastores\[1\]\.snapshotSchedule: "\*-\*-\* 06:05": the snapshot at 06:05 falls while backup-apps runs \(from 02:00, expected until 06:10\)/,
    );
    // Exactly up to the snapshot minute is still idle at that minute.
    assert.deepEqual(problems(withConfig((c) => (c.services[1].expectedDuration = "245m"))), []);
  });

  test("fails on an expected duration as long as the schedule's interval", () => {
    expectProblem(withConfig((c) => (c.services[0].expectedDuration = "1h")), "services[0].expectedDuration", /"1h" is as long as the schedule's interval of 1h, so runs would overlap/);
  });

  test("reports every problem at once, one line each, without stack traces", () => {
    const lines = problems(
      withConfig((c) => {
        c.services[0].tier = "gold";
        c.services[1].name = "db";
        c.network.backupVlan.id = 9999;
        c.hosts.pbs.fingerprint = "nope";
      }),
    );
    assert.equal(lines.length, 4, lines.join("\n"));
    for (const line of lines) {
      assert.ok(!line.includes("\n") && !/\bat \S+:\d+/.test(line), line);
      assert.match(line, /^homelab-backup:\S+: /);
    }
  });

  test("secret keys must be secrets and present when required", () => {
    const raw = { pbsApiToken: "plain" };
    const lines = checkSecretKeys(raw, () => false, ["truenasApiKey"]).map(formatProblem);
    assert.deepEqual(lines, [
      "homelab-backup:pbsApiToken: is set in plaintext; expected a secret: pulumi config set --secret homelab-backup:pbsApiToken <value>",
      "homelab-backup:truenasApiKey: is missing; expected a secret: pulumi config set --secret homelab-backup:truenasApiKey <value>",
    ]);
    assert.ok(!lines.join("").includes("plain\""), "the secret value itself is never printed");
    assert.deepEqual(checkSecretKeys(raw, () => true, []), []);
  });
});

describe("keep policy", () => {
  test("property: never keeps less than the on-site minimums or the service's retention", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom(60, 1440, 7 * 1440, 35 * 1440),
        fc.record({ hourly: fc.integer({ min: 1, max: 48 }), daily: fc.integer({ min: 1, max: 30 }), weekly: fc.integer({ min: 1, max: 8 }), monthly: fc.integer({ min: 1, max: 24 }) }),
        (days, interval, onsite) => {
          const keep = keepPolicyFor(days, interval, onsite);
          assert.ok((keep.keepWeekly ?? 0) >= onsite.weekly);
          assert.ok((keep.keepMonthly ?? 0) >= onsite.monthly);
          if (interval <= 1440) assert.ok((keep.keepDaily ?? 0) >= Math.max(days, onsite.daily));
          if (interval < 1440) assert.equal(keep.keepHourly, onsite.hourly);
          else assert.equal(keep.keepHourly, undefined);
          // The kept window covers the retention: days for daily, weeks for weekly, months for monthly jobs.
          const coveredDays = interval <= 1440 ? keep.keepDaily! : interval <= 7 * 1440 ? keep.keepWeekly! * 7 : keep.keepMonthly! * 31;
          assert.ok(coveredDays >= days, `${coveredDays} < ${days}`);
        },
      ),
    );
  });
});
