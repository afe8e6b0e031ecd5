/**
 * BorgmaticAgent under Pulumi's mock runtime (strict: any invoke fails). Checks the remote
 * commands per host, that secrets reach them only as secret inputs, what removing an agent does,
 * and that changing one service's schedule changes only that host's deploy step.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseCalendarEvent } from "../../config/calendar";
import type { AgentSpec } from "../../components/agents/spec";
import { input, isSecretValue, plainStrings, registered, settle, startMocks, type Registered } from "../helpers/mock-runtime";

type AgentModule = typeof import("../../components/agents/agent");

const KEY_EXPORT = "BORG_KEY 0123abcd\nhqlhbGdvcml0aG2mc2hhMjU2\n";

const SECRETS = {
  passphrase: "pp-Z3Vlc3MgbWU-passphrase",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-private\n-----END OPENSSH PRIVATE KEY-----\n",
  pg: "pg-password-7f3c9e",
  maria: "maria-password-41d0",
};

let agents: AgentModule;



function spec(name: string, schedule: string, extra: Partial<AgentSpec> = {}): AgentSpec {
  return {
    host: { name, address: `10.20.0.${name === "db01" ? 51 : 52}` },
    service: name === "db01" ? "database-vms" : "docker-volumes",
    repository: { url: `ssh://borg@10.20.0.30/mnt/tank/borg/${name}` },
    sources: ["/etc"],
    retention: { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
    schedule: parseCalendarEvent(schedule),
    ...extra,
  };
}

const DB01 = (schedule = "*-*-* 02:00") =>
  spec("db01", schedule, {
    databases: [
      { kind: "postgresql", name: "all", hostname: "127.0.0.1", port: 5432, username: "postgres", passwordSecretRef: "db01-pg" },
      { kind: "mariadb", name: "all", hostname: "127.0.0.1", port: 3306, username: "root", passwordSecretRef: "db01-maria" },
    ],
    healthcheckUrl: "https://hc.home.arpa/ping/db01",
  });
const DOCKER01 = (schedule = "*-*-* 02:00") =>
  spec("docker01", schedule, {
    sources: ["/etc", "/opt/stacks"],
    docker: [
      { container: "vaultwarden", volumes: ["vaultwarden_data"], stopDuringBackup: true },
      { container: "paperless", volumes: ["paperless_media", "paperless_data"], stopDuringBackup: false },
    ],
  });

function args(s: AgentSpec, secret: boolean) {
  const wrap = (v: string) => (secret ? pulumi.secret(v) : v);
  const isDb = s.host.name === "db01";
  return {
    spec: s,
    connection: { privateKey: wrap(SECRETS.privateKey) },
    passphrase: wrap(SECRETS.passphrase),
    ...(isDb ? { databasePasswords: { "db01-pg": wrap(SECRETS.pg), "db01-maria": wrap(SECRETS.maria) } } : {}),
  };
}

function commands(prefix: string): Registered[] {
  return registered.filter((r) => r.type === "command:remote:Command" && r.name.startsWith(`${prefix}-`));
}

function command(name: string): Registered {
  const r = registered.find((x) => x.type === "command:remote:Command" && x.name === name);
  if (!r) throw new Error(`no command ${name}; have ${registered.map((x) => x.name).join(", ")}`);
  return r;
}



describe("BorgmaticAgent under mocks", () => {
  const outputs: Record<string, pulumi.Output<string>> = {};

  before(async () => {
    await startMocks((type, name) => (type === "command:remote:Command" && name.endsWith("-key-export") ? { stdout: KEY_EXPORT } : {}));
    agents = await import("../../components/agents/agent");

    // Secret inputs for one host, plain ones for the other: the component must make both secret.
    const db01 = new agents.BorgmaticAgent("db01", args(DB01(), true));
    const docker01 = new agents.BorgmaticAgent("docker01", args(DOCKER01(), false));
    // A second rendering of the same two hosts where only docker01's schedule changed.
    const db01b = new agents.BorgmaticAgent("b-db01", args(DB01(), true));
    const docker01b = new agents.BorgmaticAgent("b-docker01", args(DOCKER01("Sun *-*-* 03:00"), false));
    outputs["db01"] = db01.repositoryKey;
    outputs["docker01"] = docker01.repositoryKey;
    for (const a of [db01, docker01, db01b, docker01b]) await new Promise((r) => a.repositoryKey.apply(r));
    await settle();
  });

  it("registers the component and five remote commands per host, parented to it", () => {
    for (const name of ["db01", "docker01"]) {
      const component = registered.find((r) => r.type === "homelab:agents:BorgmaticAgent" && r.name === name);
      assert.ok(component, `component ${name}`);
      assert.equal(component.custom, false);
      const names = commands(name).map((r) => r.name).sort();
      assert.deepEqual(names, [`${name}-deploy`, `${name}-install`, `${name}-key-export`, `${name}-repo-init`, `${name}-secrets`]);
      for (const c of commands(name)) {
        assert.equal(c.parent, component.urn, `${c.name} is a child of ${name}`);
        assert.match(c.urn, /homelab:agents:BorgmaticAgent\$command:remote:Command::/);
      }
    }
  });

  it("dials each host with its own address and key", () => {
    const conn = input(command("db01-install"), "connection") as Record<string, unknown>;
    assert.equal(conn["host"], "10.20.0.51");
    assert.equal(conn["user"], "root");
    assert.equal(conn["port"], 22);
    assert.equal(input(command("docker01-install"), "connection") !== undefined, true);
    assert.equal((input(command("docker01-deploy"), "connection") as Record<string, unknown>)["host"], "10.20.0.52");
  });

  it("never registers a secret in plaintext, and sends secrets as secret inputs", () => {
    for (const r of registered) {
      for (const s of plainStrings(r.raw)) {
        for (const [what, secret] of Object.entries(SECRETS)) {
          const probe = secret.split("\n")[1] ?? secret;
          assert.ok(!s.includes(probe), `${r.type} ${r.name} carries the ${what} in plaintext`);
        }
      }
    }
    for (const host of ["db01", "docker01"]) {
      const secrets = command(`${host}-secrets`);
      assert.ok(isSecretValue(secrets.raw["stdin"]), `${host}-secrets stdin is secret`);
      for (const c of commands(host)) assert.ok(isSecretValue(c.raw["connection"]), `${c.name} connection is secret`);
    }
    const env = String(input(command("db01-secrets"), "stdin"));
    assert.match(env, /^BORG_PASSPHRASE=/m);
    assert.ok(env.includes(SECRETS.pg) && env.includes(SECRETS.maria), "the secrets file carries both passwords");
    const docker = String(input(command("docker01-secrets"), "stdin"));
    assert.ok(docker.includes(SECRETS.passphrase.slice(0, 8)), "plain inputs are still delivered, as secrets");
  });

  it("exports the repository key as a secret output", async () => {
    for (const key of Object.values(outputs)) {
      assert.equal(await pulumi.isSecret(key), true);
      assert.equal(await new Promise((r) => key.apply(r)), KEY_EXPORT);
    }
    assert.ok(command("db01-key-export").additionalSecretOutputs.includes("stdout"));
    assert.equal(input(command("db01-key-export"), "logging"), "stderr");
  });

  it("only disables the timer when an agent is removed, and keeps the repository", () => {
    for (const host of ["db01", "docker01"]) {
      const deploy = command(`${host}-deploy`);
      const del = String(input(deploy, "delete"));
      assert.match(del, new RegExp(`systemctl disable --now homelab-backup-${host}\\.timer`));
      assert.doesNotMatch(del, /\brm\b|borg (delete|rdelete)|rmdir/);
      assert.equal(deploy.deleteBeforeReplace, true);
      assert.equal(input(deploy, "triggers"), undefined, "a trigger would replace the deploy step");
      const init = command(`${host}-repo-init`);
      assert.equal(init.retainOnDelete, true);
      assert.equal(input(init, "delete"), undefined);
      for (const c of commands(host).filter((x) => x !== deploy)) assert.equal(input(c, "delete"), undefined, `${c.name} deletes nothing`);
    }
  });

  it("a schedule change on one host changes only that host's deploy step", () => {
    for (const step of ["install", "secrets", "deploy", "repo-init", "key-export"]) {
      const a = command(`db01-${step}`).raw;
      const b = command(`b-db01-${step}`).raw;
      assert.deepEqual(plainStrings(b), plainStrings(a), `db01 ${step} unchanged`);
    }
    for (const step of ["install", "secrets", "repo-init", "key-export"]) {
      assert.deepEqual(plainStrings(command(`b-docker01-${step}`).raw), plainStrings(command(`docker01-${step}`).raw), `docker01 ${step} unchanged`);
    }
    const before = String(input(command("docker01-deploy"), "create"));
    const after = String(input(command("b-docker01-deploy"), "create"));
    assert.notEqual(after, before);
    assert.match(before, /^OnCalendar=\*-\*-\* 02:00$/m);
    assert.match(after, /^OnCalendar=Sun \*-\*-\* 03:00$/m);
    // Only the timer and the content hash differ.
    const changed = after.split("\n").filter((line, i) => line !== before.split("\n")[i]);
    assert.ok(changed.every((l) => /^OnCalendar=|^# homelab-backup agent|HOMELAB_BACKUP_EOF_/.test(l)), `unexpected changes: ${changed.join(" | ")}`);
  });

  it("refuses a database password reference with no password", () => {
    assert.throws(
      () => new agents.BorgmaticAgent("db02", { ...args(DB01(), true), spec: { ...DB01(), host: { name: "db02", address: "10.20.0.53" } }, databasePasswords: {} }),
      /databasePasswords has no entry for "db01-pg", "db01-maria"/,
    );
  });
});
