import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { keyInventory, renderKeyInventory } from "../../components/keys/inventory";
import { rotationEpoch } from "../../components/keys/rotation";
import { stackStrategy } from "../network/strategy";

const NOW = new Date("2026-05-20T12:00:00Z");
const homelab = stackStrategy("homelab");
const lab = stackStrategy("lab");

describe("keyInventory", () => {
  test("homelab: every secret the topology creates or uses, in a stable order", () => {
    assert.deepEqual(
      keyInventory(homelab, NOW).map((r) => r.key),
      [
        "PBS client encryption key (generation 2026-03-08)",
        "PBS master key (RSA) and its passphrase",
        "PBS API token pve-backup@pbs!pve-critical-<epoch start>",
        "PBS API token pve-backup@pbs!pve-homelab-<epoch start>",
        "PBS API token for host agent db01",
        "borg passphrase of host agent db01",
        "PBS API token for host agent docker01",
        "borg passphrase of host agent docker01",
        "off-site sync access key (IAM user homelab-offsite-sync)",
        "KMS key of the off-site buckets",
        "rclone crypt password and salt",
        "PVE API token (pveApiToken)",
        "PBS admin API token (pbsApiToken, root@pam!homelab-backup)",
        "TrueNAS API key (truenasApiKey, user root)",
      ],
    );
  });

  test("rotated keys are due at the next epoch; the encryption key keeps enough generations for the oldest copy", () => {
    const rows = keyInventory(homelab, NOW);
    const next = rotationEpoch(NOW, 90).nextRotation;
    const pbsKey = rows[0];
    assert.equal(pbsKey?.rotationDays, 90);
    assert.equal(pbsKey?.nextRotation?.getTime(), next.getTime());
    assert.match(pbsKey?.oldVersionsKept ?? "", /^33 previous generations, protected \(backups live up to 2927 days/);
    for (const r of rows.filter((x) => x.key.startsWith("PBS API token") || x.key.startsWith("off-site sync"))) {
      assert.equal(r.nextRotation?.getTime(), next.getTime(), r.key);
      assert.match(r.rotation, /new .* created before the old one is deleted/);
    }
    const kms = rows.find((r) => r.key.startsWith("KMS"));
    assert.equal(kms?.rotationDays, 365);
    assert.equal(kms?.nextRotation, undefined, "AWS schedules it from the key's creation");
    const master = rows.find((r) => r.key.startsWith("PBS master key"));
    assert.equal(master?.rotationDays, undefined);
    assert.match(master?.rotation ?? "", /^never/);
  });

  test("lab: an S3-compatible store has no KMS key and its access key is the operator's to rotate; no agents, no agent rows", () => {
    const rows = keyInventory(lab, NOW);
    assert.ok(!rows.some((r) => r.key.startsWith("KMS")));
    assert.ok(!rows.some((r) => r.key.includes("host agent")));
    const access = rows.find((r) => r.key.startsWith("off-site access key"));
    assert.equal(access?.owner, "operator (Pulumi config secret)");
    assert.match(access?.rotation ?? "", /^manual/);
  });

  test("no client-side encryption, no PBS encryption or master key rows", () => {
    const rows = keyInventory(stackStrategy("lab", (raw) => (raw.security = { clientSideEncryption: false })), NOW);
    assert.ok(!rows.some((r) => r.key.startsWith("PBS client encryption key") || r.key.startsWith("PBS master key")));
  });

  test("every row names what it protects, its owner, and how long old versions stay; dates move only at epoch boundaries", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }), (t) => {
        const now = new Date(t);
        for (const r of keyInventory(homelab, now)) {
          assert.ok(r.protects.length > 0 && r.owner.length > 0 && r.oldVersionsKept.length > 0 && r.rotation.length > 0, r.key);
          if (r.nextRotation) assert.ok(r.nextRotation.getTime() > now.getTime() && r.nextRotation.getTime() <= now.getTime() + 90 * 86_400_000);
        }
      }),
      { numRuns: 50 },
    );
  });

  test("renderKeyInventory: a header and one line per row with the next rotation date", () => {
    const rows = keyInventory(homelab, NOW);
    const lines = renderKeyInventory(rows).split("\n");
    assert.equal(lines.length, rows.length + 2);
    assert.match(lines[0] ?? "", /^key\s+protects\s+owner\s+rotation\s+next rotation\s+old versions kept$/);
    assert.match(lines[2] ?? "", /every 90 days; automatic.*2026-06-06/);
    assert.match(lines[3] ?? "", /PBS master key.*\s-\s+for ever/);
  });
});
