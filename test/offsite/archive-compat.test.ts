import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inventory, invokes, named, registered, settle, setupMocks, valueOf } from "./harness";
import type { OffsiteArchive as OffsiteArchiveClass } from "../../components/offsite/archive";
import type { PolicyDocument } from "../../components/offsite/policies";

const BUCKET = "aws:s3/bucket:Bucket";
const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";
const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const PROVIDER = "pulumi:providers:aws";
/** Resources the S3-compatible providers cannot honour, so they must not be declared. */
const AWS_ONLY = [
  "aws:kms/key:Key",
  "aws:kms/alias:Alias",
  "aws:iam/user:User",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/accessKey:AccessKey",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
];
const CLASSES = [
  { name: "monthly" as const, years: 2, sizeGb: 250, objects: 2000 },
  { name: "critical" as const, years: 7, sizeGb: 150, objects: 50000 },
];

type Rule = { id: string; transitions?: unknown; expiration?: { days?: number; expiredObjectDeleteMarker?: boolean }; noncurrentVersionExpiration?: { noncurrentDays: number }; abortIncompleteMultipartUpload?: { daysAfterInitiation: number } };
const rulesOf = (name: string) => named(LIFECYCLE, name).inputs["rules"] as Rule[];

describe("OffsiteArchive on B2, Wasabi and MinIO under mocks", () => {
  const archives: Record<string, OffsiteArchiveClass> = {};

  before(async () => {
    await setupMocks();
    const { OffsiteArchive } = await import("../../components/offsite/archive");
    const credentials = { accessKeyId: "admin-key-id", secretAccessKey: "admin-secret" };
    archives["b2"] = new OffsiteArchive("b2", { provider: "b2", region: "us-west-004", bucketPrefix: "hl-b2", retentionClasses: CLASSES, credentials });
    archives["wasabi"] = new OffsiteArchive("wasabi", { provider: "wasabi", region: "eu-central-2", bucketPrefix: "hl-wasabi", retentionClasses: CLASSES, credentials, rcloneEncryption: false });
    archives["minio"] = new OffsiteArchive("minio", {
      provider: "minio",
      region: "us-east-1",
      endpoint: "https://minio.lab.home.arpa:9000",
      bucketPrefix: "lab-offsite",
      retentionClasses: [{ name: "critical", years: 3 }],
      credentials,
    });
    await Promise.all(Object.values(archives).map((a) => valueOf(a.syncPolicy)));
    await settle();
  });

  for (const kind of ["b2", "wasabi", "minio"]) {
    test(`${kind}: declares only its provider and, per class, the bucket, versioning, Object Lock and lifecycle`, () => {
      const classes = kind === "minio" ? ["critical"] : ["monthly", "critical"];
      const expected = [
        `homelab:offsite:Archive::${kind}`,
        `${PROVIDER}::${kind}-${kind}`,
        ...classes.flatMap((c) => [`${BUCKET}::${kind}-${c}`, `${VERSIONING}::${kind}-${c}-versioning`, `${LOCK}::${kind}-${c}-lock`, `${LIFECYCLE}::${kind}-${c}-lifecycle`]),
      ].sort();
      assert.deepEqual(inventory(kind), expected);
      for (const r of registered.filter((x) => x.name.startsWith(`${kind}-`))) assert.ok(!AWS_ONLY.includes(r.type), `${r.type} declared on ${kind}`);
    });

    test(`${kind}: every bucket resource goes through the endpoint provider, and buckets stay protected`, () => {
      const provider = named(PROVIDER, `${kind}-${kind}`);
      for (const r of registered.filter((x) => x.name.startsWith(`${kind}-`) && x.type.startsWith("aws:s3/"))) {
        assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.type}::${r.name} uses ${r.provider || "the default provider"}`);
        assert.equal(r.inputs["region"], undefined, "no per-resource AWS region behind an S3-compatible endpoint");
      }
      for (const b of registered.filter((x) => x.type === BUCKET && x.name.startsWith(`${kind}-`))) {
        assert.deepEqual([b.protect, b.retainOnDelete, b.inputs["objectLockEnabled"], b.inputs["forceDestroy"]], [true, true, true, false], b.name);
      }
    });

    test(`${kind}: Object Lock COMPLIANCE for the class's retention, and the expiration equals it`, () => {
      for (const c of kind === "minio" ? [{ name: "critical", days: 3 * 365 }] : [{ name: "monthly", days: 730 }, { name: "critical", days: 2555 }]) {
        assert.deepEqual(named(LOCK, `${kind}-${c.name}-lock`).inputs["rule"], { defaultRetention: { mode: "COMPLIANCE", days: c.days } });
        const [retention] = rulesOf(`${kind}-${c.name}-lifecycle`);
        assert.deepEqual(retention, { id: `${c.name}-retention`, status: "Enabled", filter: {}, expiration: { days: c.days }, noncurrentVersionExpiration: { noncurrentDays: c.days } });
      }
    });
  }

  test("the endpoint provider: default B2 and Wasabi endpoints, path-style, no AWS account checks, credentials as secrets", () => {
    const expected: Record<string, [string, string]> = {
      b2: ["https://s3.us-west-004.backblazeb2.com", "us-west-004"],
      wasabi: ["https://s3.eu-central-2.wasabisys.com", "eu-central-2"],
      minio: ["https://minio.lab.home.arpa:9000", "us-east-1"],
    };
    for (const [kind, [endpoint, region]] of Object.entries(expected)) {
      const p = named(PROVIDER, `${kind}-${kind}`);
      assert.deepEqual(JSON.parse(String(p.inputs["endpoints"])), [{ s3: endpoint }], kind);
      assert.equal(p.inputs["region"], region);
      for (const flag of ["s3UsePathStyle", "skipCredentialsValidation", "skipRequestingAccountId", "skipMetadataApiCheck", "skipRegionValidation"]) {
        assert.equal(String(p.inputs[flag]), "true", `${kind} ${flag}`);
      }
      assert.deepEqual([...p.secretInputs].sort(), ["accessKey", "secretKey"], kind);
      assert.equal(archives[kind]?.plan.endpoint, endpoint);
    }
  });

  test("lifecycle rules only where the provider has them: B2 aborts failed uploads, MinIO clears delete markers, Wasabi neither, none tiers", () => {
    assert.deepEqual(rulesOf("b2-monthly-lifecycle").map((r) => r.id), ["monthly-retention", "monthly-incomplete-uploads"]);
    assert.deepEqual(rulesOf("b2-monthly-lifecycle")[1]?.abortIncompleteMultipartUpload, { daysAfterInitiation: 7 });
    assert.deepEqual(rulesOf("wasabi-monthly-lifecycle").map((r) => r.id), ["monthly-retention"]);
    assert.deepEqual(rulesOf("minio-critical-lifecycle").map((r) => r.id), ["critical-retention", "critical-delete-markers"]);
    for (const r of registered.filter((x) => x.type === LIFECYCLE)) {
      for (const rule of r.inputs["rules"] as Rule[]) assert.equal(rule.transitions, undefined, `${r.name} ${rule.id}`);
    }
  });

  test("no invoke is made: nothing asks AWS STS or the partition behind an S3-compatible endpoint", () => {
    assert.deepEqual(invokes, []);
  });

  test("there is no sync identity resource, and the syncPolicy output to apply by hand allows list and put only", async () => {
    for (const [kind, a] of Object.entries(archives)) {
      assert.equal(a.syncAccessKeyId, undefined, kind);
      assert.equal(a.syncSecretAccessKey, undefined, kind);
      assert.equal(a.kmsKey, undefined, kind);
      const doc = JSON.parse(await valueOf(a.syncPolicy)) as PolicyDocument;
      assert.deepEqual(doc.Statement.flatMap((s) => [s.Action].flat()).sort(), ["s3:ListBucket", "s3:PutObject"], kind);
    }
    const minio = JSON.parse(await valueOf(archives["minio"]!.syncPolicy)) as PolicyDocument;
    assert.deepEqual(minio.Statement.map((s) => s.Resource), [["arn:aws:s3:::lab-offsite-critical"], ["arn:aws:s3:::lab-offsite-critical/*"]]);
  });

  test("notes say in plain words what each provider cannot do", () => {
    const notes = (k: string) => archives[k]!.notes;
    assert.ok(notes("wasabi").includes("Wasabi: no archive storage classes; objects stay in the single class; 90-day minimum billed and a 1 TB monthly minimum charge"));
    assert.ok(notes("wasabi").some((n) => n.startsWith("Wasabi: no AWS KMS and rclone encryption is off")), "unencrypted warning");
    assert.ok(notes("b2").includes("Backblaze B2: no archive storage classes; objects stay in B2's single class"));
    assert.ok(notes("b2").some((n) => n.startsWith("Backblaze B2: no AWS KMS, so no SSE-KMS key is declared; data is encrypted by rclone crypt")));
    assert.ok(notes("b2").some((n) => n.includes("application key") && n.includes("hl-b2-monthly, hl-b2-critical") && n.includes("no deleteFiles")));
    assert.ok(notes("minio").some((n) => n.startsWith("MinIO: no lifecycle rule aborts incomplete multipart uploads")));
    assert.ok(notes("minio").some((n) => n.startsWith("cost: MinIO is self-hosted and priced at $0")));
    for (const k of ["b2", "wasabi", "minio"]) {
      assert.ok(notes(k).some((n) => n.includes("no bucket policy is declared")), k);
      assert.ok(!notes(k).some((n) => n.startsWith("AWS S3:")), k);
    }
  });

  test("the cost of each provider's layout comes from its own price (B2 $0.006, Wasabi $0.00799 per GB-month)", () => {
    // 250 + 150 GB live, each kept another lock period as noncurrent: 800 GB billed.
    assert.ok(Math.abs(archives["b2"]!.cost.declared.monthly - 800 * 0.006) < 1e-9);
    // 800 GB is under Wasabi's 1 TB minimum: the bill is the minimum.
    assert.ok(Math.abs(archives["wasabi"]!.cost.declared.monthly - 1000 * 0.00799) < 1e-9);
  });
});
