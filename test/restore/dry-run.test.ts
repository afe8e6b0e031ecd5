/** `--dry-run`: the whole plan, with the calls it would make, and not one call that changes anything. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { PveTestServer } from "../fixtures/pve-server";
import { cliEnv, hourlyBackups, IMPORTANT, runCli, runInProcess, stackDir, startCluster } from "./harness";

describe("restore --dry-run", () => {
  let pve: PveTestServer;
  let dir: string;

  before(async () => {
    pve = await startCluster();
    hourlyBackups(pve, 101, new Date(), 3);
    // Daily backups of an application VM found through its pool, on the important tier's namespace.
    for (let d = 1; d <= 3; d++) pve.addBackup({ vmid: 130, storage: IMPORTANT, time: new Date(Date.now() - d * 86_400_000), notes: "app01 · service application-vms · tier important" });
    dir = stackDir(pve);
  });
  after(() => pve.close());

  it("prints the in-place plan (shutdown, safety copy, restore, validation, rollback) and calls nothing that mutates", async () => {
    const result = await runCli(
      ["--stack", "homelab", "--service", "database-vms", "--guest", "101", "--at", "latest", "--target", "in-place", "--check", "pg_isready", "--dry-run"],
      { cwd: dir, env: cliEnv(pve, { XDG_STATE_HOME: dir }) },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const steps = result.stdout.slice(result.stdout.indexOf("Steps\n"));
    assert.match(steps, /1\. POST \/nodes\/pve1\/qemu\/101\/status\/shutdown/);
    assert.match(steps, /2\. POST \/nodes\/pve1\/vzdump vmid=101 storage=pbs-backup-critical mode=snapshot protected=1 remove=0/);
    assert.match(steps, /3\. POST \/nodes\/pve1\/qemu vmid=101 archive=pbs-backup-critical:backup\/vm\/101\/\S+ force=1/);
    assert.match(steps, /6\. POST \/nodes\/pve1\/qemu\/101\/agent\/exec \/bin\/sh -c "pg_isready": the check must exit 0/);
    assert.match(steps, /On failure\n {2}- POST \/nodes\/pve1\/qemu\/101\/status\/stop .*<safety copy> force=1: put the safety copy back/);
    assert.match(result.stdout, /Dry run: nothing was changed\.\n$/);
    assert.deepEqual(pve.mutatingRequests(), []);
    assert.ok(pve.requests.length > 0, "it did read the cluster");
    assert.equal(existsSync(join(dir, "homelab-backup")), false, "a dry run writes no audit line");
  });

  it("takes the service's checkCommand from the stack config when --check is not given", async () => {
    const result = await runInProcess(
      ["--stack", "homelab", "--service", "database-vms", "--guest", "101", "--at", "latest", "--target", "in-place", "--dry-run"],
      { cwd: dir, env: cliEnv(pve, { XDG_STATE_HOME: dir }) },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /agent\/exec \/bin\/sh -c "systemctl is-active --quiet postgresql mariadb": the check must exit 0/);
    assert.deepEqual(pve.mutatingRequests(), []);
  });

  it("plans a new-id restore of a pool guest on its own node and storage, and calls nothing that mutates", async () => {
    const result = await runInProcess(
      ["--stack", "homelab", "--service", "application-vms", "--guest", "130", "--at", "latest", "--target", "new", "--dry-run"],
      { cwd: dir, env: cliEnv(pve) },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Guest {5}130 app01 \(VM, running on pve2\)/);
    assert.match(result.stdout, /Target {4}new VM 100 on pve2: a copy; 130 is not touched/);
    assert.match(result.stdout, /POST \/nodes\/pve2\/qemu vmid=100 archive=pbs-backup-homelab-important:backup\/vm\/130\/\S+ unique=1/);
    assert.deepEqual(pve.mutatingRequests(), []);
  });
});
