/**
 * The recovery root of client-side encryption on PVE: the PBS master public key set on a `pbs`
 * storage (`master-pubkey`). PVE then stores every backup's key encrypted to it
 * (`rsa-encrypted.key`), so a lost storage key is recovered with the master private key
 * (`proxmox-backup-client key import-with-master-key`). The Proxmox VE provider has no input for
 * it, so it is set over SSH with `pvesh`, which takes the API's base64 PEM.
 */

/** PVE storage ids: what `pvesh` paths and the key file name accept. */
const STORAGE_ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Base64 of the PEM, the form PVE's API takes `master-pubkey` in. */
export function masterPubkeyParam(publicKeyPem: string): string {
  if (!/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/.test(publicKeyPem)) {
    throw new Error("the master public key is not an SPKI PEM; expected -----BEGIN PUBLIC KEY-----");
  }
  return Buffer.from(publicKeyPem, "utf8").toString("base64");
}

/**
 * The script that points a storage at a new PBS token in place (`pvesh set`), reading the
 * secret from standard input so it is never part of the command Pulumi records. The provider
 * would replace the (protected) storage for a new username or password, so the storage ignores
 * both after creation and this script carries every rotation.
 */
/** Where PVE keeps a storage's secrets (`<id>.pw`, `<id>.enc`), root-only and cluster-wide. */
export const PVE_STORAGE_PRIV_DIR = "/etc/pve/priv/storage";

function checkPrivDir(privDir: string): void {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(privDir)) throw new Error(`secrets directory ${JSON.stringify(privDir)} is invalid; expected an absolute path`);
}

export function setStorageCredentialsScript(storageId: string, tokenId: string, privDir: string = PVE_STORAGE_PRIV_DIR): string {
  checkPrivDir(privDir);
  if (!STORAGE_ID.test(storageId)) throw new Error(`storage id ${JSON.stringify(storageId)} is invalid; expected a PVE storage id`);
  if (!/^[^\s:/@!']+@[A-Za-z0-9_-]+![A-Za-z0-9_][A-Za-z0-9._-]*$/.test(tokenId)) throw new Error(`token id ${JSON.stringify(tokenId)} is invalid; expected user@realm!name`);
  return [
    "set -eu",
    "IFS= read -r secret",
    `test -n "$secret" || { echo "no token secret for ${storageId} on standard input" >&2; exit 1; }`,
    // The secret goes into the file PVE keeps it in (what `--password` writes), never onto a
    // command line where the process list would show it.
    "umask 077",
    `printf '%s\\n' "$secret" > ${privDir}/${storageId}.pw`,
    `pvesh set /storage/${storageId} --username '${tokenId}'`,
  ].join("\n");
}

/**
 * The script that gives a storage the library's current encryption key in place: the key file
 * (KDF-less JSON) arrives on standard input and reaches `pvesh` as one argument, never in the
 * command Pulumi records. Backups made before keep the key they were made with (the KeyRing
 * keeps those keys while such backups exist).
 */
export function setStorageEncryptionKeyScript(storageId: string, privDir: string = PVE_STORAGE_PRIV_DIR): string {
  checkPrivDir(privDir);
  if (!STORAGE_ID.test(storageId)) throw new Error(`storage id ${JSON.stringify(storageId)} is invalid; expected a PVE storage id`);
  return [
    "set -eu",
    "IFS= read -r key",
    `case "$key" in '{'*'"fingerprint"'*'}') ;; *) echo "no PBS key file for ${storageId} on standard input" >&2; exit 1 ;; esac`,
    // The key file goes where PVE keeps it (what `--encryption-key` writes), never onto a
    // command line; the storage already encrypts, so its config needs no change.
    "umask 077",
    `printf '%s\\n' "$key" > ${privDir}/${storageId}.enc`,
    `test -s ${privDir}/${storageId}.enc`,
  ].join("\n");
}

/**
 * The script run on a PVE node: set the key, then prove PVE stored it where vzdump reads it.
 * The storage config is cluster-wide (/etc/pve), so one node suffices.
 */
export function setMasterPubkeyScript(storageId: string, publicKeyPem: string): string {
  if (!STORAGE_ID.test(storageId)) throw new Error(`storage id ${JSON.stringify(storageId)} is invalid; expected a PVE storage id`);
  const param = masterPubkeyParam(publicKeyPem);
  return [
    "set -euo pipefail",
    `pvesh set /storage/${storageId} --master-pubkey ${param}`,
    `test -s /etc/pve/priv/storage/${storageId}.master.pem || { echo "PVE did not store the master public key of ${storageId}" >&2; exit 1; }`,
  ].join("\n");
}
