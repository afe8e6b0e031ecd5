/** The off-site tier from the strategy: one locked bucket per retention class, key and sync identity. */
import * as pulumi from "@pulumi/pulumi";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { OffsiteArchive } from "../components/offsite/archive";
import type { OffsiteTarget } from "./secondary";

export function createOffsite(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets, rotationEpoch: string): { archive: OffsiteArchive; targets: OffsiteTarget[] } {
  const site = strategy.hosts.offsite;
  const nonAws = site.provider !== "aws";
  const credentials = nonAws && secrets.offsiteAccessKeyId && secrets.offsiteSecretAccessKey
    ? { accessKeyId: secrets.offsiteAccessKeyId, secretAccessKey: secrets.offsiteSecretAccessKey }
    : undefined;
  const archive = new OffsiteArchive(
    "offsite",
    {
      provider: site.provider,
      region: site.region,
      ...(site.endpoint ? { endpoint: site.endpoint } : {}),
      bucketPrefix: site.bucketPrefix,
      retentionClasses: strategy.offsite.classes.map((c) => ({ name: c.name, days: c.retentionDays, sizeGb: c.sizeGb, objects: c.objects })),
      kmsRotationDays: strategy.security.kmsRotationDays,
      allowDestroy: strategy.protection.allowDestroy.map((a) => a.name),
      rcloneEncryption: strategy.offsite.rcloneEncryption,
      ...(strategy.offsite.prices ? { prices: strategy.offsite.prices } : {}),
      rotationEpoch,
      ...(credentials ? { credentials } : {}),
    },
    { parent },
  );
  // Every class is fed from the same critical data, each on its cadence: monthly and critical
  // every month, yearly once a year, so the yearly bucket holds one month's state per year.
  const accessKeyId = archive.syncAccessKeyId ?? secrets.offsiteAccessKeyId;
  const secretAccessKey = archive.syncSecretAccessKey ?? secrets.offsiteSecretAccessKey;
  const targets: OffsiteTarget[] = [];
  if (accessKeyId && secretAccessKey) {
    for (const [name, cls] of Object.entries(archive.buckets)) {
      if (!cls) continue;
      const schedule = name === "yearly" ? strategy.offsite.yearlySyncSchedule : strategy.offsite.syncSchedule;
      targets.push({ retentionClass: name as OffsiteTarget["retentionClass"], bucket: cls.bucket.bucket, accessKeyId, secretAccessKey, schedule });
    }
  }
  // The strictest class first: its tasks keep the names they had when only it was fed.
  targets.sort((a, b) => (a.retentionClass === "critical" ? -1 : b.retentionClass === "critical" ? 1 : 0));
  return { archive, targets };
}
