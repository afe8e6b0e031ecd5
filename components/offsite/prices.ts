/**
 * Off-site storage prices as data. Every figure comes from ../shared/reference/s3-costs.md,
 * which tags each one [V] (checked in an AWS or vendor source), [3P] (third-party page) or
 * unverified; the tag is repeated next to the figure so a reviewer can weigh it. Prices change
 * and differ by region: override any of them with `mergePrices` (a partial table) instead of
 * editing this file.
 */

/** S3 storage classes the cost model prices (AWS only; B2, Wasabi and MinIO have one class each). */
export const AWS_STORAGE_CLASSES = ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] as const;
export type AwsStorageClass = (typeof AWS_STORAGE_CLASSES)[number];

/** How fast and at what price archived data comes back. */
export type RestoreTier = "expedited" | "standard" | "bulk";

export interface RetrievalPrice {
  /** Per GB retrieved. */
  readonly perGb: number;
  /** Per 1,000 restore (or GET) requests. */
  readonly per1kRequests: number;
  /** Worst-case hours until the first byte can be read. */
  readonly hoursToFirstByte: number;
}

/** The price of one place data can live: an S3 storage class, or an S3-compatible provider's single class. */
export interface TierPrice {
  /** Per GB-month stored (first volume tier). */
  readonly storagePerGbMonth: number;
  /** Objects deleted, overwritten or transitioned earlier are billed for the remaining days. */
  readonly minStorageDays: number;
  /** Smaller objects are billed as if they had this size. */
  readonly minBillableObjectKb: number;
  /** Per 1,000 objects written into the tier, by PUT or by a lifecycle transition. */
  readonly writePer1k: number;
  /** Index kept per object, billed at this tier's rate (Flexible Retrieval, Deep Archive: 32 KB). */
  readonly overheadKbAtTierRate: number;
  /** Name and metadata kept per object, billed at S3 Standard's rate (Flexible Retrieval, Deep Archive: 8 KB). */
  readonly overheadKbAtStandardRate: number;
  /** Objects must be restored (a temporary copy is made) before they can be read. */
  readonly needsRestore: boolean;
  /** Retrieval options; a restore asks for a tier the class lacks falls back to "standard". */
  readonly retrieval: { readonly standard: RetrievalPrice } & Partial<Record<Exclude<RestoreTier, "standard">, RetrievalPrice>>;
}

export interface EgressPrice {
  /** Per GB leaving the provider beyond the free allowance. */
  readonly perGb: number;
  /** Free egress per month as a multiple of the data stored (B2: 3, Wasabi: 1). */
  readonly freeMultipleOfStored: number;
}

export interface ProviderPrices {
  /** Where the figures come from. */
  readonly source: string;
  /** The date the source was checked (ISO 8601). */
  readonly asOf: string;
  readonly egress: EgressPrice;
  /** A monthly minimum: storage below it is billed up to it (Wasabi: 1 TB). */
  readonly minimumBilledGbPerMonth: number;
}

export interface AwsPrices extends ProviderPrices {
  /** The region these list prices are for; other regions differ. */
  readonly region: string;
  readonly classes: { readonly [C in AwsStorageClass]: TierPrice };
}

export interface SingleClassPrices extends ProviderPrices {
  readonly tier: TierPrice;
}

export interface PriceTable {
  readonly currency: "USD";
  readonly aws: AwsPrices;
  readonly b2: SingleClassPrices;
  readonly wasabi: SingleClassPrices;
  /** Self-hosted: zero unless overridden with what the hardware and power cost. */
  readonly minio: SingleClassPrices;
}

/** A partial price table: any field given replaces the default. */
export type PriceOverrides = DeepPartial<PriceTable>;
export type DeepPartial<T> = { readonly [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** KB per GB: S3 bills in binary units (GiB), so the 8 KB and 32 KB overheads are 1/131072 and 1/32768 GB. */
export const KB_PER_GB = 1024 * 1024;
/** Average days in a month, for turning per-day lifetimes into per-month rates. */
export const DAYS_PER_MONTH = 365 / 12;

const free: RetrievalPrice = { perGb: 0, per1kRequests: 0, hoursToFirstByte: 0 };

const singleClass = (storagePerGbMonth: number, minStorageDays: number, minBillableObjectKb: number): TierPrice => ({
  storagePerGbMonth,
  minStorageDays,
  minBillableObjectKb,
  // Uploads are not billed per request by B2 or Wasabi (not in the reference: treated as free).
  writePer1k: 0,
  overheadKbAtTierRate: 0,
  overheadKbAtStandardRate: 0,
  needsRestore: false,
  retrieval: { standard: free },
});

export const DEFAULT_PRICES: PriceTable = {
  currency: "USD",
  aws: {
    source:
      "usage.ai 'Complete S3 Storage Class Pricing Table (US East, May 2026)' [3P]; awsnegotiations.com May 2026 list [3P]; " +
      "AWS S3 User Guide storage-class-intro, lifecycle-transition-general-considerations [V]; cirocloud 2025 (egress) [3P]",
    asOf: "2026-06-05",
    region: "us-east-1",
    // About $0.09/GB to the internet from us-east-1 [3P cirocloud 2025]; the free allowance is not modelled.
    egress: { perGb: 0.09, freeMultipleOfStored: 0 },
    minimumBilledGbPerMonth: 0,
    classes: {
      STANDARD: {
        storagePerGbMonth: 0.023, // [3P] first 50 TB
        minStorageDays: 0,
        minBillableObjectKb: 0,
        writePer1k: 0.005, // unverified: not in the reference (AWS's PUT list price)
        overheadKbAtTierRate: 0,
        overheadKbAtStandardRate: 0,
        needsRestore: false,
        retrieval: { standard: free },
      },
      STANDARD_IA: {
        storagePerGbMonth: 0.0125, // [3P]
        minStorageDays: 30, // [V]
        minBillableObjectKb: 128, // [V]
        writePer1k: 0.01, // unverified
        overheadKbAtTierRate: 0,
        overheadKbAtStandardRate: 0,
        needsRestore: false,
        retrieval: { standard: { perGb: 0.01, per1kRequests: 0, hoursToFirstByte: 0 } },
      },
      ONEZONE_IA: {
        storagePerGbMonth: 0.01, // [3P]
        minStorageDays: 30, // [V]
        minBillableObjectKb: 128, // [V]
        writePer1k: 0.01, // unverified
        overheadKbAtTierRate: 0,
        overheadKbAtStandardRate: 0,
        needsRestore: false,
        retrieval: { standard: { perGb: 0.01, per1kRequests: 0, hoursToFirstByte: 0 } },
      },
      GLACIER_IR: {
        storagePerGbMonth: 0.004, // [3P]
        minStorageDays: 90, // [V]
        minBillableObjectKb: 128, // [V]
        writePer1k: 0.02, // unverified
        overheadKbAtTierRate: 0,
        overheadKbAtStandardRate: 0,
        needsRestore: false,
        retrieval: { standard: { perGb: 0.03, per1kRequests: 0, hoursToFirstByte: 0 } },
      },
      GLACIER: {
        storagePerGbMonth: 0.0036, // [3P]
        minStorageDays: 90, // [V]
        // AWS's table lists 40 KB: that is the 8 + 32 KB per-object overhead below, not a
        // separate minimum, so counting both would bill small objects twice.
        minBillableObjectKb: 0,
        writePer1k: 0.03, // [3P, May 2026] transition to Flexible Retrieval
        overheadKbAtTierRate: 32, // [V]
        overheadKbAtStandardRate: 8, // [V]
        needsRestore: true,
        retrieval: {
          expedited: { perGb: 0.03, per1kRequests: 10, hoursToFirstByte: 5 / 60 }, // [V re:Post] 1-5 min
          standard: { perGb: 0.01, per1kRequests: 0.05, hoursToFirstByte: 5 }, // [V re:Post] 3-5 h
          // Bulk retrieval is free per the AWS doc [V]; its request fee is not in the reference.
          bulk: { perGb: 0, per1kRequests: 0, hoursToFirstByte: 12 },
        },
      },
      DEEP_ARCHIVE: {
        storagePerGbMonth: 0.00099, // [3P] about $1.01/TiB
        minStorageDays: 180, // [V]
        minBillableObjectKb: 0, // see GLACIER: the 40 KB is the overhead
        writePer1k: 0.05, // [3P, May 2026] transition to Deep Archive; a PUT straight into the class is priced alike
        overheadKbAtTierRate: 32, // [V]
        overheadKbAtStandardRate: 8, // [V]
        needsRestore: true,
        retrieval: {
          standard: { perGb: 0.02, per1kRequests: 0.1, hoursToFirstByte: 12 }, // [3P gist] ≤12 h
          bulk: { perGb: 0.0025, per1kRequests: 0.025, hoursToFirstByte: 48 }, // [3P gist] ≤48 h
        },
      },
    },
  },
  b2: {
    source: "cirocloud 2025 [3P] ($6/TB-month); Backblaze docs (Object Lock, lifecycle) [V]",
    asOf: "2026-06-05",
    // Free egress up to 3x the data stored (unverified); the $0.01/GB beyond it is not in the
    // reference either (unverified), and a full restore stays inside the allowance anyway.
    egress: { perGb: 0.01, freeMultipleOfStored: 3 },
    minimumBilledGbPerMonth: 0,
    tier: singleClass(0.006, 0 /* unverified */, 0),
  },
  wasabi: {
    source: "api-evangelist pricing YAML 2026 [3P] ($7.99/TB-month from 2026-07-01); docs.wasabi.com (90-day minimum, 1 TB minimum) [V]",
    asOf: "2026-07-01",
    // Free egress up to 1:1 of the data stored [V RCS FAQ]; Wasabi does not sell egress per GB.
    egress: { perGb: 0, freeMultipleOfStored: 1 },
    minimumBilledGbPerMonth: 1000, // [V] 1 TB monthly minimum charge
    tier: singleClass(0.00799, 90 /* [V] Pay-Go timed deleted storage */, 4 /* [3P] */),
  },
  minio: {
    source: "self-hosted: no provider price; override with the hardware, power and off-site hosting cost",
    asOf: "2026-06-05",
    egress: { perGb: 0, freeMultipleOfStored: 0 },
    minimumBilledGbPerMonth: 0,
    tier: singleClass(0, 0, 0),
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The default table with `overrides` merged over it, and the dotted paths of every figure the
 * overrides changed (so a report can say which prices are the user's).
 * @throws for an override path the table does not have, or a negative or non-finite price
 */
export function mergePrices(overrides: PriceOverrides = {}, base: PriceTable = DEFAULT_PRICES): { prices: PriceTable; overridden: string[] } {
  const overridden: string[] = [];
  const merge = (target: unknown, patch: unknown, path: string): unknown => {
    if (!isPlainObject(patch)) {
      if (typeof target === "number") {
        if (typeof patch !== "number" || !Number.isFinite(patch) || patch < 0) {
          throw new Error(`prices.${path}: ${JSON.stringify(patch)} is invalid; expected a number of 0 or more`);
        }
      } else if (typeof patch !== typeof target) {
        throw new Error(`prices.${path}: ${JSON.stringify(patch)} is invalid; expected a ${typeof target}`);
      }
      if (patch !== target) overridden.push(path);
      return patch;
    }
    if (!isPlainObject(target)) throw new Error(`prices.${path}: is not a price group; expected one of the table's keys`);
    const out: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      const next = path ? `${path}.${key}` : key;
      if (!(key in target)) throw new Error(`prices.${next}: is not in the price table; expected one of ${Object.keys(target).join(", ")}`);
      out[key] = merge(target[key], value, next);
    }
    return out;
  };
  const prices = merge(base, overrides, "") as PriceTable;
  return { prices, overridden };
}
