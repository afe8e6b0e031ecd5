import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import {
  apiEndpoint,
  backoffDelay,
  describeRejection,
  encodeQuery,
  isNotFound,
  parsePbsErrorBody,
  parseUpid,
  PbsApiError,
  PbsClient,
  PbsNetworkError,
  PbsTaskError,
  redact,
} from "../../components/pbs/client";
import { fingerprintMatches, FingerprintMismatchError, formatFingerprint, normalizeFingerprint } from "../../components/pbs/tls";
import { makeSelfSignedCert, PbsTestServer, type TestCert } from "../fixtures/pbs-server";

let cert: TestCert;
let server: PbsTestServer;

before(async () => {
  cert = makeSelfSignedCert();
  server = await PbsTestServer.start({}, cert);
});
after(async () => {
  await server.close();
});

/** Any other certificate's fingerprint: right format, wrong value. */
function otherFingerprint(fp: string): string {
  const hex = normalizeFingerprint(fp);
  return formatFingerprint((hex[0] === "A" ? "B" : "A") + hex.slice(1));
}

describe("TLS pinning", () => {
  it("talks to a server whose certificate matches the pin, in any case and with or without colons", async () => {
    for (const fingerprint of [server.fingerprint, server.fingerprint.toLowerCase(), normalizeFingerprint(server.fingerprint)]) {
      const client = new PbsClient(server.connection({ fingerprint }));
      assert.deepEqual(await client.get("/config/datastore"), []);
    }
  });

  it("refuses a certificate that does not match the pin before sending any byte, and does not retry", async () => {
    // A raw TLS listener with the same kind of certificate records every byte a client sends.
    const received: Buffer[] = [];
    let connections = 0;
    const raw = tls.createServer({ key: cert.key, cert: cert.cert }, (socket) => {
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.on("error", () => undefined);
    });
    raw.on("connection", () => connections++);
    raw.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    try {
      const port = (raw.address() as AddressInfo).port;
      const client = new PbsClient({ ...server.connection({ requestTimeoutMs: 200, maxRetries: 0 }), url: `https://127.0.0.1:${port}`, fingerprint: otherFingerprint(cert.fingerprint) });
      const error = await client.get("/config/datastore").then(
        () => assert.fail("expected a fingerprint mismatch"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof FingerprintMismatchError);
      assert.match(error.message, /refusing to send credentials/);
      assert.match(error.message, new RegExp(cert.fingerprint));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(connections, 1, "a pin mismatch is not retried");
      assert.equal(Buffer.concat(received).length, 0, "no application data, so no token, reached the server");
    } finally {
      raw.close();
    }
  });

  it("a pin mismatch against the PBS stand-in never produces a request there", async () => {
    server.clearLog();
    const client = new PbsClient(server.connection({ fingerprint: otherFingerprint(server.fingerprint) }));
    await assert.rejects(client.get("/config/datastore"), FingerprintMismatchError);
    assert.equal(server.requests.length, 0);
  });

  it("compares fingerprints case-insensitively and never matches an empty one", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const upper = [...bytes].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
        assert.ok(fingerprintMatches(upper.toLowerCase(), upper));
        assert.ok(fingerprintMatches(upper.replace(/:/g, ""), upper));
        assert.ok(!fingerprintMatches(upper, undefined));
        assert.ok(!fingerprintMatches(upper, ""));
        assert.ok(!fingerprintMatches("", ""));
      }),
    );
  });
});

describe("auth and errors", () => {
  it("sends the token as PBSAPIToken=<id>:<secret>", async () => {
    server.clearLog();
    await new PbsClient(server.connection()).get("/config/datastore");
    assert.equal(server.requests[0].authorization, `PBSAPIToken=${server.tokenId}:${server.tokenSecret}`);
  });

  it("a wrong token is a 401 with PBS's message, not retried, and the message holds no secret", async () => {
    server.clearLog();
    const wrong = "not-the-secret-0123456789";
    const client = new PbsClient(server.connection({ tokenSecret: wrong }));
    const error = await client.get("/config/datastore").catch((e: unknown) => e);
    assert.ok(error instanceof PbsApiError);
    assert.equal(error.status, 401);
    assert.equal(error.message, "PBS rejected GET /config/datastore: authentication failed - invalid credentials (check the API token id and secret)");
    assert.ok(!error.message.includes(wrong));
    assert.equal(server.requests.length, 1);
  });

  it("a 400 names PBS's parameter and message and is not retried", async () => {
    server.clearLog();
    const client = new PbsClient(server.connection());
    const error = await client.post("/config/prune", { id: "job1", store: "nope", schedule: "daily", "keep-last": 0 }).catch((e: unknown) => e);
    assert.ok(error instanceof PbsApiError);
    assert.equal(error.status, 400);
    assert.equal(error.message, "PBS rejected POST /config/prune: keep-last: value must have a minimum value of 1 (got 0)");
    assert.deepEqual(error.params, { "keep-last": "value must have a minimum value of 1 (got 0)" });
    assert.equal(server.requests.length, 1, "4xx is final");
  });

  it("an unknown parameter is rejected by name", async () => {
    const client = new PbsClient(server.connection());
    const error = await client.post("/config/prune", { id: "job1", store: "x1x", schedule: "daily", "keep-forever": 1 }).catch((e: unknown) => e);
    assert.ok(error instanceof PbsApiError);
    assert.equal(error.message, "PBS rejected POST /config/prune: keep-forever: schema does not allow additional properties.");
  });

  it("errors never carry the token secret or other secrets, even when the server echoes them", async () => {
    server.clearLog();
    const smtpPassword = "smtp-password-that-must-not-leak";
    const client = new PbsClient(server.connection(), [smtpPassword]);
    server.injectFaults(1, { kind: "echo" });
    const error = await client.post("/config/notifications/endpoints/smtp", { name: "mail", password: smtpPassword }).catch((e: unknown) => e);
    assert.ok(error instanceof PbsApiError);
    assert.equal(server.requests.length, 1);
    for (const text of [error.message, error.pbsMessage, JSON.stringify(error.params), String(error.stack)]) {
      assert.ok(!text.includes(server.tokenSecret), "token secret redacted");
      assert.ok(!text.includes(smtpPassword), "input secret redacted");
    }
    assert.match(error.message, /\*\*\*/);
  });
});

describe("retries", () => {
  it("retries 503 and 500 answers, then succeeds", async () => {
    server.clearLog();
    server.injectFaults(1, { kind: "status", status: 503 });
    server.injectFaults(1, { kind: "status", status: 500 });
    assert.deepEqual(await new PbsClient(server.connection()).get("/config/datastore"), []);
    assert.deepEqual(server.requests.map((r) => r.status), [503, 500, 200]);
  });

  it("gives up after maxRetries with the last status and PBS's message", async () => {
    server.clearLog();
    server.injectFaults(3, { kind: "status", status: 500, message: "internal trouble" });
    const error = await new PbsClient(server.connection({ maxRetries: 2 })).get("/config/datastore").catch((e: unknown) => e);
    assert.ok(error instanceof PbsApiError);
    assert.equal(error.status, 500);
    assert.equal(error.message, "PBS failed GET /config/datastore with HTTP 500: internal trouble (after 3 attempts)");
    assert.equal(server.requests.length, 3);
  });

  it("retries a reset connection", async () => {
    server.clearLog();
    server.injectFaults(2, { kind: "reset" });
    assert.deepEqual(await new PbsClient(server.connection()).get("/config/datastore"), []);
    assert.deepEqual(server.requests.map((r) => r.status), [0, 0, 200]);
  });

  it("retries a refused connection a bounded number of times", async () => {
    const closed = tls.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const started = Date.now();
    const error = await new PbsClient(server.connection({ url: `https://127.0.0.1:${port}`, maxRetries: 2, retryBaseDelayMs: 20 }))
      .get("/config/datastore")
      .catch((e: unknown) => e);
    assert.ok(error instanceof PbsNetworkError);
    assert.equal(error.code, "ECONNREFUSED");
    assert.match(error.message, /^could not complete GET \/config\/datastore on PBS at 127\.0\.0\.1:\d+ after 3 attempts: /);
    // Two backoffs of at least 10 and 20 ms (jitter halves at most) happened.
    assert.ok(Date.now() - started >= 30);
  });

  it("backoff doubles per retry, stays within jitter bounds and never exceeds the cap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 100, max: 60000 }), fc.double({ min: 0, max: 1, noNaN: true }), (retry, base, cap, jitter) => {
        const full = backoffDelay(retry, base, cap, 1);
        const d = backoffDelay(retry, base, cap, jitter);
        assert.ok(full <= cap);
        assert.equal(full, Math.round(Math.min(cap, base * 2 ** retry)));
        assert.ok(d <= full && d >= Math.floor(full / 2));
        assert.ok(backoffDelay(retry + 1, base, cap, 1) >= full, "non-decreasing");
      }),
    );
  });
});

describe("tasks", () => {
  it("waits for a UPID until it stops with OK", async () => {
    const client = new PbsClient(server.connection());
    const upid = await client.post("/config/datastore", { name: "taskstore", path: "/mnt/taskstore" });
    assert.equal(typeof upid, "string");
    assert.equal(server.state.datastores.has("taskstore"), false, "the store appears only when the task ends");
    await client.waitForTask(String(upid));
    assert.equal(server.state.datastores.has("taskstore"), true);
  });

  it("a task that ends with anything but OK is an error carrying the exit status", async () => {
    const client = new PbsClient(server.connection());
    server.failNextTask("unable to create chunk store: permission denied");
    const upid = String(await client.post("/config/datastore", { name: "failstore", path: "/mnt/failstore" }));
    const error = await client.waitForTask(upid).catch((e: unknown) => e);
    assert.ok(error instanceof PbsTaskError);
    assert.equal(error.message, `PBS task ${upid} failed: unable to create chunk store: permission denied`);
    assert.equal(server.state.datastores.has("failstore"), false);
  });

  it("parses a UPID's node and fields", () => {
    assert.deepEqual(parseUpid("UPID:pbs1:00001234:0000ABCD:00000001:65F0A1B2:create-datastore:store1:root@pam!tok:"), {
      node: "pbs1",
      workerType: "create-datastore",
      workerId: "store1",
      authId: "root@pam!tok",
    });
    assert.throws(() => parseUpid("not a upid"), /where a task id/);
  });
});

describe("pure helpers", () => {
  it("reads both documented error body shapes and plain text", () => {
    assert.deepEqual(parsePbsErrorBody('{"data":null,"errors":{"schedule":"unable to parse calendar event"},"message":"parameter verification errors\\n"}'), {
      message: "parameter verification errors",
      params: { schedule: "unable to parse calendar event" },
    });
    assert.deepEqual(parsePbsErrorBody('{"data":null,"message":"datastore \'a1\' already exists.\\n"}'), { message: "datastore 'a1' already exists.", params: {} });
    assert.deepEqual(parsePbsErrorBody("parameter verification errors\n\nparameter 'keep-last': value must have a minimum value of 1"), {
      message: "parameter verification errors",
      params: { "keep-last": "value must have a minimum value of 1" },
    });
  });

  it("formats rejections with the parameter, and falls back to the message", () => {
    assert.equal(describeRejection("PUT", "/config/prune/j", 400, { message: "parameter verification errors", params: { schedule: "bad" } }), "PBS rejected PUT /config/prune/j: schedule: bad");
    assert.equal(describeRejection("DELETE", "/x", 400, { message: "nope", params: {} }), "PBS rejected DELETE /x: nope");
    assert.equal(describeRejection("GET", "/x", 502, { message: "", params: {} }), "PBS failed GET /x with HTTP 502: HTTP 502");
  });

  it("redacts every occurrence of every secret of 4+ characters", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), fc.array(fc.string()), (secret, parts) => {
        const text = parts.join(secret);
        assert.ok(!redact(text, [secret]).includes(secret));
      }),
    );
  });

  it("builds the API endpoint and query strings PBS expects", () => {
    assert.deepEqual(apiEndpoint("https://pbs.lan:8007"), { host: "pbs.lan", port: 8007, base: "/api2/json" });
    assert.deepEqual(apiEndpoint("https://10.0.0.2/api2/json/"), { host: "10.0.0.2", port: 8007, base: "/api2/json" });
    assert.throws(() => apiEndpoint("http://pbs.lan:8007"), /must use https/);
    assert.equal(encodeQuery({ "destroy-data": true, digest: undefined, ns: "a/b", target: ["x", "y"] }), "?destroy-data=1&ns=a%2Fb&target=x&target=y");
    assert.equal(encodeQuery({}), "");
  });

  it("treats 404 and PBS's 'no such' 400s as not found, nothing else", () => {
    const e = (status: number, msg: string): PbsApiError => new PbsApiError("x", status, "GET", "/x", msg, {});
    assert.ok(isNotFound(e(404, "whatever")));
    assert.ok(isNotFound(e(400, "no such datastore 'a'")));
    assert.ok(isNotFound(e(400, "job 'x' does not exist.")));
    assert.ok(!isNotFound(e(400, "parameter verification errors")));
    assert.ok(!isNotFound(e(500, "no such thing")));
    assert.ok(!isNotFound(new Error("no such")));
  });
});
