import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import fc from "fast-check";
import { PbsApiError, PbsClient, PbsTaskError } from "../../components/pbs/client";
import { datastoreDeleteQuery, datastoreSpec } from "../../components/pbs/datastore";
import { makeProvider } from "../../components/pbs/provider";
import { PbsTestServer } from "../fixtures/pbs-server";
import { checked, create, diff, failures, read, rejectsWith, remove, up } from "./helpers";

const provider = makeProvider(datastoreSpec);
let server: PbsTestServer;

before(async () => {
  server = await PbsTestServer.start();
});
after(async () => {
  await server.close();
});
beforeEach(() => server.clearLog());

const args = (name: string, extra: Record<string, unknown> = {}) => ({
  connection: server.connection(),
  name,
  path: `/mnt/datastore/${name}`,
  gcSchedule: "*-*-* 05:30",
  verifyNew: true,
  comment: "nightly guests",
  tuning: { chunkOrder: "inode", syncLevel: "filesystem" },
  ...extra,
});

describe("Datastore lifecycle", () => {
  it("create → read → update → drift → delete round trip", async () => {
    // create: waits for the UPID, sends notification-mode explicitly
    const { id, outs } = await create(provider, args("store1"));
    assert.equal(id, "store1");
    assert.deepEqual(server.state.datastores.get("store1"), {
      name: "store1",
      path: "/mnt/datastore/store1",
      comment: "nightly guests",
      "gc-schedule": "*-*-* 05:30",
      "notification-mode": "notification-system",
      tuning: "chunk-order=inode,sync-level=filesystem",
      "verify-new": true,
    });
    assert.ok(server.seen("GET", "/nodes/").length >= 1, "polled the task");
    assert.equal(outs.notificationMode, "notification-system");
    assert.equal(outs.destroyDataOnDelete, false);

    // read: no drift right after create
    assert.deepEqual(await read(provider, id, outs), outs);
    // second apply: no diff
    assert.deepEqual(await diff(provider, id, outs, args("store1")), { changes: false, replaces: [] });

    // update: change the schedule, drop the comment → PUT with the digest and a delete list
    server.clearLog();
    const digestBefore = (await new PbsClient(server.connection()).getWithDigest("/config/datastore/store1")).digest;
    const changed = args("store1", { gcSchedule: "Sun 03:00", comment: undefined });
    const { diff: d, outs: outs2 } = await up(provider, id, outs, changed);
    assert.deepEqual(d, { changes: true, replaces: [] });
    const [put] = server.seen("PUT", "/config/datastore/store1");
    assert.deepEqual(put.body, { "gc-schedule": "Sun 03:00", delete: ["comment"], digest: digestBefore });
    assert.equal(server.state.datastores.get("store1")?.comment, undefined);
    assert.equal(server.state.datastores.get("store1")?.["gc-schedule"], "Sun 03:00");
    assert.equal(outs2.comment, undefined);
    assert.deepEqual((await diff(provider, id, outs2, changed)).changes, false);

    // drift: someone switches the store back to legacy mail and changes GC in the GUI
    const live = server.state.datastores.get("store1");
    assert.ok(live);
    live["notification-mode"] = "legacy-sendmail";
    live["gc-schedule"] = "daily";
    const refreshed = await read(provider, id, outs2);
    assert.ok(refreshed);
    assert.equal(refreshed.notificationMode, "legacy-sendmail");
    assert.equal(refreshed.gcSchedule, "daily");
    assert.deepEqual(refreshed.connection, outs2.connection, "state keeps the connection");
    assert.deepEqual(await diff(provider, id, refreshed, changed), { changes: true, replaces: [] });
    const digestAfterDrift = (await new PbsClient(server.connection()).getWithDigest("/config/datastore/store1")).digest;
    server.clearLog();
    await up(provider, id, refreshed, changed);
    assert.deepEqual(server.seen("PUT")[0].body, {
      "gc-schedule": "Sun 03:00",
      "notification-mode": "notification-system",
      digest: digestAfterDrift,
    });
    assert.equal(server.state.datastores.get("store1")?.["notification-mode"], "notification-system");

    // delete: waits for the task; no destroy-data by default
    server.clearLog();
    await remove(provider, id, { ...outs2 });
    assert.equal(server.state.datastores.has("store1"), false);
    const [del] = server.seen("DELETE", "/config/datastore/store1");
    assert.deepEqual(Object.keys(del.query).sort(), ["digest"]);
    assert.deepEqual(server.datastoreDeletes.at(-1), { name: "store1", destroyData: false, keepJobConfigs: false });
    // gone: read reports it, a second delete is fine
    assert.equal(await read(provider, id, outs2), undefined);
    await remove(provider, id, outs2);
  });

  it("update never sends keep-* or prune-schedule (PBS rejects them on update)", async () => {
    const { id, outs } = await create(provider, args("store2"));
    server.clearLog();
    await up(provider, id, outs, args("store2", { verifyNew: false, comment: "changed", tuning: { chunkOrder: "none" }, maintenanceMode: { type: "read-only", message: "disk swap, back soon" } }));
    const [put] = server.seen("PUT");
    const keys = Object.keys(put.body as object);
    assert.ok(!keys.some((k) => k.startsWith("keep-") || k === "prune-schedule"));
    assert.equal(server.state.datastores.get("store2")?.["maintenance-mode"], 'type=read-only,message="disk swap, back soon"');
    assert.equal(server.state.datastores.get("store2")?.tuning, "chunk-order=none");
    // and the stand-in does reject them, with PBS's message
    await rejectsWith(
      new PbsClient(server.connection()).put("/config/datastore/store2", { "keep-daily": 7 }),
      /^PBS rejected PUT \/config\/datastore\/store2: datastore prune settings have been replaced by prune jobs$/,
    );
    await remove(provider, id, outs);
  });

  it("a stale digest is refused, so a concurrent edit is never overwritten", async () => {
    const { id, outs } = await create(provider, args("store3"));
    const client = new PbsClient(server.connection());
    const { digest } = await client.getWithDigest("/config/datastore/store3");
    const live = server.state.datastores.get("store3");
    assert.ok(live);
    live.comment = "edited in the GUI meanwhile";
    const error = await rejectsWith(client.put("/config/datastore/store3", { comment: "mine", digest }), /detected modified configuration/);
    assert.ok(error instanceof PbsApiError && error.status === 400);
    await remove(provider, id, outs);
  });

  it("delete sends destroy-data only when destroyDataOnDelete is true", async () => {
    const { id, outs } = await create(provider, args("store4", { destroyDataOnDelete: true }));
    server.clearLog();
    await remove(provider, id, outs);
    assert.deepEqual(server.seen("DELETE")[0].query["destroy-data"], ["1"]);
    assert.deepEqual(server.datastoreDeletes.at(-1), { name: "store4", destroyData: true, keepJobConfigs: false });
  });

  it("datastoreDeleteQuery never asks for destroy-data unless the input is literally true", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(undefined), fc.string(), fc.integer(), fc.constant(false), fc.constant("true"), fc.constant(1)), fc.option(fc.string(), { nil: undefined }), (flag, digest) => {
        assert.deepEqual(datastoreDeleteQuery({ destroyDataOnDelete: flag }, digest), { digest, "destroy-data": undefined });
      }),
    );
    assert.equal(datastoreDeleteQuery({ destroyDataOnDelete: true }, "d")["destroy-data"], true);
  });

  it("deleting a store cascades to its jobs and ACLs (PBS behaviour the other resources rely on)", async () => {
    const { id, outs } = await create(provider, args("store5"));
    const client = new PbsClient(server.connection());
    await client.post("/config/prune", { id: "p-store5", store: "store5", schedule: "daily", "keep-last": 3 });
    await client.post("/config/verify", { id: "v-store5", store: "store5" });
    await client.put("/access/acl", { path: "/datastore/store5", role: "DatastoreAudit", "auth-id": "root@pam" });
    await client.put("/access/acl", { path: "/datastore/other", role: "DatastoreAudit", "auth-id": "root@pam" });
    await remove(provider, id, outs);
    assert.equal(server.state.prune.has("p-store5"), false);
    assert.equal(server.state.verify.has("v-store5"), false);
    assert.deepEqual(server.state.acl.map((e) => e.path), ["/datastore/other"]);
  });

  it("a failed create task is an error with PBS's exit status, and leaves no store", async () => {
    server.failNextTask("unable to open chunk store at \"/mnt/x\" - permission denied");
    const error = await rejectsWith(create(provider, args("store6")), /^PBS task UPID:.* failed: unable to open chunk store at "\/mnt\/x" - permission denied$/);
    assert.ok(error instanceof PbsTaskError);
    assert.equal(server.state.datastores.has("store6"), false);
  });
});

describe("Datastore diff and check", () => {
  const olds = { name: "a1a", path: "/mnt/a", notificationMode: "notification-system", destroyDataOnDelete: false, connection: { url: "https://x:8007" } };

  it("replaces only for name or path; with the same name the old store goes first", async () => {
    assert.ok(provider.diff);
    const base = await checked(provider, { ...olds, connection: server.connection() });
    const old = { ...base };
    assert.deepEqual(await provider.diff("a1a", old, { ...base, path: "/mnt/b" }), { changes: true, replaces: ["path"], deleteBeforeReplace: true });
    assert.deepEqual(await provider.diff("a1a", old, { ...base, name: "b1b" }), { changes: true, replaces: ["name"] });
    for (const [key, v] of Object.entries({ comment: "c", gcSchedule: "daily", verifyNew: false, tuning: { syncLevel: "file" }, maintenanceMode: { type: "offline" }, destroyDataOnDelete: true })) {
      assert.deepEqual(await provider.diff("a1a", old, { ...base, [key]: v }), { changes: true, replaces: [] }, key);
    }
  });

  it("rejects bad names, relative paths, bad schedules, keep-* options and bad tuning before calling PBS", async () => {
    const f = await failures(provider, {
      connection: server.connection(),
      name: "x",
      path: "relative/dir",
      gcSchedule: "every tuesday",
      keepDaily: 7,
      tuning: { chunkOrder: "random" },
      maintenanceMode: { type: "read-only", message: "x".repeat(65) },
    });
    assert.deepEqual(f.map((x) => x.property).sort(), ["gcSchedule", "keepDaily", "maintenanceMode", "name", "path", "tuning"]);
    assert.equal(server.requests.length, 0);
  });

  it("notification-mode cannot be set to legacy mail", async () => {
    const f = await failures(provider, { connection: server.connection(), name: "abc", path: "/mnt/abc", notificationMode: "legacy-sendmail" });
    assert.deepEqual(f.map((x) => x.property), ["notificationMode"]);
  });
});
