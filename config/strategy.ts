/**
 * The typed strategy: plain data, validated once at the program's edge, that every component
 * receives. Nothing here is a Pulumi `Input`; nothing here reads `pulumi.Config`.
 */
import type { CalendarEvent } from "./calendar";
import type { RawStrategy } from "./schema";
import type { PriceOverrides } from "../components/offsite/prices";

/** PBS / vzdump `keep-*` options. */
export interface KeepPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
}

export interface Tier {
  name: string;
  rpo: string;
  rpoMinutes: number;
  rto: string;
  rtoMinutes: number;
  schedule: CalendarEvent;
  offsite: boolean;
  onsiteOnlyReason?: string;
}

export interface Service {
  name: string;
  description?: string;
  tier: Tier;
  guests: { vmids?: number[]; pool?: string; tags?: string[] };
  schedule: CalendarEvent;
  /** Worst-case minutes between two runs of the schedule. */
  intervalMinutes: number;
  /** On-site retention as written (e.g. "14d") and in days. */
  retention: string;
  retentionDays: number;
  /** The prune policy: the service's retention combined with the on-site GFS minimums. */
  keep: KeepPolicy;
  datastore: string;
  /** PBS namespace, when the datastore uses one per tier. */
  namespace?: string;
  mode: "snapshot" | "suspend" | "stop";
  offsite: boolean;
  expectedDurationMinutes: number;
  sizeGb: number;
  /** Dead-man's switch URL pinged by the vzdump hook. */
  healthcheckUrl?: string;
  /** Run in a restored guest to prove the service works. */
  checkCommand?: string;
}

export type Datastore = Omit<RawStrategy["datastores"][number], "path" | "dataset"> & {
  /** Mountpoint of the dataset on the PBS host. */
  path: string;
  gc: CalendarEvent;
  prune: CalendarEvent;
  /** When the PBS host snapshots the dataset, and when TrueNAS pulls it. */
  snapshot: CalendarEvent;
  replication: CalendarEvent;
  /** Where the replica lands on TrueNAS. */
  replicaDataset: string;
  replicaRetentionDays: number;
  verifySchedule: CalendarEvent;
  /** ZFS dataset of the datastore on the PBS host. */
  dataset: string;
  /** Namespaces the datastore holds (empty: root only). */
  namespaceNames: string[];
};

export interface OffsiteClass {
  name: "monthly" | "yearly" | "critical";
  retention: string;
  retentionDays: number;
  sizeGb: number;
  objects: number;
}

export interface Strategy {
  site: string;
  hosts: RawStrategy["hosts"];
  datastores: Datastore[];
  tiers: Tier[];
  services: Service[];
  retention: RawStrategy["retention"];
  exclusions: RawStrategy["exclusions"];
  network: RawStrategy["network"];
  security: RawStrategy["security"];
  monitoring: RawStrategy["monitoring"];
  agents: (RawStrategy["agents"][number] & { schedule: CalendarEvent; keep: KeepPolicy; tier: Tier })[];
  offsite: {
    /** The monthly and critical classes' sync. */
    syncSchedule: CalendarEvent;
    /** The yearly class's sync. */
    yearlySyncSchedule: CalendarEvent;
    rcloneEncryption: boolean;
    classes: OffsiteClass[];
    /** Cost-model price overrides, checked against the price table. */
    prices?: PriceOverrides;
  };
  verification: {
    restoreTests: Omit<RawStrategy["verification"]["restoreTests"], "node" | "monthlyServices"> & {
      /** The PVE node scratch guests are restored on. */
      node: string;
      weeklyEvent: CalendarEvent;
      monthlyEvent: CalendarEvent;
      databaseEvent: CalendarEvent;
      /** Services the monthly full restore covers (default: the off-site ones). */
      monthlyServices: string[];
      maxBackupAgeMinutes: number;
      bootTimeoutMinutes: number;
    };
    checks: { capacity: CalendarEvent; freshness: CalendarEvent };
  };
  protection: RawStrategy["protection"];
  /** NAS datasets snapshotted by TrueNAS itself (the file server's data). */
  nasDatasets: { dataset: string; schedule: CalendarEvent; retentionDays: number; recursive: boolean }[];
}
