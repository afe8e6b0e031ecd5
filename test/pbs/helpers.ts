/** Drives a dynamic provider the way the engine does (check, then create/diff/update), for the PBS tests. */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import type { Props } from "../../components/pbs/fields";

type Provider = pulumi.dynamic.ResourceProvider;

/** check() must pass; returns the normalised inputs. */
export async function checked(provider: Provider, news: Props, olds: Props = {}): Promise<Props> {
  assert.ok(provider.check, "provider implements check");
  const result = await provider.check(olds, news);
  assert.deepEqual(result.failures ?? [], [], "check reported failures");
  return result.inputs as Props;
}

/** The failures check() reports for `news`. */
export async function failures(provider: Provider, news: Props): Promise<{ property: string; reason: string }[]> {
  assert.ok(provider.check);
  return [...((await provider.check({}, news)).failures ?? [])];
}

/** check + create, as `pulumi up` does for a new resource. */
export async function create(provider: Provider, news: Props): Promise<{ id: string; outs: Props; inputs: Props }> {
  const inputs = await checked(provider, news);
  const result = await provider.create(inputs);
  return { id: result.id, outs: result.outs as Props, inputs };
}

export async function diff(provider: Provider, id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
  assert.ok(provider.diff);
  return provider.diff(id, olds, await checked(provider, news, olds));
}

/** check + diff + update (only when diff asks for one and no replacement): the next `pulumi up`. */
export async function up(provider: Provider, id: string, olds: Props, news: Props): Promise<{ diff: pulumi.dynamic.DiffResult; outs: Props }> {
  assert.ok(provider.diff && provider.update);
  const inputs = await checked(provider, news, olds);
  const d = await provider.diff(id, olds, inputs);
  assert.equal((d.replaces ?? []).length, 0, `unexpected replacement of ${String(d.replaces)}`);
  if (!d.changes) return { diff: d, outs: olds };
  const result = await provider.update(id, olds, inputs);
  return { diff: d, outs: result.outs as Props };
}

/** read() as `pulumi refresh` does; undefined when the provider reports the object gone. */
export async function read(provider: Provider, id: string, state: Props): Promise<Props | undefined> {
  assert.ok(provider.read);
  const result = await provider.read(id, state);
  return result.id === undefined ? undefined : (result.props as Props);
}

export async function remove(provider: Provider, id: string, state: Props): Promise<void> {
  assert.ok(provider.delete);
  await provider.delete(id, state);
}

/** Rejects with an error whose message passes `check`; returns the error for further assertions. */
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

/** The body of a PUT with its digest checked (a SHA-256 hex string) and replaced by "…" for comparison. */
export function withDigest(body: unknown): Record<string, unknown> {
  assert.ok(typeof body === "object" && body !== null, "PUT has a body");
  const record = body as Record<string, unknown>;
  assert.match(String(record.digest), /^[0-9a-f]{64}$/, "PUT carries the config digest");
  return { ...record, digest: "…" };
}
