import { restoreTestCoverage } from "../../model/restore-tests";
import { bad, na, ok, type Rule } from "../rule";

export { RESTORE_TEST_TYPE } from "../../model/restore-tests";

export const restoreTest: Rule = {
  id: "HB-RESTORE",
  name: "restore-test-for-critical",
  description:
    "The strategy's 0 in 3-2-1-1-0: critical data is proven restorable on a schedule. A critical service's guests are restored in full every month (and drawn at random weekly), an agent's database dumps are restored into scratch databases, and its files are extracted by borgmatic's extract check.",
  fix: "Keep verification.restoreTests enabled and the service in verification.restoreTests.monthlyServices; for agents, keep their databases and borgmatic's extract check.",
  enforcement: "mandatory",
  check({ classes, resources, config }) {
    const coverage = restoreTestCoverage(resources);
    return classes.map((c) => {
      if (!c.tier || !config.restoreTestTiers.includes(c.tier)) return na(c.name, `tier ${c.tier ?? "unknown"} needs no restore test`);
      if (c.kind === "service") {
        if (coverage.monthly.has(c.name)) return ok(c.name, "restored in full monthly, drawn at random weekly");
        if (coverage.weekly.has(c.name)) return bad(c.name, `data class ${c.name} (tier ${c.tier}) is only in the weekly random draw; the monthly full restore test does not cover it`);
        return bad(c.name, `data class ${c.name} (tier ${c.tier}) has no restore test`);
      }
      const agent = c.name.split("/")[0] as string;
      if (c.kind === "database-dumps") {
        return coverage.databaseAgents.has(agent) ? ok(c.name, "dumps restored into scratch databases monthly") : bad(c.name, `data class ${c.name} (tier ${c.tier}) has no database restore test`);
      }
      const extracted = c.copies.some((x) => x.kind === "borg-repository" && /\bextract every\b/.test(x.verification));
      return extracted ? ok(c.name, "borgmatic's extract check restores the archive") : bad(c.name, `data class ${c.name} (tier ${c.tier}) is never extracted (no borgmatic extract check)`);
    });
  },
};
