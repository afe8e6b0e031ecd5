/**
 * TrueNAS cloud sync (`cloudsync.credentials.*`, `cloudsync.*`): an S3 credential and a task that
 * copies a NAS path to a bucket with rclone.
 *
 * The task always uses `transfer_mode: "COPY"`: SYNC would delete off-site objects whenever they
 * vanish locally (a deleted or encrypted-by-ransomware file would take its off-site copy with it)
 * and MOVE would delete the local data. Direction is always PUSH.
 *
 * The credential's shape depends on the TrueNAS version (read with `system.version` per call):
 * 25.10 takes `{name, provider: {type: "S3", access_key_id, ...}}`, 25.04 takes
 * `{name, provider: "S3", attributes: {access_key_id, ...}}`. Secrets TrueNAS redacts in
 * `query` (`********`) are carried from state.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CronSchedule } from "./cron";
import type { TruenasClient } from "./client";
import { idOf, isRecord, type Checker, type Props } from "./fields";
import { createdId, makeProvider, queryById, secretOutputs, type ResourceSpec, type TruenasConnectionArgs } from "./provider";
import { checkSchedule } from "./schedule-input";
import { DynamicResource, SerializedProvider } from "../dynamic/serialized-provider";

const REDACTED = "********";

// ---------------------------------------------------------------------------------------------
// Credential

export function checkCloudCredential(c: Checker): void {
  c.string("name", { required: true, nonEmpty: true });
  c.string("accessKeyId", { required: true, nonEmpty: true });
  c.string("secretAccessKey", { required: true, nonEmpty: true });
  c.string("endpoint", { default: "", pattern: /^(|https:\/\/[^\s]+)$/, expected: "empty (AWS) or an https:// endpoint URL" });
  c.string("region", { default: "" });
  c.boolean("skipRegion", { default: false });
  c.boolean("signaturesV2", { default: false });
  c.integer("maxUploadParts", { default: 10000, min: 1 });
  c.boolean("verify", { default: true });
}

async function newCredentialShape(client: TruenasClient): Promise<boolean> {
  const [major, minor] = await client.version();
  return major > 25 || (major === 25 && minor >= 10);
}

function s3Attributes(inputs: Props): Record<string, unknown> {
  return {
    access_key_id: inputs.accessKeyId,
    secret_access_key: inputs.secretAccessKey,
    endpoint: inputs.endpoint,
    region: inputs.region,
    skip_region: inputs.skipRegion,
    signatures_v2: inputs.signaturesV2,
    max_upload_parts: inputs.maxUploadParts,
  };
}

function credentialBody(inputs: Props, modern: boolean): Record<string, unknown> {
  return modern
    ? { name: inputs.name, provider: { type: "S3", ...s3Attributes(inputs) } }
    : { name: inputs.name, provider: "S3", attributes: s3Attributes(inputs) };
}

function secretOrState(live: unknown, state: unknown): unknown {
  return live === undefined || live === REDACTED ? state : live;
}

export const cloudCredentialSpec: ResourceSpec = {
  kind: "cloud credential",
  fields: ["name", "accessKeyId", "secretAccessKey", "endpoint", "region", "skipRegion", "signaturesV2", "maxUploadParts", "verify"],
  stateOnly: ["verify"],
  secretInputs: ["accessKeyId", "secretAccessKey"],
  check: checkCloudCredential,
  async create(client, inputs) {
    const modern = await newCredentialShape(client);
    const body = credentialBody(inputs, modern);
    if (inputs.verify === true) {
      const provider = modern ? body.provider : { provider: "S3", attributes: body.attributes };
      const result = await client.call("cloudsync.credentials.verify", [provider]);
      if (isRecord(result) && result.valid === false) {
        throw new Error(`TrueNAS could not use the S3 credential "${String(inputs.name)}": ${client.redact(String(result.error ?? "no reason given"))}`);
      }
    }
    return { id: createdId("cloud credential", await client.call("cloudsync.credentials.create", [body])) };
  },
  async read(client, id, state) {
    const row = await queryById(client, "cloudsync.credentials", id);
    if (!row) return undefined;
    const p = isRecord(row.provider) ? row.provider : isRecord(row.attributes) ? row.attributes : {};
    const type = isRecord(row.provider) ? row.provider.type : row.provider;
    if (type !== "S3") return undefined;
    return {
      name: row.name,
      accessKeyId: secretOrState(p.access_key_id, state.accessKeyId),
      secretAccessKey: secretOrState(p.secret_access_key, state.secretAccessKey),
      endpoint: p.endpoint,
      region: p.region,
      skipRegion: p.skip_region,
      signaturesV2: p.signatures_v2,
      maxUploadParts: p.max_upload_parts,
    };
  },
  async update(client, id, _olds, news) {
    await client.call("cloudsync.credentials.update", [id, credentialBody(news, await newCredentialShape(client))]);
  },
  async delete(client, id) {
    await client.call("cloudsync.credentials.delete", [id]);
  },
};

const cloudCredentialProvider = new SerializedProvider("truenas-cloud-credential", makeProvider(cloudCredentialSpec));

export interface CloudSyncCredentialArgs {
  readonly connection: pulumi.Input<TruenasConnectionArgs>;
  readonly name: pulumi.Input<string>;
  /** Secret. */
  readonly accessKeyId: pulumi.Input<string>;
  /** Secret. */
  readonly secretAccessKey: pulumi.Input<string>;
  /** S3-compatible endpoint (B2, Wasabi, MinIO). @default "" (AWS) */
  readonly endpoint?: pulumi.Input<string>;
  /** @default "" */
  readonly region?: pulumi.Input<string>;
  /** @default false */
  readonly skipRegion?: pulumi.Input<boolean>;
  /** @default false */
  readonly signaturesV2?: pulumi.Input<boolean>;
  /** @default 10000 */
  readonly maxUploadParts?: pulumi.Input<number>;
  /** Let TrueNAS try the keys (`cloudsync.credentials.verify`) before creating. @default true */
  readonly verify?: pulumi.Input<boolean>;
}

export class CloudSyncCredential extends DynamicResource {
  declare readonly truenasId: pulumi.Output<number>;
  declare readonly name: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: CloudSyncCredentialArgs, opts?: pulumi.CustomResourceOptions) {
    super(cloudCredentialProvider, name, { truenasId: undefined, ...args }, secretOutputs(opts, ["accessKeyId", "secretAccessKey"]), "truenas", "CloudSyncCredential");
  }
}

// ---------------------------------------------------------------------------------------------
// Task

export const STORAGE_CLASSES = ["", "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"] as const;

export function checkCloudSyncTask(c: Checker): void {
  c.string("description", { default: "" });
  c.string("path", { required: true, pattern: /^\/mnt\/[^\s]+$/, expected: "a path under /mnt, e.g. /mnt/tank/replica/critical" });
  c.integer("credentials", { required: true, min: 1 });
  c.string("bucket", { required: true, nonEmpty: true });
  c.string("folder", { default: "" });
  c.boolean("fastList", { default: false });
  c.string("region", { default: "" });
  c.oneOf("serverSideEncryption", ["AES256"] as const);
  c.oneOf("storageClass", STORAGE_CLASSES, { default: "" });
  checkSchedule(c, "schedule", { windowed: false, required: true });
  c.boolean("snapshot", { default: false });
  c.strings("include", { default: [] });
  c.strings("exclude", { default: [] });
  c.integer("transfers", { min: 1 });
  const direction = c.string("direction", { default: "PUSH" });
  if (direction !== undefined && direction !== "PUSH") c.fail("direction", `${direction} would write into the NAS from the bucket; this task only pushes off-site (PUSH)`);
  const mode = c.string("transferMode", { default: "COPY" });
  if (mode === "SYNC") c.fail("transferMode", "SYNC deletes off-site copies of files deleted (or encrypted away) on the NAS; only COPY is allowed");
  else if (mode === "MOVE") c.fail("transferMode", "MOVE deletes the NAS's own data after uploading it; only COPY is allowed");
  else if (mode !== undefined && mode !== "COPY") c.fail("transferMode", `${JSON.stringify(mode)} is not COPY`);
  const encryption = c.boolean("encryption", { default: false });
  const filenames = c.boolean("filenameEncryption", { default: false });
  const password = c.string("encryptionPassword");
  const salt = c.string("encryptionSalt");
  if (encryption === true) {
    if (password === undefined && c.inputs.encryptionPassword === undefined) c.fail("encryptionPassword", "rclone encryption needs a password (secret)");
    if (salt === undefined && c.inputs.encryptionSalt === undefined) c.fail("encryptionSalt", "rclone encryption needs a salt (secret); without one every object shares rclone's fixed salt");
  } else if (encryption === false) {
    if (filenames === true) c.fail("filenameEncryption", "filename encryption needs encryption: true");
    if (password !== undefined || salt !== undefined) c.fail("encryptionPassword", "a password or salt without encryption: true would be ignored; enable encryption or remove them");
  }
  c.boolean("createEmptySrcDirs", { default: false });
  c.boolean("followSymlinks", { default: false });
  c.boolean("enabled", { default: true });
  c.boolean("dryRunOnCreate", { default: false });
}

function taskToApi(inputs: Props): Record<string, unknown> {
  return {
    description: inputs.description,
    path: inputs.path,
    credentials: inputs.credentials,
    attributes: {
      bucket: inputs.bucket,
      folder: inputs.folder,
      fast_list: inputs.fastList,
      region: inputs.region,
      encryption: inputs.serverSideEncryption ?? null,
      storage_class: inputs.storageClass,
    },
    schedule: inputs.schedule,
    snapshot: inputs.snapshot,
    include: inputs.include,
    exclude: inputs.exclude,
    transfers: inputs.transfers ?? null,
    direction: "PUSH",
    transfer_mode: "COPY",
    encryption: inputs.encryption,
    filename_encryption: inputs.filenameEncryption,
    encryption_password: inputs.encryptionPassword ?? "",
    encryption_salt: inputs.encryptionSalt ?? "",
    create_empty_src_dirs: inputs.createEmptySrcDirs,
    follow_symlinks: inputs.followSymlinks,
    enabled: inputs.enabled,
  };
}

export function cloudSyncFromApi(row: Record<string, unknown>, state: Props): Props {
  const a = isRecord(row.attributes) ? row.attributes : {};
  const s = isRecord(row.schedule) ? row.schedule : {};
  const secret = (live: unknown, key: string): unknown => (live === "" ? undefined : secretOrState(live, state[key]));
  return {
    description: row.description,
    path: row.path,
    credentials: idOf(row.credentials),
    bucket: a.bucket,
    folder: a.folder,
    fastList: a.fast_list,
    region: a.region,
    serverSideEncryption: a.encryption ?? undefined,
    storageClass: a.storage_class,
    schedule: { minute: s.minute, hour: s.hour, dom: s.dom, month: s.month, dow: s.dow },
    snapshot: row.snapshot,
    include: row.include,
    exclude: row.exclude,
    transfers: row.transfers ?? undefined,
    direction: row.direction,
    transferMode: row.transfer_mode,
    encryption: row.encryption,
    filenameEncryption: row.filename_encryption,
    encryptionPassword: secret(row.encryption_password, "encryptionPassword"),
    encryptionSalt: secret(row.encryption_salt, "encryptionSalt"),
    createEmptySrcDirs: row.create_empty_src_dirs,
    followSymlinks: row.follow_symlinks,
    enabled: row.enabled,
  };
}

async function dryRun(client: TruenasClient, id: number): Promise<void> {
  try {
    await client.callJob("cloudsync.sync", [id, { dry_run: true }]);
  } catch (error) {
    throw new Error(`the cloud sync task #${id} was saved, but its dry run failed, so its first real run would too: ${(error as Error).message}`);
  }
}

export const cloudSyncSpec: ResourceSpec = {
  kind: "cloud sync task",
  fields: [
    "description", "path", "credentials", "bucket", "folder", "fastList", "region", "serverSideEncryption", "storageClass",
    "schedule", "snapshot", "include", "exclude", "transfers", "direction", "transferMode", "encryption", "filenameEncryption",
    "encryptionPassword", "encryptionSalt", "createEmptySrcDirs", "followSymlinks", "enabled", "dryRunOnCreate",
  ],
  stateOnly: ["dryRunOnCreate"],
  secretInputs: ["encryptionPassword", "encryptionSalt"],
  check: checkCloudSyncTask,
  async create(client, inputs) {
    const id = createdId("cloud sync task", await client.call("cloudsync.create", [taskToApi(inputs)]));
    if (inputs.dryRunOnCreate === true) await dryRun(client, id);
    return { id };
  },
  async read(client, id, state) {
    const row = await queryById(client, "cloudsync", id);
    return row && cloudSyncFromApi(row, state);
  },
  async update(client, id, _olds, news) {
    await client.call("cloudsync.update", [id, taskToApi(news)]);
  },
  async delete(client, id) {
    // Deleting the task leaves every uploaded object in the bucket.
    await client.call("cloudsync.delete", [id]);
  },
};

const cloudSyncProvider = new SerializedProvider("truenas-cloud-sync", makeProvider(cloudSyncSpec));

export interface CloudSyncTaskArgs {
  readonly connection: pulumi.Input<TruenasConnectionArgs>;
  /** Shown in the TrueNAS UI. @default "" */
  readonly description?: pulumi.Input<string>;
  /** NAS path to upload, under /mnt. */
  readonly path: pulumi.Input<string>;
  /** Id of the S3 credential (`CloudSyncCredential.truenasId`). */
  readonly credentials: pulumi.Input<number>;
  readonly bucket: pulumi.Input<string>;
  /** Prefix in the bucket. @default "" */
  readonly folder?: pulumi.Input<string>;
  /** @default false */
  readonly fastList?: pulumi.Input<boolean>;
  /** @default "" */
  readonly region?: pulumi.Input<string>;
  /** S3 server-side encryption by S3-managed keys. @default none (the bucket's default encryption applies) */
  readonly serverSideEncryption?: pulumi.Input<"AES256">;
  /** @default "" (the bucket's default) */
  readonly storageClass?: pulumi.Input<(typeof STORAGE_CLASSES)[number]>;
  /** When to upload (use `calendarToCron`). */
  readonly schedule: pulumi.Input<CronSchedule>;
  /** Upload from a temporary snapshot. @default false */
  readonly snapshot?: pulumi.Input<boolean>;
  /** @default [] */
  readonly include?: pulumi.Input<pulumi.Input<string>[]>;
  /** @default [] */
  readonly exclude?: pulumi.Input<pulumi.Input<string>[]>;
  /** Parallel transfers. @default rclone's */
  readonly transfers?: pulumi.Input<number>;
  /** Only PUSH. @default "PUSH" */
  readonly direction?: pulumi.Input<"PUSH">;
  /** Only COPY. @default "COPY" */
  readonly transferMode?: pulumi.Input<"COPY">;
  /** rclone crypt of contents. @default false */
  readonly encryption?: pulumi.Input<boolean>;
  /** rclone crypt of names too. @default false */
  readonly filenameEncryption?: pulumi.Input<boolean>;
  /** Secret; required with encryption. */
  readonly encryptionPassword?: pulumi.Input<string>;
  /** Secret; required with encryption. */
  readonly encryptionSalt?: pulumi.Input<string>;
  /** @default false */
  readonly createEmptySrcDirs?: pulumi.Input<boolean>;
  /** @default false */
  readonly followSymlinks?: pulumi.Input<boolean>;
  /** @default true */
  readonly enabled?: pulumi.Input<boolean>;
  /** Run a dry-run sync after create (a job) to prove bucket, keys and encryption work. @default false */
  readonly dryRunOnCreate?: pulumi.Input<boolean>;
}

export class CloudSyncTask extends DynamicResource {
  declare readonly truenasId: pulumi.Output<number>;
  declare readonly path: pulumi.Output<string>;
  declare readonly bucket: pulumi.Output<string>;
  declare readonly folder: pulumi.Output<string>;
  declare readonly schedule: pulumi.Output<CronSchedule>;
  declare readonly transferMode: pulumi.Output<"COPY">;

  constructor(name: string, args: CloudSyncTaskArgs, opts?: pulumi.CustomResourceOptions) {
    super(cloudSyncProvider, name, { truenasId: undefined, ...args }, secretOutputs(opts, ["encryptionPassword", "encryptionSalt"]), "truenas", "CloudSyncTask");
  }
}
