import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { restoreTestUnit } from "../../stacks/verification";

test("restore-test unit names are systemd-safe for every storage id config allows", () => {
  assert.equal(restoreTestUnit("pbs-backup-critical"), "homelab-backup-restore-test-pbs-backup-critical");
  assert.equal(restoreTestUnit("PBS_backup.Homelab"), "homelab-backup-restore-test-pbs-backup-homelab");
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{1,31}$/), (id) => {
      assert.match(restoreTestUnit(id), /^[a-z][a-z0-9-]{0,80}$/);
    }),
  );
});
