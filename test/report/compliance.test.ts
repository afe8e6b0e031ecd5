import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseStrategy } from "../../config/validate";
import { readStackFile } from "../../plan/stack-file";
import { offsiteCell, replicatedCell } from "../../report/compliance";
import { cellText } from "../../report/markdown";
import type { ServiceStatus } from "../../report/status";
import type { OffsiteSync, ReplicationState, TruenasData } from "../../report/truenas-source";
import { join } from "node:path";
import { ROOT } from "./seed";

const parsed = parseStrategy(readStackFile(join(ROOT, "Pulumi.homelab.yaml")).raw);
const strategy = parsed.ok ? parsed.strategy : assert.fail("Pulumi.homelab.yaml does not validate");
const service = strategy.services.find((s) => s.name === "database-vms") ?? assert.fail();
const NOW = Date.parse("2026-11-28T08:00:00Z") / 1000;
const HOUR = 3600;

const status = (oldest: number): ServiceStatus => ({
  service, snapshots: 2, newest: NOW - HOUR, oldest, allowedSeconds: 85 * 60, status: "fresh",
  guests: [{ guest: "vm/101", newest: NOW - HOUR, fresh: true }], verification: { failed: [] },
});
const nas = (replication: Partial<ReplicationState>, offsite: OffsiteSync[] = []): TruenasData => ({
  available: true,
  replications: [{ datastore: "critical", task: "truenas-critical", replicaSnapshots: 1, ...replication }],
  offsite,
});

describe("compliance: replicated to NAS", () => {
  const ok = { state: "SUCCESS", at: NOW - 2 * HOUR };
  test("the last scheduled replication succeeded after a backup of the service", () => {
    assert.equal(cellText(replicatedCell(strategy, status(NOW - 30 * HOUR), nas(ok), NOW)), "✅ replicated 2026-11-28 06:00 UTC");
  });
  test("not met when no backup of the service predates it: the replica cannot hold the service yet", () => {
    assert.equal(cellText(replicatedCell(strategy, status(NOW - HOUR), nas(ok), NOW)), "❌ no backup of the service predates the last replication (2026-11-28 06:00 UTC)");
  });
  test("not met when the last success is older than the daily schedule allows, or it never ran", () => {
    assert.equal(cellText(replicatedCell(strategy, status(NOW - 90 * HOUR), nas({ state: "SUCCESS", at: NOW - 26 * HOUR }), NOW)), "❌ last replicated 26 h 0 min ago, longer than its schedule allows");
    assert.equal(cellText(replicatedCell(strategy, status(NOW - 90 * HOUR), nas({ state: "PENDING" }), NOW)), "❌ truenas-critical has not succeeded yet (state PENDING)");
    assert.equal(cellText(replicatedCell(strategy, status(NOW - 90 * HOUR), nas({ task: undefined } as Partial<ReplicationState>), NOW)), "❌ no replication task targets tank/replica/critical");
  });
});

describe("compliance: off-site", () => {
  const sync = (state: string | undefined, at: number | undefined, error?: string) => [{ path: "/mnt/tank/replica/critical", ...(state ? { state } : {}), ...(at !== undefined ? { at } : {}), ...(error ? { error } : {}) }];
  test("the monthly sync succeeded within its schedule plus a day", () => {
    assert.equal(cellText(offsiteCell(strategy, service, nas({}, sync("SUCCESS", NOW - 31 * 24 * HOUR)), NOW)), "✅ synced 2026-10-28 08:00 UTC");
    assert.match(cellText(offsiteCell(strategy, service, nas({}, sync("SUCCESS", NOW - 33 * 24 * HOUR)), NOW)), /^❌ last off-site sync 33 d 0 h ago, longer than its schedule allows$/);
  });
  test("a failed sync quotes TrueNAS's error; no run, or no sync at all, is not met", () => {
    assert.equal(cellText(offsiteCell(strategy, service, nas({}, sync("FAILED", NOW - HOUR, "rclone: AccessDenied")), NOW)), "❌ last off-site sync FAILED 2026-11-28 07:00 UTC: rclone: AccessDenied");
    assert.equal(cellText(offsiteCell(strategy, service, nas({}, sync(undefined, undefined)), NOW)), "❌ the off-site sync has no run recorded");
    assert.equal(cellText(offsiteCell(strategy, service, nas({}, []), NOW)), "❌ no cloud sync of /mnt/tank/replica/critical");
  });
});
