/** Keys and rotation: the rotation calendar, PBS encryption keys kept through retention, the RSA master key and the key inventory. */
export { rotationEpoch, epochAt, epochKeeper, retainedGenerations, maxBackupAgeDays, keepAgeDays, generations, DEFAULT_ANCHOR, DAY_MS, type RotationEpoch, type Generation, type BackupAge } from "./rotation";
export { pbsKeyConfig, pbsKeyFingerprint, rawKey } from "./pbs-key";
export { RsaKey, rsaKeyProvider, checkRsaKeyInputs, RSA_KEY_BITS, type RsaKeyArgs, type RsaKeyInputs, type RsaKeyOutputs } from "./rsa-key";
export { keyInventory, renderKeyInventory, type KeyInventoryRow, type KeyInventoryOptions } from "./inventory";
export { KeyRing, type KeyRingArgs, type RetainedPbsKey, type PbsKeyFingerprint } from "./key-ring";
