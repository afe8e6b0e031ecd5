import { bad, na, ok, type Rule } from "../rule";

/** The retention class a bucket holds, from its `<prefix>-<class>` name. */
export function bucketClass(location: string): "monthly" | "yearly" | "critical" | undefined {
  const m = /-(monthly|yearly|critical)$/.exec(location);
  return m ? (m[1] as "monthly" | "yearly" | "critical") : undefined;
}

export const offsiteRetention: Rule = {
  id: "HB-RET-OFFSITE",
  name: "offsite-retention",
  description: "Every off-site copy is kept at least as long as its class promises (monthly 2 y, yearly 5 y, critical 7 y), and its Object Lock never outlasts its expiration (a lock past expiry keeps paying for data nobody may delete).",
  fix: "Set the bucket's lifecycle expiration to the class's retention (retention.offsite), and its lock period to at most that.",
  enforcement: "mandatory",
  check({ classes, config }) {
    return classes.flatMap((c) =>
      c.copies
        .filter((x) => x.kind === "offsite-bucket")
        .map((x) => {
          const subject = `${c.name} @ ${x.location}`;
          const cls = bucketClass(x.location);
          if (!cls) return na(subject, "bucket name names no retention class");
          const min = config.offsiteDays[cls];
          if (x.retentionDays === undefined) return bad(subject, `data class ${c.name}: ${x.location} has no lifecycle expiration; expected ${min} days`);
          if (x.retentionDays < min) return bad(subject, `data class ${c.name}: ${x.location} keeps ${x.retentionDays} days; the ${cls} class promises ${min}`);
          if (x.lockDays !== undefined && x.lockDays > x.retentionDays) {
            return bad(subject, `data class ${c.name}: ${x.location} locks ${x.lockDays} days, longer than its ${x.retentionDays}-day expiration`);
          }
          return ok(subject);
        }),
    );
  },
};
