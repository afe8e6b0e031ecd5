/**
 * The freshness check run for real against the PBS API test server: stale services (old backups,
 * no backup at all, namespaces) against fresh ones, long-running backup tasks, resolutions, an
 * unreadable datastore, and the healthchecks pings around a run.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PbsTestServer } from "../fixtures/pbs-server";
import { renderFreshnessEnv, renderFreshnessScript, resolveFreshnessSpec, type CheckLayout, type FreshnessSpec } from "../../components/monitoring";
import { FakeNotify, Receiver, SCRIPT_TOOLS, failEachTestWithout, removeTempDirs, run, scriptEnv, tempDir, writeExecutable } from "./helpers";

const MIN = 60;
let pbs: PbsTestServer;
let hc: Receiver;
let notify: FakeNotify;
let check: () => ReturnType<typeof run>;
const now = Math.floor(Date.now() / 1000);

function spec(extra: Partial<FreshnessSpec> = {}): FreshnessSpec {
  return {
    pbs: { host: "127.0.0.1", port: pbs.port, fingerprint: pbs.fingerprint, tokenId: pbs.tokenId },
    services: [
      // Hourly, 25 minutes a run: an alert once the newest backup is older than 85 minutes.
      { name: "database-vms", datastore: "critical", vmids: [101, 102], rpoMinutes: 60, expectedDurationMinutes: 25 },
      { name: "file-server", datastore: "critical", vmids: [110], rpoMinutes: 60, expectedDurationMinutes: 25 },
      { name: "application-vms", datastore: "homelab", namespace: "important", vmids: [130, 131], rpoMinutes: 24 * 60, expectedDurationMinutes: 60 },
      { name: "archives", datastore: "homelab", namespace: "archive", vmids: [150], rpoMinutes: 35 * 24 * 60, expectedDurationMinutes: 45 },
    ],
    ...extra,
  };
}

function install(s: FreshnessSpec): () => ReturnType<typeof run> {
  const root = tempDir("freshness");
  const l: CheckLayout = {
    scriptPath: join(root, "check-freshness"),
    envFile: join(root, "freshness.env"),
    stateDir: join(root, "state"),
    notify: notify.path,
    truenasQuery: join(root, "unused"),
    unitDir: join(root, "units"),
  };
  writeExecutable(l.scriptPath, renderFreshnessScript(resolveFreshnessSpec(s), l));
  writeFileSync(l.envFile, renderFreshnessEnv(pbs.tokenSecret), { mode: 0o600 });
  return () => run(l.scriptPath, [], { env: scriptEnv() });
}

function backup(store: string, id: number, ageMinutes: number, ns?: string, type: "vm" | "ct" = "vm"): void {
  pbs.addSnapshot(store, { ...(ns ? { ns } : {}), "backup-type": type, "backup-id": String(id), "backup-time": now - ageMinutes * MIN });
}

describe("freshness check against the PBS API test server", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout(SCRIPT_TOOLS);
  before(async () => {
    if (!ready) return;
    notify = new FakeNotify(tempDir("freshness-bin"));
    pbs = await PbsTestServer.start();
    hc = await Receiver.start();
    for (const name of ["critical", "homelab"]) pbs.state.datastores.set(name, { name, path: `/backup/${name}` });
    // database-vms: both guests backed up at the last hourly run (and earlier ones).
    for (const id of [101, 102]) for (const age of [40, 100, 160]) backup("critical", id, age);
    // file-server: the last good backup is three hours old (older ones do not matter).
    backup("critical", 110, 180);
    backup("critical", 110, 240);
    // application-vms: 131 was backed up in the root namespace by mistake, never in its own.
    backup("homelab", 130, 20 * 60, "important");
    backup("homelab", 131, 10, undefined);
    // archives: a container, 20 days ago, within 35 days.
    backup("homelab", 150, 20 * 24 * 60, "archive", "ct");
    check = install(spec({ healthcheckUrl: `${hc.url}/ping/freshness` }));
  });
  after(async () => {
    await pbs?.close();
    await hc?.close();
    removeTempDirs();
  });

  it("alerts for each service whose newest backups are past RPO plus the run's duration, naming the guests", async () => {
    notify.clear();
    hc.requests.length = 0;
    const r = await check();
    assert.equal(r.code, 0, r.stderr);
    const calls = notify.calls();
    assert.deepEqual(calls.map((c) => [c.severity, c.title]), [
      ["error", "Service file-server missed its RPO"],
      ["error", "Service application-vms missed its RPO"],
    ]);
    assert.match(calls[0]?.body ?? "", /^Service file-server promises an RPO of 1 h \(alert after 1 h 25 min, allowing for its 25 min run\):\n- guest 110: newest backup 3 h old \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    assert.equal(calls[1]?.body, "Service application-vms promises an RPO of 1 d (alert after 1 d 1 h, allowing for its 1 h run):\n- guest 131 has no backup in datastore homelab, namespace important");
    assert.match(r.stdout, /service database-vms: every guest backed up within 1 h 25 min/);
    assert.match(r.stdout, /service archives: every guest backed up/);
    assert.deepEqual(hc.paths(), ["POST /ping/freshness/start", "POST /ping/freshness"]);
    // One listing per datastore namespace, in the namespace asked for.
    const lists = pbs.seen("GET", "/admin/datastore/").map((q) => `${q.path} ${q.query.ns?.join(",") ?? ""}`.trim());
    assert.deepEqual(lists.sort(), ["/admin/datastore/critical/snapshots", "/admin/datastore/homelab/snapshots archive", "/admin/datastore/homelab/snapshots important"]);
  });

  it("a fresh backup clears the alert with one message; the grace allows for a run in progress", async () => {
    backup("critical", 110, 5);
    backup("homelab", 131, 30, "important");
    notify.clear();
    assert.equal((await check()).code, 0);
    assert.deepEqual(notify.calls().map((c) => [c.severity, c.title]), [
      ["info", "Service file-server is within its RPO again"],
      ["info", "Service application-vms is within its RPO again"],
    ]);
    notify.clear();
    assert.equal((await check()).code, 0);
    assert.deepEqual(notify.calls(), []);

    // 80 minutes old: past the 60-minute RPO, but the run that replaces it may still be going.
    const graceful = install(spec({ services: [{ name: "database-vms", datastore: "critical", vmids: [103], rpoMinutes: 60, expectedDurationMinutes: 25 }] }));
    backup("critical", 103, 80);
    assert.equal((await graceful()).code, 0);
    assert.deepEqual(notify.calls(), []);
    const strict = install(spec({ services: [{ name: "database-vms", datastore: "critical", vmids: [103], rpoMinutes: 60, expectedDurationMinutes: 25, graceMinutes: 0 }] }));
    assert.equal((await strict()).code, 0);
    assert.deepEqual(notify.calls().map((c) => c.title), ["Service database-vms missed its RPO"]);
  });

  it("warns about backup tasks running past their job's expected duration, once, and forgets them when they end", async () => {
    pbs.addTask({ type: "backup", id: "critical:vm/101", start: now - 70 * MIN });
    pbs.addTask({ type: "backup", id: "critical:vm/102", start: now - 10 * MIN });
    pbs.addTask({ type: "backup", id: "homelab:important/vm/130", start: now - 90 * MIN });
    pbs.addTask({ type: "backup", id: "homelab:vm/999", start: now - 3 * 60 * MIN });
    pbs.addTask({ type: "backup", id: "critical:vm/110", start: now - 5 * 60 * MIN, end: now - 4 * 60 * MIN });
    pbs.addTask({ type: "garbage_collection", id: "critical", start: now - 9 * 60 * MIN });
    const tasks = install(spec({ services: spec().services.slice(0, 3) }));
    notify.clear();
    const r = await tasks();
    assert.equal(r.code, 0, r.stderr);
    const long = notify.calls().filter((c) => c.title.includes("running long"));
    assert.deepEqual(long.map((c) => [c.severity, c.title]), [
      ["warning", "Backup of vm/101 is running long"],
      ["warning", "Backup of vm/130 is running long"],
      ["warning", "Backup of vm/999 is running long"],
    ]);
    assert.match(long[0]?.body ?? "", /^The backup of vm\/101 into datastore critical \(service database-vms\) has run for 1 h 10 min since .* UTC; its job is expected to take 25 min\.\nTask: UPID:pbs-test:/);
    assert.match(long[1]?.body ?? "", /into datastore homelab, namespace important \(service application-vms\) has run for 1 h 30 min/);
    // A guest no service names: the default expectation (2 h).
    assert.match(long[2]?.body ?? "", /vm\/999 into datastore homelab has run for 3 h .* expected to take 2 h/);
    const query = pbs.seen("GET", "/nodes/localhost/tasks")[0]?.query;
    assert.deepEqual(query, { running: ["1"], typefilter: ["backup"], limit: ["0"] });

    notify.clear();
    await tasks();
    assert.deepEqual(notify.calls().filter((c) => c.title.includes("running long")), [], "not repeated");
    // The task ends: its alert goes without a message; should it run long again, that is news.
    pbs.state.taskLog.splice(0);
    await tasks();
    pbs.addTask({ type: "backup", id: "critical:vm/101", start: now - 70 * MIN });
    notify.clear();
    await tasks();
    assert.deepEqual(notify.calls().map((c) => c.title), ["Backup of vm/101 is running long"]);
    pbs.state.taskLog.splice(0);
  });

  it("fails the run, pinging /fail, when a datastore cannot be read or PBS is not the pinned server", async () => {
    pbs.state.datastores.set("homelab", { name: "homelab", path: "/backup/homelab", "maintenance-mode": "type=offline" });
    notify.clear();
    hc.requests.length = 0;
    try {
      const r = await check();
      assert.equal(r.code, 1);
      const unreadable = notify.calls().filter((c) => c.title.startsWith("Freshness check cannot read"));
      assert.deepEqual(unreadable.map((c) => c.title), ["Freshness check cannot read the backups of application-vms", "Freshness check cannot read the backups of archives"]);
      assert.match(unreadable[0]?.body ?? "", /^PBS answered 400 to GET \/admin\/datastore\/homelab\/snapshots: datastore is being unmounted or in maintenance mode 'offline'/);
      assert.deepEqual(hc.paths(), ["POST /ping/freshness/start", "POST /ping/freshness/fail"]);
      assert.equal(hc.requests[1]?.body, "2 check(s) could not run");
    } finally {
      pbs.state.datastores.set("homelab", { name: "homelab", path: "/backup/homelab" });
    }

    pbs.clearLog();
    notify.clear();
    const other = Array(32).fill("AB").join(":");
    const wrong = install(spec({ pbs: { host: "127.0.0.1", port: pbs.port, fingerprint: other, tokenId: pbs.tokenId } }));
    const r = await wrong();
    assert.equal(r.code, 1);
    assert.deepEqual(notify.calls().map((c) => c.title), ["Freshness check cannot reach PBS"]);
    assert.match(notify.calls()[0]?.body ?? "", /but AB:AB:.*:AB is pinned; refusing to send the token/);
    assert.deepEqual(pbs.requests, []);
  });

  it("refuses services it cannot check", () => {
    assert.throws(
      () =>
        resolveFreshnessSpec(
          spec({
            services: [
              { name: "apps", datastore: "homelab", vmids: [], rpoMinutes: 60, expectedDurationMinutes: 10 },
              { name: "db", datastore: "critical", vmids: [101], rpoMinutes: 0, expectedDurationMinutes: 10 },
              { name: "db2", datastore: "critical", vmids: [101], rpoMinutes: 60, expectedDurationMinutes: 10, namespace: "a b" },
              { name: "db3", datastore: "critical", vmids: [101], rpoMinutes: 60, expectedDurationMinutes: 10 },
            ],
          }),
        ),
      (e: Error) => {
        for (const line of [
          "services[0].vmids is empty; expected the ids of the service's guests",
          "services[1].rpoMinutes 0 is invalid",
          'services[2].namespace "a b" is not a namespace path',
          "services[3].vmids[0] 101 in critical is also a guest of service db",
        ]) assert.ok(e.message.includes(line), `missing: ${line}\n${e.message}`);
        return true;
      },
    );
  });
});
