import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { aclSpec } from "../../components/pbs/acl";
import { PbsClient } from "../../components/pbs/client";
import { datastoreSpec } from "../../components/pbs/datastore";
import { namespaceSpec } from "../../components/pbs/namespace";
import { makeProvider } from "../../components/pbs/provider";
import { tokenSpec } from "../../components/pbs/token";
import { userSpec } from "../../components/pbs/user";
import { PbsTestServer } from "../fixtures/pbs-server";
import { create, diff, failures, read, rejectsWith, remove, up, withDigest } from "./helpers";

const namespace = makeProvider(namespaceSpec);
const user = makeProvider(userSpec);
const token = makeProvider(tokenSpec);
const acl = makeProvider(aclSpec);
const datastore = makeProvider(datastoreSpec);
let server: PbsTestServer;

before(async () => {
  server = await PbsTestServer.start();
  await create(datastore, { connection: server.connection(), name: "store1", path: "/mnt/store1" });
});
after(async () => {
  await server.close();
});
beforeEach(() => server.clearLog());

describe("Namespace", () => {
  it("create → read → drift → delete, nested, without ever sending delete-groups", async () => {
    const conn = server.connection();
    const parent = await create(namespace, { connection: conn, store: "store1", name: "critical" });
    const child = await create(namespace, { connection: conn, store: "store1", parent: "critical", name: "db" });
    assert.equal(parent.id, "store1:critical");
    assert.equal(child.id, "store1:critical/db");
    assert.equal(child.outs.path, "critical/db");
    assert.deepEqual(server.seen("POST")[1].body, { parent: "critical", name: "db" });
    assert.deepEqual([...(server.state.namespaces.get("store1") ?? [])].sort(), ["critical", "critical/db"]);
    assert.deepEqual(await read(namespace, child.id, child.outs), child.outs);
    assert.equal((await diff(namespace, child.id, child.outs, { connection: conn, store: "store1", parent: "critical", name: "db" })).changes, false);

    // drift: removed by hand → read reports it gone
    server.state.namespaces.get("store1")?.delete("critical/db");
    assert.equal(await read(namespace, child.id, child.outs), undefined);
    await remove(namespace, child.id, child.outs);

    // a namespace holding backups is not removed: PBS refuses and says why
    server.addBackupGroup("store1", "critical");
    await rejectsWith(remove(namespace, parent.id, parent.outs), /^PBS rejected DELETE \/admin\/datastore\/store1\/namespace: namespace 'critical' is not empty: it still holds backup groups$/);
    assert.ok(server.state.namespaces.get("store1")?.has("critical"));
    server.state.groups.clear();
    await remove(namespace, parent.id, parent.outs);
    assert.equal(server.state.namespaces.get("store1")?.has("critical"), false);
    assert.ok(server.seen("DELETE").every((r) => r.query["delete-groups"] === undefined), "delete-groups never sent");
    assert.ok(server.namespaceDeletes.every((d) => !d.deleteGroups));
  });

  it("every field is immutable, and depth is limited to 7 levels", async () => {
    const olds = { connection: server.connection(), store: "store1", parent: "a", name: "b" };
    assert.deepEqual((await diff(namespace, "store1:a/b", olds, { ...olds, name: "c" })).replaces, ["name"]);
    assert.deepEqual((await diff(namespace, "store1:a/b", olds, { ...olds, parent: "" })).replaces, ["parent"]);
    assert.deepEqual((await diff(namespace, "store1:a/b", olds, { ...olds, store: "store2" })).replaces, ["store"]);
    const f = await failures(namespace, { connection: server.connection(), store: "store1", parent: "a/b/c/d/e/f/g", name: "h" });
    assert.deepEqual(f.map((x) => x.property), ["name"]);
    assert.deepEqual((await failures(namespace, { connection: server.connection(), store: "store1", name: "a/b" })).map((x) => x.property), ["name"]);
  });
});

describe("User and ApiToken", () => {
  it("user create → read → update → drift → delete", async () => {
    const args = { connection: server.connection(), userid: "pve-backup@pbs", comment: "PVE storage", email: "ops@example.org" };
    const { id, outs } = await create(user, args);
    assert.equal(id, "pve-backup@pbs");
    assert.deepEqual(await read(user, id, outs), outs);
    server.clearLog();
    const { outs: outs2 } = await up(user, id, outs, { ...args, email: undefined, enable: false });
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { enable: false, delete: ["email"], digest: "…" });
    server.state.users.get(id)!.comment = "changed by hand";
    assert.equal((await read(user, id, outs2))?.comment, "changed by hand");
    // removing enable restores the default rather than using a delete list PBS does not offer
    server.clearLog();
    await up(user, id, outs2, { ...args, email: undefined });
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { enable: true, digest: "…" });
    await remove(user, id, outs2);
    assert.equal(server.state.users.has(id), false);
  });

  it("token: the secret comes back once on create, is kept in state, and updates send only comment/enable/expire", async () => {
    const conn = server.connection();
    await create(user, { connection: conn, userid: "pve@pbs" });
    const args = { connection: conn, userid: "pve@pbs", tokenName: "storage", comment: "PVE pbs storage" };
    const { id, outs } = await create(token, args);
    assert.equal(id, "pve@pbs!storage");
    assert.equal(outs.tokenId, "pve@pbs!storage");
    assert.equal(outs.secret, server.state.tokens.get("pve@pbs!storage")?.secret);
    assert.equal(server.seen("POST", "/access/users/pve@pbs/token/storage").length, 1);

    // read: PBS does not return the secret; state keeps it
    const refreshed = await read(token, id, outs);
    assert.deepEqual(refreshed, outs);
    assert.equal((await diff(token, id, outs, args)).changes, false);

    // the new secret authenticates against the API
    const asPve = new PbsClient({ ...conn, tokenId: String(outs.tokenId), tokenSecret: String(outs.secret) });
    await rejectsWith(asPve.get("/config/datastore"), /authentication failed/); // the stand-in knows one admin token only

    // update: comment removed → sent as "" (the token update has no delete list), expire set
    server.clearLog();
    const { outs: outs2 } = await up(token, id, outs, { ...args, comment: undefined, expire: 1900000000 });
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { comment: "", expire: 1900000000, digest: "…" });
    assert.equal(server.state.tokens.get(id)?.config.comment, undefined);
    assert.equal(outs2.secret, outs.secret, "the secret survives updates");

    // drift: disabled by hand
    server.state.tokens.get(id)!.config.enable = false;
    const drifted = await read(token, id, outs2);
    assert.equal(drifted?.enable, false);
    assert.equal(drifted?.secret, outs.secret);

    // a new name is a new token
    assert.deepEqual((await diff(token, id, outs2, { ...args, tokenName: "storage2" })).replaces, ["tokenName"]);
    assert.deepEqual((await diff(token, id, outs2, { ...args, userid: "other@pbs" })).replaces, ["userid"]);

    await remove(token, id, outs2);
    assert.equal(server.state.tokens.has(id), false);
    await remove(token, id, outs2); // already gone: fine
  });

  it("errors from token calls never contain the token's own secret or the admin secret", async () => {
    const conn = server.connection();
    await create(user, { connection: conn, userid: "leak@pbs" });
    const { id, outs } = await create(token, { connection: conn, userid: "leak@pbs", tokenName: "t1" });
    server.injectFaults(1, { kind: "echo" });
    const error = await rejectsWith(up(token, id, outs, { connection: conn, userid: "leak@pbs", tokenName: "t1", comment: "x" }), /^PBS rejected GET/);
    assert.ok(!error.message.includes(server.tokenSecret));
    assert.ok(!error.message.includes(String(outs.secret)));
  });
});

describe("Acl", () => {
  it("create → read → update propagate → drift → delete", async () => {
    const conn = server.connection();
    await create(user, { connection: conn, userid: "acl@pbs" });
    const tok = await create(token, { connection: conn, userid: "acl@pbs", tokenName: "pve" });
    const args = { connection: conn, path: "/datastore/store1/critical", role: "DatastoreBackup", authId: String(tok.outs.tokenId), propagate: false };
    const { id, outs } = await create(acl, args);
    assert.equal(id, "/datastore/store1/critical|acl@pbs!pve|DatastoreBackup");
    assert.deepEqual(server.state.acl.filter((e) => e.ugid === "acl@pbs!pve"), [
      { path: "/datastore/store1/critical", ugid: "acl@pbs!pve", ugid_type: "user", roleid: "DatastoreBackup", propagate: false },
    ]);
    const [put] = server.seen("PUT", "/access/acl");
    assert.equal(typeof (put.body as { digest: unknown }).digest, "string", "the ACL digest is sent");
    assert.deepEqual(await read(acl, id, outs), outs);
    assert.equal((await diff(acl, id, outs, args)).changes, false);

    const { outs: outs2 } = await up(acl, id, outs, { ...args, propagate: true });
    assert.equal(server.state.acl.find((e) => e.ugid === "acl@pbs!pve")?.propagate, true);

    // path, role and auth id identify the entry
    for (const change of [{ path: "/datastore/store1" }, { role: "DatastorePowerUser" }, { authId: "acl@pbs" }]) {
      assert.deepEqual((await diff(acl, id, outs2, { ...args, ...change })).replaces, Object.keys(change));
    }

    // drift: removed by hand
    const saved = [...server.state.acl];
    server.state.acl = server.state.acl.filter((e) => e.ugid !== "acl@pbs!pve");
    assert.equal(await read(acl, id, outs2), undefined);
    server.state.acl = saved;

    server.clearLog();
    await remove(acl, id, outs2);
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), {
      path: "/datastore/store1/critical", role: "DatastoreBackup", "auth-id": "acl@pbs!pve", delete: true, digest: "…",
    });
    assert.equal(server.state.acl.some((e) => e.ugid === "acl@pbs!pve"), false);
    server.clearLog();
    await remove(acl, id, outs2); // gone (e.g. with its datastore): no PUT at all
    assert.equal(server.seen("PUT").length, 0);
  });

  it("check refuses unknown roles, malformed paths and auth ids", async () => {
    const f = await failures(acl, { connection: server.connection(), path: "datastore/x", role: "Superuser", authId: "nobody" });
    assert.deepEqual(f.map((x) => x.property).sort(), ["authId", "path", "role"]);
  });
});
