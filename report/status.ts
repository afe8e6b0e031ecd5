/**
 * Where each service stands now: its newest backup per guest against its tier's RPO, and the
 * verification state of its snapshots.
 *
 * PBS lists a snapshot only once it is finished, under its start time, so the newest one of a
 * healthy hourly job can be an hour plus the job's own duration old: a backup is fresh while its
 * age is within the RPO plus the service's expected duration.
 */
import type { Service, Strategy } from "../config/strategy";
import type { Attribution } from "./attribution";
import { outcomeOf, serviceTasks, type Outcome } from "./jobs";
import type { PbsSnapshot, PbsTask } from "./pbs-source";

export interface GuestFreshness {
  guest: string;
  /** Unix seconds of its newest snapshot; undefined when PBS has none. */
  newest?: number;
  fresh: boolean;
}

export interface ServiceStatus {
  service: Service;
  snapshots: number;
  newest?: number;
  oldest?: number;
  /** Seconds a newest backup may be old and still fresh. */
  allowedSeconds: number;
  status: "fresh" | "stale" | "none";
  guests: GuestFreshness[];
  /** The guest whose newest backup is oldest (or missing). */
  stalest?: GuestFreshness;
  lastTask?: { at: number; outcome: Outcome; status?: string };
  verification: { failed: PbsSnapshot[]; newestOk?: number };
}

export function serviceStatus(strategy: Strategy, service: Service, snapshots: readonly PbsSnapshot[], tasks: readonly PbsTask[], attribution: Attribution, now: number): ServiceStatus {
  const own = snapshots.filter((s) => attribution.serviceOfSnapshot(s) === service);
  const allowedSeconds = (service.tier.rpoMinutes + service.expectedDurationMinutes) * 60;
  const guests = attribution.guestsOf(service).map((guest): GuestFreshness => {
    const times = own.filter((s) => `${s.type}/${s.id}` === guest).map((s) => s.time);
    const newest = times.length ? Math.max(...times) : undefined;
    return { guest, ...(newest !== undefined ? { newest } : {}), fresh: newest !== undefined && now - newest <= allowedSeconds };
  });
  const stalest = [...guests].sort((a, b) => (a.newest ?? -Infinity) - (b.newest ?? -Infinity))[0];
  const newest = own.length ? Math.max(...own.map((s) => s.time)) : undefined;
  const oldest = own.length ? Math.min(...own.map((s) => s.time)) : undefined;
  const last = serviceTasks(tasks, attribution, service).sort((a, b) => b.start - a.start)[0];
  const verified = own.filter((s) => s.verification === "ok").map((s) => s.time);
  return {
    service,
    snapshots: own.length,
    ...(newest !== undefined ? { newest } : {}),
    ...(oldest !== undefined ? { oldest } : {}),
    allowedSeconds,
    status: own.length === 0 ? "none" : guests.every((g) => g.fresh) ? "fresh" : "stale",
    guests,
    ...(stalest ? { stalest } : {}),
    ...(last ? { lastTask: { at: last.start, outcome: outcomeOf(last), ...(last.status !== undefined ? { status: last.status } : {}) } } : {}),
    verification: {
      failed: own.filter((s) => s.verification === "failed").sort((a, b) => b.time - a.time),
      ...(verified.length ? { newestOk: Math.max(...verified) } : {}),
    },
  };
}
