import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pveNotificationSecrets, pveNotificationsScript, type PveNotificationTarget } from "../../components/pve/notifications-script";

const TARGETS: PveNotificationTarget[] = [
  { type: "smtp", name: "mail", server: "smtp.home.arpa", port: 465, mode: "tls", from: "pve@home.arpa", mailto: ["ops@home.arpa", "me@home.arpa"], username: "pve" },
  { type: "gotify", name: "gotify", server: "https://gotify.home.arpa" },
  { type: "webhook", name: "ntfy", url: "https://ntfy.sh/homelab-backup" },
];
// The gotify token ends in base64 padding: the "=" must survive the stdin parsing.
const SECRETS = { mail: "smtp-pass-9a1", gotify: "gotify-token-77c=" };

/** A pvesh that keeps PVE's notification config in files: get fails for what does not exist. */
function fakePvesh(): { dir: string; env: NodeJS.ProcessEnv; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), "pvesh-notify-"));
  writeFileSync(
    join(dir, "pvesh"),
    `#!/bin/bash
verb=$1; path=$2; shift 2
printf '%s\\t%s\\t%s\\n' "$verb" "$path" "$*" >> "${dir}/calls"
key=$(printf '%s' "$path" | tr '/' '_')
case "$verb" in
  get) [ -e "${dir}/state$key" ] ;;
  create) name=""; while [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done; [ -n "$name" ] || exit 2; [ ! -e "${dir}/state\${key}_$name" ] || exit 3; touch "${dir}/state\${key}_$name" ;;
  set) case "$path" in /cluster/backup/*) ;; *) [ -e "${dir}/state$key" ] || exit 4 ;; esac ;;
esac
`,
  );
  chmodSync(join(dir, "pvesh"), 0o755);
  return {
    dir,
    env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` },
    calls: () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n").map((l) => l.split("\t")) : []),
  };
}

describe("PVE notifications from config", () => {
  const script = pveNotificationsScript({ targets: TARGETS, jobIds: ["backup-database-vms", "backup-archives"] });

  test("the script holds no secret; they come on stdin as NAME=value lines", () => {
    for (const s of Object.values(SECRETS)) assert.ok(!script.includes(s));
    assert.equal(pveNotificationSecrets(TARGETS, SECRETS), "SECRET_mail=smtp-pass-9a1\nSECRET_gotify=gotify-token-77c=\n");
  });

  test("run for real: creates each endpoint and the matcher once, updates them the second time, switches every job", () => {
    const pve = fakePvesh();
    execFileSync("bash", ["-c", script], { input: pveNotificationSecrets(TARGETS, SECRETS), env: pve.env });
    const first = pve.calls().filter((c) => c[0] !== "get");
    assert.deepEqual(first.map((c) => [c[0], c[1]]), [
      ["create", "/cluster/notifications/endpoints/smtp"],
      ["create", "/cluster/notifications/endpoints/gotify"],
      ["create", "/cluster/notifications/endpoints/webhook"],
      ["create", "/cluster/notifications/matchers"],
      ["set", "/cluster/backup/backup-database-vms"],
      ["set", "/cluster/backup/backup-archives"],
    ]);
    assert.match(first[0]![2]!, /--name mail --server smtp\.home\.arpa --port 465 --mode tls --from-address pve@home\.arpa --mailto ops@home\.arpa --mailto me@home\.arpa --username pve --password smtp-pass-9a1/);
    assert.match(first[1]![2]!, /--token gotify-token-77c=$/);
    assert.match(first[2]![2]!, new RegExp(`--url https://ntfy\\.sh/homelab-backup --method post --body ${Buffer.from("{{ title }}\n{{ message }}").toString("base64").replace(/[+/=]/g, "\\$&")}`));
    assert.match(first[3]![2]!, /--name homelab-backup-vzdump --target mail --target gotify --target ntfy --match-field exact:type=vzdump --match-severity error --mode all/);
    assert.equal(first[4]![2], "--notification-mode notification-system");
    execFileSync("bash", ["-c", script], { input: pveNotificationSecrets(TARGETS, SECRETS), env: pve.env });
    const second = pve.calls().slice(pve.calls().length - 10).filter((c) => c[0] !== "get");
    assert.deepEqual(second.slice(0, 4).map((c) => [c[0], c[1]]), [
      ["set", "/cluster/notifications/endpoints/smtp/mail"],
      ["set", "/cluster/notifications/endpoints/gotify/gotify"],
      ["set", "/cluster/notifications/endpoints/webhook/ntfy"],
      ["set", "/cluster/notifications/matchers/homelab-backup-vzdump"],
    ]);
  });

  test("a missing secret stops the run before the endpoint that needs it", () => {
    const pve = fakePvesh();
    assert.throws(() => execFileSync("bash", ["-c", script], { input: "SECRET_gotify=x\n", stdio: "pipe", env: pve.env }), /no secret for notification target mail/);
    assert.deepEqual(pve.calls().filter((c) => c[0] !== "get"), []);
  });

  test("names PVE would refuse are refused here, all at once", () => {
    assert.throws(() => pveNotificationsScript({ targets: [{ type: "gotify", name: "bad name", server: "https://g" }], jobIds: ["x; rm -rf /"] }), /target name "bad name".*; job id "x; rm -rf \/"/);
  });
});
