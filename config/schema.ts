/**
 * The strategy's vocabulary as a zod schema. Every top-level key is a Pulumi config key in the
 * project namespace (`homelab-backup:<key>`), so users edit it with
 * `pulumi config set --path 'services[0].retention' 14d`. Defaults encode the seed strategy
 * (../shared/strategy/backup-strategy.md), so a minimal stack file names only its hosts and services.
 *
 * Field-level rules live here; rules that relate fields to each other live in validate.ts.
 */
import { z } from "zod";
import { CalendarError, parseCalendarEvent } from "./calendar";
import { DURATION_PATTERN } from "./duration";

/** Safe identifiers as PVE and PBS accept them (storage ids, datastore and job names). */
const safeId = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{1,31}$/, {
    error: "expected a name of 2-32 letters, digits, - or _, starting with a letter",
  });

const calendar = z.string().superRefine((value, ctx) => {
  try {
    parseCalendarEvent(value);
  } catch (e) {
    if (!(e instanceof CalendarError)) throw e;
    ctx.addIssue({ code: "custom", message: `${e.message}` });
  }
});

const duration = z.string().regex(DURATION_PATTERN, {
  error: "expected a duration such as 1h, 24h, 7d, 4w or 2y",
});

const fingerprint = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, {
    error: "expected a SHA-256 certificate fingerprint as 32 colon-separated hex bytes (AA:BB:...)",
  });

const sshHostKey = z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+$/, {
  error: "expected an SSH public host key such as \"ssh-ed25519 AAAA...\"",
});
const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, {
  error: "expected an IPv4 address such as 10.20.0.10",
});

const cidr = z.string().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/, {
  error: "expected an IPv4 subnet in CIDR form such as 10.20.0.0/24",
});

const httpsUrl = z.string().regex(/^https:\/\/[^\s/]+(:\d+)?(\/\S*)?$/, {
  error: "expected an https:// URL (TLS is mandatory)",
});

const hostName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, {
  error: "expected a host name or IPv4 address",
});

export const TIER_NAMES = ["critical", "important", "archive"] as const;
export type TierName = (typeof TIER_NAMES)[number];

const pveNode = z
  .object({
    /** The PVE node name as the cluster knows it (`pvesh get /nodes`). */
    name: safeId,
    /** Management address. */
    address: ipv4,
    /** The node's address on the backup VLAN. */
    backupAddress: ipv4,
    /** Physical interface or bridge the backup VLAN rides on. @default "vmbr0" */
    interface: z.string().default("vmbr0"),
  })
  .strict();

const hosts = z
  .object({
    pve: z
      .object({
        /** PVE API endpoint the provider talks to. */
        endpoint: httpsUrl,
        /** SSH login on the nodes for what the library deploys there (restore tests, the vzdump hook, the master key). @default "root" */
        sshUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "expected a Unix user name" }).default("root"),
        /** Storage id PVE gives the PBS datastore (`vzdump --storage`). @default "pbs-backup" */
        storageId: safeId.default("pbs-backup"),
        nodes: z.array(pveNode).min(1, { error: "expected at least one PVE node" }),
      })
      .strict(),
    pbs: z
      .object({
        name: safeId.default("pbs"),
        host: hostName,
        port: z.number().int().min(1).max(65535).default(8007),
        /** SHA-256 fingerprint of the PBS certificate (`proxmox-backup-manager cert info`). */
        fingerprint,
        /** Node name in UPIDs and `/nodes/{node}`. @default "localhost" */
        node: z.string().default("localhost"),
        backupAddress: ipv4,
        /** ZFS pool holding the datastores. @default "backup" */
        zfsPool: z.string().default("backup"),
        /** PBS user that owns the admin API token the library uses. @default "root@pam" */
        adminUser: z.string().default("root@pam"),
        /** Name of that token (its secret is the `pbsApiToken` secret). @default "homelab-backup" */
        adminTokenName: z.string().default("homelab-backup"),
        /** SSH login on the PBS host for the capacity and freshness checks. @default "root" */
        sshUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "expected a Unix user name" }).default("root"),
        /** Usable size of the ZFS pool holding the datastores, for the capacity projection. Unset: not projected. */
        poolCapacityGb: z.number().positive().optional(),
        /**
         * Share of a service's data that changes per day; with deduplication a retained restore point
         * takes only what changed since the one before. For the capacity projection; measure it from
         * PBS's deduplication factor once backups run. @default 0.5
         */
        dailyChangePercent: z.number().min(0).max(100).default(0.5),
        /** PBS user for PVE's storage token. @default "pve-backup@pbs" */
        pveUser: z.string().regex(/^[^\s@]+@[A-Za-z0-9_-]+$/, { error: "expected user@realm" }).default("pve-backup@pbs"),
      })
      .strict(),
    truenas: z
      .object({
        name: safeId.default("truenas"),
        host: hostName,
        /** SHA-256 fingerprint of the TrueNAS certificate, for self-signed certificates. */
        fingerprint: fingerprint.optional(),
        backupAddress: ipv4,
        /** Usable size of the pool the replicas land on, for the capacity projection. Unset: not projected. */
        poolCapacityGb: z.number().positive().optional(),
        /** Pool the replicas land on. @default "tank" */
        pool: z.string().default("tank"),
        /**
         * A read-only (READONLY_ADMIN) TrueNAS user whose API key is the `truenasMonitorApiKey`
         * secret: set, the PBS host's capacity check also watches the NAS pool over the API.
         * @default none (the pool is watched by the report only)
         */
        monitorUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "expected a TrueNAS user name" }).optional(),
        /** API user whose key is the `truenasApiKey` secret. @default "root" */
        apiUser: z.string().default("root"),
        /** SSH host key of the PBS host (`ssh-keyscan` output line), pinned for replication. */
        /** Dataset under which the PBS datastores' replicas land (`<replicaRoot>/<datastore>`). @default "<pool>/replica" */
        replicaRoot: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, { error: "expected a ZFS dataset name such as tank/replica" }).optional(),
        /** NAS datasets the strategy backs up with TrueNAS's own snapshots (the file server's data). */
        localDatasets: z
          .array(
            z
              .object({
                dataset: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, { error: "expected a ZFS dataset name such as tank/documents" }),
                schedule: calendar.default("*-*-* 03:00"),
                retention: duration.default("30d"),
                recursive: z.boolean().default(false),
              })
              .strict(),
          )
          .default([]),
        pbsHostKey: sshHostKey,
        /**
         * The NAS's own SSH host key (`ssh-keyscan -t ed25519 <nas>`): pinned by every agent whose
         * borg repository is on the NAS. Unset, agents trust the first key they see (accept-new).
         */
        sshHostKey: sshHostKey.optional(),
      })
      .strict(),
    offsite: z
      .object({
        provider: z.enum(["aws", "b2", "wasabi", "minio"]).default("aws"),
        region: z.string().default("eu-central-1"),
        /** S3 endpoint override for S3-compatible providers. */
        endpoint: httpsUrl.optional(),
        /** Bucket names are `<prefix>-<class>`. */
        bucketPrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{2,40}$/, {
          error: "expected 3-41 lowercase letters, digits or -",
        }),
      })
      .strict(),
  })
  .strict();


const tier = z
  .object({
    /** Recovery point objective: the most data this tier may lose. */
    rpo: duration,
    /** Recovery time objective: how long a restore of this tier may take. */
    rto: duration,
    /** Default schedule of the tier's services (systemd calendar event). */
    schedule: calendar,
    /** Whether the tier's services go off-site (the strategy: critical data only). */
    offsite: z.boolean(),
    /** Why a tier stays on-site, reported by the plan and the 3-2-1 policy. */
    onsiteOnlyReason: z.string().optional(),
  })
  .strict();

const guests = z
  .object({
    vmids: z.array(z.number().int().min(100).max(999999999)).optional(),
    pool: z.string().optional(),
    tags: z.array(z.string().regex(/^[a-z0-9_][a-z0-9_+.-]*$/i)).optional(),
  })
  .strict();

const service = z
  .object({
    name: safeId,
    tier: z.string(),
    description: z.string().optional(),
    /** Which guests the backup job covers: VM ids, a pool or tags. */
    guests,
    /** Defaults to the tier's schedule. */
    schedule: calendar.optional(),
    /** How long its backups are kept on-site, as the strategy's table says (7d, 14d, 30d, 4w). */
    retention: duration,
    /** Datastore that receives the backups. @default the first datastore whose `offsite` matches the service's */
    datastore: safeId.optional(),
    /** vzdump mode. @default "snapshot" */
    mode: z.enum(["snapshot", "suspend", "stop"]).default("snapshot"),
    /** Overrides the tier's off-site decision for this service. */
    offsite: z.boolean().optional(),
    /** Expected job duration, for the duration alert and the snapshot timing. @default half the schedule's interval, at most 2h */
    expectedDuration: duration.optional(),
    /** Protected data size, for capacity and cost maths. @default 50 */
    sizeGb: z.number().min(0).default(50),
    /** Dead-man's switch (healthchecks.io style): pinged at job start, success and failure. */
    healthcheckUrl: httpsUrl.optional(),
    /**
     * Run inside a restored guest through the QEMU guest agent to prove the service works (restore
     * tests and the restore wizard's validation), e.g. `systemctl is-active nginx`.
     */
    checkCommand: z.string().min(1).optional(),
  })
  .strict();

const datastore = z
  .object({
    name: safeId,
    /**
     * Absolute path of the datastore on the PBS host: the mountpoint of its ZFS dataset.
     * @default "/<zfsPool>/<name>" (ZFS's default mountpoint of the dataset `<zfsPool>/<name>`)
     */
    path: z.string().regex(/^\/[^\s]*$/, { error: "expected an absolute path" }).optional(),
    /** ZFS dataset holding the datastore, which TrueNAS replicates. @default "<zfsPool>/<name>" */
    dataset: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, { error: "expected a ZFS dataset name such as backup/homelab" }).optional(),
    /**
     * Whether this datastore's replica goes off-site. A datastore deduplicates into one chunk
     * store, so it goes off-site whole: off-site services need a datastore of their own.
     * @default false
     */
    offsite: z.boolean().default(false),
    gcSchedule: calendar.default("*-*-* 05:30"),
    verifyNew: z.boolean().default(true),
    /** One namespace per tier, or everything in the root namespace. @default "per-tier" */
    namespaces: z.enum(["per-tier", "root"]).default("per-tier"),
    verify: z
      .object({
        schedule: calendar.default("Sat *-*-* 06:00"),
        outdatedAfterDays: z.number().int().min(1).default(30),
        ignoreVerified: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Prune job schedule (after the nightly backups, before GC). @default "*-*-* 05:00" */
    pruneSchedule: calendar.default("*-*-* 05:00"),
    /**
     * When the PBS host snapshots the datastore's dataset for replication: after the backups that
     * write into it end, before GC (checked against the services' expected durations).
     * @default "*-*-* 05:20"
     */
    snapshotSchedule: calendar.default("*-*-* 05:20"),
    /** When TrueNAS pulls the snapshots. @default "*-*-* 06:30" */
    replicationSchedule: calendar.default("*-*-* 06:30"),
    /** How long the NAS keeps the replicated point-in-time snapshots. @default "4w" */
    replicaRetention: duration.default("4w"),
    /** Opt-in: let `pulumi destroy` remove this datastore's data. @default false */
    destroyDataOnDelete: z.boolean().default(false),
  })
  .strict();

const notificationTarget = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("smtp"),
      name: safeId,
      server: hostName,
      port: z.number().int().min(1).max(65535).default(465),
      mode: z.enum(["tls", "starttls"]).default("tls"),
      from: z.string().email({ error: "expected an e-mail address" }),
      mailto: z.array(z.string().email({ error: "expected an e-mail address" })).min(1),
      username: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal("gotify"), name: safeId, server: httpsUrl }).strict(),
  z.object({ type: z.literal("webhook"), name: safeId, url: httpsUrl }).strict(),
]);

const agentDatabase = z
  .object({
    kind: z.enum(["postgresql", "mariadb", "mysql", "mongodb"]),
    name: z.string().min(1),
    hostname: z.string().default("127.0.0.1"),
    port: z.number().int().min(1).max(65535).optional(),
    username: z.string().optional(),
    /** The password comes from the `agentDatabasePasswords` secret, key `<agent>.<kind>.<name>`. @default true */
    password: z.boolean().default(true),
    /** Query the database restore test runs on the restored copy; it must return a row. @default a count of the restored tables, which must be above 0 */
    checkQuery: z.string().min(1).optional(),
  })
  .strict();

const agent = z
  .object({
    /** Host name, for resource names and the firewall flows. */
    name: safeId,
    address: ipv4,
    sshUser: z.string().default("root"),
    sshPort: z.number().int().min(1).max(65535).default(22),
    /** The service of the strategy whose tier (schedule, retention) this agent follows. */
    service: safeId,
    paths: z.array(z.string().regex(/^\//, { error: "expected an absolute path" })).default(["/etc"]),
    databases: z.array(agentDatabase).default([]),
    docker: z
      .array(
        z
          .object({
            container: z.string().min(1),
            volumes: z.array(z.string().min(1)).min(1),
            stopDuringBackup: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    /** borg repository, e.g. `ssh://borg@truenas/mnt/tank/borg/<host>`. */
    repository: z.string().min(1),
    /** SSH host key of the repository server, pinned. @default hosts.truenas.sshHostKey when the repository is on the NAS */
    repositoryHostKey: sshHostKey.optional(),
    healthcheckUrl: httpsUrl.optional(),
  })
  .strict();

/** An off-site retention class; its retention comes from `retention.offsite.<name>`. */
const offsiteClass = z
  .object({
    name: z.enum(["monthly", "yearly", "critical"]),
    /** Data kept in the class, for the cost model. @default 100 */
    sizeGb: z.number().min(0).default(100),
    /** Objects kept in the class, for the per-object overhead. @default 1000 */
    objects: z.number().int().min(0).default(1000),
  })
  .strict();

const DATASTORE_DEFAULTS = {
  snapshotSchedule: "*-*-* 05:20",
  replicationSchedule: "*-*-* 06:30",
  replicaRetention: "4w",
  gcSchedule: "*-*-* 05:30",
  verifyNew: true,
  namespaces: "per-tier" as const,
  verify: { schedule: "Sat *-*-* 06:00", outdatedAfterDays: 30, ignoreVerified: true },
  pruneSchedule: "*-*-* 05:00",
  destroyDataOnDelete: false,
};

/**
 * The seed's tiers. Critical backs up hourly because the strategy gives critical data a 1-hour
 * RPO ("incremental": PBS backups are); archive's RPO is 35 days because a first-Sunday monthly
 * job leaves up to 35 days between runs.
 */
export const DEFAULT_TIERS = {
  critical: { rpo: "1h", rto: "1h", schedule: "*-*-* *:00", offsite: true },
  important: { rpo: "24h", rto: "4h", schedule: "*-*-* 02:00", offsite: false, onsiteOnlyReason: "the strategy sends critical data only off-site (cost)" },
  archive: { rpo: "35d", rto: "24h", schedule: "Sun *-*-01..07 04:00", offsite: false, onsiteOnlyReason: "the strategy sends critical data only off-site (cost)" },
};

export const strategySchema = z
  .object({
    /** Human name of the site, used in resource names and reports. @default "homelab" */
    site: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, { error: "expected 2-31 lowercase letters, digits or -" }).default("homelab"),
    hosts,
    datastores: z
      .array(datastore)
      .min(1, { error: "expected at least one PBS datastore" })
      // Hourly critical runs take the first half hour, so the critical datastore's snapshot and
      // maintenance sit past it; the other datastore's snapshot follows the monthly run.
      .default([
        {
          name: "critical", offsite: true, ...DATASTORE_DEFAULTS,
          snapshotSchedule: "*-*-* 05:31", pruneSchedule: "*-*-* 05:35", gcSchedule: "*-*-* 05:40",
          verify: { ...DATASTORE_DEFAULTS.verify, schedule: "Sat *-*-* 06:35" },
        },
        { name: "homelab", offsite: false, ...DATASTORE_DEFAULTS, snapshotSchedule: "*-*-* 06:05", gcSchedule: "*-*-* 06:30", verify: { ...DATASTORE_DEFAULTS.verify, schedule: "Sat *-*-* 07:00" } },
      ]),
    tiers: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, { error: "expected a lowercase tier name" }), tier).default(DEFAULT_TIERS),
    services: z.array(service).min(1, { error: "expected at least one service to back up" }),
    retention: z
      .object({
        /** On-site GFS minimums every prune job keeps. */
        onsite: z
          .object({
            hourly: z.number().int().min(1).default(24),
            daily: z.number().int().min(1).default(7),
            weekly: z.number().int().min(1).default(4),
            monthly: z.number().int().min(1).default(12),
          })
          .strict()
          .prefault({}),
        /** Off-site archive retention per class. */
        offsite: z
          .object({ monthly: duration.default("2y"), yearly: duration.default("5y"), critical: duration.default("7y") })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    exclusions: z
      .object({
        /** vzdump exclude paths for what the strategy does not back up (temp files, caches, ISO images). */
        paths: z.array(z.string().min(1)).default(["/tmp/?*", "/var/tmp/?*", "/var/cache/?*", "*.iso"]),
        /** vzdump's standard excludes (temporary files and caches). @default true */
        stdexcludes: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    network: z
      .object({
        backupVlan: z
          .object({
            id: z.number().int().min(1, { error: "expected a VLAN id from 1 to 4094" }).max(4094, { error: "expected a VLAN id from 1 to 4094" }),
            subnet: cidr,
            /** Declare the VLAN as node interfaces or as an SDN zone and vnet. @default "interface" */
            mode: z.enum(["interface", "sdn"]).default("interface"),
          })
          .strict(),
        /** Other subnets of the site, checked for overlap with the backup VLAN. */
        subnets: z.record(z.string(), cidr).default({}),
        /** How the NAS reaches the off-site endpoint: a VPN or a named egress path. */
        offsitePath: z
          .object({ kind: z.enum(["vpn", "egress"]), name: z.string().min(1), cidr: cidr.default("0.0.0.0/0") })
          .strict()
          .prefault({ kind: "egress", name: "wan" }),
      })
      .strict(),
    security: z
      .object({
        /** Client-side encryption of PBS backups; the strategy requires it. @default true */
        clientSideEncryption: z.boolean().default(true),
        /**
         * Rotate the PBS client encryption key every this many days (the library's KeyRing, set on
         * each PVE storage in place, earlier keys kept while backups made with them exist). A new key
         * stops deduplication against everything stored before (a full new copy per datastore per
         * period), so it is off unless asked for.
         * @default none (PVE's generated key, kept, never rotated)
         */
        encryptionKeyRotationDays: z.number().int().min(30, { error: "expected 30 days or more (each rotation stores a full new copy)" }).max(3650).optional(),
        /** Rotation period of the secrets the topology creates. @default 90 */
        keyRotationDays: z.number().int().min(1).max(3650).default(90),
        /** KMS automatic rotation period (AWS allows 90-2560). @default 365 */
        kmsRotationDays: z.number().int().min(90, { error: "expected 90 to 2560 days (AWS's bounds)" }).max(2560, { error: "expected 90 to 2560 days (AWS's bounds)" }).default(365),
      })
      .strict()
      .prefault({}),
    monitoring: z
      .object({
        capacityThresholdPercent: z.number().int().min(1).max(99).default(80),
        targets: z.array(notificationTarget).default([]),
      })
      .strict()
      .prefault({}),
    agents: z.array(agent).default([]),
    verification: z
      .object({
        restoreTests: z
          .object({
            /** Declare the restore tests (the strategy asks for them; the HB-RESTORE policy checks). @default true */
            enabled: z.boolean().default(true),
            /** PVE node the scratch guests are restored on. @default the first node */
            node: safeId.optional(),
            /** VM ids reserved for scratch guests: no production guest may use one. @default 9900-9999 */
            scratchVmids: z
              .object({ from: z.number().int().min(100).max(999999999).default(9900), to: z.number().int().min(100).max(999999999).default(9999) })
              .strict()
              .prefault({}),
            /** A bridge with no uplink: restored guests must not meet production on the network. @default "vmbr9" */
            bridge: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,9}$/, { error: "expected a PVE bridge name such as vmbr9 (letters, digits, _; at most 10)" }).default("vmbr9"),
            /** PVE storage the scratch disks land on. @default "local-zfs" */
            scratchStorage: safeId.default("local-zfs"),
            /** Random restore test, after the weekly backups. @default "Sun *-*-* 09:00" */
            weekly: calendar.default("Sun *-*-* 09:00"),
            /** Full restore test of `monthlyServices`. @default "Sun *-*-01..07 10:00" */
            monthly: calendar.default("Sun *-*-01..07 10:00"),
            /** Services whose every guest the monthly test restores. @default the services of tiers that go off-site */
            monthlyServices: z.array(safeId).optional(),
            /** Only backups at most this old are picked by the weekly test. @default "7d" */
            maxBackupAge: duration.default("7d"),
            /** How long a restored guest may take to answer. @default "10m" */
            bootTimeout: duration.default("10m"),
            /** JSON lines the report reads. @default "/var/log/homelab-backup/restore-tests.jsonl" */
            log: z.string().regex(/^\/\S+$/, { error: "expected an absolute path" }).default("/var/log/homelab-backup/restore-tests.jsonl"),
            /** Monthly database restore test on each agent with databases. @default "Sun *-*-01..07 11:00" */
            databaseSchedule: calendar.default("Sun *-*-01..07 11:00"),
          })
          .strict()
          .prefault({}),
        checks: z
          .object({
            /** Capacity check on the PBS host and the NAS. @default "*-*-* *:05" */
            capacity: calendar.default("*-*-* *:05"),
            /** Newest backup of every service against its tier's RPO, and long-running jobs. @default "*-*-* *:10" */
            freshness: calendar.default("*-*-* *:10"),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    offsite: z
      .object({
        /**
         * Off-site sync from the NAS, monthly. The strategy's "1st Sunday" cannot be a TrueNAS
         * schedule (cron ORs weekday and day of month), so the 1st of the month it is.
         * @default "*-*-01 04:00"
         */
        syncSchedule: calendar.default("*-*-01 04:00"),
        /**
         * The yearly class's sync: one monthly run's state a year, kept `retention.offsite.yearly`.
         * @default "*-01-01 04:00"
         */
        yearlySyncSchedule: calendar.default("*-01-01 04:00"),
        /**
         * Prices for the cost model, merged over components/offsite/prices.ts (us-east-1 list prices),
         * e.g. `{ aws: { classes: { DEEP_ARCHIVE: { storagePerGbMonth: 0.0018 } } } }` for another region.
         * @default none
         */
        prices: z.record(z.string(), z.unknown()).optional(),
        /** rclone encryption of names and contents on top of SSE-KMS. @default true */
        rcloneEncryption: z.boolean().default(true),
        classes: z.array(offsiteClass).default([
          { name: "monthly", sizeGb: 100, objects: 1000 },
          { name: "yearly", sizeGb: 100, objects: 1000 },
          { name: "critical", sizeGb: 100, objects: 1000 },
        ]),
      })
      .strict()
      .prefault({}),
    protection: z
      .object({
        /** Names of data-bearing resources the user allows `pulumi destroy` to delete. */
        allowDestroy: z
          .array(z.object({ name: z.string().min(1), reason: z.string().min(10, { error: "expected a reason of at least 10 characters" }) }).strict())
          .default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The config as written (before defaults). */
export type StrategyInput = z.input<typeof strategySchema>;
/** The config after schema defaults, before cross-field checks resolve it. */
export type RawStrategy = z.output<typeof strategySchema>;

/** Config keys that hold secrets: never in a committed stack file in plaintext. */
export const SECRET_KEYS = [
  "pbsApiToken",
  "truenasApiKey",
  "pveApiToken",
  "offsiteAccessKeyId",
  "offsiteSecretAccessKey",
  /** A map of notification target name → its secret (gotify token, smtp password, webhook secret). */
  "notificationSecrets",
  /** The SSH private key the library deploys host agents with. */
  "agentSshPrivateKey",
  /** API key of `hosts.truenas.monitorUser` (read-only), for the capacity check on the PBS host. */
  "truenasMonitorApiKey",
  /** The SSH private key the library deploys to PVE nodes and the PBS host with (restore tests, checks, the vzdump hook). */
  "hostSshPrivateKey",
  /** A map of `<agent>.<kind>.<database>` (db01.postgresql.all) → that database's password, for the agents' dumps. */
  "agentDatabasePasswords",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
