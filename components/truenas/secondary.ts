/**
 * The secondary tier: TrueNAS pulls ZFS snapshots of the PBS datastores over SSH and keeps them,
 * snapshots its own datasets (the file server's 30 days), and optionally copies a replica
 * off-site with a COPY-only cloud sync task.
 *
 * Which system does what:
 * - the PBS host snapshots each datastore's dataset with its own systemd timer (outputs
 *   `sourceSnapshotUnits`, deployed by the agents), at a time checked to fall after the backups
 *   and before GC, so every replicated snapshot is a consistent datastore;
 * - TrueNAS runs a PULL replication task per datastore (SSH, pinned host key, read-only target,
 *   CUSTOM retention) and a periodic snapshot task per NAS-side dataset;
 * - TrueNAS's cloud sync uploads a path (a replica) to the off-site bucket.
 *
 * Replication tasks are `protect`ed and `retainOnDelete` unless `allowDestroy`: removing one from
 * the program leaves it replicating on TrueNAS. No child's deletion ever destroys a snapshot.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CalendarEvent } from "../../config/calendar";
import { CloudSyncCredential, CloudSyncTask, type STORAGE_CLASSES } from "./cloud-sync";
import { calendarToCron, calendarToWindowedCron } from "./cron";
import type { LifetimeUnit } from "./fields";
import { SshConnection, SshKeypair } from "./keychain";
import { DEFAULT_NAMING_SCHEMA } from "./naming-schema";
import { snapshotTimingProblems, sourceRetentionProblem, type DatastoreJob } from "./pbs-consistency";
import type { TruenasConnectionArgs } from "./provider";
import { ReplicationTask } from "./replication-task";
import { PeriodicSnapshotTask } from "./snapshot-task";
import { authorizedKeyLine, sourceSnapshotUnits, type SourceSnapshotUnits } from "./source-snapshots";

/** A retention period in TrueNAS's units. */
export interface Lifetime {
  readonly value: number;
  readonly unit: LifetimeUnit;
}

/** How to reach TrueNAS. */
export interface TruenasEndpoint {
  /** `wss://<host>` or `https://<host>`; ws:// and http:// are refused. */
  readonly url: string;
  /** The user the API key belongs to. @default "root" */
  readonly username?: string;
  /** The API key; pass a secret (`config.requireSecret("truenasApiKey")`). */
  readonly apiKey: pulumi.Input<string>;
  /** SHA-256 fingerprint of a self-signed TrueNAS certificate. @default CA chain validation */
  readonly fingerprint?: string;
  /** PEM CA certificate trusted besides the system store. @default none */
  readonly caCert?: string;
}

/** The PBS host TrueNAS pulls from. */
export interface PbsSource {
  /** Address TrueNAS reaches the PBS host at (its backup-VLAN address). */
  readonly host: string;
  /** SSH port. @default 22 */
  readonly port?: number;
  /** SSH user on the PBS host that may run `zfs send`. @default "root" */
  readonly user?: string;
  /** The PBS host's SSH host key, pinned from config (`ssh-ed25519 AAAA...`). */
  readonly hostKey: string;
  /** Run `zfs` on the PBS host with sudo (a non-root user). @default false */
  readonly sudo?: boolean;
}

/** Jobs writing into a datastore, to check the snapshot time against. */
export interface DatastoreActivity {
  /** Every backup job writing into the datastore, with its expected duration. */
  readonly backups: readonly DatastoreJob[];
  /** The datastore's garbage collection. */
  readonly gc: DatastoreJob;
  /** Prune, sync or other writing jobs. @default [] */
  readonly otherJobs?: readonly DatastoreJob[];
}

/** One PBS datastore replicated to TrueNAS. */
export interface ReplicatedDatastore {
  /** The datastore's name; names the child resources. */
  readonly name: string;
  /** The datastore's ZFS dataset on the PBS host, e.g. `backup/homelab`. */
  readonly sourceDataset: string;
  /** Where the replica lands on TrueNAS, e.g. `tank/replica/homelab`; its parent must exist. */
  readonly targetDataset: string;
  /** When the PBS host snapshots the dataset: after the backups, before GC (checked against `activity`). */
  readonly snapshotSchedule: CalendarEvent;
  /** When TrueNAS pulls; after the snapshot time. */
  readonly replicationSchedule: CalendarEvent;
  /** Snapshot names, shared by the PBS host's timer and the replication task. @default "auto-%Y-%m-%d_%H-%M" */
  readonly namingSchema?: string;
  /** Snapshots the PBS host keeps (must cover two replication intervals). @default 7 */
  readonly sourceKeep?: number;
  /** How long TrueNAS keeps replicated snapshots. @default { value: 4, unit: "WEEK" } */
  readonly lifetime?: Lifetime;
  /** The datastore's writers; when given, a snapshot time that overlaps them or follows GC is refused. @default not checked */
  readonly activity?: DatastoreActivity;
}

/** A dataset on TrueNAS snapshotted by TrueNAS itself (the file server's share). */
export interface LocalSnapshotPolicy {
  /** Dataset on TrueNAS, e.g. `tank/fileserver`. */
  readonly dataset: string;
  /** When TrueNAS snapshots it. */
  readonly schedule: CalendarEvent;
  /** How long each snapshot lives, e.g. `{ value: 30, unit: "DAY" }`. */
  readonly lifetime: Lifetime;
  /** Include child datasets. @default false */
  readonly recursive?: boolean;
  /** Children to leave out (recursive only). @default [] */
  readonly exclude?: readonly string[];
  /** @default "auto-%Y-%m-%d_%H-%M" */
  readonly namingSchema?: string;
}

/** rclone encryption of the off-site copy. */
export interface OffsiteEncryption {
  /** Secret. */
  readonly password: pulumi.Input<string>;
  /** Secret. */
  readonly salt: pulumi.Input<string>;
  /** Encrypt object names too. @default true */
  readonly filenames?: boolean;
}

/** The TrueNAS side of the off-site copy (the bucket itself is the off-site component's). */
export interface OffsiteSync {
  /** Names the credential and task. */
  readonly name: string;
  /** Secret. */
  readonly accessKeyId: pulumi.Input<string>;
  /** Secret. */
  readonly secretAccessKey: pulumi.Input<string>;
  /** S3-compatible endpoint. @default "" (AWS) */
  readonly endpoint?: string;
  /** @default "" */
  readonly region?: string;
  /** NAS path to upload, e.g. `/mnt/tank/replica/critical`. */
  readonly path: string;
  readonly bucket: pulumi.Input<string>;
  /** Prefix in the bucket. @default "" */
  readonly folder?: string;
  /** When to upload; must be expressible as cron (not "first Sunday"). */
  readonly schedule: CalendarEvent;
  /** @default "" (the bucket's default or lifecycle) */
  readonly storageClass?: (typeof STORAGE_CLASSES)[number];
  /** rclone crypt. @default none (server-side encryption of the bucket only) */
  readonly encryption?: OffsiteEncryption;
  /** @default rclone's */
  readonly transfers?: number;
  /** Let TrueNAS try the keys before saving them. @default true */
  readonly verifyCredential?: boolean;
  /** Dry-run the task once after creating it. @default false */
  readonly dryRunOnCreate?: boolean;
}

export interface TruenasReplicaArgs {
  readonly connection: TruenasEndpoint;
  readonly source: PbsSource;
  /** TrueNAS's address as the PBS host sees it, restricting the authorized key (`from=`). @default no restriction */
  readonly nasAddress?: string;
  /** Private key TrueNAS logs in with (secret). @default generated on TrueNAS and kept only there */
  readonly privateKey?: pulumi.Input<string>;
  /** PBS datastores to replicate. */
  readonly datastores: readonly ReplicatedDatastore[];
  /** NAS-side datasets with their own snapshots and retention. @default [] */
  readonly localDatasets?: readonly LocalSnapshotPolicy[];
  /** Off-site copy of a NAS path. @default none */
  readonly offsite?: OffsiteSync | readonly OffsiteSync[];
  /** Let `pulumi destroy` delete the replication tasks (no protect, no retainOnDelete). @default false */
  readonly allowDestroy?: boolean;
}

/** One sync or several (the datastore replica, the agents' repositories), always as a list. */
export function offsiteSyncs(args: Pick<TruenasReplicaArgs, "offsite">): readonly OffsiteSync[] {
  if (!args.offsite) return [];
  return Array.isArray(args.offsite) ? (args.offsite as readonly OffsiteSync[]) : [args.offsite as OffsiteSync];
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * Every reason the args cannot be applied safely, one line each; the component throws them all.
 * Pure, so the plan and tests can call it without registering anything.
 */
export function validateReplicaArgs(args: TruenasReplicaArgs): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const ds of args.datastores) {
    const at = `datastores.${ds.name}`;
    if (names.has(ds.name)) problems.push(`${at}: the name is used twice`);
    names.add(ds.name);
    const keepProblem = sourceRetentionProblem(ds.snapshotSchedule, ds.sourceKeep ?? 7, ds.replicationSchedule);
    if (keepProblem) problems.push(`${at}.sourceKeep: ${keepProblem}`);
    try {
      // The keep count is reported once, above.
      sourceSnapshotUnits({ dataset: ds.sourceDataset, schedule: ds.snapshotSchedule, namingSchema: ds.namingSchema ?? DEFAULT_NAMING_SCHEMA, keep: Math.max(2, ds.sourceKeep ?? 7) });
    } catch (error) {
      problems.push(`${at}: ${(error as Error).message}`);
    }
    for (const [key, event] of [["replicationSchedule", ds.replicationSchedule]] as const) {
      try {
        calendarToCron(event);
      } catch (error) {
        problems.push(`${at}.${key}: ${(error as Error).message}`);
      }
    }
    if (ds.activity) {
      for (const p of snapshotTimingProblems({ snapshot: ds.snapshotSchedule, ...ds.activity })) problems.push(`${at}.snapshotSchedule: ${p}`);
    }
  }
  for (const local of args.localDatasets ?? []) {
    try {
      calendarToCron(local.schedule);
    } catch (error) {
      problems.push(`localDatasets.${local.dataset}.schedule: ${(error as Error).message}`);
    }
  }
  const syncNames = new Set<string>();
  for (const sync of offsiteSyncs(args)) {
    if (syncNames.has(sync.name)) problems.push(`offsite.${sync.name}: the name is used twice`);
    syncNames.add(sync.name);
    try {
      calendarToCron(sync.schedule);
    } catch (error) {
      problems.push(`offsite.${sync.name}.schedule: ${(error as Error).message}`);
    }
  }
  return problems;
}

export class TruenasReplica extends pulumi.ComponentResource {
  /** TrueNAS's public key: authorise it for `source.user` on the PBS host. */
  readonly publicKey: pulumi.Output<string>;
  /** The authorized_keys line for the PBS host, restricted to `nasAddress`. */
  readonly authorizedKey: pulumi.Output<string>;
  /** Per datastore, the PBS host's snapshot script, service and timer to deploy. */
  readonly sourceSnapshotUnits: Readonly<Record<string, SourceSnapshotUnits>>;
  readonly replications: Readonly<Record<string, ReplicationTask>>;
  readonly snapshotTasks: Readonly<Record<string, PeriodicSnapshotTask>>;
  readonly offsiteTask: CloudSyncTask | undefined;
  /** Every off-site sync task, by its name. */
  readonly offsiteTasks: Readonly<Record<string, CloudSyncTask>>;

  /** @throws Error listing every problem `validateReplicaArgs` finds, before anything is registered */
  constructor(name: string, args: TruenasReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = validateReplicaArgs(args);
    if (problems.length > 0) throw new Error(`TruenasReplica "${name}" cannot be applied safely:\n${problems.map((p) => `- ${p}`).join("\n")}`);
    super("homelab:truenas:Replica", name, {}, opts);
    const parent = { parent: this };
    const protect = args.allowDestroy === true ? {} : { protect: true, retainOnDelete: true };
    const connection: pulumi.Input<TruenasConnectionArgs> = {
      url: args.connection.url,
      username: args.connection.username ?? "root",
      apiKey: pulumi.secret(args.connection.apiKey),
      ...(args.connection.fingerprint ? { fingerprint: args.connection.fingerprint } : {}),
      ...(args.connection.caCert ? { caCert: args.connection.caCert } : {}),
    };

    const key = new SshKeypair(`${name}-key`, { connection, name: `${name}-pbs-replication`, ...(args.privateKey ? { privateKey: args.privateKey } : {}) }, parent);
    const ssh = new SshConnection(
      `${name}-pbs`,
      {
        connection,
        name: `${name}-pbs`,
        host: args.source.host,
        port: args.source.port ?? 22,
        username: args.source.user ?? "root",
        privateKey: key.truenasId,
        remoteHostKey: args.source.hostKey,
      },
      parent,
    );

    const units: Record<string, SourceSnapshotUnits> = {};
    const replications: Record<string, ReplicationTask> = {};
    for (const ds of args.datastores) {
      const namingSchema = ds.namingSchema ?? DEFAULT_NAMING_SCHEMA;
      const lifetime = ds.lifetime ?? { value: 4, unit: "WEEK" };
      units[ds.name] = sourceSnapshotUnits({ dataset: ds.sourceDataset, schedule: ds.snapshotSchedule, namingSchema, keep: ds.sourceKeep ?? 7 });
      replications[ds.name] = new ReplicationTask(
        `${name}-${ds.name}`,
        {
          connection,
          name: `${name}-${ds.name}`,
          direction: "PULL",
          transport: "SSH",
          sshCredentials: ssh.truenasId,
          sudo: args.source.sudo ?? false,
          sourceDatasets: [ds.sourceDataset],
          targetDataset: ds.targetDataset,
          recursive: false,
          namingSchema: [namingSchema],
          auto: true,
          schedule: calendarToWindowedCron(ds.replicationSchedule),
          readonly: "SET",
          retentionPolicy: "CUSTOM",
          lifetimeValue: lifetime.value,
          lifetimeUnit: lifetime.unit,
          encryption: false,
          allowFromScratch: false,
        },
        { ...parent, ...protect },
      );
    }

    const snapshotTasks: Record<string, PeriodicSnapshotTask> = {};
    for (const local of args.localDatasets ?? []) {
      snapshotTasks[local.dataset] = new PeriodicSnapshotTask(
        `${name}-snap-${slug(local.dataset)}`,
        {
          connection,
          dataset: local.dataset,
          recursive: local.recursive ?? false,
          exclude: [...(local.exclude ?? [])],
          lifetimeValue: local.lifetime.value,
          lifetimeUnit: local.lifetime.unit,
          namingSchema: local.namingSchema ?? DEFAULT_NAMING_SCHEMA,
          schedule: calendarToWindowedCron(local.schedule),
        },
        parent,
      );
    }

    const offsiteTasks: Record<string, CloudSyncTask> = {};
    for (const o of offsiteSyncs(args)) {
      const credential = new CloudSyncCredential(
        `${name}-${o.name}-s3`,
        {
          connection,
          name: `${name}-${o.name}`,
          accessKeyId: pulumi.secret(o.accessKeyId),
          secretAccessKey: pulumi.secret(o.secretAccessKey),
          endpoint: o.endpoint ?? "",
          region: o.region ?? "",
          verify: o.verifyCredential ?? true,
        },
        parent,
      );
      offsiteTasks[o.name] = new CloudSyncTask(
        `${name}-${o.name}`,
        {
          connection,
          description: `${name} ${o.name} off-site copy`,
          path: o.path,
          credentials: credential.truenasId,
          bucket: o.bucket,
          folder: o.folder ?? "",
          region: o.region ?? "",
          storageClass: o.storageClass ?? "",
          schedule: calendarToCron(o.schedule),
          direction: "PUSH",
          transferMode: "COPY",
          ...(o.encryption
            ? {
                encryption: true,
                filenameEncryption: o.encryption.filenames ?? true,
                encryptionPassword: pulumi.secret(o.encryption.password),
                encryptionSalt: pulumi.secret(o.encryption.salt),
              }
            : { encryption: false }),
          ...(o.transfers !== undefined ? { transfers: o.transfers } : {}),
          dryRunOnCreate: o.dryRunOnCreate ?? false,
        },
        parent,
      );
    }

    this.publicKey = key.publicKey;
    this.authorizedKey = key.publicKey.apply((k) => authorizedKeyLine(k, args.nasAddress));
    this.sourceSnapshotUnits = units;
    this.replications = replications;
    this.snapshotTasks = snapshotTasks;
    this.offsiteTasks = offsiteTasks;
    this.offsiteTask = Object.values(offsiteTasks)[0];
    this.registerOutputs({
      publicKey: this.publicKey,
      authorizedKey: this.authorizedKey,
      sourceSnapshotUnits: units,
      replicationTaskIds: Object.fromEntries(Object.entries(replications).map(([k, r]) => [k, r.truenasId])),
    });
  }
}
