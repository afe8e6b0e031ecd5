/** Drives a TrueNAS dynamic provider the way the engine does, against the contract test server. */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import type { TruenasConnection } from "../../components/truenas/client";
import type { Props } from "../../components/truenas/fields";
import { TruenasTestServer, type TruenasServerOptions } from "../fixtures/truenas-server";

type Provider = pulumi.dynamic.ResourceProvider;

export const API_KEY = "1-apikeyapikeyapikeyapikey";

/** A server and a connection that trusts it by fingerprint, with short timeouts and fast job polls. */
export async function startServer(options: TruenasServerOptions = {}): Promise<{ server: TruenasTestServer; connection: TruenasConnection }> {
  const server = await TruenasTestServer.start({ users: { admin: API_KEY }, ...options });
  const connection: TruenasConnection = {
    url: server.url,
    username: "admin",
    apiKey: API_KEY,
    ...(server.cert ? { fingerprint: server.cert.fingerprint } : {}),
    callTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    jobPollIntervalMs: 5,
    jobTimeoutMs: 2000,
  };
  return { server, connection };
}

/** check() must pass; returns the normalised inputs. */
export async function checked(provider: Provider, news: Props, olds: Props = {}): Promise<Props> {
  assert.ok(provider.check);
  const result = await provider.check(olds, news);
  assert.deepEqual(result.failures ?? [], [], "check reported failures");
  return result.inputs as Props;
}

/** The failures check() reports, as `property: reason` lines. */
export async function failures(provider: Provider, news: Props): Promise<string[]> {
  assert.ok(provider.check);
  return ((await provider.check({}, news)).failures ?? []).map((f) => `${f.property}: ${f.reason}`);
}

/** check + create, as `pulumi up` does for a new resource. */
export async function create(provider: Provider, news: Props): Promise<{ id: string; outs: Props }> {
  const inputs = await checked(provider, news);
  const result = await provider.create(inputs);
  return { id: result.id, outs: result.outs as Props };
}

export async function diff(provider: Provider, id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
  assert.ok(provider.diff);
  return provider.diff(id, olds, await checked(provider, news, olds));
}

/** check + diff + update when diff asks for one: the next `pulumi up`. */
export async function up(provider: Provider, id: string, olds: Props, news: Props): Promise<{ diff: pulumi.dynamic.DiffResult; outs: Props }> {
  assert.ok(provider.diff && provider.update);
  const inputs = await checked(provider, news, olds);
  const d = await provider.diff(id, olds, inputs);
  assert.deepEqual(d.replaces ?? [], [], "unexpected replacement");
  if (!d.changes) return { diff: d, outs: olds };
  return { diff: d, outs: (await provider.update(id, olds, inputs)).outs as Props };
}

/** read() as `pulumi refresh` does; undefined when the object is gone. */
export async function read(provider: Provider, id: string, state: Props): Promise<Props | undefined> {
  assert.ok(provider.read);
  const result = await provider.read(id, state);
  return result.id === undefined ? undefined : (result.props as Props);
}

export async function remove(provider: Provider, id: string, state: Props): Promise<void> {
  assert.ok(provider.delete);
  await provider.delete(id, state);
}

/** Rejects with an Error whose message matches; returns it. */
export async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, "threw an Error");
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

/** The inputs minus the connection and outputs, for comparing with a read. */
export function withoutConnection(props: Props): Props {
  const { connection: _c, ...rest } = props;
  return rest;
}
