import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PlanDocument } from "../../plan/document";
import { named, ofType, planStack } from "../helpers/plan";

const JOB = "proxmoxve:backup/job:Job";
const STORAGE = "proxmoxve:storage/pbs:Pbs";

describe("homelab stack under mocks", () => {
  let doc: PlanDocument;
  before(async () => {
    doc = await planStack("homelab");
  });

  test("one vzdump job per service of the strategy's table, with its schedule and guests", () => {
    const jobs = Object.fromEntries(ofType(doc, JOB).map((j) => [j.name, j.inputs]));
    assert.deepEqual(Object.keys(jobs).sort(), [
      "backup-application-vms", "backup-archives", "backup-database-vms", "backup-development-vms", "backup-docker-volumes", "backup-file-server",
    ]);
    assert.equal(jobs["backup-database-vms"]!["schedule"], "*-*-* *:00");
    assert.deepEqual(jobs["backup-database-vms"]!["vmids"], ["101", "102"]);
    assert.equal(jobs["backup-application-vms"]!["schedule"], "*-*-* 02:00");
    assert.equal(jobs["backup-application-vms"]!["pool"], "applications");
    assert.equal(jobs["backup-development-vms"]!["schedule"], "Sun *-*-* 03:00");
    assert.equal(jobs["backup-archives"]!["schedule"], "Sun *-*-01..07 04:00");
  });

  test("jobs snapshot with zstd, repeat missed runs, leave pruning to PBS, exclude what the strategy does not back up", () => {
    for (const job of ofType(doc, JOB)) {
      assert.equal(job.inputs["mode"], "snapshot");
      assert.equal(job.inputs["compress"], "zstd");
      assert.equal(job.inputs["repeatMissed"], true);
      assert.deepEqual(job.inputs["pruneBackups"], { "keep-all": "1" });
      assert.equal(job.inputs["stdexcludes"], true);
      assert.deepEqual(job.inputs["excludePaths"], ["/tmp/?*", "/var/tmp/?*", "/var/cache/?*", "*.iso"]);
      assert.equal(job.inputs["mailnotification"], "failure");
      assert.deepEqual(job.inputs["mailtos"], ["admin@home.arpa"]);
    }
  });

  test("the off-site datastore and each on-site tier's namespace get a PBS storage, encrypted client-side, pinned to the PBS fingerprint", () => {
    const storages = ofType(doc, STORAGE);
    assert.deepEqual(storages.map((s) => [s.name, s.inputs["datastore"], s.inputs["namespace"]]), [
      ["pbs-backup-critical", "critical", undefined], ["pbs-backup-homelab-important", "homelab", "important"], ["pbs-backup-homelab-archive", "homelab", "archive"],
    ]);
    for (const s of storages) {
      assert.equal(s.inputs["generateEncryptionKey"], true);
      assert.equal(s.inputs["fingerprint"], "4B:2F:9A:11:C0:7E:3D:58:A2:96:0B:E4:17:6C:D3:88:5F:21:90:AE:34:C7:6B:02:DE:41:8A:F5:63:B9:0C:7D");
      assert.equal(s.inputs["server"], "10.20.0.20");
      assert.equal(s.inputs["password"], "[secret]");
      assert.deepEqual(s.inputs["nodes"], ["pve1", "pve2", "pve3"]);
      assert.equal(s.protect, true);
    }
    assert.equal(named(doc, JOB, "backup-database-vms").inputs["storage"], "pbs-backup-critical");
    assert.equal(named(doc, JOB, "backup-application-vms").inputs["storage"], "pbs-backup-homelab-important");
    assert.equal(named(doc, JOB, "backup-file-server").inputs["storage"], "pbs-backup-critical");
  });

  test("the PVE provider verifies TLS and gets its token as a secret", () => {
    const provider = named(doc, "pulumi:providers:proxmoxve", "pve");
    assert.equal(provider.inputs["insecure"], "false");
    assert.equal(provider.inputs["endpoint"], "https://pve1.home.arpa:8006");
    assert.equal(provider.inputs["apiToken"], "[secret]");
  });

  test("every resource hangs under the topology component", () => {
    const top = doc.resources.filter((r) => r.parent === null);
    assert.deepEqual(top.map((r) => r.type), ["homelab:index:BackupTopology"]);
    assert.equal(named(doc, JOB, "backup-file-server").parent, "homelab:pve:BackupFeed::pve");
  });

  test("no placeholder secret appears anywhere in the registered inputs or outputs", () => {
    const text = JSON.stringify({ r: doc.resources, o: doc.outputs });
    assert.ok(!text.includes("offline-plan-placeholder"));
    assert.ok(!text.includes("plan-placeholder-encryption-key"));
    assert.equal(doc.outputs["pbsEncryptionKeys"], "[secret]");
  });

  test("the protection model: every service and every agent's dumps, volumes and configs keep 3-2-1-1", () => {
    const byName = new Map(doc.copies.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), [
      "application-vms", "archives", "database-vms", "db01/configs", "db01/database-dumps", "development-vms", "docker-volumes",
      "docker01/configs", "docker01/docker-volumes", "file-server",
    ]);
    const dumps = byName.get("db01/database-dumps")!;
    assert.deepEqual(dumps.copies.map((c) => [c.kind, c.medium, c.site]), [
      ["source", "local-disk", "onsite"], ["borg-repository", "nas", "onsite"],
      ["offsite-bucket", "cloud", "offsite"], ["offsite-bucket", "cloud", "offsite"], ["offsite-bucket", "cloud", "offsite"],
    ]);
    assert.equal(dumps.tier, "critical");
    assert.ok(dumps.copies[1]!.encrypted && dumps.copies[1]!.verified);
    const db = byName.get("database-vms")!;
    assert.deepEqual(db.copies.map((c) => c.location), [
      "PVE VMs 101, 102", "PBS critical", "TrueNAS tank/replica/critical",
      "S3 homelab-offsite-critical", "S3 homelab-offsite-monthly", "S3 homelab-offsite-yearly",
    ]);
    // Each class keeps its own promise: critical 7 y, monthly archives 2 y, yearly archives 5 y.
    assert.deepEqual(db.copies.slice(3).map((c) => [c.lockDays, c.retentionDays]), [[2555, 2555], [730, 730], [1825, 1825]]);
    assert.deepEqual(byName.get("application-vms")!.copies.map((c) => c.site), ["onsite", "onsite", "onsite"]);
    assert.deepEqual(doc.violations.filter((v) => v.enforcement === "mandatory"), []);
  });

  test("the off-site syncs copy (never sync) the critical replica and the agents' repositories into every class", () => {
    const syncs = ofType(doc, "pulumi-nodejs:dynamic/truenas:CloudSyncTask");
    assert.deepEqual(syncs.map((s) => [s.name, s.inputs["path"], s.inputs["transferMode"], s.inputs["bucket"]]), [
      ["truenas-offsite", "/mnt/tank/replica/critical", "COPY", "homelab-offsite-critical"],
      ["truenas-borg-tank-borg", "/mnt/tank/borg", "COPY", "homelab-offsite-critical"],
      ["truenas-offsite-monthly", "/mnt/tank/replica/critical", "COPY", "homelab-offsite-monthly"],
      ["truenas-borg-tank-borg-monthly", "/mnt/tank/borg", "COPY", "homelab-offsite-monthly"],
      ["truenas-offsite-yearly", "/mnt/tank/replica/critical", "COPY", "homelab-offsite-yearly"],
      ["truenas-borg-tank-borg-yearly", "/mnt/tank/borg", "COPY", "homelab-offsite-yearly"],
    ]);
    // Monthly and critical run monthly; the yearly class once a year, in January.
    const cron = (name: string) => JSON.stringify(syncs.find((s) => s.name === name)!.inputs["schedule"]);
    assert.equal(cron("truenas-offsite"), cron("truenas-offsite-monthly"));
    assert.match(cron("truenas-offsite-yearly"), /"month":"1"/);
  });

  test("the backup VLAN's firewall opens exactly the derived flows, default-deny", () => {
    assert.deepEqual([...new Set(doc.flows.map((f) => f.port))].sort(), ["22/tcp", "443/tcp", "8007/tcp"]);
    assert.deepEqual(doc.flows.filter((f) => f.to === "pbs" && f.port === "8007/tcp").map((f) => f.from).sort(), ["pve1", "pve2", "pve3"]);
    const cluster = ofType(doc, "proxmoxve:cluster/firewallLegacy:FirewallLegacy");
    assert.equal(cluster.length, 1);
    assert.equal(cluster[0]!.inputs["inputPolicy"], "DROP");
    assert.equal(ofType(doc, "proxmoxve:network/linux/vlan:Vlan").length, 3, "one VLAN interface per PVE node");
  });

  test("the key inventory lists every secret and does not claim rotations that are not wired", () => {
    const keys = new Map(doc.keys.map((k) => [k.key, k]));
    assert.match(keys.get("PBS client encryption key")!.rotation, /^not rotated:/);
    // PVE's and the monitoring's PBS tokens rotate by epoch name: a next date, never "not rotated".
    for (const name of ["PBS API token pve-backup@pbs!pve-critical-<epoch start>", "PBS API token homelab-monitor@pbs!checks-<epoch>", "PBS API token homelab-monitor@pbs!hook-<epoch>"]) {
      assert.match(keys.get(name)?.nextRotation ?? "", /^\d{4}-\d{2}-\d{2}$/, name);
    }
    // The tokens registered are the epoch's, and each storage is pointed at its token in place.
    const tokens = ofType(doc, "pulumi-nodejs:dynamic/pbs:ApiToken").map((t) => String(t.inputs["tokenName"]));
    assert.ok(tokens.every((t) => /-\d{4}-\d{2}-\d{2}$/.test(t)), tokens.join(", "));
    assert.equal(doc.resources.filter((r) => r.name.endsWith("-credentials") && r.type === "command:remote:Command").length, 3);
    assert.match(keys.get("off-site sync access key (IAM user homelab-offsite-sync)")!.nextRotation, /^\d{4}-\d{2}-\d{2}$/);
    // The master key is wired: declared, protected, and set on every PVE pbs storage.
    assert.match(keys.get("PBS master key (RSA) and its passphrase")!.rotation, /^never/);
    assert.match(keys.get("PBS master key (RSA) and its passphrase")!.owner, /set on every PVE pbs storage/);
    const master = doc.resources.find((r) => r.type === "pulumi-nodejs:dynamic/keys:RsaKey");
    assert.ok(master && master.protect && master.retainOnDelete, "the master key is protected and retained");
    assert.equal(doc.resources.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-master-pubkey")).length, 3);
    assert.ok([...keys.keys()].some((k) => k.startsWith("rclone crypt")));
  });

  test("monitoring: read-only PBS tokens, the hook on every job, the checks on the PBS host", () => {
    const acls = ofType(doc, "pulumi-nodejs:dynamic/pbs:Acl").filter((a) => a.name.startsWith("pbs-monitor-"));
    assert.ok(acls.length >= 6);
    for (const acl of acls) assert.ok(["DatastoreAudit", "Audit"].includes(acl.inputs["role"] as string), `${acl.name} grants ${String(acl.inputs["role"])}`);
    const hookAcls = acls.filter((a) => a.name.startsWith("pbs-monitor-acl-hook-")).map((a) => a.inputs["path"]);
    assert.deepEqual(hookAcls.sort(), ["/datastore/critical", "/datastore/homelab"]);
    for (const job of ofType(doc, JOB)) {
      assert.equal(job.inputs["script"], `/usr/local/lib/homelab-backup/vzdump-hook.d/${job.name.replace(/^backup-/, "")}`);
    }
    const hookDeploy = doc.resources.filter((r) => r.type === "command:remote:Command" && /^backup-hook-pve\d-deploy$/.test(r.name));
    assert.equal(hookDeploy.length, 3, "the hook is on every PVE node");
    // The jobs wait for the hook: vzdump refuses a job whose script is missing.
    const hook = doc.resources.find((r) => r.type === "homelab:pve:BackupHook");
    assert.ok(hook);
    for (const name of ["capacity-deploy", "freshness-deploy", "notify-pbs-deploy"]) assert.ok(doc.resources.some((r) => r.name === name), name);
    // The NAS pool is watched too: a read-only TrueNAS user, reached from PBS over the API.
    const capacity = doc.resources.find((r) => r.name === "capacity-deploy")!.inputs["create"] as string;
    assert.match(capacity, /homelab-monitor/);
    assert.ok(doc.flows.some((f) => f.from === "pbs" && f.to === "truenas" && f.port === "443/tcp"));
    // Secrets only as secrets: no token secret or key in any monitoring input.
    for (const r of doc.resources.filter((x) => /^(capacity|freshness|backup-hook|notify)-/.test(x.name))) {
      assert.equal(r.inputs["connection"], "[secret]", `${r.name} connection`);
      assert.ok(!JSON.stringify(r.inputs).includes("offline-plan-placeholder"), `${r.name} leaks a secret`);
    }
  });

  test("the hook expects what an incremental run writes, not the whole guest", async () => {
    const { expectedRunGb } = await import("../../stacks/monitoring");
    const { stackStrategy } = await import("../network/strategy");
    const strategy = stackStrategy("homelab");
    const fileServer = strategy.services.find((s) => s.name === "file-server")!;
    const run = expectedRunGb(fileServer, strategy.hosts.pbs.dailyChangePercent);
    assert.ok(run >= 1 && run < fileServer.sizeGb / 10, `${run} GB of ${fileServer.sizeGb}`);
    const weekly = { ...fileServer, intervalMinutes: 7 * 1440 };
    assert.ok(expectedRunGb(weekly, strategy.hosts.pbs.dailyChangePercent) > run, "a longer interval writes more");
  });

  test("restore tests: one per PBS storage on the restore node, an isolated bridge, the database test on db01", () => {
    const tests = ofType(doc, "homelab:verify:RestoreTest").map((r) => r.name).sort();
    assert.deepEqual(tests, ["restore-test-pbs-backup-critical", "restore-test-pbs-backup-homelab-archive", "restore-test-pbs-backup-homelab-important"]);
    const bridge = named(doc, "proxmoxve:network/linux/bridge:Bridge", "restore-test-bridge");
    assert.equal(bridge.inputs["name"], "vmbr9");
    assert.deepEqual(bridge.inputs["ports"], [], "no uplink");
    const critical = named(doc, "command:remote:Command", "restore-test-pbs-backup-critical-deploy").inputs["create"] as string;
    assert.match(critical, /^STORAGE=pbs-backup-critical$/m);
    assert.match(critical, /^SCRATCH_FROM=9900$/m);
    assert.match(critical, /^MONTHLY=\(database-vms file-server docker-volumes\)$/m);
    assert.ok(ofType(doc, "homelab:verify:DatabaseRestoreTest").some((r) => r.name === "db01-restore-test"));
    assert.deepEqual(doc.violations.filter((v) => v.id === "HB-RESTORE"), []);
  });

  test("PVE's own notifications: the seed's targets, a matcher for failed vzdump runs, every job on the notification system", () => {
    const apply = named(doc, "command:remote:Command", "pve-notify-apply");
    const create = String(apply.inputs["create"]);
    for (const job of ofType(doc, JOB)) assert.ok(create.includes(`pvesh set /cluster/backup/${job.name} --notification-mode notification-system`), job.name);
    assert.match(create, /upsert \/cluster\/notifications\/matchers homelab-backup-vzdump .*--match-field 'exact:type=vzdump' --match-severity error/);
    assert.equal(apply.inputs["stdin"], "[secret]");
    assert.ok(!create.includes("offline-plan-placeholder"));
  });
});
