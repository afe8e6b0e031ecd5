/**
 * The capacity check run for real (bash, curl, openssl, jq, python3) against the PBS and TrueNAS
 * API test servers: alerts above the threshold with the days until full, severities, repeats and
 * resolutions, pool health, pinned certificates, and the healthchecks pings around a run.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PbsTestServer } from "../fixtures/pbs-server";
import { TruenasTestServer } from "../fixtures/truenas-server";
import { TRUENAS_QUERY_SCRIPT, renderCapacityEnv, renderCapacityScript, resolveCapacitySpec, type CapacitySpec, type CheckLayout } from "../../components/monitoring";
import { FakeNotify, Receiver, SCRIPT_TOOLS, closedPort, failEachTestWithout, removeTempDirs, run, scriptEnv, tempDir, writeExecutable } from "./helpers";

const DAY = 86400;
const TRUENAS_KEY = "1-apikeyapikeyapikeyapikey";

let pbs: PbsTestServer;
let nas: TruenasTestServer;
let hc: Receiver;
let notify: FakeNotify;
let dir: string;

/** An independent least-squares projection, floored, as the check must compute it. */
function expectedDays(points: [number, number][], current: number): number {
  const n = points.length;
  const mt = points.reduce((a, p) => a + p[0], 0) / n;
  const mf = points.reduce((a, p) => a + p[1], 0) / n;
  const sxy = points.reduce((a, p) => a + (p[0] - mt) * (p[1] - mf), 0);
  const sxx = points.reduce((a, p) => a + (p[0] - mt) ** 2, 0);
  return Math.floor((1 - current) / (sxy / sxx) / DAY);
}

function layout(name: string): CheckLayout {
  const root = tempDir(name);
  return {
    scriptPath: join(root, "check-capacity"),
    envFile: join(root, "capacity.env"),
    stateDir: join(root, "state"),
    notify: notify.path,
    truenasQuery: join(root, "truenas-query"),
    unitDir: join(root, "units"),
  };
}

function pbsEndpoint(overrides: Partial<CapacitySpec["pbs"]> = {}): CapacitySpec["pbs"] {
  return { host: "127.0.0.1", port: pbs.port, fingerprint: pbs.fingerprint, tokenId: pbs.tokenId, ...overrides };
}

function nasEndpoint(overrides: Partial<NonNullable<CapacitySpec["truenas"]>> = {}): NonNullable<CapacitySpec["truenas"]> {
  return { host: "127.0.0.1", port: Number(new URL(nas.url.replace("wss", "https")).port), fingerprint: nas.cert?.fingerprint, username: "admin", ...overrides };
}

/** Writes the check like the deploy step does and returns a runner for it. */
function install(l: CheckLayout, spec: CapacitySpec, secrets: { pbs?: string; truenas?: string } = {}): () => ReturnType<typeof run> {
  writeExecutable(l.scriptPath, renderCapacityScript(resolveCapacitySpec(spec), l));
  writeExecutable(l.truenasQuery, TRUENAS_QUERY_SCRIPT);
  writeFileSync(l.envFile, renderCapacityEnv(secrets.pbs ?? pbs.tokenSecret, spec.truenas ? (secrets.truenas ?? TRUENAS_KEY) : undefined), { mode: 0o600 });
  return () => run(l.scriptPath, [], { env: scriptEnv() });
}

function history(now: number, days: number, first: number, perDay: number) {
  const start = now - days * DAY;
  const values = Array.from({ length: days + 1 }, (_, i) => first + perDay * i);
  return { values, start, points: values.map((v, i) => [start + i * DAY, v] as [number, number]) };
}

describe("capacity check against the API test servers", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout([...SCRIPT_TOOLS, "python3"]);
  const now = Math.floor(Date.now() / 1000);
  const growing = history(now, 10, 0.75, 0.01);
  const fast = history(now, 10, 0.405, 0.02);

  before(async () => {
    if (!ready) return;
    dir = tempDir("capacity");
    notify = new FakeNotify(join(dir, "bin"));
    pbs = await PbsTestServer.start();
    nas = await TruenasTestServer.start();
    hc = await Receiver.start();
    for (const name of ["critical", "homelab", "scratch", "nearly-full"]) pbs.state.datastores.set(name, { name, path: `/backup/${name}` });
    // 85.5 % now, growing a point a day for ten days: above 80 %, full in about two weeks.
    pbs.setUsage("critical", { total: 1000e9, used: 855e9, history: growing.values, historyStart: growing.start, historyDelta: DAY });
    // 40 % and flat: no alert, no projection.
    pbs.setUsage("homelab", { total: 2000e9, used: 800e9, history: Array(11).fill(0.4), historyStart: growing.start, historyDelta: DAY });
    // 60.5 % but two points a day: full within the 30-day horizon while under the threshold.
    pbs.setUsage("scratch", { total: 500e9, used: 302.5e9, history: [...fast.values.slice(0, 3), null, ...fast.values.slice(4)], historyStart: fast.start, historyDelta: DAY });
    pbs.setUsage("nearly-full", { total: 100e9, used: 96e9 });
  });
  after(async () => {
    await pbs?.close();
    await nas?.close();
    await hc?.close();
    removeTempDirs();
  });

  it("alerts above 80 % with the days until full, errors above 95 %, warns on a fast trend, leaves a healthy store alone", async () => {
    notify.clear();
    hc.requests.length = 0;
    const l = layout("all");
    const r = await install(l, { pbs: pbsEndpoint(), healthcheckUrl: `${hc.url}/ping/capacity/` })();
    assert.equal(r.code, 0, r.stderr);
    const calls = notify.calls();
    assert.ok(calls.every((c) => c.argc === 3), "three arguments per call");
    const by = (store: string) => calls.filter((c) => c.title.startsWith(`PBS datastore ${store} `));

    const days = expectedDays(growing.points, 0.855);
    assert.equal(days, 14);
    assert.deepEqual(by("critical").map((c) => [c.severity, c.title]), [["warning", "PBS datastore critical is 85 % full"]]);
    assert.equal(
      by("critical")[0]?.body,
      `PBS datastore critical is 85 % full (855 of 1000 GB used, threshold 80 %). At the trend of the last 10 days it is full in ${days} days.`,
    );
    assert.deepEqual(by("nearly-full").map((c) => [c.severity, c.title]), [["error", "PBS datastore nearly-full is 96 % full"]]);
    assert.match(by("nearly-full")[0]?.body ?? "", /no days-until-full projection/);
    const scratchDays = expectedDays(fast.points.filter((_, i) => i !== 3), 0.605);
    assert.equal(scratchDays, 19);
    assert.deepEqual(by("scratch").map((c) => [c.severity, c.title]), [["warning", `PBS datastore scratch fills up in ${scratchDays} days`]]);
    assert.deepEqual(by("homelab"), []);
    assert.match(r.stdout, /PBS datastore homelab is 40 % full \(800 of 2000 GB used, threshold 80 %\)\. It is not growing/);
    assert.equal(calls.length, 3);

    assert.deepEqual(hc.paths(), ["POST /ping/capacity/start", "POST /ping/capacity"]);
    assert.equal(hc.requests[1]?.body, "3 alert(s)");
    const asked = pbs.seen("GET").map((q) => q.path);
    assert.ok(asked.includes("/status/datastore-usage"));
    assert.ok(pbs.seen("GET").every((q) => q.authorization === `PBSAPIToken=${pbs.tokenId}:${pbs.tokenSecret}`));
  });

  it("repeats an open alert only after repeatHours, says when it clears, and alerts again on a new severity", async () => {
    const l = layout("repeat");
    const check = install(l, { pbs: pbsEndpoint(), datastores: ["critical"] });
    notify.clear();
    assert.equal((await check()).code, 0);
    assert.equal(notify.calls().length, 1);
    const again = await check();
    assert.equal(again.code, 0);
    assert.equal(notify.calls().length, 1, "not repeated within 24 h");
    assert.match(again.stdout, /already notified/);

    // Past the repeat interval (the state file records when it was sent).
    writeFileSync(join(l.stateDir, "alert.datastore-critical"), `warning ${now - 25 * 3600}\n`);
    await check();
    assert.equal(notify.calls().length, 2);

    pbs.setUsage("critical", { total: 1000e9, used: 970e9 });
    await check();
    assert.deepEqual(notify.calls()[2]?.severity, "error", "warning to error is news");

    pbs.setUsage("critical", { total: 1000e9, used: 500e9, history: Array(11).fill(0.5), historyStart: growing.start, historyDelta: DAY });
    await check();
    assert.deepEqual(notify.calls().slice(3).map((c) => [c.severity, c.title]), [["info", "PBS datastore critical is back to 50 % used"]]);
    await check();
    assert.equal(notify.calls().length, 4, "resolved once");
    pbs.setUsage("critical", { total: 1000e9, used: 855e9, history: growing.values, historyStart: growing.start, historyDelta: DAY });
  });

  it("alerts on a datastore it cannot see, and on an unreachable PBS, failing the run", async () => {
    notify.clear();
    hc.requests.length = 0;
    const missing = await install(layout("missing"), { pbs: pbsEndpoint(), datastores: ["critical", "gone"] })();
    assert.equal(missing.code, 1);
    assert.deepEqual(notify.calls().filter((c) => c.title === "Datastore gone is missing").map((c) => c.severity), ["error"]);
    assert.match(notify.calls().find((c) => c.title === "Datastore gone is missing")?.body ?? "", /lacks the DatastoreAudit role on \/datastore\/gone/);

    notify.clear();
    const port = await closedPort();
    const down = await install(layout("down"), { pbs: pbsEndpoint({ port }), healthcheckUrl: `${hc.url}/ping/capacity` })();
    assert.equal(down.code, 1);
    assert.deepEqual(notify.calls().map((c) => [c.severity, c.title, c.body]), [["error", "Capacity check cannot read PBS", `PBS at 127.0.0.1:${port} is unreachable: Connection refused`]]);
    assert.deepEqual(hc.paths(), ["POST /ping/capacity/start", "POST /ping/capacity/fail"]);
  });

  it("never sends the token to a server with another certificate", async () => {
    notify.clear();
    pbs.clearLog();
    const wrong = TruenasTestServer.otherFingerprint();
    const r = await install(layout("pin"), { pbs: pbsEndpoint({ fingerprint: wrong }) })();
    assert.equal(r.code, 1);
    const [call] = notify.calls();
    assert.equal(call?.title, "Capacity check cannot read PBS");
    assert.match(call?.body ?? "", new RegExp(`has SHA-256 fingerprint ${pbs.fingerprint}, but ${wrong} is pinned; refusing to send the token`));
    assert.deepEqual(pbs.requests, [], "no HTTP request reached the server");
  });

  it("checks TrueNAS pools through pool.query: usage against the threshold with the trend from its own samples, and pool health", async () => {
    nas.pools.set("tank", { size: 10e12, allocated: 9.05e12 });
    nas.pools.set("backup", { size: 4e12, allocated: 1e12, status: "DEGRADED" });
    nas.pools.set("boot-pool", { size: 100e9, allocated: 10e9 });
    const l = layout("pools");
    const check = install(l, { pbs: pbsEndpoint(), datastores: ["homelab"], truenas: nasEndpoint({ pools: ["tank", "backup"] }) });
    // The check records one sample per run; earlier runs left these.
    const seeded: [number, number][] = [[now - 10 * DAY, 0.805], [now - 5 * DAY, 0.855]];
    mkdirSync(l.stateDir, { recursive: true });
    writeFileSync(join(l.stateDir, "pool-tank.samples"), seeded.map(([t, f]) => `${t} ${f}\n`).join(""));
    notify.clear();
    const r = await check();
    assert.equal(r.code, 0, r.stderr);
    const days = expectedDays([...seeded, [now, 0.905]], 0.905);
    assert.equal(days, 9);
    assert.deepEqual(
      notify.calls().map((c) => [c.severity, c.title, c.body]),
      [
        ["warning", "TrueNAS pool tank is 90 % full", `TrueNAS pool tank is 90 % full (9050 of 10000 GB used, threshold 80 %). At the trend of the last 10 days it is full in ${days} days.`],
        ["error", "TrueNAS pool backup is DEGRADED", "TrueNAS reports pool backup as DEGRADED (healthy: false)."],
      ],
    );
    assert.ok(!(r.stdout + r.stderr).includes(TRUENAS_KEY));
    assert.ok(nas.calls.includes("pool.query"));
  });

  it("sends the TrueNAS API key to the pinned certificate only, and says when the key is refused", async () => {
    const logins = nas.stats.logins;
    const received = nas.received.length;
    notify.clear();
    const pinned = await install(layout("nas-pin"), { pbs: pbsEndpoint(), datastores: ["homelab"], truenas: nasEndpoint({ fingerprint: TruenasTestServer.otherFingerprint() }) })();
    assert.equal(pinned.code, 1);
    const [call] = notify.calls();
    assert.equal(call?.title, "Capacity check cannot read TrueNAS");
    assert.match(call?.body ?? "", /truenas-query: the certificate of TrueNAS at 127\.0\.0\.1:\d+ has SHA-256 fingerprint [0-9A-F:]{95}, but [0-9A-F:]{95} is pinned; refusing to send the API key/);
    assert.equal(nas.stats.logins, logins, "no login attempt");
    assert.ok(nas.received.slice(received).every((m) => !m.includes(TRUENAS_KEY.slice(2))), "the key never reached the server");

    notify.clear();
    const refused = await install(layout("nas-key"), { pbs: pbsEndpoint(), datastores: ["homelab"], truenas: nasEndpoint() }, { truenas: "1-wrongkeywrongkeywrong" })();
    assert.equal(refused.code, 1);
    assert.match(notify.calls()[0]?.body ?? "", /TrueNAS refused the API key of user admin \(AUTH_ERR\)/);
    assert.ok(!(refused.stdout + refused.stderr).includes("wrongkey"));
  });
});
