/**
 * The topology's own key material and the rotation calendar other components key on.
 *
 * PBS client encryption keys: one @pulumi/random resource per rotation epoch. The current one goes
 * to PVE; the previous ones stay registered, protected, for as long as a backup made with them can
 * still exist on PBS, on the NAS or off-site, so rotation never makes an old backup unreadable.
 * Each backup also carries its key encrypted to the RSA master key, the recovery root, which is
 * never rotated.
 *
 * Recovery path for a backup made with an earlier key: find the key fingerprint PBS shows for the
 * snapshot in `pbsKeyFingerprints`, then `pulumi stack output --show-secrets` the matching entry of
 * `retainedPbsKeys` into a file and either add a temporary PVE `pbs` storage on the same datastore
 * with that `encryption-key` and restore from it, or run `proxmox-backup-client restore --keyfile`.
 * Without the key: `proxmox-backup-client key import-with-master-key --master-keyfile` with
 * `masterPrivateKeyPem` (passphrase `masterKeyPassphrase`) and the snapshot's `rsa-encrypted.key`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Strategy } from "../../config/strategy";
import { keyInventory, type KeyInventoryRow } from "./inventory";
import { pbsKeyConfig, pbsKeyFingerprint } from "./pbs-key";
import { createPbsMasterKey, type PbsMasterKey } from "./master-key";
import { DEFAULT_ANCHOR, epochKeeper, generations, maxBackupAgeDays, retainedGenerations, rotationEpoch, type Generation, type RotationEpoch } from "./rotation";

export interface KeyRingArgs {
  /** The validated strategy: `security.keyRotationDays`, `security.clientSideEncryption`, and the retention that decides how long old keys stay. */
  strategy: Strategy;
  /**
   * The date the rotation calendar is evaluated at. Inject it for reproducible plans and tests.
   * @default new Date() (the time of the `pulumi up`)
   */
  now?: Date;
  /**
   * PBS encryption key generations kept registered and protected, the current one included.
   * @default ceil(longest backup age in days / keyRotationDays) + 1 (maxBackupAgeDays: PBS prune policy, NAS replica retention, off-site retention)
   */
  retainedEpochs?: number;
  /**
   * Generations past retention that stay registered without `protect`, so that a `pulumi up`
   * after a gap of up to this many periods can drop them; after a longer gap the oldest still
   * protected key blocks the update until it is unprotected by hand.
   * @default ceil(365 / keyRotationDays)
   */
  graceEpochs?: number;
  /**
   * The first day this ring was in use: generations that ended before it never encrypted anything
   * and get no resource.
   * @default none (the whole retention window is registered)
   */
  since?: Date;
  /**
   * Start of the rotation calendar. Changing it (or `keyRotationDays`) renames every generation:
   * protected old keys then block the update instead of being lost.
   * @default 1970-01-01T00:00:00Z
   */
  anchor?: Date;
  /** Size of the RSA master key; immutable once created. @default 4096 (PBS's own size) */
  masterKeyBits?: 3072 | 4096;
  /** Days between PBS encryption key generations. @default strategy.security.keyRotationDays */
  periodDays?: number;
  /** A master key declared elsewhere, used instead of declaring one here. @default one of the ring's own */
  masterKey?: PbsMasterKey;
}

/** An earlier (or the current) PBS encryption key, with the dates that govern it. */
export interface RetainedPbsKey {
  epoch: number;
  /** The generation's keeper, its start date. */
  keeper: string;
  startsAt: string;
  /** When PVE stopped using it (the next generation's start). */
  retiredAt: string;
  /** Until when a backup made with it can still exist. */
  neededUntil: string;
  /** Full fingerprint, as in the key file. */
  fingerprint: string;
  /** The short key id PVE and PBS display (first 8 bytes of the fingerprint). */
  keyId: string;
  /** The key file, KDF-less JSON, as `encryption-key` and `--keyfile` take it. */
  key: string;
}

export type PbsKeyFingerprint = Omit<RetainedPbsKey, "key">;

export class KeyRing extends pulumi.ComponentResource {
  /** The current rotation epoch of the PBS encryption key (`periodDays`). */
  public readonly rotation: RotationEpoch;
  /** Keeper for PBS API tokens (PVE's and the agents'): put it in the token name and `replacementTrigger`. */
  public readonly tokenEpoch: string;
  /** Keeper for the off-site sync access key: OffsiteArchiveArgs.rotationEpoch. */
  public readonly syncKeyEpoch: string;
  /** KMS automatic rotation period for the off-site component. */
  public readonly kmsRotationDays: number;
  /** The registered PBS key generations, newest first (empty without client-side encryption). */
  public readonly generations: readonly Generation[];
  /** The inventory of every secret at `now`, for the plan. */
  public readonly inventory: readonly KeyInventoryRow[];
  /** The current PBS key file for PVE's storage `encryption-key` (secret). */
  public readonly currentPbsEncryptionKey?: pulumi.Output<string>;
  public readonly currentPbsKeyFingerprint?: pulumi.Output<string>;
  /** Every registered generation's key file and dates (secret). */
  public readonly retainedPbsKeys?: pulumi.Output<RetainedPbsKey[]>;
  /** The same without the key material, in plain text, to match a backup to its key. */
  public readonly pbsKeyFingerprints?: pulumi.Output<PbsKeyFingerprint[]>;
  /** `master-public.pem` (plain). */
  public readonly masterPublicKeyPem?: pulumi.Output<string>;
  /** The public key as PVE's storage `master-pubkey` takes it: base64 of the PEM (plain). */
  public readonly masterPublicKeyBase64?: pulumi.Output<string>;
  /** `master-private.pem`, encrypted with `masterKeyPassphrase` (secret). */
  public readonly masterPrivateKeyPem?: pulumi.Output<string>;
  public readonly masterKeyPassphrase?: pulumi.Output<string>;

  constructor(name: string, args: KeyRingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:keys:KeyRing", name, {}, opts);
    const { strategy } = args;
    const now = args.now ?? new Date();
    const anchor = args.anchor ?? DEFAULT_ANCHOR;
    const period = args.periodDays ?? strategy.security.keyRotationDays;

    this.rotation = rotationEpoch(now, period, anchor);
    // Tokens and the sync key follow the secrets' period even when the encryption key has its own.
    const secretsEpoch = rotationEpoch(now, strategy.security.keyRotationDays, anchor);
    this.tokenEpoch = epochKeeper(secretsEpoch);
    this.syncKeyEpoch = epochKeeper(secretsEpoch);
    this.kmsRotationDays = strategy.security.kmsRotationDays;
    const age = maxBackupAgeDays(strategy);
    const needed = retainedGenerations(age.days, period);
    const retained = args.retainedEpochs ?? needed;
    if (retained < needed) {
      pulumi.log.warn(`retainedEpochs ${retained} keeps fewer PBS keys than backups need (${needed}: ${age.because}); older backups will only be recoverable through the master key`, this);
    }
    this.inventory = keyInventory(strategy, now, { anchor, retainedEpochs: retained, encryptionKeyPeriodDays: period });

    if (!strategy.security.clientSideEncryption) {
      this.generations = [];
      pulumi.log.warn("security.clientSideEncryption is off: no PBS encryption keys are created and backups leave PVE unencrypted", this);
      this.registerOutputs({ tokenEpoch: this.tokenEpoch, syncKeyEpoch: this.syncKeyEpoch, rotation: this.rotation.epoch });
      return;
    }

    this.generations = generations({
      now,
      periodDays: period,
      retained,
      grace: args.graceEpochs ?? Math.ceil(365 / period),
      maxBackupAgeDays: age.days,
      anchor,
      ...(args.since ? { since: args.since } : {}),
    });
    const keys = this.generations.map((g) => {
      const bytes = new random.RandomBytes(
        `${name}-pbs-key-${g.keeper}`,
        { length: 32, keepers: { generation: g.keeper } },
        {
          parent: this,
          // Retired keys past retention lose protect first, so the next epoch's update can drop them.
          protect: g.retained,
          retainOnDelete: true,
          deleteBeforeReplace: false,
          additionalSecretOutputs: ["base64", "hex"],
        },
      );
      const dates = {
        epoch: g.epoch,
        keeper: g.keeper,
        startsAt: g.startsAt.toISOString(),
        retiredAt: g.nextRotation.toISOString(),
        neededUntil: g.neededUntil.toISOString(),
      };
      // A fingerprint is a one-way digest PBS and PVE show openly; it names the key, not its material.
      const fingerprint = pulumi.unsecret(bytes.base64.apply(pbsKeyFingerprint));
      const key = pulumi.secret(bytes.base64.apply((b) => pbsKeyConfig(b, g.startsAt)));
      return { dates, fingerprint, key };
    });
    const current = keys[0] as (typeof keys)[number];
    this.currentPbsEncryptionKey = current.key;
    this.currentPbsKeyFingerprint = current.fingerprint;
    this.pbsKeyFingerprints = pulumi.all(keys.map((k) => k.fingerprint)).apply((fps) =>
      keys.map((k, i) => ({ ...k.dates, fingerprint: fps[i] as string, keyId: (fps[i] as string).split(":").slice(0, 8).join(":") })),
    );
    const files = pulumi.all(keys.map((k) => k.key));
    this.retainedPbsKeys = pulumi.secret(
      pulumi.all([this.pbsKeyFingerprints, files]).apply(([fps, keyFiles]): RetainedPbsKey[] => fps.map((fp, i) => ({ ...fp, key: keyFiles[i] as string }))),
    );

    const master = args.masterKey ?? createPbsMasterKey(name, this, args.masterKeyBits ?? 4096);
    this.masterPublicKeyPem = master.publicKeyPem;
    this.masterPublicKeyBase64 = master.publicKeyPem.apply((pem) => {
      if (typeof pem !== "string" || !pem.includes("BEGIN PUBLIC KEY")) throw new Error("the PBS master key has no public key PEM; expected the RsaKey provider's publicKeyPem output");
      return Buffer.from(pem, "utf8").toString("base64");
    });
    this.masterPrivateKeyPem = master.privateKeyPem;
    this.masterKeyPassphrase = master.passphrase;

    this.registerOutputs({
      tokenEpoch: this.tokenEpoch,
      syncKeyEpoch: this.syncKeyEpoch,
      rotation: this.rotation.epoch,
      currentPbsEncryptionKey: this.currentPbsEncryptionKey,
      currentPbsKeyFingerprint: this.currentPbsKeyFingerprint,
      retainedPbsKeys: this.retainedPbsKeys,
      pbsKeyFingerprints: this.pbsKeyFingerprints,
      masterPublicKeyPem: this.masterPublicKeyPem,
      masterPublicKeyBase64: this.masterPublicKeyBase64,
      masterPrivateKeyPem: this.masterPrivateKeyPem,
      masterKeyPassphrase: this.masterKeyPassphrase,
    });
  }
}
