/**
 * Which service a PBS snapshot or task belongs to. PBS knows guests, not services, and a pool-
 * or tag-selected service's guests are resolved by PVE, so the evidence is tried in order:
 * 1. the snapshot's notes, which every vzdump job writes as `… · service <name> · tier <tier>`;
 * 2. the service's configured VM ids on its datastore and namespace;
 * 3. the only service writing to that datastore and namespace.
 * Tasks carry no notes, so a task's guest is looked up in what the snapshots taught.
 */
import type { Service, Strategy } from "../config/strategy";
import type { PbsSnapshot, PbsTask } from "./pbs-source";

export type JobType = "backup" | "prune" | "garbage collection" | "verify" | "sync";

const JOB_TYPES: Record<string, JobType> = {
  backup: "backup",
  prune: "prune",
  prunejob: "prune",
  garbage_collection: "garbage collection",
  verify: "verify",
  verificationjob: "verify",
  verify_group: "verify",
  verify_snapshot: "verify",
  sync: "sync",
  syncjob: "sync",
};

/** The job type of a PBS worker type; restores (`reader`) and housekeeping are not jobs here. */
export function jobTypeOf(workerType: string): JobType | undefined {
  return JOB_TYPES[workerType];
}

export interface BackupTarget {
  store: string;
  ns: string;
  /** `vm/101`. */
  guest: string;
}

/** `<store>:<ns>/vm/<id>` or `<store>:vm/<id>` (namespaces nest: `a/b/vm/100`). */
export function parseBackupWorkerId(workerId: string): BackupTarget | undefined {
  const m = /^([^:]+):(?:(.+)\/)?(vm|ct|host)\/([^/]+)$/.exec(workerId);
  if (!m) return undefined;
  return { store: m[1] as string, ns: m[2] ?? "", guest: `${m[3]}/${m[4]}` };
}

/** The datastore a maintenance task ran on: its worker id names it, first for most types. */
export function storeOfTask(task: PbsTask, stores: readonly string[]): string | undefined {
  const parts = task.workerId.split(":");
  return parts.find((p) => stores.includes(p)) ?? (parts[0] || undefined);
}

const guestKey = (store: string, ns: string, guest: string) => `${store}\u0000${ns}\u0000${guest}`;

export interface Attribution {
  serviceOfSnapshot(snapshot: PbsSnapshot): Service | undefined;
  serviceOfTask(task: PbsTask): Service | undefined;
  /** Guests seen per service (`vm/101`), configured VM ids included. */
  guestsOf(service: Service): string[];
  /** Snapshots no rule could place, for the report's notes. */
  unattributed: PbsSnapshot[];
}

export function attribute(strategy: Strategy, snapshots: readonly PbsSnapshot[], tasks: readonly PbsTask[]): Attribution {
  const byName = new Map(strategy.services.map((s) => [s.name, s]));
  const at = (store: string, ns: string) => strategy.services.filter((s) => s.datastore === store && (s.namespace ?? "") === ns);
  const byVmid = (store: string, ns: string, guest: string) => {
    const id = Number(guest.split("/")[1]);
    return at(store, ns).find((s) => s.guests.vmids?.includes(id));
  };
  const only = (store: string, ns: string) => {
    const here = at(store, ns);
    return here.length === 1 ? here[0] : undefined;
  };

  const learned = new Map<string, Service>();
  const ofSnapshot = new Map<PbsSnapshot, Service>();
  const unattributed: PbsSnapshot[] = [];
  // Oldest first, so the newest notes win when a guest changed service.
  for (const snap of [...snapshots].sort((a, b) => a.time - b.time)) {
    const guest = `${snap.type}/${snap.id}`;
    const named = /(?:^|\s)service (\S+)/.exec(snap.comment ?? "")?.[1];
    const service = (named ? byName.get(named) : undefined) ?? byVmid(snap.store, snap.ns, guest) ?? only(snap.store, snap.ns);
    if (!service) {
      unattributed.push(snap);
      continue;
    }
    ofSnapshot.set(snap, service);
    learned.set(guestKey(snap.store, snap.ns, guest), service);
  }

  const ofTask = new Map<PbsTask, Service>();
  for (const task of tasks) {
    if (jobTypeOf(task.workerType) !== "backup") continue;
    const target = parseBackupWorkerId(task.workerId);
    if (!target) continue;
    const service = learned.get(guestKey(target.store, target.ns, target.guest)) ?? byVmid(target.store, target.ns, target.guest) ?? only(target.store, target.ns);
    if (service) ofTask.set(task, service);
  }

  const guests = new Map<string, Set<string>>();
  for (const s of strategy.services) guests.set(s.name, new Set((s.guests.vmids ?? []).map((id) => `vm/${id}`)));
  const seen = (service: Service, guest: string) => {
    const set = guests.get(service.name) as Set<string>;
    // A configured CT id shows up as ct/<id>: it replaces the vm/<id> guess.
    const id = guest.split("/")[1];
    if (!guest.startsWith("vm/")) set.delete(`vm/${id}`);
    set.add(guest);
  };
  for (const [snap, service] of ofSnapshot) seen(service, `${snap.type}/${snap.id}`);
  for (const [task, service] of ofTask) seen(service, (parseBackupWorkerId(task.workerId) as BackupTarget).guest);

  return {
    serviceOfSnapshot: (s) => ofSnapshot.get(s),
    serviceOfTask: (t) => ofTask.get(t),
    guestsOf: (s) => [...(guests.get(s.name) ?? [])].sort((a, b) => a.localeCompare(b, "en", { numeric: true })),
    unattributed,
  };
}
