import { ResourceIndex } from "../../model/resource";
import { bad, na, ok, type Rule } from "../rule";

/** Restore tests are declared by the verification component as `homelab:verify:RestoreTest`. */
export const RESTORE_TEST_TYPE = "homelab:verify:RestoreTest";

export const restoreTest: Rule = {
  id: "HB-RESTORE",
  name: "restore-test-for-critical",
  description: "The strategy's 0 in 3-2-1-1-0: critical tiers have a scheduled restore test that proves a backup boots within the tier's RTO.",
  fix: "Declare the weekly and monthly restore tests (verification and monitoring) for the critical services.",
  // Advisory until the restore-test component lands; then mandatory.
  enforcement: "advisory",
  check({ classes, resources, config }) {
    const tests = new ResourceIndex(resources).of(RESTORE_TEST_TYPE);
    return classes.map((c) => {
      if (!c.tier || !config.restoreTestTiers.includes(c.tier)) return na(c.name, `tier ${c.tier ?? "unknown"} needs no restore test`);
      return tests.length > 0 ? ok(c.name) : bad(c.name, `data class ${c.name} (tier ${c.tier}) has no restore test`);
    });
  },
};
