import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TruenasClient, type TruenasConnection } from "../../components/truenas/client";
import { keypairSpec, sshConnectionSpec } from "../../components/truenas/keychain";
import { makeProvider } from "../../components/truenas/provider";
import { normalizeHostKey, publicKeyOf } from "../../components/truenas/ssh-keys";
import { makeHostKey, makeOpenSshKey, type TruenasTestServer } from "../fixtures/truenas-server";
import { create, diff, failures, read, rejectsWith, remove, startServer, up } from "./helpers";

const keypairs = makeProvider(keypairSpec);
const connections = makeProvider(sshConnectionSpec);
const PBS_KEY = makeHostKey();

describe("SSH keys offline", () => {
  test("the public half of an OpenSSH or PEM key is read without TrueNAS; encrypted keys are refused", async () => {
    const pair = makeOpenSshKey();
    assert.deepEqual(publicKeyOf(pair.privateKey), { publicKey: pair.publicKey });
    assert.deepEqual(publicKeyOf(makeOpenSshKey({ encrypted: true }).privateKey), { error: "Encrypted private keys are not allowed" });
    const { generateKeyPairSync } = await import("node:crypto");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    assert.match((publicKeyOf(rsa) as { publicKey: string }).publicKey, /^ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB/);
    assert.deepEqual(publicKeyOf("hello"), { error: "not a private key; expected an OpenSSH or PEM private key" });
  });

  test("host keys are stored as TrueNAS's scan stores them: no host prefix, no comment", () => {
    assert.deepEqual(normalizeHostKey(`[10.20.0.20]:22 ${PBS_KEY} root@pbs`), { hostKey: PBS_KEY });
    assert.match((normalizeHostKey("10.20.0.20 ssh-dss AAAA") as { error: string }).error, /not an SSH public host key/);
  });
});

describe("SshKeypair and SshConnection", () => {
  let server: TruenasTestServer;
  let connection: TruenasConnection;
  before(async () => ({ server, connection } = await startServer({ exposeKeychainAttributes: true, hostKeys: { "10.20.0.20": PBS_KEY } })));
  after(async () => server.close());

  test("a generated key pair stays on TrueNAS: state holds only its public key", async () => {
    const { id, outs } = await create(keypairs, { connection, name: "pbs-replication" });
    assert.match(String(outs.publicKey), /^ssh-ed25519 /);
    assert.equal(outs.privateKey, undefined);
    const row = server.keychain.get(Number(id));
    assert.equal(row?.type, "SSH_KEY_PAIR");
    assert.equal((row?.attributes as { public_key: string }).public_key, outs.publicKey);
    assert.deepEqual(await read(keypairs, id, outs), outs);
    assert.equal((await diff(keypairs, id, outs, { connection, name: "pbs-replication" })).changes, false);
    await remove(keypairs, id, outs);
    assert.equal(server.keychain.has(Number(id)), false);
  });

  test("a given private key: public key derived, refused when encrypted, restored after drift", async () => {
    const pair = makeOpenSshKey();
    assert.deepEqual(await failures(keypairs, { connection, name: "k", privateKey: makeOpenSshKey({ encrypted: true }).privateKey }), ["privateKey: Encrypted private keys are not allowed"]);
    const { id, outs } = await create(keypairs, { connection, name: "given", privateKey: pair.privateKey });
    assert.equal(outs.publicKey, pair.publicKey);

    // Someone replaces the key in the UI: the refreshed public key no longer matches the input.
    const other = makeOpenSshKey();
    server.keychain.get(Number(id))!.attributes = { private_key: other.privateKey, public_key: other.publicKey };
    const drifted = (await read(keypairs, id, outs)) as Record<string, unknown>;
    assert.equal(drifted.publicKey, other.publicKey);
    const restored = await up(keypairs, id, drifted, { connection, name: "given", privateKey: pair.privateKey });
    assert.equal(restored.diff.changes, true);
    assert.equal((server.keychain.get(Number(id))?.attributes as { public_key: string }).public_key, pair.publicKey);
    assert.equal(restored.outs.publicKey, pair.publicKey);
  });

  test("the remote host key is pinned from config; scanning is an explicit opt-in and never repeats", async () => {
    const key = await create(keypairs, { connection, name: "conn-key" });
    const base = { connection, name: "pbs", host: "10.20.0.20", privateKey: key.outs.truenasId };
    assert.match((await failures(connections, base))[0] ?? "", /^remoteHostKey: pin the remote host key from config .* or set scanHostKey: true/);
    assert.deepEqual(await failures(connections, { ...base, remoteHostKey: PBS_KEY, scanHostKey: true }), ["scanHostKey: remoteHostKey is pinned, so there is nothing to scan; remove scanHostKey"]);

    const pinned = await create(connections, { ...base, remoteHostKey: `10.20.0.20 ${PBS_KEY}` });
    assert.equal(server.stats.scans, 0, "a pinned key is never fetched");
    assert.deepEqual(server.keychain.get(Number(pinned.id))?.attributes, {
      host: "10.20.0.20", port: 22, username: "root", private_key: key.outs.truenasId, remote_host_key: PBS_KEY, connect_timeout: 10,
    });
    assert.deepEqual(await read(connections, pinned.id, pinned.outs), pinned.outs);
    assert.equal((await diff(connections, pinned.id, pinned.outs, { ...base, remoteHostKey: PBS_KEY })).changes, false);

    const scanned = await create(connections, { ...base, name: "pbs-tofu", scanHostKey: true });
    assert.equal(server.stats.scans, 1);
    assert.equal(scanned.outs.remoteHostKey, PBS_KEY);
    assert.equal(scanned.outs.scanHostKey, true);
    assert.equal((await diff(connections, scanned.id, scanned.outs, { ...base, name: "pbs-tofu", scanHostKey: true })).changes, false);
    const moved = await up(connections, scanned.id, scanned.outs, { ...base, name: "pbs-tofu", scanHostKey: true, port: 2222 });
    assert.equal(moved.diff.changes, true);
    assert.equal(server.stats.scans, 1, "an update never rescans");
    assert.equal((server.keychain.get(Number(scanned.id))?.attributes as { remote_host_key: string }).remote_host_key, PBS_KEY);
  });

  test("connection drift is detected and restored; a credential in use is never deleted with its users", async () => {
    const key = await create(keypairs, { connection, name: "drift-key" });
    const args = { connection, name: "pbs-drift", host: "10.20.0.20", privateKey: key.outs.truenasId, remoteHostKey: PBS_KEY };
    const { id, outs } = await create(connections, args);
    (server.keychain.get(Number(id))!.attributes as Record<string, unknown>).remote_host_key = makeHostKey();
    const drifted = (await read(connections, id, outs)) as Record<string, unknown>;
    assert.notEqual(drifted.remoteHostKey, PBS_KEY);
    assert.equal((await up(connections, id, drifted, args)).diff.changes, true);
    assert.equal((server.keychain.get(Number(id))?.attributes as { remote_host_key: string }).remote_host_key, PBS_KEY);

    const client = new TruenasClient(connection);
    const task = (await client.call("replication.create", [{
      name: "uses-it", direction: "PULL", transport: "SSH", ssh_credentials: Number(id), source_datasets: ["backup/homelab"],
      target_dataset: "tank/replica/homelab", recursive: false, naming_schema: ["auto-%Y-%m-%d_%H-%M"], auto: false, retention_policy: "NONE",
    }])) as { id: number };
    client.close();
    await rejectsWith(remove(connections, id, outs), /TrueNAS rejected keychaincredential\.delete: This credential is used and no cascade option is specified/);
    assert.ok(server.replications.has(task.id), "the replication task survives");
    await rejectsWith(remove(keypairs, key.id, key.outs), /This credential is used/);
    assert.ok(server.keychain.has(Number(id)));

    // Once nothing uses them (Pulumi deletes dependants first), both go.
    server.replications.delete(task.id);
    await remove(connections, id, outs);
    await remove(keypairs, key.id, key.outs);
    assert.equal(server.keychain.has(Number(id)) || server.keychain.has(Number(key.id)), false);
  });

  test("redacted attributes (TrueNAS's default): reads keep the state's values, names still drift", async () => {
    const { server: quiet, connection: c } = await startServer();
    try {
      const key = await create(keypairs, { connection: c, name: "q-key" });
      const args = { connection: c, name: "q", host: "10.20.0.20", privateKey: key.outs.truenasId, remoteHostKey: PBS_KEY };
      const { id, outs } = await create(connections, args);
      assert.deepEqual(await read(connections, id, outs), outs);
      assert.deepEqual(await read(keypairs, key.id, key.outs), key.outs);
      quiet.keychain.get(Number(id))!.name = "renamed";
      const drifted = (await read(connections, id, outs)) as Record<string, unknown>;
      assert.equal(drifted.name, "renamed");
      assert.equal((await up(connections, id, drifted, args)).diff.changes, true);
      assert.equal(quiet.keychain.get(Number(id))?.name, "q");
    } finally {
      await quiet.close();
    }
  });
});
