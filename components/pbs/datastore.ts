/**
 * A PBS datastore (`/config/datastore`). Name and path are immutable; the rest is updated in place.
 *
 * Deliberate habits:
 * - `notification-mode` is always `notification-system`: PBS defaults API-created stores to
 *   legacy sendmail, which would bypass the notification matchers this library declares.
 * - keep-* and prune-schedule are not fields at all: on create PBS would turn them into a hidden
 *   prune job, and on update it rejects them. Retention lives in PruneJob resources.
 * - Create and delete are worker tasks (UPID); both wait for the task and require exit status OK.
 * - Delete sends `destroy-data` only when `destroyDataOnDelete` is true. PBS deletes the store's
 *   jobs and the ACLs under `/datastore/<name>` with it, so those resources treat 404 as deleted.
 */
import { isRecord, type ApiValue } from "./client";
import { COMMENT, DATASTORE_NAME, fieldProblem, type FieldTable, type Props } from "./fields";
import { decodePropertyString, encodePropertyString } from "./property-string";
import { sectionSpec, type ResourceSpec } from "./provider";

/** Datastore `tuning` (PBS 3.2 keys). */
export interface DatastoreTuning {
  /** Chunk iteration order for verify/tape: by inode (faster on spinning disks) or none. @default "inode" (PBS) */
  readonly chunkOrder?: "none" | "inode";
  /** How hard PBS syncs chunk writes. @default "filesystem" (PBS) */
  readonly syncLevel?: "none" | "file" | "filesystem";
}

/** Datastore maintenance mode; `offline` blocks all access, `read-only` allows restores. */
export interface MaintenanceMode {
  readonly type: "read-only" | "offline";
  /** Shown to clients, at most 64 characters. */
  readonly message?: string;
}

const TUNING_KEYS: ReadonlyArray<readonly [keyof DatastoreTuning, string, readonly string[]]> = [
  ["chunkOrder", "chunk-order", ["none", "inode"]],
  ["syncLevel", "sync-level", ["none", "file", "filesystem"]],
];

export function encodeTuning(value: unknown): ApiValue {
  const tuning = isRecord(value) ? value : {};
  return encodePropertyString(TUNING_KEYS.map(([key, api]) => [api, tuning[key] as string | undefined]));
}

export function decodeTuning(value: unknown): DatastoreTuning | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const raw = decodePropertyString(value);
  const out: Record<string, string> = {};
  for (const [key, api] of TUNING_KEYS) if (raw[api] !== undefined) out[key] = raw[api];
  return Object.keys(out).length === 0 ? undefined : (out as DatastoreTuning);
}

function validateTuning(value: unknown): string | undefined {
  if (!isRecord(value)) return "expected an object";
  for (const key of Object.keys(value)) {
    const entry = TUNING_KEYS.find(([k]) => k === key);
    if (!entry) return `unknown tuning key ${key}; expected ${TUNING_KEYS.map(([k]) => k).join(" or ")}`;
    if (value[key] !== undefined && !entry[2].includes(String(value[key]))) return `${key} must be one of ${entry[2].join(", ")}`;
  }
  return undefined;
}

export function encodeMaintenanceMode(value: unknown): ApiValue {
  const mode = isRecord(value) ? value : {};
  return encodePropertyString([
    ["type", mode.type as string | undefined],
    ["message", mode.message as string | undefined],
  ]);
}

export function decodeMaintenanceMode(value: unknown): MaintenanceMode | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const raw = decodePropertyString(value);
  if (raw.type !== "read-only" && raw.type !== "offline") return undefined;
  return raw.message === undefined ? { type: raw.type } : { type: raw.type, message: raw.message };
}

function validateMaintenanceMode(value: unknown): string | undefined {
  if (!isRecord(value)) return "expected an object";
  if (value.type !== "read-only" && value.type !== "offline") return `type must be read-only or offline, got ${JSON.stringify(value.type)}`;
  for (const key of Object.keys(value)) if (key !== "type" && key !== "message") return `unknown maintenance-mode key ${key}`;
  if (value.message !== undefined) {
    return fieldProblem({ kind: "string", maxLength: 64, pattern: /^[^\r\n]*$/, expected: "a single line" }, value.message);
  }
  return undefined;
}

export const DATASTORE_FIELDS: FieldTable = {
  name: {
    api: "name", kind: "string", required: true, immutable: true,
    pattern: DATASTORE_NAME, expected: "3-32 letters, digits, ., - or _",
  },
  path: { api: "path", kind: "string", required: true, immutable: true, maxLength: 4096, pattern: /^\/\S*$/, expected: "an absolute path" },
  comment: COMMENT,
  gcSchedule: { api: "gc-schedule", kind: "string", deletable: true, calendar: true },
  notificationMode: {
    api: "notification-mode", kind: "string", defaultValue: "notification-system", oneOf: ["notification-system"],
  },
  tuning: { api: "tuning", kind: "object", deletable: true, omitWhen: {}, encode: encodeTuning, decode: decodeTuning, validate: validateTuning },
  verifyNew: { api: "verify-new", kind: "boolean", deletable: true },
  maintenanceMode: {
    api: "maintenance-mode", kind: "object", deletable: true,
    encode: encodeMaintenanceMode, decode: decodeMaintenanceMode, validate: validateMaintenanceMode,
  },
  // Provider-only: read on delete, never sent to PBS as a datastore setting.
  destroyDataOnDelete: { kind: "boolean", defaultValue: false },
  // Provider-only: the library's space projection, registered so the HB-CAPACITY policy judges
  // the resource PBS will hold rather than the config; never sent to PBS.
  capacity: { kind: "object", validate: validateCapacity },
};

/** How much of its pool a datastore is expected to take (see `projectDatastoreGb`). */
export interface DatastoreCapacity {
  /** The ZFS pool the datastore's dataset lives on; datastores on one pool share it. */
  readonly pool: string;
  /** Usable size of that pool. */
  readonly poolGb: number;
  /** What this datastore is expected to hold at steady state. */
  readonly projectedGb: number;
  /** The strategy's alert threshold. */
  readonly thresholdPercent: number;
}

function validateCapacity(value: unknown): string | undefined {
  if (!isRecord(value)) return "expected an object";
  if (typeof value.pool !== "string" || value.pool === "") return "pool must be a ZFS pool name";
  for (const key of ["poolGb", "projectedGb"] as const) {
    const v = value[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return `${key} must be a number of GB >= 0, got ${JSON.stringify(v)}`;
  }
  const t = value.thresholdPercent;
  if (typeof t !== "number" || t < 1 || t > 99) return `thresholdPercent must be 1-99, got ${JSON.stringify(t)}`;
  return undefined;
}

/**
 * DELETE parameters: `destroy-data` only when the resource's input says so, literally `true`.
 * `keep-job-configs` is left at PBS's default (false), so the store's jobs go with it.
 */
export function datastoreDeleteQuery(props: Props, digest: string | undefined): Record<string, ApiValue | undefined> {
  return { digest, "destroy-data": props.destroyDataOnDelete === true ? true : undefined };
}

export const datastoreSpec: ResourceSpec = sectionSpec({
  kind: "datastore",
  fields: DATASTORE_FIELDS,
  collection: "/config/datastore",
  idField: "name",
  digestOnDelete: true,
  tasks: true,
  deleteQuery: datastoreDeleteQuery,
  // Same name, new path: the replacement would collide with the old store unless it goes first.
  deleteBeforeReplace: (olds, news) => olds.name === news.name,
});
