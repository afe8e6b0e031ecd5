/** Drives a TrueNAS dynamic provider the way the engine does, against the contract test server. */
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import type { TruenasConnection } from "../../components/truenas/client";
import type { Props } from "../../components/truenas/fields";
import { TruenasTestServer, type TruenasServerOptions } from "../fixtures/truenas-server";

type Provider = pulumi.dynamic.ResourceProvider;

export { checked, create, diff, up, read, remove, rejectsWith } from "../helpers/provider";

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

/** The failures check() reports, as `property: reason` lines. */
export async function failures(provider: Provider, news: Props): Promise<string[]> {
  assert.ok(provider.check);
  return ((await provider.check({}, news)).failures ?? []).map((f) => `${f.property}: ${f.reason}`);
}

/** The inputs minus the connection and outputs, for comparing with a read. */
export function withoutConnection(props: Props): Props {
  const { connection: _c, ...rest } = props;
  return rest;
}
