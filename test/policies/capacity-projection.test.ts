import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { capacityProjection } from "../../policies/rules/capacity-projection";
import { changedShare, keepPoints, projectDatastoreGb, projectServiceGb } from "../../components/pbs/capacity";
import { change, compliantTopology, failures, run } from "./fixture";

const cap = (projectedGb: number, poolGb = 1000) => ({ capacity: { pool: "backup", poolGb, projectedGb, thresholdPercent: 80 } });

test("HB-CAPACITY compliant: both datastores of the pool fit under 80 %", () => {
  const t = change(change(compliantTopology(), "critical-datastore", cap(300)), "homelab-datastore", cap(400));
  assert.deepEqual(failures(capacityProjection, t), []);
  assert.deepEqual(run(capacityProjection, t).map((f) => [f.status, f.message]), [["compliant", "projected 700 GB of 1000 GB (70 %)"]]);
});

test("HB-CAPACITY flags a pool whose datastores together cross the alert", () => {
  const t = change(change(compliantTopology(), "critical-datastore", cap(500)), "homelab-datastore", cap(400));
  assert.deepEqual(failures(capacityProjection, t), [
    "pool backup (datastores critical, homelab) is projected to hold 900 GB of 1000 GB (90 %), at or above the 80 % alert",
  ]);
});

test("HB-CAPACITY boundary: 799 GB passes; exactly 80 % fails, as the capacity alert fires there", () => {
  assert.deepEqual(failures(capacityProjection, change(compliantTopology(), "critical-datastore", cap(799))), []);
  assert.equal(failures(capacityProjection, change(compliantTopology(), "critical-datastore", cap(800))).length, 1);
});

test("HB-CAPACITY is not applicable without a pool size", () => {
  assert.ok(run(capacityProjection, compliantTopology()).every((f) => f.status === "not-applicable"));
});

test("projection: a full copy plus what changed between retained points, never more than a copy per point", () => {
  const keep = { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 };
  assert.equal(keepPoints(keep), 23);
  assert.ok(Math.abs(changedShare(30, 1) - (1 - 0.99 ** 30)) < 1e-12);
  // Newest daily point is the full copy: 6 more daily, 4 weekly, 12 monthly gaps.
  const expected = 100 * (1 + 6 * changedShare(1, 1) + 4 * changedShare(7, 1) + 12 * changedShare(30, 1));
  assert.ok(Math.abs(projectServiceGb({ sizeGb: 100, keep }, 1) - expected) < 1e-9);
  assert.equal(projectServiceGb({ sizeGb: 100, keep: { keepLast: 1 } }, 50), 100);
  assert.equal(projectServiceGb({ sizeGb: 100, keep }, 0), 100, "nothing changes, one copy");
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 12 }), fc.double({ min: 0, max: 100, noNaN: true }), (size, daily, monthly, change) => {
      const k = { keepDaily: daily, keepMonthly: monthly };
      const gb = projectServiceGb({ sizeGb: size, keep: k }, change);
      assert.ok(gb >= size - 1e-9, "at least one full copy");
      assert.ok(gb <= size * keepPoints(k) + 1e-6, "at most one full copy per retained point");
      assert.ok(projectServiceGb({ sizeGb: size, keep: k }, Math.min(change + 1, 100)) >= gb - 1e-9, "more change never takes less space");
      assert.equal(projectDatastoreGb([{ sizeGb: size, keep: k }, { sizeGb: size, keep: k }], change), Math.ceil(2 * gb));
    }),
  );
});
