import { counts } from "../../model";
import { bad, na, type Rule } from "../rule";

/** Not a failure: the strategy's "critical data only off-site" made visible, class by class. */
export const onsiteOnlyDeclared: Rule = {
  id: "HB-321-ONSITE",
  name: "onsite-only-declared",
  description: "Reports each data class that keeps no off-site copy because its tier is declared on-site only, so the exception is read in every review instead of passing silently.",
  fix: "Nothing to fix if the reason still holds; otherwise move the service to the off-site datastore or a tier that goes off-site.",
  enforcement: "advisory",
  check({ classes, config }) {
    return classes.map((c) => {
      const reason = c.tier ? config.tiers[c.tier]?.onsiteOnlyReason : undefined;
      if (!reason || counts(c).offsite > 0) return na(c.name, "goes off-site or is not declared on-site only");
      return bad(c.name, `data class ${c.name} (tier ${c.tier}) has no off-site copy by declaration: ${reason}`);
    });
  },
};
