/**
 * What the off-site tier costs, as pure arithmetic over a price table (prices.ts), so that every
 * figure can be recomputed by hand from the reference's prices.
 *
 * The model is the steady state of a class that holds `storedGb` of live data in `objects`
 * objects, each kept `retentionDays` as the current version and then `noncurrentDays` more as a
 * noncurrent version (a versioned bucket's expiration only adds a delete marker). Every month
 * the objects uploaded replace the ones that expire, so:
 * - versions billed at any time = live × (retention + noncurrent) / retention;
 * - objects written (and, later, deleted) per month = objects × DAYS_PER_MONTH / retention;
 * - a version billed for fewer days than the tier's minimum pays the rest of the minimum when it
 *   is deleted: per month, billed GB × price × (minimum − lifetime) / lifetime.
 * Objects are assumed to be of equal size (`storedGb / objects`), which is what a minimum
 * billable size needs. A provider's monthly minimum (Wasabi's 1 TB) is topped up per layout,
 * counting deleted data still inside its minimum duration, which the provider bills as storage.
 * Restores bring back the live data (latest versions) of every class once.
 */
import {
  AWS_STORAGE_CLASSES,
  DAYS_PER_MONTH,
  KB_PER_GB,
  mergePrices,
  type AwsStorageClass,
  type PriceOverrides,
  type PriceTable,
  type ProviderPrices,
  type RestoreTier,
  type RetrievalPrice,
  type TierPrice,
} from "./prices";

export type OffsiteProviderKind = "aws" | "b2" | "wasabi" | "minio";

/** Where a class's objects live: an AWS storage class, or an S3-compatible provider's only class. */
export type Placement = { readonly provider: "aws"; readonly storageClass: AwsStorageClass } | { readonly provider: "b2" | "wasabi" | "minio" };

/** One retention class's data, as declared for the cost model. */
export interface ClassUsage {
  readonly name: string;
  /** Live (current-version) data the class holds. */
  readonly storedGb: number;
  /** Live objects the class holds. */
  readonly objects: number;
  /** Days each version is current (the lifecycle expiration). */
  readonly retentionDays: number;
  /** Days each version is kept after it stops being current. @default 0 */
  readonly noncurrentDays?: number;
}

/** One class's monthly cost in one placement, in USD. */
export interface ClassCost {
  readonly name: string;
  readonly placement: Placement;
  /** Human label of the placement, e.g. "aws DEEP_ARCHIVE" or "b2". */
  readonly where: string;
  /** GB billed for storage, current and noncurrent versions, after the minimum object size. */
  readonly billedGb: number;
  /** Of `billedGb`, what noncurrent versions add. */
  readonly noncurrentGb: number;
  /** Versions (current and noncurrent) billed at any time. */
  readonly billedObjects: number;
  readonly storage: number;
  /** Flexible Retrieval and Deep Archive: 8 KB per object at Standard's rate, 32 KB at the class's. */
  readonly objectOverhead: number;
  /** PUTs (or lifecycle transitions) of the objects uploaded each month. */
  readonly requests: number;
  /** Versions deleted before the tier's minimum duration pay the rest of it. */
  readonly earlyDeletion: number;
  /** The GB-months `earlyDeletion` pays for: deleted data still billed (Wasabi counts it towards its minimum). */
  readonly earlyDeletionGb: number;
  readonly monthly: number;
  readonly restore: ClassRestore;
}

/** Getting one class's live data back once (latest versions only). */
export interface ClassRestore {
  readonly tier: RestoreTier;
  readonly retrieval: number;
  readonly requests: number;
  /** Archive classes keep the restored copy in S3 Standard for `restoreCopyDays`. */
  readonly temporaryCopy: number;
  readonly hoursToFirstByte: number;
  /** Data that leaves the provider, before any free allowance. */
  readonly egressGb: number;
}

export interface RestoreCost {
  readonly retrieval: number;
  readonly requests: number;
  readonly temporaryCopy: number;
  readonly egress: number;
  readonly total: number;
  /** The slowest class's worst case. */
  readonly hoursToFirstByte: number;
}

/** A whole off-site layout: every class on one provider. */
export interface LayoutCost {
  readonly label: string;
  readonly provider: OffsiteProviderKind;
  readonly classes: readonly ClassCost[];
  /** A provider's monthly minimum (Wasabi: 1 TB) topping up what is stored. */
  readonly minimumCharge: number;
  readonly monthly: number;
  readonly restore: RestoreCost;
}

export interface CostEstimateInput {
  readonly provider: OffsiteProviderKind;
  /** Region the tier lives in; prices are us-east-1 list prices unless overridden. */
  readonly region?: string;
  readonly classes: readonly ClassUsage[];
  /** Where each class lives in the declared layout (AWS: its storage class). @default DEEP_ARCHIVE on AWS */
  readonly placements?: Readonly<Record<string, AwsStorageClass>>;
  /** Prices to use instead of the defaults. */
  readonly prices?: PriceOverrides;
  /** Restore speed asked of archive classes. @default "standard" */
  readonly restoreTier?: RestoreTier;
  /** Days a restored archive copy stays readable (billed at S3 Standard). @default 1 */
  readonly restoreCopyDays?: number;
}

export interface CostEstimate {
  readonly currency: "USD";
  /** The layout as declared. */
  readonly declared: LayoutCost;
  /** The same data and retention in S3 Standard. */
  readonly standard: LayoutCost;
  /** The cheapest feasible layout: AWS (best storage class per retention class), B2 or Wasabi. */
  readonly cheapest: LayoutCost;
  /** standard.monthly / declared.monthly: how much the declared layout saves over Standard. */
  readonly standardToDeclared: number;
  /** declared.monthly / cheapest.monthly: 1 when the declared layout is the cheapest. */
  readonly declaredToCheapest: number;
  readonly prices: { readonly sources: Readonly<Record<OffsiteProviderKind, { source: string; asOf: string }>>; readonly overridden: readonly string[] };
  readonly notes: readonly string[];
}

/**
 * AWS storage classes a backup archive may use. One Zone-IA keeps data in a single availability
 * zone, which an off-site copy meant to survive disasters should not depend on.
 */
export const FEASIBLE_AWS_CLASSES: readonly AwsStorageClass[] = ["STANDARD", "STANDARD_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"];

export function placementLabel(p: Placement): string {
  return p.provider === "aws" ? `aws ${p.storageClass}` : p.provider;
}

function tierOf(p: Placement, prices: PriceTable): TierPrice {
  return p.provider === "aws" ? prices.aws.classes[p.storageClass] : prices[p.provider].tier;
}

function providerPrices(kind: OffsiteProviderKind, prices: PriceTable): ProviderPrices {
  return prices[kind];
}

function retrievalFor(tier: TierPrice, wanted: RestoreTier): { tier: RestoreTier; price: RetrievalPrice } {
  const price = tier.retrieval[wanted];
  return price ? { tier: wanted, price } : { tier: "standard", price: tier.retrieval.standard };
}

function checkUsage(u: ClassUsage): void {
  const bad = (field: string, value: number, expected: string) => new Error(`cost model: class ${u.name} ${field} ${value} is invalid; expected ${expected}`);
  if (!Number.isFinite(u.storedGb) || u.storedGb < 0) throw bad("storedGb", u.storedGb, "0 or more");
  if (!Number.isInteger(u.objects) || u.objects < 0) throw bad("objects", u.objects, "a whole number, 0 or more");
  if (u.storedGb > 0 && u.objects === 0) throw bad("objects", u.objects, "at least one object when storedGb is above 0");
  if (!Number.isInteger(u.retentionDays) || u.retentionDays < 1) throw bad("retentionDays", u.retentionDays, "a whole number of days, 1 or more");
  const nc = u.noncurrentDays ?? 0;
  if (!Number.isInteger(nc) || nc < 0) throw bad("noncurrentDays", nc, "a whole number of days, 0 or more");
}

/** One class's steady-state monthly cost and one restore of it, in one placement. */
export function classCost(usage: ClassUsage, placement: Placement, prices: PriceTable, restoreTier: RestoreTier = "standard", restoreCopyDays = 1): ClassCost {
  checkUsage(usage);
  const tier = tierOf(placement, prices);
  const standardRate = prices.aws.classes.STANDARD.storagePerGbMonth;
  const noncurrentDays = usage.noncurrentDays ?? 0;
  const lifetimeDays = usage.retentionDays + noncurrentDays;
  const versionsPerObject = lifetimeDays / usage.retentionDays;

  const billedObjects = usage.objects * versionsPerObject;
  const objectKb = usage.objects > 0 ? (usage.storedGb * KB_PER_GB) / usage.objects : 0;
  const billedKbPerObject = Math.max(objectKb, tier.minBillableObjectKb);
  const billedGb = (billedObjects * billedKbPerObject) / KB_PER_GB;
  const noncurrentGb = billedGb - (usage.objects * billedKbPerObject) / KB_PER_GB;

  const storage = billedGb * tier.storagePerGbMonth;
  const objectOverhead = (billedObjects * (tier.overheadKbAtTierRate * tier.storagePerGbMonth + tier.overheadKbAtStandardRate * standardRate)) / KB_PER_GB;
  const writesPerMonth = (usage.objects * DAYS_PER_MONTH) / usage.retentionDays;
  const requests = (writesPerMonth / 1000) * tier.writePer1k;
  const earlyDeletionGb = lifetimeDays < tier.minStorageDays ? (billedGb * (tier.minStorageDays - lifetimeDays)) / lifetimeDays : 0;
  const earlyDeletion = earlyDeletionGb * tier.storagePerGbMonth;

  const r = retrievalFor(tier, restoreTier);
  const restore: ClassRestore = {
    tier: r.tier,
    retrieval: usage.storedGb * r.price.perGb,
    requests: (usage.objects / 1000) * r.price.per1kRequests,
    temporaryCopy: tier.needsRestore ? (usage.storedGb * standardRate * restoreCopyDays) / DAYS_PER_MONTH : 0,
    hoursToFirstByte: r.price.hoursToFirstByte,
    egressGb: usage.storedGb,
  };
  return {
    name: usage.name,
    placement,
    where: placementLabel(placement),
    billedGb,
    noncurrentGb,
    billedObjects,
    storage,
    objectOverhead,
    requests,
    earlyDeletion,
    earlyDeletionGb,
    monthly: storage + objectOverhead + requests + earlyDeletion,
    restore,
  };
}

/** Adds up classes on one provider: its monthly minimum, and one restore of everything with its egress. */
export function layoutCost(label: string, provider: OffsiteProviderKind, classes: readonly ClassCost[], prices: PriceTable): LayoutCost {
  const p = providerPrices(provider, prices);
  const billedGb = classes.reduce((s, c) => s + c.billedGb, 0);
  // Deleted data still inside its minimum duration is billed storage too, and counts towards a minimum.
  const chargedGb = billedGb + classes.reduce((s, c) => s + c.earlyDeletionGb, 0);
  const minimumCharge =
    chargedGb < p.minimumBilledGbPerMonth && classes.length > 0
      ? (p.minimumBilledGbPerMonth - chargedGb) * (provider === "aws" ? prices.aws.classes.STANDARD.storagePerGbMonth : prices[provider].tier.storagePerGbMonth)
      : 0;
  const egressGb = classes.reduce((s, c) => s + c.restore.egressGb, 0);
  const freeGb = p.egress.freeMultipleOfStored * billedGb;
  const egress = Math.max(0, egressGb - freeGb) * p.egress.perGb;
  const retrieval = classes.reduce((s, c) => s + c.restore.retrieval, 0);
  const requests = classes.reduce((s, c) => s + c.restore.requests, 0);
  const temporaryCopy = classes.reduce((s, c) => s + c.restore.temporaryCopy, 0);
  return {
    label,
    provider,
    classes,
    minimumCharge,
    monthly: classes.reduce((s, c) => s + c.monthly, 0) + minimumCharge,
    restore: {
      retrieval,
      requests,
      temporaryCopy,
      egress,
      total: retrieval + requests + temporaryCopy + egress,
      hoursToFirstByte: classes.reduce((h, c) => Math.max(h, c.restore.hoursToFirstByte), 0),
    },
  };
}

/** The AWS storage class with the lowest monthly cost for one class (ties go to the colder class). */
export function cheapestAwsClass(usage: ClassUsage, prices: PriceTable, candidates: readonly AwsStorageClass[] = FEASIBLE_AWS_CLASSES): AwsStorageClass {
  let best: { cls: AwsStorageClass; monthly: number } | undefined;
  // Coldest first, so an exact tie (for instance no data declared) keeps the colder class.
  for (const cls of [...candidates].sort((a, b) => AWS_STORAGE_CLASSES.indexOf(b) - AWS_STORAGE_CLASSES.indexOf(a))) {
    const monthly = classCost(usage, { provider: "aws", storageClass: cls }, prices).monthly;
    if (!best || monthly < best.monthly - 1e-12) best = { cls, monthly };
  }
  return (best as { cls: AwsStorageClass }).cls;
}

const usd = (n: number) => (n >= 100 ? `$${n.toFixed(0)}` : `$${n.toFixed(2)}`);
const ratio = (a: number, b: number) => (b > 0 ? a / b : a > 0 ? Number.POSITIVE_INFINITY : 1);

/**
 * The declared layout's monthly cost and one full restore, next to the same retention in S3
 * Standard and in the cheapest feasible layout (AWS with the best class per retention class, B2
 * or Wasabi; MinIO is self-hosted and has no provider price to compare).
 */
export function estimateOffsiteCost(input: CostEstimateInput): CostEstimate {
  const { prices, overridden } = mergePrices(input.prices ?? {});
  const tier = input.restoreTier ?? "standard";
  const copyDays = input.restoreCopyDays ?? 1;
  const costs = (placementOf: (u: ClassUsage) => Placement) => input.classes.map((u) => classCost(u, placementOf(u), prices, tier, copyDays));

  const declaredPlacement = (u: ClassUsage): Placement =>
    input.provider === "aws" ? { provider: "aws", storageClass: input.placements?.[u.name] ?? "DEEP_ARCHIVE" } : { provider: input.provider };
  const declaredClasses = costs(declaredPlacement);
  const labelOf = (classes: readonly ClassCost[]) => [...new Set(classes.map((c) => c.where))].join(" + ");
  const declared = layoutCost(labelOf(declaredClasses), input.provider, declaredClasses, prices);
  const standard = layoutCost("aws STANDARD", "aws", costs(() => ({ provider: "aws", storageClass: "STANDARD" })), prices);

  const awsBestClasses = costs((u) => ({ provider: "aws", storageClass: cheapestAwsClass(u, prices) }));
  const candidates = [
    layoutCost(labelOf(awsBestClasses), "aws", awsBestClasses, prices),
    layoutCost("b2", "b2", costs(() => ({ provider: "b2" })), prices),
    layoutCost("wasabi", "wasabi", costs(() => ({ provider: "wasabi" })), prices),
  ];
  const cheapest = candidates.reduce((best, c) => (c.monthly < best.monthly - 1e-12 ? c : best));

  const notes: string[] = [];
  const region = input.region ?? prices.aws.region;
  if (input.provider === "aws" && region !== prices.aws.region && !overridden.some((p) => p.startsWith("aws.classes."))) {
    notes.push(`cost: prices are ${prices.aws.region} list prices (${prices.aws.asOf}); ${region} differs, so set its prices in the config key offsite.prices`);
  }
  if (input.provider === "minio" && !overridden.some((p) => p.startsWith("minio."))) {
    notes.push("cost: MinIO is self-hosted and priced at $0; override prices.minio with what its hardware, power and hosting cost");
  }
  const totalLive = input.classes.reduce((s, c) => s + c.storedGb, 0);
  const noncurrent = declared.classes.reduce((s, c) => s + c.noncurrentGb, 0);
  notes.push(
    `cost: ${usd(declared.monthly)}/month for ${totalLive.toFixed(0)} GB live` +
      (noncurrent > 0 ? ` (+${noncurrent.toFixed(0)} GB of expired versions kept as noncurrent for a lock period)` : "") +
      ` on ${declared.label}; the same in S3 Standard ${usd(standard.monthly)}` +
      (declared.monthly > 0 ? ` (${ratio(standard.monthly, declared.monthly).toFixed(1)}x)` : "") +
      `; cheapest feasible: ${cheapest.label === declared.label ? "this layout" : `${cheapest.label} ${usd(cheapest.monthly)}`}; one full restore ${usd(declared.restore.total)} ` +
      `(retrieval ${usd(declared.restore.retrieval + declared.restore.requests + declared.restore.temporaryCopy)}, egress ${usd(declared.restore.egress)}), ` +
      (declared.restore.hoursToFirstByte > 0 ? `first byte within ${declared.restore.hoursToFirstByte.toFixed(0)} h` : "readable at once"),
  );

  const sources = Object.fromEntries((["aws", "b2", "wasabi", "minio"] as const).map((k) => [k, { source: prices[k].source, asOf: prices[k].asOf }])) as Record<
    OffsiteProviderKind,
    { source: string; asOf: string }
  >;
  return {
    currency: "USD",
    declared,
    standard,
    cheapest,
    standardToDeclared: ratio(standard.monthly, declared.monthly),
    declaredToCheapest: ratio(declared.monthly, cheapest.monthly),
    prices: { sources, overridden },
    notes,
  };
}
