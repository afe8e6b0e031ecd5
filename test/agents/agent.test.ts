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

type AgentModule = typeof import("../../components/agents/agent");

interface Registered {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  /** Inputs as serialized for the engine: secrets still wrapped in their signature objects. */
  raw: Record<string, unknown>;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
}

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
type Callback = (err: unknown, response?: { getUrn(): string }) => void;

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const KEY_EXPORT = "BORG_KEY 0123abcd\nhqlhbGdvcml0aG2mc2hhMjU2\n";

const SECRETS = {
  passphrase: "pp-Z3Vlc3MgbWU-passphrase",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-private\n-----END OPENSSH PRIVATE KEY-----\n",
  pg: "pg-password-7f3c9e",
  maria: "maria-password-41d0",
};

const registered: Registered[] = [];
let agents: AgentModule;

function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Every string in `value` outside secret wrappers. */
function plainStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) plainStrings(v, out);
  else if (typeof value === "object" && value !== null && !isSecretValue(value)) for (const v of Object.values(value)) plainStrings(v, out);
  return out;
}

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

function input(r: Registered, key: string): unknown {
  const v = r.raw[key];
  return isSecretValue(v) ? (v as { value: unknown }).value : v;
}

async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

describe("BorgmaticAgent under mocks", () => {
  const outputs: Record<string, pulumi.Output<string>> = {};

  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          const state: Record<string, unknown> = { ...a.inputs };
          if (a.type === "command:remote:Command") {
            state["stdout"] = a.name.endsWith("-key-export") ? KEY_EXPORT : "";
            state["stderr"] = "";
          }
          return { id: `${a.name}-id`, state };
        },
        call: (a) => {
          throw new Error(`unmocked invoke ${a.token}`);
        },
      },
      "homelab-backup",
      "test",
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mocks = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } };
    const proto = mocks.MockMonitor.prototype;
    const original = proto["registerResource"] as (this: unknown, req: MonitorRequest, cb: Callback) => Promise<void>;
    // The public mock API hides parent and resource options (pulumi/pulumi#14421).
    proto["registerResource"] = function (this: unknown, req: MonitorRequest, callback: Callback) {
      return original.call(this, req, (err, response) => {
        if (!err && response) {
          registered.push({
            urn: response.getUrn(),
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent(),
            custom: req.getCustom(),
            raw: req.getObject()?.toJavaScript() ?? {},
            retainOnDelete: req.getRetainondelete() === true,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          });
        }
        callback(err, response);
      });
    };
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
