/**
 * The pure side of the restore tests: the scratch range against production ids (fast-check
 * properties, and the bash gate agreeing with them), option problems, scratch database names,
 * every generated script through `bash -n`, the units through `systemd-analyze verify`, and the
 * deploy steps run in a local shell with stand-ins for systemctl and ip.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { parseCalendarEvent } from "../../config/calendar";
import { parseStrategy, PROJECT } from "../../config/validate";
import {
  databaseRestoreProblems,
  monthlyServicesFromStrategy,
  productionVmidsFromStrategy,
  restoreTestServicesFromStrategy,
  databaseRestoreTestDeployScript,
  databaseRestoreTestDisableScript,
  databaseRestoreTestFiles,
  PVE_VMID_MAX,
  PVE_VMID_MIN,
  renderDatabaseRestoreScript,
  renderRestoreTestScript,
  RestoreTestConfigError,
  restoreTestDeployScript,
  restoreTestDisableScript,
  restoreTestFiles,
  restoreTestProblems,
  scratchDatabaseName,
  scratchRangeProblems,
  type DatabaseRestoreTestScriptOptions,
  type RestoreTestScriptOptions,
} from "../../components/verify";
import { agentSpecFromStrategy, type AgentSpec } from "../../components/agents";
import { failEachTestWithout, fakeCommand, removeTempDirs, run, tempDir } from "../agents/helpers";

function pveOptions(extra: Partial<RestoreTestScriptOptions> = {}): RestoreTestScriptOptions {
  return {
    site: "homelab",
    storage: "pbs-backup",
    scratchRange: { from: 9000, to: 9099 },
    isolatedBridge: "vmbr99",
    productionVmids: [101, 102, 110, 120],
    services: [
      { service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101, 102], kind: "vm" },
      { service: "application-vms", tier: "important", rtoMinutes: 240, pool: "applications", kind: "auto" },
      { service: "docker-volumes", tier: "critical", rtoMinutes: 60, vmids: [120], tags: ["docker"], kind: "auto" },
    ],
    monthlyServices: ["database-vms"],
    ...extra,
  };
}

function agent(extra: Partial<AgentSpec> = {}): AgentSpec {
  return {
    host: { name: "db01", address: "10.20.0.51", sshUser: "backup", sshPort: 2222 },
    service: "database-vms",
    repository: { url: "ssh://borg@10.20.0.30/mnt/tank/borg/db01", knownHosts: "10.20.0.30 ssh-ed25519 AAAA" },
    sources: ["/etc"],
    databases: [
      { kind: "postgresql", name: "all", hostname: "127.0.0.1", port: 5432, username: "postgres", passwordSecretRef: "db01-pg" },
      { kind: "mariadb", name: "shop", hostname: "127.0.0.1", username: "root", passwordSecretRef: "db01-maria" },
      { kind: "mongodb", name: "notes" },
    ],
    retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
    schedule: parseCalendarEvent("*-*-* 02:00"),
    ...extra,
  };
}

function dbOptions(extra: Partial<DatabaseRestoreTestScriptOptions> = {}): DatabaseRestoreTestScriptOptions {
  return { site: "homelab", agent: agent(), rtoMinutes: 60, ...extra };
}

const vmid = fc.integer({ min: PVE_VMID_MIN, max: 20_000 });

describe("scratch range against production ids (properties)", () => {
  it("accepts exactly the ranges that are in bounds, ordered and hold no production id", () => {
    fc.assert(
      fc.property(vmid, vmid, fc.array(vmid, { maxLength: 30 }), (a, b, production) => {
        const range = { from: a, to: b };
        const problems = scratchRangeProblems(range, production);
        const overlap = production.filter((id) => id >= a && id <= b);
        const valid = a <= b && overlap.length === 0;
        assert.equal(problems.length === 0, valid, `${a}-${b} vs ${production.join(",")}: ${problems.join("; ")}`);
        if (a <= b && overlap.length > 0) {
          // Every overlapping id is named, so the message says what to move.
          for (const id of overlap) assert.match(problems[0] ?? "", new RegExp(`\\b${id}\\b`));
        }
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it("refuses ids PVE cannot have and non-integers", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1000, max: PVE_VMID_MIN - 1 }), fc.integer({ min: PVE_VMID_MAX + 1, max: Number.MAX_SAFE_INTEGER }), fc.double({ noInteger: true, min: 100, max: 1e6 })),
        (bad) => {
          assert.notDeepEqual(scratchRangeProblems({ from: bad, to: 9000 }, []), []);
          assert.notDeepEqual(scratchRangeProblems({ from: 9000, to: bad }, []), []);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("the script's bash gate refuses exactly what the range and the production set exclude", async () => {
    const script = renderRestoreTestScript(pveOptions({ scratchRange: { from: 9000, to: 9020 }, productionVmids: [101, 102, 110, 120, 8999, 9021] }));
    const fn = (name: string) => {
      const m = new RegExp(`^${name}\\(\\) \\{[\\s\\S]*?^\\}$`, "m").exec(script);
      assert.ok(m, `${name} in the script`);
      return m[0];
    };
    const ids = fc.sample(fc.oneof(fc.integer({ min: 8990, max: 9030 }), fc.integer({ min: 0, max: 200 }), fc.constantFrom("09005", "9005a", "", "-9005", "9 005", "$(id)", "18446744073709560621", "9223372036854784813")), { numRuns: 300, seed: 5 });
    const prelude = [
      "SCRATCH_FROM=9000 SCRATCH_TO=9020",
      // A production guest the run resolved inside the range (a pool member), as resolve_scope adds them.
      "declare -A PROD=([101]=1 [9010]=1)",
      'say() { :; }',
      fn("in_range"),
      fn("guard"),
      'for id in "$@"; do if guard "$id" test; then echo "ok $id"; else echo "no $id"; fi; done',
    ].join("\n");
    const r = await run("bash", ["-c", prelude, "_", ...ids.map(String)]);
    assert.equal(r.code, 0, r.stderr);
    const answers = r.stdout.trim().split("\n");
    assert.equal(answers.length, ids.length);
    ids.forEach((id, i) => {
      const allowed = typeof id === "number" && id >= 9000 && id <= 9020 && id !== 9010;
      assert.equal(answers[i], `${allowed ? "ok" : "no"} ${id}`);
    });
  });
});

describe("restore-test options", () => {
  it("names every problem in one list", () => {
    const problems = restoreTestProblems(
      pveOptions({
        scratchRange: { from: 100, to: 9099 },
        services: [
          { service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101, 102], kind: "vm" },
          { service: "database-vms", tier: "critical", rtoMinutes: 0, kind: "vm" },
          { service: "lab", tier: "archive", rtoMinutes: 60, tags: ["homelab-backup-restore-test"], kind: "box" as never },
        ],
        monthlyServices: ["file-server"],
        isolatedBridge: "a-bridge-name-too-long",
        bootTimeoutSeconds: 1.5,
        logPath: "relative.jsonl",
      }),
    );
    assert.deepEqual(problems, [
      'isolatedBridge "a-bridge-name-too-long" is not a Linux bridge name (up to 15 characters)',
      "scratchRange 100-9099 holds production guests 101, 102, 110, 120; move the range to ids no guest uses",
      'services[1].service "database-vms" appears twice',
      "services[1].rtoMinutes 0 is not a positive number",
      "services[1] (database-vms) selects no guest; expected vmids, a pool or tags",
      'services[2].kind "box" is not one of vm, ct, auto',
      "services[2].tags holds homelab-backup-restore-test, the mark of scratch guests",
      'monthlyServices names "file-server", which is not one of the services',
      "bootTimeoutSeconds 1.5 is not a positive integer",
      'logPath "relative.jsonl" is not an absolute path without spaces',
    ]);
  });

  it("a service's own vmids count as production even when productionVmids forgets them", () => {
    const problems = restoreTestProblems(pveOptions({ productionVmids: [], services: [{ service: "x", tier: "critical", rtoMinutes: 60, vmids: [9050], kind: "vm" }], monthlyServices: [] }));
    assert.deepEqual(problems, ["scratchRange 9000-9099 holds production guest 9050; move the range to ids no guest uses"]);
  });

  it("rendering refuses invalid options with every problem listed", () => {
    assert.throws(
      () => renderRestoreTestScript(pveOptions({ scratchRange: { from: 100, to: 200 } })),
      (e: unknown) => e instanceof RestoreTestConfigError && /restore test of site homelab: scratchRange 100-200 holds production guests 101, 102, 110, 120/.test(e.message),
    );
    assert.throws(() => restoreTestFiles({ ...pveOptions(), weeklySchedule: "someday" }), /weeklySchedule: /);
  });
});

describe("database restore-test options", () => {
  it("tests every named database and every database of an \"all\" dump by default, never MongoDB", () => {
    const script = renderDatabaseRestoreScript(dbOptions());
    assert.match(script, /^E_KIND=\(postgresql mariadb\)$/m);
    assert.match(script, /^E_NAME=\(all shop\)$/m);
    assert.match(script, /^E_DBS=\('' shop\)$/m);
    assert.match(script, /^E_TEST=\(1 1\)$/m);
    assert.match(script, /^E_PWVAR=\(HOMELAB_DB_PASSWORD_DB01_PG HOMELAB_DB_PASSWORD_DB01_MARIA\)$/m);
    assert.match(script, /^E_HOOKS=\(postgresql_databases 'mysql_databases mariadb_databases'\)$/m);
    assert.match(script, /^SECRETS=\/etc\/homelab-backup\/db01\/secrets\.env$/m);
    assert.match(script, /^DUMP_ROOT=\/var\/lib\/homelab-backup\/db01$/m);
    assert.match(script, /^export BORG_RSH='ssh -o BatchMode=yes .*StrictHostKeyChecking=yes -o UserKnownHostsFile=\/etc\/homelab-backup\/db01\/known_hosts'$/m);
    assert.match(script, /^SERVICE=database-vms$/m);
  });

  it("a selection takes a database from its named dump, else from the \"all\" dump, and keeps the rest for cleanup only", () => {
    const script = renderDatabaseRestoreScript(dbOptions({ databases: [{ kind: "postgresql", database: "crm" }, { kind: "postgresql", database: "wiki" }], checkQueries: { "postgresql.crm": "SELECT count(*) > 10 FROM customers" } }));
    assert.match(script, /^E_DBS=\('crm wiki' shop\)$/m);
    assert.match(script, /^E_TEST=\(1 0\)$/m);
    assert.match(script, /^declare -A QUERY=\(\[postgresql\.crm\]='SELECT count\(\*\) > 10 FROM customers'\)$/m);
  });

  it("names every problem", () => {
    assert.deepEqual(
      databaseRestoreProblems(
        dbOptions({
          rtoMinutes: -1,
          databases: [
            { kind: "mariadb", database: "wiki" },
            { kind: "mongodb" as never, database: "notes" },
            { kind: "postgresql", database: "restoretest_x" },
            { kind: "postgresql", database: "all" },
          ],
          checkQueries: { "shop": "SELECT 1", "mariadb.shop": "" },
        }),
      ),
      [
        "rtoMinutes -1 is not a positive number",
        'databases[0]: agent db01 dumps no mariadb database wiki (nor "all")',
        'databases[1].kind "mongodb" is not one of postgresql, mariadb, mysql',
        "databases[2].database restoretest_x starts with restoretest_, the prefix of scratch databases",
        'databases[3].database "all" is invalid; expected one database\'s name',
        'checkQueries key "shop" is not <kind>.<database>',
        'checkQueries["mariadb.shop"] is empty',
      ],
    );
    assert.deepEqual(databaseRestoreProblems(dbOptions({ agent: agent({ databases: [{ kind: "mongodb", name: "all" }] }) })), ["agent db01 dumps no PostgreSQL, MariaDB or MySQL database to test"]);
    assert.deepEqual(databaseRestoreProblems(dbOptions({ agent: agent({ databases: [{ kind: "postgresql", name: "RestoreTest_old" }] }) })), ["agent database RestoreTest_old starts with restoretest_, the prefix of scratch databases"]);
    assert.throws(() => renderDatabaseRestoreScript(dbOptions({ rtoMinutes: 0 })), /database restore test of agent db01: rtoMinutes 0 is not a positive number/);
  });

  it("scratch names carry the prefix, fit both servers' limits, and match what the script computes", async () => {
    const names = fc.sample(fc.string({ minLength: 1, maxLength: 80, unit: fc.constantFrom(..."abcXYZ019_-$. äö".split("")) }), { numRuns: 200, seed: 11 });
    for (const n of names) assert.match(scratchDatabaseName(n), /^restoretest_[a-z0-9_]{1,51}$/);
    const script = renderDatabaseRestoreScript(dbOptions());
    const fn = /^scratch_name\(\) \{[\s\S]*?^\}$/m.exec(script)?.[0];
    assert.ok(fn);
    const r = await run("bash", ["-c", `export LC_ALL=C\n${fn}\nfor n in "$@"; do scratch_name "$n"; done`, "_", ...names.filter((n) => /^[\x20-\x7e]+$/.test(n))]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), names.filter((n) => /^[\x20-\x7e]+$/.test(n)).map(scratchDatabaseName));
  });
});

describe("generated scripts, units and deploy steps", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout(["bash", "sh", "systemd-analyze"]);
  let dir: string;
  before(() => {
    if (!ready) return;
    dir = tempDir("verify-units");
  });
  after(() => removeTempDirs());

  it("every script parses: the run scripts in bash, the remote steps in POSIX sh", async () => {
    const scripts = [
      ["bash", renderRestoreTestScript(pveOptions())],
      ["bash", renderDatabaseRestoreScript(dbOptions())],
      ["sh", restoreTestDeployScript(pveOptions())],
      ["sh", restoreTestDisableScript({})],
      ["sh", databaseRestoreTestDeployScript(dbOptions())],
      ["sh", databaseRestoreTestDisableScript(dbOptions())],
    ] as const;
    for (const [shell, text] of scripts) {
      const r = await run(shell, ["-n"], { input: text });
      assert.equal(r.code, 0, `${r.stderr}\n${text.slice(0, 300)}`);
    }
  });

  it("systemd-analyze accepts the units, and the timers fire when the schedules say", async () => {
    const units = join(dir, "units");
    mkdirSync(units, { recursive: true });
    const pveScript = join(dir, "restore-test");
    const dbScript = join(dir, "db01-restore-test");
    const pve = restoreTestFiles({ ...pveOptions(), scriptPath: pveScript, unitDir: units, weeklySchedule: "Wed *-*-* 11:30", monthlySchedule: parseCalendarEvent("Sun *-*-01..07 10:00") });
    const db = databaseRestoreTestFiles({ ...dbOptions(), scriptPath: dbScript, unitDir: units });
    for (const f of [...pve.files, ...db.files]) {
      writeFileSync(f.path, f.content);
      chmodSync(f.path, Number.parseInt(f.mode, 8));
    }
    const paths = [...pve.files, ...db.files].filter((f) => f.path.startsWith(units)).map((f) => f.path);
    assert.equal(paths.length, 6);
    const verify = await run("systemd-analyze", ["verify", "--man=no", ...paths], { env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" } });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr.split("\n").filter((l) => l.includes("homelab-backup-")).join("\n"), "", "no warnings about our units");

    assert.match(pve.units.weekly.service, new RegExp(`^ExecStart=${pveScript} weekly$`, "m"));
    assert.match(pve.units.monthly.service, new RegExp(`^ExecStart=${pveScript} monthly$`, "m"));
    assert.match(pve.units.weekly.timer, /^Persistent=true$/m);
    assert.match(db.units.timer, /^Persistent=true$/m);
    assert.match(pve.units.weekly.service, /^TimeoutStartSec=12h$/m);
    assert.doesNotMatch(pve.units.weekly.service, /ProtectSystem/, "PVE's tools write /etc/pve");
    assert.match(db.units.service, /^ProtectSystem=full$/m);
    const calendars = [pve.units.weekly.timer, pve.units.monthly.timer, db.units.timer].map((t) => /^OnCalendar=(.*)$/m.exec(t)?.[1] as string);
    assert.deepEqual(calendars, ["Wed *-*-* 11:30", "Sun *-*-01..07 10:00", "*-*-01 06:00"]);
    const r = await run("systemd-analyze", ["calendar", "--iterations=2", "--base-time=2026-12-01 00:00:00 UTC", ...calendars], { env: { ...process.env, TZ: "UTC", SYSTEMD_COLORS: "0" } });
    assert.equal(r.code, 0, r.stderr);
    const next = [...r.stdout.matchAll(/(?:Next elapse|Iter\. #2): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => m[1]);
    assert.deepEqual(next, ["2026-12-02 11:30:00", "2026-12-09 11:30:00", "2026-12-06 10:00:00", "2027-01-03 10:00:00", "2026-12-01 06:00:00", "2027-01-01 06:00:00"]);
  });

  it("the PVE deploy step writes the files, enables both timers, and refuses a bridge that is missing or has ports", async () => {
    const root = join(dir, "deploy");
    const fakebin = join(root, "fakebin");
    for (const c of ["systemctl", "qm", "pct", "qmrestore", "pvesm", "pvesh"]) fakeCommand(fakebin, c, "exit 0");
    fakeCommand(fakebin, "ip", `case "$*" in "link show dev vmbr99") exit \${FAKE_NO_BRIDGE:-0} ;; "-o link show master vmbr99") [ -z "\${FAKE_PORT:-}" ] || echo "3: $FAKE_PORT: <UP> master vmbr99" ;; esac`);
    const env = { ...process.env, PATH: `${fakebin}:${process.env.PATH}` };
    const args = { ...pveOptions(), scriptPath: join(root, "sbin", "homelab-backup-restore-test"), unitDir: join(root, "units") };
    for (let i = 0; i < 2; i++) {
      const r = await run("sh", ["-c", restoreTestDeployScript(args)], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    for (const f of restoreTestFiles(args).files) {
      assert.equal(readFileSync(f.path, "utf8"), f.content.endsWith("\n") ? f.content : `${f.content}\n`);
      assert.equal((statSync(f.path).mode & 0o777).toString(8).padStart(4, "0"), f.mode);
    }
    const calls = readFileSync(join(fakebin, "systemctl.log"), "utf8").trim().split("\n").map((l) => l.replace(/^\S+\//, ""));
    assert.deepEqual(calls.slice(0, 2), ["systemctl daemon-reload", "systemctl enable --now homelab-backup-restore-test-weekly.timer homelab-backup-restore-test-monthly.timer"]);

    const missing = await run("sh", ["-c", restoreTestDeployScript(args)], { env: { ...env, FAKE_NO_BRIDGE: "1" } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /the isolated bridge vmbr99 does not exist; create it with no ports/);
    const ported = await run("sh", ["-c", restoreTestDeployScript(args)], { env: { ...env, FAKE_PORT: "eno1" } });
    assert.equal(ported.code, 1);
    assert.match(ported.stderr, /the bridge vmbr99 has ports; restore tests need one with none/);

    writeFileSync(join(fakebin, "systemctl.log"), "");
    const off = await run("sh", ["-c", restoreTestDisableScript(args)], { env });
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(readFileSync(join(fakebin, "systemctl.log"), "utf8").trim().split("\n").map((l) => l.replace(/^\S+\//, "")), [
      "systemctl disable --now homelab-backup-restore-test-weekly.timer",
      "systemctl disable --now homelab-backup-restore-test-monthly.timer",
    ]);
    assert.ok(existsSync(args.scriptPath), "disabling leaves the script");
  });
});

describe("from the homelab stack's strategy", () => {
  it("maps every service with its tier's RTO, and the seed config passes validation with a scratch range above its guests", () => {
    const stack = parse(readFileSync(`${__dirname}/../../Pulumi.homelab.yaml`, "utf8")) as { config: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stack.config)) if (k.startsWith(`${PROJECT}:`)) raw[k.slice(PROJECT.length + 1)] = v;
    const parsed = parseStrategy(raw);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.problems.map((p) => p.message).join("\n"));
    const services = restoreTestServicesFromStrategy(parsed.strategy.services);
    assert.deepEqual(services.map((s) => [s.service, s.tier, s.rtoMinutes, s.vmids ?? s.pool]), [
      ["database-vms", "critical", 60, [101, 102]],
      ["application-vms", "important", 240, "applications"],
      ["file-server", "critical", 60, [110]],
      ["development-vms", "archive", 1440, "development"],
      ["docker-volumes", "critical", 60, [120]],
      ["archives", "archive", 1440, "archive"],
    ]);
    const production = productionVmidsFromStrategy(parsed.strategy.services);
    assert.deepEqual(production, [101, 102, 110, 120]);
    const monthly = monthlyServicesFromStrategy(parsed.strategy.services);
    assert.deepEqual(monthly, ["database-vms", "file-server", "docker-volumes"]);
    const options = { ...pveOptions(), services, productionVmids: production, monthlyServices: monthly };
    assert.deepEqual(restoreTestProblems(options), []);
    assert.deepEqual(restoreTestProblems({ ...options, scratchRange: { from: 100, to: 110 } }), ["scratchRange 100-110 holds production guests 101, 102, 110; move the range to ids no guest uses"]);
    // The seed agents dump "all": tested database by database as found in the dumps.
    for (const a of parsed.strategy.agents.filter((x) => x.databases.length > 0)) {
      const spec = agentSpecFromStrategy(a, { passwordRef: (agent, db) => `${agent.name}-${db.kind}` });
      assert.deepEqual(databaseRestoreProblems({ site: parsed.strategy.site, agent: spec, rtoMinutes: a.tier.rtoMinutes }), []);
    }
  });
});
