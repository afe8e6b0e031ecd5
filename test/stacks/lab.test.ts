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
});
