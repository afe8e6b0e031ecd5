import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PlanDocument } from "../../plan/document";
import { named, ofType, planStack } from "../helpers/plan";

describe("lab stack under mocks: same program, a smaller environment", () => {
  let doc: PlanDocument;
  before(async () => {
    doc = await planStack("lab");
  });

  test("its own endpoints, storage and two services", () => {
    assert.equal(named(doc, "pulumi:providers:proxmoxve", "pve").inputs["endpoint"], "https://lab-pve.home.arpa:8006");
    const jobs = ofType(doc, "proxmoxve:backup/job:Job");
    assert.deepEqual(jobs.map((j) => j.name).sort(), ["backup-database-vms", "backup-lab-apps"]);
    const storages = ofType(doc, "proxmoxve:storage/pbs:Pbs");
    assert.deepEqual(storages.map((s) => s.name), ["lab-pbs-lab-critical", "lab-pbs-lab"]);
    assert.equal(storages[0]!.inputs["namespace"], undefined, "the lab datastores keep everything in the root namespace");
    assert.equal(storages[0]!.inputs["server"], "10.98.0.20");
  });

  test("tag-selected guests are resolved through PVE, not hard-coded", () => {
    const job = named(doc, "proxmoxve:backup/job:Job", "backup-lab-apps");
    assert.deepEqual(job.inputs["vmids"], [], "offline there is no cluster, so the tag query returns nothing");
    assert.ok(doc.notes.some((n) => n.includes("lab-apps") && n.includes("tags")), doc.notes.join("\n"));
  });

  test("the lab has no smtp target, so jobs carry no mail settings", () => {
    for (const job of ofType(doc, "proxmoxve:backup/job:Job")) assert.equal(job.inputs["mailnotification"], undefined);
  });

  test("security.encryptionKeyRotationDays: the library's keys, set on each storage in place, earlier ones kept", () => {
    const storages = ofType(doc, "proxmoxve:storage/pbs:Pbs");
    for (const st of storages) {
      // Random bytes are unknown until apply; either way the key never shows.
      assert.ok(["[secret]", "[unknown]"].includes(st.inputs["encryptionKey"] as string), `${st.name} takes the ring's key`);
      assert.equal(st.inputs["generateEncryptionKey"], undefined);
    }
    const steps = doc.resources.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-encryption-key"));
    assert.deepEqual(steps.map((r) => r.name).sort(), ["lab-pbs-lab-critical-encryption-key", "lab-pbs-lab-encryption-key"]);
    for (const step of steps) {
      assert.ok(["[secret]", "[unknown]"].includes(step.inputs["stdin"] as string));
      // Into PVE's own root-only key file, never onto a command line.
      assert.match(String(step.inputs["create"]), /printf '%s\\n' "\$key" > \/etc\/pve\/priv\/storage\/\S+\.enc/);
      assert.doesNotMatch(String(step.inputs["create"]), /--encryption-key/);
    }
    // One key per epoch, the current one and those backups still need protected; one master key.
    const keys = ofType(doc, "random:index/randomBytes:RandomBytes").filter((r) => r.name.startsWith("keys-pbs-key-"));
    assert.ok(keys.length >= 2, keys.map((k) => k.name).join(", "));
    assert.ok(keys.some((k) => k.protect));
    assert.equal(ofType(doc, "pulumi-nodejs:dynamic/keys:RsaKey").length, 1, "the ring reuses the topology's master key");
    const row = doc.keys.find((k) => k.key === "PBS client encryption key");
    assert.match(row?.rotation ?? "", /^automatic/);
    assert.match(row?.nextRotation ?? "", /^\d{4}-\d{2}-\d{2}$/);
  });
});
