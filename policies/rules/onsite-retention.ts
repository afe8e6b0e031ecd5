import { bad, na, ok, type Rule } from "../rule";

export const onsiteRetention: Rule = {
  id: "HB-RET-ONSITE",
  name: "onsite-retention",
  description: "The PBS prune policy of every data class keeps at least the strategy's on-site minimums (daily 7, weekly 4, monthly 12) (AWS Backup's minimum-retention control).",
  fix: "Raise the keep-* values of the datastore's prune job (retention.onsite), or lower the minimum in the policy config with a reason.",
  enforcement: "mandatory",
  check({ classes, config }) {
    return classes.map((c) => {
      const pbs = c.copies.find((x) => x.kind === "pbs-datastore");
      if (!pbs) return na(c.name, "no PBS copy");
      if (!pbs.keep) return bad(c.name, `data class ${c.name}: ${pbs.location} has no prune job, so nothing enforces its retention`);
      const short = (["daily", "weekly", "monthly"] as const).filter((k) => (pbs.keep?.[k] ?? 0) < config.onsite[k]);
      return short.length
        ? bad(c.name, `data class ${c.name}: ${pbs.location} keeps ${short.map((k) => `${k} ${pbs.keep?.[k] ?? 0} (expected at least ${config.onsite[k]})`).join(", ")}`)
        : ok(c.name);
    });
  },
};
