import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { pbsKeyConfig, pbsKeyFingerprint } from "../../components/keys/pbs-key";
import { DAY_MS, epochKeeper, rotationEpoch } from "../../components/keys/rotation";
import { one, ofType, settle, startMocks, value, type Registered } from "../network/harness";
import { stackStrategy } from "../network/strategy";

const BYTES = "random:index/randomBytes:RandomBytes";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const RSA = "pulumi-nodejs:dynamic/keys:RsaKey";
const NOW = new Date("2026-05-20T12:00:00Z");
const LATER = new Date(NOW.getTime() + 90 * DAY_MS);

type Ring = import("../../components/keys/key-ring").KeyRing;

let resources: Registered[];
/** Every piece of key material the mocked providers handed out, by resource name. */
const material = new Map<string, string[]>();
let ring: Ring;
let later: Ring;
let plain: Ring;
let fresh: Ring;

/** Provider outputs as the real providers compute them: random material, a real RSA key pair. */
async function providerState(type: string, name: string, inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (type === BYTES) {
    const raw = randomBytes(32);
    material.set(name, [raw.toString("base64"), raw.toString("hex")]);
    return { base64: raw.toString("base64"), hex: raw.toString("hex") };
  }
  if (type === PASSWORD) {
    const result = randomBytes(30).toString("base64url");
    material.set(name, [result]);
    return { result, bcryptHash: "$2a$10$notarealhash" };
  }
  if (type === RSA) {
    // The provider's RSA generation is tested in pbs-key.test.ts and takes seconds; here a quick
    // EC pair stands in, shaped and passphrase-wrapped the way the provider's outputs are.
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const passphrase = inputs["passphrase"] as string;
    const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }).toString();
    const fingerprint = createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
    material.set(name, [privateKeyPem, passphrase]);
    return { bits: inputs["bits"], passphrase, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKeyPem, fingerprint };
  }
  return {};
}

function allMaterial(): string[] {
  return [...material.values()].flat();
}

describe("KeyRing under mocks", () => {
  before(async () => {
    resources = await startMocks(providerState);
    const { KeyRing } = await import("../../components/keys/key-ring");
    const homelab = stackStrategy("homelab");
    ring = new KeyRing("ring", { strategy: homelab, now: NOW });
    later = new KeyRing("later", { strategy: homelab, now: LATER, masterKeyBits: 3072 });
    plain = new KeyRing("plain", { strategy: stackStrategy("homelab", (raw) => (raw.security = { clientSideEncryption: false })), now: NOW });
    fresh = new KeyRing("fresh", { strategy: stackStrategy("lab"), now: NOW, since: NOW, masterKeyBits: 3072 });
    await Promise.all([ring, later, fresh].flatMap((r) => [value(r.retainedPbsKeys as pulumi.Output<unknown>), value(r.masterPublicKeyBase64 as pulumi.Output<unknown>)]));
    await settle();
  });

  test("one 32-byte key per generation, newest first: 34 kept through retention and protected, 5 more past it and unprotected", () => {
    const keys = ofType(resources, BYTES, "ring");
    assert.equal(keys.length, 39);
    assert.equal(keys[0]?.name, "ring-pbs-key-2026-03-08");
    keys.forEach((k, i) => {
      assert.equal(k.inputs["length"], 32);
      assert.deepEqual(k.inputs["keepers"], { generation: k.name.replace("ring-pbs-key-", "") });
      assert.equal(k.protect, i < 34, `${k.name} protect`);
      assert.equal(k.retainOnDelete, true);
      assert.equal(k.deleteBeforeReplace, false, "never a moment without a key");
    });
    assert.deepEqual(ring.generations.slice(0, 2).map((g) => [g.keeper, g.retained]), [["2026-03-08", true], ["2025-12-08", true]]);
    assert.equal(ring.generations.filter((g) => g.retained).length, 34);
  });

  test("the current key is the current epoch's material as a PBS key file; its fingerprint is public", async () => {
    const [b64] = material.get("ring-pbs-key-2026-03-08") as [string];
    const start = rotationEpoch(NOW, 90).startsAt;
    assert.equal(await value(ring.currentPbsEncryptionKey as pulumi.Output<string>), pbsKeyConfig(b64, start));
    assert.equal(await value(ring.currentPbsKeyFingerprint as pulumi.Output<string>), pbsKeyFingerprint(b64));
    const fps = await value(ring.pbsKeyFingerprints as pulumi.Output<{ keeper: string; fingerprint: string; keyId: string; neededUntil: string }[]>);
    assert.equal(fps.length, 39);
    assert.equal(fps[0]?.keyId, pbsKeyFingerprint(b64).split(":").slice(0, 8).join(":"));
    assert.equal(fps[0]?.neededUntil, new Date(rotationEpoch(NOW, 90).nextRotation.getTime() + 2927 * DAY_MS).toISOString());
  });

  test("a later pulumi up rotates: a new current key, and the previous one retained, protected, and still listed with its material", async () => {
    assert.equal(later.tokenEpoch, "2026-06-06");
    assert.notEqual(later.tokenEpoch, ring.tokenEpoch);
    const keys = ofType(resources, BYTES, "later");
    assert.equal(keys[0]?.name, "later-pbs-key-2026-06-06");
    assert.equal(keys[1]?.name, "later-pbs-key-2026-03-08");
    assert.equal(keys[1]?.protect, true);
    const retained = await value(later.retainedPbsKeys as pulumi.Output<{ keeper: string; key: string }[]>);
    const previous = retained.find((k) => k.keeper === "2026-03-08");
    const [b64] = material.get("later-pbs-key-2026-03-08") as [string];
    assert.equal(previous?.key, pbsKeyConfig(b64, new Date("2026-03-08T00:00:00Z")));
    assert.notEqual(await value(later.currentPbsEncryptionKey as pulumi.Output<string>), previous?.key);
  });

  test("the same date gives the same keepers: nothing rotates before the period is over", () => {
    assert.equal(ring.tokenEpoch, epochKeeper(rotationEpoch(new Date("2026-06-05T23:59:59Z"), 90)));
    assert.equal(ring.syncKeyEpoch, ring.tokenEpoch);
    assert.equal(typeof ring.tokenEpoch, "string");
    assert.equal(ring.kmsRotationDays, 365);
  });

  test("the master key and its passphrase are protected, kept on delete, and never rotated", () => {
    const master = one(resources, RSA, "ring-pbs-master-key");
    assert.equal(master.inputs["bits"], 4096);
    assert.equal(master.protect, true);
    assert.equal(master.retainOnDelete, true);
    assert.deepEqual(master.secretInputs, ["passphrase"]);
    assert.ok(master.additionalSecretOutputs.includes("privateKeyPem") && master.additionalSecretOutputs.includes("passphrase"));
    const pass = one(resources, PASSWORD, "ring-pbs-master-passphrase");
    assert.equal(pass.protect, true);
    assert.equal(pass.retainOnDelete, true);
    assert.equal(pass.inputs["keepers"], undefined);
    assert.ok(master.dependencies.includes(pass.urn));
  });

  test("key material is secret in every output; the public half and the fingerprints are not", async () => {
    for (const r of [ring, later, fresh]) {
      for (const out of [r.currentPbsEncryptionKey, r.retainedPbsKeys, r.masterPrivateKeyPem, r.masterKeyPassphrase] as (pulumi.Output<unknown> | undefined)[]) {
        assert.ok(out && (await pulumi.isSecret(out)), "secret");
      }
      for (const out of [r.currentPbsKeyFingerprint, r.pbsKeyFingerprints, r.masterPublicKeyPem, r.masterPublicKeyBase64] as (pulumi.Output<unknown> | undefined)[]) {
        assert.ok(out && !(await pulumi.isSecret(out)), "plain");
      }
    }
    const pem = await value(ring.masterPublicKeyPem as pulumi.Output<string>);
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(Buffer.from(await value(ring.masterPublicKeyBase64 as pulumi.Output<string>), "base64").toString(), pem);
  });

  test("no key material appears in plain text in any registered input or any plain output", async () => {
    const secrets = allMaterial();
    assert.ok(secrets.length > 80, "the mocks handed out material");
    for (const r of resources) {
      const text = JSON.stringify(r.inputs);
      for (const s of secrets) assert.ok(!text.includes(s), `${r.type}::${r.name} carries key material in a non-secret input`);
      for (const [k, v] of Object.entries(r.plain)) {
        if (secrets.some((s) => JSON.stringify(v).includes(s))) assert.ok(r.secretInputs.includes(k), `${r.name}.${k} holds material and is secret`);
      }
    }
    const shown = JSON.stringify([
      await value(ring.pbsKeyFingerprints as pulumi.Output<unknown>),
      await value(ring.masterPublicKeyBase64 as pulumi.Output<unknown>),
      ring.inventory,
      ring.generations,
      ring.tokenEpoch,
    ]);
    for (const s of secrets) assert.ok(!shown.includes(s), "plain outputs carry no material");
  });

  test("without client-side encryption: no PBS keys and no master key, the rotation keepers still", () => {
    assert.equal(ofType(resources, BYTES, "plain").length, 0);
    assert.equal(ofType(resources, RSA, "plain").length, 0);
    assert.equal(plain.currentPbsEncryptionKey, undefined);
    assert.equal(plain.masterPublicKeyPem, undefined);
    assert.equal(plain.tokenEpoch, "2026-03-08");
  });

  test("a ring first used today registers only today's key", () => {
    assert.deepEqual(ofType(resources, BYTES, "fresh").map((r) => r.name), ["fresh-pbs-key-2026-03-08"]);
    assert.equal(fresh.generations.length, 1);
  });

  test("the ring's inventory is the key inventory at its date", () => {
    assert.ok(ring.inventory.some((row) => row.key.startsWith("PBS client encryption key") && row.nextRotation?.toISOString() === "2026-06-06T00:00:00.000Z"));
  });
});
