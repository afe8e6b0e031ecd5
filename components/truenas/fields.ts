/**
 * Small readers for `check`: each takes the raw inputs, fills TrueNAS's default, records a
 * failure naming the input and what was expected, and passes values Pulumi does not know yet
 * (preview of an output of another resource) through untouched.
 */

export type Props = Record<string, unknown>;

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** What the engine sends for a value it will only know after another resource is created. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(isUnknown);
  return false;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Collects normalised inputs and failures for one resource's check.
 *
 * Fields are assigned in the constructor, not with initializers: Pulumi's closure serializer
 * rebuilds classes from their constructor and methods and drops class-field initializers.
 */
export class Checker {
  readonly inputs: Props;
  readonly failures: CheckFailure[];
  private readonly news: Props;

  constructor(news: Props) {
    this.news = news;
    this.inputs = {};
    this.failures = [];
  }

  fail(property: string, reason: string): void {
    this.failures.push({ property, reason });
  }

  /** True when the input is present and known (worth validating). */
  known(key: string): boolean {
    return this.inputs[key] !== undefined && !isUnknown(this.inputs[key]);
  }

  private take(key: string): unknown {
    const value = this.news[key];
    if (isUnknown(value)) {
      this.inputs[key] = value;
      return UNKNOWN;
    }
    return value;
  }

  string(key: string, options: { default?: string; required?: boolean; pattern?: RegExp; expected?: string; nonEmpty?: boolean } = {}): string | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    const value = raw ?? options.default;
    if (value === undefined) {
      if (options.required) this.fail(key, `${key} is required`);
      return undefined;
    }
    if (typeof value !== "string") {
      this.fail(key, `expected a string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (options.nonEmpty && value.trim() === "") this.fail(key, `${key} must not be empty`);
    else if (options.pattern && !options.pattern.test(value)) this.fail(key, `"${value}" is not ${options.expected ?? "valid"}`);
    this.inputs[key] = value;
    return value;
  }

  boolean(key: string, options: { default?: boolean; required?: boolean } = {}): boolean | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    const value = raw ?? options.default;
    if (value === undefined) {
      if (options.required) this.fail(key, `${key} is required (true or false)`);
      return undefined;
    }
    if (typeof value !== "boolean") {
      this.fail(key, `expected true or false, got ${JSON.stringify(value)}`);
      return undefined;
    }
    this.inputs[key] = value;
    return value;
  }

  integer(key: string, options: { default?: number; required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    const value = raw ?? options.default;
    if (value === undefined) {
      if (options.required) this.fail(key, `${key} is required`);
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(key, `expected an integer, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (options.min !== undefined && value < options.min) this.fail(key, `${value} is below the minimum of ${options.min}`);
    if (options.max !== undefined && value > options.max) this.fail(key, `${value} is above the maximum of ${options.max}`);
    this.inputs[key] = value;
    return value;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], options: { default?: T; required?: boolean } = {}): T | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    const value = raw ?? options.default;
    if (value === undefined) {
      if (options.required) this.fail(key, `${key} is required: one of ${choices.join(", ")}`);
      return undefined;
    }
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      this.fail(key, `${JSON.stringify(value)} is not one of ${choices.join(", ")}`);
      return undefined;
    }
    this.inputs[key] = value;
    return value as T;
  }

  strings(key: string, options: { default?: readonly string[]; required?: boolean; minLength?: number; unique?: boolean } = {}): string[] | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    const value = raw ?? options.default;
    if (value === undefined) {
      if (options.required) this.fail(key, `${key} is required`);
      return undefined;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      this.fail(key, `expected a list of strings, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (options.minLength !== undefined && value.length < options.minLength) this.fail(key, `${key} needs at least ${options.minLength} entry`);
    if (options.unique && new Set(value).size !== value.length) this.fail(key, `${key} has duplicates`);
    this.inputs[key] = [...value];
    return value as string[];
  }

  integers(key: string, options: { default?: readonly number[]; unique?: boolean } = {}): number[] | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    const value = raw ?? options.default;
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "number" || !Number.isInteger(v))) {
      this.fail(key, `expected a list of ids, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (options.unique && new Set(value).size !== value.length) this.fail(key, `${key} has duplicate ids`);
    this.inputs[key] = [...value];
    return value as number[];
  }

  /** An object input, copied as is; the caller validates its members. */
  record(key: string, options: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const raw = this.take(key);
    if (raw === UNKNOWN) return undefined;
    if (raw === undefined) {
      if (options.required) this.fail(key, `${key} is required`);
      return undefined;
    }
    if (!isRecord(raw)) {
      this.fail(key, `expected an object, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    this.inputs[key] = { ...raw };
    return this.inputs[key] as Record<string, unknown>;
  }
}

/** An id, whether `query` gave the object (`{id, name, ...}`) or create's plain id. */
export function idOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (isRecord(value) && typeof value.id === "number") return value.id;
  return undefined;
}

/** A ZFS dataset name as TrueNAS takes it: `pool/child`, no leading `/mnt`. */
export const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;
export const DATASET_EXPECTED = "a ZFS dataset name such as tank/replica (no leading / or /mnt)";

export function isChildDataset(child: string, parent: string): boolean {
  return child.startsWith(`${parent}/`);
}

export const LIFETIME_UNITS = ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"] as const;
export type LifetimeUnit = (typeof LIFETIME_UNITS)[number];

/** Structural equality of JSON-like values, with absent and undefined the same. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!sameValue(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** Drops undefined and null members, so absent and null compare equal after a read. */
export function compact(props: Props): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(props)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}
