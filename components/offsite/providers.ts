/**
 * What each S3 endpoint a homelab uses can do, so the archive declares only what works there and
 * says in plain words what it left out. Facts come from ../shared/reference/s3-costs.md and the
 * providers' own documentation (cited per field); where a feature is not documented for a
 * provider it is treated as absent and a note says so.
 */
import type { OffsiteProviderKind } from "./cost";

export interface ProviderCapabilities {
  readonly kind: OffsiteProviderKind;
  /** Name in notes. */
  readonly label: string;
  /** Archive storage classes (Glacier, Deep Archive) and transitions to them. */
  readonly storageClasses: boolean;
  /** AWS KMS customer-managed keys for SSE-KMS. */
  readonly kms: boolean;
  /** Object Lock with COMPLIANCE mode and a bucket default retention. */
  readonly objectLock: boolean;
  readonly lifecycle: {
    readonly transitions: boolean;
    readonly abortIncompleteUploads: boolean;
    readonly expiredDeleteMarkers: boolean;
  };
  /** Bucket policies whose Deny statements bind authenticated users (TLS-only, SSE-only). */
  readonly bucketPolicy: boolean;
  /** S3 Block Public Access and Object Ownership (ACLs disabled). */
  readonly publicAccessControls: boolean;
  /** An AWS-compatible IAM API this library can declare the sync identity through. */
  readonly iam: boolean;
  /** Endpoint used when none is given. */
  readonly defaultEndpoint?: (region: string) => string;
}

export const CAPABILITIES: { readonly [K in OffsiteProviderKind]: ProviderCapabilities } = {
  aws: {
    kind: "aws",
    label: "AWS S3",
    storageClasses: true,
    kms: true,
    objectLock: true,
    lifecycle: { transitions: true, abortIncompleteUploads: true, expiredDeleteMarkers: true },
    bucketPolicy: true,
    publicAccessControls: true,
    iam: true,
  },
  b2: {
    kind: "b2",
    label: "Backblaze B2",
    storageClasses: false, // one class [reference 1.2]
    kms: false,
    objectLock: true, // governance or compliance, S3 PutObjectLockConfiguration [V]
    // S3 lifecycle maps to B2's hide/delete/cancel-unfinished-large-files rules (Backblaze API
    // docs, s3-put-lifecycle-configuration); B2 always removes orphan delete markers itself.
    lifecycle: { transitions: false, abortIncompleteUploads: true, expiredDeleteMarkers: false },
    bucketPolicy: false,
    publicAccessControls: false,
    iam: false, // B2 application keys, not IAM
    defaultEndpoint: (region) => `https://s3.${region}.backblazeb2.com`,
  },
  wasabi: {
    kind: "wasabi",
    label: "Wasabi",
    storageClasses: false, // single class [reference 1.2]
    kms: false,
    objectLock: true, // governance or compliance, bucket default [V]
    // Expiration and NoncurrentVersionExpiration are documented [V]; incomplete-upload and
    // delete-marker rules are not, so they are not declared.
    lifecycle: { transitions: false, abortIncompleteUploads: false, expiredDeleteMarkers: false },
    bucketPolicy: false,
    publicAccessControls: false,
    iam: false,
    defaultEndpoint: (region) => `https://s3.${region}.wasabisys.com`,
  },
  minio: {
    kind: "minio",
    label: "MinIO",
    storageClasses: false,
    kms: false, // MinIO's SSE-KMS goes through its own KES, not AWS KMS
    objectLock: true,
    // MinIO's lifecycle parser has no AbortIncompleteMultipartUpload (minio/minio
    // internal/bucket/lifecycle/rule.go); it removes stale uploads on its own schedule.
    lifecycle: { transitions: false, abortIncompleteUploads: false, expiredDeleteMarkers: true },
    bucketPolicy: false,
    publicAccessControls: false,
    iam: false, // users and policies through `mc admin`, not an IAM API
  },
};

export interface ProviderNoteContext {
  readonly buckets: readonly string[];
  /** Whether the sync encrypts names and contents with rclone crypt. */
  readonly rcloneEncryption: boolean;
}

/** Plain-language notes for what the provider cannot do and what the user must do by hand. */
export function providerNotes(kind: OffsiteProviderKind, ctx: ProviderNoteContext): string[] {
  const caps = CAPABILITIES[kind];
  const L = caps.label;
  const buckets = ctx.buckets.join(", ");
  const notes: string[] = [];
  if (kind === "aws") {
    notes.push(
      "AWS S3: Deep Archive objects need a restore before they can be read (up to 12 h Standard, 48 h Bulk); the off-site copy is for losing the site, and the short RTOs rest on the on-site copies",
      "AWS S3: MFA Delete is not enabled (AWS: it cannot be used with lifecycle configurations); Object Lock COMPLIANCE protects the versions instead, so suppress Checkov CKV_AWS_52 / tfsec aws-s3-require-mfa-delete with that reason",
    );
    return notes;
  }
  if (kind === "b2") notes.push(`${L}: no archive storage classes; objects stay in B2's single class`);
  if (kind === "wasabi") notes.push(`${L}: no archive storage classes; objects stay in the single class; 90-day minimum billed and a 1 TB monthly minimum charge`);
  if (kind === "minio") notes.push(`${L}: no archive storage classes; objects stay where the MinIO server keeps them`);
  notes.push(
    ctx.rcloneEncryption
      ? `${L}: no AWS KMS, so no SSE-KMS key is declared; data is encrypted by rclone crypt on the NAS before it leaves`
      : `${L}: no AWS KMS and rclone encryption is off: objects are protected only by the provider's own at-rest encryption; turn rcloneEncryption on`,
  );
  notes.push(`${L}: no bucket policy is declared (TLS-only and SSE-only uploads are not enforced by the bucket); the endpoint is https-only`);
  notes.push(`${L}: Block Public Access and Object Ownership do not exist; buckets are private unless made public by hand`);
  if (!caps.lifecycle.abortIncompleteUploads) {
    notes.push(
      kind === "minio"
        ? `${L}: no lifecycle rule aborts incomplete multipart uploads (MinIO does not support one); the server removes stale uploads itself`
        : `${L}: no lifecycle rule aborts incomplete multipart uploads (not documented for ${L}); failed uploads' parts are billed until removed by hand`,
    );
  }
  if (kind === "b2") {
    notes.push(
      `${L}: the sync identity is a B2 application key, which this library cannot declare: create one restricted to ${buckets} with listBuckets, listFiles and writeFiles only (no deleteFiles, no writeBucketRetentions)`,
      `${L}: B2 reads each expiration rule back as two rules, so pulumi refresh may show a lifecycle diff that is not a change`,
    );
  } else {
    const how = kind === "minio" ? "mc admin user add and mc admin policy create" : "Wasabi's IAM console";
    notes.push(`${L}: the sync identity is not declared here: create a user with ${how}, give it the syncPolicy output (list and put on ${buckets}, nothing else) and give its keys to the NAS`);
  }
  return notes;
}
