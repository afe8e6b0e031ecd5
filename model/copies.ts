/**
 * The protection model: for each data class, its copies, derived from the registered resources
 * (never from the config, so a hand-added resource counts and a deleted one is missed).
 *
 * Chains: vzdump job → PVE pbs storage → PBS datastore (+ namespace, prune, verify)
 *         → TrueNAS replication of the datastore's dataset → cloud sync of the replica → bucket.
 * Agents: borgmatic agent → borg repository (on the NAS when its path is under a replicated dataset).
 */
import { agentClasses } from "./agents";
import { num, ResourceIndex, str, T, type ModelResource } from "./resource";

export type Medium = "local-disk" | "nas" | "cloud";

export interface Copy {
  /** Where the copy lives, in words a reviewer reads: "PBS critical", "TrueNAS tank/replica/critical". */
  location: string;
  kind: "source" | "pbs-datastore" | "nas-replica" | "borg-repository" | "offsite-bucket";
  /** `type::name` of the resource that holds it, when one is registered. */
  resource?: string;
  medium: Medium;
  site: "onsite" | "offsite";
  encrypted: boolean;
  immutable: boolean;
  verified: boolean;
  /** How it is verified, or why it is not. */
  verification: string;
  /** How it is kept: "hourly 24, daily 7" or "730 days". */
  retention?: string;
  /** Prune counts (`daily` → 7) where retention is a GFS policy. */
  keep?: Record<string, number>;
  /** Retention in days where it is a single figure (off-site lifecycle, lock). */
  retentionDays?: number;
  lockDays?: number;
  /** Whether deleting the resource is blocked (protect or retainOnDelete). */
  protected: boolean;
  /** The source itself is the original, not a backup: it counts as a copy for 3-2-1 only. */
  original?: boolean;
}

export interface DataClass {
  name: string;
  kind: "service" | "database-dumps" | "docker-volumes" | "configs";
  tier?: string;
  /** Calendar event of the job that creates the first backup copy. */
  schedule?: string;
  /** `type::name` of the job that feeds it. */
  job: string;
  copies: Copy[];
}

const key = (r: ModelResource) => `${r.type}::${r.name}`;

/** `{{guestname}} · service db · tier critical` → { service, tier }. */
export function parseJobNotes(notes: string | undefined): { service?: string; tier?: string } {
  const m = /service (\S+) · tier (\S+)/.exec(notes ?? "");
  return m ? { service: m[1] as string, tier: m[2] as string } : {};
}

const KEEP_FIELDS: [string, string][] = [
  ["keepLast", "last"], ["keepHourly", "hourly"], ["keepDaily", "daily"], ["keepWeekly", "weekly"], ["keepMonthly", "monthly"], ["keepYearly", "yearly"],
];

export function keepOf(props: Record<string, unknown>): Record<string, number> {
  const keep: Record<string, number> = {};
  for (const [field, label] of KEEP_FIELDS) {
    const n = num(props[field]);
    if (n !== undefined) keep[label] = n;
  }
  return keep;
}

export function keepText(keep: Record<string, number>): string | undefined {
  const parts = Object.entries(keep).map(([label, n]) => `${label} ${n}`);
  return parts.length ? parts.join(", ") : undefined;
}

/** A job in namespace `ns` (undefined = root, recursive) covers backups in `namespace`. */
function coversNamespace(jobNs: string | undefined, namespace: string | undefined): boolean {
  if (!jobNs) return true;
  return namespace === jobNs || (namespace ?? "").startsWith(`${jobNs}/`);
}

/** Everything after PBS (the NAS replica, its off-site sync) for one datastore dataset. */
export type DownstreamResolver = (dataset: string, upstream: Copy, index: ResourceIndex) => Copy[];

function pbsCopy(index: ResourceIndex, storage: ModelResource | undefined, datastores: Map<string, ModelResource>): { copy: Copy; dataset?: string } | undefined {
  if (!storage) return undefined;
  const store = str(storage.props["datastore"]);
  if (!store) return undefined;
  const namespace = str(storage.props["namespace"]);
  const datastore = datastores.get(store);
  const encrypted = storage.props["generateEncryptionKey"] === true || storage.props["encryptionKey"] !== undefined;
  const verifyJob = index.of(T.pbsVerify).find((v) => str(v.props["store"]) === store && str(v.props["schedule"]) && coversNamespace(str(v.props["ns"]), namespace));
  const prune = index.of(T.pbsPrune).find((p) => str(p.props["store"]) === store && coversNamespace(str(p.props["ns"]), namespace));
  const keep = prune ? keepOf(prune.props) : undefined;
  const retention = keep ? keepText(keep) : undefined;
  const path = datastore ? str(datastore.props["path"]) : undefined;
  return {
    copy: {
      location: `PBS ${store}${namespace ? `/${namespace}` : ""}`,
      kind: "pbs-datastore",
      ...(datastore ? { resource: key(datastore) } : {}),
      medium: "local-disk",
      site: "onsite",
      encrypted,
      immutable: false,
      verified: verifyJob !== undefined,
      verification: verifyJob
        ? `PBS verify job ${str(verifyJob.props["jobId"]) ?? verifyJob.name} (${str(verifyJob.props["schedule"])})`
        : datastore?.props["verifyNew"] === true
          ? "verify-new only; no scheduled re-verification"
          : "no verify job covers it",
      ...(retention ? { retention } : {}),
      ...(keep ? { keep } : {}),
      protected: datastore ? datastore.protect || datastore.retainOnDelete === true : false,
    },
    ...(path ? { dataset: path.replace(/^\//, "") } : {}),
  };
}

/**
 * Derives every data class and its copies. Linear in the number of resources: each type is
 * indexed once and each class does constant lookups (the bench's 2,000-service case relies on it).
 */
export function protectionModel(resources: readonly ModelResource[], downstream: readonly DownstreamResolver[] = []): DataClass[] {
  const index = new ResourceIndex(resources);
  const storages = new Map(index.of(T.pveStorage).map((s) => [str(s.props["resourceId"]) ?? s.name, s]));
  const datastores = new Map(index.of(T.pbsDatastore).map((d) => [str(d.props["name"]) ?? d.name, d]));
  const downstreamCache = new Map<string, Copy[]>();
  const classes: DataClass[] = [];

  for (const job of index.of(T.pveJob)) {
    const { service, tier } = parseJobNotes(str(job.props["notesTemplate"]));
    const guests = Array.isArray(job.props["vmids"]) && (job.props["vmids"] as unknown[]).length
      ? `VMs ${(job.props["vmids"] as unknown[]).join(", ")}`
      : str(job.props["pool"]) ? `pool ${str(job.props["pool"])}` : "guests";
    const copies: Copy[] = [originalCopy(`PVE ${guests}`)];
    const pbs = pbsCopy(index, storages.get(str(job.props["storage"]) ?? ""), datastores);
    if (pbs) {
      copies.push(pbs.copy);
      if (pbs.dataset) {
        let more = downstreamCache.get(pbs.dataset);
        if (!more) {
          more = downstream.flatMap((resolve) => resolve(pbs.dataset as string, pbs.copy, index));
          downstreamCache.set(pbs.dataset, more);
        }
        copies.push(...more);
      }
    }
    classes.push({
      name: service ?? (str(job.props["resourceId"]) ?? job.name).replace(/^backup-/, ""),
      kind: "service",
      ...(tier ? { tier } : {}),
      ...(str(job.props["schedule"]) ? { schedule: str(job.props["schedule"]) as string } : {}),
      job: key(job),
      copies,
    });
  }
  const tiers = new Map(classes.map((c) => [c.name, c.tier]));
  classes.push(...agentClasses(index, (service) => (service ? tiers.get(service) : undefined)));
  return classes;
}

/** The data where it lives: counts as a copy for 3-2-1, needs no encryption or verification. */
export function originalCopy(location: string): Copy {
  return {
    location,
    kind: "source",
    medium: "local-disk",
    site: "onsite",
    encrypted: false,
    immutable: false,
    verified: false,
    verification: "the original",
    protected: false,
    original: true,
  };
}

/** 3-2-1 counts of a class. */
export function counts(dataClass: DataClass): { copies: number; media: number; offsite: number; immutable: number } {
  const c = dataClass.copies;
  return {
    copies: c.length,
    media: new Set(c.map((x) => x.medium)).size,
    offsite: c.filter((x) => x.site === "offsite").length,
    immutable: c.filter((x) => x.immutable && !x.original).length,
  };
}
