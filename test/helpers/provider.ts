/** Drives a dynamic provider the way the engine does (check, then create/diff/update/read/delete). */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";

type Provider = pulumi.dynamic.ResourceProvider;
export type Props = Record<string, unknown>;

/** check() must pass; returns the normalised inputs. */
export async function checked(provider: Provider, news: Props, olds: Props = {}): Promise<Props> {
  assert.ok(provider.check, "provider implements check");
  const result = await provider.check(olds, news);
  assert.deepEqual(result.failures ?? [], [], "check reported failures");
  return result.inputs as Props;
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
  assert.deepEqual(d.replaces ?? [], [], "unexpected replacement");
  if (!d.changes) return { diff: d, outs: olds };
  return { diff: d, outs: (await provider.update(id, olds, inputs)).outs as Props };
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

/** Rejects with an Error whose message matches; returns it for further assertions. */
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
