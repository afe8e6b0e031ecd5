/**
 * Everything the archive decides before it declares a resource, as a pure function of its plain
 * arguments: which buckets with which lock and lifecycle days, which storage class, which
 * resources the provider supports, what it costs, and the notes the plan prints.
 */
import type { OffsiteArchiveArgs } from "./archive";
import { estimateOffsiteCost, cheapestAwsClass, type CostEstimate, type OffsiteProviderKind } from "./cost";
import { AWS_STORAGE_CLASSES, mergePrices } from "./prices";
import { CAPABILITIES, providerNotes, type ProviderCapabilities } from "./providers";
import {
  DEFAULT_RETENTION_CLASSES,
  lockDays,
  noncurrentDays,
  retentionClassProblems,
  retentionDays,
  transitionDays,
  type ClassPlan,
  type RetentionClassArgs,
} from "./retention";

export const PROVIDER_KINDS: readonly OffsiteProviderKind[] = ["aws", "b2", "wasabi", "minio"];
/** AWS's bounds for automatic key rotation [V]. */
export const KMS_ROTATION_MIN_DAYS = 90;
export const KMS_ROTATION_MAX_DAYS = 2560;
export const DEFAULT_KMS_ROTATION_DAYS = 365;
/** The longest window KMS allows: a mistaken key deletion can be cancelled for a month. */
export const KMS_DELETION_WINDOW_DAYS = 30;

export interface OffsiteArchivePlan {
  readonly provider: OffsiteProviderKind;
  readonly capabilities: ProviderCapabilities;
  readonly region: string;
  /** The S3 endpoint of non-AWS providers. */
  readonly endpoint?: string;
  readonly bucketPrefix: string;
  readonly classes: readonly ClassPlan[];
  readonly kmsRotationDays: number;
  readonly syncIdentityName: string;
  /** Bucket names `pulumi destroy` may delete. */
  readonly allowDestroy: readonly string[];
  /** The key is kept unless every bucket it encrypts may be destroyed. */
  readonly keyAllowDestroy: boolean;
  readonly cost: CostEstimate;
  readonly notes: readonly string[];
}

/** Why a bucket name is invalid, or undefined. S3's rules, which B2, Wasabi and MinIO share. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `${name.length} characters; expected 3 to 63`;
  if (!/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name)) return "expected lowercase letters, digits and -, starting and ending with a letter or digit";
  if (name.startsWith("xn--") || name.endsWith("-s3alias") || name.endsWith("--ol-s3")) return "uses a prefix or suffix S3 reserves";
  return undefined;
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname !== "";
  } catch {
    return false;
  }
}

const show = (v: unknown) => JSON.stringify(v);

/** Every problem with the arguments, one line each, naming the argument, the value and what is expected. */
export function offsiteArchiveProblems(args: OffsiteArchiveArgs): string[] {
  const problems: string[] = [];
  const provider = args.provider ?? "aws";
  if (!PROVIDER_KINDS.includes(provider)) problems.push(`provider: ${show(provider)} is not supported; expected one of ${PROVIDER_KINDS.join(", ")}`);
  if (typeof args.region !== "string" || args.region.trim() === "") problems.push(`region: ${show(args.region)} is invalid; expected a region name such as eu-central-1`);
  if (args.endpoint !== undefined) {
    if (provider === "aws") problems.push(`endpoint: ${show(args.endpoint)} is set for provider aws; expected no endpoint (AWS's own), or provider b2, wasabi or minio`);
    else if (!isHttpsUrl(args.endpoint)) problems.push(`endpoint: ${show(args.endpoint)} is invalid; expected an https:// URL (credentials and data cross the network)`);
  } else if (provider === "minio") {
    problems.push("endpoint: is missing; expected the MinIO server's https:// URL");
  }
  const prefixProblem = typeof args.bucketPrefix === "string" ? bucketNameProblem(`${args.bucketPrefix}-critical`) : "is not a string";
  if (prefixProblem) problems.push(`bucketPrefix: ${show(args.bucketPrefix)} makes invalid bucket names (${prefixProblem})`);

  const classes = args.retentionClasses ?? DEFAULT_RETENTION_CLASSES;
  if (classes.length === 0) problems.push("retentionClasses: is empty; expected at least one retention class");
  const seen = new Set<string>();
  classes.forEach((c, i) => {
    problems.push(...retentionClassProblems(c, `retentionClasses[${i}]`));
    if (seen.has(c.name)) problems.push(`retentionClasses[${i}].name: ${show(c.name)} is declared twice; expected each class once (one bucket per class)`);
    seen.add(c.name);
    if (c.storageClass !== undefined) {
      if (provider !== "aws") problems.push(`retentionClasses[${i}].storageClass: ${show(c.storageClass)} is set for provider ${provider}, which has one storage class; expected no storageClass`);
      else if (!AWS_STORAGE_CLASSES.includes(c.storageClass)) problems.push(`retentionClasses[${i}].storageClass: ${show(c.storageClass)} is not an S3 storage class; expected one of ${AWS_STORAGE_CLASSES.join(", ")}`);
    }
  });

  const rotation = args.kmsRotationDays ?? DEFAULT_KMS_ROTATION_DAYS;
  if (!Number.isInteger(rotation) || rotation < KMS_ROTATION_MIN_DAYS || rotation > KMS_ROTATION_MAX_DAYS) {
    problems.push(`kmsRotationDays: ${rotation} is invalid; expected a whole number of days from ${KMS_ROTATION_MIN_DAYS} to ${KMS_ROTATION_MAX_DAYS} (AWS's bounds)`);
  }
  if (args.syncIdentityName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(args.syncIdentityName)) {
    problems.push(`syncIdentityName: ${show(args.syncIdentityName)} is invalid; expected 1-64 letters, digits or +=,.@_- (an IAM user name)`);
  }
  if (typeof args.rotationEpoch === "string" && args.rotationEpoch.trim() === "") problems.push('rotationEpoch: is empty; expected a keeper such as "2026-q4"');
  (args.keyUsers ?? []).forEach((u, i) => {
    if (typeof u === "string" && !/^arn:[\w-]+:(iam|sts)::\d{12}:/.test(u)) problems.push(`keyUsers[${i}]: ${show(u)} is invalid; expected an IAM principal ARN`);
  });
  if (provider !== "aws" && (args.keyUsers ?? []).length > 0) problems.push(`keyUsers: set for provider ${provider}, which has no KMS key; expected none`);

  const buckets = new Set(classes.map((c) => `${args.bucketPrefix}-${c.name}`));
  (args.allowDestroy ?? []).forEach((b, i) => {
    if (!buckets.has(b)) problems.push(`allowDestroy[${i}]: ${show(b)} names no bucket of this archive; expected one of ${[...buckets].join(", ")}`);
  });
  if (args.prices !== undefined) {
    try {
      mergePrices(args.prices);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

/**
 * The archive's plan.
 * @throws an Error listing every problem with the arguments, one per line
 */
export function planOffsiteArchive(args: OffsiteArchiveArgs): OffsiteArchivePlan {
  const problems = offsiteArchiveProblems(args);
  if (problems.length > 0) throw new Error(`invalid off-site archive arguments:\n${problems.join("\n")}`);
  const provider = args.provider ?? "aws";
  const capabilities = CAPABILITIES[provider];
  const { prices } = mergePrices(args.prices ?? {});
  const classArgs: readonly RetentionClassArgs[] = args.retentionClasses ?? DEFAULT_RETENTION_CLASSES;

  const classes: ClassPlan[] = classArgs.map((c) => {
    const expirationDays = retentionDays(c);
    const lock = lockDays(c);
    const usage = { name: c.name, storedGb: c.sizeGb ?? 0, objects: c.objects ?? 0, retentionDays: expirationDays, noncurrentDays: noncurrentDays(lock) };
    const storageClass = capabilities.storageClasses ? (c.storageClass ?? cheapestAwsClass(usage, prices)) : undefined;
    const transition = storageClass !== undefined ? transitionDays(storageClass, expirationDays) : undefined;
    return {
      name: c.name,
      bucket: `${args.bucketPrefix}-${c.name}`,
      expirationDays,
      lockDays: lock,
      noncurrentDays: noncurrentDays(lock),
      ...(storageClass !== undefined ? { storageClass } : {}),
      ...(transition !== undefined ? { transitionDays: transition } : {}),
      sizeGb: c.sizeGb ?? 0,
      objects: c.objects ?? 0,
    };
  });

  const cost = estimateOffsiteCost({
    provider,
    region: args.region,
    classes: classes.map((c) => ({ name: c.name, storedGb: c.sizeGb, objects: c.objects, retentionDays: c.expirationDays, noncurrentDays: c.noncurrentDays })),
    placements: Object.fromEntries(classes.filter((c) => c.storageClass !== undefined).map((c) => [c.name, c.storageClass as NonNullable<ClassPlan["storageClass"]>])),
    ...(args.prices !== undefined ? { prices: args.prices } : {}),
    ...(args.restoreTier !== undefined ? { restoreTier: args.restoreTier } : {}),
  });

  const allowDestroy = [...new Set(args.allowDestroy ?? [])];
  const keyAllowDestroy = classes.every((c) => allowDestroy.includes(c.bucket));
  const endpoint = provider === "aws" ? undefined : (args.endpoint ?? capabilities.defaultEndpoint?.(args.region));

  const notes = [
    ...providerNotes(provider, { buckets: classes.map((c) => c.bucket), rcloneEncryption: args.rcloneEncryption ?? true }),
    ...allowDestroy.map(
      (b) => `${b}: protect and retainOnDelete are off (allowDestroy), so pulumi destroy deletes the bucket resource; Object Lock still refuses to delete versions before their lock ends`,
    ),
    ...cost.notes,
  ];

  return {
    provider,
    capabilities,
    region: args.region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    bucketPrefix: args.bucketPrefix,
    classes,
    kmsRotationDays: args.kmsRotationDays ?? DEFAULT_KMS_ROTATION_DAYS,
    syncIdentityName: args.syncIdentityName ?? `${args.bucketPrefix}-sync`,
    allowDestroy,
    keyAllowDestroy,
    cost,
    notes,
  };
}
