/**
 * Copies beyond PBS: the TrueNAS replica of a datastore's dataset, and the off-site bucket its
 * replica is synced to.
 */
import type { Copy, DownstreamResolver } from "./copies";
import { num, str, T, type ModelResource, type ResourceIndex } from "./resource";

const key = (r: ModelResource) => `${r.type}::${r.name}`;
const isProtected = (r: ModelResource) => r.protect || r.retainOnDelete === true;

/** Does a replication of `source` (recursive or not) carry `dataset`? */
function carries(source: string, dataset: string, recursive: boolean): boolean {
  return source === dataset || (recursive && dataset.startsWith(`${source}/`));
}

const UNIT_DAYS: Record<string, number> = { HOUR: 1 / 24, DAY: 1, WEEK: 7, MONTH: 30, YEAR: 365 };

/** The TrueNAS copy of a PBS datastore: a PULL replication of its dataset. */
export const nasReplica: DownstreamResolver = (dataset, upstream, index) => {
  const out: Copy[] = [];
  for (const task of index.of(T.nasReplication)) {
    const sources = Array.isArray(task.props["sourceDatasets"]) ? (task.props["sourceDatasets"] as unknown[]).map(String) : [];
    const recursive = task.props["recursive"] === true;
    const source = sources.find((s) => carries(s, dataset, recursive));
    if (source === undefined) continue;
    const target = `${str(task.props["targetDataset"]) ?? "?"}${dataset.slice(source.length)}`;
    const readonly = str(task.props["readonly"]);
    const value = num(task.props["lifetimeValue"]);
    const unit = str(task.props["lifetimeUnit"]);
    out.push({
      location: `TrueNAS ${target}`,
      kind: "nas-replica",
      resource: key(task),
      medium: "nas",
      site: "onsite",
      // The replica holds PBS's chunks as they are: encrypted by the client before they left PVE.
      encrypted: upstream.encrypted,
      immutable: readonly === "SET" || readonly === "REQUIRE",
      verified: task.props["enabled"] !== false && task.props["schedule"] !== undefined,
      verification: "every scheduled run is a ZFS send/receive, which checks each block's checksum",
      ...(value !== undefined && unit ? { retention: `${value} ${unit.toLowerCase()}${value === 1 ? "" : "s"}`, retentionDays: Math.round(value * (UNIT_DAYS[unit] ?? 1)) } : {}),
      protected: isProtected(task),
    });
    out.push(...offsiteOf(target, out[out.length - 1] as Copy, index));
  }
  return out;
};

function bucketName(r: ModelResource): string | undefined {
  const attrs = r.props["attributes"];
  return str(r.props["bucket"]) ?? (attrs && typeof attrs === "object" ? str((attrs as Record<string, unknown>)["bucket"]) : undefined);
}

/** The off-site copy of a replica: a cloud sync of its mountpoint into a bucket. */
function offsiteOf(replicaDataset: string, replica: Copy, index: ResourceIndex): Copy[] {
  return offsiteCopiesOf(`/mnt/${replicaDataset}`, replica, index);
}

/** Off-site copies of a NAS path: cloud syncs of it, or of a directory above it, into a bucket. */
export function offsiteCopiesOf(mount: string, replica: Copy, index: ResourceIndex): Copy[] {
  const out: Copy[] = [];
  for (const sync of index.of(T.nasCloudSync)) {
    const path = str(sync.props["path"]) ?? "";
    if (!(mount === path || mount.startsWith(`${path}/`) || path.startsWith(`${mount}/`))) continue;
    const name = bucketName(sync);
    const bucket = index.of(T.bucket).find((b) => (str(b.props["bucket"]) ?? b.name) === name);
    const ref = (r: ModelResource) => str(r.props["bucket"]) === name;
    const lock = index.of(T.bucketLock).find(ref);
    const sse = index.of(T.bucketSse).find(ref);
    const lifecycle = index.of(T.bucketLifecycle).find(ref);
    const lockRule = (lock?.props["rule"] as { defaultRetention?: { mode?: string; days?: number; years?: number } } | undefined)?.defaultRetention;
    const lockDays = lockRule ? (lockRule.days ?? (lockRule.years ?? 0) * 365) : undefined;
    const expiration = lifecycleExpirationDays(lifecycle);
    const sseText = JSON.stringify(sse?.props ?? {});
    out.push({
      location: `S3 ${name ?? "?"}`,
      kind: "offsite-bucket",
      ...(bucket ? { resource: key(bucket) } : {}),
      medium: "cloud",
      site: "offsite",
      encrypted: replica.encrypted || sseText.includes("aws:kms") || (sync.props["encryption"] as { enabled?: boolean } | undefined)?.enabled === true,
      immutable: lockRule?.mode === "COMPLIANCE",
      // The store checks every upload's checksum (rclone sends them) and AWS re-verifies data at
      // rest on its own schedule; without a declared bucket nothing is known about it.
      verified: bucket !== undefined,
      verification: bucket ? "checksums verified on upload and by the object store at rest" : "bucket not declared in this stack",
      ...(expiration !== undefined ? { retention: `${expiration} days`, retentionDays: expiration } : {}),
      ...(lockDays !== undefined ? { lockDays } : {}),
      protected: bucket ? isProtected(bucket) : false,
    });
  }
  return out;
}

function lifecycleExpirationDays(lifecycle: ModelResource | undefined): number | undefined {
  const rules = lifecycle?.props["rules"];
  if (!Array.isArray(rules)) return undefined;
  const days = rules
    .map((r) => (r as { expiration?: { days?: number } }).expiration?.days)
    .filter((d): d is number => typeof d === "number");
  return days.length ? Math.min(...days) : undefined;
}
