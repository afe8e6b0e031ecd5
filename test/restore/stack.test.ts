/**
 * What the restore reads from a stack: the file itself and the storage names (small copies of the
 * plan's and the program's logic, kept equal here, because the originals load the Pulumi SDK), and
 * which guests a service offers: listed, pooled, tagged, and gone-but-backed-up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { storageIdFor } from "../../components/pve/backup-feed";
import { readStackFile } from "../../plan/stack-file";
import { guestsOf } from "../../restore/guests";
import type { BackupEntry, ClusterGuest } from "../../restore/pve/api";
import { loadStack, readProjectKeys, storageFor } from "../../restore/stack";
import { ROOT } from "./harness";

describe("the restore's view of a stack", () => {
  for (const stack of ["homelab", "lab"]) {
    it(`reads Pulumi.${stack}.yaml as the plan does and names the same PVE storages as the program`, () => {
      const path = join(ROOT, `Pulumi.${stack}.yaml`);
      const planned = readStackFile(path);
      const secret = new Set(planned.secretKeys.map((k) => k.replace(/^homelab-backup:/, "")));
      const expected = Object.fromEntries(Object.entries(planned.raw).filter(([k]) => !secret.has(k)));
      assert.deepEqual(readProjectKeys(path), expected);
      const { strategy } = loadStack(path);
      const ids = strategy.services.map((s) => storageFor(strategy, s));
      assert.deepEqual(ids, strategy.services.map((s) => storageIdFor(strategy.hosts.pve.storageId, s, strategy.datastores.length > 1)));
      if (stack === "homelab") assert.deepEqual([...new Set(ids)], ["pbs-backup-critical", "pbs-backup-homelab-important", "pbs-backup-homelab-archive"]);
    });
  }
});

const { strategy } = loadStack(join(ROOT, "Pulumi.homelab.yaml"));
const svc = (name: string) => strategy.services.find((s) => s.name === name)!;
const guest = (vmid: number, extra: Partial<ClusterGuest> = {}): ClusterGuest => ({ vmid, type: "qemu", node: "pve1", status: "running", tags: [], template: false, ...extra });
const backup = (vmid: number, notes: string, subtype: "qemu" | "lxc" = "qemu"): BackupEntry => ({ volid: `s:backup/vm/${vmid}/2026-11-27T02:00:00Z`, vmid, ctime: 0, size: 0, subtype, notes, protected: false, encrypted: true });

describe("the guests of a service", () => {
  it("lists configured ids, pool members and guests that only their backups still name", () => {
    const cluster = [guest(101, { name: "db01" }), guest(130, { pool: "applications" }), guest(135, { pool: "media" }), guest(139, { pool: "applications", template: true })];
    const backups = [backup(150, "app09 · service application-vms · tier important", "lxc"), backup(151, "x · service application-vms-old · tier important")];
    assert.deepEqual(
      guestsOf(svc("application-vms"), cluster, backups).map((g) => [g.vmid, g.type, g.node ?? "-", g.why]),
      [
        [130, "qemu", "pve1", "in pool applications"],
        [150, "lxc", "-", "not on the cluster; its backups name the service"],
      ],
    );
    // 102 is listed but gone from the cluster: still offered, as a guest to bring back.
    assert.deepEqual(guestsOf(svc("database-vms"), cluster, []).map((g) => [g.vmid, g.node ?? "-", g.name ?? "-"]), [[101, "pve1", "db01"], [102, "-", "-"]]);
  });

  it("follows tags when a service selects guests by tag", () => {
    const tagged = { ...svc("application-vms"), guests: { tags: ["web"] } };
    assert.deepEqual(guestsOf(tagged, [guest(160, { tags: ["db", "web"] }), guest(161, { tags: ["webby"] })], []).map((g) => [g.vmid, g.why]), [[160, "tagged web"]]);
  });
});
