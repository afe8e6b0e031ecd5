import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ABORT_INCOMPLETE_UPLOAD_DAYS,
  DEFAULT_RETENTION_CLASSES,
  lifecycleRules,
  lockDays,
  objectLockRule,
  retentionDays,
  transitionDays,
  type RetentionClassArgs,
} from "../../components/offsite/retention";
import { bucketNameProblem, offsiteArchiveProblems, planOffsiteArchive } from "../../components/offsite/plan";
import { CAPABILITIES } from "../../components/offsite/providers";
import type { OffsiteArchiveArgs } from "../../components/offsite/archive";

const KINDS = ["aws", "b2", "wasabi", "minio"] as const;

/** Any valid retention class: years or days, a lock no longer than the retention, declared data. */
const retentionClass = fc
  .record({
    name: fc.constantFrom("monthly" as const, "yearly" as const, "critical" as const),
    inYears: fc.boolean(),
    years: fc.integer({ min: 1, max: 100 }),
    days: fc.integer({ min: 1, max: 36500 }),
    lockShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    sizeGb: fc.integer({ min: 0, max: 50_000 }),
    objects: fc.integer({ min: 1, max: 5_000_000 }),
  })
  .map(({ name, inYears, years, days, lockShare, sizeGb, objects }): RetentionClassArgs => {
    const retention = inYears ? years * 365 : days;
    return {
      name,
      ...(inYears ? { years } : { days }),
      ...(lockShare !== undefined ? { lockDays: Math.max(1, Math.floor(retention * lockShare)) } : {}),
      sizeGb,
      objects,
    };
  });

const argsFor = (kind: (typeof KINDS)[number], classes: RetentionClassArgs[]): OffsiteArchiveArgs => ({
  provider: kind,
  region: kind === "b2" ? "us-west-004" : "eu-central-1",
  ...(kind === "minio" ? { endpoint: "https://minio.example:9000" } : {}),
  bucketPrefix: "homelab-offsite",
  retentionClasses: classes,
});

describe("retention days", () => {
  test("the strategy's seed is 730, 1825 and 2555 days, locked for all of it", () => {
    assert.deepEqual(DEFAULT_RETENTION_CLASSES.map(retentionDays), [730, 1825, 2555]);
    assert.deepEqual(DEFAULT_RETENTION_CLASSES.map(lockDays), [730, 1825, 2555]);
    const plan = planOffsiteArchive({ region: "eu-central-1", bucketPrefix: "homelab-offsite" });
    assert.deepEqual(
      plan.classes.map((c) => [c.bucket, c.expirationDays, c.lockDays, c.noncurrentDays, c.storageClass, c.transitionDays]),
      [
        ["homelab-offsite-monthly", 730, 730, 730, "DEEP_ARCHIVE", 0],
        ["homelab-offsite-yearly", 1825, 1825, 1825, "DEEP_ARCHIVE", 0],
        ["homelab-offsite-critical", 2555, 2555, 2555, "DEEP_ARCHIVE", 0],
      ],
    );
  });

  test("transition days: day 0 to the Glacier classes, day 30 to IA (S3's minimum), none to Standard or past expiration", () => {
    assert.deepEqual(
      (["DEEP_ARCHIVE", "GLACIER", "GLACIER_IR", "STANDARD_IA", "ONEZONE_IA", "STANDARD"] as const).map((c) => transitionDays(c, 730)),
      [0, 0, 0, 30, 30, undefined],
    );
    assert.equal(transitionDays("STANDARD_IA", 30), undefined);
    assert.equal(transitionDays("DEEP_ARCHIVE", 1), 0);
  });
});

describe("plan properties (fast-check)", () => {
  test("for any valid classes on any provider: lock <= expiration = retention, noncurrent expiry >= lock, COMPLIANCE", () => {
    fc.assert(
      fc.property(fc.uniqueArray(retentionClass, { minLength: 1, maxLength: 3, selector: (c) => c.name }), fc.constantFrom(...KINDS), (classes, kind) => {
        const plan = planOffsiteArchive(argsFor(kind, classes));
        for (const [i, c] of plan.classes.entries()) {
          const args = classes[i] as RetentionClassArgs;
          assert.equal(c.expirationDays, args.years !== undefined ? args.years * 365 : args.days);
          assert.ok(c.lockDays <= c.expirationDays, `lock ${c.lockDays} > expiration ${c.expirationDays}`);
          assert.ok(c.noncurrentDays >= c.lockDays, `noncurrent ${c.noncurrentDays} < lock ${c.lockDays}`);
          assert.deepEqual(objectLockRule(c), { defaultRetention: { mode: "COMPLIANCE", days: c.lockDays } });
          const rules = lifecycleRules(c, plan.capabilities);
          const expirations = rules.flatMap((r) => (r.expiration && "days" in r.expiration ? [r.expiration.days] : []));
          assert.deepEqual(expirations, [c.expirationDays], "one expiration, equal to the retention");
          for (const r of rules) {
            if (r.noncurrentVersionExpiration) assert.ok(r.noncurrentVersionExpiration.noncurrentDays >= c.lockDays);
            for (const t of r.transitions ?? []) assert.ok(t.days < c.expirationDays, "transitions happen before expiration");
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test("for any provider, the lifecycle uses only what the provider supports", () => {
    fc.assert(
      fc.property(retentionClass, fc.constantFrom(...KINDS), (cls, kind) => {
        const plan = planOffsiteArchive(argsFor(kind, [cls]));
        const caps = CAPABILITIES[kind];
        const rules = lifecycleRules(plan.classes[0]!, caps);
        const has = (f: (r: (typeof rules)[number]) => boolean) => rules.some(f);
        if (!caps.lifecycle.transitions) assert.ok(!has((r) => r.transitions !== undefined), `${kind} has no transitions`);
        assert.equal(has((r) => r.abortIncompleteMultipartUpload?.daysAfterInitiation === ABORT_INCOMPLETE_UPLOAD_DAYS), caps.lifecycle.abortIncompleteUploads);
        assert.equal(has((r) => r.expiration !== undefined && "expiredObjectDeleteMarker" in r.expiration), caps.lifecycle.expiredDeleteMarkers);
        assert.equal(plan.classes[0]!.storageClass !== undefined, kind === "aws", "only AWS picks a storage class");
        // S3 refuses ExpiredObjectDeleteMarker next to Days in one Expiration.
        for (const r of rules) if (r.expiration) assert.equal(Object.keys(r.expiration).length, 1);
      }),
      { numRuns: 200 },
    );
  });

  test("for any data declared, AWS picks a class no dearer than Deep Archive and Standard for it", () => {
    fc.assert(
      fc.property(retentionClass, (cls) => {
        const plan = planOffsiteArchive(argsFor("aws", [cls]));
        const chosen = plan.cost.declared.classes[0]!.monthly;
        const std = plan.cost.standard.classes[0]!.monthly;
        assert.ok(chosen <= std + 1e-9, `${plan.classes[0]!.storageClass} ${chosen} > Standard ${std}`);
        assert.ok(plan.cost.declared.monthly <= plan.cost.standard.monthly + 1e-9);
      }),
      { numRuns: 200 },
    );
  });
});

describe("argument validation: every problem at once, one line each", () => {
  const base: OffsiteArchiveArgs = { region: "eu-central-1", bucketPrefix: "homelab-offsite" };

  test("valid seed arguments have no problems", () => {
    assert.deepEqual(offsiteArchiveProblems(base), []);
  });

  test("fails when the lock outlasts the retention, or a class has both or neither of years and days", () => {
    assert.deepEqual(offsiteArchiveProblems({ ...base, retentionClasses: [{ name: "monthly", days: 30, lockDays: 31 }] }), [
      "retentionClasses[0].lockDays: 31 is longer than the class's retention of 30 days; expected at most 30, or lifecycle would try to expire locked versions",
    ]);
    assert.deepEqual(offsiteArchiveProblems({ ...base, retentionClasses: [{ name: "monthly", days: 30, years: 1 }, { name: "yearly" }] }), [
      "retentionClasses[0]: has both years and days; expected exactly one of them",
      "retentionClasses[1]: has neither years and days; expected exactly one of them",
    ]);
  });

  test("fails on KMS rotation outside AWS's 90-2560 days, and accepts both bounds", () => {
    for (const ok of [90, 2560]) assert.deepEqual(offsiteArchiveProblems({ ...base, kmsRotationDays: ok }), []);
    for (const bad of [89, 2561, 365.5]) {
      assert.deepEqual(offsiteArchiveProblems({ ...base, kmsRotationDays: bad }), [`kmsRotationDays: ${bad} is invalid; expected a whole number of days from 90 to 2560 (AWS's bounds)`]);
    }
  });

  test("fails on endpoints that are not https, MinIO without one, and AWS with one", () => {
    assert.match(offsiteArchiveProblems({ ...base, provider: "b2", endpoint: "http://s3.example" })[0] ?? "", /^endpoint: "http:\/\/s3.example" is invalid; expected an https:\/\/ URL/);
    assert.deepEqual(offsiteArchiveProblems({ ...base, provider: "minio" }), ["endpoint: is missing; expected the MinIO server's https:// URL"]);
    assert.match(offsiteArchiveProblems({ ...base, endpoint: "https://s3.example" })[0] ?? "", /set for provider aws/);
  });

  test("fails on duplicate classes, unknown allowDestroy names, bad prefixes, storage classes off AWS and bad price overrides", () => {
    const problems = offsiteArchiveProblems({
      provider: "wasabi",
      region: "eu-central-2",
      bucketPrefix: "Homelab",
      retentionClasses: [{ name: "monthly", years: 2, storageClass: "DEEP_ARCHIVE" }, { name: "monthly", years: 3 }],
      allowDestroy: ["homelab-offsite-monthly"],
      prices: { wasabi: { tier: { storagePerGbMonth: -0.1 } } },
    });
    assert.deepEqual(problems, [
      'bucketPrefix: "Homelab" makes invalid bucket names (expected lowercase letters, digits and -, starting and ending with a letter or digit)',
      'retentionClasses[0].storageClass: "DEEP_ARCHIVE" is set for provider wasabi, which has one storage class; expected no storageClass',
      'retentionClasses[1].name: "monthly" is declared twice; expected each class once (one bucket per class)',
      'allowDestroy[0]: "homelab-offsite-monthly" names no bucket of this archive; expected one of Homelab-monthly',
      "prices.wasabi.tier.storagePerGbMonth: -0.1 is invalid; expected a number of 0 or more",
    ]);
    assert.throws(() => planOffsiteArchive({ ...base, kmsRotationDays: 10 }), /^Error: invalid off-site archive arguments:\nkmsRotationDays: 10 is invalid/);
  });

  test("bucket names follow S3's rules", () => {
    assert.equal(bucketNameProblem("homelab-offsite-critical"), undefined);
    assert.match(bucketNameProblem("ab") ?? "", /2 characters/);
    assert.match(bucketNameProblem(`${"a".repeat(60)}-critical`) ?? "", /69 characters/);
    assert.match(bucketNameProblem("xn--bucket") ?? "", /reserves/);
    assert.match(bucketNameProblem("bucket-") ?? "", /ending with a letter or digit/);
  });

  test("the key may be destroyed only when every bucket it encrypts may be", () => {
    const all = planOffsiteArchive({ ...base, retentionClasses: [{ name: "critical", days: 30 }], allowDestroy: ["homelab-offsite-critical"] });
    assert.equal(all.keyAllowDestroy, true);
    const some = planOffsiteArchive({ ...base, allowDestroy: ["homelab-offsite-critical"] });
    assert.equal(some.keyAllowDestroy, false);
  });
});
