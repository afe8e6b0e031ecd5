/**
 * A TrueNAS replication task (`replication.*`), checked against the rules of the middleware's
 * replication plugin so that a task TrueNAS would refuse fails at preview with TrueNAS's wording.
 *
 * Beyond TrueNAS's own rules, three settings that can destroy or expose replicated data are
 * refused: `allow_from_scratch` (destroys every target snapshot when no common one is found),
 * retention `SOURCE` (a source that loses or deletes snapshots makes the replica delete them too,
 * the path ransomware on the PBS host would take), and the unencrypted SSH+NETCAT transport.
 *
 * `query` returns `ssh_credentials` and `periodic_snapshot_tasks` as objects while create and
 * update take ids; reads normalise them to ids so an applied task shows no diff.
 */
import * as pulumi from "@pulumi/pulumi";
import type { WindowedCronSchedule } from "./cron";
import { DATASET, DATASET_EXPECTED, idOf, isRecord, LIFETIME_UNITS, type Checker, type LifetimeUnit, type Props } from "./fields";
import { namingSchemaProblem } from "./naming-schema";
import { createdId, makeProvider, queryById, secretOutputs, type ResourceSpec, type TruenasConnectionArgs } from "./provider";
import { checkSchedule, hasSchedule } from "./schedule-input";
import { DynamicResource, SerializedProvider } from "../dynamic/serialized-provider";

const NAMESPACE = "replication";

export const DIRECTIONS = ["PUSH", "PULL"] as const;
export const TRANSPORTS = ["SSH", "LOCAL"] as const;
export const READONLY_MODES = ["SET", "REQUIRE", "IGNORE"] as const;
export const RETENTION_POLICIES = ["CUSTOM", "NONE"] as const;
export const COMPRESSIONS = ["LZ4", "PIGZ", "PLZIP"] as const;

export function checkReplicationTask(c: Checker): void {
  c.string("name", { required: true, nonEmpty: true });
  const direction = c.oneOf("direction", DIRECTIONS, { required: true });
  const rawTransport = c.string("transport", { required: true });
  let transport: (typeof TRANSPORTS)[number] | undefined;
  if (rawTransport === "SSH+NETCAT") c.fail("transport", "SSH+NETCAT sends the data unencrypted; use SSH");
  else if (rawTransport !== undefined) transport = c.oneOf("transport", TRANSPORTS, { required: true });
  c.integer("sshCredentials", { min: 1 });
  c.boolean("sudo", { default: false });
  const sources = c.strings("sourceDatasets", { required: true, minLength: 1 });
  c.string("targetDataset", { required: true, pattern: DATASET, expected: DATASET_EXPECTED });
  const recursive = c.boolean("recursive", { required: true });
  const exclude = c.strings("exclude", { default: [] });
  c.boolean("properties", { default: true });
  c.boolean("replicate", { default: false });
  const tasks = c.integers("periodicSnapshotTasks", { default: [], unique: true });
  const namingSchema = c.strings("namingSchema", { default: [] });
  const alsoInclude = c.strings("alsoIncludeNamingSchema", { default: [] });
  const auto = c.boolean("auto", { required: true });
  checkSchedule(c, "schedule", { windowed: true, required: false });
  checkSchedule(c, "restrictSchedule", { windowed: true, required: false });
  const onlyMatching = c.boolean("onlyMatchingSchedule", { default: false });
  c.oneOf("readonly", READONLY_MODES, { default: "SET" });
  const holdPending = c.boolean("holdPendingSnapshots", { default: false });
  const rawRetention = c.string("retentionPolicy", { required: true });
  let retention: (typeof RETENTION_POLICIES)[number] | undefined;
  if (rawRetention === "SOURCE") {
    c.fail("retentionPolicy", "SOURCE deletes replica snapshots whenever they vanish from the source, so a compromised source erases its replica; use CUSTOM (a lifetime) or NONE");
  } else if (rawRetention !== undefined) retention = c.oneOf("retentionPolicy", RETENTION_POLICIES, { required: true });
  const lifetimeValue = c.integer("lifetimeValue", { min: 1 });
  const lifetimeUnit = c.oneOf("lifetimeUnit", LIFETIME_UNITS);
  const compression = c.oneOf("compression", COMPRESSIONS);
  const speedLimit = c.integer("speedLimit", { min: 1 });
  c.boolean("largeBlock", { default: true });
  c.boolean("compressed", { default: true });
  c.integer("retries", { default: 5, min: 1 });
  c.boolean("enabled", { default: true });
  if (c.boolean("encryption", { default: false }) === true) {
    c.fail("encryption", "ZFS encryption of the replica is not supported here; the PBS chunks are already encrypted client-side");
  }
  if (c.boolean("allowFromScratch", { default: false }) === true) {
    c.fail("allowFromScratch", "allow_from_scratch destroys every snapshot on the target when none matches the source; resolve a broken chain by hand instead");
  }

  const schedule = hasSchedule(c.inputs.schedule);
  const sshKnown = c.inputs.sshCredentials !== undefined;

  if (direction === "PUSH") {
    if (namingSchema && namingSchema.length > 0) c.fail("namingSchema", "This field has no sense for push replication");
    if (tasks && tasks.length === 0 && alsoInclude && alsoInclude.length === 0) {
      c.fail("periodicSnapshotTasks", 'You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" for push replication task');
    }
    if (schedule && tasks && tasks.length > 0) c.fail("schedule", "Push replication can't be bound to periodic snapshot task and have schedule at the same time");
    if (!schedule && auto === true && tasks && tasks.length === 0) c.fail("auto", "Push replication that runs automatically must be either bound to periodic snapshot task or have schedule");
  }
  if (direction === "PULL") {
    if (!schedule && auto === true) c.fail("auto", "Pull replication that runs automatically must have schedule");
    if (tasks && tasks.length > 0) c.fail("periodicSnapshotTasks", "Pull replication can't be bound to periodic snapshot task");
    if (namingSchema && namingSchema.length === 0) c.fail("namingSchema", "Naming schema is required for pull replication");
    if (alsoInclude && alsoInclude.length > 0) c.fail("alsoIncludeNamingSchema", "This field has no sense for pull replication");
    if (holdPending === true) c.fail("holdPendingSnapshots", "Pull replication tasks can't hold pending snapshots because they don't do source retention");
    if (hasSchedule(c.inputs.restrictSchedule)) c.fail("restrictSchedule", "restrict_schedule only applies to push replication bound to periodic snapshot tasks");
  }
  if (transport === "LOCAL") {
    if (sshKnown) c.fail("sshCredentials", "Remote credentials have no sense for local replication");
    if (compression !== undefined) c.fail("compression", "Compression has no sense for local replication");
    if (speedLimit !== undefined) c.fail("speedLimit", "Speed limit has no sense for local replication");
  } else if (transport === "SSH" && !sshKnown) {
    c.fail("sshCredentials", "SSH Credentials are required for non-local replication");
  }
  if (recursive === false && exclude && exclude.length > 0) c.fail("exclude", "Excluding child datasets is only supported for recursive replication");
  if (exclude && sources) {
    exclude.forEach((e, i) => {
      if (!sources.some((s) => e.startsWith(`${s}/`))) c.fail(`exclude[${i}]`, "This dataset is not a child of any of source datasets");
    });
  }
  sources?.forEach((s, i) => {
    if (!DATASET.test(s)) c.fail(`sourceDatasets[${i}]`, `"${s}" is not ${DATASET_EXPECTED}`);
  });
  if (schedule && auto === false) c.fail("schedule", "You can't have schedule for replication that does not run automatically");
  if (!schedule && onlyMatching === true) c.fail("onlyMatchingSchedule", "You can't have only-matching-schedule without schedule");
  if (retention === "CUSTOM") {
    if (lifetimeValue === undefined && c.inputs.lifetimeValue === undefined) c.fail("lifetimeValue", "This field is required for custom retention policy");
    if (lifetimeUnit === undefined && c.inputs.lifetimeUnit === undefined) c.fail("lifetimeUnit", "This field is required for custom retention policy");
  } else if (retention !== undefined) {
    if (c.inputs.lifetimeValue !== undefined) c.fail("lifetimeValue", "This field has no sense for specified retention policy");
    if (c.inputs.lifetimeUnit !== undefined) c.fail("lifetimeUnit", "This field has no sense for specified retention policy");
  }
  [...(namingSchema ?? []).map((s, i) => ["namingSchema", s, i] as const), ...(alsoInclude ?? []).map((s, i) => ["alsoIncludeNamingSchema", s, i] as const)].forEach(
    ([key, s, i]) => {
      const problem = namingSchemaProblem(s);
      if (problem) c.fail(`${key}[${i}]`, problem);
    },
  );
}

function toApi(inputs: Props): Record<string, unknown> {
  return {
    name: inputs.name,
    direction: inputs.direction,
    transport: inputs.transport,
    ssh_credentials: inputs.sshCredentials ?? null,
    sudo: inputs.sudo,
    source_datasets: inputs.sourceDatasets,
    target_dataset: inputs.targetDataset,
    recursive: inputs.recursive,
    exclude: inputs.exclude,
    properties: inputs.properties,
    replicate: inputs.replicate,
    periodic_snapshot_tasks: inputs.periodicSnapshotTasks,
    naming_schema: inputs.namingSchema,
    also_include_naming_schema: inputs.alsoIncludeNamingSchema,
    auto: inputs.auto,
    schedule: inputs.schedule ?? null,
    restrict_schedule: inputs.restrictSchedule ?? null,
    only_matching_schedule: inputs.onlyMatchingSchedule,
    readonly: inputs.readonly,
    hold_pending_snapshots: inputs.holdPendingSnapshots,
    retention_policy: inputs.retentionPolicy,
    lifetime_value: inputs.lifetimeValue ?? null,
    lifetime_unit: inputs.lifetimeUnit ?? null,
    compression: inputs.compression ?? null,
    speed_limit: inputs.speedLimit ?? null,
    large_block: inputs.largeBlock,
    compressed: inputs.compressed,
    retries: inputs.retries,
    enabled: inputs.enabled,
    encryption: inputs.encryption,
    allow_from_scratch: inputs.allowFromScratch,
  };
}

function scheduleFromApi(value: unknown): Record<string, unknown> | undefined {
  if (!isRecord(value)) return undefined;
  const { minute, hour, dom, month, dow, begin, end } = value;
  return { minute, hour, dom, month, dow, begin, end };
}

export function replicationFromApi(row: Record<string, unknown>): Props {
  return {
    name: row.name,
    direction: row.direction,
    transport: row.transport,
    sshCredentials: idOf(row.ssh_credentials),
    sudo: row.sudo,
    sourceDatasets: row.source_datasets,
    targetDataset: row.target_dataset,
    recursive: row.recursive,
    exclude: row.exclude,
    properties: row.properties,
    replicate: row.replicate,
    periodicSnapshotTasks: Array.isArray(row.periodic_snapshot_tasks) ? row.periodic_snapshot_tasks.map(idOf) : [],
    namingSchema: row.naming_schema,
    alsoIncludeNamingSchema: row.also_include_naming_schema,
    auto: row.auto,
    schedule: scheduleFromApi(row.schedule),
    restrictSchedule: scheduleFromApi(row.restrict_schedule),
    onlyMatchingSchedule: row.only_matching_schedule,
    readonly: row.readonly,
    holdPendingSnapshots: row.hold_pending_snapshots,
    retentionPolicy: row.retention_policy,
    lifetimeValue: row.lifetime_value ?? undefined,
    lifetimeUnit: row.lifetime_unit ?? undefined,
    compression: row.compression ?? undefined,
    speedLimit: row.speed_limit ?? undefined,
    largeBlock: row.large_block,
    compressed: row.compressed,
    retries: row.retries,
    enabled: row.enabled,
    encryption: row.encryption,
    allowFromScratch: row.allow_from_scratch,
  };
}

export const replicationSpec: ResourceSpec = {
  kind: "replication task",
  fields: [
    "name", "direction", "transport", "sshCredentials", "sudo", "sourceDatasets", "targetDataset", "recursive", "exclude",
    "properties", "replicate", "periodicSnapshotTasks", "namingSchema", "alsoIncludeNamingSchema", "auto", "schedule",
    "restrictSchedule", "onlyMatchingSchedule", "readonly", "holdPendingSnapshots", "retentionPolicy", "lifetimeValue",
    "lifetimeUnit", "compression", "speedLimit", "largeBlock", "compressed", "retries", "enabled", "encryption", "allowFromScratch",
  ],
  // The official TrueNAS Terraform provider replaces on these too: they change what the task is.
  replaceOn: ["direction", "transport"],
  check: checkReplicationTask,
  async create(client, inputs) {
    return { id: createdId("replication task", await client.call(`${NAMESPACE}.create`, [toApi(inputs)])) };
  },
  async read(client, id) {
    const row = await queryById(client, NAMESPACE, id);
    return row && replicationFromApi(row);
  },
  async update(client, id, _olds, news) {
    await client.call(`${NAMESPACE}.update`, [id, toApi(news)]);
  },
  async delete(client, id) {
    // Deleting a task stops future runs; the replicated datasets and snapshots stay on the NAS.
    await client.call(`${NAMESPACE}.delete`, [id]);
  },
};

const replicationProvider = new SerializedProvider("truenas-replication", makeProvider(replicationSpec));

export interface ReplicationTaskArgs {
  readonly connection: pulumi.Input<TruenasConnectionArgs>;
  readonly name: pulumi.Input<string>;
  /** PULL: this NAS fetches from the remote; PUSH: it sends. Replaces the task when changed. */
  readonly direction: pulumi.Input<(typeof DIRECTIONS)[number]>;
  /** Replaces the task when changed. */
  readonly transport: pulumi.Input<(typeof TRANSPORTS)[number]>;
  /** Id of an SSH_CREDENTIALS keychain credential (`SshConnection.truenasId`); required for SSH. */
  readonly sshCredentials?: pulumi.Input<number>;
  /** Run `zfs` on the remote with sudo. @default false */
  readonly sudo?: pulumi.Input<boolean>;
  readonly sourceDatasets: pulumi.Input<pulumi.Input<string>[]>;
  readonly targetDataset: pulumi.Input<string>;
  readonly recursive: pulumi.Input<boolean>;
  /** @default [] */
  readonly exclude?: pulumi.Input<pulumi.Input<string>[]>;
  /** Send dataset properties. @default true */
  readonly properties?: pulumi.Input<boolean>;
  /** Full-filesystem replication stream (-R). @default false */
  readonly replicate?: pulumi.Input<boolean>;
  /** PUSH only: snapshot task ids whose snapshots are sent. @default [] */
  readonly periodicSnapshotTasks?: pulumi.Input<pulumi.Input<number>[]>;
  /** PULL only (required there): schemas of the source's snapshot names. @default [] */
  readonly namingSchema?: pulumi.Input<pulumi.Input<string>[]>;
  /** PUSH only. @default [] */
  readonly alsoIncludeNamingSchema?: pulumi.Input<pulumi.Input<string>[]>;
  /** Run on `schedule` (PULL) or after bound tasks (PUSH). */
  readonly auto: pulumi.Input<boolean>;
  /** Only with `auto`. */
  readonly schedule?: pulumi.Input<WindowedCronSchedule>;
  /** PUSH with bound tasks only. */
  readonly restrictSchedule?: pulumi.Input<WindowedCronSchedule>;
  /** @default false */
  readonly onlyMatchingSchedule?: pulumi.Input<boolean>;
  /** Destination readonly property: SET it, REQUIRE it, or IGNORE. @default "SET" */
  readonly readonly?: pulumi.Input<(typeof READONLY_MODES)[number]>;
  /** PUSH only. @default false */
  readonly holdPendingSnapshots?: pulumi.Input<boolean>;
  /** CUSTOM (needs lifetimeValue/Unit) or NONE. SOURCE is refused. */
  readonly retentionPolicy: pulumi.Input<(typeof RETENTION_POLICIES)[number]>;
  readonly lifetimeValue?: pulumi.Input<number>;
  readonly lifetimeUnit?: pulumi.Input<LifetimeUnit>;
  /** SSH stream compression. */
  readonly compression?: pulumi.Input<(typeof COMPRESSIONS)[number]>;
  /** Bytes per second. */
  readonly speedLimit?: pulumi.Input<number>;
  /** @default true */
  readonly largeBlock?: pulumi.Input<boolean>;
  /** @default true */
  readonly compressed?: pulumi.Input<boolean>;
  /** @default 5 */
  readonly retries?: pulumi.Input<number>;
  /** @default true */
  readonly enabled?: pulumi.Input<boolean>;
  /** Must stay false. @default false */
  readonly encryption?: pulumi.Input<boolean>;
  /** Must stay false. @default false */
  readonly allowFromScratch?: pulumi.Input<boolean>;
}

export class ReplicationTask extends DynamicResource {
  declare readonly truenasId: pulumi.Output<number>;
  declare readonly name: pulumi.Output<string>;
  declare readonly direction: pulumi.Output<string>;
  declare readonly sourceDatasets: pulumi.Output<string[]>;
  declare readonly targetDataset: pulumi.Output<string>;
  declare readonly namingSchema: pulumi.Output<string[]>;
  declare readonly schedule: pulumi.Output<WindowedCronSchedule | undefined>;
  declare readonly retentionPolicy: pulumi.Output<string>;
  declare readonly lifetimeValue: pulumi.Output<number | undefined>;
  declare readonly lifetimeUnit: pulumi.Output<LifetimeUnit | undefined>;

  constructor(name: string, args: ReplicationTaskArgs, opts?: pulumi.CustomResourceOptions) {
    super(replicationProvider, name, { truenasId: undefined, ...args }, secretOutputs(opts), "truenas", "ReplicationTask");
  }
}
