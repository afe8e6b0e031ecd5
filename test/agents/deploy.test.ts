/**
 * The remote steps run for real in a local shell, with the host's paths moved into a temp dir
 * and stand-ins for the commands that would change this machine (systemctl, apt-get, sudo).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCalendarEvent } from "../../config/calendar";
import {
  agentFileContents,
  asRoot,
  deployScript,
  disableScript,
  installCommands,
  keyExportScript,
  resolveAgentSpec,
  secretsScript,
  type AgentSpec,
} from "../../components/agents";
import { agentEnv, fakeCommand, localSpec, removeTempDirs, failEachTestWithout, run, tempDir } from "./helpers";

let root: string;
let env: NodeJS.ProcessEnv;

function calls(name: string): string[] {
  const log = join(root, "fakebin", `${name}.log`);
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^\S+\//, ""));
}

function clearCalls() {
  for (const f of readdirSync(join(root, "fakebin"))) if (f.endsWith(".log")) writeFileSync(join(root, "fakebin", f), "");
}

async function sh(script: string, input = "") {
  return run("sh", ["-c", script], { env, input });
}

function snapshot(spec: AgentSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of agentFileContents(spec, "1.7")) out[f.path] = readFileSync(f.path, "utf8");
  return out;
}

describe("remote steps in a local shell", { timeout: 30_000 }, () => {
  const ready = failEachTestWithout(["sh", "bash"]);
  before(() => {
    if (!ready) return;
    root = tempDir("deploy");
    env = agentEnv(root);
    fakeCommand(join(root, "fakebin"), "systemctl", "exit 0");
  });
  after(() => removeTempDirs());

  it("deploys the files with their modes, runs again without change, and enables the timer", async () => {
    const spec = resolveAgentSpec(localSpec(root, { repository: { url: "ssh://borg@nas/mnt/tank/borg/e2e", knownHosts: "nas ssh-ed25519 AAAA" } }));
    for (let i = 0; i < 2; i++) {
      const r = await sh(deployScript(spec, "1.7"));
      assert.equal(r.code, 0, r.stderr);
    }
    for (const f of agentFileContents(spec, "1.7")) {
      assert.equal(readFileSync(f.path, "utf8"), f.content.endsWith("\n") ? f.content : `${f.content}\n`, f.path);
      assert.equal((statSync(f.path).mode & 0o777).toString(8).padStart(4, "0"), f.mode, f.path);
      assert.ok(!existsSync(`${f.path}.new`), "no temp file left behind");
    }
    assert.equal(statSync(join(root, "etc")).mode & 0o777, 0o700);
    assert.equal(statSync(join(root, "state")).mode & 0o777, 0o700);
    assert.deepEqual(calls("systemctl"), ["systemctl daemon-reload", "systemctl enable --now homelab-backup-e2e.timer", "systemctl daemon-reload", "systemctl enable --now homelab-backup-e2e.timer"]);
  });

  it("a new schedule rewrites only the timer", async () => {
    const before = resolveAgentSpec(localSpec(root));
    await sh(deployScript(before, "1.7"));
    const old = snapshot(before);
    const changed = resolveAgentSpec(localSpec(root, { schedule: parseCalendarEvent("Sun *-*-* 03:00") }));
    const r = await sh(deployScript(changed, "1.7"));
    assert.equal(r.code, 0, r.stderr);
    const now = snapshot(changed);
    const differ = Object.keys(now).filter((p) => now[p] !== old[p]);
    assert.deepEqual(differ, [join(root, "units", "homelab-backup-e2e.timer")]);
    assert.match(now[differ[0] as string] ?? "", /^OnCalendar=Sun \*-\*-\* 03:00$/m);
  });

  it("writes the secrets file from standard input, readable by root only", async () => {
    const spec = resolveAgentSpec(localSpec(root));
    const r = await sh(secretsScript(spec), "BORG_PASSPHRASE='s3cret'\n");
    assert.equal(r.code, 0, r.stderr);
    const path = join(root, "etc", "secrets.env");
    assert.equal(readFileSync(path, "utf8"), "BORG_PASSPHRASE='s3cret'\n");
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it("removing the agent disables the timer and leaves config, script and repository", async () => {
    const spec = resolveAgentSpec(localSpec(root));
    await sh(deployScript(spec, "1.7"));
    clearCalls();
    const r = await sh(disableScript(spec));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(calls("systemctl"), ["systemctl disable --now homelab-backup-e2e.timer"]);
    for (const f of agentFileContents(spec, "1.7")) assert.ok(existsSync(f.path), `${f.path} stays`);
    // Already gone (removed by hand): nothing to do, and no failure that would block `pulumi destroy`.
    const gone = resolveAgentSpec(localSpec(root, { layout: { unitDir: join(root, "no-units") } }));
    clearCalls();
    assert.equal((await sh(disableScript(gone))).code, 0);
    assert.deepEqual(calls("systemctl"), []);
  });

  it("installs only the missing packages and refuses a borgmatic of another config syntax", async () => {
    const spec = resolveAgentSpec(localSpec(root, { databases: [{ kind: "postgresql", name: "a" }, { kind: "mariadb", name: "b" }] }));
    fakeCommand(join(root, "fakebin"), "dpkg-query", `case "\${@: -1}" in borgmatic|borgbackup) printf 'install ok installed' ;; *) exit 1 ;; esac`);
    fakeCommand(join(root, "fakebin"), "apt-get", "exit 0");
    fakeCommand(join(root, "fakebin"), "borgmatic", `echo "\${FAKE_BORGMATIC_VERSION:-1.7.7}"`);
    clearCalls();
    const ok = await sh(installCommands(spec, "1.7"));
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(calls("apt-get"), ["apt-get update -qq", "apt-get install -y -qq postgresql-client mariadb-client"]);

    const wrong = await run("sh", ["-c", installCommands(spec, "1.7")], { env: { ...env, FAKE_BORGMATIC_VERSION: "1.8.14" } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /borgmatic 1\.8\.14 is installed but the agent writes 1\.7 config; set borgmaticVersion to match/);
    const newer = await run("sh", ["-c", installCommands(spec, "1.8")], { env: { ...env, FAKE_BORGMATIC_VERSION: "1.9.14" } });
    assert.equal(newer.code, 0, newer.stderr);

    const mongo = resolveAgentSpec(localSpec(root, { databases: [{ kind: "mongodb", name: "all" }] }));
    const noTools = await run("sh", ["-c", installCommands(mongo, "1.7")], { env: { ...env, PATH: `${join(root, "fakebin")}:/usr/bin:/bin` } });
    const hasMongoTools = (await run("sh", ["-c", "PATH=/usr/bin:/bin command -v mongodump"])).code === 0;
    assert.equal(noTools.code, hasMongoTools ? 0 : 1, noTools.stderr);
    if (!hasMongoTools) assert.match(noTools.stderr, /install the MongoDB Database Tools/);
  });

  it("runs every step through sudo -n for a non-root login", async () => {
    fakeCommand(join(root, "fakebin"), "sudo", `[ "$1" = -n ] || { echo "sudo must not prompt" >&2; exit 1; }; shift; exec "$@"`);
    const spec = resolveAgentSpec(localSpec(root, { host: { name: "e2e", address: "127.0.0.1", sshUser: "backup" } }));
    clearCalls();
    const r = await sh(asRoot(deployScript(spec, "1.7"), spec.host.sshUser));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(calls("sudo").filter((l) => l.startsWith("sudo -n bash -c ")).length, 1);
    const secrets = await sh(asRoot(secretsScript(spec), spec.host.sshUser), "BORG_PASSPHRASE='via sudo'\n");
    assert.equal(secrets.code, 0, secrets.stderr);
    assert.equal(readFileSync(join(root, "etc", "secrets.env"), "utf8"), "BORG_PASSPHRASE='via sudo'\n", "stdin passes through sudo");
  });

  it("exports the key of an SSH repository with the same ssh command borgmatic uses", async () => {
    fakeCommand(join(root, "fakebin"), "borg", `printf 'BORG_RSH=%s\\nBORG_REMOTE_PATH=%s\\nPASS=%s\\nARGS=%s\\n' "$BORG_RSH" "$BORG_REMOTE_PATH" "$BORG_PASSPHRASE" "$*"`);
    const spec = resolveAgentSpec(localSpec(root, { repository: { url: "ssh://borg@nas:2222/mnt/tank/borg/e2e", sshIdentityFile: "/root/.ssh/id_borg", remotePath: "/usr/local/bin/borg" } }));
    await sh(secretsScript(spec), "BORG_PASSPHRASE='pp'\n");
    const r = await sh(keyExportScript(spec));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "BORG_RSH=ssh -o BatchMode=yes -o ServerAliveInterval=60 -i /root/.ssh/id_borg -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new\nBORG_REMOTE_PATH=/usr/local/bin/borg\nPASS=pp\nARGS=key export ssh://borg@nas:2222/mnt/tank/borg/e2e\n",
    );
  });
});
