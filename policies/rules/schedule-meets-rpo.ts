import { maxIntervalMinutes, parseCalendarEvent } from "../../config/calendar";
import { formatDuration } from "../../config/duration";
import { bad, ok, type Rule } from "../rule";

export const scheduleMeetsRpo: Rule = {
  id: "HB-RPO",
  name: "schedule-meets-rpo",
  description: "Each service's backup job runs at least as often as its tier's RPO allows (AWS Backup's minimum-frequency control).",
  fix: "Make the job's schedule more frequent, or move the service to a tier whose RPO the schedule meets.",
  enforcement: "mandatory",
  check({ classes, config }) {
    return classes.map((c) => {
      const tier = c.tier ? config.tiers[c.tier] : undefined;
      if (!tier) return bad(c.name, `data class ${c.name}: tier ${c.tier ?? "(none in the job notes)"} has no RPO in the policy config`);
      if (!c.schedule) return bad(c.name, `data class ${c.name}: its job has no schedule`);
      let interval: number;
      try {
        interval = maxIntervalMinutes(parseCalendarEvent(c.schedule));
      } catch (e) {
        return bad(c.name, `data class ${c.name}: schedule ${JSON.stringify(c.schedule)} is not a calendar event (${(e as Error).message})`);
      }
      return interval > tier.rpoMinutes
        ? bad(c.name, `data class ${c.name}: ${JSON.stringify(c.schedule)} leaves up to ${formatDuration(interval)} between backups; tier ${c.tier}'s RPO is ${formatDuration(tier.rpoMinutes)}`)
        : ok(c.name);
    });
  },
};
