/**
 * Retention classes as days, and the Object Lock and lifecycle rules each bucket gets: pure
 * functions, so the invariants (lock ≤ expiration, noncurrent expiry ≥ lock, ...) are tested
 * directly with fast-check.
 *
 * One bucket per retention class. A bucket's default Object Lock retention is one mode and one
 * period, so 2 y, 5 y and 7 y cannot share a bucket default. The alternative, per-object
 * retain-until dates, needs the uploader to send `x-amz-object-lock-*` headers on every PUT;
 * TrueNAS Cloud Sync (rclone) has no setting for that, and granting the sync identity
 * `s3:PutObjectRetention` would widen what a stolen NAS key can do. Separate buckets also give
 * each class its own lifecycle, IAM resource scope and line on the bill.
 */
import type { AwsStorageClass } from "./prices";
import type { ProviderCapabilities } from "./providers";

export const RETENTION_CLASS_NAMES = ["monthly", "yearly", "critical"] as const;
export type RetentionClassName = (typeof RETENTION_CLASS_NAMES)[number];

/** A year is 365 days, as everywhere in this library (config durations: `2y` = 730 days). */
export const DAYS_PER_YEAR = 365;
/** S3 accepts a default retention of up to 100 years. */
export const MAX_LOCK_DAYS = 36500;
/** Failed multipart uploads are cleaned up after this many days; a monthly upload finishes in hours. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;

/** The strategy's off-site retention: monthly archives 2 years, yearly 5 years, critical business data 7 years. */
export const DEFAULT_RETENTION_CLASSES: readonly RetentionClassArgs[] = [
  { name: "monthly", years: 2 },
  { name: "yearly", years: 5 },
  { name: "critical", years: 7 },
];

/** One retention class: how long its objects are kept and locked, and how much it holds. */
export interface RetentionClassArgs {
  readonly name: RetentionClassName;
  /** Retention in years (365 days each). Give `years` or `days`, not both. */
  readonly years?: number;
  /** Retention in days. Give `years` or `days`, not both. */
  readonly days?: number;
  /**
   * Object Lock COMPLIANCE period; never longer than the retention.
   * @default the retention: every version is immutable for as long as the class keeps it
   */
  readonly lockDays?: number;
  /**
   * AWS storage class objects are uploaded to (and transitioned to, as a safety net).
   * @default the cheapest class for the declared size and objects (Deep Archive for the seed)
   */
  readonly storageClass?: AwsStorageClass;
  /** Live data the class holds, for the cost model. @default 0 */
  readonly sizeGb?: number;
  /** Live objects the class holds, for the per-object costs. @default 0 */
  readonly objects?: number;
}

/** The retention a class's objects get, in days. */
export function retentionDays(c: Pick<RetentionClassArgs, "years" | "days">): number {
  return c.days !== undefined ? c.days : Math.round((c.years ?? 0) * DAYS_PER_YEAR);
}

/** The class's Object Lock period in days. */
export function lockDays(c: Pick<RetentionClassArgs, "years" | "days" | "lockDays">): number {
  return c.lockDays ?? retentionDays(c);
}

/**
 * Days a version is kept after it stops being current. Never shorter than the lock: an
 * overwritten version is then kept a full lock period after the overwrite (ransomware that
 * overwrites the archive leaves the originals for `lockDays` from the attack), and a chunk store
 * synced by COPY can still be restored as of any date inside the lock (rclone --s3-version-at)
 * while an expired chunk waits for the next run to be uploaded again.
 */
export function noncurrentDays(lock: number): number {
  return lock;
}

/**
 * When a lifecycle transition moves objects to `storageClass`: day 0 for the Glacier classes,
 * day 30 for the IA classes (S3 refuses earlier transitions to them), none for Standard, and none
 * when the objects expire before the transition could happen.
 */
export function transitionDays(storageClass: AwsStorageClass, expirationDays: number): number | undefined {
  const day = storageClass === "STANDARD" ? undefined : storageClass === "STANDARD_IA" || storageClass === "ONEZONE_IA" ? 30 : 0;
  return day !== undefined && day < expirationDays ? day : undefined;
}

/** Everything one bucket enforces for its class. */
export interface ClassPlan {
  readonly name: RetentionClassName;
  readonly bucket: string;
  /** Current versions expire (get a delete marker) after this many days: the class's retention. */
  readonly expirationDays: number;
  /** COMPLIANCE lock on every new version: nobody, root included, deletes it earlier. */
  readonly lockDays: number;
  readonly noncurrentDays: number;
  /** AWS only: where objects live. */
  readonly storageClass?: AwsStorageClass;
  /** AWS only: the safety-net transition day for objects uploaded to another class. */
  readonly transitionDays?: number;
  readonly sizeGb: number;
  readonly objects: number;
}

/** A lifecycle rule in @pulumi/aws's input shape, as plain values. */
export interface LifecycleRule {
  readonly id: string;
  readonly status: "Enabled";
  readonly filter: Record<string, never>;
  readonly transitions?: readonly { readonly days: number; readonly storageClass: AwsStorageClass }[];
  readonly expiration?: { readonly days: number } | { readonly expiredObjectDeleteMarker: true };
  readonly noncurrentVersionExpiration?: { readonly noncurrentDays: number };
  readonly abortIncompleteMultipartUpload?: { readonly daysAfterInitiation: number };
}

/**
 * The bucket's lifecycle rules, limited to what the provider supports. Expiration and the
 * delete-marker clean-up are separate rules because S3 refuses `ExpiredObjectDeleteMarker`
 * next to `Days` in one Expiration.
 */
export function lifecycleRules(plan: ClassPlan, caps: Pick<ProviderCapabilities, "lifecycle">): LifecycleRule[] {
  const rules: LifecycleRule[] = [];
  const transitions =
    caps.lifecycle.transitions && plan.storageClass !== undefined && plan.transitionDays !== undefined
      ? [{ days: plan.transitionDays, storageClass: plan.storageClass }]
      : undefined;
  rules.push({
    id: `${plan.name}-retention`,
    status: "Enabled",
    filter: {},
    ...(transitions ? { transitions } : {}),
    expiration: { days: plan.expirationDays },
    noncurrentVersionExpiration: { noncurrentDays: plan.noncurrentDays },
  });
  if (caps.lifecycle.expiredDeleteMarkers) {
    rules.push({ id: `${plan.name}-delete-markers`, status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } });
  }
  if (caps.lifecycle.abortIncompleteUploads) {
    rules.push({ id: `${plan.name}-incomplete-uploads`, status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS } });
  }
  return rules;
}

/** The bucket's default retention: COMPLIANCE (GOVERNANCE can be bypassed by anyone holding `s3:BypassGovernanceRetention`). */
export function objectLockRule(plan: Pick<ClassPlan, "lockDays">): { defaultRetention: { mode: "COMPLIANCE"; days: number } } {
  return { defaultRetention: { mode: "COMPLIANCE", days: plan.lockDays } };
}

/** Problems with one retention class, one line each (empty when it is valid). */
export function retentionClassProblems(c: RetentionClassArgs, path: string): string[] {
  const problems: string[] = [];
  if (!(RETENTION_CLASS_NAMES as readonly string[]).includes(c.name)) {
    problems.push(`${path}.name: ${JSON.stringify(c.name)} is not a retention class; expected one of ${RETENTION_CLASS_NAMES.join(", ")}`);
  }
  if ((c.years === undefined) === (c.days === undefined)) {
    problems.push(`${path}: has ${c.years === undefined ? "neither" : "both"} years and days; expected exactly one of them`);
    return problems;
  }
  const days = retentionDays(c);
  if (c.years !== undefined && !(Number.isInteger(c.years) && c.years >= 1)) problems.push(`${path}.years: ${c.years} is invalid; expected a whole number of years, 1 or more`);
  if (c.days !== undefined && !(Number.isInteger(c.days) && c.days >= 1)) problems.push(`${path}.days: ${c.days} is invalid; expected a whole number of days, 1 or more`);
  if (days > MAX_LOCK_DAYS) problems.push(`${path}: ${days} days of retention is more than S3 Object Lock's ${MAX_LOCK_DAYS}; expected at most ${MAX_LOCK_DAYS} days (100 years)`);
  if (c.lockDays !== undefined) {
    if (!Number.isInteger(c.lockDays) || c.lockDays < 1) problems.push(`${path}.lockDays: ${c.lockDays} is invalid; expected a whole number of days, 1 or more`);
    else if (c.lockDays > days) problems.push(`${path}.lockDays: ${c.lockDays} is longer than the class's retention of ${days} days; expected at most ${days}, or lifecycle would try to expire locked versions`);
  }
  for (const field of ["sizeGb", "objects"] as const) {
    const v = c[field];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && (field === "sizeGb" || Number.isInteger(v)))) {
      problems.push(`${path}.${field}: ${v} is invalid; expected ${field === "objects" ? "a whole number" : "a number"}, 0 or more`);
    }
  }
  if ((c.sizeGb ?? 0) > 0 && (c.objects ?? 0) === 0) problems.push(`${path}.objects: 0 objects cannot hold ${c.sizeGb} GB; expected the number of objects the class holds`);
  return problems;
}
