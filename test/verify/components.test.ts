/**
 * RestoreTest and DatabaseRestoreTest under Pulumi's mock runtime (strict: any invoke fails):
 * type tokens, one deploy command each parented to its component, the SSH key only as a secret,
 * what the deploy and delete steps carry, sudo for non-root logins, and refusals before anything
 * registers.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseCalendarEvent } from "../../config/calendar";
import type { AgentSpec } from "../../components/agents/spec";
import type { RestoreTestArgs } from "../../components/verify";
import { find, isSecretValue, plainStrings, registered, settle, startMocks } from "../helpers/mock-runtime";

type VerifyModule = typeof import("../../components/verify");

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-verify-private\n-----END OPENSSH PRIVATE KEY-----\n";

const outputs: Record<string, unknown> = {};
let verify: VerifyModule;



const unwrap = (value: unknown): unknown => (isSecretValue(value) ? (value as { value: unknown }).value : value);


function pveArgs(extra: Partial<RestoreTestArgs> = {}): RestoreTestArgs {
  return {
    site: "homelab",
    storage: "pbs-backup",
    scratchRange: { from: 9000, to: 9099 },
    isolatedBridge: "vmbr99",
    productionVmids: [101, 102, 110, 120],
    services: [
      { service: "database-vms", tier: "critical", rtoMinutes: 60, vmids: [101, 102], kind: "vm" },
      { service: "application-vms", tier: "important", rtoMinutes: 240, pool: "applications", kind: "auto" },
    ],
    monthlyServices: ["database-vms"],
    connection: { host: "10.0.10.11", privateKey: PRIVATE_KEY },
    ...extra,
  };
}

const DB01: AgentSpec = {
  host: { name: "db01", address: "10.20.0.51", sshPort: 2222 },
  service: "database-vms",
  repository: { url: "ssh://borg@10.20.0.30/mnt/tank/borg/db01" },
  databases: [
    { kind: "postgresql", name: "all", hostname: "127.0.0.1", port: 5432, username: "postgres", passwordSecretRef: "db01-pg" },
    { kind: "mariadb", name: "shop", hostname: "127.0.0.1", username: "root" },
  ],
  retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
  schedule: parseCalendarEvent("*-*-* 02:00"),
};


const value = <T>(o: pulumi.Output<T> | T) => (pulumi.Output.isInstance(o) ? new Promise<T>((r) => (o as pulumi.Output<T>).apply(r)) : Promise.resolve(o));

describe("restore-test components under mocks", () => {
  before(async () => {
    await startMocks();
    verify = await import("../../components/verify");

    const pve = new verify.RestoreTest("pve1-restore", pveArgs({ weeklySchedule: "Wed *-*-* 11:30" }));
    const sudo = new verify.RestoreTest("pve2-restore", pveArgs({ connection: { host: "10.0.10.12", user: "backup", port: 2222, privateKey: pulumi.secret(PRIVATE_KEY) } }));
    const db = new verify.DatabaseRestoreTest("db01-restore", { site: "homelab", agent: DB01, rtoMinutes: 60, connection: { privateKey: PRIVATE_KEY } });
    outputs["pve.weekly"] = pve.weeklyOnCalendar;
    outputs["pve.monthly"] = pve.monthlyOnCalendar;
    outputs["pve.timers"] = pve.timerUnits;
    outputs["pve.services"] = pve.testedServices;
    outputs["db.onCalendar"] = db.onCalendar;
    outputs["db.databases"] = db.databases;
    outputs["pve.urn"] = await value(pve.urn);
    outputs["sudo.urn"] = await value(sudo.urn);
    outputs["db.urn"] = await value(db.urn);
    await settle();
  });

  it("registers each component under its type token with one deploy command parented to it", () => {
    for (const [type, name] of [
      ["homelab:verify:RestoreTest", "pve1-restore"],
      ["homelab:verify:RestoreTest", "pve2-restore"],
      ["homelab:verify:DatabaseRestoreTest", "db01-restore"],
    ] as const) {
      const component = find(type, name);
      assert.equal(component.custom, false);
      const children = registered.filter((r) => r.parent === component.urn);
      assert.deepEqual(children.map((c) => [c.type, c.name]), [["command:remote:Command", `${name}-deploy`]]);
      assert.match(children[0]?.urn ?? "", new RegExp(`${type.replace(/:/g, ":")}\\$command:remote:Command::${name}-deploy$`));
      assert.equal(children[0]?.deleteBeforeReplace, true);
    }
  });

  it("sends the SSH key only as a secret, never in plaintext", () => {
    for (const r of registered) {
      for (const s of plainStrings(r.raw)) assert.ok(!s.includes("verify-private"), `${r.type} ${r.name} carries the key in plaintext`);
    }
    for (const name of ["pve1-restore-deploy", "pve2-restore-deploy", "db01-restore-deploy"]) {
      const c = find("command:remote:Command", name);
      assert.ok(isSecretValue(c.raw["connection"]), `${name} connection is secret`);
      assert.equal((unwrap(c.raw["connection"]) as Record<string, unknown>)["privateKey"], PRIVATE_KEY);
    }
  });

  it("the PVE node's deploy step writes the script and both timers; its delete only disables them", () => {
    const c = find("command:remote:Command", "pve1-restore-deploy");
    const conn = unwrap(c.raw["connection"]) as Record<string, unknown>;
    assert.deepEqual([conn["host"], conn["user"], conn["port"]], ["10.0.10.11", "root", 22]);
    const create = String(c.raw["create"]);
    assert.match(create, /^# homelab-backup restore test of site homelab, content [0-9a-f]{16}$/m);
    assert.match(create, /^OnCalendar=Wed \*-\*-\* 11:30$/m);
    assert.match(create, /^OnCalendar=Sun \*-\*-01\.\.07 10:00$/m);
    assert.match(create, /^SCRATCH_FROM=9000$/m);
    assert.match(create, /^declare -A PROD=\(\[101\]=1 \[102\]=1 \[110\]=1 \[120\]=1\)$/m);
    assert.match(create, /^systemctl enable --now homelab-backup-restore-test-weekly\.timer homelab-backup-restore-test-monthly\.timer$/m);
    assert.equal(c.raw["triggers"], undefined, "a trigger would replace the step instead of updating it");
    const del = String(c.raw["delete"]);
    assert.match(del, /systemctl disable --now homelab-backup-restore-test-weekly\.timer/);
    assert.doesNotMatch(del, /\brm\b|qm destroy/);
  });

  it("runs the steps through sudo -n for a non-root login", () => {
    const c = find("command:remote:Command", "pve2-restore-deploy");
    const conn = unwrap(c.raw["connection"]) as Record<string, unknown>;
    assert.deepEqual([conn["host"], conn["user"], conn["port"]], ["10.0.10.12", "backup", 2222]);
    assert.match(String(c.raw["create"]), /^sudo -n bash -c '/);
    assert.match(String(c.raw["delete"]), /^sudo -n bash -c '/);
    assert.doesNotMatch(String(find("command:remote:Command", "pve1-restore-deploy").raw["create"]), /^sudo/);
  });

  it("the agent host's deploy step dials the agent's address and writes its script and timer", () => {
    const c = find("command:remote:Command", "db01-restore-deploy");
    const conn = unwrap(c.raw["connection"]) as Record<string, unknown>;
    assert.deepEqual([conn["host"], conn["user"], conn["port"]], ["10.20.0.51", "root", 2222]);
    const create = String(c.raw["create"]);
    assert.match(create, /^cat > \/usr\/local\/sbin\/homelab-backup-db01-restore-test\.new <</m);
    assert.match(create, /^OnCalendar=\*-\*-01 06:00$/m);
    assert.match(create, /^systemctl enable --now homelab-backup-db01-restore-test\.timer$/m);
    assert.match(create, /^E_KIND=\(postgresql mariadb\)$/m);
    assert.match(String(c.raw["delete"]), /systemctl disable --now homelab-backup-db01-restore-test\.timer/);
  });

  it("exposes schedules, timers and what is tested", async () => {
    assert.equal(await value(outputs["pve.weekly"] as string), "Wed *-*-* 11:30");
    assert.equal(await value(outputs["pve.monthly"] as string), "Sun *-*-01..07 10:00");
    assert.deepEqual(await value(outputs["pve.timers"] as string[]), ["homelab-backup-restore-test-weekly.timer", "homelab-backup-restore-test-monthly.timer"]);
    assert.deepEqual(await value(outputs["pve.services"] as string[]), ["database-vms", "application-vms"]);
    assert.equal(await value(outputs["db.onCalendar"] as string), "*-*-01 06:00");
    assert.deepEqual(await value(outputs["db.databases"] as string[]), ["postgresql.all", "mariadb.shop"]);
  });

  it("refuses a scratch range holding a production guest, and a bad schedule, before registering anything", async () => {
    const before = registered.length;
    assert.throws(() => new verify.RestoreTest("bad-range", pveArgs({ scratchRange: { from: 100, to: 199 } })), /scratchRange 100-199 holds production guests 101, 102, 110, 120/);
    assert.throws(() => new verify.RestoreTest("bad-schedule", pveArgs({ monthlySchedule: "every full moon" })), /monthlySchedule: /);
    assert.throws(
      () => new verify.DatabaseRestoreTest("bad-db", { site: "homelab", agent: DB01, rtoMinutes: 60, databases: [{ kind: "mariadb", database: "wiki" }], connection: { privateKey: PRIVATE_KEY } }),
      /agent db01 dumps no mariadb database wiki/,
    );
    await settle();
    assert.deepEqual(registered.slice(before).map((r) => r.name), [], "nothing registered for a refused component");
  });
});
