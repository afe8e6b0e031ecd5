/** TrueNAS: the secondary tier component, its resources, and the pure schedule and safety checks. */
export { TruenasReplica, validateReplicaArgs } from "./secondary";
export type {
  DatastoreActivity, LocalSnapshotPolicy, Lifetime, OffsiteEncryption, OffsiteSync, PbsSource, ReplicatedDatastore, TruenasEndpoint, TruenasReplicaArgs,
} from "./secondary";
export { calendarToCron, calendarToWindowedCron, CronConversionError } from "./cron";
export type { CronSchedule, WindowedCronSchedule } from "./cron";
export { snapshotTimingProblems, sourceRetentionProblem } from "./pbs-consistency";
export type { DatastoreJob, SnapshotTimingInput } from "./pbs-consistency";
export { authorizedKeyLine, sourceSnapshotUnits } from "./source-snapshots";
export type { SourceSnapshotArgs, SourceSnapshotUnits } from "./source-snapshots";
export { PeriodicSnapshotTask } from "./snapshot-task";
export { ReplicationTask } from "./replication-task";
export { SshConnection, SshKeypair } from "./keychain";
export { CloudSyncCredential, CloudSyncTask } from "./cloud-sync";
export { TruenasClient } from "./client";
export type { TruenasConnection } from "./client";
export type { TruenasConnectionArgs } from "./provider";
