import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { masterPubkeyParam, setMasterPubkeyScript, setStorageCredentialsScript, setStorageEncryptionKeyScript } from "../../components/pve/master-key";
import { pbsKeyConfig } from "../../components/keys/pbs-key";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ofType, settle, startMocks, type Registered } from "../network/harness";
import { stackStrategy } from "../network/strategy";

const PEM = generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey.export({ type: "spki", format: "pem" }).toString();
const COMMAND = "command:remote:Command";

describe("the master public key on PVE's pbs storages", () => {
  test("the API takes the PEM as base64, and the script proves PVE stored it", () => {
    assert.equal(Buffer.from(masterPubkeyParam(PEM), "base64").toString("utf8"), PEM);
    const script = setMasterPubkeyScript("pbs-backup-critical", PEM);
    assert.match(script, new RegExp(`^pvesh set /storage/pbs-backup-critical --master-pubkey ${masterPubkeyParam(PEM).replace(/[+/=]/g, "\\$&")}$`, "m"));
    assert.match(script, /test -s \/etc\/pve\/priv\/storage\/pbs-backup-critical\.master\.pem/);
  });

  test("a private key, a bare base64 blob or a bad storage id is refused", () => {
    const privatePem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    assert.throws(() => masterPubkeyParam(privatePem), /not an SPKI PEM/);
    assert.throws(() => masterPubkeyParam(Buffer.from(PEM).toString("base64")), /not an SPKI PEM/);
    assert.throws(() => setMasterPubkeyScript("pbs; rm -rf /", PEM), /storage id "pbs; rm -rf \/" is invalid/);
  });

  test("the credentials script, run for real against a pvesh that records its arguments", () => {
    const dir = mkdtempSync(join(tmpdir(), "pvesh-"));
    writeFileSync(join(dir, "pvesh"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\n`);
    chmodSync(join(dir, "pvesh"), 0o755);
    const script = setStorageCredentialsScript("pbs-backup-critical", "pve-backup@pbs!pve-critical-2026-11-05", dir);
    execFileSync("bash", ["-c", script], { input: "s3cr3t with spaces=\n", env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` } });
    // The secret lands in PVE's own root-only file, never on pvesh's command line.
    assert.deepEqual(readFileSync(join(dir, "args"), "utf8").trim().split("\n"), ["set", "/storage/pbs-backup-critical", "--username", "pve-backup@pbs!pve-critical-2026-11-05"]);
    assert.equal(readFileSync(join(dir, "pbs-backup-critical.pw"), "utf8"), "s3cr3t with spaces=\n");
    assert.equal(statSync(join(dir, "pbs-backup-critical.pw")).mode & 0o777, 0o600);
    assert.ok(!script.includes("s3cr3t"));
    assert.throws(() => execFileSync("bash", ["-c", script], { input: "\n", stdio: "pipe", env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` } }), /no token secret/);
    assert.throws(() => setStorageCredentialsScript("pbs-backup", "x'; rm -rf /"), /token id .* is invalid/);
  });

  test("the encryption key script hands PVE the key file from stdin, and refuses anything else", () => {
    const dir = mkdtempSync(join(tmpdir(), "pvesh-"));
    writeFileSync(join(dir, "pvesh"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\n`);
    chmodSync(join(dir, "pvesh"), 0o755);
    const env = { ...process.env, PATH: `${dir}:${process.env["PATH"]}` };
    const key = pbsKeyConfig(Buffer.alloc(32, 7).toString("base64"), new Date("2026-11-05T00:00:00Z"));
    const script = setStorageEncryptionKeyScript("lab-pbs-lab", dir);
    execFileSync("bash", ["-c", script], { input: `${key}\n`, env });
    assert.equal(readFileSync(join(dir, "lab-pbs-lab.enc"), "utf8"), `${key}\n`);
    assert.equal(statSync(join(dir, "lab-pbs-lab.enc")).mode & 0o777, 0o600);
    assert.ok(!existsSync(join(dir, "args")), "no pvesh call carries the key");
    assert.throws(() => setStorageEncryptionKeyScript("lab-pbs-lab", "/tmp/x; rm -rf /"), /secrets directory .* is invalid/);
    assert.throws(() => execFileSync("bash", ["-c", script], { input: "autogen\n", stdio: "pipe", env }), /no PBS key file/);
  });

  describe("under mocks", () => {
    let resources: Registered[];
    before(async () => {
      resources = await startMocks();
      const proxmoxve = await import("@muhlba91/pulumi-proxmoxve");
      const { PveBackupFeed } = await import("../../components/pve/backup-feed");
      const strategy = stackStrategy("homelab");
      const provider = new proxmoxve.Provider("pve", { endpoint: "https://pve.test:8006", apiToken: "t", insecure: false });
      new PveBackupFeed("pve", {
        strategy,
        provider,
        targets: [
          { storageId: "pbs-backup-critical", datastore: "critical", tokenId: "pve@pbs!a", tokenSecret: "s1" },
          { storageId: "pbs-backup-homelab-important", datastore: "homelab", namespace: "important", tokenId: "pve@pbs!b", tokenSecret: "s2" },
          { storageId: "pbs-backup-homelab-archive", datastore: "homelab", namespace: "archive", tokenId: "pve@pbs!b", tokenSecret: "s2" },
        ],
        masterKey: { publicKeyPem: PEM },
        node: { host: "10.0.10.11", user: "deploy", port: 22, privateKey: "PRIVATE-DEPLOY-KEY" },
      });
      await settle();
    });

    test("one command per storage, after the storage, retained, through sudo for a non-root login", () => {
      const commands = ofType(resources, COMMAND).filter((c) => c.name.endsWith("-master-pubkey"));
      assert.deepEqual(commands.map((c) => c.name).sort(), ["pbs-backup-critical-master-pubkey", "pbs-backup-homelab-archive-master-pubkey", "pbs-backup-homelab-important-master-pubkey"]);
      for (const c of commands) {
        const storage = c.name.replace(/-master-pubkey$/, "");
        assert.ok(c.retainOnDelete, `${c.name} is retained`);
        assert.ok(c.dependencies.some((d) => d.endsWith(`::${storage}`)), `${c.name} waits for its storage`);
        const create = c.plain["create"] as string;
        assert.ok(create.startsWith("sudo -n bash -c '"), create.slice(0, 40));
        assert.ok(create.includes(`pvesh set /storage/${storage} --master-pubkey ${masterPubkeyParam(PEM)}`));
        assert.equal(c.plain["delete"], undefined, "nothing removes the recovery path");
      }
    });

    test("a rotated token reaches each storage in place: the storage ignores it, a node step sets it from stdin", () => {
      const storages = ofType(resources, "proxmoxve:storage/pbs:Pbs");
      assert.equal(storages.length, 3);
      const creds = ofType(resources, COMMAND).filter((c) => c.name.endsWith("-credentials"));
      assert.deepEqual(creds.map((c) => c.name).sort(), ["pbs-backup-critical-credentials", "pbs-backup-homelab-archive-credentials", "pbs-backup-homelab-important-credentials"]);
      const critical = creds.find((c) => c.name === "pbs-backup-critical-credentials")!;
      assert.match(critical.plain["create"] as string, /> \/etc\/pve\/priv\/storage\/pbs-backup-critical\.pw\n\s*pvesh set \/storage\/pbs-backup-critical --username \S*pve@pbs!a/);
      assert.ok(!(critical.plain["create"] as string).includes("s1"), "the secret is not in the command");
      assert.equal(critical.inputs["stdin"], "[secret]");
      assert.equal(critical.plain["stdin"], "s1\n");
      assert.ok(critical.retainOnDelete);
    });

    test("the deploy key reaches the command only as a secret", () => {
      for (const c of ofType(resources, COMMAND)) {
        // A secret inside the connection makes the whole connection secret in state.
        assert.equal(c.inputs["connection"], "[secret]");
        assert.ok(c.secretInputs.includes("connection"));
        assert.ok(!JSON.stringify(c.inputs).includes("PRIVATE-DEPLOY-KEY"));
      }
    });
  });
});
