/**
 * Notifier, CapacityCheck and FreshnessCheck under Pulumi's mock runtime (strict: any invoke
 * fails): their children and parents, the exact paths and units they deploy, secrets reaching
 * hosts only as secret inputs, what removal does, and arguments refused at construction.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { command, componentOutputs, find, input, isSecretValue, plainStrings, registered, settle, startMocks, writtenContent } from "../helpers/mock-runtime";

type Monitoring = typeof import("../../components/monitoring");

const FP = Array.from({ length: 32 }, (_, i) => ((i * 7) % 256).toString(16).padStart(2, "0")).join("");
const SECRETS = {
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAmonitor\n-----END OPENSSH PRIVATE KEY-----\n",
  gotify: "AGotifyAppToken.x1",
  ntfy: "tk_ntfyaccess0123",
  pbs: "5f0c2d3e-7a1b-4c9d-8e6f-0a1b2c3d4e5f",
  truenas: "1-truenasreadonlyapikey",
};
const PBS = { host: "127.0.0.1", fingerprint: FP, tokenId: "monitor@pbs!audit" };

let m: Monitoring;

describe("monitoring components under mocks", () => {
  before(async () => {
    await startMocks();
    m = await import("../../components/monitoring");
    const key = pulumi.secret(SECRETS.privateKey);
    new m.Notifier("notify", {
      hosts: [
        { name: "pbs", connection: { host: "10.20.0.20", privateKey: key } },
        { name: "pve1", connection: { host: "10.0.10.11", user: "backup", privateKey: SECRETS.privateKey } },
      ],
      targets: [
        { type: "gotify", name: "gotify", server: "https://gotify.home.arpa" },
        { type: "webhook", name: "ntfy", url: "https://ntfy.home.arpa/backups" },
        { type: "smtp", name: "mail", from: "backup@home.arpa", mailto: ["admin@home.arpa"], minSeverity: "error" },
      ],
      // Plain on purpose: the component must make them secret.
      gotifyTokens: { gotify: SECRETS.gotify },
      webhookTokens: { ntfy: pulumi.secret(SECRETS.ntfy) },
    });
    new m.CapacityCheck("capacity", {
      connection: { host: "10.20.0.20", privateKey: key },
      pbs: PBS,
      pbsTokenSecret: SECRETS.pbs,
      truenas: { host: "10.20.0.30", fingerprint: FP, username: "monitor" },
      truenasApiKey: pulumi.secret(SECRETS.truenas),
    });
    new m.FreshnessCheck("freshness", {
      connection: { host: "10.20.0.20", privateKey: key },
      pbs: PBS,
      pbsTokenSecret: pulumi.secret(SECRETS.pbs),
      services: [{ name: "database-vms", datastore: "critical", vmids: [101, 102], rpoMinutes: 60, expectedDurationMinutes: 25 }],
      schedule: "*:0/10",
    });
    await settle();
  });

  it("registers each component with its steps as children, in order", () => {
    const expected: Record<string, [string, string[]]> = {
      notify: ["homelab:monitoring:Notifier", ["notify-pbs-install", "notify-pbs-secrets", "notify-pbs-deploy", "notify-pve1-install", "notify-pve1-secrets", "notify-pve1-deploy"]],
      capacity: ["homelab:monitoring:CapacityCheck", ["capacity-install", "capacity-secrets", "capacity-deploy"]],
      freshness: ["homelab:monitoring:FreshnessCheck", ["freshness-install", "freshness-secrets", "freshness-deploy"]],
    };
    for (const [name, [type, steps]] of Object.entries(expected)) {
      const component = find(type, name);
      assert.equal(component.custom, false);
      const children = registered.filter((r) => r.parent === component.urn);
      assert.deepEqual(children.map((c) => c.name).sort(), [...steps].sort());
      assert.ok(children.every((c) => c.type === "command:remote:Command"));
      // install ─► secrets ─► deploy, per host.
      for (let i = 0; i < steps.length; i += 3) {
        assert.deepEqual(command(steps[i + 1] as string).dependencies, [command(steps[i] as string).urn]);
        assert.deepEqual(command(steps[i + 2] as string).dependencies, [command(steps[i + 1] as string).urn]);
      }
    }
  });

  it("installs homelab-backup-notify at exactly /usr/local/sbin/homelab-backup-notify, through sudo -n for a non-root login", () => {
    const root = String(input(command("notify-pbs-deploy"), "create"));
    const content = writtenContent(root, "/usr/local/sbin/homelab-backup-notify");
    assert.ok(content, root);
    assert.match(root, /^chmod 0755 \/usr\/local\/sbin\/homelab-backup-notify\.new$/m);
    assert.ok(content.startsWith("#!/bin/bash\n# homelab-backup-notify: one message"));
    assert.match(content, /^send_gotify gotify info https:\/\/gotify\.home\.arpa GOTIFY_TOKEN_GOTIFY ''$/m);
    assert.match(content, /^send_webhook ntfy info ntfy https:\/\/ntfy\.home\.arpa\/ backups WEBHOOK_TOKEN_NTFY ''$/m);
    assert.match(content, /^send_mail mail error backup@home\.arpa admin@home\.arpa$/m);
    const sudo = String(input(command("notify-pve1-deploy"), "create"));
    assert.match(sudo, /^sudo -n bash -c /);
    assert.equal((input(command("notify-pve1-deploy"), "connection") as Record<string, unknown>).user, "backup");
    assert.match(String(input(command("notify-pbs-install"), "create")), /command -v curl .*\n.*command -v jq/);
    assert.equal(m.NOTIFY_COMMAND, "/usr/local/sbin/homelab-backup-notify");
  });

  it("deploys each check with its service and timer, enabled, and only the tools it needs", () => {
    const cap = String(input(command("capacity-deploy"), "create"));
    const timer = writtenContent(cap, "/etc/systemd/system/homelab-backup-capacity.timer") ?? "";
    assert.match(timer, /^OnCalendar=hourly$/m);
    assert.match(writtenContent(cap, "/etc/systemd/system/homelab-backup-capacity.service") ?? "", /^ExecStart=\/usr\/local\/lib\/homelab-backup\/check-capacity$/m);
    assert.equal(writtenContent(cap, "/usr/local/lib/homelab-backup/truenas-query"), m.TRUENAS_QUERY_SCRIPT);
    assert.match(cap, /^systemctl enable --now homelab-backup-capacity\.timer$/m);
    const script = writtenContent(cap, "/usr/local/lib/homelab-backup/check-capacity") ?? "";
    assert.match(script, /^NOTIFY=\/usr\/local\/sbin\/homelab-backup-notify$/m);
    assert.match(script, /^THRESHOLD=80$/m);
    assert.match(script, /^ENV_FILE=\/etc\/homelab-backup\/capacity\.env$/m);
    assert.match(String(input(command("capacity-install"), "create")), /command -v python3 >\/dev\/null 2>&1 \|\| missing="\$missing python3"/);

    const fresh = String(input(command("freshness-deploy"), "create"));
    assert.match(writtenContent(fresh, "/etc/systemd/system/homelab-backup-freshness.timer") ?? "", /^OnCalendar=\*:0\/10$/m);
    assert.equal(writtenContent(fresh, "/usr/local/lib/homelab-backup/truenas-query"), undefined);
    assert.doesNotMatch(String(input(command("freshness-install"), "create")), /python3/);
    assert.match(writtenContent(fresh, "/usr/local/lib/homelab-backup/check-freshness") ?? "", /^  'database-vms\|critical\|\|101 102\|3600\|1500\|1500'$/m);

    const outputs = componentOutputs.get(find("homelab:monitoring:FreshnessCheck", "freshness").urn);
    assert.deepEqual(outputs, { timerUnit: "homelab-backup-freshness.timer", onCalendar: "*:0/10" });
  });

  it("never registers a secret in plaintext, and hands each host its secrets on the secrets step's stdin", () => {
    for (const r of registered) {
      for (const s of plainStrings(r.raw)) {
        for (const [what, secret] of Object.entries(SECRETS)) {
          const probe = secret.split("\n")[1] ?? secret;
          assert.ok(!s.includes(probe), `${r.type} ${r.name} carries the ${what} in plaintext`);
        }
      }
    }
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) assert.ok(isSecretValue(r.raw.connection), `${r.name}: connection is secret`);
    for (const name of ["notify-pbs-secrets", "notify-pve1-secrets", "capacity-secrets", "freshness-secrets"]) {
      assert.ok(isSecretValue(command(name).raw.stdin), `${name}: stdin is secret`);
      assert.equal(input(command(name), "logging"), "stderr", `${name}: stdout is never logged`);
    }
    const notifyEnv = String(input(command("notify-pbs-secrets"), "stdin"));
    assert.match(notifyEnv, /^GOTIFY_TOKEN_GOTIFY=AGotifyAppToken\.x1$/m);
    assert.match(notifyEnv, /^WEBHOOK_TOKEN_NTFY=tk_ntfyaccess0123$/m);
    assert.match(String(input(command("notify-pbs-secrets"), "create")), /umask 077\ninstall -d -m 0700 \/etc\/homelab-backup\ncat > \/etc\/homelab-backup\/notify\.env\.new/);
    const capEnv = String(input(command("capacity-secrets"), "stdin"));
    assert.match(capEnv, new RegExp(`^PBS_TOKEN_SECRET=${SECRETS.pbs}$`, "m"));
    assert.match(capEnv, new RegExp(`^TRUENAS_API_KEY=${SECRETS.truenas}$`, "m"));
    assert.doesNotMatch(String(input(command("freshness-secrets"), "stdin")), /TRUENAS/);
  });

  it("removal stops the timer, removes the files and the secrets; a replaced deploy goes first", () => {
    for (const name of ["capacity", "freshness"]) {
      const deploy = command(`${name}-deploy`);
      assert.equal(deploy.deleteBeforeReplace, true);
      assert.equal(input(deploy, "triggers"), undefined, "a trigger would replace the deploy step");
      const del = String(input(deploy, "delete"));
      assert.match(del, new RegExp(`systemctl disable --now homelab-backup-${name}\\.timer`));
      assert.match(del, new RegExp(`rm -f .*/etc/systemd/system/homelab-backup-${name}\\.timer`));
      assert.match(String(input(command(`${name}-secrets`), "delete")), new RegExp(`rm -f /etc/homelab-backup/${name}\\.env`));
    }
    assert.match(String(input(command("notify-pbs-deploy"), "delete")), /rm -f \/usr\/local\/sbin\/homelab-backup-notify$/);
  });

  it("refuses arguments that would deploy a broken or leaky monitor, naming every problem", () => {
    const key = SECRETS.privateKey;
    assert.throws(
      () => new m.Notifier("bad", { hosts: [], targets: [{ type: "gotify", name: "gotify", server: "https://gotify.home.arpa" }] }),
      /gotify target "gotify" has no token; expected gotifyTokens\["gotify"\]/,
    );
    assert.throws(() => new m.Notifier("bad2", { hosts: [], targets: [] }), /hosts is empty; expected the hosts whose scripts notify/);
    assert.throws(
      () => new m.CapacityCheck("bad", { connection: { host: "h", privateKey: key }, pbs: PBS, pbsTokenSecret: "s", truenas: { host: "nas", username: "monitor" } }),
      /truenasApiKey is missing; expected the API key of truenas\.username/,
    );
    assert.throws(
      () => new m.CapacityCheck("bad3", { connection: { host: "h", privateKey: key }, pbs: { ...PBS, fingerprint: "AA:BB", tokenId: "root@pam" }, pbsTokenSecret: "s", thresholdPercent: 90, criticalPercent: 85 }),
      (e: Error) =>
        e.message.includes('pbs.fingerprint "AA:BB" is invalid') &&
        e.message.includes('pbs.tokenId "root@pam" is invalid; expected an API token id') &&
        e.message.includes("criticalPercent 85 is below thresholdPercent 90"),
    );
    assert.throws(
      () => new m.FreshnessCheck("bad", { connection: { host: "h", privateKey: key }, pbs: PBS, pbsTokenSecret: "s", services: [], schedule: "hourly\nExecStart=/bin/sh" }),
      (e: Error) => e.message.includes("services is empty") && e.message.includes('schedule "hourly\\nExecStart=/bin/sh" is not a systemd calendar event'),
    );
  });
});
