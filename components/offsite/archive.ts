/**
 * The third copy, off-site: one immutable, encrypted bucket per retention class, and an identity
 * the NAS's monthly sync can upload with and nothing else.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { OffsiteProviderKind, CostEstimate } from "./cost";
import { KMS_DELETION_WINDOW_DAYS, planOffsiteArchive, type OffsiteArchivePlan } from "./plan";
import { archiveBucketPolicy, bucketArn, kmsKeyPolicy, s3ServiceName, syncIdentityPolicy } from "./policies";
import type { PriceOverrides, RestoreTier } from "./prices";
import { lifecycleRules, objectLockRule, type ClassPlan, type LifecycleRule, type RetentionClassArgs, type RetentionClassName } from "./retention";

export interface OffsiteArchiveArgs {
  /**
   * Where the archive lives: AWS S3, or an S3-compatible service reached through its endpoint.
   * Decides which resources exist, so it is a plain value.
   * @default "aws"
   */
  readonly provider?: OffsiteProviderKind;
  /** Region of the buckets: an AWS region, a B2 region (`us-west-004`), a Wasabi region (`eu-central-2`) or MinIO's configured region. */
  readonly region: string;
  /**
   * S3 endpoint (https) of a non-AWS provider.
   * @default B2 `https://s3.<region>.backblazeb2.com`, Wasabi `https://s3.<region>.wasabisys.com`; required for MinIO; must be absent for AWS
   */
  readonly endpoint?: string;
  /** Bucket names are `<bucketPrefix>-<class>`; S3 bucket names are global, so pick a prefix of your own. */
  readonly bucketPrefix: string;
  /**
   * One bucket per class, each with its retention, Object Lock period and declared data.
   * @default the strategy's: monthly 2 years, yearly 5 years, critical 7 years (lock = retention)
   */
  readonly retentionClasses?: readonly RetentionClassArgs[];
  /** AWS: automatic rotation period of the KMS key, 90 to 2560 days. @default 365 */
  readonly kmsRotationDays?: number;
  /** AWS: principals (ARNs) who may decrypt the archive through S3 to restore it. @default [] (the account's administrators still can, through IAM) */
  readonly keyUsers?: readonly pulumi.Input<string>[];
  /** AWS: IAM user name of the NAS's sync job. @default `<bucketPrefix>-sync` */
  readonly syncIdentityName?: string;
  /**
   * AWS: a keeper for the sync identity's access key. Changing it replaces the key, creating the
   * new one before deleting the old (the NAS switches between the two).
   * @default "initial"
   */
  readonly rotationEpoch?: pulumi.Input<string>;
  /** Bucket names `pulumi destroy` may delete (protect and retainOnDelete off for them). @default [] */
  readonly allowDestroy?: readonly string[];
  /**
   * Non-AWS: the keys Pulumi manages the buckets with (give Pulumi secrets). AWS uses its usual
   * credential chain.
   * @default the provider's environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
   */
  readonly credentials?: { readonly accessKeyId: pulumi.Input<string>; readonly secretAccessKey: pulumi.Input<string> };
  /** Whether the NAS encrypts with rclone crypt (only changes the notes: where there is no KMS, it is the encryption). @default true */
  readonly rcloneEncryption?: boolean;
  /** Prices for the cost model, merged over the reference's (prices.ts). @default none */
  readonly prices?: PriceOverrides;
  /** Restore speed the cost model prices for archive classes. @default "standard" */
  readonly restoreTier?: RestoreTier;
}

/** One retention class's bucket and the resources configuring it. */
export interface ArchiveBucket {
  readonly plan: ClassPlan;
  readonly bucket: aws.s3.Bucket;
  readonly versioning: aws.s3.BucketVersioning;
  readonly objectLock: aws.s3.BucketObjectLockConfiguration;
  readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
  readonly encryption?: aws.s3.BucketServerSideEncryptionConfiguration;
  readonly publicAccessBlock?: aws.s3.BucketPublicAccessBlock;
  readonly ownership?: aws.s3.BucketOwnershipControls;
  readonly policy?: aws.s3.BucketPolicy;
}

/** The pure rule in @pulumi/aws's (mutable) input type. */
function toAwsRule(r: LifecycleRule): aws.types.input.s3.BucketLifecycleConfigurationRule {
  return {
    id: r.id,
    status: r.status,
    filter: {},
    ...(r.transitions ? { transitions: r.transitions.map((t) => ({ days: t.days, storageClass: t.storageClass })) } : {}),
    ...(r.expiration ? { expiration: { ...r.expiration } } : {}),
    ...(r.noncurrentVersionExpiration ? { noncurrentVersionExpiration: { ...r.noncurrentVersionExpiration } } : {}),
    ...(r.abortIncompleteMultipartUpload ? { abortIncompleteMultipartUpload: { ...r.abortIncompleteMultipartUpload } } : {}),
  };
}

export class OffsiteArchive extends pulumi.ComponentResource {
  /** Everything decided from the arguments: days, classes, cost, notes. */
  public readonly plan: OffsiteArchivePlan;
  /** Plain-language notes for the plan: what the provider cannot do, the cost, manual steps. */
  public readonly notes: readonly string[];
  /** Monthly cost, one restore, and the comparison with S3 Standard and the cheapest layout. */
  public readonly cost: CostEstimate;
  public readonly buckets: Readonly<Partial<Record<RetentionClassName, ArchiveBucket>>>;
  /** Bucket names by class. */
  public readonly bucketNames: Readonly<Partial<Record<RetentionClassName, string>>>;
  /** The provider pointed at a non-AWS endpoint. */
  public readonly s3Provider?: aws.Provider;
  public readonly kmsKey?: aws.kms.Key;
  public readonly kmsKeyArn?: pulumi.Output<string>;
  public readonly syncUser?: aws.iam.User;
  public readonly syncAccessKeyId?: pulumi.Output<string>;
  /** Secret. */
  public readonly syncSecretAccessKey?: pulumi.Output<string>;
  /** The sync identity's policy (JSON): attached on AWS, to apply by hand elsewhere. */
  public readonly syncPolicy: pulumi.Output<string>;

  constructor(name: string, args: OffsiteArchiveArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:offsite:Archive", name, {}, opts);
    const plan = planOffsiteArchive(args);
    this.plan = plan;
    this.notes = plan.notes;
    this.cost = plan.cost;
    const caps = plan.capabilities;
    const isAws = plan.provider === "aws";

    if (!isAws) {
      this.s3Provider = new aws.Provider(
        `${name}-${plan.provider}`,
        {
          region: plan.region,
          endpoints: [{ s3: plan.endpoint as string }],
          // MinIO needs path-style requests; B2 and Wasabi accept them too.
          s3UsePathStyle: true,
          // STS, IAM and EC2 metadata do not exist behind an S3-compatible endpoint.
          skipCredentialsValidation: true,
          skipRequestingAccountId: true,
          skipMetadataApiCheck: true,
          skipRegionValidation: true,
          ...(args.credentials ? { accessKey: pulumi.secret(args.credentials.accessKeyId), secretKey: pulumi.secret(args.credentials.secretAccessKey) } : {}),
        },
        { parent: this },
      );
    }
    const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
      parent: this,
      ...(this.s3Provider ? { provider: this.s3Provider } : {}),
      ...extra,
    });
    // AWS v7 places each regional resource in its own region, whatever the default provider's is.
    const regional = isAws ? { region: plan.region } : {};
    const keep = (allowed: boolean): pulumi.CustomResourceOptions => (allowed ? {} : { protect: true, retainOnDelete: true });
    const tags = (cls?: string) => (isAws ? { tags: { "homelab-backup:tier": "offsite", ...(cls ? { "homelab-backup:retention-class": cls } : {}) } } : {});
    // What the class is expected to hold, for cost allocation and the HB-COST policy's
    // small-object check: the per-object overhead of the archive classes depends on it.
    const sizing = (c: ClassPlan): Record<string, string> => ({ "homelab-backup:expected-gb": String(c.sizeGb), "homelab-backup:expected-objects": String(c.objects) });

    const partition = isAws ? aws.getPartitionOutput({}, { parent: this }) : undefined;
    const arnOf = (bucket: string): pulumi.Output<string> => (partition ? partition.partition.apply((p) => bucketArn(p, bucket)) : pulumi.output(bucketArn("aws", bucket)));
    const allBucketArns = pulumi.all(plan.classes.map((c) => arnOf(c.bucket)));
    const s3Service = partition ? partition.dnsSuffix.apply((suffix) => s3ServiceName(plan.region, suffix)) : undefined;

    let user: aws.iam.User | undefined;
    let key: aws.kms.Key | undefined;
    if (isAws && partition && s3Service) {
      user = new aws.iam.User(`${name}-sync`, { name: plan.syncIdentityName, path: "/homelab-backup/", forceDestroy: false, ...tags() }, { parent: this });
      const identity = aws.getCallerIdentityOutput({}, { parent: this });
      key = new aws.kms.Key(
        `${name}-key`,
        {
          description: `homelab-backup off-site archive (${plan.classes.map((c) => c.bucket).join(", ")})`,
          keyUsage: "ENCRYPT_DECRYPT",
          customerMasterKeySpec: "SYMMETRIC_DEFAULT",
          enableKeyRotation: true,
          rotationPeriodInDays: plan.kmsRotationDays,
          deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
          multiRegion: false,
          isEnabled: true,
          bypassPolicyLockoutSafetyCheck: false,
          policy: pulumi
            .all([partition.partition, identity.accountId, user.arn, pulumi.all([...(args.keyUsers ?? [])]), s3Service, allBucketArns])
            .apply(([p, accountId, syncPrincipalArn, keyUsers, service, bucketArns]) =>
              JSON.stringify(kmsKeyPolicy({ partition: p, accountId, syncPrincipalArn, keyUsers, s3Service: service, bucketArns })),
            ),
          ...regional,
          ...tags(),
        },
        { parent: this, ...keep(plan.keyAllowDestroy) },
      );
      new aws.kms.Alias(`${name}-key-alias`, { name: `alias/${plan.bucketPrefix}`, targetKeyId: key.keyId, ...regional }, { parent: this });
      this.kmsKey = key;
      this.kmsKeyArn = key.arn;
      this.syncUser = user;
    }

    const buckets: Partial<Record<RetentionClassName, ArchiveBucket>> = {};
    for (const c of plan.classes) {
      const base = `${name}-${c.name}`;
      const allowed = plan.allowDestroy.includes(c.bucket);
      // Never forceDestroy: deleting a bucket must fail while it holds objects.
      const classTags = tags(c.name);
      const bucket = new aws.s3.Bucket(
        base,
        { bucket: c.bucket, objectLockEnabled: true, forceDestroy: false, ...regional, ...("tags" in classTags ? { tags: { ...classTags.tags, ...sizing(c) } } : {}) },
        child(keep(allowed)),
      );
      const bucketName = bucket.bucket;
      // Kept when dropped from the program: deleting them would try to suspend versioning or clear
      // the default retention of a bucket whose data stays.
      const retain = allowed ? {} : { retainOnDelete: true };
      const versioning = new aws.s3.BucketVersioning(`${base}-versioning`, { bucket: bucketName, versioningConfiguration: { status: "Enabled" }, ...regional }, child(retain));
      const objectLock = new aws.s3.BucketObjectLockConfiguration(
        `${base}-lock`,
        { bucket: bucketName, objectLockEnabled: "Enabled", rule: objectLockRule(c), ...regional },
        child({ ...retain, dependsOn: [versioning] }),
      );
      let encryption: aws.s3.BucketServerSideEncryptionConfiguration | undefined;
      let publicAccessBlock: aws.s3.BucketPublicAccessBlock | undefined;
      let ownership: aws.s3.BucketOwnershipControls | undefined;
      let policy: aws.s3.BucketPolicy | undefined;
      if (caps.kms && key) {
        const kmsKeyArn = key.arn;
        encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
          `${base}-encryption`,
          // Bucket Keys cut the KMS requests of every upload by deriving a bucket-level key.
          { bucket: bucketName, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn }, bucketKeyEnabled: true }], ...regional },
          child(),
        );
        if (caps.bucketPolicy) {
          policy = new aws.s3.BucketPolicy(
            `${base}-policy`,
            { bucket: bucketName, policy: pulumi.all([arnOf(c.bucket), kmsKeyArn]).apply(([arn, keyArn]) => JSON.stringify(archiveBucketPolicy({ bucketArn: arn, kmsKeyArn: keyArn }))), ...regional },
            child({ dependsOn: [encryption] }),
          );
        }
      }
      if (caps.publicAccessControls) {
        publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
          `${base}-public-access`,
          { bucket: bucketName, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...regional },
          child(),
        );
        ownership = new aws.s3.BucketOwnershipControls(`${base}-ownership`, { bucket: bucketName, rule: { objectOwnership: "BucketOwnerEnforced" }, ...regional }, child());
      }
      // B2 refuses lifecycle rules on unversioned buckets; the lock must exist before anything can expire.
      const lifecycle = new aws.s3.BucketLifecycleConfiguration(
        `${base}-lifecycle`,
        { bucket: bucketName, rules: lifecycleRules(c, caps).map(toAwsRule), ...regional },
        child({ dependsOn: [versioning, objectLock] }),
      );
      buckets[c.name] = {
        plan: c,
        bucket,
        versioning,
        objectLock,
        lifecycle,
        ...(encryption ? { encryption } : {}),
        ...(publicAccessBlock ? { publicAccessBlock } : {}),
        ...(ownership ? { ownership } : {}),
        ...(policy ? { policy } : {}),
      };
    }
    this.buckets = buckets;
    this.bucketNames = Object.fromEntries(plan.classes.map((c) => [c.name, c.bucket]));

    if (user && key && s3Service) {
      const document = pulumi
        .all([allBucketArns, key.arn, s3Service])
        .apply(([bucketArns, kmsKeyArn, service]) => JSON.stringify(syncIdentityPolicy({ bucketArns, kmsKeyArn, s3Service: service })));
      const userPolicy = new aws.iam.UserPolicy(`${name}-sync-policy`, { user: user.name, name: "offsite-archive-sync", policy: document }, { parent: this });
      const accessKey = new aws.iam.AccessKey(
        `${name}-sync-key`,
        { user: user.name },
        {
          parent: this,
          dependsOn: [userPolicy],
          replacementTrigger: args.rotationEpoch ?? "initial",
          // Create the new key before deleting the old one, so the NAS is never without a valid key.
          deleteBeforeReplace: false,
          additionalSecretOutputs: ["secret"],
        },
      );
      this.syncPolicy = document;
      this.syncAccessKeyId = accessKey.id;
      this.syncSecretAccessKey = pulumi.secret(accessKey.secret);
    } else {
      this.syncPolicy = allBucketArns.apply((bucketArns) => JSON.stringify(syncIdentityPolicy({ bucketArns })));
    }

    this.registerOutputs({
      bucketNames: this.bucketNames,
      kmsKeyArn: this.kmsKeyArn,
      syncAccessKeyId: this.syncAccessKeyId,
      syncSecretAccessKey: this.syncSecretAccessKey,
      syncPolicy: this.syncPolicy,
      notes: this.notes,
      monthlyCost: this.cost.declared.monthly,
    });
  }
}
