/**
 * The archive's IAM, bucket and KMS key policies as plain documents, built from plain strings so
 * tests parse exactly what AWS receives.
 */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | { readonly AWS: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/**
 * What the NAS's sync job may do in S3: list its buckets and upload into them. No GetObject (a
 * stolen NAS key cannot read the archive back out), no DeleteObject or DeleteObjectVersion, no
 * lifecycle, lock, retention, policy or versioning changes.
 */
export const SYNC_S3_ACTIONS = ["s3:ListBucket", "s3:PutObject"] as const;

/**
 * What the sync job may ask of the KMS key, and only through S3 on the archive's buckets:
 * GenerateDataKey for every SSE-KMS upload, and Decrypt because S3 decrypts the data key again for
 * each part of a multipart upload (rclone uploads large files in parts). kms:Encrypt is not
 * granted: S3 never calls it for SSE-KMS.
 */
export const SYNC_KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"] as const;

/**
 * What restore operators (`keyUsers`) may ask of the key, through S3 only: reading the archive
 * back. Actions without an encryption context (DescribeKey) would never match the S3-only
 * condition, so none are listed.
 */
export const KEY_USER_ACTIONS = ["kms:Decrypt"] as const;

export function bucketArn(partition: string, bucket: string): string {
  return `arn:${partition}:s3:::${bucket}`;
}

/** The S3 endpoint name KMS sees in `kms:ViaService` for requests S3 makes on a caller's behalf. */
export function s3ServiceName(region: string, dnsSuffix: string): string {
  return `s3.${region}.${dnsSuffix}`;
}

/**
 * With S3 Bucket Keys the encryption context is the bucket's ARN; without, the object's. Both are
 * allowed so uploads work either way, and nothing outside the archive's buckets matches.
 */
function encryptionContext(bucketArns: readonly string[]): Record<string, readonly string[]> {
  return { "kms:EncryptionContext:aws:s3:arn": bucketArns.flatMap((a) => [a, `${a}/*`]) };
}

export interface SyncPolicyInput {
  readonly bucketArns: readonly string[];
  /** The SSE-KMS key; absent where the provider has no KMS. */
  readonly kmsKeyArn?: string;
  /** `s3ServiceName(region, dnsSuffix)`; required with a KMS key. */
  readonly s3Service?: string;
}

/** The sync identity's own policy: exactly `SYNC_S3_ACTIONS` and, with a key, `SYNC_KMS_ACTIONS`. */
export function syncIdentityPolicy(input: SyncPolicyInput): PolicyDocument {
  const statements: PolicyStatement[] = [
    { Sid: "ListArchiveBuckets", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [...input.bucketArns] },
    { Sid: "UploadArchiveObjects", Effect: "Allow", Action: ["s3:PutObject"], Resource: input.bucketArns.map((a) => `${a}/*`) },
  ];
  if (input.kmsKeyArn !== undefined) {
    if (input.s3Service === undefined) throw new Error("syncIdentityPolicy: a KMS key needs s3Service for its kms:ViaService condition");
    statements.push({
      Sid: "EncryptUploadsThroughS3",
      Effect: "Allow",
      Action: [...SYNC_KMS_ACTIONS],
      Resource: [input.kmsKeyArn],
      Condition: { StringEquals: { "kms:ViaService": input.s3Service }, StringLike: encryptionContext(input.bucketArns) },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The bucket policy: no request without TLS, and no upload that asks for an encryption other than
 * SSE-KMS with the archive's key. An upload without an encryption header is allowed because the
 * bucket default (SSE-KMS with the archive's key) applies to it: TrueNAS Cloud Sync can only ask
 * for AES256 or nothing, so denying a missing header would refuse every sync.
 */
export function archiveBucketPolicy(input: { readonly bucketArn: string; readonly kmsKeyArn: string }): PolicyDocument {
  const objects = `${input.bucketArn}/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [input.bucketArn, objects],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyUploadsNotEncryptedWithKms",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: objects,
        Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
      },
      {
        Sid: "DenyUploadsWithAnotherKmsKey",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: objects,
        Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": input.kmsKeyArn } },
      },
    ],
  };
}

export interface KeyPolicyInput {
  readonly partition: string;
  readonly accountId: string;
  readonly syncPrincipalArn: string;
  readonly keyUsers: readonly string[];
  readonly s3Service: string;
  readonly bucketArns: readonly string[];
}

/**
 * The key policy: the account (root) administers the key, which also keeps it manageable through
 * IAM; the sync identity and any key users may use it only through S3 on the archive's buckets.
 */
export function kmsKeyPolicy(input: KeyPolicyInput): PolicyDocument {
  const viaS3 = { StringEquals: { "kms:ViaService": input.s3Service }, StringLike: encryptionContext(input.bucketArns) };
  const statements: PolicyStatement[] = [
    {
      Sid: "AccountAdministersKey",
      Effect: "Allow",
      Principal: { AWS: `arn:${input.partition}:iam::${input.accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    { Sid: "SyncIdentityEncryptsThroughS3", Effect: "Allow", Principal: { AWS: input.syncPrincipalArn }, Action: [...SYNC_KMS_ACTIONS], Resource: "*", Condition: viaS3 },
  ];
  if (input.keyUsers.length > 0) {
    statements.push({ Sid: "KeyUsersRestoreThroughS3", Effect: "Allow", Principal: { AWS: [...input.keyUsers] }, Action: [...KEY_USER_ACTIONS], Resource: "*", Condition: viaS3 });
  }
  return { Version: "2012-10-17", Statement: statements };
}
