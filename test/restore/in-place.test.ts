/**
 * Restores that replace a guest, and new-id restores that fail: whatever happens, the cluster
 * ends as it began or as asked, never in between.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import type { PveTestServer } from "../fixtures/pve-server";
import { auditLines, cliEnv, CRITICAL, DAY, hourlyBackups, runCli, runInProcess, stackDir, startCluster } from "./harness";

const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

describe("restore in place", () => {
  let pve: PveTestServer;
  let dir: string;
  const now = new Date();
  // A backup from three days ago whose system never brings its QEMU agent up (a broken point).
  const brokenAt = new Date(Math.floor((now.getTime() - 3 * DAY) / 3_600_000) * 3_600_000);
  const goodAt = new Date(brokenAt.getTime() - DAY);

  before(async () => {
    pve = await startCluster();
    hourlyBackups(pve, 101, now, 3);
    pve.addBackup({ vmid: 101, storage: CRITICAL, time: brokenAt, agentWorks: false, verification: "ok", config: { ...pve.guests.get(101)!.config, memory: 1024 } });
    pve.addBackup({ vmid: 101, storage: CRITICAL, time: goodAt, verification: "ok", config: { ...pve.guests.get(101)!.config, memory: 2048 } });
    dir = stackDir(pve);
  });
  after(() => pve.close());

  const args = (at: Date, extra: string[] = []): string[] => [
    "--stack", "homelab", "--service", "database-vms", "--guest", "101", "--at", isoSeconds(at), "--validate-timeout", "1s", "--yes", ...extra,
  ];

  it("rolls back to the safety copy when the restored guest's agent never answers, ending as it began", async () => {
    const original = structuredClone(pve.guests.get(101)!);
    const audit = join(dir, "in-place-fail.jsonl");
    const result = await runCli(args(brokenAt, ["--target", "in-place", "--audit-log", audit]), { cwd: dir, env: cliEnv(pve) });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /✗ QEMU guest agent of 101 answers \(\d:\d\d\): no answer within 1 s \(last: QEMU guest agent is not running\)/);
    assert.match(result.stdout, /The restore failed; 101 is back as it was/);

    const guest = pve.guests.get(101)!;
    assert.deepEqual(guest.config, original.config, "same config as before");
    assert.equal(guest.status, "running", "running, as it was");
    assert.equal(guest.agentWorks, true, "the system from before is back");
    assert.equal(guest.lock, undefined);

    const safety = pve.volumes.filter((v) => v.vmid === 101 && v.protected);
    assert.equal(safety.length, 1, "one safety copy, protected");
    assert.deepEqual(safety[0]!.config, original.config);
    const restores = pve.seen("POST", /^\/nodes\/pve1\/qemu$/).map((r) => r.params);
    assert.deepEqual(restores, [
      { vmid: "101", archive: `${CRITICAL}:backup/vm/101/${isoSeconds(brokenAt)}`, force: "1" },
      { vmid: "101", archive: safety[0]!.volid, force: "1" },
    ]);
    // The guest was shut down before the safety copy was taken, so the copy holds its last write.
    const order = pve.mutatingRequests().map((r) => `${r.method} ${r.path}`);
    assert.ok(order.indexOf("POST /nodes/pve1/qemu/101/status/shutdown") < order.indexOf("POST /nodes/pve1/vzdump"));

    const [record] = auditLines(audit);
    assert.equal(record?.outcome, "rolled-back");
    assert.equal(record?.safetyCopy, safety[0]!.volid);
    assert.match(String(record?.error), /QEMU guest agent/);
    assert.ok(record?.steps.some((s: { step: string; ok: boolean }) => s.step === "put the safety copy back over 101" && s.ok));
  });

  it("replaces the guest with the point when it validates, and leaves the safety copy protected", async () => {
    const before = structuredClone(pve.guests.get(101)!);
    const audit = join(dir, "in-place-ok.jsonl");
    const protectedBefore = pve.volumes.filter((v) => v.protected).length;
    const result = await runCli(args(goodAt, ["--target", "in-place", "--audit-log", audit]), { cwd: dir, env: cliEnv(pve) });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const guest = pve.guests.get(101)!;
    assert.equal(guest.config.memory, 2048, "the config of the restored point");
    assert.equal(guest.status, "running");
    const safety = pve.volumes.filter((v) => v.protected).slice(protectedBefore);
    assert.equal(safety.length, 1);
    assert.deepEqual(safety[0]!.config, before.config, "the safety copy holds the guest as it was");
    assert.equal(auditLines(audit)[0]?.outcome, "restored");
  });

  it("removes a new guest whose validation fails, leaving nothing behind", async () => {
    const audit = join(dir, "new-fail.jsonl");
    const result = await runInProcess(args(brokenAt, ["--target", "new", "--new-id", "9005", "--audit-log", audit]), { cwd: dir, env: cliEnv(pve) });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /9005 was removed, nothing is left behind/);
    assert.equal(pve.guests.has(9005), false);
    assert.deepEqual(pve.seen("DELETE", /\/9005$/).map((r) => r.params), [{ purge: "1", "destroy-unreferenced-disks": "1" }]);
    assert.equal(auditLines(audit)[0]?.outcome, "removed");
  });
});
