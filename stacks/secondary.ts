/**
 * The secondary tier from the strategy: TrueNAS pulls each PBS datastore's dataset (snapshotted
 * by the PBS host when the datastore is idle), keeps point-in-time snapshots, snapshots its own
 * datasets, and syncs the off-site datastore's replica to the bucket.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CalendarEvent } from "../config/calendar";
import type { Strategy } from "../config/strategy";
import { groupJobs } from "../components/truenas/pbs-consistency";
import { TruenasReplica, type Lifetime, type OffsiteSync } from "../components/truenas/secondary";

/** Days as TrueNAS's coarsest exact unit, so "4w" is 4 WEEK and "30d" 30 DAY. */
export function lifetimeOf(days: number): Lifetime {
  if (days % 365 === 0) return { value: days / 365, unit: "YEAR" };
  if (days % 7 === 0) return { value: days / 7, unit: "WEEK" };
  return { value: days, unit: "DAY" };
}

export interface OffsiteTarget {
  retentionClass: "monthly" | "yearly" | "critical";
  /** When the class's sync runs. */
  schedule: CalendarEvent;
  bucket: pulumi.Input<string>;
  accessKeyId: pulumi.Input<string>;
  secretAccessKey: pulumi.Input<string>;
}

export function createSecondary(parent: pulumi.Resource, strategy: Strategy, apiKey: pulumi.Output<string>, offsiteTargets: readonly OffsiteTarget[]): TruenasReplica {
  const nas = strategy.hosts.truenas;
  const allowDestroy = new Set(strategy.protection.allowDestroy.map((a) => a.name));
  const syncs: OffsiteSync[] = [];
  const offsiteStore = strategy.datastores.find((d) => d.offsite);
  if (offsiteTargets.length > 0) {
    let encryption: OffsiteSync["encryption"];
    if (strategy.offsite.rcloneEncryption) {
      // The rclone keys are the only way to read the off-site copy: protected and kept, as secrets.
      const keep = { parent, protect: true, retainOnDelete: true, additionalSecretOutputs: ["result"] };
      const password = new random.RandomPassword("offsite-rclone-password", { length: 48, special: false }, keep);
      const salt = new random.RandomPassword("offsite-rclone-salt", { length: 32, special: false }, keep);
      encryption = { password: pulumi.secret(password.result), salt: pulumi.secret(salt.result), filenames: true };
    }
    for (const offsite of offsiteTargets) {
      const base = {
        accessKeyId: pulumi.secret(offsite.accessKeyId),
        secretAccessKey: pulumi.secret(offsite.secretAccessKey),
        ...(strategy.hosts.offsite.endpoint ? { endpoint: strategy.hosts.offsite.endpoint } : {}),
        region: strategy.hosts.offsite.region,
        bucket: offsite.bucket,
        schedule: offsite.schedule,
        ...(encryption ? { encryption } : {}),
      };
      // The critical class's tasks keep their first names, so adding classes replaces nothing.
      const suffix = offsite.retentionClass === "critical" ? "" : `-${offsite.retentionClass}`;
      if (offsiteStore) syncs.push({ ...base, name: `offsite${suffix}`, path: `/mnt/${offsiteStore.replicaDataset}`, folder: `pbs/${offsiteStore.name}` });
      // Agents of off-site services keep their borg repositories on the NAS: those go off-site too.
      for (const path of agentRepositoryRoots(strategy)) {
        syncs.push({ ...base, name: `borg-${path.split("/").filter(Boolean).slice(1).join("-")}${suffix}`, path, folder: `borg/${path.split("/").pop()}` });
      }
    }
  }
  return new TruenasReplica(
    nas.name,
    {
      connection: {
        url: `wss://${nas.host}`,
        username: nas.apiUser,
        apiKey: pulumi.secret(apiKey),
        ...(nas.fingerprint ? { fingerprint: nas.fingerprint } : {}),
      },
      source: { host: strategy.hosts.pbs.backupAddress, hostKey: nas.pbsHostKey },
      nasAddress: nas.backupAddress,
      datastores: strategy.datastores.map((d) => {
        const writers = strategy.services.filter((s) => s.datastore === d.name);
        return {
          name: d.name,
          sourceDataset: d.dataset,
          targetDataset: d.replicaDataset,
          snapshotSchedule: d.snapshot,
          replicationSchedule: d.replication,
          lifetime: lifetimeOf(d.replicaRetentionDays),
          ...(writers.length
            ? {
                activity: {
                  backups: groupJobs(writers.map((s) => ({ name: `backup-${s.name}`, schedule: s.schedule, expectedDurationMinutes: s.expectedDurationMinutes }))),
                  gc: { name: "gc", schedule: d.gc, expectedDurationMinutes: 15 },
                  otherJobs: [{ name: "prune", schedule: d.prune, expectedDurationMinutes: 5 }],
                },
              }
            : {}),
        };
      }),
      localDatasets: strategy.nasDatasets.map((l) => ({ dataset: l.dataset, schedule: l.schedule, lifetime: lifetimeOf(l.retentionDays), recursive: l.recursive })),
      ...(syncs.length ? { offsite: syncs } : {}),
      allowDestroy: strategy.datastores.some((d) => allowDestroy.has(d.replicaDataset)),
    },
    { parent },
  );
}


/**
 * The NAS directories holding the borg repositories of off-site services' agents
 * (`ssh://borg@<nas>/mnt/tank/borg/db01` → `/mnt/tank/borg`), each synced once.
 */
export function agentRepositoryRoots(strategy: Strategy): string[] {
  const nas = strategy.hosts.truenas;
  const roots = new Set<string>();
  for (const agent of strategy.agents) {
    const service = strategy.services.find((s) => s.name === agent.service);
    if (!service?.offsite) continue;
    const m = /^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?(\/mnt\/.+)$/.exec(agent.repository);
    if (!m || (m[1] !== nas.backupAddress && m[1] !== nas.host)) continue;
    const path = m[2] as string;
    roots.add(path.slice(0, path.lastIndexOf("/")));
  }
  return [...roots].sort();
}
