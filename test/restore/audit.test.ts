/** Every restore leaves an audit line and tells the notification targets; no secret in either. */
import assert from "node:assert/strict";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeSelfSignedCert } from "../fixtures/cert";
import type { PveTestServer } from "../fixtures/pve-server";
import { auditLines, cliEnv, CRITICAL, hourlyBackups, runCli, stackDir, startCluster } from "./harness";

interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, any>;
}

describe("audit line and notifications", () => {
  let pve: PveTestServer;
  let hooks: https.Server;
  let dir: string;
  let caFile: string;
  const received: Received[] = [];
  const gotifyToken = "gotify-token-0123456789";

  before(async () => {
    pve = await startCluster();
    hourlyBackups(pve, 101, new Date(), 3);
    const cert = makeSelfSignedCert("hooks.test");
    hooks = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      let text = "";
      req.on("data", (d: Buffer) => (text += d.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(text) as Record<string, any> });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
    const base = `https://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
    dir = stackDir(pve, {
      targets: [
        { type: "smtp", name: "mail", server: "smtp.home.arpa", from: "backup@home.arpa", mailto: ["admin@home.arpa"] },
        { type: "gotify", name: "push", server: base },
        { type: "webhook", name: "hook", url: `${base}/hook` },
      ],
    });
    caFile = join(dir, "hooks-ca.pem");
    writeFileSync(caFile, cert.cert);
  });
  after(async () => {
    await pve.close();
    await new Promise<void>((r) => hooks.close(() => r()));
  });

  it("writes one JSON line with who, what, from which point, to where, the outcome and the time against the RTO, then notifies", async () => {
    const started = Date.now();
    // No --audit-log and no XDG_STATE_HOME: the line goes to ./restore-audit.jsonl.
    const result = await runCli(["--stack", "homelab", "--service", "database-vms", "--guest", "101", "--at", "latest", "--target", "new", "--new-id", "9100", "--yes"], {
      cwd: dir,
      env: cliEnv(pve, { NODE_EXTRA_CA_CERTS: caFile, NOTIFICATION_SECRETS: JSON.stringify({ push: gotifyToken }) }),
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = auditLines(join(dir, "restore-audit.jsonl"));
    assert.equal(lines.length, 1);
    const record = lines[0]!;
    const newest = pve.volumes.filter((v) => v.vmid === 101 && !v.protected).sort((a, b) => b.ctime - a.ctime)[0]!;
    assert.ok(Math.abs(Date.parse(record.time) - started) < 30_000);
    assert.deepEqual(record.who, { user: "tester", host: hostname(), pve: "root@pam!restore" });
    assert.equal(record.stack, "homelab");
    assert.equal(record.service, "database-vms");
    assert.equal(record.tier, "critical");
    assert.deepEqual(record.guest, { vmid: 101, type: "qemu", node: "pve1", name: "db01" });
    assert.deepEqual(
      { ...record.point, why: undefined },
      { volid: newest.volid, time: newest.volid.split("/").pop(), copy: "pbs", storage: CRITICAL, requested: "latest", why: undefined },
    );
    assert.deepEqual(record.target, { mode: "new", vmid: 9100, node: "pve1" });
    assert.equal(record.outcome, "restored");
    assert.deepEqual(
      record.steps.map((s: { step: string; ok: boolean }) => [s.step, s.ok]),
      [
        [`restore ${newest.volid.split("/").pop()} into new VM 9100`, true],
        ["isolate 9100: network disconnected, not started at boot, renamed", true],
        ["start 9100", true],
        ["QEMU guest agent of 9100 answers", true],
        // The service's checkCommand from the stack config, run through the guest agent.
        ["check: systemctl is-active --quiet postgresql mariadb", true],
      ],
    );
    assert.ok(record.durationSeconds >= 0 && record.durationSeconds < 60);
    assert.deepEqual(record.rto, { target: "1h", seconds: 3600, met: true });

    const line = JSON.stringify(record) + result.stdout;
    assert.doesNotMatch(line, new RegExp(pve.tokenSecret));
    assert.doesNotMatch(line, new RegExp(gotifyToken));

    const gotify = received.find((r) => r.path === "/message");
    assert.equal(gotify?.headers["x-gotify-key"], gotifyToken);
    assert.equal(gotify?.body.title, "Restore restored: database-vms guest 101 → new guest 9100");
    const hook = received.find((r) => r.path === "/hook");
    assert.equal(hook?.body.severity, "info");
    assert.deepEqual(hook?.body.record, record, "the webhook carries the audit record");
    assert.equal(received.length, 2);
    assert.match(result.stdout, /Notify mail \(smtp\): not sent, mail is not sent from the workstation/);
    assert.match(result.stdout, /Notify push \(gotify\): sent, HTTP 200/);
    assert.match(result.stdout, /Notify hook \(webhook\): sent, HTTP 200/);
  });
});
