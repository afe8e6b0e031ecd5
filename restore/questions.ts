/**
 * The four decisions of a restore (service, guest, point, target), each taken from its flag when
 * given, asked when a person is there, and otherwise an error naming the missing flag.
 */
import type { Service, Strategy } from "../config/strategy";
import { parseAt, parseVmid } from "./args";
import { badValue, missing, UsageError } from "./errors";
import type { GuestChoice } from "./guests";
import { isoUtc } from "./format";
import { chooseAt, chooseLatest, type Choice, type ReplicaLookup } from "./point-in-time";
import { describePoint, isUsable, type RestorePoint } from "./points";
import type { Asker } from "./prompts";
import type { ClusterGuest } from "./pve/api";
import { configuredVmids, findService } from "./stack";

const NO_TERMINAL = "(--yes, or no terminal to ask on)";

export async function decideService(strategy: Strategy, flag: string | undefined, asker: Asker | undefined): Promise<Service> {
  if (flag !== undefined) return findService(strategy, flag);
  const names = strategy.services.map((s) => s.name).join(", ");
  if (!asker) throw missing("--service", `one of ${names} ${NO_TERMINAL}`);
  return asker.select(
    "Which service?",
    strategy.services.map((s) => ({
      name: `${s.name} (${s.tier.name}, RTO ${s.tier.rto})`,
      value: s,
      ...(s.description ? { description: s.description } : {}),
    })),
  );
}

export async function decideGuest(service: Service, guests: readonly GuestChoice[], counts: ReadonlyMap<number, number>, flag: number | undefined, asker: Asker | undefined): Promise<GuestChoice> {
  const ids = guests.map((g) => g.vmid).join(", ") || "none";
  if (flag !== undefined) {
    const guest = guests.find((g) => g.vmid === flag);
    if (!guest) throw badValue("--guest", String(flag), `one of ${ids}`, `is not a guest of service ${service.name}`);
    return guest;
  }
  if (guests.length === 0) throw new UsageError(`--service: ${JSON.stringify(service.name)} has no guests on the cluster and no backups; expected a service with guests`);
  if (!asker) throw missing("--guest", `one of ${ids} ${NO_TERMINAL}`);
  return asker.select(
    `Which guest of ${service.name}?`,
    guests.map((g) => ({
      name: `${g.vmid}${g.name ? ` ${g.name}` : ""} · ${g.node ? `${g.status ?? "?"} on ${g.node}` : "not on the cluster"} · ${counts.get(g.vmid) ?? 0} backups`,
      value: g,
      description: g.why,
    })),
  );
}

const TIME = Symbol("time");

/** The point: `--at` (latest or a time, searched across PBS and the replica), or picked from the list. */
export async function decidePoint(
  service: Service,
  points: readonly RestorePoint[],
  at: Date | "latest" | undefined,
  asker: Asker | undefined,
  replica: () => Promise<ReplicaLookup>,
  now: () => Date,
): Promise<{ choice: Choice; requested: string }> {
  if (at === "latest") return { choice: chooseLatest(points), requested: "latest" };
  if (at instanceof Date) return { choice: await chooseAt(service, points, at, replica), requested: isoUtc(at) };
  if (!asker) throw missing("--at", `latest, or a time such as 2026-11-27T02:00:00Z ${NO_TERMINAL}`);
  const picked = await asker.select<RestorePoint | typeof TIME>(
    `Which restore point? (${points.length} on PBS, newest first)`,
    [
      ...points.map((p) => ({
        name: describePoint(p, now(), false),
        value: p as RestorePoint | typeof TIME,
        description: `${p.volid}${p.notes ? `\nnotes: ${p.notes}` : ""}`,
        ...(isUsable(p) ? {} : { disabled: "its verification failed" }),
      })),
      { name: "A point in time… (also searches the TrueNAS replica for points PBS has pruned)", value: TIME },
    ],
  );
  if (picked !== TIME) return { choice: { copy: "pbs", point: picked, why: "chosen from the list of backups on PBS", notes: [] }, requested: "chosen" };
  const text = await asker.input("Restore to the newest point at or before (UTC, e.g. 2026-11-27 02:00):", {
    validate: (v) => {
      try {
        parseAt(v, now());
        return true;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  });
  const when = parseAt(text, now());
  if (when === "latest") return { choice: chooseLatest(points), requested: "latest" };
  return { choice: await chooseAt(service, points, when, replica), requested: isoUtc(when) };
}

/** Why a VM id is production: listed by a service, or a guest the cluster has. */
export function productionReason(vmid: number, strategy: Strategy, cluster: readonly ClusterGuest[]): string | undefined {
  const listed = configuredVmids(strategy).get(vmid);
  if (listed !== undefined) return `listed in the config for service ${listed}`;
  const g = cluster.find((c) => c.vmid === vmid);
  if (g) return `it exists on the cluster${g.name ? ` as ${g.name}` : ""} on ${g.node}`;
  return undefined;
}

/** The first id from PVE's next free id on that neither the cluster nor the config uses. */
export function proposeNewId(start: number, strategy: Strategy, cluster: readonly ClusterGuest[]): number {
  let id = Math.max(100, start);
  while (productionReason(id, strategy, cluster) !== undefined) id++;
  return id;
}

export async function decideTarget(
  strategy: Strategy,
  guest: GuestChoice,
  cluster: readonly ClusterGuest[],
  flags: { target?: "new" | "in-place"; newId?: number },
  asker: Asker | undefined,
  proposal: () => Promise<number>,
): Promise<{ mode: "new" | "in-place"; vmid: number }> {
  let mode = flags.target;
  if (mode === undefined) {
    if (!asker) throw missing("--target", `new (a new guest id, the safe default) or in-place ${NO_TERMINAL}`);
    mode = await asker.select<"new" | "in-place">(
      "Restore where?",
      [
        { name: "To a new guest id (safe: the copy starts with its network disconnected)", value: "new" },
        {
          name: guest.node ? `In place over ${guest.vmid} (safety backup first, automatic rollback on failure)` : `As ${guest.vmid} (it is not on the cluster)`,
          value: "in-place",
        },
      ],
      "new",
    );
  }
  if (mode === "in-place") return { mode, vmid: guest.vmid };
  const refuse = (id: number): string | undefined => {
    const why = productionReason(id, strategy, cluster);
    return why ? `${id} is a production guest (${why})` : undefined;
  };
  if (flags.newId !== undefined) {
    const why = refuse(flags.newId);
    if (why) throw badValue("--new-id", String(flags.newId), `a free id such as ${await proposal()}`, why.replace(/^\d+ /, ""));
    return { mode, vmid: flags.newId };
  }
  const proposed = await proposal();
  if (!asker) return { mode, vmid: proposed };
  const answer = await asker.input("New guest id:", {
    default: String(proposed),
    validate: (v) => {
      try {
        const id = parseVmid("new guest id", v);
        return refuse(id) ?? true;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  });
  return { mode, vmid: parseVmid("--new-id", answer) };
}
