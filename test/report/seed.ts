/**
 * A month of a realistic homelab, seeded into the PBS and TrueNAS test servers, with the stack
 * file (Pulumi.homelab.yaml pointed at them) and a restore-test log. What is wrong in it is
 * deliberate and the tests name it:
 * - file-server's last three hourly runs failed ("finished flag"), so it is stale at NOW;
 * - database-vms' vm/102 failed twice in the last week on a locked group;
 * - docker-volumes' runs doubled to 24 min half-way through the last week (expected 20);
 * - application-vms' vm/131 missed 2026-11-27's run, vm/130 warned on 2026-11-25, and a
 *   verification of vm/131 failed; its datastore's replication to TrueNAS errors;
 * - homelab's GC failed on 2026-11-25 and its Saturday verify job failed;
 * - homelab fills at 0.5 points a day (80 % within days), critical at 0.25 (within months);
 * - the restore log has two bad lines, a test over its RTO, two failures (one before any service
 *   was picked) and another site's test.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { PbsTestServer } from "../fixtures/pbs-server";
import { TruenasTestServer } from "../fixtures/truenas-server";

export const ROOT = join(__dirname, "..", "..");
/** Saturday 2026-11-28 08:00 UTC. */
export const NOW = Date.UTC(2026, 10, 28, 8) / 1000;
export const NOW_ISO = "2026-11-28T08:00:00Z";
export const HOUR = 3600;
export const DAY = 86_400;
export const TRUENAS_KEY = "1-reportkeyreportkeyreportkey";
export const TIB = 1024 ** 4;

const at = (iso: string) => Date.parse(iso) / 1000;
const min = (m: number) => m * 60;

export const LOCKED = 'unable to acquire lock on backup group directory "/backup/critical/vm/102" - another backup is already running';
export const UNFINISHED = "backup ended but finished flag is not set.";
export const GC_EROFS = 'update atime failed for chunk/file "/backup/homelab/.chunks/3f2a/3f2a9c0d" - EROFS: Read-only file system';
export const VERIFY_FAILED = "verification failed - please check the log for details";
export const REPLICATION_ERROR = "No incremental base on dataset 'backup/homelab' and replication from scratch is not allowed";

interface Job {
  guests: { id: number; minutes: (firing: number) => number; name?: string }[];
  store: string;
  ns: string;
  service: string;
  tier: string;
  firings: number[];
  /** guest id → firing → PBS status; default OK. */
  status?: (guest: number, firing: number) => string | "missed";
  /** Seconds of history kept as snapshots: every run newer than this, one a day before. */
  hourlyKeep?: number;
}

function hourly(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(from / HOUR) * HOUR; t < to; t += HOUR) out.push(t);
  return out;
}

function seedJob(pbs: PbsTestServer, job: Job): void {
  for (const firing of job.firings) {
    let start = firing + 5;
    for (const g of job.guests) {
      const status = job.status?.(g.id, firing) ?? "OK";
      if (status === "missed") continue;
      const end = start + min(g.minutes(firing));
      pbs.addTask({ type: "backup", id: `${job.store}:${job.ns ? `${job.ns}/` : ""}vm/${g.id}`, start, end, status, user: "pve-backup@pbs!pve-" + job.store });
      const keep = job.hourlyKeep === undefined || firing >= NOW - job.hourlyKeep || new Date(firing * 1000).getUTCHours() === 0;
      if (status === "OK" || status.startsWith("WARNINGS")) {
        if (keep) {
          pbs.addSnapshot(job.store, {
            ...(job.ns ? { ns: job.ns } : {}),
            "backup-type": "vm",
            "backup-id": String(g.id),
            "backup-time": start,
            size: 20e9 + g.id * 1e6,
            ...(g.name ? { comment: `${g.name} · service ${job.service} · tier ${job.tier}` } : {}),
            verification: { state: "ok", upid: "UPID:pbs-test:verify" },
          });
        }
      }
      start = end + 10;
    }
  }
}

export function seedPbs(pbs: PbsTestServer): void {
  for (const name of ["critical", "homelab"]) pbs.state.datastores.set(name, { name, path: `/backup/${name}` });
  const from = NOW - 35 * DAY;
  const allHours = hourly(from, NOW);
  const half = NOW - 3.5 * DAY;
  seedJob(pbs, {
    store: "critical", ns: "", service: "database-vms", tier: "critical", firings: allHours, hourlyKeep: DAY,
    guests: [{ id: 101, minutes: () => 6, name: "db01" }, { id: 102, minutes: () => 5, name: "db02" }],
    status: (g, f) => (g === 102 && (f === at("2026-11-24T13:00:00Z") || f === at("2026-11-26T21:00:00Z")) ? LOCKED : "OK"),
  });
  seedJob(pbs, {
    // No notes: the configured VM id is what places these.
    store: "critical", ns: "", service: "file-server", tier: "critical", firings: allHours, hourlyKeep: DAY,
    guests: [{ id: 110, minutes: () => 8 }],
    status: (_g, f) => (f >= at("2026-11-28T05:00:00Z") ? UNFINISHED : "OK"),
  });
  seedJob(pbs, {
    store: "critical", ns: "", service: "docker-volumes", tier: "critical", firings: allHours, hourlyKeep: DAY,
    guests: [{ id: 120, minutes: (f) => (f >= half ? 24 : 12), name: "docker01" }],
  });
  const daily = allHours.filter((t) => new Date(t * 1000).getUTCHours() === 2);
  seedJob(pbs, {
    store: "homelab", ns: "important", service: "application-vms", tier: "important", firings: daily,
    guests: [{ id: 130, minutes: () => 40, name: "web01" }, { id: 131, minutes: () => 30, name: "app01" }],
    status: (g, f) => (g === 131 && f === at("2026-11-27T02:00:00Z") ? "missed" : g === 130 && f === at("2026-11-25T02:00:00Z") ? "WARNINGS: 1" : "OK"),
  });
  const sundays = allHours.filter((t) => new Date(t * 1000).getUTCDay() === 0 && new Date(t * 1000).getUTCHours() === 3);
  seedJob(pbs, { store: "homelab", ns: "archive", service: "development-vms", tier: "archive", firings: sundays, guests: [{ id: 140, minutes: () => 50, name: "dev01" }] });
  seedJob(pbs, {
    store: "homelab", ns: "archive", service: "archives", tier: "archive",
    firings: [at("2026-10-04T04:00:00Z"), at("2026-11-01T04:00:00Z")], guests: [{ id: 150, minutes: () => 35, name: "arch01" }],
  });
  // A failed verification of one application snapshot, and a guest no service claims.
  const bad = pbs.state.snapshots.get("homelab")?.find((s) => s["backup-id"] === "131" && s["backup-time"] === at("2026-11-20T02:00:00Z") + 5 + min(40) + 10);
  if (!bad) throw new Error("seed: the vm/131 snapshot to fail verification is missing");
  bad.verification = { state: "failed", upid: "UPID:pbs-test:verify" };
  pbs.addSnapshot("homelab", { ns: "archive", "backup-type": "vm", "backup-id": "199", "backup-time": at("2026-11-15T12:00:00Z") });

  for (let d = Math.floor((NOW - 35 * DAY) / DAY) * DAY; d < NOW; d += DAY) {
    const m = (h: number, mm: number) => d + h * HOUR + mm * 60;
    pbs.addTask({ type: "prunejob", id: "critical:prune-critical", start: m(5, 35), end: m(5, 36) });
    pbs.addTask({ type: "prunejob", id: "homelab:prune-homelab-important", start: m(5, 15), end: m(5, 16) });
    pbs.addTask({ type: "prunejob", id: "homelab:prune-homelab-archive", start: m(5, 15), end: m(5, 16) });
    pbs.addTask({ type: "garbage_collection", id: "critical", start: m(5, 40), end: m(5, 52) });
    pbs.addTask({ type: "garbage_collection", id: "homelab", start: m(5, 45), end: m(6, 5), status: d === at("2026-11-25T00:00:00Z") ? GC_EROFS : "OK" });
    if (new Date(d * 1000).getUTCDay() === 6) {
      pbs.addTask({ type: "verificationjob", id: "critical:verify-critical", start: m(6, 35), end: m(6, 55) });
      pbs.addTask({ type: "verificationjob", id: "homelab:verify-homelab", start: m(7, 0), end: m(7, 40), status: d === at("2026-11-28T00:00:00Z") ? VERIFY_FAILED : "OK" });
    }
  }
  // A restore (PBS "reader") is not a backup job and must not count as one.
  pbs.addTask({ type: "reader", id: "critical:vm/110", start: at("2026-11-27T10:00:00Z"), end: at("2026-11-27T10:20:00Z"), status: "connection reset" });

  // RRD history: a sample every 6 h for 35 days, with a small wobble and one gap.
  const delta = 6 * HOUR;
  const start = NOW - 35 * DAY;
  const series = (base: number, perDay: number) =>
    Array.from({ length: 140 }, (_, i) => (i === 70 ? null : base + perDay * ((i * delta) / DAY) + (i % 2 ? 0.001 : -0.001)));
  const critical = series(0.45, 0.0025);
  const homelab = series(0.6, 0.005);
  pbs.setUsage("critical", { total: 2 * TIB, used: Math.round((critical[139] as number) * 2 * TIB), history: critical, historyStart: start, historyDelta: delta });
  pbs.setUsage("homelab", { total: 4 * TIB, used: Math.round((homelab[139] as number) * 4 * TIB), history: homelab, historyStart: start, historyDelta: delta });
}

type Handler = (params: unknown[]) => unknown;

export function seedTruenas(nas: TruenasTestServer): void {
  nas.pools.set("tank", { size: 16 * TIB, allocated: 9 * TIB });
  const base = { direction: "PULL", transport: "SSH", ssh_credentials: null, periodic_snapshot_tasks: [], recursive: false, auto: true, retention_policy: "CUSTOM", enabled: true };
  nas.replications.set(1, { id: 1, name: "truenas-critical", source_datasets: ["backup/critical"], target_dataset: "tank/replica/critical", ...base });
  nas.replications.set(2, { id: 2, name: "truenas-homelab", source_datasets: ["backup/homelab"], target_dataset: "tank/replica/homelab", ...base });
  nas.replicationStates.set(1, { state: "SUCCESS", datetime: new Date("2026-11-28T06:40:00Z"), lastSnapshot: "backup/critical@pbs-2026-11-28_05-31" });
  nas.replicationStates.set(2, { state: "ERROR", datetime: new Date("2026-11-28T06:30:00Z"), error: REPLICATION_ERROR });
  nas.snapshots.set("tank/replica/critical", [
    { name: "pbs-2026-11-27_05-31", created: new Date("2026-11-27T06:41:00Z") },
    { name: "pbs-2026-11-28_05-31", created: new Date("2026-11-28T06:41:00Z") },
  ]);
  nas.snapshots.set("tank/replica/homelab", [{ name: "pbs-2026-11-20_05-05", created: new Date("2026-11-20T06:31:00Z") }]);
  // The fixture answers every cloud sync with `job: null` (never ran); TrueNAS reports the last
  // job there, so this handler stands in until the fixture can be seeded with one.
  const handlers = (nas as unknown as { handlers: Record<string, Handler> }).handlers;
  handlers["cloudsync.query"] = () => [
    {
      id: 7, description: "truenas offsite off-site copy", path: "/mnt/tank/replica/critical", direction: "PUSH", transfer_mode: "COPY", enabled: true,
      job: { id: 77, method: "cloudsync.sync", state: "SUCCESS", time_started: { $date: Date.parse("2026-11-01T04:00:00Z") }, time_finished: { $date: Date.parse("2026-11-01T09:12:00Z") }, error: null },
    },
  ];
}

export const RESTORE_LOG = [
  { ts: "2026-11-07T10:00:00Z", kind: "monthly", site: "homelab", service: "file-server", tier: "critical", guest: 110, guestType: "qemu", volid: "pbs-critical:backup/vm/110/2026-11-07T00:00:05Z", backupTime: "2026-11-07T00:00:05Z", scratchVmid: 9001, restoreSeconds: 2400, bootSeconds: 90, totalSeconds: 2900, rtoSeconds: 3600, result: "pass" },
  { ts: "2026-11-08T05:00:00Z", kind: "database", site: "homelab", service: "database-vms", agent: "db01", engine: "postgresql", database: "all", archive: "db01-2026-11-08T02:00:00", restoreSeconds: 380, totalSeconds: 420, rtoSeconds: 3600, result: "pass" },
  "{not json",
  { ts: "2026-11-15T10:00:00Z", kind: "monthly", site: "homelab", service: "application-vms", tier: "important", guest: 130, guestType: "qemu", volid: "pbs-homelab-important:backup/vm/130/2026-11-15T02:00:05Z", backupTime: "2026-11-15T02:00:05Z", scratchVmid: 9002, restoreSeconds: 1800, bootSeconds: null, totalSeconds: null, rtoSeconds: 14400, result: "fail", reason: "guest did not answer on port 443 within 600 s" },
  { ts: "2026-11-20T03:00:00Z", kind: "weekly", site: "homelab", service: "docker-volumes", tier: "critical", guest: 120, guestType: "qemu", volid: "pbs-critical:backup/vm/120/2026-11-20T02:00:05Z", backupTime: "2026-11-20T02:00:05Z", scratchVmid: 9003, restoreSeconds: 3700, bootSeconds: 300, totalSeconds: 4000, rtoSeconds: 3600, result: "pass" },
  { ts: "2026-11-23T03:00:00Z", kind: "weekly", site: "homelab", service: "database-vms", tier: "critical", guest: 101, guestType: "qemu", volid: "pbs-critical:backup/vm/101/2026-11-23T02:00:05Z", backupTime: "2026-11-23T02:00:05Z", scratchVmid: 9004, restoreSeconds: 1400, bootSeconds: 100, totalSeconds: 1500, rtoSeconds: 3600, result: "pass" },
  { ts: "2026-11-26T03:00:00Z", kind: "weekly", site: "homelab", service: "application-vms", tier: "important", guest: 131, guestType: "qemu", volid: "pbs-homelab-important:backup/vm/131/2026-11-26T02:00:05Z", backupTime: "2026-11-26T02:00:05Z", scratchVmid: 9005, restoreSeconds: 5000, bootSeconds: 400, totalSeconds: 5400, rtoSeconds: 14400, result: "pass" },
  '{"ts":"2026-11-27T03:00:00Z","kind":"weekly","site":"homelab","service":"file-server","tier":"critical","guest":110,"guestType":"qemu","volid":"x","backupTime":"2026-11-27T02:00:05Z","scratchVmid":9006,"restoreSeconds":1,"bootSeconds":1,"totalSeconds":"abc","rtoSeconds":3600,"result":"pass"}',
  { ts: "2026-10-01T10:00:00Z", kind: "monthly", site: "homelab", service: "archives", tier: "archive", guest: 150, guestType: "qemu", volid: "y", backupTime: "2026-09-06T04:00:05Z", scratchVmid: 9007, restoreSeconds: 100, bootSeconds: 10, totalSeconds: 110, rtoSeconds: 86400, result: "pass" },
  // As the restore test writes a failure that happened before it picked a service.
  '{"ts":"2026-11-27T03:00:00Z","kind":"weekly","site":"homelab","service":null,"tier":null,"guest":null,"guestType":null,"volid":null,"backupTime":null,"scratchVmid":9006,"restoreSeconds":0.0,"bootSeconds":0.0,"totalSeconds":0.0,"rtoSeconds":0,"result":"fail","reason":"no backup of any selected service on storage pbs-critical"}',
  { ts: "2026-11-21T10:00:00Z", kind: "monthly", site: "cabin", service: "archives", tier: "archive", guest: 150, guestType: "qemu", volid: "z", backupTime: "2026-11-01T04:00:05Z", scratchVmid: 9008, restoreSeconds: 100, bootSeconds: 10, totalSeconds: 110, rtoSeconds: 86400, result: "pass" },
];

export interface Lab {
  pbs: PbsTestServer;
  nas: TruenasTestServer;
  dir: string;
  stackFile: string;
  restoreLog: string;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** The stack file with PBS and TrueNAS pointed at the test servers; `edit` changes the parsed YAML. */
export function writeStackFile(dir: string, pbs: PbsTestServer, nas: TruenasTestServer, edit: (config: Record<string, unknown>) => void = () => undefined): string {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, unknown> };
  const hosts = doc.config["homelab-backup:hosts"] as { pbs: Record<string, unknown>; truenas: Record<string, unknown> };
  Object.assign(hosts.pbs, { host: "127.0.0.1", port: pbs.port, fingerprint: pbs.fingerprint });
  Object.assign(hosts.truenas, { host: "127.0.0.1", fingerprint: nas.cert?.fingerprint });
  edit(doc.config);
  const path = join(dir, "Pulumi.homelab.yaml");
  writeFileSync(path, stringify(doc));
  return path;
}

export async function startLab(): Promise<Lab> {
  const [pbs, nas] = await Promise.all([PbsTestServer.start(), TruenasTestServer.start({ users: { root: TRUENAS_KEY } })]);
  seedPbs(pbs);
  seedTruenas(nas);
  const dir = mkdtempSync(join(tmpdir(), "report-"));
  const stackFile = writeStackFile(dir, pbs, nas);
  const restoreLog = join(dir, "restore-tests.jsonl");
  writeFileSync(restoreLog, RESTORE_LOG.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  return {
    pbs, nas, dir, stackFile, restoreLog,
    env: { HOMELAB_PBS_TOKEN: `${pbs.tokenId}:${pbs.tokenSecret}`, HOMELAB_TRUENAS_API_KEY: TRUENAS_KEY },
    close: async () => {
      await Promise.all([pbs.close(), nas.close()]);
    },
  };
}

/** The report at NOW for a period, against the lab (TrueNAS through its test URL). */
export async function reportOf(lab: Lab, period: "weekly" | "monthly", overrides: { now?: string; restoreLog?: string; truenasUrl?: string; env?: NodeJS.ProcessEnv } = {}) {
  const { runReport } = await import("../../report/cli");
  return runReport(
    { stackFile: lab.stackFile, period, now: new Date(overrides.now ?? NOW_ISO), restoreLog: overrides.restoreLog ?? lab.restoreLog, truenasUrl: overrides.truenasUrl ?? lab.nas.url },
    overrides.env ?? lab.env,
  );
}
