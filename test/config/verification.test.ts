import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatProblem, parseStrategy } from "../../config/validate";
import { minimalConfig, withConfig } from "../helpers/config";

function lines(raw: Record<string, unknown>): string[] {
  const r = parseStrategy(raw);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe("verification config", () => {
  test("defaults: restore tests on the first node, scratch ids 9900-9999, the off-site services monthly", () => {
    const r = parseStrategy(minimalConfig());
    assert.ok(r.ok);
    const rt = r.strategy.verification.restoreTests;
    assert.equal(rt.enabled, true);
    assert.equal(rt.node, "pve1");
    assert.deepEqual(rt.scratchVmids, { from: 9900, to: 9999 });
    assert.deepEqual(rt.monthlyServices, ["db"]);
    assert.equal(rt.bootTimeoutMinutes, 10);
    assert.equal(rt.maxBackupAgeMinutes, 7 * 1440);
    assert.equal(rt.weeklyEvent.source, "Sun *-*-* 09:00");
  });

  test("a scratch range that holds a production guest is refused with the guest and its service", () => {
    const out = lines(withConfig((c) => (c.verification = { restoreTests: { scratchVmids: { from: 100, to: 200 } } })));
    assert.deepEqual(out, ['homelab-backup:verification.restoreTests.scratchVmids: 100-200 contains VM 101 of service "db"; expected a range no production guest uses']);
  });

  test("an empty range, an unknown node and an unknown monthly service are each one line", () => {
    const out = lines(
      withConfig((c) => (c.verification = { restoreTests: { scratchVmids: { from: 9999, to: 9900 }, node: "pve9", monthlyServices: ["db", "nope"] } })),
    );
    assert.equal(out.length, 3, out.join("\n"));
    assert.match(out[0]!, /scratchVmids: 9999-9900 is empty; expected from <= to/);
    assert.match(out.join("\n"), /restoreTests\.node: "pve9" is not a PVE node; expected one of pve1/);
    assert.match(out.join("\n"), /monthlyServices\[1\]: "nope" is not a service; expected one of db, apps/);
  });

  test("property: a range is accepted exactly when it is non-empty and holds no production id", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 400 }), fc.integer({ min: 100, max: 400 }), fc.integer({ min: 100, max: 400 }), (from, to, vmid) => {
        const raw = withConfig((c) => {
          c.services[0].guests.vmids = [vmid];
          c.verification = { restoreTests: { scratchVmids: { from, to } } };
        });
        const accepted = parseStrategy(raw).ok;
        assert.equal(accepted, from <= to && (vmid < from || vmid > to));
      }),
      { numRuns: 60 },
    );
  });

  test("service healthcheck URLs must be https", () => {
    const out = lines(withConfig((c) => (c.services[0].healthcheckUrl = "http://hc.test/ping/abc")));
    assert.equal(out.length, 1);
    assert.match(out[0]!, /services\[0\]\.healthcheckUrl: .*expected an https:\/\/ URL/);
  });
});

describe("off-site price overrides", () => {
  test("a known price is taken, as a number", () => {
    const r = parseStrategy(withConfig((c) => (c.offsite = { prices: { aws: { classes: { DEEP_ARCHIVE: { storagePerGbMonth: 0.0018 } } } } })));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.deepEqual(r.strategy.offsite.prices, { aws: { classes: { DEEP_ARCHIVE: { storagePerGbMonth: 0.0018 } } } });
  });

  test("an unknown price or a bad value is one line naming its path", () => {
    assert.deepEqual(lines(withConfig((c) => (c.offsite = { prices: { aws: { classes: { DEEP_ARCHIV: { storagePerGbMonth: 1 } } } } }))), [
      "homelab-backup:offsite.prices.aws.classes.DEEP_ARCHIV: is not in the price table; expected one of STANDARD, STANDARD_IA, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE",
    ]);
    assert.deepEqual(lines(withConfig((c) => (c.offsite = { prices: { aws: { classes: { DEEP_ARCHIVE: { storagePerGbMonth: -1 } } } } }))), [
      "homelab-backup:offsite.prices.aws.classes.DEEP_ARCHIVE.storagePerGbMonth: -1 is invalid; expected a number of 0 or more",
    ]);
  });
});
