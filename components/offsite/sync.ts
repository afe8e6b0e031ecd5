/**
 * The NAS side of the off-site tier: what the TrueNAS Cloud Sync task for each retention class
 * must look like, as a plain object the TrueNAS component's CloudSyncTask takes.
 */
import { CalendarError, parseCalendarEvent } from "../../config/calendar";
import type { AwsStorageClass } from "./prices";
import type { ClassPlan, RetentionClassName } from "./retention";

/**
 * The strategy's monthly sync, first Sunday 04:00. The yearly class takes the first Sunday of
 * January, so each yearly archive is one monthly run's state, kept 5 years.
 */
export const DEFAULT_SYNC_SCHEDULES: { readonly [K in RetentionClassName]: string } = {
  monthly: "Sun *-*-01..07 04:00",
  yearly: "Sun *-01-01..07 04:00",
  critical: "Sun *-*-01..07 04:00",
};

/** A NAS dataset the off-site tier may carry. */
export interface SyncDataset {
  /** ZFS dataset, e.g. `tank/replica/critical` (mounted at /mnt/<dataset>). */
  readonly dataset: string;
  /** Only critical data goes off-site (the strategy: "critical data only", for cost). */
  readonly critical: boolean;
}

export interface OffsiteSyncInput {
  readonly retentionClass: RetentionClassName;
  readonly bucket: string;
  readonly datasets: readonly SyncDataset[];
  /** systemd calendar event. @default DEFAULT_SYNC_SCHEDULES[retentionClass] */
  readonly schedule?: string;
  /** Prefix inside the bucket. @default "" (the bucket root) */
  readonly folder?: string;
  /** rclone crypt of the contents. @default true */
  readonly encrypt?: boolean;
  /** rclone crypt of the file and directory names too. @default the value of `encrypt` */
  readonly encryptFilenames?: boolean;
  /** Class objects are uploaded to; "" leaves it to the provider (B2, Wasabi, MinIO have one). @default "" */
  readonly storageClass?: AwsStorageClass | "";
}

/** The Cloud Sync task's arguments, in the shape the TrueNAS component's CloudSyncTask takes. */
export interface OffsiteSyncSpec {
  /** COPY only: SYNC deletes off-site copies of files that vanish (or get encrypted away) on the NAS; MOVE deletes the NAS's own data. */
  readonly transferMode: "COPY";
  /** PUSH only: the task never writes into the NAS. */
  readonly direction: "PUSH";
  readonly bucket: string;
  readonly folder: string;
  /** Critical datasets only. */
  readonly datasets: readonly string[];
  /** systemd calendar event as written (the TrueNAS component converts it to cron). */
  readonly schedule: string;
  readonly encryption: { readonly enabled: boolean; readonly filenameEncryption: boolean };
  /** Uploading straight into the class skips a lifecycle transition fee per object. */
  readonly storageClass: AwsStorageClass | "";
  readonly description: string;
}

/**
 * The Cloud Sync task for one retention class.
 * @throws when no dataset is critical, the schedule is not a calendar event, or names are
 *   encrypted without contents
 */
export function describeOffsiteSync(input: OffsiteSyncInput): OffsiteSyncSpec {
  const datasets = input.datasets.filter((d) => d.critical).map((d) => d.dataset);
  if (datasets.length === 0) {
    throw new Error(
      `off-site sync ${input.retentionClass}: none of ${input.datasets.length === 0 ? "the (no) datasets" : input.datasets.map((d) => d.dataset).join(", ")} is critical; expected at least one critical dataset (only critical data goes off-site)`,
    );
  }
  const schedule = input.schedule ?? DEFAULT_SYNC_SCHEDULES[input.retentionClass];
  try {
    parseCalendarEvent(schedule);
  } catch (e) {
    if (e instanceof CalendarError) throw new Error(`off-site sync ${input.retentionClass}: schedule ${JSON.stringify(schedule)} is invalid: ${e.message}`);
    throw e;
  }
  const enabled = input.encrypt ?? true;
  const filenameEncryption = input.encryptFilenames ?? enabled;
  if (filenameEncryption && !enabled) {
    throw new Error(`off-site sync ${input.retentionClass}: encryptFilenames is true but encrypt is false; expected encrypt: true (rclone crypt encrypts names only with contents)`);
  }
  return {
    transferMode: "COPY",
    direction: "PUSH",
    bucket: input.bucket,
    folder: input.folder ?? "",
    datasets,
    schedule,
    encryption: { enabled, filenameEncryption },
    storageClass: input.storageClass ?? "",
    description: `homelab-backup: off-site ${input.retentionClass} archive of ${datasets.join(", ")}`,
  };
}

/** One Cloud Sync task per retention class of a planned archive, all from the same critical datasets. */
export function describeOffsiteSyncs(
  classes: readonly Pick<ClassPlan, "name" | "bucket" | "storageClass">[],
  datasets: readonly SyncDataset[],
  options: { readonly encrypt?: boolean; readonly encryptFilenames?: boolean; readonly folder?: string; readonly schedules?: Partial<Record<RetentionClassName, string>> } = {},
): OffsiteSyncSpec[] {
  return classes.map((c) =>
    describeOffsiteSync({
      retentionClass: c.name,
      bucket: c.bucket,
      datasets,
      ...(options.schedules?.[c.name] !== undefined ? { schedule: options.schedules[c.name] as string } : {}),
      ...(options.folder !== undefined ? { folder: options.folder } : {}),
      ...(options.encrypt !== undefined ? { encrypt: options.encrypt } : {}),
      ...(options.encryptFilenames !== undefined ? { encryptFilenames: options.encryptFilenames } : {}),
      storageClass: c.storageClass ?? "",
    }),
  );
}
