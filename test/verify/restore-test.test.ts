/**
 * The PVE restore-test script run for real by bash, against stand-ins for qm, pct, qmrestore,
 * pvesm, pvesh and ip that keep state in a temp dir (test/verify/fake-pve.ts). Every test ends
 * by checking that no state-changing command ever named an id outside the scratch range or a
 * production guest.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderRestoreTestScript, SCRATCH_MARK, type RestoreTestScriptOptions } from "../../components/verify";
import { failEachTestWithout, removeTempDirs, run, tempDir } from "../agents/helpers";
import { FakePve } from "./fake-pve";

const STORAGE = "pbs-backup";
const RANGE = { from: 9000, to: 9009 };
const HOUR = 3600_000;

interface GuestLine {
  ts: string;
  kind: string;
  site: string;
  service: string | null;
  tier: string | null;
  guest: number | null;
  guestType: string | null;
  volid: string | null;
  backupTime: string | null;
  scratchVmid: number | null;
  restoreSeconds: number;
  bootSeconds: number;
  totalSeconds: number;
  rtoSeconds: number;
  result: "pass" | "fail";
  reason?: string;
}

const KEYS = ["ts", "kind", "site", "service", "tier", "guest", "guestType", "volid", "backupTime", "scratchVmid", "restoreSeconds", "bootSeconds", "totalSeconds", "rtoSeconds", "result"];

function vmConfig(id: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    agent: "1",
    boot: "order=scsi0",
    cores: "2",
    memory: "2048",
    name: `vm${id}`,
    net0: `virtio=BC:24:11:AA:00:${String(id % 100).padStart(2, "0")},bridge=vmbr0,firewall=1,tag=10`,
    net1: `e1000=BC:24:11:AB:00:${String(id % 100).padStart(2, "0")},bridge=vmbr1`,
    onboot: "1",
    protection: "1",
    scsi0: `local-zfs:vm-${id}-disk-0,size=32G`,
    tags: "prod",
    ...extra,
  };
}

function ctConfig(id: number, tags = "prod"): Record<string, string> {
  return {
    arch: "amd64",
    hostname: `ct${id}`,
    memory: "512",
    net0: `name=eth0,bridge=vmbr0,hwaddr=BC:24:11:CC:00:${String(id % 100).padStart(2, "0")},ip=10.0.0.${id % 250}/24,gw=10.0.0.1,type=veth`,
    onboot: "1",
    ostype: "debian",
    rootfs: `local-zfs:subvol-${id}-disk-0,size=8G`,
    tags,
  };
}

interface World {
  root: string;
  pve: FakePve;
  /** Volids by name, for assertions. */
  v: Record<string, string>;
  /** Ids a test must never see touched: the config's and the runtime-resolved production guests. */
  production: number[];
  options: RestoreTestScriptOptions;
}

/**
 * The seed homelab in miniature: VMs by id, an application pool with a VM and a container, a
 * tagged container and a tagged VM (the tag's service takes containers only), a guest in no
 * service, a backup of a guest that no longer exists, and stale backups.
 */
function world(overrides: Partial<RestoreTestScriptOptions> = {}): World {
  const root = tempDir("verify-pve");
  const pve = new FakePve(root, STORAGE);
  pve.bridge("vmbr99");
  const now = Date.now();
  const at = (h: number) => new Date(now - h * HOUR);
  const guests: [number, "qemu" | "lxc", { pool?: string; tags?: string }][] = [
    [101, "qemu", {}],
    [102, "qemu", {}],
    [110, "qemu", {}],
    [201, "qemu", { pool: "applications" }],
    [202, "lxc", { pool: "applications" }],
    [301, "lxc", { tags: "docker;prod" }],
    [302, "qemu", { tags: "docker" }],
    [400, "qemu", {}],
  ];
  for (const [id, type, extra] of guests) {
    const config = type === "qemu" ? vmConfig(id, extra.tags ? { tags: extra.tags } : {}) : ctConfig(id, extra.tags ?? "prod");
    pve.addGuest(id, { type, config, ...(extra.pool ? { pool: extra.pool } : {}) });
  }
  const v: Record<string, string> = {
    "101-1h": pve.addBackup(STORAGE, "vm", 101, at(1), vmConfig(101)),
    "101-25h": pve.addBackup(STORAGE, "vm", 101, at(25), vmConfig(101)),
    "101-30d": pve.addBackup(STORAGE, "vm", 101, at(720), vmConfig(101)),
    "102-2h": pve.addBackup(STORAGE, "vm", 102, at(2), vmConfig(102)),
    "110-30d": pve.addBackup(STORAGE, "vm", 110, at(720), vmConfig(110)),
    "201-3h": pve.addBackup(STORAGE, "vm", 201, at(3), vmConfig(201)),
    "202-4h": pve.addBackup(STORAGE, "ct", 202, at(4), ctConfig(202)),
    "301-5h": pve.addBackup(STORAGE, "ct", 301, at(5), ctConfig(301, "docker;prod")),
    "302-1h": pve.addBackup(STORAGE, "vm", 302, at(1), vmConfig(302, { tags: "docker" })),
    "400-1h": pve.addBackup(STORAGE, "vm", 400, at(1), vmConfig(400)),
    "500-1h": pve.addBackup(STORAGE, "vm", 500, at(1), vmConfig(500)),
  };
  writeFileSync(join(root, "notify"), `#!/bin/bash\nprintf '%s|%s|%s\\0\\n' "$1" "$2" "$3" >> ${JSON.stringify(join(root, "notify.log"))}\n`);
  chmodSync(join(root, "notify"), 0o755);
  const options: RestoreTestScriptOptions = {
    site: "homelab",
    storage: STORAGE,
    scratchRange: RANGE,
    isolatedBridge: "vmbr99",
    productionVmids: [101, 102, 110],
    services: [
      { service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101, 102], kind: "vm" },
      { service: "application-vms", tier: "important", rtoMinutes: 240, pool: "applications", kind: "auto" },
      { service: "docker", tier: "critical", rtoMinutes: 60, tags: ["docker"], kind: "ct" },
      { service: "file-server", tier: "critical", rtoMinutes: 60, vmids: [110], kind: "vm" },
    ],
    monthlyServices: ["database-vms", "file-server", "application-vms"],
    bootTimeoutSeconds: 5,
    maxBackupAgeHours: 48,
    pollSeconds: 0.1,
    logPath: join(root, "log", "restore-tests.jsonl"),
    stateDir: join(root, "state"),
    notifyCommand: join(root, "notify"),
    ...overrides,
  };
  return { root, pve, v, production: [101, 102, 110, 201, 202, 301, 302, 400], options };
}

function scriptOf(w: World): string {
  const path = join(w.root, "restore-test");
  writeFileSync(path, renderRestoreTestScript(w.options));
  chmodSync(path, 0o755);
  return path;
}

function logLines(w: World): GuestLine[] {
  const path = w.options.logPath as string;
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as GuestLine) : [];
}

function notes(w: World): { level: string; title: string; body: string }[] {
  const path = join(w.root, "notify.log");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\0\n")
    .filter(Boolean)
    .map((n) => {
      const [level, title, ...body] = n.split("|");
      return { level: level ?? "", title: title ?? "", body: body.join("|") };
    });
}

async function runMode(w: World, mode: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const r = await run(scriptOf(w), [mode], { env: w.pve.env({ HOMELAB_RESTORE_TEST_SEED: "7", ...extraEnv }), timeoutMs: 30_000 });
  return { ...r, lines: logLines(w), notes: notes(w) };
}

/** Ids that state-changing calls (restore, set, start, stop, destroy, probes) named. */
function touched(w: World): number[] {
  const ids: number[] = [];
  for (const call of w.pve.calls()) {
    const m =
      /^(?:qm|pct) (?:set|start|stop|destroy|exec|restore) (\d+)/.exec(call) ??
      /^qm guest cmd (\d+)/.exec(call) ??
      /^qmrestore \S+ (\d+)/.exec(call);
    if (m) ids.push(Number(m[1]));
  }
  return ids;
}

function assertOnlyScratchTouched(w: World, alsoProduction: number[] = []): void {
  for (const id of touched(w)) {
    assert.ok(id >= RANGE.from && id <= RANGE.to, `a state-changing call named guest ${id}, outside the scratch range:\n${w.pve.calls().join("\n")}`);
    assert.ok(![...w.production, ...alsoProduction].includes(id), `a state-changing call named production guest ${id}`);
  }
}

function scratchGuests(w: World): number[] {
  return w.pve.guests().filter((id) => id >= RANGE.from && id <= RANGE.to);
}

describe("PVE restore test against fake PVE tools", { timeout: 60_000 }, () => {
  const ready = failEachTestWithout(["bash", "perl", "flock", "timeout"]);
  let current: World | undefined;
  const make = (o: Partial<RestoreTestScriptOptions> = {}) => (current = world(o));
  afterEach(() => {
    if (ready && current) assertOnlyScratchTouched(current);
    current = undefined;
    removeTempDirs();
  });

  it("weekly: picks only recent backups of guests in scope (random guest, then random backup), and tests each", async () => {
    const w = make();
    const eligible = new Set([w.v["101-1h"], w.v["101-25h"], w.v["102-2h"], w.v["201-3h"], w.v["202-4h"], w.v["301-5h"]]);
    const picked = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      const r = await runMode(w, "weekly", { HOMELAB_RESTORE_TEST_SEED: String(seed) });
      assert.equal(r.code, 0, r.stderr);
      const line = r.lines.at(-1) as GuestLine;
      assert.ok(eligible.has(line.volid as string), `seed ${seed} picked ${line.volid}, which is stale or out of scope`);
      assert.equal(line.result, "pass");
      picked.add(line.volid as string);
      assert.deepEqual(scratchGuests(w), [], "the scratch guest is gone");
    }
    assert.equal(logLines(w).length, 4, "one line per run");
    assert.ok(new Set([...picked].map((v) => v.split("/")[2])).size >= 3, `picks spread over guests: ${[...picked].join(", ")}`);
    // Same seed, same pick: the weekly choice is repeatable for a test.
    const again = await runMode(w, "weekly", { HOMELAB_RESTORE_TEST_SEED: "1" });
    assert.equal(again.lines.at(-1)?.volid, logLines(w)[0]?.volid);
  });

  it("restores to the first free scratch id, isolates and marks before the boot, logs the line, destroys it", async () => {
    const w = make({ services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [102], kind: "vm" }], monthlyServices: [] });
    // Someone's own guest sits in the range without the mark: skipped, never touched.
    w.pve.addGuest(9000, { type: "qemu", config: { name: "someone-else", net0: "virtio=BC:24:11:00:90:00,bridge=vmbr0" } });
    const r = await runMode(w, "weekly");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines.length, 1);
    const line = r.lines[0] as GuestLine;
    assert.deepEqual(Object.keys(line), KEYS);
    const { ts, restoreSeconds, bootSeconds, totalSeconds, ...rest } = line;
    assert.deepEqual(rest, {
      kind: "weekly",
      site: "homelab",
      service: "database-vms",
      tier: "critical",
      guest: 102,
      guestType: "qemu",
      volid: w.v["102-2h"],
      backupTime: (w.v["102-2h"] as string).split("/")[3],
      scratchVmid: 9001,
      rtoSeconds: 3600,
      result: "pass",
    });
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(ts) - Date.now()) < 60_000);
    assert.ok(restoreSeconds > 0 && bootSeconds > 0 && Math.abs(totalSeconds - restoreSeconds - bootSeconds) <= 0.11, JSON.stringify(line));

    const starts = w.pve.startConfigs();
    assert.equal(starts.length, 1);
    const [id, config] = starts[0] as [number, Record<string, string>];
    assert.equal(id, 9001);
    assert.equal(config["net0"], "virtio=BC:24:11:00:00:29,firewall=1,bridge=vmbr99,link_down=1", "NIC on the isolated bridge, link down, VLAN tag gone");
    assert.equal(config["net1"], "e1000=BC:24:11:00:00:29,bridge=vmbr99,link_down=1");
    assert.equal(config["tags"], SCRATCH_MARK);
    assert.equal(config["onboot"], "0");
    assert.equal(config["protection"], "0");
    assert.match(config["description"] ?? "", new RegExp(`^${SCRATCH_MARK}: restore test of ${w.v["102-2h"]}`));

    assert.deepEqual(scratchGuests(w), [9000], "scratch guest destroyed, the other guest in the range kept");
    assert.equal(w.pve.config(9000)["name"], "someone-else");
    const calls = w.pve.calls();
    assert.ok(calls.includes(`qmrestore ${w.v["102-2h"]} 9001 --unique 1`), calls.join("\n"));
    assert.ok(calls.includes("qm destroy 9001 --purge 1 --destroy-unreferenced-disks 1"));
    assert.ok(!calls.some((c) => / --force/.test(c) && /restore/.test(c)), "restores never overwrite");
    assert.deepEqual(r.notes.map((n) => [n.level, n.title]), [["info", "homelab-backup restore test (weekly, homelab): pass"]]);
    assert.match(r.notes[0]?.body ?? "", /^database-vms qemu 102 from \S+: pass, restore [\d.]+ s \+ boot [\d.]+ s = [\d.]+ s of RTO 3600 s$/);
  });

  it("monthly: every guest of the named services in turn, containers with pct; a guest without a recent backup fails", async () => {
    const w = make({ targetStorage: "local-zfs" });
    const r = await runMode(w, "monthly");
    assert.equal(r.code, 1, "file-server has only a stale backup");
    assert.deepEqual(
      r.lines.map((l) => [l.service, l.guest, l.guestType, l.volid, l.result, l.scratchVmid]),
      [
        ["database-vms", 101, "qemu", w.v["101-1h"], "pass", 9000],
        ["database-vms", 102, "qemu", w.v["102-2h"], "pass", 9000],
        ["application-vms", 201, "qemu", w.v["201-3h"], "pass", 9000],
        ["application-vms", 202, "lxc", w.v["202-4h"], "pass", 9000],
        ["file-server", 110, "qemu", w.v["110-30d"], "fail", null],
      ],
    );
    assert.match(r.lines[4]?.reason ?? "", /^the latest backup of guest 110 is older than \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(r.lines.every((l) => l.kind === "monthly"));
    const calls = w.pve.calls();
    assert.ok(calls.includes(`pct restore 9000 ${w.v["202-4h"]} --unique 1 --storage local-zfs`), calls.join("\n"));
    assert.ok(calls.includes("pct exec 9000 -- true"));
    assert.ok(calls.includes("pct destroy 9000 --purge 1 --force 1 --destroy-unreferenced-disks 1"));
    assert.ok(calls.includes(`qmrestore ${w.v["101-1h"]} 9000 --unique 1 --storage local-zfs`));
    // Sequential: each guest destroyed before the next restore.
    const order = calls.filter((c) => /^(qmrestore|pct restore|qm destroy|pct destroy)/.test(c)).map((c) => c.split(" ")[0] === "pct" ? `pct ${c.split(" ")[1]}` : c.split(" ")[0] === "qm" ? "qm destroy" : "qmrestore");
    assert.deepEqual(order, ["qmrestore", "qm destroy", "qmrestore", "qm destroy", "qmrestore", "qm destroy", "pct restore", "pct destroy"]);
    assert.deepEqual(scratchGuests(w), []);
    assert.equal(r.notes.length, 1);
    assert.equal(r.notes[0]?.level, "error");
    assert.equal(r.notes[0]?.title, "homelab-backup restore test (monthly, homelab): fail");
    assert.equal(r.notes[0]?.body.split("\n").length, 5);
  });

  for (const [what, behave, reason] of [
    ["the start fails", ["start-fail", "start failed: QEMU exited with code 1"], /^start failed: start failed: QEMU exited with code 1$/],
    ["the guest stops while booting", ["start-stops", "1"], /^the guest is stopped instead of running while booting$/],
    ["the guest agent never answers", ["ping", "fail"], /^no answer from the QEMU guest agent within 1 s$/],
    ["the guest agent hangs", ["ping", "hang"], /^no answer from the QEMU guest agent within 1 s$/],
  ] as const) {
    it(`fails and still destroys the scratch guest when ${what}`, async () => {
      const w = make({ bootTimeoutSeconds: 1, services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101], kind: "vm" }], monthlyServices: ["database-vms"] });
      w.pve.behave(behave[0], behave[1]);
      const started = Date.now();
      const r = await runMode(w, "monthly");
      assert.equal(r.code, 1, r.stderr);
      assert.ok(Date.now() - started < 12_000, "the boot timeout bounds the run");
      assert.equal(r.lines.length, 1);
      assert.equal(r.lines[0]?.result, "fail");
      assert.match(r.lines[0]?.reason ?? "", reason);
      assert.equal(r.lines[0]?.scratchVmid, 9000);
      assert.deepEqual(scratchGuests(w), [], "scratch guest destroyed");
      assert.ok(w.pve.calls().includes("qm destroy 9000 --purge 1 --destroy-unreferenced-disks 1"));
      if (behave[0] === "ping") assert.ok((r.lines[0]?.bootSeconds ?? 0) >= 1, "waited the whole boot timeout");
      assert.equal(r.notes[0]?.level, "error");
    });
  }

  it("passes once the guest agent answers after a few probes; without an agent in the backup it fails at once, or counts 'running' when told to", async () => {
    const w = make({ services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101], kind: "vm" }], monthlyServices: ["database-vms"] });
    w.pve.behave("ping", "after:3");
    const slow = await runMode(w, "monthly");
    assert.equal(slow.code, 0, slow.stderr);
    assert.equal(w.pve.calls().filter((c) => c === "qm guest cmd 9000 ping").length, 4);

    w.pve.resetBehaviour();
    w.pve.addBackup(STORAGE, "vm", 101, new Date(Date.now() - 600_000), vmConfig(101, { agent: "0" }));
    const noAgent = await runMode(w, "monthly");
    assert.equal(noAgent.code, 1);
    assert.match(noAgent.lines.at(-1)?.reason ?? "", /^the QEMU guest agent is not enabled in the backup's config/);
    assert.deepEqual(scratchGuests(w), []);

    w.options.requireGuestAgent = false;
    const running = await runMode(w, "monthly");
    assert.equal(running.code, 0, running.stderr);
    assert.equal(running.lines.at(-1)?.result, "pass");
  });

  it("fails a test whose restore and boot take longer than the tier's RTO", async () => {
    const w = make({ services: [{ service: "database-vms", tier: "critical", rtoMinutes: 0.3 / 60, vmids: [101], kind: "vm" }], monthlyServices: ["database-vms"] });
    w.pve.behave("restore-sleep", "0.4");
    const r = await runMode(w, "monthly");
    assert.equal(r.code, 1);
    const line = r.lines[0] as GuestLine;
    assert.equal(line.rtoSeconds, 0.3);
    assert.ok(line.totalSeconds > 0.3 && line.restoreSeconds >= 0.4, JSON.stringify(line));
    assert.equal(line.reason, `restore and boot took ${line.totalSeconds.toFixed(1)} s, over the RTO of 0.3 s`);
    assert.match(r.notes[0]?.body ?? "", /: fail, restore [\d.]+ s \+ boot [\d.]+ s = [\d.]+ s of RTO 0\.3 s \(restore and boot took/);
  });

  it("a failed restore is logged with PVE's message as valid JSON, and nothing is left behind", async () => {
    const w = make({ services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101], kind: "vm" }], monthlyServices: ["database-vms"] });
    w.pve.behave("restore-fail", `progress 12%\nrestore failed: chunk "a\\b" missing\ttwice`);
    const r = await runMode(w, "monthly");
    assert.equal(r.code, 1);
    assert.equal(r.lines[0]?.reason, `restore failed: restore failed: chunk "a\\b" missing\ttwice`);
    assert.equal(r.lines[0]?.scratchVmid, 9000);
    assert.deepEqual(scratchGuests(w), []);
    assert.ok(!w.pve.calls().some((c) => /^qm (set|start|destroy)/.test(c)), "nothing to isolate, start or destroy");
  });

  it("never boots a guest whose NICs are not on the isolated bridge after the set", async () => {
    const w = make({ services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101], kind: "vm" }], monthlyServices: ["database-vms"] });
    // A fake `qm set` that drops the NIC changes: the read-back must catch it.
    writeFileSync(join(w.pve.bin, "common.sh"), readFileSync(join(w.pve.bin, "common.sh"), "utf8").replace('C[$k]=$v', '[[ $k == net* ]] || C[$k]=$v'));
    const r = await runMode(w, "monthly");
    assert.equal(r.code, 1);
    assert.match(r.lines[0]?.reason ?? "", /^a NIC is not isolated after the set: net0: virtio=.*bridge=vmbr0/);
    assert.ok(!w.pve.calls().some((c) => c.startsWith("qm start")), "never started");
    assert.deepEqual(scratchGuests(w), []);
  });

  for (const [what, setup, reason] of [
    ["missing", (p: FakePve) => p.removeBridge("vmbr99"), /^the isolated bridge vmbr99 does not exist on /],
    ["connected to a port", (p: FakePve) => p.bridge("vmbr99", ["eno1", "veth101i0@if2"]), /^the isolated bridge vmbr99 has ports \(eno1 veth101i0\), so it is not isolated$/],
  ] as const) {
    it(`restores nothing when the isolated bridge is ${what}`, async () => {
      const w = make();
      setup(w.pve);
      const r = await runMode(w, "monthly");
      assert.equal(r.code, 1);
      assert.equal(r.lines.length, 1);
      assert.equal(r.lines[0]?.guest, null);
      assert.match(r.lines[0]?.reason ?? "", reason);
      assert.deepEqual(touched(w), []);
      assert.equal(r.notes[0]?.level, "error");
    });
  }

  it("cleans up a crashed run's scratch guest on the next run; leaves unmarked and production guests in the range alone", async () => {
    const w = make({ bootTimeoutSeconds: 60, services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101], kind: "vm" }, { service: "application-vms", tier: "important", rtoMinutes: 240, pool: "applications", kind: "auto" }], monthlyServices: ["database-vms"] });
    // A production guest in the pool that sits inside the range (only resolvable at run time) and even carries the mark.
    w.pve.addGuest(9003, { type: "qemu", pool: "applications", config: vmConfig(9003, { tags: `${SCRATCH_MARK};prod`, protection: "0" }) });
    // Someone's unmarked guest in the range.
    w.pve.addGuest(9005, { type: "lxc", config: ctConfig(9005, "lab") });
    w.pve.behave("ping", "hang");
    const child = spawn(scriptOf(w), ["monthly"], { env: w.pve.env({ HOMELAB_RESTORE_TEST_SEED: "1" }), detached: true, stdio: "ignore" });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const until = Date.now() + 15_000;
    // Killed while it waits for the agent (the probe already logged, so nothing of the dead run writes later).
    while (!w.pve.calls().includes("qm guest cmd 9000 ping")) {
      assert.ok(Date.now() < until, "the scratch guest never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    // A crash: no trap runs.
    process.kill(-(child.pid as number), "SIGKILL");
    await exited;
    assert.deepEqual(scratchGuests(w), [9000, 9003, 9005]);
    assert.equal(w.pve.config(9000)["tags"], SCRATCH_MARK);

    w.pve.resetBehaviour();
    w.pve.clearLogs();
    const r = await runMode(w, "cleanup");
    assert.equal(r.code, 0, "a warning about the production guest carrying the mark, not a failure");
    assert.deepEqual(scratchGuests(w), [9003, 9005], "only the marked scratch guest is destroyed");
    assert.deepEqual(touched(w), [9000, 9000], "stop and destroy of 9000, nothing else");
    assert.equal(w.pve.config(9003)["name"], "vm9003");
    assert.equal(r.notes[0]?.level, "warning");
    assert.match(r.notes[0]?.body ?? "", /guest 9003 carries the tag homelab-backup-restore-test but is a production guest; left alone/);
    assert.match(r.notes[0]?.body ?? "", /destroyed scratch guests left by an earlier run: 9000/);
    assert.deepEqual(r.lines, [], "cleanup tests nothing");

    // The next real run skips both guests in the range.
    const next = await runMode(w, "monthly");
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.notes[0]?.level, "warning", "the production guest with the mark is still reported");
    assert.deepEqual(next.lines.map((l) => [l.guest, l.scratchVmid, l.result]), [[101, 9000, "pass"]]);
    assertOnlyScratchTouched(w, [9003, 9005]);
    assert.deepEqual(scratchGuests(w), [9003, 9005]);
  });

  it("a run stopped mid-boot (SIGTERM to its process group, as systemd does) destroys its scratch guest and logs the stop", async () => {
    const w = make({ bootTimeoutSeconds: 60, services: [{ service: "docker", tier: "critical", rtoMinutes: 60, tags: ["docker"], kind: "ct" }], monthlyServices: ["docker"] });
    w.pve.behave("ping", "hang");
    const child = spawn(scriptOf(w), ["monthly"], { env: w.pve.env(), detached: true, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const until = Date.now() + 15_000;
    while (!w.pve.calls().includes("pct exec 9000 -- true")) {
      assert.ok(Date.now() < until, "the probe never ran");
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-(child.pid as number), "SIGTERM");
    assert.notEqual(await exited, 0);
    assert.deepEqual(scratchGuests(w), []);
    const lines = logLines(w);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.guest, 301);
    assert.equal(lines[0]?.guestType, "lxc");
    assert.match(lines[0]?.reason ?? "", /^the run was stopped \(SIGTERM\) during the test$/);
    assert.equal(notes(w)[0]?.level, "error");
  });

  it("retries a destroy that fails on a lock; one that keeps failing fails the test and the id is not reused", async () => {
    const w = make({ services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101, 102], kind: "vm" }], monthlyServices: ["database-vms"] });
    w.pve.behave("destroy-fail", "2");
    const r = await runMode(w, "monthly");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(scratchGuests(w), []);

    w.pve.behave("destroy-fail", "1000");
    const stuck = await runMode(w, "monthly");
    assert.equal(stuck.code, 1);
    const lines = stuck.lines.slice(-2);
    assert.deepEqual(lines.map((l) => [l.guest, l.scratchVmid, l.result]), [[101, 9000, "fail"], [102, 9001, "fail"]]);
    assert.equal(lines[0]?.reason, "the scratch guest 9000 could not be destroyed");
    assert.match(stuck.notes.at(-1)?.body ?? "", /scratch guest 9000 could not be destroyed; destroy it by hand \(qm destroy 9000 --purge 1\)/);
  });

  it("weekly with no recent backup in scope logs one failed line and says why; a missing notify command is fine", async () => {
    const w = make({ maxBackupAgeHours: 0.5 });
    const r = await runMode(w, "weekly");
    assert.equal(r.code, 1);
    assert.equal(r.lines.length, 1);
    const { ts: _ts, reason, ...rest } = r.lines[0] as GuestLine;
    assert.deepEqual(rest, { kind: "weekly", site: "homelab", service: null, tier: null, guest: null, guestType: null, volid: null, backupTime: null, scratchVmid: null, restoreSeconds: 0, bootSeconds: 0, totalSeconds: 0, rtoSeconds: 0, result: "fail" });
    assert.match(reason ?? "", /^no backup of a guest in scope on pbs-backup is newer than /);
    assert.deepEqual(touched(w), []);

    const quiet = world({ notifyCommand: "/nonexistent/homelab-backup-notify", services: [{ service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [102], kind: "vm" }], monthlyServices: [] });
    current = quiet;
    const ok = await runMode(quiet, "weekly");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /no notify command at \/nonexistent\/homelab-backup-notify; info: /);
  });

  it("refuses an unknown mode", async () => {
    const w = make();
    const r = await runMode(w, "daily");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: .* weekly\|monthly\|cleanup/);
    assert.deepEqual(w.pve.calls(), []);
  });
});
