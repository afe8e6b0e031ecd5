import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { archiveBucketPolicy, bucketArn, kmsKeyPolicy, s3ServiceName, syncIdentityPolicy, SYNC_KMS_ACTIONS, SYNC_S3_ACTIONS } from "../../components/offsite/policies";

const KEY = "arn:aws:kms:eu-central-1:123456789012:key/abcd";
const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : [...v]);

/** Actions S3 or KMS would let a holder destroy, read back, or weaken the archive with. */
const FORBIDDEN = [
  "s3:*",
  "s3:GetObject",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutObjectRetention",
  "s3:BypassGovernanceRetention",
  "s3:PutBucketPolicy",
  "s3:PutBucketVersioning",
  "kms:*",
  "kms:Encrypt",
  "kms:ScheduleKeyDeletion",
];

describe("sync identity policy", () => {
  test("allows exactly list and put in the archive's buckets, and GenerateDataKey and Decrypt on its key through S3", () => {
    const arns = ["homelab-offsite-monthly", "homelab-offsite-critical"].map((b) => bucketArn("aws", b));
    const doc = syncIdentityPolicy({ bucketArns: arns, kmsKeyArn: KEY, s3Service: s3ServiceName("eu-central-1", "amazonaws.com") });
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), {
      Version: "2012-10-17",
      Statement: [
        { Sid: "ListArchiveBuckets", Effect: "Allow", Action: ["s3:ListBucket"], Resource: arns },
        { Sid: "UploadArchiveObjects", Effect: "Allow", Action: ["s3:PutObject"], Resource: arns.map((a) => `${a}/*`) },
        {
          Sid: "EncryptUploadsThroughS3",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: [KEY],
          Condition: {
            StringEquals: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" },
            StringLike: { "kms:EncryptionContext:aws:s3:arn": arns.flatMap((a) => [a, `${a}/*`]) },
          },
        },
      ],
    });
  });

  test("property: for any buckets, the policy names only their ARNs and only the listed actions", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/), { minLength: 1, maxLength: 5 }), fc.boolean(), (buckets, withKey) => {
        const arns = buckets.map((b) => bucketArn("aws", b));
        const doc = syncIdentityPolicy({ bucketArns: arns, ...(withKey ? { kmsKeyArn: KEY, s3Service: "s3.us-east-1.amazonaws.com" } : {}) });
        const actions = new Set(doc.Statement.flatMap((s) => list(s.Action)));
        assert.deepEqual([...actions].sort(), [...SYNC_S3_ACTIONS, ...(withKey ? SYNC_KMS_ACTIONS : [])].sort());
        for (const f of FORBIDDEN) assert.ok(!actions.has(f), f);
        const allowed = new Set([...arns, ...arns.map((a) => `${a}/*`), KEY]);
        for (const s of doc.Statement) for (const r of list(s.Resource)) assert.ok(allowed.has(r), `resource ${r}`);
        assert.ok(doc.Statement.every((s) => s.Effect === "Allow" && s.Principal === undefined));
      }),
    );
  });

  test("a key without its S3 service name is refused: the Decrypt grant must stay S3-only", () => {
    assert.throws(() => syncIdentityPolicy({ bucketArns: ["arn:aws:s3:::b"], kmsKeyArn: KEY }), /kms:ViaService/);
  });
});

describe("bucket and key policies", () => {
  test("the bucket policy denies non-TLS requests, other encryptions and other keys, and allows nothing", () => {
    const arn = bucketArn("aws-cn", "archive");
    assert.equal(arn, "arn:aws-cn:s3:::archive");
    const doc = archiveBucketPolicy({ bucketArn: arn, kmsKeyArn: KEY });
    assert.deepEqual(
      doc.Statement.map((s) => [s.Sid, s.Effect, s.Principal, list(s.Action), list(s.Resource), s.Condition]),
      [
        ["DenyInsecureTransport", "Deny", "*", ["s3:*"], [arn, `${arn}/*`], { Bool: { "aws:SecureTransport": "false" } }],
        ["DenyUploadsNotEncryptedWithKms", "Deny", "*", ["s3:PutObject"], [`${arn}/*`], { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } }],
        ["DenyUploadsWithAnotherKmsKey", "Deny", "*", ["s3:PutObject"], [`${arn}/*`], { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY } }],
      ],
    );
  });

  test("the key policy: root administers, the sync identity and key users only through S3 on the archive's buckets", () => {
    const input = {
      partition: "aws",
      accountId: "123456789012",
      syncPrincipalArn: "arn:aws:iam::123456789012:user/sync",
      keyUsers: ["arn:aws:iam::123456789012:role/restore"],
      s3Service: "s3.eu-central-1.amazonaws.com",
      bucketArns: ["arn:aws:s3:::a"],
    };
    const doc = kmsKeyPolicy(input);
    assert.deepEqual(
      doc.Statement.map((s) => [s.Sid, s.Principal, list(s.Action)]),
      [
        ["AccountAdministersKey", { AWS: "arn:aws:iam::123456789012:root" }, ["kms:*"]],
        ["SyncIdentityEncryptsThroughS3", { AWS: "arn:aws:iam::123456789012:user/sync" }, ["kms:GenerateDataKey", "kms:Decrypt"]],
        ["KeyUsersRestoreThroughS3", { AWS: ["arn:aws:iam::123456789012:role/restore"] }, ["kms:Decrypt"]],
      ],
    );
    for (const s of doc.Statement.slice(1)) {
      assert.deepEqual(s.Condition, { StringEquals: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" }, StringLike: { "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::a", "arn:aws:s3:::a/*"] } });
    }
    assert.equal(kmsKeyPolicy({ ...input, keyUsers: [] }).Statement.length, 2);
  });
});
