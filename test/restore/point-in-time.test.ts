/**
 * Point in time: the newest point at or before a time, from PBS or, when PBS has pruned it, from
 * a TrueNAS replica snapshot that still holds it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseCalendarEvent } from "../../config/calendar";
import { chooseAt, chooseLatest, lastFinishedRun, type ReplicaLookup } from "../../restore/point-in-time";
import type { RestorePoint } from "../../restore/points";
import { lookupReplica } from "../../restore/replica";
import type { PveTestServer } from "../fixtures/pve-server";
import { TruenasTestServer } from "../fixtures/truenas-server";
import { cliEnv, CRITICAL, HOUR, runCli, runInProcess, stackDir, startCluster } from "./harness";

const hourly = { schedule: parseCalendarEvent("*-*-* *:00"), intervalMinutes: 60, expectedDurationMinutes: 25 };
const t = (iso: string): Date => new Date(iso);
const DATASET = "tank/replica/critical";

/** What PBS keeps after pruning: hourly for the last day, one a day (23:00) before that. */
function pbsTimes(): Date[] {
  const out: Date[] = [];
  for (let h = 0; h < 24; h++) out.push(new Date(t("2026-11-27T06:00:00Z").getTime() + h * HOUR));
  for (let d = 20; d <= 26; d++) out.push(t(`2026-11-${d}T23:00:00Z`));
  return out;
}

function point(time: Date, extra: Partial<RestorePoint> = {}): RestorePoint {
  const iso = time.toISOString().replace(/\.\d{3}Z$/, "Z");
  return { volid: `${CRITICAL}:backup/vm/101/${iso}`, vmid: 101, ctime: time.getTime() / 1000, size: 1, protected: false, encrypted: true, storage: CRITICAL, time, ...extra };
}

const points = (times: Date[]): RestorePoint[] => times.map((d) => point(d)).sort((a, b) => b.time.getTime() - a.time.getTime());

const snapshots = (...names: string[]): ReplicaLookup => ({
  ok: true,
  dataset: DATASET,
  snapshots: names.map((n) => {
    const m = /(\d{4})-(\d\d)-(\d\d)_(\d\d)-(\d\d)/.exec(n)!;
    return { name: `${DATASET}@${n}`, createdAt: new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!)) };
  }),
});

describe("choosing the copy for a point in time", () => {
  it("takes the replica snapshot first taken after a run PBS has pruned", async () => {
    const choice = await chooseAt(hourly, points(pbsTimes()), t("2026-11-25T14:10:00Z"), async () =>
      snapshots("auto-2026-11-27_05-31", "auto-2026-11-25_05-31", "auto-2026-11-26_05-31"),
    );
    assert.equal(choice.copy, "replica");
    if (choice.copy !== "replica") return;
    assert.equal(choice.run.toISOString(), "2026-11-25T13:00:00.000Z", "the 14:00 run was still going at 14:10");
    assert.equal(choice.snapshot.name, `${DATASET}@auto-2026-11-26_05-31`);
    assert.equal(choice.pbsFallback?.time.toISOString(), "2026-11-24T23:00:00.000Z");
    assert.match(choice.why, /the 2026-11-25 13:00 UTC run's backup was pruned on PBS \(its newest at or before then is 2026-11-24 23:00 UTC\)/);
  });

  it("stays on PBS when PBS holds the run, without asking the replica", async () => {
    let asked = false;
    const choice = await chooseAt(hourly, points(pbsTimes()), t("2026-11-27T10:40:00Z"), async () => {
      asked = true;
      return snapshots();
    });
    assert.equal(choice.copy, "pbs");
    assert.equal(choice.copy === "pbs" && choice.point.time.toISOString(), "2026-11-27T10:00:00.000Z");
    assert.equal(asked, false);
  });

  it("falls back to PBS's older point, saying why, when the replica cannot be asked or has no later snapshot", async () => {
    const unreachable = await chooseAt(hourly, points(pbsTimes()), t("2026-11-25T14:10:00Z"), async () => ({ ok: false, dataset: DATASET, why: "TRUENAS_API_KEY is not set" }));
    assert.equal(unreachable.copy === "pbs" && unreachable.point.time.toISOString(), "2026-11-24T23:00:00.000Z");
    assert.match(unreachable.notes.join("\n"), /replica tank\/replica\/critical not consulted: TRUENAS_API_KEY is not set/);
    const tooEarly = await chooseAt(hourly, points(pbsTimes()), t("2026-11-25T14:10:00Z"), async () => snapshots("auto-2026-11-25_05-31"));
    assert.equal(tooEarly.copy, "pbs");
    assert.match(tooEarly.notes.join("\n"), /no snapshot from after 2026-11-25 13:25 UTC/);
  });

  it("does not look for a run that left no backup and none after it (the job did not run)", async () => {
    let asked = false;
    const stopped = points(pbsTimes().filter((d) => d <= t("2026-11-24T23:00:00Z")));
    const choice = await chooseAt(hourly, stopped, t("2026-11-25T14:10:00Z"), async () => {
      asked = true;
      return snapshots("auto-2026-11-26_05-31");
    });
    assert.equal(choice.copy === "pbs" && choice.point.time.toISOString(), "2026-11-24T23:00:00.000Z");
    assert.match(choice.notes.join("\n"), /never ran or failed/);
    assert.equal(asked, false);
  });

  it("never picks a point whose verification failed", () => {
    const list = points(pbsTimes());
    list[0] = { ...list[0]!, verification: "failed" };
    const choice = chooseLatest(list);
    assert.equal(choice.copy === "pbs" && choice.point.time.toISOString(), "2026-11-28T04:00:00.000Z");
    assert.match(choice.notes.join("\n"), /skipped .*2026-11-28T05:00:00Z: its last verification failed/);
  });

  it("counts a run as made only once it had time to finish", () => {
    assert.equal(lastFinishedRun(hourly, t("2026-11-25T14:25:00Z"))?.toISOString(), "2026-11-25T14:00:00.000Z");
    assert.equal(lastFinishedRun(hourly, t("2026-11-25T14:24:00Z"))?.toISOString(), "2026-11-25T13:00:00.000Z");
    const weekly = { schedule: parseCalendarEvent("Sun *-*-* 03:00"), intervalMinutes: 10080, expectedDurationMinutes: 60 };
    assert.equal(lastFinishedRun(weekly, t("2026-11-25T14:10:00Z"))?.toISOString(), "2026-11-22T03:00:00.000Z");
  });
});

describe("point in time from the command line", () => {
  let pve: PveTestServer;
  let nas: TruenasTestServer;
  let dir: string;
  const apiKey = "1-restoretestkeyrestoretestkey";

  before(async () => {
    pve = await startCluster();
    for (const time of pbsTimes()) pve.addBackup({ vmid: 101, storage: CRITICAL, time, verification: "ok" });
    nas = await TruenasTestServer.start({ users: { admin: apiKey }, datasets: ["tank", "tank/replica", DATASET] });
    for (const day of [25, 26, 27]) nas.addSnapshot(DATASET, `auto-2026-11-${day}_05-31`, t(`2026-11-${day}T05:31:00Z`));
    nas.addSnapshot("tank/replica/homelab", "auto-2026-11-26_05-05", t("2026-11-26T05:05:00Z"));
    dir = stackDir(pve, { truenasFingerprint: nas.cert!.fingerprint });
  });
  after(async () => {
    await pve.close();
    await nas.close();
  });

  const env = (): Record<string, string> => cliEnv(pve, { TRUENAS_URL: nas.url, TRUENAS_API_KEY: apiKey, XDG_STATE_HOME: dir });

  it("reads the replica's snapshots with their ZFS creation times, and reports a refused key without quoting it", async () => {
    const access = { url: nas.url, username: "admin", apiKey, fingerprint: nas.cert!.fingerprint };
    const found = await lookupReplica(access, DATASET);
    assert.ok(found.ok);
    assert.deepEqual(
      found.snapshots.map((s) => [s.name, s.createdAt.toISOString()]).sort(),
      [25, 26, 27].map((d) => [`${DATASET}@auto-2026-11-${d}_05-31`, `2026-11-${d}T05:31:00.000Z`]),
      "only the datastore's own replica",
    );
    const refused = await lookupReplica({ ...access, apiKey: "1-wrongwrongwrongwrongwrong" }, DATASET);
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? "" : refused.why, /TrueNAS refused the API key for user "admin"/);
    assert.doesNotMatch(refused.ok ? "" : refused.why, /wrongwrong/);
  });

  it("says the point is on the replica only, prints the mount steps, and changes nothing", async () => {
    const result = await runCli(
      ["--stack", "homelab", "--service", "database-vms", "--guest", "101", "--at", "2026-11-25 14:10", "--target", "in-place", "--yes"],
      { cwd: dir, env: env() },
    );
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stdout, /Reading from: the TrueNAS replica, not PBS\. Why: .*replica snapshot tank\/replica\/critical@auto-2026-11-26_05-31 from 2026-11-26 05:31 UTC was taken after that run ended/);
    assert.match(result.stdout, /zfs clone tank\/replica\/critical@auto-2026-11-26_05-31 tank\/restore-critical\n/);
    assert.match(result.stdout, /proxmox-backup-manager datastore update restore-critical --maintenance-mode type=read-only/);
    assert.match(result.stdout, /--guest 101 --storage restore-critical --at 2026-11-25T13:25:00Z/);
    // PVE's token rotates by epoch name: the steps read the storage's current one, never a guessed name.
    assert.match(result.stdout, /--auth-id "\$TOKEN" +# TOKEN: on a PVE node, pvesh get \/storage\/pbs-backup-critical --output-format json \| jq -r \.username/);
    assert.match(result.stdout, /--username "\$\(pvesh get \/storage\/pbs-backup-critical --output-format json \| jq -r \.username\)"/);
    assert.doesNotMatch(result.stdout, /pve-backup@pbs!pve-critical/);
    assert.match(result.stdout, /Or restore the newest point PBS holds now, 2026-11-24 23:00 UTC: --at 2026-11-24T23:00:00Z/);
    assert.deepEqual(pve.mutatingRequests(), []);
    assert.ok(nas.calls.some((m) => /snapshot\.query$/.test(m)), nas.calls.join(","));
  });

  it("reads PBS when it holds the point, without contacting the NAS", async () => {
    const connections = nas.stats.connections;
    const result = await runInProcess(
      ["--stack", "homelab", "--service", "database-vms", "--guest", "101", "--at", "2026-11-27T10:40:00Z", "--target", "new", "--dry-run"],
      { cwd: dir, env: env() },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Reading from: PBS, pbs-backup-critical:backup\/vm\/101\/2026-11-27T10:00:00Z\. Why: PBS holds the newest backup at or before 2026-11-27 10:40 UTC/);
    assert.equal(nas.stats.connections, connections);
  });
});
