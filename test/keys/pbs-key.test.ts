import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, publicEncrypt, constants } from "node:crypto";
import fc from "fast-check";
import { pbsKeyConfig, pbsKeyFingerprint, rawKey } from "../../components/keys/pbs-key";
import { checkRsaKeyInputs, rsaKeyProvider, type RsaKeyOutputs } from "../../components/keys/rsa-key";

const KEY = Buffer.alloc(32, 7).toString("base64");

describe("PBS encryption key files", () => {
  test("the KDF-less KeyConfig PVE's storage accepts: kdf null, RFC 3339 dates, the raw key in base64, the fingerprint", () => {
    const created = new Date("2026-03-08T00:00:00Z");
    const file = JSON.parse(pbsKeyConfig(KEY, created)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(file), ["kdf", "created", "modified", "data", "fingerprint"]);
    assert.equal(file["kdf"], null);
    assert.equal(file["created"], "2026-03-08T00:00:00+00:00");
    assert.equal(file["modified"], "2026-03-08T00:00:00+00:00");
    assert.equal(file["data"], KEY);
    assert.equal(file["fingerprint"], pbsKeyFingerprint(KEY));
  });

  test("the fingerprint input is PBS's constant, sha256 of its label (pbs-tools crypt_config.rs)", () => {
    const pbsConstant = [110, 208, 239, 119, 71, 31, 255, 77, 85, 199, 168, 254, 74, 157, 182, 33, 97, 64, 127, 19, 76, 114, 93, 223, 48, 153, 45, 37, 236, 69, 237, 38];
    assert.deepEqual([...createHash("sha256").update("Proxmox Backup Encryption Key Fingerprint").digest()], pbsConstant);
  });

  test("fingerprints: 32 lowercase hex bytes with colons, deterministic, distinct per key, revealing nothing of the key", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
        const ka = Buffer.from(a).toString("base64");
        const kb = Buffer.from(b).toString("base64");
        const fa = pbsKeyFingerprint(ka);
        assert.match(fa, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
        assert.equal(pbsKeyFingerprint(ka), fa);
        if (ka !== kb) assert.notEqual(pbsKeyFingerprint(kb), fa);
        assert.ok(!fa.replace(/:/g, "").includes(Buffer.from(a).toString("hex")));
      }),
      { numRuns: 50 },
    );
  });

  test("the same key material and epoch always render the same file, so a later up sees no change", () => {
    const d = new Date("2026-03-08T00:00:00Z");
    assert.equal(pbsKeyConfig(KEY, d), pbsKeyConfig(KEY, new Date(d.getTime())));
  });

  test("refuses anything but 32 bytes of base64", () => {
    assert.throws(() => rawKey(Buffer.alloc(31).toString("base64")), /has 31 bytes; expected 32/);
    assert.throws(() => rawKey("00"), /has 1 bytes; expected 32/);
    assert.throws(() => rawKey("not base64!"), /is not base64/);
    assert.throws(() => rawKey(undefined as unknown as string), /is not base64/);
  });
});

describe("RSA master key provider", () => {
  test("check: PBS-compatible sizes and a passphrase of at least 5 characters", () => {
    assert.deepEqual(checkRsaKeyInputs({ passphrase: "secret-pass" }).failures, []);
    assert.equal(checkRsaKeyInputs({ passphrase: "secret-pass" }).inputs.bits, 4096);
    assert.deepEqual(
      checkRsaKeyInputs({ bits: 1024, passphrase: "abc" }).failures.map((f) => f.property),
      ["bits", "passphrase"],
    );
    // A 2048-bit key cannot hold a PBS key file under PKCS#1 padding.
    assert.match(checkRsaKeyInputs({ bits: 2048, passphrase: "secret-pass" }).failures[0]?.reason ?? "", /expected 3072 or 4096/);
  });

  test("create: a public PEM PBS imports, a private PEM encrypted with the passphrase, the id is the public key's fingerprint", async () => {
    const { id, outs } = (await rsaKeyProvider.create({ bits: 3072, passphrase: "first-passphrase" })) as { id: string; outs: RsaKeyOutputs };
    assert.match(outs.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.match(outs.privateKeyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(id, outs.fingerprint);
    const pub = createPublicKey(outs.publicKeyPem);
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 3072);
    assert.equal(outs.fingerprint, [...createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest()].map((b) => b.toString(16).padStart(2, "0")).join(":"));
    assert.throws(() => createPrivateKey({ key: outs.privateKeyPem, format: "pem", passphrase: "wrong-passphrase" }));
    const priv = createPrivateKey({ key: outs.privateKeyPem, format: "pem", passphrase: "first-passphrase" });
    assert.equal(createPublicKey(priv).export({ type: "spki", format: "pem" }), outs.publicKeyPem);
    // PBS encrypts each backup's key file to the master key with PKCS#1 padding and checks the length.
    const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(pbsKeyConfig(KEY, new Date(0))));
    assert.equal(wrapped.length, 384);

    // diff: a new passphrase is an in-place update; a new size replaces, creating the new key first.
    assert.deepEqual(await rsaKeyProvider.diff?.(id, outs, { bits: 3072, passphrase: "second-passphrase" }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await rsaKeyProvider.diff?.(id, outs, { bits: 4096, passphrase: "first-passphrase" }), { changes: true, replaces: ["bits"], deleteBeforeReplace: false });
    assert.deepEqual(await rsaKeyProvider.diff?.(id, outs, { bits: 3072, passphrase: "first-passphrase" }), { changes: false, replaces: [], deleteBeforeReplace: false });

    // update re-wraps the same key pair with the new passphrase.
    const updated = (await rsaKeyProvider.update?.(id, outs, { bits: 3072, passphrase: "second-passphrase" }))?.outs as RsaKeyOutputs;
    assert.equal(updated.publicKeyPem, outs.publicKeyPem);
    assert.notEqual(updated.privateKeyPem, outs.privateKeyPem);
    assert.throws(() => createPrivateKey({ key: updated.privateKeyPem, format: "pem", passphrase: "first-passphrase" }));
    const rewrapped = createPrivateKey({ key: updated.privateKeyPem, format: "pem", passphrase: "second-passphrase" });
    assert.equal(createPublicKey(rewrapped).export({ type: "spki", format: "pem" }), outs.publicKeyPem);
  });
});
