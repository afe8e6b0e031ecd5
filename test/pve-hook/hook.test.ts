/**
 * The vzdump hook run for real (bash, curl, openssl, jq) as vzdump runs it, against the PBS API
 * test server: a healthy datastore lets the job start; an unreachable server, a wrong certificate,
 * maintenance (offline and read-only), a full datastore or too little room refuse it with a clear
 * message, a notification and a healthchecks /fail; job-end times the run and pings success.
 */
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { PbsTestServer } from "../fixtures/pbs-server";
import {
  HOOK_STUB,
  jobScriptPath,
  renderJobEntry,
  renderHookEnv,
  resolveBackupHookSpec,
  type BackupHookLayout,
  type BackupHookSpec,
} from "../../components/pve/hook-script";
import { hookDeployScript, hookRemoveScript, jobEntriesScript } from "../../components/pve/hook";
import { secretsFileScript } from "../../components/monitoring/remote-steps";
import { COMMON_SH, PBS_API_SH } from "../../components/monitoring/shell-lib";
import { FakeNotify, Receiver, SCRIPT_TOOLS, closedPort, failEachTestWithout, removeTempDirs, run, scriptEnv, tempDir } from "../monitoring/helpers";

let pbs: PbsTestServer;
let hc: Receiver;
let notify: FakeNotify;
let layout: BackupHookLayout;
const node = hostname();

function spec(extra: Partial<BackupHookSpec> = {}): BackupHookSpec {
  return {
    pbs: { host: "127.0.0.1", port: pbs.port, fingerprint: pbs.fingerprint, tokenId: pbs.tokenId },
    jobs: [
      { name: "database-vms", storageId: "pbs-backup-critical", datastore: "critical", expectedSizeGb: 120, expectedDurationMinutes: 25, healthcheckUrl: `${hc.url}/ping/database-vms` },
      { name: "file-server", storageId: "pbs-backup-critical", datastore: "critical", expectedSizeGb: 800, expectedDurationMinutes: 25 },
      { name: "application-vms", storageId: "pbs-backup-homelab-important", datastore: "homelab", namespace: "important", expectedSizeGb: 200, expectedDurationMinutes: 60, healthcheckUrl: `${hc.url}/ping/application-vms` },
    ],
    ...extra,
  };
}

/** Deploys the hook as the deploy step does, into the temp layout. */
async function deploy(s: BackupHookSpec = spec()): Promise<void> {
  const r = await run("sh", ["-c", hookDeployScript(resolveBackupHookSpec(s), layout)("test")]);
  assert.equal(r.code, 0, r.stderr);
  const secrets = await run("sh", ["-c", secretsFileScript(layout.envFile)], { input: renderHookEnv(pbs.tokenSecret) });
  assert.equal(secrets.code, 0, secrets.stderr);
}

/** vzdump's call: `<script> <phase> [<mode> <vmid>]`, STOREID in the environment. */
function vzdump(script: string, phase: string, storeid: string, extra: string[] = []) {
  return run(script, [phase, ...extra], { env: scriptEnv({ STOREID: storeid, DUMPDIR: "" }) });
}
const job = (name: string) => jobScriptPath(name, layout);

function datastore(name: string, config: Record<string, string> = {}, usage = { total: 4000e9, used: 1000e9 }): void {
  pbs.state.datastores.set(name, { name, path: `/backup/${name}`, ...config });
  pbs.setUsage(name, usage);
}

describe("job entry points", () => {
  after(() => removeTempDirs());

  it("the deploy loop writes each job's entry point exactly as renderJobEntry renders it, executable", async () => {
    const root = tempDir("entries");
    const at: BackupHookLayout = { scriptPath: join(root, "lib", "it's the hook"), jobDir: join(root, "lib", "it's hook.d"), envFile: join(root, "env"), stateDir: join(root, "run"), notify: "/bin/true" };
    const jobs = ["database-vms", "file_server", "a1"];
    const r = await run("sh", ["-c", jobEntriesScript(jobs, at)]);
    assert.equal(r.code, 0, r.stderr);
    for (const name of jobs) {
      assert.equal(readFileSync(jobScriptPath(name, at), "utf8"), renderJobEntry(name, at));
      assert.equal(statSync(jobScriptPath(name, at)).mode & 0o777, 0o755);
    }
    assert.ok(!existsSync(join(at.jobDir, "database-vms.new")), "no temp file is left");
  });

  it("each job adds a line to the deploy step, not a file's worth of script", () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `service-${i}`);
    const perJob = (jobEntriesScript(names(2003)).length - jobEntriesScript(names(3)).length) / 2000;
    assert.ok(perJob < 16, `${perJob.toFixed(1)} characters per job`);
  });
});

describe("vzdump hook against the PBS API test server", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout(SCRIPT_TOOLS);
  before(async () => {
    if (!ready) return;
    const root = tempDir("hook");
    notify = new FakeNotify(join(root, "bin"));
    layout = { scriptPath: join(root, "lib", "vzdump-hook"), jobDir: join(root, "lib", "vzdump-hook.d"), envFile: join(root, "etc", "hook.env"), stateDir: join(root, "run"), notify: notify.path };
    pbs = await PbsTestServer.start();
    hc = await Receiver.start();
    await deploy();
  });
  beforeEach(() => {
    if (!ready) return;
    datastore("critical");
    datastore("homelab");
    notify.clear();
    hc.requests.length = 0;
    pbs.clearLog();
  });
  after(async () => {
    await pbs?.close();
    await hc?.close();
    removeTempDirs();
  });

  it("a healthy datastore lets the job start; job-end pings success and times the run", async () => {
    const start = await vzdump(job("database-vms"), "job-start", "pbs-backup-critical");
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, new RegExp(`backup job database-vms may start: PBS at 127\\.0\\.0\\.1:${pbs.port} verified \\(pinned certificate\\); datastore critical accepts backups, 3000 GB free, at most 28 % used after the job`));
    assert.deepEqual(notify.calls(), [], "no news is good news");
    // The audit token, from the root-only file, on every request; config and status, nothing written.
    assert.deepEqual(pbs.requests.map((q) => `${q.method} ${q.path} ${q.status}`), ["GET /config/datastore/critical 200", "GET /admin/datastore/critical/status 200"]);
    assert.ok(pbs.requests.every((q) => q.authorization === `PBSAPIToken=${pbs.tokenId}:${pbs.tokenSecret}`));

    for (const phase of ["backup-start", "pre-stop", "backup-end", "log-end"]) {
      assert.equal((await vzdump(job("database-vms"), phase, "pbs-backup-critical", ["snapshot", "101"])).code, 0, phase);
    }
    const end = await vzdump(job("database-vms"), "job-end", "pbs-backup-critical");
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, /backup job database-vms took \d+ s, expected 25 min/);
    assert.deepEqual(hc.paths(), ["POST /ping/database-vms/start", "POST /ping/database-vms"]);
    assert.deepEqual(notify.calls(), []);
    assert.ok(!existsSync(join(layout.stateDir, "job-database-vms.start")), "state cleared");
  });

  it("refuses when PBS is unreachable, notifies, pings /fail, and job-abort adds nothing", async () => {
    const port = await closedPort();
    await deploy(spec({ pbs: { host: "127.0.0.1", port, fingerprint: pbs.fingerprint, tokenId: pbs.tokenId } }));
    try {
      const r = await vzdump(job("database-vms"), "job-start", "pbs-backup-critical");
      assert.equal(r.code, 1);
      const reason = `PBS at 127.0.0.1:${port} is unreachable: Connection refused`;
      assert.equal(r.stderr.trim(), `homelab-backup hook: backup job database-vms refused: ${reason}`);
      assert.deepEqual(notify.calls().map((c) => [c.severity, c.title, c.body]), [["error", `Backup job database-vms refused on ${node}`, reason]]);
      assert.deepEqual(hc.paths(), ["POST /ping/database-vms/start", "POST /ping/database-vms/fail"]);
      assert.equal(hc.requests[1]?.body, reason);

      // vzdump aborts the job after a failed job-start: already reported, so nothing twice.
      const abort = await vzdump(job("database-vms"), "job-abort", "pbs-backup-critical");
      assert.equal(abort.code, 0);
      assert.equal(notify.calls().length, 1);
      assert.equal(hc.requests.length, 2);
    } finally {
      await deploy();
    }
  });

  it("refuses a server whose certificate is not the pinned one, before sending anything", async () => {
    const other = Array(32).fill("5A").join(":");
    await deploy(spec({ pbs: { host: "127.0.0.1", port: pbs.port, fingerprint: other, tokenId: pbs.tokenId } }));
    try {
      const r = await vzdump(job("database-vms"), "job-start", "pbs-backup-critical");
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`refused: the certificate of PBS at 127\\.0\\.0\\.1:${pbs.port} has SHA-256 fingerprint ${pbs.fingerprint}, but ${other} is pinned; refusing to send the token`));
      assert.equal(notify.calls()[0]?.severity, "error");
      assert.deepEqual(pbs.requests, [], "the token never reached the server");
    } finally {
      await deploy();
    }
  });

  it("refuses a datastore in maintenance, offline or read-only", async () => {
    datastore("critical", { "maintenance-mode": "type=offline,message=disk swap" });
    const offline = await vzdump(job("file-server"), "job-start", "pbs-backup-critical");
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /backup job file-server refused: datastore critical is in maintenance mode offline \(type=offline,message=disk swap\); PBS takes no backups until it is cleared/);
    assert.deepEqual(notify.calls().map((c) => [c.severity, c.title]), [["error", `Backup job file-server refused on ${node}`]]);

    datastore("homelab", { "maintenance-mode": "type=read-only" });
    const readOnly = await vzdump(job("application-vms"), "job-start", "pbs-backup-homelab-important");
    assert.equal(readOnly.code, 1);
    assert.match(readOnly.stderr, /datastore homelab is in maintenance mode read-only \(type=read-only\)/);
    assert.equal(notify.calls().length, 2);
    assert.deepEqual(hc.paths(), ["POST /ping/application-vms/start", "POST /ping/application-vms/fail"]);
    assert.ok(!pbs.requests.some((q) => q.path.endsWith("/status")), "no need to ask for space");
  });

  it("refuses a job that would take the datastore past the threshold, or that has no room", async () => {
    datastore("critical", {}, { total: 1000e9, used: 700e9 });
    const over = await vzdump(job("database-vms"), "job-start", "pbs-backup-critical");
    assert.equal(over.code, 1);
    assert.match(over.stderr, /refused: datastore critical is 70 % full; with up to 120 GB from backup job database-vms it would reach 82 %, at or above the 80 % threshold$/m);
    assert.equal(notify.calls()[0]?.body, "datastore critical is 70 % full; with up to 120 GB from backup job database-vms it would reach 82 %, at or above the 80 % threshold");

    // The same store takes the smaller job when it stays below 80 %.
    datastore("critical", {}, { total: 1000e9, used: 600e9 });
    assert.equal((await vzdump(job("database-vms"), "job-start", "pbs-backup-critical")).code, 0);

    datastore("critical", {}, { total: 10000e9, used: 9500e9 });
    await deploy(spec({ capacityThresholdPercent: 100 }));
    try {
      const room = await vzdump(job("file-server"), "job-start", "pbs-backup-critical");
      assert.equal(room.code, 1);
      assert.match(room.stderr, /refused: datastore critical has 500 GB free, but backup job file-server may write up to 800 GB$/m);
      assert.equal(notify.calls().at(-1)?.title, `Backup job file-server refused on ${node}`);
    } finally {
      await deploy();
    }
  });

  it("reports a run longer than expected, failed guests, and an aborted job", async () => {
    assert.equal((await vzdump(job("application-vms"), "job-start", "pbs-backup-homelab-important")).code, 0);
    // The run started 100 minutes ago (the state file holds the start, in epoch seconds).
    writeFileSync(join(layout.stateDir, "job-application-vms.start"), `${Math.floor(Date.now() / 1000) - 100 * 60}\n`);
    await vzdump(job("application-vms"), "backup-abort", "pbs-backup-homelab-important", ["snapshot", "131"]);
    const end = await vzdump(job("application-vms"), "job-end", "pbs-backup-homelab-important");
    assert.equal(end.code, 0, end.stderr);
    assert.deepEqual(notify.calls().map((c) => [c.severity, c.title, c.body]), [
      ["error", `Backup job application-vms had failures on ${node}`, `vzdump could not back up guest(s) 131; see the job's task log on ${node}.`],
      ["warning", `Backup job application-vms ran long on ${node}`, "It took 1 h 40 min, longer than the expected 1 h. A job that keeps growing runs into the next one and into the datastore's maintenance window; raise expectedDuration or look at what grew."],
    ]);
    assert.deepEqual(hc.paths(), ["POST /ping/application-vms/start", "POST /ping/application-vms/fail"]);
    assert.equal(hc.requests[1]?.body, "guests failed: 131");

    notify.clear();
    hc.requests.length = 0;
    assert.equal((await vzdump(job("database-vms"), "job-start", "pbs-backup-critical")).code, 0);
    const abort = await vzdump(job("database-vms"), "job-abort", "pbs-backup-critical");
    assert.equal(abort.code, 0);
    assert.deepEqual(notify.calls().map((c) => [c.severity, c.title]), [["error", `Backup job database-vms aborted on ${node}`]]);
    assert.deepEqual(hc.paths(), ["POST /ping/database-vms/start", "POST /ping/database-vms/fail"]);
  });

  it("the shared script tells jobs apart by storage: one job on it is that job, several need the largest to fit", async () => {
    const alone = await vzdump(layout.scriptPath, "job-start", "pbs-backup-homelab-important");
    assert.equal(alone.code, 0, alone.stderr);
    assert.match(alone.stdout, /backup job application-vms may start/);
    assert.deepEqual(hc.paths(), ["POST /ping/application-vms/start"]);

    // database-vms (120 GB) and file-server (800 GB) share the storage: 800 GB must fit.
    datastore("critical", {}, { total: 2000e9, used: 900e9 });
    const shared = await vzdump(layout.scriptPath, "job-start", "pbs-backup-critical");
    assert.equal(shared.code, 1);
    assert.match(shared.stderr, /backup job on storage pbs-backup-critical refused: .* with up to 800 GB from backup job on storage pbs-backup-critical it would reach 85 %/);
    assert.equal(hc.requests.length, 1, "no job, so no ping");

    // A storage the hook does not know (a local dir storage, say): not its business.
    const local = await vzdump(layout.scriptPath, "job-start", "local");
    assert.equal(local.code, 0);
    assert.match(local.stdout, /storage local is not a PBS storage this hook checks; backup job on storage local starts unchecked/);
    // A job moved to another storage is checked where vzdump writes.
    const moved = await vzdump(job("database-vms"), "job-start", "pbs-backup-homelab-important");
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stderr, /job database-vms is configured for storage pbs-backup-critical but writes to pbs-backup-homelab-important; checking pbs-backup-homelab-important/);
    assert.ok(pbs.requests.some((q) => q.path === "/config/datastore/homelab"));
  });

  it("pins every API call to the key of the certificate it checked: another server in between gets nothing", async () => {
    const impostor = await PbsTestServer.start();
    try {
      // Connect to the real server, then let the address answer with another key (a swap, a
      // hijacked address): the call must fail before a byte of the token leaves.
      const program = [
        COMMON_SH,
        PBS_API_SH,
        `pbs_connect || { echo "connect: $PBS_ERROR"; exit 3; }`,
        `PBS_ADDR=127.0.0.1:${impostor.port}`,
        'if pbs_get "$TMP/out" /version; then echo "reached"; exit 0; fi',
        'echo "$PBS_ERROR"; exit 1',
      ].join("\n");
      const env = scriptEnv({
        PBS_ADDR: `127.0.0.1:${pbs.port}`, PBS_FINGERPRINT: pbs.fingerprint, PBS_TOKEN_ID: impostor.tokenId, PBS_TOKEN_SECRET: impostor.tokenSecret,
        PBS_TIMEOUT: "10", NOTIFY: notify.path,
      });
      const r = await run("bash", ["-c", program], { env });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /GET \/version on PBS at 127\.0\.0\.1:\d+ failed: curl: \(90\) SSL: public key does not match pinned public key/);
      assert.deepEqual(impostor.requests, []);
    } finally {
      await impostor.close();
    }
  });

  it("refuses without its token file, and never puts the token on a command line or in the script", async () => {
    rmSync(layout.envFile);
    try {
      const r = await vzdump(job("database-vms"), "job-start", "pbs-backup-critical");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /refused: .*hook\.env is missing; it holds the PBS audit token \(pulumi up writes it\)/);
    } finally {
      await deploy();
    }
    const script = readFileSync(layout.scriptPath, "utf8");
    assert.ok(!script.includes(pbs.tokenSecret));
    // Every curl that lifts chain validation is pinned to the certificate's key in the same call.
    const curls = script.split("\n").filter((l) => /\bcurl\b.*--insecure/.test(l));
    assert.ok(curls.length > 0);
    for (const l of curls) assert.match(l, /--pinnedpubkey "\$PBS_PIN"/);
    assert.doesNotMatch(script, /\bcurl\b[^\n]*\s-k\b/);
    assert.doesNotMatch(script, /PBS_TOKEN_SECRET[^\n]*\bcurl\b|\bcurl\b[^\n]*PBS_TOKEN_SECRET/);
  });

  it("is deployed with its entry points, and removal leaves a stub that lets jobs run", async () => {
    for (const name of ["database-vms", "file-server", "application-vms"]) {
      assert.equal(readFileSync(job(name), "utf8"), `#!/bin/sh\n# vzdump hook of the homelab-backup job "${name}"; written by Pulumi. Set as the job's script.\nexec ${layout.scriptPath} --job ${name} "$@"\n`);
      assert.equal(statSync(job(name)).mode & 0o777, 0o755);
    }
    const r = await run("sh", ["-c", hookRemoveScript(layout)]);
    assert.equal(r.code, 0, r.stderr);
    try {
      assert.equal(readFileSync(layout.scriptPath, "utf8"), HOOK_STUB);
      datastore("critical", { "maintenance-mode": "type=offline" });
      const stub = await vzdump(job("database-vms"), "job-start", "pbs-backup-critical");
      assert.equal(stub.code, 0, "a removed hook checks nothing and blocks nothing");
      assert.deepEqual(notify.calls(), []);
    } finally {
      await deploy();
    }
  });
});
