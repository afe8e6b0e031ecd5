/**
 * The executor's other paths, run in-process against the PVE test server: a failing check
 * command, a container, a guest that was stopped, and a safety copy that cannot be taken.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execute, type ExecResult } from "../../restore/execute";
import type { Operation } from "../../restore/operation";
import { restorePoints } from "../../restore/points";
import { Progress, type Reporter } from "../../restore/progress";
import { PveClient } from "../../restore/pve/client";
import { listBackups } from "../../restore/pve/api";
import { loadStack } from "../../restore/stack";
import type { PveTestServer } from "../fixtures/pve-server";
import { CRITICAL, DAY, IMPORTANT, ROOT, startCluster } from "./harness";

const quiet: Reporter = { begin: () => undefined, tick: () => undefined, end: () => undefined, note: () => undefined };

describe("executing a restore", () => {
  let pve: PveTestServer;
  let client: PveClient;
  const { strategy } = loadStack(join(ROOT, "Pulumi.homelab.yaml"));
  const service = (name: string) => strategy.services.find((s) => s.name === name)!;

  before(async () => {
    pve = await startCluster();
    pve.addGuest({ vmid: 140, type: "lxc", node: "pve2", pool: "applications" });
    for (const vmid of [101, 131]) pve.addBackup({ vmid, storage: vmid === 101 ? CRITICAL : IMPORTANT, time: new Date(Date.now() - DAY) });
    pve.addBackup({ vmid: 140, storage: IMPORTANT, time: new Date(Date.now() - DAY), config: { ...pve.guests.get(140)!.config, memory: 512 } });
    client = new PveClient({ url: pve.url, fingerprint: pve.fingerprint }, { kind: "token", tokenId: pve.tokenId, secret: pve.tokenSecret });
  });
  after(() => pve.close());

  async function run(svc: string, vmid: number, target: Operation["target"], extra: Partial<Operation> = {}): Promise<ExecResult> {
    const g = pve.guests.get(vmid)!;
    const storage = svc === "database-vms" ? CRITICAL : IMPORTANT;
    const point = restorePoints(storage, await listBackups(client, g.node, storage, vmid), vmid)[0]!;
    const op: Operation = {
      stack: "homelab",
      service: service(svc),
      guest: { vmid, type: g.type, node: g.node, exists: true, running: g.status === "running" },
      point,
      safetyStorage: storage,
      why: "test",
      requested: "latest",
      target,
      validateTimeoutMs: 300,
      ...extra,
    };
    return execute(op, { client, reporter: quiet, pollMs: 5, taskTimeoutMs: 5000 });
  }

  it("removes a new copy whose check command fails inside it", async () => {
    // A backup taken while the database was broken: the guest boots, its service check fails.
    pve.addBackup({ vmid: 101, storage: CRITICAL, time: new Date(Date.now() - DAY / 2), checkExit: 1 });
    const result = await run("database-vms", 101, { mode: "new", vmid: 9700, node: "pve1" }, { check: "pg_isready" });
    assert.equal(result.outcome, "removed");
    assert.equal(result.error, "exited 1: check failed");
    assert.equal(pve.guests.has(9700), false);
    assert.deepEqual(pve.seen("POST", /\/9700\/agent\/exec$/).map((r) => r.params.command), [["/bin/sh", "-c", "pg_isready"]]);
  });

  it("restores a container in place from its ostemplate and judges it by its running state", async () => {
    const result = await run("application-vms", 140, { mode: "in-place", vmid: 140, node: "pve2" });
    assert.equal(result.outcome, "restored", result.error);
    assert.equal(pve.guests.get(140)?.config.memory, 512);
    assert.equal(pve.guests.get(140)?.status, "running");
    const restore = pve.seen("POST", /^\/nodes\/pve2\/lxc$/).map((r) => r.params);
    assert.deepEqual(restore[0], { vmid: "140", ostemplate: pve.volumes.find((v) => v.vmid === 140 && !v.protected)!.volid, restore: "1", force: "1" });
    assert.equal(pve.seen("POST", /\/140\/agent\//).length, 0, "containers have no QEMU agent");
  });

  it("leaves a guest that was stopped stopped again after validating it", async () => {
    const result = await run("application-vms", 131, { mode: "in-place", vmid: 131, node: "pve3" });
    assert.equal(result.outcome, "restored", result.error);
    assert.equal(pve.guests.get(131)?.status, "stopped");
    assert.ok(result.steps.some((s) => s.step === "start 131" && s.ok), "it was started to be validated");
    assert.equal(pve.seen("POST", /\/131\/status\/shutdown$/).length, 1);
  });

  it("changes nothing but puts the power back when the safety copy fails", async () => {
    const restoresBefore = pve.seen("POST", /^\/nodes\/pve1\/qemu$/).length;
    pve.failNextTask("vzdump", "job errors");
    const result = await run("database-vms", 101, { mode: "in-place", vmid: 101, node: "pve1" });
    assert.equal(result.outcome, "not-started");
    assert.match(result.error ?? "", /the safety copy of 101 failed: job errors/);
    assert.equal(pve.seen("POST", /^\/nodes\/pve1\/qemu$/).length, restoresBefore, "no restore was attempted");
    assert.equal(pve.guests.get(101)?.status, "running", "it was running, so it runs again");
  });

  it("brings back a guest that is gone under its own id, with nothing to protect and no force", async () => {
    const volume = pve.addBackup({ vmid: 777, storage: CRITICAL, time: new Date(Date.now() - DAY), type: "qemu", config: { name: "db03", agent: "1", net0: "virtio=BC:24:11:00:07:77,bridge=vmbr0" } });
    const point = restorePoints(CRITICAL, await listBackups(client, "pve1", CRITICAL, 777), 777)[0]!;
    const result = await execute(
      {
        stack: "homelab", service: service("database-vms"), guest: { vmid: 777, type: "qemu", node: "pve1", exists: false, running: false },
        point, safetyStorage: CRITICAL, why: "test", requested: "latest", target: { mode: "in-place", vmid: 777, node: "pve1" }, validateTimeoutMs: 300,
      },
      { client, reporter: quiet, pollMs: 5, taskTimeoutMs: 5000 },
    );
    assert.equal(result.outcome, "restored", result.error);
    assert.deepEqual(pve.guests.get(777)?.config, volume.config, "the same guest, same MAC address: it is the production guest coming back");
    assert.deepEqual(pve.seen("POST", /^\/nodes\/pve1\/qemu$/).at(-1)?.params, { vmid: "777", archive: volume.volid });
    assert.equal(pve.seen("POST", /vzdump/).filter((r) => r.params.vmid === "777").length, 0);
  });

  it("reports each step and the whole run against the tier's RTO, saying when it is over", () => {
    let now = 0;
    const lines: string[] = [];
    const progress = new Progress({ write: (t) => lines.push(t), tty: false, rtoMinutes: 60, rtoText: "1h", now: () => now });
    progress.begin("restore over 101");
    now = 31_000;
    progress.tick();
    now = 45 * 60_000;
    progress.end(true);
    assert.deepEqual(lines, ["  … restore over 101\n", "    still running: restore over 101 0:31 · 0:31 of RTO 1h (1%)\n", "  ✓ restore over 101 (45:00)\n"]);
    now = 75 * 60_000;
    assert.equal(progress.budget(), "1:15:00 of RTO 1h (125%, OVER)");
  });
});
