import { counts } from "../../model";
import { bad, ok, type Rule } from "../rule";

export const threeTwoOne: Rule = {
  id: "HB-321",
  name: "three-two-one",
  description: "Every data class has at least 3 copies (the original counts) on at least 2 media, with at least 1 off-site, unless its tier is declared on-site only with a reason.",
  fix: "Add the missing copy: a PBS datastore for the service, the TrueNAS replication of its datastore, or put the service on the off-site datastore. For an on-site-only tier, set tiers.<tier>.onsiteOnlyReason in the policy config.",
  enforcement: "mandatory",
  check({ classes, config }) {
    return classes.map((c) => {
      const n = counts(c);
      const onsiteOnly = c.tier ? config.tiers[c.tier]?.onsiteOnlyReason : undefined;
      const missing: string[] = [];
      if (n.copies < config.minCopies) missing.push(`${n.copies} copies, expected at least ${config.minCopies}`);
      if (n.media < config.minMedia) missing.push(`${n.media} media, expected at least ${config.minMedia}`);
      if (n.offsite < config.minOffsite && !onsiteOnly) missing.push(`${n.offsite} off-site, expected at least ${config.minOffsite}`);
      return missing.length ? bad(c.name, `data class ${c.name} has ${missing.join("; ")}`) : ok(c.name);
    });
  },
};
