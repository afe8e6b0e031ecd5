import { firesOnDay, minutesOfDay, parseCalendarEvent, type CalendarEvent } from "../../config/calendar";
import { str, T } from "../../model/resource";
import { bad, ok, type Rule } from "../rule";

/** How long a backup run is assumed to hold its datastore when nothing says otherwise. */
export const BACKUP_WINDOW_MINUTES = 30;
const WEEK = 7 * 1440;

/** Minutes of a reference week (Mon 2024-01-01 ..) at which the event fires. */
export function weekMinutes(event: CalendarEvent): number[] {
  const out: number[] = [];
  for (let d = 0; d < 7; d++) {
    const day = new Date(Date.UTC(2024, 0, 1 + d));
    if (!firesOnDay(event, day)) continue;
    for (const m of minutesOfDay(event)) out.push(d * 1440 + m);
  }
  return out;
}

export const maintenanceWindow: Rule = {
  id: "HB-WINDOW",
  name: "maintenance-outside-backup-window",
  description: "GC, prune and verify runs of a datastore start outside the windows in which backups write to it, so they neither slow the backups nor race them.",
  fix: "Move the datastore's gcSchedule, pruneSchedule or verify schedule to a time no backup job of that datastore runs (for hourly jobs: past the half hour).",
  enforcement: "advisory",
  check({ resources }) {
    const storageToStore = new Map(resources.filter((r) => r.type === T.pveStorage).map((s) => [str(s.props["resourceId"]) ?? s.name, str(s.props["datastore"])]));
    const busy = new Map<string, Uint8Array>();
    for (const job of resources.filter((r) => r.type === T.pveJob)) {
      const store = storageToStore.get(str(job.props["storage"]) ?? "");
      const schedule = str(job.props["schedule"]);
      if (!store || !schedule) continue;
      const minutes = busy.get(store) ?? new Uint8Array(WEEK);
      for (const start of weekMinutes(parseCalendarEvent(schedule))) {
        for (let m = 0; m < BACKUP_WINDOW_MINUTES; m++) minutes[(start + m) % WEEK] = 1;
      }
      busy.set(store, minutes);
    }
    const maintenance = resources.flatMap((r) => {
      if (r.type === T.pbsDatastore) return [{ r, store: str(r.props["name"]), schedule: str(r.props["gcSchedule"]), what: "GC" }];
      if (r.type === T.pbsPrune) return [{ r, store: str(r.props["store"]), schedule: str(r.props["schedule"]), what: "prune" }];
      if (r.type === T.pbsVerify) return [{ r, store: str(r.props["store"]), schedule: str(r.props["schedule"]), what: "verify" }];
      return [];
    });
    return maintenance.map(({ r, store, schedule, what }) => {
      const subject = `${r.type}::${r.name}`;
      const minutes = store ? busy.get(store) : undefined;
      if (!schedule || !minutes) return ok(subject, "no backup writes to this datastore");
      const clash = weekMinutes(parseCalendarEvent(schedule)).find((m) => minutes[m] === 1);
      if (clash === undefined) return ok(subject);
      const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][Math.floor(clash / 1440)];
      const hhmm = `${String(Math.floor((clash % 1440) / 60)).padStart(2, "0")}:${String(clash % 60).padStart(2, "0")}`;
      return bad(subject, `${what} of datastore ${store} (${schedule}) starts ${day} ${hhmm}, inside a backup window`, r.urn);
    });
  },
};
