import { counts } from "../../model";
import { bad, na, ok, type Rule } from "../rule";

export const immutableCopy: Rule = {
  id: "HB-IMMUTABLE",
  name: "immutable-copy-for-critical",
  description: "3-2-1-1: critical data has at least one immutable or offline copy (S3 Object Lock in compliance mode, a read-only replica), so ransomware with admin rights cannot delete every copy.",
  fix: "Sync the class off-site to a bucket with Object Lock in COMPLIANCE mode, or make its TrueNAS replica read-only.",
  enforcement: "mandatory",
  check({ classes, config }) {
    return classes.map((c) => {
      if (!c.tier || !config.immutableTiers.includes(c.tier)) return na(c.name, `tier ${c.tier ?? "unknown"} needs no immutable copy`);
      return counts(c).immutable > 0 ? ok(c.name) : bad(c.name, `data class ${c.name} (tier ${c.tier}) has no immutable or offline copy`);
    });
  },
};
