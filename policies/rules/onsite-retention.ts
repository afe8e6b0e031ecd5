import { maxIntervalMinutes, parseCalendarEvent } from "../../config/calendar";
import { bad, na, ok, type Rule } from "../rule";

/** Which GFS buckets a job on this schedule fills: a weekly job has no dailies to keep. */
export function requiredBuckets(schedule: string | undefined): ("daily" | "weekly" | "monthly")[] {
  let interval = 1440;
  try {
    if (schedule) interval = maxIntervalMinutes(parseCalendarEvent(schedule));
  } catch {
    // An unparsable schedule is HB-RPO's finding; judge retention as for a daily job.
  }
  if (interval <= 1440) return ["daily", "weekly", "monthly"];
  if (interval <= 7 * 1440) return ["weekly", "monthly"];
  return ["monthly"];
}

export const onsiteRetention: Rule = {
  id: "HB-RET-ONSITE",
  name: "onsite-retention",
  description: "The PBS prune policy of every data class keeps at least the strategy's on-site minimums (daily 7, weekly 4, monthly 12) for the periods its schedule fills (AWS Backup's minimum-retention control).",
  fix: "Raise the keep-* values of the datastore's prune job (retention.onsite), or lower the minimum in the policy config with a reason.",
  enforcement: "mandatory",
  check({ classes, config }) {
    return classes.map((c) => {
      const pbs = c.copies.find((x) => x.kind === "pbs-datastore");
      if (!pbs) return na(c.name, "no PBS copy");
      if (!pbs.keep) return bad(c.name, `data class ${c.name}: ${pbs.location} has no prune job, so nothing enforces its retention`);
      const short = requiredBuckets(c.schedule).filter((k) => (pbs.keep?.[k] ?? 0) < config.onsite[k]);
      return short.length
        ? bad(c.name, `data class ${c.name}: ${pbs.location} keeps ${short.map((k) => `${k} ${pbs.keep?.[k] ?? 0} (expected at least ${config.onsite[k]})`).join(", ")}`)
        : ok(c.name);
    });
  },
};
