/**
 * The one resource shape the protection model reads, built either from the offline plan's
 * recording or from a CrossGuard `PolicyResource`, so one model serves both ways of running
 * the policies.
 */

export interface ModelResource {
  type: string;
  name: string;
  urn: string;
  /** Inputs (plan) or properties (CrossGuard); secrets may appear as "[secret]". */
  props: Record<string, unknown>;
  protect: boolean;
  /** Known offline only: CrossGuard does not expose retainOnDelete. */
  retainOnDelete?: boolean;
  parentUrn?: string;
  /** Input names whose values are Pulumi secrets; known offline only. */
  secretProps?: string[];
}

/** Type tokens the model understands. */
export const T = {
  pveJob: "proxmoxve:backup/job:Job",
  pveStorage: "proxmoxve:storage/pbs:Pbs",
  pbsDatastore: "pulumi-nodejs:dynamic/pbs:Datastore",
  pbsPrune: "pulumi-nodejs:dynamic/pbs:PruneJob",
  pbsVerify: "pulumi-nodejs:dynamic/pbs:VerifyJob",
  pbsToken: "pulumi-nodejs:dynamic/pbs:ApiToken",
  pbsAcl: "pulumi-nodejs:dynamic/pbs:Acl",
  nasSnapshot: "pulumi-nodejs:dynamic/truenas:PeriodicSnapshotTask",
  nasReplication: "pulumi-nodejs:dynamic/truenas:ReplicationTask",
  nasCloudSync: "pulumi-nodejs:dynamic/truenas:CloudSyncTask",
  bucket: "aws:s3/bucket:Bucket",
  bucketLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  kmsKey: "aws:kms/key:Key",
  agent: "homelab:agents:BorgmaticAgent",
  command: "command:remote:Command",
} as const;

/** Resources grouped by type once, so every lookup after is linear in what it reads. */
export class ResourceIndex {
  private readonly byType = new Map<string, ModelResource[]>();
  constructor(public readonly all: readonly ModelResource[]) {
    for (const r of all) {
      const list = this.byType.get(r.type);
      if (list) list.push(r);
      else this.byType.set(r.type, [r]);
    }
  }
  of(type: string): readonly ModelResource[] {
    return this.byType.get(type) ?? [];
  }
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return undefined;
}
