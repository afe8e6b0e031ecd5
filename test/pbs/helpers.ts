/** Drives a dynamic provider the way the engine does (check, then create/diff/update), for the PBS tests. */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import type { Props } from "../../components/pbs/fields";

type Provider = pulumi.dynamic.ResourceProvider;

export { checked, create, diff, up, read, remove, rejectsWith } from "../helpers/provider";

/** The failures check() reports for `news`. */
export async function failures(provider: Provider, news: Props): Promise<{ property: string; reason: string }[]> {
  assert.ok(provider.check);
  return [...((await provider.check({}, news)).failures ?? [])];
}

/** The body of a PUT with its digest checked (a SHA-256 hex string) and replaced by "…" for comparison. */
export function withDigest(body: unknown): Record<string, unknown> {
  assert.ok(typeof body === "object" && body !== null, "PUT has a body");
  const record = body as Record<string, unknown>;
  assert.match(String(record.digest), /^[0-9a-f]{64}$/, "PUT carries the config digest");
  return { ...record, digest: "…" };
}
