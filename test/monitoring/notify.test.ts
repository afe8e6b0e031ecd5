/**
 * homelab-backup-notify run for real with bash, curl and jq: Gotify over HTTPS with a private CA
 * (the token only in its header), ntfy and plain JSON webhooks, mail through a stand-in sendmail,
 * severity filters, usage errors, and failed deliveries that never print a secret.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeSelfSignedCert } from "../fixtures/cert";
import { renderNotifyEnv, renderNotifyScript, validateTargets, type NotifyTarget } from "../../components/monitoring";
import { secretsFileScript } from "../../components/monitoring/remote-steps";
import { Receiver, SCRIPT_TOOLS, closedPort, failEachTestWithout, removeTempDirs, run, scriptEnv, tempDir, writeExecutable } from "./helpers";

const GOTIFY_TOKEN = "AgoTifyTok3n.secret-value";
const NTFY_TOKEN = "tk_ntfyaccesstokensecret";

let dir: string;
let secure: Receiver;
let plain: Receiver;
let script: string;
let env: NodeJS.ProcessEnv;

function targets(): NotifyTarget[] {
  const ca = join(dir, "ca.pem");
  return [
    { type: "gotify", name: "gotify", server: secure.url, caFile: ca },
    { type: "webhook", name: "ntfy", url: `${secure.url}/backups`, caFile: ca },
    { type: "webhook", name: "ntfy-lan", url: `${plain.url}/homelab`, minSeverity: "warning" },
    { type: "webhook", name: "hook", url: `${plain.url}/in/alerts`, format: "json", minSeverity: "error" },
    { type: "smtp", name: "mail", from: "backup@home.arpa", mailto: ["admin@home.arpa", "ops@home.arpa"], minSeverity: "error" },
  ];
}

function install(name: string, list: NotifyTarget[], secrets: Record<string, string>): string {
  const path = join(dir, name);
  writeExecutable(path, renderNotifyScript(list, { layout: { envFile: join(dir, `${name}.env`) }, timeoutSeconds: 5 }));
  writeFileSync(join(dir, `${name}.env`), renderNotifyEnv(list, secrets), { mode: 0o600 });
  return path;
}

function json(body: string): Record<string, unknown> {
  return JSON.parse(body) as Record<string, unknown>;
}

describe("homelab-backup-notify delivers for real", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout(SCRIPT_TOOLS);
  before(async () => {
    if (!ready) return;
    dir = tempDir("notify");
    const cert = makeSelfSignedCert();
    writeFileSync(join(dir, "ca.pem"), cert.cert);
    secure = await Receiver.start(cert);
    plain = await Receiver.start();
    script = install("notify", targets(), { gotify: GOTIFY_TOKEN, ntfy: NTFY_TOKEN });
    const bin = join(dir, "bin");
    // Records its arguments and the message it is handed, as postfix's sendmail would queue it.
    writeExecutable(join(bin, "sendmail"), `#!/bin/bash\nprintf '%s\\n' "$*" > ${JSON.stringify(join(dir, "sendmail.args"))}\ncat > ${JSON.stringify(join(dir, "sendmail.msg"))}\n`);
    env = scriptEnv({ PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` });
  });
  after(async () => {
    await secure?.close();
    await plain?.close();
    removeTempDirs();
  });

  it("an error reaches every target: gotify with its token in the header, ntfy, the JSON hook and mail", async () => {
    secure.requests.length = 0;
    plain.requests.length = 0;
    const r = await run(script, ["error", "Backup job database-vms refused", "datastore critical is in maintenance mode offline"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, "");

    const gotify = secure.requests.find((q) => q.path === "/message");
    assert.ok(gotify, `gotify got nothing: ${secure.paths().join(", ")}`);
    assert.equal(gotify.method, "POST");
    assert.equal(gotify.headers["x-gotify-key"], GOTIFY_TOKEN);
    assert.equal(gotify.headers["content-type"], "application/json");
    const g = json(gotify.body);
    assert.equal(g.title, "Backup job database-vms refused");
    assert.equal(g.priority, 8);
    assert.match(String(g.message), /^datastore critical is in maintenance mode offline\n\n-- homelab-backup on /);

    const ntfy = secure.requests.find((q) => q.path === "/");
    assert.ok(ntfy, "ntfy got nothing");
    assert.equal(ntfy.headers.authorization, `Bearer ${NTFY_TOKEN}`);
    assert.deepEqual({ ...json(ntfy.body), message: undefined }, {
      topic: "backups", title: "Backup job database-vms refused", priority: 5, tags: ["rotating_light", "homelab-backup"], message: undefined,
    });
    const lan = plain.requests.find((q) => q.path === "/");
    assert.ok(lan, "the LAN ntfy got nothing");
    assert.equal(lan.headers.authorization, undefined, "no token configured, none sent");
    assert.equal(json(lan.body).topic, "homelab");

    const hook = plain.requests.find((q) => q.path === "/in/alerts");
    assert.ok(hook, "the JSON hook got nothing");
    const h = json(hook.body);
    assert.equal(h.severity, "error");
    assert.equal(h.message, "datastore critical is in maintenance mode offline");
    assert.equal(h.source, "homelab-backup");
    assert.equal(typeof h.host, "string");

    assert.equal(readFileSync(join(dir, "sendmail.args"), "utf8").trim(), "-oi -f backup@home.arpa -- admin@home.arpa ops@home.arpa");
    const mail = readFileSync(join(dir, "sendmail.msg"), "utf8");
    assert.match(mail, /^From: backup@home\.arpa\nTo: admin@home\.arpa,ops@home\.arpa\nSubject: \[homelab-backup\] error: Backup job database-vms refused\n/);
    assert.match(mail, /\n\ndatastore critical is in maintenance mode offline\n/);
  });

  it("skips targets above the message's severity, and maps severities to priorities", async () => {
    secure.requests.length = 0;
    plain.requests.length = 0;
    writeFileSync(join(dir, "sendmail.args"), "");
    const info = await run(script, ["info", "Capacity is back to 60 %", "PBS datastore homelab is at 60 %."], { env });
    assert.equal(info.code, 0, info.stderr);
    assert.deepEqual(secure.paths().sort(), ["POST /", "POST /message"]);
    assert.deepEqual(plain.paths(), [], "warning- and error-only targets stay quiet for info");
    assert.equal(readFileSync(join(dir, "sendmail.args"), "utf8"), "", "mail is for errors only");
    assert.equal(json(secure.requests.find((q) => q.path === "/message")?.body ?? "{}").priority, 2);
    assert.equal(json(secure.requests.find((q) => q.path === "/")?.body ?? "{}").priority, 3);

    plain.requests.length = 0;
    const warning = await run(script, ["warning", "PBS datastore homelab is 85 % full", "…"], { env });
    assert.equal(warning.code, 0, warning.stderr);
    assert.deepEqual(plain.paths(), ["POST /"], "the warning-level ntfy only");
    assert.equal(json(plain.requests[0]?.body ?? "{}").priority, 4);
  });

  it("a title is one line, whatever the caller passes, and a non-ASCII subject is encoded", async () => {
    const r = await run(script, ["error", "line one\nBcc: evil@example.com", "Größe überschritten"], { env });
    assert.equal(r.code, 0, r.stderr);
    const mail = readFileSync(join(dir, "sendmail.msg"), "utf8");
    assert.match(mail, /^Subject: \[homelab-backup\] error: line one Bcc: evil@example\.com$/m);
    assert.doesNotMatch(mail, /^Bcc:/m);
    const r2 = await run(script, ["error", "Sicherung fehlgeschlagen: Größe", "x"], { env });
    assert.equal(r2.code, 0, r2.stderr);
    const subject = /^Subject: (.*)$/m.exec(readFileSync(join(dir, "sendmail.msg"), "utf8"))?.[1] ?? "";
    const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(subject);
    assert.ok(m, subject);
    assert.equal(Buffer.from(m[1] as string, "base64").toString("utf8"), "[homelab-backup] error: Sicherung fehlgeschlagen: Größe");
  });

  it("refuses wrong usage with exit 2", async () => {
    for (const args of [[], ["error", "title"], ["fatal", "t", "b"], ["error", "", "b"], ["error", "t", "b", "extra"]]) {
      const r = await run(script, args, { env });
      assert.equal(r.code, 2, JSON.stringify(args));
      assert.match(r.stderr, /usage: homelab-backup-notify <info\|warning\|error> <title> <body>/);
    }
  });

  it("a failed delivery exits 1 naming the target, and never prints a token", async () => {
    // A server that quotes the request back, token and all.
    secure.reply = { status: 500, body: JSON.stringify({ error: `bad key ${GOTIFY_TOKEN} ${NTFY_TOKEN}` }) };
    try {
      const r = await run(script, ["warning", "t", "b"], { env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /homelab-backup-notify: gotify: https:\/\/127\.0\.0\.1:\d+\/message answered HTTP 500/);
      assert.match(r.stderr, /homelab-backup-notify: ntfy: https:\/\/127\.0\.0\.1:\d+\/ answered HTTP 500/);
      for (const secret of [GOTIFY_TOKEN, NTFY_TOKEN]) assert.ok(!(r.stdout + r.stderr).includes(secret), "a token was printed");
    } finally {
      secure.reply = { status: 200, body: "{}" };
    }

    const port = await closedPort();
    const down = install("down", [{ type: "gotify", name: "gotify", server: `https://127.0.0.1:${port}` }], { gotify: GOTIFY_TOKEN });
    const r = await run(down, ["error", "t", "b"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`gotify: could not deliver to https://127\\.0\\.0\\.1:${port}/message: curl: \\(7\\)`));
    assert.ok(!(r.stdout + r.stderr).includes(GOTIFY_TOKEN));

    // A private CA it was not told about: TLS is verified, so nothing is sent.
    secure.requests.length = 0;
    const untrusted = install("untrusted", [{ type: "gotify", name: "gotify", server: secure.url }], { gotify: GOTIFY_TOKEN });
    const u = await run(untrusted, ["error", "t", "b"], { env });
    assert.equal(u.code, 1);
    assert.match(u.stderr, /gotify: could not deliver .*curl: \(60\)/);
    assert.deepEqual(secure.requests, []);
  });

  it("says that mail is not available when the host has no sendmail", async () => {
    const mailOnly = install("mail-only", [{ type: "smtp", name: "mail", from: "backup@home.arpa", mailto: ["admin@home.arpa"] }], {});
    // Without the stand-in; the script adds /usr/sbin and /sbin, where a real MTA would be.
    const r = await run(mailOnly, ["error", "t", "b"], { env: scriptEnv({ PATH: "/usr/bin:/bin" }) });
    const hostHasSendmail = existsSync("/usr/sbin/sendmail") || existsSync("/sbin/sendmail") || existsSync("/usr/bin/sendmail");
    if (hostHasSendmail) assert.equal(r.code, 0, r.stderr);
    else {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /homelab-backup-notify: mail: mail is not available on .* \(no sendmail; install an MTA such as postfix\); not sent to admin@home\.arpa/);
    }
  });

  it("with no targets the message goes to syslog only, and a missing token is reported, not fatal", async () => {
    const none = install("none", [], {});
    assert.match(readFileSync(none, "utf8"), /# No targets: the message is in syslog only\./);
    assert.equal((await run(none, ["info", "t", "b"], { env })).code, 0);

    const noToken = install("no-token", [{ type: "gotify", name: "gotify", server: secure.url, caFile: join(dir, "ca.pem") }], {});
    const r = await run(noToken, ["error", "t", "b"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gotify: no token \(GOTIFY_TOKEN_GOTIFY\) in .*no-token\.env; message not sent/);
  });

  it("the secrets step writes the env file from standard input, readable by root only", async () => {
    const path = join(dir, "etc", "notify.env");
    const text = renderNotifyEnv(targets(), { gotify: GOTIFY_TOKEN, ntfy: NTFY_TOKEN });
    const r = await run("sh", ["-c", secretsFileScript(path)], { input: text });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(path, "utf8"), text);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "etc")).mode & 0o777, 0o700);
    assert.match(text, /^GOTIFY_TOKEN_GOTIFY=AgoTifyTok3n\.secret-value$/m);
    assert.match(text, /^WEBHOOK_TOKEN_NTFY=tk_ntfyaccesstokensecret$/m);
    assert.ok(!readFileSync(script, "utf8").includes(GOTIFY_TOKEN), "the script itself holds no secret");
  });

  it("refuses targets that would leak a token or name nothing", () => {
    assert.throws(
      () =>
        validateTargets(
          [
            { type: "gotify", name: "g", server: "http://gotify.lan" },
            { type: "webhook", name: "w", url: "http://ntfy.lan/topic" },
            { type: "webhook", name: "root", url: "https://ntfy.lan/" },
            { type: "smtp", name: "m", from: "nobody", mailto: [] },
            { type: "gotify", name: "g", server: "https://user:pw@gotify.lan" },
            { type: "webhook", name: "w_", url: "https://ntfy.lan/a" },
            { type: "webhook", name: "w-", url: "https://ntfy.lan/b" },
          ],
          { gotify: ["g"], webhook: ["w", "ghost"] },
        ),
      (e: Error) => {
        for (const line of [
          'targets[0].server "http://gotify.lan" is invalid; expected an https:// URL without credentials',
          'targets[1].url "http://ntfy.lan/topic" is plain http but the target has a token; expected https://',
          'targets[2].url "https://ntfy.lan/" names no ntfy topic; expected https://<server>/<topic>',
          'targets[3].from "nobody" is not an e-mail address',
          "targets[3].mailto is empty; expected at least one address",
          'targets[4].name "g" is used twice',
          'targets[4].server "https://user:pw@gotify.lan" is invalid',
          'webhookTokens["ghost"] names no webhook target',
          'targets "w_" and "w-" both keep their secret in WEBHOOK_TOKEN_W_; rename one',
        ]) assert.ok(e.message.includes(line), `missing: ${line}\n${e.message}`);
        return true;
      },
    );
    assert.throws(() => validateTargets([{ type: "gotify", name: "g", server: "https://gotify.lan" }], { gotify: [], webhook: [] }), /gotify target "g" has no token; expected gotifyTokens\["g"\]/);
  });
});
