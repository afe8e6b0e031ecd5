/**
 * Field tables: one declaration per resource property says how it maps to the PBS API and how it
 * behaves on check, diff and update. Every decision the providers make (validation, defaults,
 * replace vs update, the PUT body and its `delete` list, reading drift back) is a pure function of
 * a table and plain values, so it is tested without a server.
 */
import { CalendarError, parseCalendarEvent } from "../../config/calendar";
import type { ApiRecord, ApiValue } from "./client";
import { isRecord } from "./client";
import { isSha256Fingerprint } from "./tls";

/** Resource properties as the provider sees them: plain JSON values. */
export type Props = Record<string, unknown>;

/** The placeholder the engine sends for values not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface FieldSpec {
  /** The PBS parameter name; absent for provider-only settings that never reach the API. */
  readonly api?: string;
  readonly kind: "string" | "integer" | "boolean" | "strings" | "object";
  readonly required?: boolean;
  /** A change replaces the resource; sent on create only. */
  readonly immutable?: boolean;
  /** Part of the URL rather than the body (user id and token name). */
  readonly inPath?: boolean;
  /** When removed, named in the PUT `delete` list. */
  readonly deletable?: boolean;
  /** When removed, sent with this value instead (PBS endpoints without a `delete` list). */
  readonly resetWith?: ApiValue;
  /** PBS never returns it (secrets); `read` keeps the value from state. */
  readonly writeOnly?: boolean;
  /** Its value is kept out of error messages. */
  readonly secret?: boolean;
  /**
   * Filled in by `check` when absent. Not named `default`: Pulumi's closure serializer mistakes an
   * object with a string `default` for an `import *` result and fails (createClosure isImportStarResult).
   */
  readonly defaultValue?: unknown;
  /** A value PBS does not store, so it means the same as absent (dropped by `check` and `read`). */
  readonly omitWhen?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** Says what `pattern` expects, for the check failure. */
  readonly expected?: string;
  readonly oneOf?: readonly string[];
  /** A systemd calendar event (schedules). */
  readonly calendar?: boolean;
  /** Object-valued fields: input value → API value. */
  readonly encode?: (value: unknown) => ApiValue;
  /** Object-valued fields: API value → input value. */
  readonly decode?: (value: unknown) => unknown;
  /** Extra validation of object values; returns the reason or undefined. */
  readonly validate?: (value: unknown) => string | undefined;
}

export type FieldTable = Readonly<Record<string, FieldSpec>>;

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** PBS's SAFE_ID: what job ids, endpoint names and token names must look like. */
export const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** A single-line comment, the shape PBS uses everywhere; "" is the same as none. */
export const COMMENT: FieldSpec = { api: "comment", kind: "string", deletable: true, omitWhen: "", pattern: /^[^\r\n]*$/, expected: "a single line" };
/** A datastore name: 3 to 32 safe-id characters. */
export const DATASTORE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{2,31}$/;
/** A namespace path: up to 7 levels of safe ids separated by `/`, at most 256 characters. */
export const NAMESPACE = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*){0,6}$/;

/** Compares JSON-like values structurally; undefined and absent keys are the same. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!sameValue(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isRecord(value)) return Object.values(value).some(containsUnknown);
  return false;
}

/** Why `value` does not fit `spec`, or undefined. */
export function fieldProblem(spec: FieldSpec, value: unknown): string | undefined {
  switch (spec.kind) {
    case "string": {
      if (typeof value !== "string") return `expected a string, got ${typeof value}`;
      if (spec.minLength !== undefined && value.length < spec.minLength) return `expected at least ${spec.minLength} characters`;
      if (spec.maxLength !== undefined && value.length > spec.maxLength) return `expected at most ${spec.maxLength} characters`;
      if (spec.oneOf && !spec.oneOf.includes(value)) return `expected one of ${spec.oneOf.join(", ")}, got "${value}"`;
      if (spec.pattern && !spec.pattern.test(value)) return `expected ${spec.expected ?? spec.pattern.source}, got "${value}"`;
      if (spec.calendar) {
        try {
          parseCalendarEvent(value);
        } catch (e) {
          if (e instanceof CalendarError) return `"${value}" is not a calendar event PBS accepts: ${e.message}`;
          throw e;
        }
      }
      return undefined;
    }
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return `expected an integer, got ${JSON.stringify(value)}`;
      if (spec.min !== undefined && value < spec.min) return `expected ${spec.min} or more, got ${value}`;
      if (spec.max !== undefined && value > spec.max) return `expected ${spec.max} or less, got ${value}`;
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : `expected true or false, got ${JSON.stringify(value)}`;
    case "strings": {
      if (!Array.isArray(value)) return "expected a list of strings";
      for (const item of value) {
        if (typeof item !== "string") return "expected a list of strings";
        const itemProblem = fieldProblem({ ...spec, kind: "string" }, item);
        if (itemProblem) return itemProblem;
      }
      return undefined;
    }
    case "object":
      if (!isRecord(value)) return "expected an object";
      return spec.validate?.(value);
  }
}

/**
 * Validates and normalises one resource's inputs: unknown properties, types and ranges, required
 * fields, defaults, and values PBS treats as absent. `allowed` names non-table keys (the connection).
 * Secret values never appear in a reason.
 */
export function checkFields(table: FieldTable, news: Props, allowed: readonly string[] = ["connection"]): { inputs: Props; failures: CheckFailure[] } {
  const inputs: Props = {};
  const failures: CheckFailure[] = [];
  for (const [key, value] of Object.entries(news)) {
    if (key.startsWith("__") || allowed.includes(key)) {
      inputs[key] = value;
    } else if (!(key in table)) {
      if (value !== undefined) failures.push({ property: key, reason: `unknown property; expected one of ${Object.keys(table).join(", ")}` });
    }
  }
  for (const [key, spec] of Object.entries(table)) {
    let value: unknown = news[key] === null ? undefined : news[key];
    if (value === undefined && spec.defaultValue !== undefined) value = spec.defaultValue;
    if (value === undefined) {
      if (spec.required) failures.push({ property: key, reason: "required" });
      continue;
    }
    if (!containsUnknown(value)) {
      if (spec.omitWhen !== undefined && sameValue(value, spec.omitWhen)) continue;
      const problem = fieldProblem(spec, value);
      if (problem) {
        failures.push({ property: key, reason: spec.secret ? "invalid value (not shown: secret)" : problem });
        continue;
      }
    }
    inputs[key] = value;
  }
  return { inputs, failures };
}

/** The connection inputs every PBS resource carries; reasons never quote the token secret. */
export function checkConnection(value: unknown): CheckFailure[] {
  if (value === undefined) return [{ property: "connection", reason: "required" }];
  if (!isRecord(value)) return [{ property: "connection", reason: "expected an object with url, fingerprint, tokenId and tokenSecret" }];
  if (containsUnknown(value)) return [];
  const failures: CheckFailure[] = [];
  const { url, fingerprint, tokenId, tokenSecret } = value;
  if (typeof url !== "string" || !/^https:\/\/[^\s/]+(\/\S*)?$/.test(url)) {
    failures.push({ property: "connection.url", reason: `expected https://<host>:8007, got ${JSON.stringify(url)}` });
  }
  if (typeof fingerprint !== "string" || !isSha256Fingerprint(fingerprint)) {
    failures.push({ property: "connection.fingerprint", reason: "expected a SHA-256 fingerprint as 32 colon-separated hex bytes" });
  }
  if (typeof tokenId !== "string" || !/^[^\s@!]+@[A-Za-z0-9_-]+![A-Za-z0-9_][A-Za-z0-9._-]*$/.test(tokenId)) {
    failures.push({ property: "connection.tokenId", reason: `expected user@realm!tokenname, got ${JSON.stringify(tokenId)}` });
  }
  if (typeof tokenSecret !== "string" || tokenSecret === "") {
    failures.push({ property: "connection.tokenSecret", reason: "expected the API token secret (not shown)" });
  }
  for (const key of ["maxRetries", "retryBaseDelayMs", "requestTimeoutMs", "taskPollIntervalMs", "taskTimeoutMs"]) {
    const n = value[key];
    if (n !== undefined && (typeof n !== "number" || !Number.isInteger(n) || n < 0)) {
      failures.push({ property: `connection.${key}`, reason: `expected a non-negative integer, got ${JSON.stringify(n)}` });
    }
  }
  return failures;
}

/** One field's API value. */
export function encodeField(spec: FieldSpec, value: unknown): ApiValue {
  if (spec.encode) return spec.encode(value);
  return value as ApiValue;
}

/**
 * The API parameters for `props`: on create every field with an API name (except path
 * parameters); on update only fields that may change (immutable ones never travel on PUT).
 */
export function toApi(table: FieldTable, props: Props, mode: "create" | "update"): ApiRecord {
  const out: ApiRecord = {};
  for (const [key, spec] of Object.entries(table)) {
    const value = props[key];
    if (spec.api === undefined || spec.inPath || value === undefined) continue;
    if (mode === "update" && spec.immutable) continue;
    out[spec.api] = encodeField(spec, value);
  }
  return out;
}

/** The resource properties PBS reports, from an API object (unknown keys such as `digest` ignored). */
export function fromApi(table: FieldTable, record: Readonly<Record<string, unknown>>): Props {
  const out: Props = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.api === undefined || spec.writeOnly) continue;
    const raw = record[spec.api];
    if (raw === undefined || raw === null) continue;
    const value = spec.decode ? spec.decode(raw) : coerce(spec, raw);
    if (value === undefined) continue;
    if (spec.omitWhen !== undefined && sameValue(value, spec.omitWhen)) continue;
    out[key] = value;
  }
  return out;
}

/** PBS answers JSON with real types, but a proxy or an older release may send 1/0 or numeric strings. */
function coerce(spec: FieldSpec, raw: unknown): unknown {
  if (spec.kind === "boolean" && (raw === 1 || raw === 0 || raw === "1" || raw === "0")) return raw === 1 || raw === "1";
  if (spec.kind === "integer" && typeof raw === "string" && /^-?\d+$/.test(raw)) return Number(raw);
  if (spec.kind === "strings" && typeof raw === "string") return [raw];
  return raw;
}

/** Table keys whose values differ between `olds` and `news`. */
export function changedFields(table: FieldTable, olds: Props, news: Props): string[] {
  return Object.keys(table).filter((key) => !sameValue(olds[key], news[key]));
}

/**
 * The PBS API names to put in a PUT's `delete` list: deletable fields set before and absent now.
 * Sorted, so the request is the same for the same change.
 */
export function deleteList(table: FieldTable, olds: Props, news: Props): string[] {
  const out: string[] = [];
  for (const [key, spec] of Object.entries(table)) {
    if (spec.api && spec.deletable && !spec.immutable && olds[key] !== undefined && news[key] === undefined) out.push(spec.api);
  }
  return out.sort();
}

/**
 * The PUT body for a change from `olds` to `news`: fields whose value changed, reset values for
 * removed fields that have no delete list, and `delete` for the rest. Empty when nothing the API
 * knows about changed (then no PUT is needed).
 */
export function updateBody(table: FieldTable, olds: Props, news: Props): Record<string, ApiValue> {
  const body: Record<string, ApiValue> = {};
  for (const key of changedFields(table, olds, news)) {
    const spec = table[key];
    if (spec.api === undefined || spec.inPath || spec.immutable) continue;
    if (news[key] !== undefined) body[spec.api] = encodeField(spec, news[key]);
    else if (spec.resetWith !== undefined) body[spec.api] = spec.resetWith;
  }
  const removed = deleteList(table, olds, news);
  if (removed.length > 0) body.delete = removed;
  return body;
}

/** Connection fields compared by diff; a changed token or URL must reach state before the next delete. */
const CONNECTION_KEYS = ["url", "fingerprint", "tokenId", "tokenSecret", "maxRetries", "retryBaseDelayMs", "requestTimeoutMs", "taskPollIntervalMs", "taskTimeoutMs"];

export function connectionChanged(olds: unknown, news: unknown): boolean {
  const a = isRecord(olds) ? olds : {};
  const b = isRecord(news) ? news : {};
  return CONNECTION_KEYS.some((k) => !sameValue(a[k], b[k]));
}

export interface FieldDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly deleteBeforeReplace?: boolean;
}

/**
 * Replace only when an immutable field changed; any other change (including the connection,
 * whose new values must reach state) is an update.
 */
export function diffFields(table: FieldTable, olds: Props, news: Props): FieldDiff {
  const changed = changedFields(table, olds, news);
  const replaces = changed.filter((key) => table[key].immutable);
  return { changes: changed.length > 0 || connectionChanged(olds.connection, news.connection), replaces };
}

/** The values of secret fields (and the token secret), for redaction. */
export function secretValues(table: FieldTable, props: Props): string[] {
  const out: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (isRecord(value)) Object.values(value).forEach(collect);
  };
  for (const [key, spec] of Object.entries(table)) if (spec.secret) collect(props[key]);
  return out;
}
