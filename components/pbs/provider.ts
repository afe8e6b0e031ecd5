/**
 * The shape shared by every PBS dynamic provider: check against the field table, diff that
 * replaces only on immutable fields, and create/read/update/delete that build their client from
 * the resource's own `connection` input inside each call.
 *
 * Pulumi serializes a dynamic provider together with everything its functions reference, and runs
 * it later in another process. So nothing here may capture a live client, socket or Pulumi object:
 * the client is constructed per call, and `@pulumi/pulumi` is imported for types only.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isNotFound, isRecord, PbsClient, seg, type ApiValue, type PbsConnection } from "./client";
import {
  checkConnection,
  checkFields,
  diffFields,
  fromApi,
  secretValues,
  toApi,
  updateBody,
  type CheckFailure,
  type FieldTable,
  type Props,
} from "./fields";

/** The connection as resource inputs: the token secret should be a Pulumi secret. */
export interface PbsConnectionArgs {
  /** PBS base URL, `https://<host>:8007`. */
  readonly url: pulumi.Input<string>;
  /** SHA-256 fingerprint of the PBS certificate (colon-separated hex). */
  readonly fingerprint: pulumi.Input<string>;
  /** Admin API token id, `user@realm!tokenname`. */
  readonly tokenId: pulumi.Input<string>;
  /** Admin API token secret; pass a secret (`config.requireSecret`). */
  readonly tokenSecret: pulumi.Input<string>;
  /** Retries after the first attempt for 5xx answers and connection errors. @default 4 */
  readonly maxRetries?: pulumi.Input<number>;
  /** First backoff delay in ms, doubling per retry. @default 250 */
  readonly retryBaseDelayMs?: pulumi.Input<number>;
  /** Per-attempt timeout in ms. @default 30000 */
  readonly requestTimeoutMs?: pulumi.Input<number>;
  /** Interval between task status polls in ms. @default 1000 */
  readonly taskPollIntervalMs?: pulumi.Input<number>;
  /** Longest a datastore create/delete task may run, in ms. @default 600000 */
  readonly taskTimeoutMs?: pulumi.Input<number>;
}

/** What one PBS resource kind does; `makeProvider` turns it into a Pulumi dynamic provider. */
export interface ResourceSpec {
  /** Used in messages ("prune job"). */
  readonly kind: string;
  readonly fields: FieldTable;
  /** Outputs produced by create (a token's secret), kept across updates and reads. */
  readonly computed?: readonly string[];
  /** Rules that relate fields to each other, run after the table checks passed. */
  readonly validate?: (inputs: Props) => CheckFailure[];
  /** Whether a replacement must delete first (the new resource would collide with the old). */
  readonly deleteBeforeReplace?: (olds: Props, news: Props) => boolean;
  create(client: PbsClient, inputs: Props): Promise<{ id: string; outs?: Props }>;
  /** What PBS has, in the shape of the inputs, or undefined when the object is gone. */
  read(client: PbsClient, id: string, props: Props): Promise<Props | undefined>;
  update(client: PbsClient, id: string, olds: Props, news: Props): Promise<void>;
  delete(client: PbsClient, id: string, props: Props): Promise<void>;
}

/** A client for the resource's own connection, redacting its secret inputs from errors. */
export function clientFor(spec: ResourceSpec, props: Props): PbsClient {
  const connection = props.connection;
  if (!isRecord(connection) || typeof connection.url !== "string" || typeof connection.tokenSecret !== "string") {
    throw new Error(`this PBS ${spec.kind} has no connection in its state, so it cannot be read or changed (import is not supported)`);
  }
  return new PbsClient(connection as unknown as PbsConnection, secretValues(spec.fields, props));
}

/** The input naming which spec a resource of the shared provider uses; kept in state for delete. */
export const KIND = "__kind";

function withoutInternal(props: Props): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(props)) if ((k === KIND || !k.startsWith("__")) && v !== undefined) out[k] = v;
  return out;
}

/**
 * Live PBS values over the state's: provider-only settings, write-only secrets, computed outputs
 * and the connection come from state because PBS does not report them.
 */
export function mergeRead(spec: ResourceSpec, props: Props, live: Props): Props {
  const out: Props = { ...live };
  if (props.connection !== undefined) out.connection = props.connection;
  for (const [key, field] of Object.entries(spec.fields)) {
    if ((field.api === undefined || field.writeOnly) && props[key] !== undefined) out[key] = props[key];
  }
  for (const key of spec.computed ?? []) if (props[key] !== undefined) out[key] = props[key];
  return out;
}

export function checkInputs(spec: ResourceSpec, news: Props): { inputs: Props; failures: CheckFailure[] } {
  const { inputs, failures } = checkFields(spec.fields, news);
  failures.push(...checkConnection(news.connection));
  if (failures.length === 0 && spec.validate) failures.push(...spec.validate(inputs));
  return { inputs, failures };
}

export function makeProvider(spec: ResourceSpec): pulumi.dynamic.ResourceProvider {
  return {
    async check(_olds: Props, news: Props) {
      return checkInputs(spec, news);
    },
    async diff(_id: string, olds: Props, news: Props) {
      const diff = diffFields(spec.fields, olds, news);
      const deleteBeforeReplace = diff.replaces.length > 0 && (spec.deleteBeforeReplace?.(olds, news) ?? false);
      return deleteBeforeReplace ? { ...diff, deleteBeforeReplace } : diff;
    },
    async create(inputs: Props) {
      const { id, outs } = await spec.create(clientFor(spec, inputs), inputs);
      return { id, outs: { ...withoutInternal(inputs), ...outs } };
    },
    async read(id: string, props?: Props) {
      const state = props ?? {};
      const live = await spec.read(clientFor(spec, state), id, state);
      if (live === undefined) return {};
      return { id, props: withoutInternal({ ...mergeRead(spec, state, live), [KIND]: state[KIND] }) };
    },
    async update(id: string, olds: Props, news: Props) {
      await spec.update(clientFor(spec, news), id, olds, news);
      const carried: Props = {};
      for (const key of spec.computed ?? []) if (olds[key] !== undefined) carried[key] = olds[key];
      return { outs: { ...carried, ...withoutInternal(news) } };
    },
    async delete(id: string, props: Props) {
      await spec.delete(clientFor(spec, props), id, props);
    },
  };
}

/**
 * One provider for every PBS resource kind, dispatching on the `__kind` input. Pulumi serializes
 * each distinct provider object once per program (about 0.4 s each): eleven per-kind providers
 * were most of the plan's time; one shared provider is serialized once.
 */
export function makeSharedProvider(specs: Readonly<Record<string, ResourceSpec>>): pulumi.dynamic.ResourceProvider {
  const byKind: Record<string, pulumi.dynamic.ResourceProvider> = {};
  for (const [kind, spec] of Object.entries(specs)) byKind[kind] = makeProvider(spec);
  const pick = (props: Props | undefined): pulumi.dynamic.ResourceProvider => {
    const kind = props?.[KIND];
    const provider = typeof kind === "string" ? byKind[kind] : undefined;
    if (!provider) throw new Error(`unknown PBS resource kind ${JSON.stringify(kind)}; expected one of ${Object.keys(byKind).join(", ")}`);
    return provider;
  };
  return {
    check: (olds: Props, news: Props) => (pick(news).check as NonNullable<pulumi.dynamic.ResourceProvider["check"]>)(olds, news),
    diff: (id: string, olds: Props, news: Props) => (pick(news).diff as NonNullable<pulumi.dynamic.ResourceProvider["diff"]>)(id, olds, news),
    create: (inputs: Props) => pick(inputs).create(inputs),
    read: (id: string, props?: Props) => (pick(props).read as NonNullable<pulumi.dynamic.ResourceProvider["read"]>)(id, props),
    update: (id: string, olds: Props, news: Props) => (pick(news).update as NonNullable<pulumi.dynamic.ResourceProvider["update"]>)(id, olds, news),
    delete: (id: string, props: Props) => (pick(props).delete as NonNullable<pulumi.dynamic.ResourceProvider["delete"]>)(id, props),
  };
}

/** A config section with the usual PBS shape: POST to a collection, GET/PUT/DELETE on `<collection>/<id>`. */
export interface SectionOptions {
  readonly kind: string;
  readonly fields: FieldTable;
  readonly collection: string;
  /** The input holding the object's id. */
  readonly idField: string;
  /** Whether DELETE takes a `digest` (job configs do, notification targets do not). */
  readonly digestOnDelete: boolean;
  /** Create and delete answer with a worker task (UPID) to wait for (datastores). */
  readonly tasks?: boolean;
  /** DELETE parameters beyond the digest. */
  readonly deleteQuery?: (props: Props, digest: string | undefined) => Record<string, ApiValue | undefined>;
  readonly validate?: (inputs: Props) => CheckFailure[];
  readonly deleteBeforeReplace?: (olds: Props, news: Props) => boolean;
}

export function sectionSpec(options: SectionOptions): ResourceSpec {
  const { fields, collection, idField, digestOnDelete, tasks } = options;
  const item = (id: string): string => `${collection}/${seg(id)}`;
  return {
    kind: options.kind,
    fields,
    validate: options.validate,
    deleteBeforeReplace: options.deleteBeforeReplace,
    async create(client, inputs) {
      const upid = await client.post(collection, toApi(fields, inputs, "create"));
      if (tasks && typeof upid === "string") await client.waitForTask(upid);
      return { id: String(inputs[idField]) };
    },
    async read(client, id) {
      try {
        return fromApi(fields, (await client.getWithDigest(item(id))).data);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async update(client, id, olds, news) {
      const body = updateBody(fields, olds, news);
      if (Object.keys(body).length === 0) return;
      const { digest } = await client.getWithDigest(item(id));
      await client.put(item(id), { ...body, digest });
    },
    async delete(client, id, props) {
      try {
        const digest = digestOnDelete ? (await client.getWithDigest(item(id))).digest : undefined;
        const upid = await client.delete(item(id), options.deleteQuery ? options.deleteQuery(props, digest) : { digest });
        if (tasks && typeof upid === "string") await client.waitForTask(upid);
      } catch (error) {
        // Already gone, e.g. removed with its datastore (PBS deletes a store's jobs with it).
        if (!isNotFound(error)) throw error;
      }
    },
  };
}

/** Resource options that keep the connection (and the listed outputs) secret in state. */
export function secretOutputs<T extends { additionalSecretOutputs?: string[] }>(opts: T | undefined, names: readonly string[] = []): T {
  const merged = new Set([...(opts?.additionalSecretOutputs ?? []), "connection", ...names]);
  return { ...(opts ?? ({} as T)), additionalSecretOutputs: [...merged] };
}
