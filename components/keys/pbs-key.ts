/**
 * PBS client encryption keys in the format `proxmox-backup-client key create --kdf none` writes
 * and PVE's `pbs` storage accepts as `encryption-key` (pbs-key-config's KeyConfig): 32 random
 * bytes, base64, with the fingerprint PBS records in every encrypted backup's manifest.
 */
import { createHash, pbkdf2Sync } from "node:crypto";

/** sha256("Proxmox Backup Encryption Key Fingerprint"), pbs-tools' FINGERPRINT_INPUT. */
const FINGERPRINT_INPUT = createHash("sha256").update("Proxmox Backup Encryption Key Fingerprint").digest();

/** The raw key from its base64 form; anything but 32 bytes is refused, never padded. */
export function rawKey(base64: string): Buffer {
  if (typeof base64 !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new Error("PBS encryption key material is not base64; expected 32 random bytes (RandomBytes.base64)");
  }
  const raw = Buffer.from(base64, "base64");
  if (raw.length !== 32) throw new Error(`PBS encryption key material has ${raw.length} bytes; expected 32 (AES-256)`);
  return raw;
}

/**
 * The key's fingerprint as PBS computes it (CryptConfig::fingerprint): sha256 over the fixed input
 * and an id key derived with PBKDF2-HMAC-SHA256 (10 rounds, salt `_id_key`), lowercase hex bytes
 * joined by colons. One-way, so it can be shown in plain text, as PVE and PBS do.
 */
export function pbsKeyFingerprint(base64: string): string {
  const idKey = pbkdf2Sync(rawKey(base64), "_id_key", 10, 32, "sha256");
  const digest = createHash("sha256").update(FINGERPRINT_INPUT).update(idKey).digest();
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** RFC 3339 with an explicit offset, as proxmox_serde's epoch_as_rfc3339 reads it. */
function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}+00:00`;
}

/**
 * The KDF-less key file. `created` is the epoch's start, not the wall clock, so the same key
 * material always renders the same file and a later `pulumi up` sees no change.
 */
export function pbsKeyConfig(base64: string, created: Date): string {
  const data = rawKey(base64).toString("base64");
  return JSON.stringify({ kdf: null, created: rfc3339(created), modified: rfc3339(created), data, fingerprint: pbsKeyFingerprint(base64) });
}
