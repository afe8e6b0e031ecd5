/**
 * Every generated config through borgmatic 1.7's own validator, every OnCalendar through
 * `systemd-analyze calendar` (and its firings compared with the project's calendar parser), the
 * units through `systemd-analyze verify`, and the scripts through the shells' syntax checks.
 * MongoDB dumps cannot run here (MongoDB is not packaged by Debian): their hook config is
 * generated and validated only.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { nextFiring, parseCalendarEvent, type CalendarEvent } from "../../config/calendar";
import { parseStrategy, PROJECT } from "../../config/validate";
import {
  agentSpecFromStrategy,
  borgmaticCommands,
  deployScript,
  disableScript,
  initRepositoryScript,
  installCommands,
  keyExportScript,
  onCalendar,
  passwordEnvName,
  renderBorgmaticConfig,
  renderQuiesceScript,
  renderSystemdUnits,
  resolveAgentSpec,
  secretsScript,
  type AgentSpec,
} from "../../components/agents";
import { asRoot } from "../../components/agents/shell";
import { removeTempDirs, failEachTestWithout, run, tempDir } from "./helpers";

let dir: string;

function specs(): AgentSpec[] {
  const schedule = parseCalendarEvent("*-*-* 02:00");
  const retention = { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 };
  return [
    {
      host: { name: "db01", address: "10.20.0.51" },
      service: "database-vms",
      repository: { url: "ssh://borg@10.20.0.30/mnt/tank/borg/db01", sshIdentityFile: "/root/.ssh/id_borg", knownHosts: "10.20.0.30 ssh-ed25519 AAAA", remotePath: "/usr/local/bin/borg" },
      sources: ["/etc", "/etc/ssl"],
      databases: [
        { kind: "postgresql", name: "all", hostname: "127.0.0.1", port: 5432, username: "postgres", passwordSecretRef: "db01-pg" },
        { kind: "mariadb", name: "shop", hostname: "127.0.0.1", username: "root", passwordSecretRef: "db01-maria" },
        { kind: "mysql", name: "legacy", port: 3307 },
        { kind: "mongodb", name: "all", hostname: "127.0.0.1", port: 27017, username: "root", passwordSecretRef: "db01-mongo" },
        { kind: "mongodb", name: "notes", hostname: "10.0.0.7" },
      ],
      retention: { keepHourly: 24, ...retention, keepYearly: 2 },
      checks: [{ name: "repository", frequency: "2 weeks" }, { name: "extract", frequency: "always" }],
      schedule: parseCalendarEvent("*:00"),
      healthcheckUrl: "https://hc.home.arpa/ping/db01",
    },
    {
      host: { name: "docker01", address: "10.20.0.52", sshUser: "backup", sshPort: 2222 },
      repository: { url: "borg@10.20.0.30:/mnt/tank/borg/docker01", encryption: "keyfile-blake2" },
      sources: ["/opt/stacks"],
      excludes: ["/opt/stacks/*/logs", "sh:**/node_modules"],
      docker: [
        { container: "vaultwarden", volumes: ["vaultwarden_data"], stopDuringBackup: true },
        { container: "paperless", volumes: ["paperless_media", "paperless_data"], stopDuringBackup: false },
      ],
      dockerRoot: "/srv/docker",
      retention,
      schedule,
    },
    {
      host: { name: "nas-configs", address: "10.20.0.53" },
      repository: { url: "/mnt/usb/borg" },
      sources: ["/etc"],
      retention: { keepDaily: 0, keepWeekly: 0, keepMonthly: 12 },
      schedule: parseCalendarEvent("Sun *-*-01..07 04:00"),
    },
  ];
}

/** The homelab stack's own agents, through the strategy mapping. */
function stackSpecs(): AgentSpec[] {
  const stack = parse(readFileSync(`${__dirname}/../../Pulumi.homelab.yaml`, "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stack.config)) if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
  const parsed = parseStrategy(raw);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return parsed.strategy.agents.map((a) => agentSpecFromStrategy(a, { excludes: parsed.strategy.exclusions.paths, passwordRef: (agent, db) => `${agent.name}-${db.kind}` }));
}

/** Every environment variable a config names, so the validator can resolve the placeholders. */
function placeholderEnv(all: AgentSpec[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const s of all) for (const db of s.databases ?? []) if (db.passwordSecretRef) env[passwordEnvName(db.passwordSecretRef)] = "placeholder";
  return env;
}

describe("generated files pass the real validators", { timeout: 60_000 }, () => {
  const ready = failEachTestWithout(["validate-borgmatic-config", "systemd-analyze", "bash", "sh"]);
  before(() => {
    if (!ready) return;
    dir = tempDir("validate");
  });
  after(() => removeTempDirs());

  it("borgmatic 1.7 accepts every generated config, MongoDB hooks included", async () => {
    const all = [...specs(), ...stackSpecs()];
    const paths = all.map((s, i) => {
      const path = join(dir, `config-${i}.yaml`);
      writeFileSync(path, renderBorgmaticConfig(s, "1.7"));
      return path;
    });
    const r = await run(borgmaticCommands("1.7").validate[0] as string, ["-c", ...paths], { env: placeholderEnv(all) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /All given configuration files are valid/);
    assert.ok(readFileSync(paths[0] as string, "utf8").includes("mongodb_databases"));
  });

  it("the validator catches a config borgmatic would not run, so a pass means something", async () => {
    const path = join(dir, "broken.yaml");
    writeFileSync(path, renderBorgmaticConfig(specs()[2] as AgentSpec, "1.7").replace("keep_monthly: 12", "keep_monthly: twelve"));
    const r = await run("validate-borgmatic-config", ["-c", path]);
    assert.notEqual(r.code, 0);
    const flat = join(dir, "flat.yaml");
    writeFileSync(flat, renderBorgmaticConfig(specs()[2] as AgentSpec, "1.8"));
    assert.notEqual((await run("validate-borgmatic-config", ["-c", flat])).code, 0, "1.7 refuses the 1.8 syntax");
  });

  it("systemd-analyze accepts the units and every OnCalendar, firing when the project's parser says", async () => {
    const unitDir = join(dir, "units");
    mkdirSync(unitDir, { recursive: true });
    const unitPaths: string[] = [];
    for (const s of [...specs(), ...stackSpecs()]) {
      // verify checks that ExecStart exists and is executable: point it at a real script.
      const script = join(dir, `agent-${s.host.name}`);
      writeFileSync(script, renderQuiesceScript({ ...s, layout: { scriptPath: script } }));
      chmodSync(script, 0o700);
      const units = renderSystemdUnits({ ...s, layout: { scriptPath: script } });
      for (const [name, text] of [[units.serviceName, units.service], [units.timerName, units.timer]] as const) {
        writeFileSync(join(unitDir, name), text);
        unitPaths.push(join(unitDir, name));
      }
    }
    const verify = await run("systemd-analyze", ["verify", "--man=no", ...unitPaths], { env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" } });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr.split("\n").filter((l) => l.includes("homelab-backup-")).join("\n"), "", "no warnings about our units");

    const weekday = fc.constantFrom("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "mon", "sunday");
    const weekdays = fc.oneof(weekday, fc.tuple(weekday, weekday).map(([a, b]) => `${a}..${b}`), fc.array(weekday, { minLength: 2, maxLength: 3 }).map((l) => l.join(",")));
    const date = fc.constantFrom("*-*-*", "*-*-01..07", "*-*-1,15", "*-02-29", "*-*-31", "*-06-*", "*-1..3-10", "*-*-*/10");
    const time = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`),
      fc.constantFrom("*:0/15", "0/2:30", "*:00", "02:00:00", "1,13:5", "8..18:00"),
    );
    const source = fc.oneof(
      { arbitrary: fc.tuple(fc.option(weekdays), fc.option(date), time).map(([w, d, t]) => [w, d, t].filter((x) => x !== null).join(" ")), weight: 8 },
      { arbitrary: fc.constantFrom("hourly", "daily", "weekly", "monthly", "Sun *-*-01..07 04:00", "*-*-* 02:00"), weight: 1 },
    );
    const events: CalendarEvent[] = [];
    for (const s of fc.sample(source, { numRuns: 250, seed: 42 })) {
      try {
        events.push(parseCalendarEvent(s));
      } catch {
        // outside the subset PVE and PBS accept; the parser has its own tests
      }
    }
    assert.ok(events.length > 150, `only ${events.length} sampled events parsed`);
    const values = events.map(onCalendar);
    const r = await run("systemd-analyze", ["calendar", "--iterations=3", "--base-time=2024-01-01 00:00:00 UTC", ...values], { env: { ...process.env, TZ: "UTC", SYSTEMD_COLORS: "0" } });
    assert.equal(r.code, 0, r.stderr);
    // One block per expression, separated by a blank line ("Original form" only when it differs).
    const blocks = r.stdout.split(/\n\s*\n/).filter((b) => b.includes("Normalized form:"));
    assert.equal(blocks.length, values.length);
    blocks.forEach((block, i) => {
      const event = events[i] as CalendarEvent;
      const times = [...block.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => m[1]);
      const expected: string[] = [];
      let at = new Date(Date.UTC(2024, 0, 1));
      for (let k = 0; k < 3; k++) {
        const next = nextFiring(event, at);
        if (!next) break;
        expected.push(next.toISOString().replace("T", " ").slice(0, 19));
        at = next;
      }
      // The project's parser looks four years ahead (2024-01-01 to 2028-01-05): compare what both see.
      const within = (list: (string | undefined)[]) => list.filter((t) => t !== undefined && t < "2028-01-01");
      assert.deepEqual(within(times), within(expected), `${event.source} (OnCalendar=${values[i]})`);
    });
  });

  it("every script parses: the agent script in bash, the remote steps in POSIX sh", async () => {
    for (const s of [...specs(), ...stackSpecs()]) {
      const spec = resolveAgentSpec(s);
      const quiesce = await run("bash", ["-n"], { input: renderQuiesceScript(spec) });
      assert.equal(quiesce.code, 0, quiesce.stderr);
      for (const script of [installCommands(spec, "1.7"), installCommands(spec, "1.8"), secretsScript(spec), deployScript(spec, "1.7"), initRepositoryScript(spec, "1.7"), keyExportScript(spec), disableScript(spec)]) {
        const wrapped = asRoot(script, spec.host.sshUser);
        const r = await run("sh", ["-n"], { input: wrapped });
        assert.equal(r.code, 0, `${r.stderr}\n${wrapped}`);
      }
    }
  });
});
