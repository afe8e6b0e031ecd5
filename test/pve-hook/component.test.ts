/**
 * BackupHook under Pulumi's mock runtime (strict): three steps per PVE node parented to the
 * component, the hook and one entry point per job written on every node, the audit token only as
 * a secret input, removal leaving a stub, and arguments refused at construction.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { command, componentOutputs, find, input, isSecretValue, plainStrings, registered, settle, startMocks, writtenContent } from "../helpers/mock-runtime";

type HookModule = typeof import("../../components/pve/hook");

const FP = "4B:2F:9A:11:C0:7E:3D:58:A2:96:0B:E4:17:6C:D3:88:5F:21:90:AE:34:C7:6B:02:DE:41:8A:F5:63:B9:0C:7D";
const TOKEN = "0d5e8c1a-hook-audit-token-secret";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAhook\n-----END OPENSSH PRIVATE KEY-----\n";
const PBS = { host: "10.20.0.20", fingerprint: FP.toLowerCase().replace(/:/g, ""), tokenId: "pve-hook@pbs!audit" };
const JOBS = [
  { name: "database-vms", storageId: "pbs-backup-critical", datastore: "critical", expectedSizeGb: 120, expectedDurationMinutes: 25, healthcheckUrl: "https://hc.home.arpa/ping/db/" },
  { name: "file-server", storageId: "pbs-backup-critical", datastore: "critical", expectedSizeGb: 800, expectedDurationMinutes: 25 },
  { name: "application-vms", storageId: "pbs-backup-homelab-important", datastore: "homelab", namespace: "important", expectedSizeGb: 200, expectedDurationMinutes: 60 },
];

let hooks: HookModule;
let hook: InstanceType<HookModule["BackupHook"]>;

describe("BackupHook under mocks", () => {
  before(async () => {
    await startMocks();
    hooks = await import("../../components/pve/hook");
    hook = new hooks.BackupHook("vzdump-hook", {
      nodes: ["pve1", "pve2", "pve3"].map((name, i) => ({ name, connection: { host: `10.0.10.1${i + 1}`, privateKey: pulumi.secret(KEY) } })),
      pbs: PBS,
      pbsTokenSecret: TOKEN,
      jobs: JOBS,
    });
    await settle();
  });

  it("registers homelab:pve:BackupHook with install, secrets and deploy on every node", () => {
    const component = find("homelab:pve:BackupHook", "vzdump-hook");
    assert.equal(component.custom, false);
    const children = registered.filter((r) => r.parent === component.urn).map((r) => r.name).sort();
    assert.deepEqual(children, ["pve1", "pve2", "pve3"].flatMap((n) => [`vzdump-hook-${n}-deploy`, `vzdump-hook-${n}-install`, `vzdump-hook-${n}-secrets`]).sort());
    assert.equal((input(command("vzdump-hook-pve2-deploy"), "connection") as Record<string, unknown>).host, "10.0.10.12");
    assert.deepEqual(command("vzdump-hook-pve3-deploy").dependencies, [command("vzdump-hook-pve3-secrets").urn]);
  });

  it("writes the hook and one entry point per job, and tells which path each job's script is", async () => {
    assert.equal(hook.scriptPath, "/usr/local/lib/homelab-backup/vzdump-hook");
    assert.deepEqual(hook.jobScripts, {
      "database-vms": "/usr/local/lib/homelab-backup/vzdump-hook.d/database-vms",
      "file-server": "/usr/local/lib/homelab-backup/vzdump-hook.d/file-server",
      "application-vms": "/usr/local/lib/homelab-backup/vzdump-hook.d/application-vms",
    });
    assert.deepEqual(componentOutputs.get(find("homelab:pve:BackupHook", "vzdump-hook").urn), { scriptPath: hook.scriptPath, jobScripts: hook.jobScripts });
    const deploy = String(input(command("vzdump-hook-pve1-deploy"), "create"));
    const script = writtenContent(deploy, hook.scriptPath) ?? "";
    assert.match(script, /^PBS_ADDR=10\.20\.0\.20:8007$/m);
    assert.match(script, new RegExp(`^PBS_FINGERPRINT=${FP}$`, "m"), "the pin in the form openssl prints");
    assert.match(script, /^PBS_TOKEN_ID='pve-hook@pbs!audit'$/m);
    assert.match(script, /^ENV_FILE=\/etc\/homelab-backup\/vzdump-hook\.env$/m);
    assert.match(script, /^NOTIFY=\/usr\/local\/sbin\/homelab-backup-notify$/m);
    assert.match(script, /^  \[database-vms\]='pbs-backup-critical\|120000000000\|1500\|https:\/\/hc\.home\.arpa\/ping\/db'$/m);
    assert.match(script, /^  \[pbs-backup-homelab-important\]='homelab\|important'$/m);
    // The entry points come from one list of job names, written by a loop (run for real in hook.test.ts).
    const list = /^done <<'HOMELAB_BACKUP_JOBS'\n([\s\S]*?)\nHOMELAB_BACKUP_JOBS$/m.exec(deploy)?.[1];
    assert.deepEqual(list?.split("\n"), Object.keys(hook.jobScripts));
    assert.match(deploy, /^install -d \/usr\/local\/lib\/homelab-backup\/vzdump-hook\.d$/m);
    const body = (text: string) => text.split("\n").slice(1).join("\n");
    assert.ok(body(String(input(command("vzdump-hook-pve3-deploy"), "create"))) === body(deploy), "every node gets the same files");
  });

  it("sends the audit token only as the secret standard input of the secrets step", () => {
    for (const r of registered) for (const s of plainStrings(r.raw)) {
      assert.ok(!s.includes(TOKEN), `${r.name} carries the token in plaintext`);
      assert.ok(!s.includes("b3BlbnNzaC1rZXktdjEAAAAAhook"), `${r.name} carries the SSH key in plaintext`);
    }
    for (const node of ["pve1", "pve2", "pve3"]) {
      const secrets = command(`vzdump-hook-${node}-secrets`);
      assert.ok(isSecretValue(secrets.raw.stdin));
      assert.equal(input(secrets, "stdin"), `# homelab-backup vzdump hook secrets, written by Pulumi.\nPBS_TOKEN_SECRET=${TOKEN}\n`);
      assert.match(String(input(secrets, "delete")), /rm -f \/etc\/homelab-backup\/vzdump-hook\.env/);
    }
  });

  it("removal replaces the hook with a pass-through stub instead of deleting it", () => {
    const deploy = command("vzdump-hook-pve1-deploy");
    assert.equal(deploy.deleteBeforeReplace, true);
    const del = String(input(deploy, "delete"));
    assert.equal(writtenContent(del, hook.scriptPath), "#!/bin/sh\n# The homelab-backup vzdump hook was removed; this stub keeps jobs that still name it running.\nexit 0\n");
    assert.doesNotMatch(del, /\brm\b/);
  });

  it("refuses jobs it could not tell apart or check", () => {
    const nodes = [{ name: "pve1", connection: { host: "h", privateKey: KEY } }];
    assert.throws(
      () =>
        new hooks.BackupHook("bad", {
          nodes,
          pbs: PBS,
          pbsTokenSecret: TOKEN,
          jobs: [
            JOBS[0] as (typeof JOBS)[number],
            { ...(JOBS[1] as (typeof JOBS)[number]), datastore: "homelab" },
            { ...(JOBS[2] as (typeof JOBS)[number]), name: "database-vms", expectedSizeGb: -1, healthcheckUrl: "hc.home.arpa/x" },
          ],
          capacityThresholdPercent: 0,
        }),
      (e: Error) => {
        for (const line of [
          'jobs[1].storageId "pbs-backup-critical" points at datastore homelab here and at datastore critical in another job',
          'jobs[2].name "database-vms" is used twice',
          "jobs[2].expectedSizeGb -1 is invalid",
          'jobs[2].healthcheckUrl "hc.home.arpa/x" is invalid',
          "capacityThresholdPercent 0 is invalid",
        ]) assert.ok(e.message.includes(line), `missing: ${line}\n${e.message}`);
        return true;
      },
    );
    assert.throws(() => new hooks.BackupHook("bad2", { nodes: [], pbs: PBS, pbsTokenSecret: TOKEN, jobs: JOBS }), /nodes is empty; expected every PVE node that runs backup jobs/);
  });
});
