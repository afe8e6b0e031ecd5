/**
 * The wizard as a person uses it: on a pseudo-terminal, answering inquirer's prompts with keys.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { totp, type PveTestServer } from "../fixtures/pve-server";
import { auditLines, cliEnv, CRITICAL, hourlyBackups, KEY, stackDir, startCluster, Terminal } from "./harness";

describe("restore wizard on a terminal", () => {
  let pve: PveTestServer;
  let dir: string;
  const now = new Date();

  before(async () => {
    pve = await startCluster();
    hourlyBackups(pve, 101, now, 4);
    dir = stackDir(pve);
  });
  after(() => pve.close());

  it("restores the point picked from the list into a new, isolated guest and records it", async () => {
    const original = structuredClone(pve.guests.get(101));
    const points = pve.volumes.filter((v) => v.vmid === 101).sort((a, b) => b.ctime - a.ctime);
    const second = points[1];
    assert.ok(second);
    second.config = { ...second.config, memory: 6144 };
    const term = new Terminal(["--stack", "homelab"], { cwd: dir, env: cliEnv(pve, { XDG_STATE_HOME: dir }) });
    let at = await term.expect(/Which service\?/);
    await term.send(KEY.enter);
    at = await term.expect(/Which guest of database-vms\?[\s\S]*101 db01 · running on pve1 · 4 backups/, undefined, at);
    await term.send(KEY.enter);
    at = await term.expect(/Which restore point\? \(4 on PBS, newest first\)/, undefined, at);
    await term.send(KEY.down + KEY.enter);
    at = await term.expect(/Reading from: PBS, (\S+)\./, undefined, at);
    at = await term.expect(/Restore where\?/, undefined, at);
    await term.send(KEY.enter);
    at = await term.expect(/New guest id:/, undefined, at);
    await term.send("9001" + KEY.enter);
    at = await term.expect(/Restore into 9001\?/, undefined, at);
    await term.send(KEY.enter);
    assert.equal(await term.exit(), 0, term.text);
    assert.match(term.text, new RegExp(`Reading from: PBS, ${second.volid.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.`));
    assert.match(term.text, /… restore \S+ into new VM 9001 \d:\d\d · \d:\d\d of RTO 1h \(\d+%\)/, "progress against the RTO while the task runs");

    const copy = pve.guests.get(9001);
    assert.ok(copy, "the copy exists");
    assert.equal(copy.status, "running");
    assert.equal(copy.config.memory, 6144, "the copy holds the chosen point, not the newest");
    assert.equal(copy.config.name, "db01-restored");
    assert.equal(copy.config.onboot, 0);
    assert.match(String(copy.config.net0), /,link_down=1$/);
    assert.notEqual(/virtio=([0-9A-F:]{17})/.exec(String(copy.config.net0))?.[1], "BC:24:11:00:01:01", "new MAC address");
    assert.deepEqual(pve.guests.get(101), original, "the production guest is untouched");
    assert.equal(pve.mutatingRequests().filter((r) => r.path.includes("/101")).length, 0);
    const restore = pve.seen("POST", /^\/nodes\/pve1\/qemu$/);
    assert.deepEqual(restore.map((r) => r.params), [{ vmid: "9001", archive: second.volid, unique: "1" }]);

    const [record, ...rest] = auditLines(join(dir, "homelab-backup", "restore-audit.jsonl"));
    assert.equal(rest.length, 0);
    assert.equal(record?.outcome, "restored");
    assert.deepEqual(record?.target, { mode: "new", vmid: 9001, node: "pve1" });
    assert.equal(record?.point.volid, second.volid);
    assert.equal(record?.point.requested, "chosen");
    assert.equal(record?.point.storage, CRITICAL);
  });

  it("finds the point for a typed time, refuses a production id as the new id, and changes nothing when declined", async () => {
    const term = new Terminal(["--stack", "homelab", "--service", "database-vms", "--guest", "101", "--target", "new"], {
      cwd: dir,
      env: cliEnv(pve, { XDG_STATE_HOME: join(dir, "declined") }),
    });
    const before = pve.mutatingRequests().length;
    const second = pve.volumes.filter((v) => v.vmid === 101).sort((a, b) => b.ctime - a.ctime)[1]!;
    const typed = new Date((second.ctime + 600) * 1000).toISOString().slice(0, 16).replace("T", " ");
    let at = await term.expect(/Which restore point\?/);
    // Typing jumps to the entry starting with it, as a person would reach the last one.
    await term.send("A");
    await term.send(KEY.enter);
    at = await term.expect(/Restore to the newest point at or before/, undefined, at);
    await term.send(typed + KEY.enter);
    at = await term.expect(/Reading from: PBS, (\S+)\. Why: PBS holds the newest backup at or before/, undefined, at);
    assert.match(term.text.slice(0, at), new RegExp(`Reading from: PBS, ${second.volid.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.`));
    at = await term.expect(/New guest id:/, undefined, at);
    await term.send("102" + KEY.enter);
    at = await term.expect(/102 is a production guest \(listed in the config for service database-vms\)/, undefined, at);
    await term.send("\x7f\x7f\x7f130" + KEY.enter);
    at = await term.expect(/130 is a production guest \(it exists on the cluster as app01 on pve2\)/, undefined, at);
    await term.send("\x7f\x7f\x7f9002" + KEY.enter);
    at = await term.expect(/Restore into 9002\?/, undefined, at);
    await term.send("n" + KEY.enter);
    assert.equal(await term.exit(), 1, term.text);
    assert.match(term.text, /cancelled; nothing was changed/);
    assert.equal(pve.mutatingRequests().length, before);
    assert.equal(pve.guests.has(9002), false);
    assert.equal(existsSync(join(dir, "declined")), false, "nothing restored, nothing audited");
  });

  it("logs in with a password and a TOTP code when there is no token, and never shows the password", async () => {
    const secret = randomBytes(20);
    pve.addUser("operator@pve", "correct horse battery", secret);
    const env = cliEnv(pve);
    delete env.PVE_API_TOKEN;
    const term = new Terminal(["--stack", "homelab", "--user", "operator@pve", "--service", "database-vms", "--guest", "101", "--at", "latest", "--target", "in-place", "--dry-run"], { cwd: dir, env });
    const before = pve.seen("POST", /^\/access\/ticket$/).length;
    let at = await term.expect(/Password for operator@pve/);
    await term.send("correct horse battery" + KEY.enter);
    at = await term.expect(/Second factor for operator@pve/, undefined, at);
    await term.send(totp(secret) + KEY.enter);
    assert.equal(await term.exit(), 0, term.text);
    assert.match(term.text, /Dry run: nothing was changed\./);
    assert.doesNotMatch(term.text, /correct horse/);
    const logins = pve.seen("POST", /^\/access\/ticket$/).slice(before);
    assert.deepEqual(logins.map((r) => [r.status, Object.keys(r.params).sort().join(",")]), [
      [200, "password,username"],
      [200, "password,tfa-challenge,username"],
    ]);
  });
});
