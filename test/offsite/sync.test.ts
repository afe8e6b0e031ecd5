import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { describeOffsiteSync, describeOffsiteSyncs } from "../../components/offsite/sync";
import { planOffsiteArchive } from "../../components/offsite/plan";
import { parseCalendarEvent } from "../../config/calendar";

const DATASETS = [
  { dataset: "tank/replica/critical", critical: true },
  { dataset: "tank/replica/homelab", critical: false },
];

describe("off-site sync description", () => {
  test("COPY and PUSH, critical datasets only, monthly first Sunday 04:00, rclone crypt of names and contents", () => {
    assert.deepEqual(describeOffsiteSync({ retentionClass: "critical", bucket: "homelab-offsite-critical", datasets: DATASETS, storageClass: "DEEP_ARCHIVE" }), {
      transferMode: "COPY",
      direction: "PUSH",
      bucket: "homelab-offsite-critical",
      folder: "",
      datasets: ["tank/replica/critical"],
      schedule: "Sun *-*-01..07 04:00",
      encryption: { enabled: true, filenameEncryption: true },
      storageClass: "DEEP_ARCHIVE",
      description: "homelab-backup: off-site critical archive of tank/replica/critical",
    });
  });

  test("the default monthly schedule fires on the first Sunday of each month at 04:00; the yearly one in January only", () => {
    const monthly = parseCalendarEvent(describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets: DATASETS }).schedule);
    assert.deepEqual([monthly.weekdays, monthly.days, monthly.months.length, monthly.hours, monthly.minutes], [[0], [1, 2, 3, 4, 5, 6, 7], 12, [4], [0]]);
    const yearly = parseCalendarEvent(describeOffsiteSync({ retentionClass: "yearly", bucket: "b", datasets: DATASETS }).schedule);
    assert.deepEqual([yearly.weekdays, yearly.days, yearly.months, yearly.hours], [[0], [1, 2, 3, 4, 5, 6, 7], [1], [4]]);
  });

  test("encryption can be turned off, or names left readable, but names cannot be encrypted without contents", () => {
    assert.deepEqual(describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets: DATASETS, encrypt: false }).encryption, { enabled: false, filenameEncryption: false });
    assert.deepEqual(describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets: DATASETS, encryptFilenames: false }).encryption, { enabled: true, filenameEncryption: false });
    assert.throws(() => describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets: DATASETS, encrypt: false, encryptFilenames: true }), /encryptFilenames is true but encrypt is false/);
  });

  test("fails when nothing is critical, or the schedule is not a calendar event", () => {
    assert.throws(() => describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets: [DATASETS[1]!] }), /none of tank\/replica\/homelab is critical; expected at least one critical dataset/);
    assert.throws(() => describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets: DATASETS, schedule: "0 4 * * 0" }), /schedule "0 4 \* \* 0" is invalid/);
  });

  test("property: whatever the datasets, the task copies (never syncs), pushes, and carries exactly the critical ones", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ dataset: fc.stringMatching(/^tank\/[a-z]{1,8}$/), critical: fc.boolean() }), { minLength: 1, maxLength: 6 }), (datasets) => {
        const critical = datasets.filter((d) => d.critical).map((d) => d.dataset);
        if (critical.length === 0) {
          assert.throws(() => describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets }));
          return;
        }
        const spec = describeOffsiteSync({ retentionClass: "monthly", bucket: "b", datasets });
        assert.equal(spec.transferMode, "COPY");
        assert.equal(spec.direction, "PUSH");
        assert.deepEqual(spec.datasets, critical);
      }),
    );
  });

  test("one task per planned class, into its bucket, uploading straight into its storage class on AWS and the provider's class elsewhere", () => {
    const aws = planOffsiteArchive({ region: "eu-central-1", bucketPrefix: "homelab-offsite" });
    assert.deepEqual(
      describeOffsiteSyncs(aws.classes, DATASETS).map((s) => [s.bucket, s.storageClass, s.schedule]),
      [
        ["homelab-offsite-monthly", "DEEP_ARCHIVE", "Sun *-*-01..07 04:00"],
        ["homelab-offsite-yearly", "DEEP_ARCHIVE", "Sun *-01-01..07 04:00"],
        ["homelab-offsite-critical", "DEEP_ARCHIVE", "Sun *-*-01..07 04:00"],
      ],
    );
    const b2 = planOffsiteArchive({ provider: "b2", region: "us-west-004", bucketPrefix: "hl" });
    assert.deepEqual(
      describeOffsiteSyncs(b2.classes, DATASETS, { schedules: { critical: "Sun *-*-08..14 04:00" }, folder: "nas" }).map((s) => [s.storageClass, s.folder, s.schedule]),
      [
        ["", "nas", "Sun *-*-01..07 04:00"],
        ["", "nas", "Sun *-01-01..07 04:00"],
        ["", "nas", "Sun *-*-08..14 04:00"],
      ],
    );
  });
});
