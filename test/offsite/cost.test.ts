/**
 * The cost model against cases worked out by hand from ../shared/reference/s3-costs.md. Prices
 * are written here as the reference gives them, not read from prices.ts, so a wrong figure in
 * the table fails a test.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cheapestAwsClass, classCost, estimateOffsiteCost, layoutCost } from "../../components/offsite/cost";
import { DEFAULT_PRICES, mergePrices } from "../../components/offsite/prices";

// Reference, §1.1 (us-east-1, first 50 TB) and §1.2.
const STANDARD = 0.023;
const GLACIER_FLEXIBLE = 0.0036;
const DEEP_ARCHIVE = 0.00099;
const DEEP_ARCHIVE_WRITE_PER_1K = 0.05;
const DEEP_ARCHIVE_STD_RETRIEVAL_GB = 0.02;
const DEEP_ARCHIVE_STD_REQUESTS_1K = 0.1;
const DEEP_ARCHIVE_BULK_RETRIEVAL_GB = 0.0025;
const EGRESS_GB = 0.09;
const B2 = 6 / 1000; // $6 per TB-month
const WASABI = 7.99 / 1000; // $7.99 per TB-month from 2026-07-01 (this is 2026-11)

const KB_IN_GB = 1024 * 1024;
const MONTH_DAYS = 365 / 12;

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} is not ${expected}`);
}

describe("price table", () => {
  test("the defaults are the reference's figures, with their sources and dates", () => {
    const aws = DEFAULT_PRICES.aws.classes;
    assert.deepEqual(
      [aws.STANDARD.storagePerGbMonth, aws.STANDARD_IA.storagePerGbMonth, aws.GLACIER_IR.storagePerGbMonth, aws.GLACIER.storagePerGbMonth, aws.DEEP_ARCHIVE.storagePerGbMonth],
      [STANDARD, 0.0125, 0.004, GLACIER_FLEXIBLE, DEEP_ARCHIVE],
    );
    assert.deepEqual([aws.STANDARD_IA.minStorageDays, aws.GLACIER_IR.minStorageDays, aws.GLACIER.minStorageDays, aws.DEEP_ARCHIVE.minStorageDays], [30, 90, 90, 180]);
    assert.deepEqual([aws.DEEP_ARCHIVE.overheadKbAtStandardRate, aws.DEEP_ARCHIVE.overheadKbAtTierRate], [8, 32]);
    assert.deepEqual([aws.GLACIER.writePer1k, aws.DEEP_ARCHIVE.writePer1k], [0.03, DEEP_ARCHIVE_WRITE_PER_1K]);
    assert.equal(DEFAULT_PRICES.b2.tier.storagePerGbMonth, B2);
    assert.equal(DEFAULT_PRICES.wasabi.tier.storagePerGbMonth, WASABI);
    assert.deepEqual([DEFAULT_PRICES.wasabi.tier.minStorageDays, DEFAULT_PRICES.wasabi.minimumBilledGbPerMonth], [90, 1000]);
    for (const p of [DEFAULT_PRICES.aws, DEFAULT_PRICES.b2, DEFAULT_PRICES.wasabi, DEFAULT_PRICES.minio]) {
      assert.match(p.asOf, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(p.source.length > 20);
    }
  });

  test("overrides merge over the defaults and are reported; unknown keys and negative prices are refused", () => {
    const { prices, overridden } = mergePrices({ aws: { region: "eu-central-1", classes: { DEEP_ARCHIVE: { storagePerGbMonth: 0.0018 } } } });
    assert.equal(prices.aws.classes.DEEP_ARCHIVE.storagePerGbMonth, 0.0018);
    assert.equal(prices.aws.classes.DEEP_ARCHIVE.minStorageDays, 180, "siblings keep their defaults");
    assert.equal(prices.aws.classes.STANDARD.storagePerGbMonth, STANDARD);
    assert.deepEqual(overridden, ["aws.region", "aws.classes.DEEP_ARCHIVE.storagePerGbMonth"]);
    assert.equal(DEFAULT_PRICES.aws.classes.DEEP_ARCHIVE.storagePerGbMonth, DEEP_ARCHIVE, "the defaults are not mutated");
    assert.throws(() => mergePrices({ aws: { classes: { DEEP_ARCHIVE: { storagePerGbMonth: -1 } } } }), /prices\.aws\.classes\.DEEP_ARCHIVE\.storagePerGbMonth: -1 is invalid/);
    assert.throws(() => mergePrices({ b3: {} } as never), /prices\.b3: is not in the price table/);
  });
});

describe("cost model, hand-computed cases", () => {
  test("small objects: 1 GB in 1,048,576 objects of 1 KB in Deep Archive costs mostly overhead and requests, so Standard is cheaper", () => {
    const usage = { name: "tiny", storedGb: 1, objects: 1_048_576, retentionDays: 365 };
    const c = classCost(usage, { provider: "aws", storageClass: "DEEP_ARCHIVE" }, DEFAULT_PRICES);
    close(c.storage, 1 * DEEP_ARCHIVE, "storage: 1 GB at the Deep Archive rate");
    // Each object adds 32 KB at the Deep Archive rate and 8 KB at Standard's.
    const overhead = (1_048_576 * (32 * DEEP_ARCHIVE + 8 * STANDARD)) / KB_IN_GB;
    close(c.objectOverhead, overhead, "per-object overhead");
    close(c.objectOverhead, 0.21568, "= 32 x 0.00099 + 8 x 0.023 for exactly one GB of objects");
    // A year's retention: a twelfth of the objects is uploaded again every month.
    close(c.requests, (1_048_576 / 12 / 1000) * DEEP_ARCHIVE_WRITE_PER_1K, "PUTs into Deep Archive");
    assert.equal(c.earlyDeletion, 0, "365 days is past the 180-day minimum");
    close(c.monthly, DEEP_ARCHIVE + overhead + (1_048_576 / 12 / 1000) * DEEP_ARCHIVE_WRITE_PER_1K, "monthly");
    const standard = classCost(usage, { provider: "aws", storageClass: "STANDARD" }, DEFAULT_PRICES);
    close(standard.monthly, 1 * STANDARD + (1_048_576 / 12 / 1000) * 0.005, "Standard: storage and its $0.005/1k PUTs");
    assert.ok(standard.monthly < c.monthly);
    assert.equal(cheapestAwsClass(usage, DEFAULT_PRICES), "STANDARD");
  });

  test("small objects under a minimum billable size: 1 KB objects in Standard-IA are billed 128 KB each", () => {
    const c = classCost({ name: "tiny", storedGb: 1, objects: 1_048_576, retentionDays: 365 }, { provider: "aws", storageClass: "STANDARD_IA" }, DEFAULT_PRICES);
    close(c.billedGb, (1_048_576 * 128) / KB_IN_GB, "128 GB billed for 1 GB stored");
    close(c.storage, 128 * 0.0125, "storage");
  });

  test("early deletion: 100 objects of 1 GB in Deep Archive, expired after 30 days and noncurrent 30 more, pay the rest of 180 days", () => {
    const c = classCost({ name: "short", storedGb: 100, objects: 100, retentionDays: 30, noncurrentDays: 30 }, { provider: "aws", storageClass: "DEEP_ARCHIVE" }, DEFAULT_PRICES);
    // 100 GB current plus as much noncurrent (each version lives 30 + 30 days).
    close(c.billedGb, 200, "billed GB");
    close(c.noncurrentGb, 100, "noncurrent GB");
    close(c.storage, 200 * DEEP_ARCHIVE, "storage");
    // Per month, 100 x (365/12)/30 objects are uploaded and, 60 days later, deleted; each 1 GB
    // object is billed the 120 days it falls short of 180, at the Deep Archive rate.
    const deletedPerMonth = (100 * MONTH_DAYS) / 30;
    close(c.earlyDeletion, deletedPerMonth * 1 * DEEP_ARCHIVE * ((180 - 60) / MONTH_DAYS), "early deletion");
    close(c.earlyDeletion, 0.396, "= 200 GB x $0.00099 x 120/60");
    close(c.requests, (deletedPerMonth / 1000) * DEEP_ARCHIVE_WRITE_PER_1K, "PUTs");
  });

  test("no early deletion once the lifetime reaches the minimum: 90 days current + 90 noncurrent = 180", () => {
    const c = classCost({ name: "edge", storedGb: 10, objects: 10, retentionDays: 90, noncurrentDays: 90 }, { provider: "aws", storageClass: "DEEP_ARCHIVE" }, DEFAULT_PRICES);
    assert.equal(c.earlyDeletion, 0);
  });

  test("B2 vs Deep Archive for 1 TiB kept 7 years (and 7 more as noncurrent): storage, and the reference's restore figures", () => {
    const usage = { name: "critical", storedGb: 1024, objects: 1024, retentionDays: 2555, noncurrentDays: 2555 };
    const b2 = classCost(usage, { provider: "b2" }, DEFAULT_PRICES);
    close(b2.monthly, 2048 * B2, "B2: 2 TiB billed at $6/TB");
    const da = classCost(usage, { provider: "aws", storageClass: "DEEP_ARCHIVE" }, DEFAULT_PRICES);
    const daMonthly = 2048 * DEEP_ARCHIVE + (2048 * (32 * DEEP_ARCHIVE + 8 * STANDARD)) / KB_IN_GB + ((1024 * MONTH_DAYS) / 2555 / 1000) * DEEP_ARCHIVE_WRITE_PER_1K;
    close(da.monthly, daMonthly, "Deep Archive");
    assert.ok(b2.monthly / da.monthly > 6 && b2.monthly / da.monthly < 6.1, `B2 costs about 6x Deep Archive, got ${b2.monthly / da.monthly}`);

    // Reference: "A 1 TiB Deep Archive restore to the homelab costs about $20 retrieval (Std) or
    // $2.56 (Bulk), plus about $92 egress."
    close(da.restore.retrieval, 1024 * DEEP_ARCHIVE_STD_RETRIEVAL_GB, "standard retrieval, $20.48");
    close(da.restore.requests, (1024 / 1000) * DEEP_ARCHIVE_STD_REQUESTS_1K, "restore requests");
    close(da.restore.temporaryCopy, (1024 * STANDARD * 1) / MONTH_DAYS, "the restored copy, one day in Standard");
    assert.equal(da.restore.hoursToFirstByte, 12);
    const bulk = classCost(usage, { provider: "aws", storageClass: "DEEP_ARCHIVE" }, DEFAULT_PRICES, "bulk");
    close(bulk.restore.retrieval, 1024 * DEEP_ARCHIVE_BULK_RETRIEVAL_GB, "bulk retrieval, $2.56");
    assert.equal(bulk.restore.hoursToFirstByte, 48);

    const daLayout = layoutCost("aws", "aws", [da], DEFAULT_PRICES);
    close(daLayout.restore.egress, 1024 * EGRESS_GB, "egress, $92.16");
    close(daLayout.restore.total, 1024 * DEEP_ARCHIVE_STD_RETRIEVAL_GB + 1.024 * DEEP_ARCHIVE_STD_REQUESTS_1K + (1024 * STANDARD) / MONTH_DAYS + 1024 * EGRESS_GB, "restore");
    const b2Layout = layoutCost("b2", "b2", [b2], DEFAULT_PRICES);
    assert.equal(b2Layout.restore.total, 0, "B2: egress up to 3x the stored data is free, and a restore is 1x");
    assert.equal(b2Layout.restore.hoursToFirstByte, 0);
  });

  test("Wasabi: under 1 TB, current plus timed-deleted storage, bills as 1 TB", () => {
    // 100 GB kept 30 days: each object is billed 60 more days after deletion (90-day minimum),
    // so 200 GB of deleted data is billed at any time; 300 GB is topped up to 1 TB.
    const c = classCost({ name: "lab", storedGb: 100, objects: 100, retentionDays: 30 }, { provider: "wasabi" }, DEFAULT_PRICES);
    close(c.storage, 100 * WASABI, "storage");
    close(c.earlyDeletion, 200 * WASABI, "timed deleted storage");
    const layout = layoutCost("wasabi", "wasabi", [c], DEFAULT_PRICES);
    close(layout.minimumCharge, (1000 - 300) * WASABI, "minimum charge");
    close(layout.monthly, 1000 * WASABI, "the bill is the 1 TB minimum, $7.99");
    const big = layoutCost("wasabi", "wasabi", [classCost({ name: "big", storedGb: 2000, objects: 2000, retentionDays: 365 }, { provider: "wasabi" }, DEFAULT_PRICES)], DEFAULT_PRICES);
    assert.equal(big.minimumCharge, 0);
    close(big.monthly, 2000 * WASABI, "above the minimum, only storage");
  });

  test("estimate: the declared layout next to S3 Standard and the cheapest feasible one, with the ratios", () => {
    const e = estimateOffsiteCost({ provider: "b2", region: "us-west-004", classes: [{ name: "critical", storedGb: 1024, objects: 1024, retentionDays: 2555, noncurrentDays: 2555 }] });
    close(e.declared.monthly, 2048 * B2, "declared B2");
    close(e.standard.monthly, 2048 * STANDARD + ((1024 * MONTH_DAYS) / 2555 / 1000) * 0.005, "Standard");
    assert.equal(e.cheapest.label, "aws DEEP_ARCHIVE");
    close(e.standardToDeclared, e.standard.monthly / (2048 * B2), "Standard / declared");
    assert.ok(e.declaredToCheapest > 6, `B2 is ${e.declaredToCheapest}x the cheapest`);
    assert.deepEqual(e.prices.overridden, []);
    assert.ok(e.notes.some((n) => n.startsWith("cost: $12.29/month for 1024 GB live (+1024 GB")), e.notes.join("\n"));
  });

  test("estimate: AWS defaults to Deep Archive, warns about region prices, and an override silences the warning", () => {
    const classes = [{ name: "monthly", storedGb: 250, objects: 2000, retentionDays: 730, noncurrentDays: 730 }];
    const plain = estimateOffsiteCost({ provider: "aws", region: "eu-central-1", classes });
    assert.equal(plain.declared.classes[0]?.where, "aws DEEP_ARCHIVE");
    assert.equal(plain.declaredToCheapest, 1);
    assert.ok(plain.notes[0]?.startsWith("cost: prices are us-east-1 list prices (2026-06-05); eu-central-1 differs"));
    const overridden = estimateOffsiteCost({ provider: "aws", region: "eu-central-1", classes, prices: { aws: { classes: { DEEP_ARCHIVE: { storagePerGbMonth: 0.0018 } } } } });
    assert.ok(!overridden.notes.some((n) => n.includes("list prices")));
    close(overridden.declared.classes[0]?.storage ?? 0, 500 * 0.0018, "500 GB billed at the overriding price");
    assert.deepEqual(overridden.prices.overridden, ["aws.classes.DEEP_ARCHIVE.storagePerGbMonth"]);
  });

  test("property: more data, more objects, or a longer noncurrent tail never costs less in any placement", () => {
    const placements = [
      { provider: "aws", storageClass: "STANDARD" },
      { provider: "aws", storageClass: "GLACIER_IR" },
      { provider: "aws", storageClass: "DEEP_ARCHIVE" },
      { provider: "b2" },
      { provider: "wasabi" },
    ] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom(...placements),
        (gb, objects, retention, noncurrent, placement) => {
          const base = classCost({ name: "x", storedGb: gb, objects, retentionDays: retention, noncurrentDays: noncurrent }, placement, DEFAULT_PRICES).monthly;
          const more = (u: Partial<{ storedGb: number; objects: number; noncurrentDays: number }>) =>
            classCost({ name: "x", storedGb: gb, objects, retentionDays: retention, noncurrentDays: noncurrent, ...u }, placement, DEFAULT_PRICES).monthly;
          // Equal costs may differ in the last bits (sums of thousands of dollars): a relative epsilon.
          const floor = base - Math.abs(base) * 1e-12;
          return more({ storedGb: gb * 2 }) >= floor && more({ objects: objects * 2 }) >= floor && more({ noncurrentDays: noncurrent + 30 }) >= floor;
        },
      ),
    );
  });

  test("invalid usage is refused with the class and field named", () => {
    assert.throws(() => classCost({ name: "x", storedGb: 10, objects: 0, retentionDays: 30 }, { provider: "b2" }, DEFAULT_PRICES), /class x objects 0 is invalid/);
    assert.throws(() => classCost({ name: "x", storedGb: 1, objects: 1, retentionDays: 0 }, { provider: "b2" }, DEFAULT_PRICES), /retentionDays 0 is invalid/);
  });
});
