/**
 * The TrueNAS replica of a datastore: its ZFS snapshots (the point-in-time copies the restore can
 * fall back to) and the exact steps that make one readable by PVE. Mounting a replica is left to
 * a person on purpose: it touches the NAS, the PBS host and the cluster, and a mistake there can
 * damage the only copy of a pruned point.
 */
import type { Service, Strategy } from "../config/strategy";
import { TruenasApiError } from "../components/truenas/errors";
import { TruenasClient } from "../components/truenas/client";
import { isRecord } from "../components/pbs/client";
import { isoUtc, shortUtc } from "./format";
import type { Choice, ReplicaLookup, ReplicaSnapshot } from "./point-in-time";

export interface TruenasAccess {
  readonly url: string;
  readonly username: string;
  readonly apiKey: string;
  readonly fingerprint?: string;
}

/** The NAS from the stack file; the key from `TRUENAS_API_KEY` (TrueNAS revokes a key that leaks, so it never sits in a file here). */
export function truenasAccess(strategy: Strategy, env: NodeJS.ProcessEnv): { ok: true; access: TruenasAccess } | { ok: false; why: string } {
  const apiKey = env.TRUENAS_API_KEY;
  if (apiKey === undefined || apiKey === "") return { ok: false, why: "TRUENAS_API_KEY is not set" };
  const nas = strategy.hosts.truenas;
  return {
    ok: true,
    access: { url: env.TRUENAS_URL || `wss://${nas.host}`, username: nas.apiUser, apiKey, ...(nas.fingerprint ? { fingerprint: nas.fingerprint } : {}) },
  };
}

/** ZFS `creation`, in the shapes the middleware returns it; the snapshot name (`auto-%Y-%m-%d_%H-%M`, UTC) as a last resort. */
export function creationOf(row: Record<string, unknown>): Date | undefined {
  const creation = isRecord(row.properties) && isRecord(row.properties.creation) ? row.properties.creation : undefined;
  const parsed = creation?.parsed;
  if (isRecord(parsed) && typeof parsed.$date === "number") return new Date(parsed.$date);
  if (typeof parsed === "number") return new Date(parsed * 1000);
  if (typeof creation?.rawvalue === "string" && /^\d+$/.test(creation.rawvalue)) return new Date(Number(creation.rawvalue) * 1000);
  const name = typeof row.snapshot_name === "string" ? row.snapshot_name : String(row.name ?? "").split("@")[1] ?? "";
  const m = /(\d{4})-(\d\d)-(\d\d)_(\d\d)-(\d\d)/.exec(name);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]))) : undefined;
}

/**
 * `pool.snapshot.query` (the public name since 24.10; this project needs 25.04 or newer), with
 * the older `zfs.snapshot.query` when the NAS does not know the first.
 */
export async function lookupReplica(access: TruenasAccess, dataset: string): Promise<ReplicaLookup> {
  let client: TruenasClient | undefined;
  try {
    client = new TruenasClient({ ...access, connectTimeoutMs: 10_000, callTimeoutMs: 30_000 });
    const filters = [["dataset", "=", dataset]];
    let rows: unknown;
    try {
      rows = await client.call("pool.snapshot.query", [filters]);
    } catch (error) {
      if (!(error instanceof TruenasApiError && error.rpcCode === -32601)) throw error;
      rows = await client.call("zfs.snapshot.query", [filters]);
    }
    const snapshots: ReplicaSnapshot[] = [];
    for (const row of Array.isArray(rows) ? rows : []) {
      if (!isRecord(row)) continue;
      const name = typeof row.name === "string" ? row.name : typeof row.id === "string" ? row.id : undefined;
      const createdAt = creationOf(row);
      if (name === undefined || createdAt === undefined || (row.dataset !== undefined && row.dataset !== dataset)) continue;
      snapshots.push({ name, createdAt });
    }
    return { ok: true, dataset, snapshots };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return { ok: false, dataset, why: client ? client.redact(text) : text.split(access.apiKey).join("***") };
  } finally {
    client?.close();
  }
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9@%_+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The steps that make a replica snapshot restorable, with this stack's names filled in. */
export function mountSteps(
  strategy: Strategy,
  stackName: string,
  service: Service,
  vmid: number,
  storage: string,
  choice: Extract<Choice, { copy: "replica" }>,
): string[] {
  const nas = strategy.hosts.truenas;
  const pbs = strategy.hosts.pbs;
  const store = `restore-${service.datastore}`.slice(0, 32);
  const clone = `${nas.pool}/${store}`;
  const mnt = `/mnt/${store}`;
  // PVE's token rotates by epoch name, so the steps read the one the storage holds now.
  const tokenOf = `pvesh get /storage/${storage} --output-format json | jq -r .username`;
  const ns = service.namespace ? ` --namespace ${service.namespace}` : "";
  const nfs = JSON.stringify({ path: `/mnt/${clone}`, hosts: [pbs.backupAddress], maproot_user: "root", maproot_group: "root", ro: false });
  return [
    `The ${shortUtc(choice.run)} point is only on the TrueNAS replica. Make the snapshot readable as a PBS datastore, then restore from it.`,
    "This tool does not do it for you: it touches the NAS, the PBS host and the cluster. Run:",
    `  1. On TrueNAS (${nas.host}): clone the snapshot, so the replica and its snapshots stay untouched:`,
    `       zfs clone ${choice.snapshot.name} ${clone}`,
    "  2. On TrueNAS: share the clone with the PBS host only:",
    `       midclt call sharing.nfs.create ${shellQuote(nfs)}`,
    `  3. On the PBS host (${pbs.host}): mount it and add it as a datastore that nothing can write to:`,
    `       mkdir -p ${mnt} && mount -t nfs ${nas.backupAddress}:/mnt/${clone} ${mnt}`,
    `       proxmox-backup-manager datastore create ${store} ${mnt} --reuse-datastore true   # PBS 3.3+`,
    `       proxmox-backup-manager datastore update ${store} --maintenance-mode type=read-only`,
    `       proxmox-backup-manager acl update /datastore/${store} DatastoreReader --auth-id ${pbs.pveUser}`,
    `       proxmox-backup-manager acl update /datastore/${store} DatastoreReader --auth-id "$TOKEN"   # TOKEN: on a PVE node, ${tokenOf}`,
    `  4. On a PVE node: add it as a storage with the credentials and encryption key of ${storage}:`,
    `       pvesm add pbs ${store} --server ${pbs.backupAddress} --datastore ${store}${ns} --content backup \\`,
    `         --username "$(${tokenOf})" --password "$(cat /etc/pve/priv/storage/${storage}.pw)" \\`,
    `         --fingerprint ${pbs.fingerprint} --encryption-key "$(cat /etc/pve/priv/storage/${storage}.enc)"`,
    "  5. Restore from it:",
    // The run's end, not its start: a job backs its guests up one after another, so this guest's
    // backup time can be minutes after the firing.
    `       npm run restore -- --stack ${stackName} --service ${service.name} --guest ${vmid} --storage ${store} --at ${isoUtc(new Date(choice.run.getTime() + service.expectedDurationMinutes * 60_000))}`,
    `  6. Afterwards: pvesm remove ${store}; proxmox-backup-manager datastore remove ${store} (keeps the files);`,
    `     umount ${mnt}; delete the NFS share; zfs destroy ${clone}`,
    ...(choice.pbsFallback
      ? [`Or restore the newest point PBS holds now, ${shortUtc(choice.pbsFallback.time)}: --at ${isoUtc(choice.pbsFallback.time)}`]
      : []),
  ];
}
