/**
 * The shape shared by every TrueNAS dynamic provider: `check` normalises inputs with TrueNAS's
 * defaults and its validation rules (so `read` returns the same shape and an applied resource has
 * no diff), `diff` compares those inputs, and create/read/update/delete build a client from the
 * resource's own `connection` input inside each call and close it afterwards.
 *
 * Pulumi serializes a dynamic provider with everything its functions reference and runs it later
 * in another process, so nothing here may capture a live client or a Pulumi object: the client is
 * constructed per call and `@pulumi/pulumi` is imported for types only.
 */
import type * as pulumi from "@pulumi/pulumi";
import { TruenasClient, type TruenasConnection } from "./client";
import { endpointUrl, isSha256Fingerprint } from "./endpoint";
import { isNotFound } from "./errors";
import { Checker, compact, isRecord, isUnknown, sameValue, type CheckFailure, type Props } from "./fields";

/** The connection as resource inputs; pass the API key as a secret (`config.requireSecret`). */
export interface TruenasConnectionArgs {
  /** `wss://<host>` or `https://<host>`; `/api/current` is added. ws:// and http:// fail at preview. */
  readonly url: pulumi.Input<string>;
  /** The user the API key belongs to. */
  readonly username: pulumi.Input<string>;
  /** The API key (secret). */
  readonly apiKey: pulumi.Input<string>;
  /** SHA-256 fingerprint of a self-signed TrueNAS certificate. @default chain validation */
  readonly fingerprint?: pulumi.Input<string>;
  /** PEM CA certificate trusted besides the system store. */
  readonly caCert?: pulumi.Input<string>;
  /** @default 10000 */
  readonly connectTimeoutMs?: pulumi.Input<number>;
  /** @default 30000 */
  readonly callTimeoutMs?: pulumi.Input<number>;
  /** @default 600000 */
  readonly jobTimeoutMs?: pulumi.Input<number>;
  /** @default 1000 */
  readonly jobPollIntervalMs?: pulumi.Input<number>;
}

/** What one TrueNAS resource kind does; `makeProvider` turns it into a Pulumi dynamic provider. */
export interface ResourceSpec {
  /** Used in messages ("periodic snapshot task"). */
  readonly kind: string;
  /** The inputs diff compares (everything but the connection). */
  readonly fields: readonly string[];
  /** Inputs whose change replaces the object instead of updating it. */
  readonly replaceOn?: readonly string[];
  /** Inputs TrueNAS never returns (redacted secrets, provider options): a read keeps the state's value. */
  readonly stateOnly?: readonly string[];
  /** Inputs holding secrets, kept out of error messages and marked secret in state. */
  readonly secretInputs?: readonly string[];
  /** Outputs produced by create and kept across updates and reads. */
  readonly computed?: readonly string[];
  /** Normalises and validates the inputs (connection excluded). */
  check(c: Checker): void;
  /** Extra changed inputs diff cannot see by comparison (e.g. a key replaced outside Pulumi). */
  hiddenChanges?(olds: Props, news: Props): string[];
  /** Inputs that count as equal when `news` lacks them but `olds` has a computed value (a scanned host key). */
  computedInputs?(news: Props): readonly string[];
  create(client: TruenasClient, inputs: Props): Promise<{ id: number; outs?: Props }>;
  /** What TrueNAS has, in the shape of the inputs, or undefined when the object is gone. */
  read(client: TruenasClient, id: number, state: Props): Promise<Props | undefined>;
  /** Returns outputs to merge (e.g. a new public key). */
  update(client: TruenasClient, id: number, olds: Props, news: Props): Promise<Props | void>;
  delete(client: TruenasClient, id: number, state: Props): Promise<void>;
}

const CONNECTION_KEYS = ["url", "username", "apiKey", "fingerprint", "caCert", "connectTimeoutMs", "callTimeoutMs", "jobTimeoutMs", "jobPollIntervalMs"];

export function checkConnection(connection: unknown): CheckFailure[] {
  if (isUnknown(connection)) return [];
  if (!isRecord(connection)) return [{ property: "connection", reason: "connection is required: { url, username, apiKey }" }];
  const failures: CheckFailure[] = [];
  for (const key of Object.keys(connection)) {
    if (!CONNECTION_KEYS.includes(key)) failures.push({ property: `connection.${key}`, reason: `unknown connection setting; expected one of ${CONNECTION_KEYS.join(", ")}` });
  }
  const { url, username, apiKey, fingerprint } = connection;
  if (typeof url !== "string") failures.push({ property: "connection.url", reason: "expected wss://<host> or https://<host>" });
  else {
    try {
      endpointUrl(url);
    } catch (error) {
      failures.push({ property: "connection.url", reason: (error as Error).message });
    }
  }
  if (typeof username !== "string" || username === "") failures.push({ property: "connection.username", reason: "the API key's user is required" });
  if (!isUnknown(apiKey) && (typeof apiKey !== "string" || apiKey === "")) failures.push({ property: "connection.apiKey", reason: "an API key is required" });
  if (fingerprint !== undefined && !isUnknown(fingerprint) && (typeof fingerprint !== "string" || !isSha256Fingerprint(fingerprint))) {
    failures.push({ property: "connection.fingerprint", reason: "expected a SHA-256 fingerprint: 32 hex bytes, colon-separated or not" });
  }
  return failures;
}

/** A client for the resource's own connection, keeping its secret inputs out of errors. */
export function clientFor(spec: ResourceSpec, props: Props): TruenasClient {
  const connection = props.connection;
  if (!isRecord(connection) || typeof connection.apiKey !== "string") {
    throw new Error(`this TrueNAS ${spec.kind} has no connection in its state; it cannot be read or changed (import is not supported)`);
  }
  const secrets: string[] = [];
  for (const key of spec.secretInputs ?? []) {
    const value = props[key];
    if (typeof value === "string") secrets.push(value);
  }
  return new TruenasClient(connection as unknown as TruenasConnection, { secrets });
}

async function withClient<T>(spec: ResourceSpec, props: Props, run: (client: TruenasClient) => Promise<T>): Promise<T> {
  const client = clientFor(spec, props);
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

function truenasId(id: string): number {
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${id}" is not a TrueNAS object id`);
  return n;
}

function withoutInternal(props: Props): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(props)) if (!k.startsWith("__") && v !== undefined) out[k] = v;
  return out;
}

export function checkInputs(spec: ResourceSpec, news: Props): { inputs: Props; failures: CheckFailure[] } {
  const checker = new Checker(news);
  spec.check(checker);
  const outputs = ["truenasId", ...(spec.computed ?? [])];
  const unknownKeys = Object.keys(news).filter(
    (k) => !k.startsWith("__") && k !== "connection" && news[k] !== undefined && !spec.fields.includes(k) && !outputs.includes(k),
  );
  for (const key of unknownKeys) checker.fail(key, `unknown input for a TrueNAS ${spec.kind}`);
  const inputs: Props = { ...checker.inputs };
  if (news.connection !== undefined) inputs.connection = news.connection;
  return { inputs, failures: [...checkConnection(news.connection), ...checker.failures] };
}

/** Which inputs differ between state and the new inputs. */
export function changedFields(spec: ResourceSpec, olds: Props, news: Props): string[] {
  const computed = spec.computedInputs?.(news) ?? [];
  const changed = spec.fields.filter((key) => {
    if (computed.includes(key) && news[key] === undefined) return false;
    return isUnknown(news[key]) || !sameValue(olds[key], news[key]);
  });
  for (const key of spec.hiddenChanges?.(olds, news) ?? []) if (!changed.includes(key)) changed.push(key);
  return changed;
}

export function makeProvider(spec: ResourceSpec): pulumi.dynamic.ResourceProvider {
  return {
    async check(_olds: Props, news: Props) {
      return checkInputs(spec, news);
    },
    async diff(_id: string, olds: Props, news: Props) {
      const changed = changedFields(spec, olds, news);
      const replaces = changed.filter((k) => (spec.replaceOn ?? []).includes(k));
      // A rotated API key or a new URL is an update that only refreshes the stored connection.
      const connectionChanged = !sameValue(olds.connection, news.connection);
      return {
        changes: changed.length > 0 || connectionChanged,
        replaces,
        stables: spec.fields.filter((k) => !changed.includes(k)),
        deleteBeforeReplace: false,
      };
    },
    async create(inputs: Props) {
      const { id, outs } = await withClient(spec, inputs, (client) => spec.create(client, inputs));
      return { id: String(id), outs: { ...withoutInternal(inputs), truenasId: id, ...outs } };
    },
    async read(id: string, props?: Props) {
      const state = props ?? {};
      const live = await withClient(spec, state, (client) => spec.read(client, truenasId(id), state));
      if (live === undefined) return {};
      const merged: Props = { ...withoutInternal(state), ...compact(live), truenasId: truenasId(id) };
      for (const key of spec.fields) if (live[key] === undefined && !(spec.stateOnly ?? []).includes(key)) delete merged[key];
      for (const key of spec.stateOnly ?? []) if (state[key] !== undefined) merged[key] = state[key];
      return { id, props: merged };
    },
    async update(id: string, olds: Props, news: Props) {
      const changed = changedFields(spec, olds, news);
      const extra = changed.length === 0 ? undefined : await withClient(spec, news, (client) => spec.update(client, truenasId(id), olds, news));
      const carried: Props = { truenasId: truenasId(id) };
      for (const key of spec.computed ?? []) if (olds[key] !== undefined) carried[key] = olds[key];
      for (const key of spec.computedInputs?.(news) ?? []) if (news[key] === undefined && olds[key] !== undefined) carried[key] = olds[key];
      return { outs: { ...carried, ...withoutInternal(news), ...(extra ?? {}) } };
    },
    async delete(id: string, props: Props) {
      await withClient(spec, props, async (client) => {
        try {
          await spec.delete(client, truenasId(id), props);
        } catch (error) {
          // Already gone (removed by hand, or with its dataset): nothing left to delete.
          if (!isNotFound(error)) throw error;
        }
      });
    },
  };
}

/** Resource options that keep the connection and the listed inputs secret in state. */
export function secretOutputs<T extends { additionalSecretOutputs?: string[] }>(opts: T | undefined, names: readonly string[] = []): T {
  const merged = new Set([...(opts?.additionalSecretOutputs ?? []), "connection", ...names]);
  return { ...(opts ?? ({} as T)), additionalSecretOutputs: [...merged] };
}

/** The first row of a `<namespace>.query` by id, or undefined. */
export async function queryById(client: TruenasClient, namespace: string, id: number): Promise<Record<string, unknown> | undefined> {
  const rows = await client.call(`${namespace}.query`, [[["id", "=", id]]]);
  if (!Array.isArray(rows)) return undefined;
  const row = rows.find((r) => isRecord(r) && r.id === id);
  return isRecord(row) ? row : undefined;
}

/** The id in a create result. */
export function createdId(kind: string, result: unknown): number {
  if (isRecord(result) && typeof result.id === "number") return result.id;
  throw new Error(`TrueNAS created the ${kind} but did not return its id`);
}
