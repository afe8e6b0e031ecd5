/** The off-site tier from the strategy: one locked bucket per retention class, key and sync identity. */
import * as pulumi from "@pulumi/pulumi";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { OffsiteArchive } from "../components/offsite/archive";
import type { OffsiteTarget } from "./secondary";

export function createOffsite(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets, rotationEpoch: string): { archive: OffsiteArchive; target: OffsiteTarget | undefined } {
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
      rotationEpoch,
      ...(credentials ? { credentials } : {}),
    },
    { parent },
  );
  // The off-site datastore's replica goes to the strictest class: critical data, kept 7 years.
  const cls = archive.buckets.critical ?? Object.values(archive.buckets)[0];
  const accessKeyId = archive.syncAccessKeyId ?? secrets.offsiteAccessKeyId;
  const secretAccessKey = archive.syncSecretAccessKey ?? secrets.offsiteSecretAccessKey;
  const target = cls && accessKeyId && secretAccessKey ? { bucket: cls.bucket.bucket, accessKeyId, secretAccessKey } : undefined;
  return { archive, target };
}
