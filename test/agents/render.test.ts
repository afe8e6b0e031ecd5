/**
 * The pure generators on their own: spec validation, the borgmatic config in both syntaxes,
 * systemd units, the OnCalendar mapping and the strategy mapping. Shell quoting, heredocs and
 * the secrets file are property-tested against a real bash in one batch per property.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse } from "yaml";
import { parseCalendarEvent } from "../../config/calendar";
import { parseStrategy, PROJECT } from "../../config/validate";
import {
  AgentSpecError,
  agentFileContents,
  agentSpecFromStrategy,
  borgmaticConfigObject,
  DEFAULT_CHECKS,
  DEFAULT_EXCLUDES,
  deployScript,
  disableScript,
  excludeMatches,
  installCommands,
  onCalendar,
  renderBorgmaticConfig,
  renderQuiesceScript,
  renderSecretsEnv,
  renderSystemdUnits,
  resolveAgentSpec,
  retentionFromKeep,
  shellQuote,
  type AgentSpec,
} from "../../components/agents";
import { writeFileScript } from "../../components/agents/shell";

function base(extra: Partial<AgentSpec> = {}): AgentSpec {
  return {
    host: { name: "db01", address: "10.20.0.51" },
    service: "database-vms",
    repository: { url: "ssh://borg@10.20.0.30/mnt/tank/borg/db01" },
    sources: ["/etc"],
    retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
    schedule: parseCalendarEvent("*-*-* 02:00"),
    ...extra,
  };
}

function problems(spec: AgentSpec): string[] {
  try {
    resolveAgentSpec(spec);
    return [];
  } catch (e) {
    assert.ok(e instanceof AgentSpecError, String(e));
    return [...e.problems];
  }
}

/** Runs one bash script and returns its stdout; batches many property cases into one process. */
function bash(script: string, input = ""): string {
  const r = spawnSync("bash", ["-c", script], { input, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("agent spec", () => {
  it("applies the documented defaults", () => {
    const s = resolveAgentSpec(base());
    assert.equal(s.host.sshUser, "root");
    assert.equal(s.host.sshPort, 22);
    assert.equal(s.repository.encryption, "repokey-blake2");
    assert.deepEqual(s.excludes, [...DEFAULT_EXCLUDES]);
    assert.deepEqual(s.checks, [...DEFAULT_CHECKS]);
    assert.equal(s.dockerRoot, "/var/lib/docker");
    assert.equal(s.maxRunHours, 12);
    assert.deepEqual(s.layout, {
      configDir: "/etc/homelab-backup/db01",
      scriptPath: "/usr/local/sbin/homelab-backup-db01",
      unitDir: "/etc/systemd/system",
      stateDir: "/var/lib/homelab-backup/db01",
      runDir: "/run/homelab-backup",
    });
  });

  it("reports every problem at once, each naming the field and what is expected", () => {
    const found = problems({
      host: { name: "DB 01", address: "", sshPort: 70000 },
      repository: { url: "ssh://x/ y", encryption: "none" as never },
      sources: ["etc", "/ok", "/bad/${HOME}"],
      databases: [
        { kind: "oracle" as never, name: "" },
        { kind: "postgresql", name: "a", passwordSecretRef: "x.y" },
        { kind: "postgresql", name: "b", passwordSecretRef: "x_y" },
        { kind: "mariadb", name: "c", hostname: "h" },
        { kind: "mysql", name: "c", hostname: "h" },
      ],
      docker: [
        { container: "web", volumes: [], stopDuringBackup: true },
        { container: "web", volumes: ["bad/volume"], stopDuringBackup: false },
      ],
      retention: { keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
      checks: [
        { name: "data", frequency: "fortnightly" },
        { name: "data", frequency: "2 weeks" },
      ],
      schedule: parseCalendarEvent("daily"),
      healthcheckUrl: "ftp://hc",
      maxRunHours: 0,
    });
    const expected = [
      /host\.name "DB 01" is invalid/,
      /host\.address is empty/,
      /host\.sshPort 70000/,
      /repository\.url .* without spaces/,
      /repository\.encryption "none" is not one of repokey-blake2, repokey, keyfile-blake2, keyfile \(backups are always encrypted\)/,
      /sources\[0\] "etc" is not an absolute path/,
      /sources\[2\] .* contains "\$\{"/,
      /databases\[0\]\.kind "oracle"/,
      /databases\[0\]\.name is empty/,
      /"x_y" and "x\.y" both map to HOMELAB_DB_PASSWORD_X_Y/,
      /databases\[4\] dumps mysql database "c" on h twice/,
      /docker\[0\]\.volumes is empty/,
      /docker\[1\]\.container "web" is listed twice/,
      /docker\[1\]\.volumes\[0\] "bad\/volume"/,
      /retention keeps nothing/,
      /checks\[0\]\.frequency "fortnightly" is invalid/,
      /checks\[1\]\.name "data" is listed twice/,
      /healthcheckUrl "ftp:\/\/hc" is not an http\(s\) URL/,
      /maxRunHours 0/,
    ];
    for (const re of expected) assert.ok(found.some((p) => re.test(p)), `expected a problem matching ${re}; got:\n  ${found.join("\n  ")}`);
    assert.equal(found.length, expected.length, found.join("\n"));
  });

  it("refuses an exclude that covers the state dir, where dumps stream through", () => {
    const found = problems(base({ layout: { stateDir: "/tmp/borgmatic-state" } }));
    assert.deepEqual(found, ['exclude "/tmp" covers the state dir /tmp/borgmatic-state, where database dumps stream through; move layout.stateDir or narrow the pattern']);
    assert.deepEqual(problems(base({ excludes: ["sh:/var/lib/**"] })).length, 1);
    assert.deepEqual(problems(base({ excludes: ["/var/lib/mysql", "*.log"] })), []);
  });

  it("matches exclude patterns as borg does (fnmatch, sh:, re:, pp:)", () => {
    const path = "/var/lib/homelab-backup/db01/postgresql_databases/localhost/x";
    for (const p of ["/var/lib", "*/homelab-backup", "sh:/var/**", "re:^var/lib/home", "pp:/var/lib/homelab-backup", "/var/lib/homelab-backup/db01/?*"]) assert.equal(excludeMatches(p, path), true, p);
    for (const p of ["/var/lib/mysql", "*.iso", "*/.cache", "sh:/var/*/mysql", "re:^etc/", "pp:/var/li", "/tmp"]) assert.equal(excludeMatches(p, path), false, p);
  });
});

describe("borgmatic config", () => {
  const full = base({
    repository: { url: "ssh://borg@10.20.0.30/mnt/tank/borg/db01", sshIdentityFile: "/root/.ssh/id_borg", knownHosts: "10.20.0.30 ssh-ed25519 AAAAC3Nz", remotePath: "/usr/local/bin/borg" },
    sources: ["/etc", "/etc/ssl"],
    excludes: ["/etc/ssl/private/*.old", "*.iso"],
    databases: [
      { kind: "postgresql", name: "all", hostname: "127.0.0.1", port: 5432, username: "postgres", passwordSecretRef: "db01-pg" },
      { kind: "mariadb", name: "shop", hostname: "127.0.0.1", username: "root", passwordSecretRef: "db01-maria" },
      { kind: "mysql", name: "legacy", hostname: "10.0.0.9", port: 3307 },
      { kind: "mongodb", name: "all", hostname: "127.0.0.1", username: "root", passwordSecretRef: "db01-mongo" },
    ],
    docker: [
      { container: "vaultwarden", volumes: ["vaultwarden_data"], stopDuringBackup: true },
      { container: "paperless", volumes: ["paperless_media"], stopDuringBackup: false },
    ],
    retention: { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 0 },
    healthcheckUrl: "https://hc.home.arpa/ping/db01",
  });

  it("writes 1.7's sections from the spec", () => {
    const c = borgmaticConfigObject(full, "1.7") as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(c), ["location", "storage", "retention", "consistency", "hooks"]);
    assert.deepEqual(c.location?.["source_directories"], ["/etc", "/etc/ssl", "/var/lib/docker/volumes/vaultwarden_data/_data", "/var/lib/docker/volumes/paperless_media/_data"]);
    assert.deepEqual(c.location?.["repositories"], ["ssh://borg@10.20.0.30/mnt/tank/borg/db01"]);
    assert.deepEqual(c.location?.["exclude_patterns"], [...DEFAULT_EXCLUDES, "/etc/ssl/private/*.old"]);
    assert.equal(c.location?.["exclude_caches"], true);
    assert.deepEqual(c.location?.["exclude_if_present"], [".nobackup"]);
    assert.equal(c.location?.["remote_path"], "/usr/local/bin/borg");
    assert.equal(c.storage?.["ssh_command"], "ssh -o BatchMode=yes -o ServerAliveInterval=60 -i /root/.ssh/id_borg -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/homelab-backup/db01/known_hosts");
    assert.equal(c.storage?.["archive_name_format"], "db01-{now:%Y-%m-%dT%H:%M:%S.%f}");
    assert.equal(c.storage?.["encryption_passphrase"], undefined, "the passphrase never goes into the config");
    assert.deepEqual(c.retention, { keep_hourly: 24, keep_daily: 7, keep_weekly: 4, keep_monthly: 12, prefix: "db01-" });
    assert.equal((c.consistency?.["checks"] as unknown[]).length, 4);
    assert.equal(c.consistency?.["prefix"], "db01-");
    const hooks = c.hooks ?? {};
    assert.deepEqual(hooks["before_backup"], ["/usr/local/sbin/homelab-backup-db01 quiesce-stop"]);
    assert.deepEqual(hooks["after_backup"], ["/usr/local/sbin/homelab-backup-db01 quiesce-start"]);
    assert.deepEqual(hooks["on_error"], ["/usr/local/sbin/homelab-backup-db01 quiesce-start"]);
    assert.deepEqual(hooks["postgresql_databases"], [{ name: "all", hostname: "127.0.0.1", port: 5432, username: "postgres", password: "${HOMELAB_DB_PASSWORD_DB01_PG}" }]);
    assert.deepEqual(hooks["mysql_databases"], [
      { name: "shop", hostname: "127.0.0.1", username: "root", password: "${HOMELAB_DB_PASSWORD_DB01_MARIA}" },
      { name: "legacy", hostname: "10.0.0.9", port: 3307 },
    ]);
    assert.deepEqual(hooks["mongodb_databases"], [{ name: "all", hostname: "127.0.0.1", username: "root", password: "${HOMELAB_DB_PASSWORD_DB01_MONGO}" }]);
    assert.deepEqual(hooks["healthchecks"], { ping_url: "https://hc.home.arpa/ping/db01" });
  });

  it("writes 1.8's flat keys: the same settings, with match_archives and repository objects", () => {
    const old = borgmaticConfigObject(full, "1.7") as Record<string, Record<string, unknown>>;
    const flat = borgmaticConfigObject(full, "1.8");
    const merged: Record<string, unknown> = {};
    for (const section of Object.values(old)) Object.assign(merged, section);
    delete merged["prefix"];
    merged["repositories"] = [{ path: "ssh://borg@10.20.0.30/mnt/tank/borg/db01" }];
    merged["match_archives"] = "sh:db01-*";
    const hooks = old.hooks ?? {};
    merged["mysql_databases"] = [(hooks["mysql_databases"] as unknown[])[1]];
    merged["mariadb_databases"] = [(hooks["mysql_databases"] as unknown[])[0]];
    assert.deepEqual(Object.fromEntries(Object.entries(flat).sort()), Object.fromEntries(Object.entries(merged).sort()));
  });

  it("leaves out what the spec does not ask for", () => {
    const c = borgmaticConfigObject(base({ repository: { url: "/srv/backup/db01" } }), "1.7") as Record<string, Record<string, unknown>>;
    assert.equal(c.storage?.["ssh_command"], undefined);
    assert.deepEqual(c.hooks, {});
    const accept = borgmaticConfigObject(base(), "1.7") as Record<string, Record<string, unknown>>;
    assert.match(String(accept.storage?.["ssh_command"]), /StrictHostKeyChecking=accept-new$/);
    const live = borgmaticConfigObject(base({ docker: [{ container: "app", volumes: ["data"], stopDuringBackup: false }] }), "1.7") as Record<string, Record<string, unknown>>;
    assert.equal(live.hooks?.["before_backup"], undefined, "live volumes need no quiescing");
  });

  it("round-trips through YAML for any paths, patterns and names (property)", () => {
    const text = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\n\r\0]/.test(s) && !s.includes("${"));
    fc.assert(
      fc.property(fc.array(text, { maxLength: 5 }), fc.array(text, { maxLength: 5 }), fc.constantFrom("1.7" as const, "1.8" as const), (paths, excludes, version) => {
        const spec = base({ sources: ["/etc", ...paths.map((p) => `/${p}`)], excludes: excludes.filter((e) => e.trim() !== "" && !excludeMatches(e, "/var/lib/homelab-backup/db01/postgresql_databases/localhost/db")) });
        const rendered = renderBorgmaticConfig(spec, version);
        assert.deepEqual(parse(rendered), borgmaticConfigObject(spec, version));
      }),
      { numRuns: 150 },
    );
  });
});

describe("systemd units", () => {
  it("runs the agent script from a timer on the service's schedule", () => {
    const u = renderSystemdUnits(base({ docker: [{ container: "vw", volumes: ["d"], stopDuringBackup: true }] }));
    assert.equal(u.serviceName, "homelab-backup-db01.service");
    assert.equal(u.timerName, "homelab-backup-db01.timer");
    assert.match(u.service, /^ExecStart=\/usr\/local\/sbin\/homelab-backup-db01$/m);
    assert.match(u.service, /^ExecStopPost=\/usr\/local\/sbin\/homelab-backup-db01 quiesce-start$/m);
    assert.match(u.service, /^Type=oneshot$/m);
    assert.match(u.service, /^TimeoutStartSec=12h$/m);
    assert.match(u.timer, /^OnCalendar=\*-\*-\* 02:00$/m);
    assert.match(u.timer, /^Persistent=true$/m);
    assert.doesNotMatch(renderSystemdUnits(base()).service, /ExecStopPost/);
  });

  it("keeps PVE-style sources, and rewrites what systemd refuses (wrapping weekdays, repetitions from *)", () => {
    assert.equal(onCalendar(parseCalendarEvent("Sun *-*-01..07 04:00")), "Sun *-*-01..07 04:00");
    assert.equal(onCalendar(parseCalendarEvent("mon..fri 02:30")), "mon..fri 02:30");
    assert.equal(onCalendar(parseCalendarEvent("Sat..Sun *-*-* 06:00")), "Sat..Sun *-*-* 06:00");
    assert.equal(onCalendar(parseCalendarEvent("fri..mon 02:30")), "Mon,Fri,Sat,Sun 02:30");
    assert.equal(onCalendar(parseCalendarEvent("Sun..Tue *-*-* 06:00")), "Mon,Tue,Sun *-*-* 06:00");
    assert.equal(onCalendar(parseCalendarEvent("*-*-*/10 *:*/15")), "*-*-1/10 *:0/15");
    assert.equal(onCalendar(parseCalendarEvent("*-*/3-01 04:00")), "*-1/3-01 04:00");
    assert.equal(onCalendar(parseCalendarEvent("hourly")), "hourly");
    assert.equal(onCalendar(parseCalendarEvent("sunday")), "sunday");
  });
});

describe("scripts", () => {
  it("quotes any string so bash reads it back unchanged (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 40 }).map((s) => s.replace(/\0/g, "")), { minLength: 1, maxLength: 60 }), (values) => {
        const out = bash(values.map((v) => `printf '%s\\0' ${shellQuote(v)}`).join("\n"));
        assert.deepEqual(out.split("\0").slice(0, -1), values);
      }),
      { numRuns: 15 },
    );
  });

  it("writes any content byte for byte through its heredoc (property)", () => {
    const dir = bash("mktemp -d").trim();
    const line = fc.oneof(fc.string({ unit: "binary", maxLength: 30 }), fc.constantFrom("EOF", "HOMELAB_BACKUP_EOF_", "$(rm -rf /)", "`id`", "'\"\\", "${HOME}"));
    fc.assert(
      fc.property(fc.array(fc.array(line, { maxLength: 8 }).map((l) => l.join("\n").replace(/[\0\r]/g, "")), { minLength: 1, maxLength: 20 }), (contents) => {
        const script = contents.map((c, i) => writeFileScript(`${dir}/f${i}`, c, "0600")).join("\n");
        bash(script);
        contents.forEach((c, i) => assert.equal(readFileSync(`${dir}/f${i}`, "utf8"), c.endsWith("\n") ? c : `${c}\n`));
      }),
      { numRuns: 15 },
    );
    bash(`rm -rf ${shellQuote(dir)}`);
  });

  it("writes a secrets file bash sources back to the exact passphrase and passwords (property)", () => {
    const spec = base({ databases: [{ kind: "postgresql", name: "a", passwordSecretRef: "pg" }, { kind: "mariadb", name: "b", passwordSecretRef: "maria.root" }] });
    const secret = fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).map((s) => s.replace(/\0/g, "")).filter((s) => s.length > 0);
    fc.assert(
      fc.property(fc.array(fc.tuple(secret, secret, secret), { minLength: 1, maxLength: 20 }), (cases) => {
        const script = cases
          .map(([pp, pg, maria]) => `( set -a; . /dev/stdin <<'HOMELAB_X_EOF'\n${renderSecretsEnv(spec, pp, { pg, "maria.root": maria })}HOMELAB_X_EOF\nprintf '%s\\0' "$BORG_PASSPHRASE" "$HOMELAB_DB_PASSWORD_PG" "$HOMELAB_DB_PASSWORD_MARIA_ROOT" )`)
          .join("\n");
        const out = bash(script).split("\0").slice(0, -1);
        assert.deepEqual(out, cases.flat());
      }),
      { numRuns: 10 },
    );
    assert.throws(() => renderSecretsEnv(spec, "pp", { pg: "x" }), /no password given for "maria\.root"/);
  });

  it("deploys every file with its mode and nothing secret, and only disables the timer on delete", () => {
    const spec = base({ databases: [{ kind: "postgresql", name: "all", passwordSecretRef: "pg" }], repository: { url: "ssh://b@h/r", knownHosts: "h ssh-ed25519 AAAA" } });
    const files = agentFileContents(spec, "1.7");
    assert.deepEqual(files.map((f) => [f.path, f.mode]), [
      ["/etc/homelab-backup/db01/config.yaml", "0600"],
      ["/usr/local/sbin/homelab-backup-db01", "0700"],
      ["/etc/systemd/system/homelab-backup-db01.service", "0644"],
      ["/etc/systemd/system/homelab-backup-db01.timer", "0644"],
      ["/etc/homelab-backup/db01/known_hosts", "0600"],
    ]);
    const deploy = deployScript(spec, "1.7");
    assert.match(deploy, /^systemctl enable --now homelab-backup-db01\.timer$/m);
    assert.doesNotMatch(deploy, /BORG_PASSPHRASE=/);
    assert.equal(disableScript(spec), "set -eu\nif [ -e /etc/systemd/system/homelab-backup-db01.timer ]; then\n  systemctl disable --now homelab-backup-db01.timer\nfi");
  });

  it("installs the clients of the databases it dumps and checks the borgmatic version", () => {
    const spec = base({ databases: [{ kind: "postgresql", name: "a" }, { kind: "mysql", name: "b" }, { kind: "mongodb", name: "c" }] });
    const script = installCommands(spec, "1.7");
    assert.match(script, /^for p in borgmatic borgbackup postgresql-client default-mysql-client; do$/m);
    assert.match(script, /1\.7\.\*\) ;;/);
    assert.match(script, /mongodump/);
    assert.match(installCommands(base(), "1.8"), /1\.8\.\* \| 1\.9\.\*\) ;;/);
  });

  it("the agent script stops only the containers marked for it", () => {
    const script = renderQuiesceScript(base({ docker: [{ container: "vw", volumes: ["d"], stopDuringBackup: true }, { container: "live", volumes: ["e"], stopDuringBackup: false }] }));
    assert.match(script, /^QUIESCE=\(vw\)$/m);
    assert.match(script, /^trap 'quiesce_start \|\| true' EXIT$/m);
  });
});

describe("from the strategy", () => {
  it("maps the homelab stack's agents to specs that resolve", () => {
    const stack = parse(readFileSync(`${__dirname}/../../Pulumi.homelab.yaml`, "utf8")) as { config: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(stack.config)) if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
    const parsed = parseStrategy(raw);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
    assert.ok(parsed.strategy.agents.length >= 2);
    for (const agent of parsed.strategy.agents) {
      const spec = resolveAgentSpec(agentSpecFromStrategy(agent, { excludes: parsed.strategy.exclusions.paths, passwordRef: (a, db) => `${a.name}-${db.kind}` }));
      assert.equal(spec.schedule, agent.schedule);
      assert.deepEqual(spec.retention, retentionFromKeep(agent.keep));
      for (const p of parsed.strategy.exclusions.paths) assert.ok(spec.excludes.includes(p));
    }
  });

  it("turns a keep policy into borg prune counts", () => {
    assert.deepEqual(retentionFromKeep({ keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }), { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 });
    assert.deepEqual(retentionFromKeep({ keepLast: 3, keepYearly: 5 }), { keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 5 });
  });
});
