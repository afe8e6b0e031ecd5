import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { TruenasClient } from "../../components/truenas/client";
import { endpointUrl, FingerprintMismatchError, InsecureTransportError } from "../../components/truenas/endpoint";
import { TruenasApiError, TruenasAuthError, TruenasJobError } from "../../components/truenas/errors";
import { TruenasTestServer } from "../fixtures/truenas-server";
import { API_KEY, rejectsWith, startServer } from "./helpers";
import type { TruenasConnection } from "../../components/truenas/client";

const TASK = {
  dataset: "tank/fileserver",
  naming_schema: "auto-%Y-%m-%d_%H-%M",
  schedule: { minute: "15", hour: "5", dom: "*", month: "*", dow: "*", begin: "00:00", end: "23:59" },
};

describe("TrueNAS client: transport security", () => {
  test("https:// and bare hosts map to the JSON-RPC endpoint; ws:// and http:// are refused", () => {
    assert.equal(endpointUrl("https://nas.home.arpa"), "wss://nas.home.arpa/api/current");
    assert.equal(endpointUrl("wss://nas:8443/"), "wss://nas:8443/api/current");
    assert.equal(endpointUrl("wss://nas/api/v25.10.0"), "wss://nas/api/v25.10.0");
    assert.throws(() => endpointUrl("ws://nas/api/current"), InsecureTransportError);
    assert.throws(() => endpointUrl("http://nas"), /revokes an API key/);
  });

  test("a key is never sent over plain ws: the client refuses before connecting, while a raw client's key is revoked", async () => {
    const server = await TruenasTestServer.start({ tls: false, users: { admin: API_KEY } });
    try {
      assert.throws(() => new TruenasClient({ url: server.url, username: "admin", apiKey: API_KEY }), InsecureTransportError);
      assert.equal(server.stats.connections, 0);
      assert.equal(server.received.length, 0);
      assert.equal(server.revokedKeys.has(API_KEY), false);

      // The fixture does what TrueNAS does with a key that crossed the wire in clear.
      const raw = new WebSocket(`${server.url}/api/current`);
      await new Promise((resolve) => raw.once("open", resolve));
      const answer = new Promise<string>((resolve) => raw.once("message", (d) => resolve(d.toString())));
      raw.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "auth.login_ex", params: [{ mechanism: "API_KEY_PLAIN", username: "admin", api_key: API_KEY }] }));
      assert.match(await answer, /AUTH_ERR/);
      raw.close();
      assert.equal(server.revokedKeys.has(API_KEY), true);
    } finally {
      await server.close();
    }
  });

  let server: TruenasTestServer;
  let connection: TruenasConnection;
  before(async () => ({ server, connection } = await startServer()));
  after(async () => server.close());

  test("a pinned fingerprint that does not match is refused before the login is written", async () => {
    const before = server.received.length;
    const client = new TruenasClient({ ...connection, fingerprint: TruenasTestServer.otherFingerprint() });
    const error = await rejectsWith(client.call("system.version"), /fingerprint .* is pinned; refusing to send the API key/);
    assert.ok(error instanceof FingerprintMismatchError);
    assert.equal(server.received.length, before, "nothing reached the server");
  });

  test("without a pin, a self-signed certificate fails verification; trusting it as a CA works", async () => {
    const { fingerprint: _f, ...unpinned } = connection;
    const before = server.received.length;
    await rejectsWith(new TruenasClient(unpinned).call("system.version"), /did not verify .*pin its SHA-256 fingerprint/);
    assert.equal(server.received.length, before);
    const viaCa = new TruenasClient({ ...unpinned, caCert: server.cert?.cert });
    assert.equal(await viaCa.call("system.version"), "25.10.0");
    viaCa.close();
  });

  test("logs in with auth.login_ex API_KEY_PLAIN and correlates answers by id", async () => {
    const client = new TruenasClient(connection);
    const [a, b] = await Promise.all([client.call("system.version"), client.call("pool.filesystem_choices")]);
    assert.equal(a, "25.10.0");
    assert.ok(Array.isArray(b) && b.includes("tank/replica"));
    assert.equal(client.stats.logins, 1);
    const login = server.received.map((t) => JSON.parse(t) as { method: string; params: unknown[] }).find((m) => m.method === "auth.login_ex");
    assert.deepEqual(login?.params, [{ mechanism: "API_KEY_PLAIN", username: "admin", api_key: API_KEY }]);
    client.close();
  });

  test("a refused key says so without quoting it", async () => {
    const error = await rejectsWith(new TruenasClient({ ...connection, apiKey: "2-wrongwrongwrongwrong" }).call("system.version"), /refused the API key for user "admin" \(AUTH_ERR\)/);
    assert.ok(error instanceof TruenasAuthError);
    assert.doesNotMatch(error.message, /wrongwrong/);
  });
});

describe("TrueNAS client: errors, jobs, reconnects, timeouts", () => {
  let server: TruenasTestServer;
  let connection: TruenasConnection;
  before(async () => ({ server, connection } = await startServer({ datasets: ["tank", "tank/fileserver"] })));
  after(async () => server.close());

  test("validation errors carry TrueNAS's attribute and message", async () => {
    const client = new TruenasClient(connection);
    const error = await rejectsWith(
      client.call("pool.snapshottask.create", [{ ...TASK, dataset: "tank/nope" }]),
      /^TrueNAS rejected pool\.snapshottask\.create: periodic_snapshot_create\.dataset: Dataset not found$/,
    );
    assert.ok(error instanceof TruenasApiError);
    assert.equal(error.rpcCode, -32602);
    assert.deepEqual(error.issues, [{ attribute: "periodic_snapshot_create.dataset", message: "Dataset not found", errno: 22 }]);
    await rejectsWith(client.call("pool.snapshottask.create", [{ ...TASK, lifetime_unit: "FORTNIGHT" }]), /data\.lifetime_unit: Input should be 'HOUR', 'DAY', 'WEEK', 'MONTH' or 'YEAR'/);
    await rejectsWith(client.call("no.such.method"), /TrueNAS rejected no\.such\.method: Method does not exist \(this TrueNAS does not have that method/);
    client.close();
  });

  test("secrets TrueNAS echoes back are redacted from errors", async () => {
    server.echoInputs = true;
    try {
      const secret = "correct-horse-battery-staple";
      const client = new TruenasClient(connection, { secrets: [secret] });
      const error = await rejectsWith(client.call("pool.snapshottask.create", [{ ...TASK, lifetime_unit: secret }]), /input_value='\*\*\*'/);
      assert.doesNotMatch(error.message, /horse/);
      const withKey = await rejectsWith(client.call("pool.snapshottask.create", [{ ...TASK, naming_schema: 5, lifetime_unit: API_KEY }]), /\*\*\*/);
      assert.doesNotMatch(withKey.message, new RegExp(API_KEY));
      client.close();
    } finally {
      server.echoInputs = false;
    }
  });

  test("waits for a job by polling core.get_jobs and returns when it succeeds", async () => {
    const client = new TruenasClient(connection);
    const task = (await client.call("pool.snapshottask.create", [TASK])) as { id: number };
    const polls = server.calls.filter((m) => m === "core.get_jobs").length;
    await client.callJob("pool.snapshottask.run", [task.id]);
    assert.ok(server.calls.filter((m) => m === "core.get_jobs").length - polls >= 2, "polled until the job ended");
    assert.deepEqual(server.snapshotNames("tank/fileserver"), ["auto-2025-01-06_05-15"]);
    client.close();
  });

  test("a failed job, an aborted job and a job that outlives its timeout are errors", async () => {
    const client = new TruenasClient(connection);
    const task = (await client.call("pool.snapshottask.create", [{ ...TASK, enabled: false }])) as { id: number };
    const failed = await rejectsWith(client.callJob("pool.snapshottask.run", [task.id]), /TrueNAS job pool\.snapshottask\.run \(#\d+\) failed: Task is not enabled/);
    assert.ok(failed instanceof TruenasJobError && failed.state === "FAILED");

    const jobId = (await client.call("pool.snapshottask.run", [task.id])) as number;
    server.abortJob(jobId);
    await rejectsWith(client.waitForJob(jobId, "pool.snapshottask.run"), /was aborted/);

    const slow = await TruenasTestServer.start({ users: { admin: API_KEY }, jobPolls: 1_000 });
    try {
      const c = new TruenasClient({ ...connection, url: slow.url, fingerprint: slow.cert?.fingerprint, jobTimeoutMs: 60 });
      const t = (await c.call("pool.snapshottask.create", [{ ...TASK, dataset: "tank/fileserver" }])) as { id: number };
      await rejectsWith(c.callJob("pool.snapshottask.run", [t.id]), /did not finish within 60 ms \(still RUNNING\)/);
      c.close();
    } finally {
      await slow.close();
    }
    client.close();
  });

  test("a read dropped in flight is repeated once on a new connection; twice is an error", async () => {
    const client = new TruenasClient(connection);
    await client.call("system.version");
    server.dropOn("pool.snapshottask.query");
    assert.ok(Array.isArray(await client.call("pool.snapshottask.query")));
    assert.equal(client.stats.connects, 2);
    assert.equal(client.stats.logins, 2);
    server.dropOn("pool.snapshottask.query", 2);
    await rejectsWith(client.call("pool.snapshottask.query"), /dropped during pool\.snapshottask\.query/);
    client.close();
  });

  test("an idle connection that dropped is re-established by the next call", async () => {
    const client = new TruenasClient(connection);
    await client.call("system.version");
    server.dropAll();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await client.call("system.version"), "25.10.0");
    assert.equal(client.stats.connects, 2);
    client.close();
  });

  test("a create dropped in flight is not sent again: whether it applied is unknown", async () => {
    const client = new TruenasClient(connection);
    const count = server.snapshotTasks.size;
    server.dropOn("pool.snapshottask.create");
    await rejectsWith(client.call("pool.snapshottask.create", [TASK]), /dropped while pool\.snapshottask\.create was in flight; .* not sent again: run `pulumi refresh`/);
    assert.equal(server.calls.filter((m) => m === "pool.snapshottask.create").length >= 1, true);
    assert.equal(server.snapshotTasks.size, count, "no duplicate was created");
    client.close();
  });

  test("each call has its own timeout", async () => {
    const client = new TruenasClient({ ...connection, callTimeoutMs: 100 });
    await client.call("pool.filesystem_choices");
    server.delay("system.version", 400);
    try {
      await rejectsWith(client.call("system.version"), /did not answer system\.version within 100 ms/);
      assert.ok(Array.isArray(await client.call("pool.filesystem_choices")), "the connection stays usable");
    } finally {
      server.delay("system.version", 0);
      client.close();
    }
  });
});
