import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, inventory, invokes, named, registered, settle, setupMocks, valueOf, type Registered } from "./harness";
import type { OffsiteArchive as OffsiteArchiveClass } from "../../components/offsite/archive";
import type { PolicyDocument } from "../../components/offsite/policies";

const T = {
  component: "homelab:offsite:Archive",
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  user: "aws:iam/user:User",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  accessKey: "aws:iam/accessKey:AccessKey",
};
const CLASSES = ["monthly", "yearly", "critical"] as const;
const RETENTION = { monthly: 2 * 365, yearly: 5 * 365, critical: 7 * 365 };

const policyOf = (r: Registered): PolicyDocument => JSON.parse(String(r.inputs["policy"])) as PolicyDocument;
const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : [...v]);

describe("OffsiteArchive on AWS under mocks", () => {
  let seed: OffsiteArchiveClass;
  let lab: OffsiteArchiveClass;

  before(async () => {
    await setupMocks();
    const { OffsiteArchive } = await import("../../components/offsite/archive");
    seed = new OffsiteArchive("offsite", {
      region: "eu-central-1",
      bucketPrefix: "homelab-offsite",
      kmsRotationDays: 180,
      keyUsers: [`arn:aws:iam::${ACCOUNT}:role/restore-operator`],
      rotationEpoch: "2026-q4",
      retentionClasses: [
        { name: "monthly", years: 2, sizeGb: 250, objects: 2000 },
        { name: "yearly", years: 5, sizeGb: 250, objects: 2000 },
        { name: "critical", years: 7, sizeGb: 150, objects: 50000 },
      ],
    });
    lab = new OffsiteArchive("lab", {
      region: "us-east-1",
      bucketPrefix: "lab-offsite",
      retentionClasses: [
        { name: "monthly", days: 400, lockDays: 90 },
        { name: "critical", years: 3 },
      ],
      allowDestroy: ["lab-offsite-monthly"],
    });
    await Promise.all([valueOf(seed.syncPolicy), valueOf(lab.syncPolicy), valueOf(seed.syncSecretAccessKey!), valueOf(lab.syncSecretAccessKey!)]);
    await settle();
  });

  test("declares exactly the key, the sync identity and per class a bucket with its seven configurations", () => {
    const expected = [
      `${T.key}::offsite-key`,
      `${T.alias}::offsite-key-alias`,
      `${T.user}::offsite-sync`,
      `${T.userPolicy}::offsite-sync-policy`,
      `${T.accessKey}::offsite-sync-key`,
      ...CLASSES.flatMap((c) => [
        `${T.bucket}::offsite-${c}`,
        `${T.versioning}::offsite-${c}-versioning`,
        `${T.lock}::offsite-${c}-lock`,
        `${T.sse}::offsite-${c}-encryption`,
        `${T.pab}::offsite-${c}-public-access`,
        `${T.ownership}::offsite-${c}-ownership`,
        `${T.policy}::offsite-${c}-policy`,
        `${T.lifecycle}::offsite-${c}-lifecycle`,
      ]),
    ].sort();
    assert.deepEqual(inventory("offsite"), [`${T.component}::offsite`, ...expected].sort());
    // No provider of its own on AWS: the stack's default provider (and its credentials) is used.
    assert.equal(registered.filter((r) => r.type.startsWith("pulumi:providers:")).length, 0);
  });

  test("every child hangs directly under the component", () => {
    const component = named(T.component, "offsite");
    for (const r of registered.filter((x) => x.name.startsWith("offsite-"))) {
      assert.equal(r.parent, component.urn, `${r.type}::${r.name} parent`);
      assert.match(r.urn, /::homelab:offsite:Archive\$aws:/);
    }
  });

  test("buckets are named <prefix>-<class>, created with Object Lock, never force-destroyed, in the region", () => {
    for (const c of CLASSES) {
      const b = named(T.bucket, `offsite-${c}`);
      assert.equal(b.inputs["bucket"], `homelab-offsite-${c}`);
      assert.equal(b.inputs["objectLockEnabled"], true);
      assert.equal(b.inputs["forceDestroy"], false);
      assert.equal(b.inputs["region"], "eu-central-1");
      assert.equal(seed.bucketNames[c], `homelab-offsite-${c}`);
    }
  });

  test("versioning is enabled and every bucket locks new versions in COMPLIANCE mode for its class's retention", () => {
    for (const c of CLASSES) {
      assert.deepEqual(named(T.versioning, `offsite-${c}-versioning`).inputs["versioningConfiguration"], { status: "Enabled" });
      const lock = named(T.lock, `offsite-${c}-lock`);
      assert.equal(lock.inputs["bucket"], `homelab-offsite-${c}`);
      assert.equal(lock.inputs["objectLockEnabled"], "Enabled");
      assert.deepEqual(lock.inputs["rule"], { defaultRetention: { mode: "COMPLIANCE", days: RETENTION[c] } });
    }
  });

  test("lifecycle: straight to Deep Archive, expiration = retention (730/1825/2555), noncurrent versions kept a full lock, markers and failed uploads cleaned", () => {
    for (const c of CLASSES) {
      const lc = named(T.lifecycle, `offsite-${c}-lifecycle`);
      assert.equal(lc.inputs["bucket"], `homelab-offsite-${c}`);
      assert.deepEqual(lc.inputs["rules"], [
        {
          id: `${c}-retention`,
          status: "Enabled",
          filter: {},
          transitions: [{ days: 0, storageClass: "DEEP_ARCHIVE" }],
          expiration: { days: RETENTION[c] },
          noncurrentVersionExpiration: { noncurrentDays: RETENTION[c] },
        },
        { id: `${c}-delete-markers`, status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } },
        { id: `${c}-incomplete-uploads`, status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
      ]);
    }
  });

  test("lock never outlasts expiration and old versions are never expired before their lock ends, with a shorter lock too", () => {
    for (const r of registered.filter((x) => x.type === T.lifecycle)) {
      const lock = named(T.lock, r.name.replace(/-lifecycle$/, "-lock"));
      const lockDays = (lock.inputs["rule"] as { defaultRetention: { days: number } }).defaultRetention.days;
      const rules = r.inputs["rules"] as { expiration?: { days?: number }; noncurrentVersionExpiration?: { noncurrentDays: number } }[];
      const expiration = rules.map((x) => x.expiration?.days).filter((d): d is number => d !== undefined);
      assert.equal(expiration.length, 1, r.name);
      assert.ok(lockDays <= (expiration[0] as number), `${r.name}: lock ${lockDays} > expiration ${expiration[0]}`);
      for (const x of rules) if (x.noncurrentVersionExpiration) assert.ok(x.noncurrentVersionExpiration.noncurrentDays >= lockDays, r.name);
    }
    const lab400 = named(T.lifecycle, "lab-monthly-lifecycle").inputs["rules"] as { expiration?: { days?: number }; noncurrentVersionExpiration?: { noncurrentDays: number } }[];
    assert.equal(lab400[0]?.expiration?.days, 400);
    assert.equal(lab400[0]?.noncurrentVersionExpiration?.noncurrentDays, 90);
    assert.deepEqual(named(T.lock, "lab-monthly-lock").inputs["rule"], { defaultRetention: { mode: "COMPLIANCE", days: 90 } });
  });

  test("SSE-KMS with the archive's key and S3 Bucket Keys is every bucket's default", async () => {
    const keyArn = await valueOf(seed.kmsKeyArn!);
    assert.equal(keyArn, `arn:aws:kms:eu-central-1:${ACCOUNT}:key/offsite-key-0000`);
    for (const c of CLASSES) {
      assert.deepEqual(named(T.sse, `offsite-${c}-encryption`).inputs["rules"], [
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true },
      ]);
    }
  });

  test("Block Public Access has all four flags on and ACLs are disabled (BucketOwnerEnforced)", () => {
    for (const c of CLASSES) {
      const pab = named(T.pab, `offsite-${c}-public-access`).inputs;
      for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(pab[flag], true, flag);
      assert.deepEqual(named(T.ownership, `offsite-${c}-ownership`).inputs["rule"], { objectOwnership: "BucketOwnerEnforced" });
    }
  });

  test("the bucket policy denies requests without TLS and uploads asking for another encryption or key", async () => {
    const keyArn = await valueOf(seed.kmsKeyArn!);
    for (const c of CLASSES) {
      const arn = `arn:aws:s3:::homelab-offsite-${c}`;
      const doc = policyOf(named(T.policy, `offsite-${c}-policy`));
      assert.ok(doc.Statement.every((s) => s.Effect === "Deny" && s.Principal === "*"), "only Deny statements for everyone");
      const tls = doc.Statement.find((s) => s.Condition?.["Bool"]?.["aws:SecureTransport"] === "false");
      assert.ok(tls, "a TLS statement");
      assert.deepEqual(list(tls.Action), ["s3:*"]);
      assert.deepEqual(list(tls.Resource).sort(), [arn, `${arn}/*`]);
      const sse = doc.Statement.find((s) => s.Condition?.["StringNotEqualsIfExists"]?.["s3:x-amz-server-side-encryption"] === "aws:kms");
      assert.ok(sse, "an SSE statement");
      assert.deepEqual([list(sse.Action), list(sse.Resource)], [["s3:PutObject"], [`${arn}/*`]]);
      const key = doc.Statement.find((s) => s.Condition?.["StringNotEqualsIfExists"]?.["s3:x-amz-server-side-encryption-aws-kms-key-id"] === keyArn);
      assert.ok(key, "a key statement");
      assert.equal(doc.Statement.length, 3);
    }
  });

  test("the KMS key is symmetric, rotates on the given period, has a 30-day deletion window and is protected", () => {
    const key = named(T.key, "offsite-key");
    assert.equal(key.inputs["keyUsage"], "ENCRYPT_DECRYPT");
    assert.equal(key.inputs["customerMasterKeySpec"], "SYMMETRIC_DEFAULT");
    assert.equal(key.inputs["enableKeyRotation"], true);
    assert.equal(key.inputs["rotationPeriodInDays"], 180);
    assert.equal(key.inputs["deletionWindowInDays"], 30);
    assert.equal(key.inputs["multiRegion"], false);
    assert.equal(key.inputs["region"], "eu-central-1");
    assert.equal(key.protect, true);
    assert.equal(key.retainOnDelete, true);
    assert.equal(named(T.key, "lab-key").inputs["rotationPeriodInDays"], 365, "default rotation");
    assert.equal(named(T.alias, "offsite-key-alias").inputs["name"], "alias/homelab-offsite");
  });

  test("the key policy names the account root as administrator and lets the sync user and key users use it only through S3", () => {
    const doc = policyOf(named(T.key, "offsite-key"));
    const [admin, sync, users] = doc.Statement;
    assert.deepEqual(admin?.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
    assert.deepEqual([admin?.Effect, admin?.Action], ["Allow", "kms:*"]);
    assert.deepEqual(sync?.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:user/homelab-backup/homelab-offsite-sync` });
    assert.deepEqual(list(sync?.Action).sort(), ["kms:Decrypt", "kms:GenerateDataKey"]);
    assert.equal(sync?.Condition?.["StringEquals"]?.["kms:ViaService"], "s3.eu-central-1.amazonaws.com");
    assert.deepEqual(users?.Principal, { AWS: [`arn:aws:iam::${ACCOUNT}:role/restore-operator`] });
    assert.deepEqual(list(users?.Action), ["kms:Decrypt"]);
    assert.equal(users?.Condition?.["StringEquals"]?.["kms:ViaService"], "s3.eu-central-1.amazonaws.com");
    assert.equal(doc.Statement.length, 3);
    assert.equal(policyOf(named(T.key, "lab-key")).Statement.length, 2, "no key-user statement without key users");
  });

  test("the sync identity may list and upload in its buckets and use the key through S3, and nothing else", () => {
    const doc = policyOf(named(T.userPolicy, "offsite-sync-policy"));
    const actions = doc.Statement.flatMap((s) => list(s.Action)).sort();
    assert.deepEqual(actions, ["kms:Decrypt", "kms:GenerateDataKey", "s3:ListBucket", "s3:PutObject"]);
    assert.ok(doc.Statement.every((s) => s.Effect === "Allow"));
    const arns = CLASSES.map((c) => `arn:aws:s3:::homelab-offsite-${c}`);
    const list_ = doc.Statement.find((s) => list(s.Action).includes("s3:ListBucket"));
    assert.deepEqual(list(list_?.Resource).sort(), [...arns].sort());
    const put = doc.Statement.find((s) => list(s.Action).includes("s3:PutObject"));
    assert.deepEqual(list(put?.Resource).sort(), arns.map((a) => `${a}/*`).sort());
    const kms = doc.Statement.find((s) => list(s.Action).includes("kms:GenerateDataKey"));
    assert.deepEqual(list(kms?.Resource), [`arn:aws:kms:eu-central-1:${ACCOUNT}:key/offsite-key-0000`]);
    assert.equal(kms?.Condition?.["StringEquals"]?.["kms:ViaService"], "s3.eu-central-1.amazonaws.com");
    assert.equal(named(T.userPolicy, "offsite-sync-policy").inputs["user"], "homelab-offsite-sync");
    assert.equal(named(T.user, "offsite-sync").inputs["forceDestroy"], false);
  });

  test("a changed rotation epoch replaces the access key, creating the new one first; the secret is a secret output", async () => {
    const key = named(T.accessKey, "offsite-sync-key");
    assert.equal(key.replacementTrigger, "2026-q4");
    assert.equal(named(T.accessKey, "lab-sync-key").replacementTrigger, "initial");
    assert.equal(key.deleteBeforeReplace, false);
    assert.ok(key.additionalSecretOutputs.includes("secret"));
    assert.equal(key.inputs["user"], "homelab-offsite-sync");
    assert.equal(await pulumi.isSecret(seed.syncSecretAccessKey!), true);
    assert.equal(await valueOf(seed.syncSecretAccessKey!), "secret-of-offsite-sync-key");
    assert.equal(await pulumi.isSecret(seed.syncAccessKeyId!), false);
  });

  test("buckets and the key are protected and retained by default; allowDestroy opts one bucket out, the key stays", () => {
    for (const r of registered.filter((x) => x.type === T.bucket && x.name !== "lab-monthly")) {
      assert.deepEqual([r.protect, r.retainOnDelete], [true, true], r.name);
    }
    const optedOut = named(T.bucket, "lab-monthly");
    assert.deepEqual([optedOut.protect, optedOut.retainOnDelete], [false, false]);
    assert.deepEqual([named(T.versioning, "lab-monthly-versioning").retainOnDelete, named(T.lock, "lab-monthly-lock").retainOnDelete], [false, false]);
    assert.deepEqual([named(T.key, "lab-key").protect, named(T.key, "lab-key").retainOnDelete], [true, true], "one bucket still needs the key");
    for (const c of CLASSES) {
      assert.equal(named(T.versioning, `offsite-${c}-versioning`).retainOnDelete, true);
      assert.equal(named(T.lock, `offsite-${c}-lock`).retainOnDelete, true);
    }
    assert.ok(lab.notes.some((n) => n.startsWith("lab-offsite-monthly: protect and retainOnDelete are off")));
  });

  test("no resource anywhere sets forceDestroy true", () => {
    for (const r of registered) assert.notEqual(r.inputs["forceDestroy"], true, `${r.type}::${r.name}`);
  });

  test("only the partition and caller-identity invokes are made", () => {
    assert.deepEqual([...new Set(invokes)].sort(), ["aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition"]);
  });

  test("notes carry the AWS limits and the cost line; the plan exposes the cost", () => {
    assert.ok(seed.notes.some((n) => n.startsWith("AWS S3: Deep Archive objects need a restore")));
    assert.ok(seed.notes.some((n) => n.startsWith("cost: prices are us-east-1 list prices")), "eu-central-1 is priced from us-east-1 list prices");
    assert.ok(!lab.notes.some((n) => n.startsWith("cost: prices are")), "us-east-1 needs no price warning");
    assert.ok(seed.notes.some((n) => /^cost: \$\d+\.\d\d\/month for 650 GB live/.test(n)));
    assert.equal(seed.cost.declared.classes.map((c) => c.where).join(), "aws DEEP_ARCHIVE,aws DEEP_ARCHIVE,aws DEEP_ARCHIVE");
  });
});
