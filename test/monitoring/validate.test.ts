/**
 * The generated files through the real validators: the check units through `systemd-analyze
 * verify`, their schedules through `systemd-analyze calendar`, every script through its
 * interpreter's syntax check, and the remote steps through POSIX sh, run against a temp root.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  TRUENAS_QUERY_SCRIPT,
  checkDeployScript,
  checkFiles,
  checkRemoveScript,
  renderCapacityScript,
  renderCheckUnits,
  renderFreshnessScript,
  renderNotifyScript,
  resolveCapacitySpec,
  resolveFreshnessSpec,
  type CheckLayout,
} from "../../components/monitoring";
import { installPackagesScript } from "../../components/monitoring/remote-steps";
import { renderHookScript, resolveBackupHookSpec } from "../../components/pve/hook-script";
import { failEachTestWithout, removeTempDirs, run, tempDir, writeExecutable } from "./helpers";

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase()).join(":");
const PBS = { host: "10.20.0.20", fingerprint: FP, tokenId: "monitor@pbs!audit" };

const capacity = resolveCapacitySpec({ pbs: PBS, truenas: { host: "truenas.home.arpa", fingerprint: FP, username: "monitor" }, healthcheckUrl: "https://hc.home.arpa/ping/cap" });
const freshness = resolveFreshnessSpec({
  pbs: PBS,
  services: [{ name: "database-vms", datastore: "critical", vmids: [101, 102], rpoMinutes: 60, expectedDurationMinutes: 25 }],
});
const hook = resolveBackupHookSpec({ pbs: PBS, jobs: [{ name: "database-vms", storageId: "pbs-backup-critical", datastore: "critical", expectedSizeGb: 120, expectedDurationMinutes: 25 }] });

let dir: string;
function layout(kind: string): CheckLayout {
  return {
    scriptPath: join(dir, kind, `check-${kind}`),
    envFile: join(dir, kind, "etc", `${kind}.env`),
    stateDir: join(dir, kind, "state"),
    notify: join(dir, "notify"),
    truenasQuery: join(dir, kind, "truenas-query"),
    unitDir: join(dir, kind, "units"),
  };
}

describe("generated monitoring files pass the real validators", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout(["systemd-analyze", "bash", "sh", "python3"]);
  before(() => {
    if (!ready) return;
    dir = tempDir("validate");
  });
  after(() => removeTempDirs());

  it("systemd-analyze verify accepts both checks' units, and refuses a broken one", async () => {
    const paths: string[] = [];
    for (const [kind, script] of [["capacity", renderCapacityScript(capacity)], ["freshness", renderFreshnessScript(freshness)]] as const) {
      const l = layout(kind);
      // verify checks that ExecStart exists and is executable.
      writeExecutable(l.scriptPath, script);
      mkdirSync(l.unitDir, { recursive: true });
      const units = renderCheckUnits(kind, l, kind === "capacity" ? capacity.schedule : freshness.schedule);
      for (const [name, text] of [[units.serviceName, units.service], [units.timerName, units.timer]] as const) {
        writeFileSync(join(l.unitDir, name), text);
        paths.push(join(l.unitDir, name));
      }
    }
    const env = { ...process.env, SYSTEMD_LOG_LEVEL: "warning" };
    const r = await run("systemd-analyze", ["verify", "--man=no", ...paths], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.split("\n").filter((l) => l.includes("homelab-backup-")).join("\n"), "", "no warnings about our units");

    const broken = join(dir, "broken", "homelab-backup-capacity.service");
    mkdirSync(join(dir, "broken"), { recursive: true });
    writeFileSync(broken, readFileSync(paths[0] as string, "utf8").replace("Type=oneshot", "Type=oneshoot"));
    const bad = await run("systemd-analyze", ["verify", "--man=no", broken], { env });
    assert.match(bad.stderr, /Failed to parse service type|oneshoot/, "a pass means something");
  });

  it("systemd-analyze calendar accepts the default schedules and fires them when expected", async () => {
    const r = await run("systemd-analyze", ["calendar", "--iterations=2", "--base-time=2024-01-01 00:07:00 UTC", capacity.schedule, freshness.schedule], { env: { ...process.env, TZ: "UTC", SYSTEMD_COLORS: "0" } });
    assert.equal(r.code, 0, r.stderr);
    const times = [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => m[1]);
    assert.deepEqual(times, ["2024-01-01 01:00:00", "2024-01-01 02:00:00", "2024-01-01 00:15:00", "2024-01-01 00:30:00"]);
  });

  it("every script parses: bash for the generated ones, python3 for truenas-query, sh for the remote steps", async () => {
    for (const script of [renderCapacityScript(capacity), renderFreshnessScript(freshness), renderNotifyScript([{ type: "smtp", name: "m", from: "a@b.c", mailto: ["d@e.f"] }]), renderHookScript(hook)]) {
      const r = await run("bash", ["-n"], { input: script });
      assert.equal(r.code, 0, r.stderr);
    }
    const py = join(dir, "truenas-query.py");
    writeFileSync(py, TRUENAS_QUERY_SCRIPT);
    const compiled = await run("python3", ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", py]);
    assert.equal(compiled.code, 0, compiled.stderr);
    const help = await run("python3", [py, "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--url URL --user USER/);
    for (const [kind, script] of [["capacity", renderCapacityScript(capacity)], ["freshness", renderFreshnessScript(freshness)]] as const) {
      const input = { kind, layout: layout(kind), onCalendar: "hourly", files: [{ path: layout(kind).scriptPath, mode: "0700", content: script }] };
      for (const step of [checkDeployScript(input), checkRemoveScript(input), installPackagesScript({ curl: "curl", jq: "jq" })]) {
        const r = await run("sh", ["-n"], { input: step });
        assert.equal(r.code, 0, r.stderr);
      }
    }
  });

  it("the deploy step writes the check and its units, enables the timer; removal takes it all away", async () => {
    const l = layout("deploy");
    const bin = join(dir, "fakebin");
    writeExecutable(join(bin, "systemctl"), `#!/bin/sh\necho "systemctl $*" >> ${JSON.stringify(join(bin, "systemctl.log"))}\n`);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
    const input = { kind: "freshness" as const, layout: l, onCalendar: "*:0/15", files: [{ path: l.scriptPath, mode: "0700", content: renderFreshnessScript(freshness, l) }] };
    for (let i = 0; i < 2; i++) {
      const r = await run("sh", ["-c", checkDeployScript(input)], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    for (const f of checkFiles(input)) {
      assert.equal(readFileSync(f.path, "utf8"), f.content.endsWith("\n") ? f.content : `${f.content}\n`);
      assert.equal((statSync(f.path).mode & 0o777).toString(8).padStart(4, "0"), f.mode, f.path);
    }
    assert.deepEqual(readdirSync(l.unitDir).sort(), ["homelab-backup-freshness.service", "homelab-backup-freshness.timer"]);
    assert.match(readFileSync(join(l.unitDir, "homelab-backup-freshness.timer"), "utf8"), /^OnCalendar=\*:0\/15$/m);
    const log = () => readFileSync(join(bin, "systemctl.log"), "utf8").trim().split("\n");
    assert.deepEqual(log(), ["systemctl daemon-reload", "systemctl enable --now homelab-backup-freshness.timer", "systemctl daemon-reload", "systemctl enable --now homelab-backup-freshness.timer"]);

    mkdirSync(l.stateDir, { recursive: true });
    writeFileSync(join(l.stateDir, "alert.stale-x"), "error 1\n");
    const removed = await run("sh", ["-c", checkRemoveScript(input)], { env });
    assert.equal(removed.code, 0, removed.stderr);
    for (const f of checkFiles(input)) assert.ok(!existsSync(f.path), `${f.path} removed`);
    assert.ok(!existsSync(l.stateDir));
    assert.deepEqual(log().slice(4), ["systemctl disable --now homelab-backup-freshness.timer", "systemctl daemon-reload"]);
  });

  it("the install step installs only what is missing", async () => {
    const bin = join(dir, "aptbin");
    writeExecutable(join(bin, "apt-get"), `#!/bin/sh\necho "apt-get $*" >> ${JSON.stringify(join(bin, "apt.log"))}\n`);
    writeExecutable(join(bin, "have-me"), "#!/bin/sh\n");
    const r = await run("sh", ["-c", installPackagesScript({ "have-me": "pkg-present", "missing-cmd-x": "pkg-x", "missing-cmd-y": "pkg-y" })], { env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(bin, "apt.log"), "utf8").trim().split("\n"), ["apt-get update -qq", "apt-get install -y -qq --no-install-recommends pkg-x pkg-y"]);
  });
});
