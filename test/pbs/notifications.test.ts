import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { gotifySpec, matcherSpec, smtpSpec, webhookSpec } from "../../components/pbs/notifications";
import { makeProvider } from "../../components/pbs/provider";
import { PbsTestServer } from "../fixtures/pbs-server";
import { create, diff, failures, read, rejectsWith, remove, up, withDigest } from "./helpers";

const smtp = makeProvider(smtpSpec);
const gotify = makeProvider(gotifySpec);
const webhook = makeProvider(webhookSpec);
const matcher = makeProvider(matcherSpec);
let server: PbsTestServer;

before(async () => {
  server = await PbsTestServer.start();
});
after(async () => {
  await server.close();
});
beforeEach(() => server.clearLog());

const PASSWORD = "smtp-app-password-9f8e7d";

const smtpArgs = (extra: Record<string, unknown> = {}) => ({
  connection: server.connection(),
  type: "smtp",
  name: "mail",
  server: "smtp.example.org",
  username: "pbs@example.org",
  password: PASSWORD,
  fromAddress: "pbs@example.org",
  mailto: ["ops@example.org"],
  ...extra,
});

describe("smtp target", () => {
  it("create → read → update → drift → delete; mode explicit; password private", async () => {
    const { id, outs } = await create(smtp, smtpArgs());
    assert.equal(id, "mail");
    const stored = server.state.notifications.get("mail");
    assert.ok(stored);
    assert.equal(stored.config.mode, "tls", "mode is always sent, tls by default");
    assert.equal(stored.config.password, undefined, "PBS keeps the password private");
    assert.equal(stored.priv.password, PASSWORD);

    const refreshed = await read(smtp, id, outs);
    assert.deepEqual(refreshed, outs, "read keeps the password PBS does not return");
    assert.equal((await diff(smtp, id, outs, smtpArgs())).changes, false);

    server.clearLog();
    const next = smtpArgs({ password: undefined, username: undefined, port: 587, mode: "starttls", mailto: ["ops@example.org", "me@example.org"] });
    const { outs: outs2 } = await up(smtp, id, outs, next);
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), {
      port: 587, mode: "starttls", mailto: ["ops@example.org", "me@example.org"], delete: ["password", "username"], digest: "…",
    });
    assert.equal(server.state.notifications.get("mail")?.priv.password, undefined);

    // drift on a visible field
    server.state.notifications.get("mail")!.config.mode = "insecure";
    const drifted = await read(smtp, id, outs2);
    assert.equal(drifted?.mode, "insecure");
    assert.equal((await diff(smtp, id, drifted ?? {}, next)).changes, true);

    await remove(smtp, id, outs2);
    assert.equal(server.state.notifications.has("mail"), false);
    assert.equal(server.seen("DELETE")[0].query.digest, undefined, "target deletes take no digest");
  });

  it("the password is a secret: never in check failures nor in errors", async () => {
    const f = await failures(smtp, smtpArgs({ password: 42 }));
    assert.deepEqual(f, [{ property: "password", reason: "invalid value (not shown: secret)" }]);
    server.injectFaults(1, { kind: "echo" });
    const error = await rejectsWith(create(smtp, smtpArgs({ name: "mail2" })), /^PBS rejected POST \/config\/notifications\/endpoints\/smtp: /);
    assert.ok(!error.message.includes(PASSWORD));
    assert.ok(!error.message.includes(server.tokenSecret));
  });

  it("needs a recipient; only name and type replace", async () => {
    assert.deepEqual((await failures(smtp, smtpArgs({ mailto: [] }))).map((f) => f.property), ["mailto"]);
    const olds = { ...smtpArgs(), mode: "tls" };
    assert.deepEqual((await diff(smtp, "mail", olds, smtpArgs({ name: "mail3" }))).replaces, ["name"]);
    assert.deepEqual(await diff(smtp, "mail", olds, smtpArgs({ server: "other.example.org", author: "PBS" })), { changes: true, replaces: [] });
  });
});

describe("gotify and webhook targets", () => {
  it("gotify round trip keeps the token private", async () => {
    const args = { connection: server.connection(), type: "gotify", name: "phone", server: "https://gotify.example.org", token: "gotify-token-abc123" };
    const { id, outs } = await create(gotify, args);
    assert.equal(server.state.notifications.get("phone")?.priv.token, "gotify-token-abc123");
    assert.equal(server.state.notifications.get("phone")?.config.token, undefined);
    assert.deepEqual(await read(gotify, id, outs), outs);
    server.clearLog();
    const next = { ...args, token: "rotated-token-xyz", comment: "phone" };
    const { outs: outs2 } = await up(gotify, id, outs, next);
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { token: "rotated-token-xyz", comment: "phone", digest: "…" });
    assert.equal(server.state.notifications.get("phone")?.priv.token, "rotated-token-xyz");
    server.state.notifications.get("phone")!.config.server = "https://elsewhere.example.org";
    const drifted = await read(gotify, id, outs2);
    assert.equal(drifted?.server, "https://elsewhere.example.org");
    assert.equal(drifted?.token, "rotated-token-xyz", "the private token comes from state");
    assert.deepEqual(await diff(gotify, id, drifted ?? {}, next), { changes: true, replaces: [] });
    await remove(gotify, id, outs2);
    assert.equal(server.state.notifications.has("phone"), false);
  });

  it("webhook headers, body and secrets are encoded as PBS expects; secrets stay private", async () => {
    const args = {
      connection: server.connection(),
      type: "webhook",
      name: "hook",
      url: "https://hooks.example.org/pbs",
      headers: { "Content-Type": "application/json" },
      body: '{"text": "{{ title }}"}',
      secrets: { key: "hook-secret-123" },
    };
    const { id, outs } = await create(webhook, args);
    const stored = server.state.notifications.get("hook");
    assert.ok(stored);
    assert.equal(stored.config.method, "post");
    assert.deepEqual(stored.config.header, [`name=Content-Type,value=${Buffer.from("application/json").toString("base64")}`]);
    assert.equal(stored.config.body, Buffer.from(args.body).toString("base64"));
    assert.deepEqual(stored.config.secret, ["name=key"], "GET shows secret names only");
    assert.deepEqual(stored.priv.secret, [`name=key,value=${Buffer.from("hook-secret-123").toString("base64")}`]);
    assert.deepEqual(await read(webhook, id, outs), outs);
    server.clearLog();
    const next = { ...args, headers: undefined, secrets: undefined };
    const { outs: outs2 } = await up(webhook, id, outs, next);
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { delete: ["header", "secret"], digest: "…" });
    assert.equal(server.state.notifications.get("hook")?.priv.secret, undefined);
    server.state.notifications.get("hook")!.config.method = "put";
    const drifted = await read(webhook, id, outs2);
    assert.equal(drifted?.method, "put");
    assert.deepEqual(await diff(webhook, id, drifted ?? {}, next), { changes: true, replaces: [] });
    await remove(webhook, id, outs2);
    assert.equal(server.state.notifications.has("hook"), false);
  });
});

describe("matcher", () => {
  it("create → read → update → drift → delete; targets must exist; targets in use cannot be deleted", async () => {
    const conn = server.connection();
    const target = await create(gotify, { connection: conn, type: "gotify", name: "ops-phone", server: "https://g.example.org", token: "t0k3n-value" });
    const args = {
      connection: conn,
      name: "store1-jobs",
      targets: ["ops-phone"],
      matchSeverity: ["warning", "error"],
      matchField: ["exact:type=gc,prune,verify,sync", "exact:datastore=store1"],
      mode: "all",
      comment: "datastore jobs",
    };
    await rejectsWith(create(matcher, { ...args, targets: ["nobody"] }), /^PBS rejected POST \/config\/notifications\/matchers: target 'nobody' does not exist$/);
    const { id, outs } = await create(matcher, args);
    assert.deepEqual(server.state.notifications.get("store1-jobs")?.config, {
      name: "store1-jobs",
      target: ["ops-phone"],
      "match-severity": ["warning", "error"],
      "match-field": ["exact:type=gc,prune,verify,sync", "exact:datastore=store1"],
      mode: "all",
      comment: "datastore jobs",
    });
    assert.deepEqual(await read(matcher, id, outs), outs);
    assert.equal((await diff(matcher, id, outs, args)).changes, false);

    server.clearLog();
    const next = { ...args, matchSeverity: undefined, invertMatch: true };
    const { outs: outs2 } = await up(matcher, id, outs, next);
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { "invert-match": true, delete: ["match-severity"], digest: "…" });

    server.state.notifications.get("store1-jobs")!.config["match-field"] = ["exact:type=gc"];
    assert.deepEqual((await read(matcher, id, outs2))?.matchField, ["exact:type=gc"]);

    // PBS will not delete a target a matcher still uses: the matcher must go first
    await rejectsWith(remove(gotify, target.id, target.outs), /still used by matcher 'store1-jobs'/);
    await remove(matcher, id, outs2);
    await remove(gotify, target.id, target.outs);
    assert.equal(server.state.notifications.size, 0);
  });

  it("check refuses malformed match rules and severities", async () => {
    const f = await failures(matcher, { connection: server.connection(), name: "m1", matchField: ["type=gc"], matchSeverity: ["fatal"], mode: "some" });
    assert.deepEqual(f.map((x) => x.property).sort(), ["matchField", "matchSeverity", "mode"]);
  });
});
