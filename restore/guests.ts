/**
 * Which guests a service covers: the VM ids its config lists, the cluster's guests in its pool or
 * with its tags, and guests that are gone but left backups whose notes name the service (the
 * backup jobs write `service <name>` into every backup's notes). A destroyed guest is exactly
 * the one most likely to need a restore, so it must still be offered.
 */
import type { Service } from "../config/strategy";
import type { BackupEntry, ClusterGuest, GuestType } from "./pve/api";

export interface GuestChoice {
  readonly vmid: number;
  readonly type: GuestType;
  /** Where it runs; undefined when it is not on the cluster. */
  readonly node?: string;
  readonly name?: string;
  readonly status?: string;
  /** Why it belongs to the service. */
  readonly why: string;
}

export function serviceNamedIn(notes: string | undefined, service: string): boolean {
  return notes !== undefined && new RegExp(`(^|\\s)service ${service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s|$)`).test(notes);
}

export function guestsOf(service: Service, cluster: readonly ClusterGuest[], backups: readonly BackupEntry[]): GuestChoice[] {
  const out = new Map<number, GuestChoice>();
  const onCluster = new Map(cluster.filter((g) => !g.template).map((g) => [g.vmid, g]));
  const add = (vmid: number, why: string, type?: GuestType): void => {
    if (out.has(vmid)) return;
    const g = onCluster.get(vmid);
    const fromBackup = backups.find((b) => b.vmid === vmid)?.subtype;
    out.set(vmid, {
      vmid,
      type: g?.type ?? type ?? fromBackup ?? "qemu",
      ...(g ? { node: g.node, status: g.status } : {}),
      ...(g?.name ? { name: g.name } : {}),
      why,
    });
  };
  for (const vmid of service.guests.vmids ?? []) add(vmid, "listed in the config");
  for (const g of onCluster.values()) {
    if (service.guests.pool !== undefined && g.pool === service.guests.pool) add(g.vmid, `in pool ${service.guests.pool}`);
    const tag = service.guests.tags?.find((t) => g.tags.includes(t));
    if (tag !== undefined) add(g.vmid, `tagged ${tag}`);
  }
  for (const b of backups) if (serviceNamedIn(b.notes, service.name)) add(b.vmid, onCluster.has(b.vmid) ? "its backups name the service" : "not on the cluster; its backups name the service", b.subtype);
  return [...out.values()].sort((a, b) => a.vmid - b.vmid);
}
