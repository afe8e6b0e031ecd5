/**
 * The key inventory: every secret the topology creates or uses, what it protects, who owns it,
 * when it rotates and how long replaced versions stay. Pure, for the plan and the runbook.
 */
import type { Strategy } from "../../config/strategy";
import { DEFAULT_ANCHOR, epochKeeper, maxBackupAgeDays, retainedGenerations, rotationEpoch } from "./rotation";

export interface KeyInventoryRow {
  /** The secret, with the name it has in PBS, AWS or the config. */
  key: string;
  /** What an attacker holding it could read or do, or what is lost without it. */
  protects: string;
  /** Which part of the topology creates and rotates it. */
  owner: string;
  /** Days between rotations; absent when it is never rotated. */
  rotationDays?: number;
  /** How it rotates. */
  rotation: string;
  /** When the next rotation is due; absent when never, or when another system schedules it. */
  nextRotation?: Date;
  /** How long replaced versions are kept. */
  oldVersionsKept: string;
}

export interface KeyInventoryOptions {
  /** Start of the rotation calendar. @default 1970-01-01T00:00:00Z */
  anchor?: Date;
  /** PBS encryption key generations kept, the current one included. @default derived from retention */
  retainedEpochs?: number;
  /** Rotation period of the PBS encryption key. @default strategy.security.keyRotationDays */
  encryptionKeyPeriodDays?: number;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function keyInventory(strategy: Strategy, now: Date, options: KeyInventoryOptions = {}): KeyInventoryRow[] {
  const period = strategy.security.keyRotationDays;
  const current = rotationEpoch(now, period, options.anchor ?? DEFAULT_ANCHOR);
  const next = current.nextRotation;
  const rows: KeyInventoryRow[] = [];
  const pbsUser = strategy.hosts.pbs.pveUser;
  const offsiteStores = strategy.datastores.filter((d) => d.offsite).map((d) => d.name);
  const manual = (what: string): Pick<KeyInventoryRow, "owner" | "rotationDays" | "rotation" | "nextRotation" | "oldVersionsKept"> => ({
    owner: "operator (Pulumi config secret)",
    rotationDays: period,
    rotation: `manual: create a new ${what}, pulumi config set --secret, pulumi up, then revoke the old one`,
    nextRotation: next,
    oldVersionsKept: "none: revoked once the new one is in use",
  });

  if (strategy.security.clientSideEncryption) {
    const age = maxBackupAgeDays(strategy);
    const keyPeriod = options.encryptionKeyPeriodDays ?? period;
    const keyEpoch = rotationEpoch(now, keyPeriod, options.anchor ?? DEFAULT_ANCHOR);
    const kept = options.retainedEpochs ?? retainedGenerations(age.days, keyPeriod);
    rows.push({
      key: `PBS client encryption key (generation ${epochKeeper(keyEpoch)})`,
      protects: `every PBS backup, encrypted on the client (AES-256-GCM), in datastores ${strategy.datastores.map((d) => d.name).join(", ")}, their NAS replicas${offsiteStores.length ? " and the off-site copy" : ""}`,
      owner: "KeyRing: @pulumi/random, one resource per rotation epoch",
      rotationDays: keyPeriod,
      rotation: "automatic: the first pulumi up of a new epoch creates the next key and PVE switches to it",
      nextRotation: keyEpoch.nextRotation,
      oldVersionsKept: `${kept - 1} previous generations, protected (backups live up to ${age.days} days: ${age.because})`,
    });
    rows.push({
      key: "PBS master key (RSA) and its passphrase",
      protects: "recovery of every encryption key: each backup carries its key encrypted to this master key",
      owner: "KeyRing: Node crypto in a create-only dynamic provider",
      rotation: "never: existing backups can only be recovered with the master key they were made with",
      oldVersionsKept: "for ever (protect, retainOnDelete)",
    });
  }
  for (const d of strategy.datastores) {
    rows.push({
      key: `PBS API token ${pbsUser}!pve-${d.name.slice(0, 16)}-<epoch start>`,
      protects: `PVE's backups to and restores from datastore ${d.name}`,
      owner: "PBS tier; KeyRing.tokenEpoch is its replacement keeper",
      rotationDays: period,
      rotation: "automatic: replaced each epoch, the new token created before the old one is deleted",
      nextRotation: next,
      oldVersionsKept: "none: deleted once PVE uses the new token",
    });
  }
  for (const a of strategy.agents) {
    rows.push({
      key: `PBS API token for host agent ${a.name}`,
      protects: `host agent ${a.name}'s access to PBS`,
      owner: "PBS tier; KeyRing.tokenEpoch is its replacement keeper",
      rotationDays: period,
      rotation: "automatic: replaced each epoch, the new token created before the old one is deleted",
      nextRotation: next,
      oldVersionsKept: "none: deleted once the agent uses the new token",
    });
    rows.push({
      key: `borg passphrase of host agent ${a.name}`,
      protects: `the borg repository ${a.repository}`,
      owner: "host agent tier",
      rotation: "never automatically: borg key change-passphrase re-wraps the repository key, archives stay readable",
      oldVersionsKept: "not needed: the repository key itself never changes",
    });
  }
  if (offsiteStores.length > 0) {
    const aws = strategy.hosts.offsite.provider === "aws";
    rows.push(
      aws
        ? {
            key: `off-site sync access key (IAM user ${strategy.hosts.offsite.bucketPrefix}-sync)`,
            protects: "the NAS's uploads to the off-site buckets (write-only identity)",
            owner: "off-site tier; KeyRing.syncKeyEpoch is its replacement keeper",
            rotationDays: period,
            rotation: "automatic: replaced each epoch, the new key created before the old one is deleted",
            nextRotation: next,
            oldVersionsKept: "none: deleted once the NAS's cloud credential holds the new key",
          }
        : { key: "off-site access key (offsiteAccessKeyId, offsiteSecretAccessKey)", protects: "the NAS's uploads to the off-site buckets", ...manual("access key at the provider") },
    );
    if (aws) {
      rows.push({
        key: "KMS key of the off-site buckets",
        protects: "server-side encryption of every off-site object",
        owner: "AWS KMS automatic rotation",
        rotationDays: strategy.security.kmsRotationDays,
        rotation: "automatic by AWS, counted from the key's creation",
        oldVersionsKept: "for ever: AWS keeps every earlier key material to decrypt older objects",
      });
    }
    if (strategy.offsite.rcloneEncryption) {
      rows.push({
        key: "rclone crypt password and salt",
        protects: "names and contents of the off-site copy",
        owner: "secondary tier: @pulumi/random, protected",
        rotation: "never: a new password would make the existing off-site copy unreadable",
        oldVersionsKept: "for ever (protect, retainOnDelete)",
      });
    }
  }
  rows.push(
    { key: "PVE API token (pveApiToken)", protects: "Pulumi's administration of the PVE cluster", ...manual("PVE API token") },
    { key: `PBS admin API token (pbsApiToken, ${strategy.hosts.pbs.adminUser}!${strategy.hosts.pbs.adminTokenName})`, protects: "Pulumi's administration of PBS", ...manual("PBS API token") },
    { key: `TrueNAS API key (truenasApiKey, user ${strategy.hosts.truenas.apiUser})`, protects: "Pulumi's administration of TrueNAS", ...manual("TrueNAS API key") },
  );
  return rows;
}

/** The inventory as a column-aligned text table. */
export function renderKeyInventory(rows: readonly KeyInventoryRow[]): string {
  const headers = ["key", "protects", "owner", "rotation", "next rotation", "old versions kept"];
  const cells = rows.map((r) => [
    r.key,
    r.protects,
    r.owner,
    r.rotationDays !== undefined ? `every ${r.rotationDays} days; ${r.rotation}` : r.rotation,
    r.nextRotation ? day(r.nextRotation) : "-",
    r.oldVersionsKept,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i] as number))).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
