import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { PbsClient } from "../../components/pbs/client";
import { datastoreSpec } from "../../components/pbs/datastore";
import { makeProvider } from "../../components/pbs/provider";
import { pruneJobSpec } from "../../components/pbs/prune-job";
import { verifyJobSpec } from "../../components/pbs/verify-job";
import { PbsTestServer } from "../fixtures/pbs-server";
import { create, diff, failures, read, rejectsWith, remove, up, withDigest } from "./helpers";

const prune = makeProvider(pruneJobSpec);
const verify = makeProvider(verifyJobSpec);
const datastore = makeProvider(datastoreSpec);
let server: PbsTestServer;

before(async () => {
  server = await PbsTestServer.start();
  await create(datastore, { connection: server.connection(), name: "store1", path: "/mnt/store1" });
  await create(datastore, { connection: server.connection(), name: "store2", path: "/mnt/store2" });
});
after(async () => {
  await server.close();
});
beforeEach(() => server.clearLog());

const pruneArgs = (extra: Record<string, unknown> = {}) => ({
  connection: server.connection(),
  jobId: "critical-prune",
  store: "store1",
  ns: "critical",
  schedule: "*-*-* 05:00",
  keepHourly: 24,
  keepDaily: 7,
  keepWeekly: 4,
  comment: "tier critical",
  ...extra,
});

describe("PruneJob", () => {
  it("create → read → update → drift → delete round trip", async () => {
    const { id, outs } = await create(prune, pruneArgs({ disable: false }));
    assert.equal(id, "critical-prune");
    assert.deepEqual(server.seen("POST", "/config/prune")[0].body, {
      id: "critical-prune", store: "store1", schedule: "*-*-* 05:00", ns: "critical",
      "keep-hourly": 24, "keep-daily": 7, "keep-weekly": 4, comment: "tier critical",
    });
    assert.deepEqual(await read(prune, id, outs), outs, "no drift after create (disable: false is PBS's default)");
    assert.equal((await diff(prune, id, outs, pruneArgs({ disable: false }))).changes, false);

    // drop keepWeekly and the comment, move to store2, change the schedule
    const digestBefore = (await new PbsClient(server.connection()).getWithDigest("/config/prune/critical-prune")).digest;
    server.clearLog();
    const next = pruneArgs({ keepWeekly: undefined, comment: undefined, store: "store2", schedule: "*-*-* 04:00" });
    const { diff: d, outs: outs2 } = await up(prune, id, outs, next);
    assert.deepEqual(d, { changes: true, replaces: [] }, "a store change is an update, not a replacement");
    const [get] = server.seen("GET", "/config/prune/critical-prune");
    const [put] = server.seen("PUT", "/config/prune/critical-prune");
    assert.ok(get && put, "GET for the digest, then PUT");
    assert.deepEqual(put.body, { store: "store2", schedule: "*-*-* 04:00", delete: ["comment", "keep-weekly"], digest: digestBefore });
    assert.deepEqual(server.state.prune.get("critical-prune"), {
      id: "critical-prune", store: "store2", schedule: "*-*-* 04:00", ns: "critical", "keep-hourly": 24, "keep-daily": 7,
    });
    assert.equal((await diff(prune, id, outs2, next)).changes, false, "idempotent after the update");

    // drift: disabled and re-scheduled by hand
    const live = server.state.prune.get("critical-prune");
    assert.ok(live);
    live.disable = true;
    live["keep-last"] = 1;
    const refreshed = await read(prune, id, outs2);
    assert.ok(refreshed);
    assert.equal(refreshed.disable, true);
    assert.equal(refreshed.keepLast, 1);
    server.clearLog();
    await up(prune, id, refreshed, next);
    assert.deepEqual((server.seen("PUT")[0].body as { delete: string[] }).delete, ["disable", "keep-last"]);
    assert.equal(server.state.prune.get("critical-prune")?.disable, undefined);

    server.clearLog();
    await remove(prune, id, outs2);
    assert.equal(server.state.prune.has("critical-prune"), false);
    assert.equal(typeof server.seen("DELETE")[0].query.digest?.[0], "string", "delete carries the digest");
    assert.equal(await read(prune, id, outs2), undefined);
  });

  it("a job already removed with its datastore counts as deleted", async () => {
    const client = new PbsClient(server.connection());
    const upid = String(await client.post("/config/datastore", { name: "gone1", path: "/mnt/gone1" }));
    await client.waitForTask(upid);
    const { id, outs } = await create(prune, pruneArgs({ jobId: "gone-prune", store: "gone1" }));
    const digest = (await client.getWithDigest("/config/datastore/gone1")).digest;
    await client.waitForTask(String(await client.delete("/config/datastore/gone1", { digest })));
    assert.equal(server.state.prune.has("gone-prune"), false, "PBS removed the job with the store");
    await remove(prune, id, outs);
  });

  it("replaces only when the job id changes", async () => {
    const olds = { ...pruneArgs(), disable: undefined };
    assert.deepEqual((await diff(prune, "critical-prune", olds, pruneArgs({ jobId: "other-prune" }))).replaces, ["jobId"]);
    for (const change of [{ store: "store2" }, { ns: "important" }, { maxDepth: 0 }, { keepLast: 3 }, { schedule: "daily" }, { disable: true }, { comment: "x" }]) {
      assert.deepEqual(await diff(prune, "critical-prune", olds, pruneArgs(change)), { changes: true, replaces: [] }, JSON.stringify(change));
    }
  });

  it("check refuses a job that keeps everything, too deep a namespace walk, bad ids and schedules", async () => {
    const none = await failures(prune, pruneArgs({ keepHourly: undefined, keepDaily: undefined, keepWeekly: undefined }));
    assert.deepEqual(none.map((f) => f.property), ["keepLast"]);
    const deep = await failures(prune, pruneArgs({ ns: "a/b/c", maxDepth: 5 }));
    assert.deepEqual(deep, [{ property: "maxDepth", reason: 'ns "a/b/c" is 3 levels deep, so max-depth can be at most 4' }]);
    const bad = await failures(prune, pruneArgs({ jobId: "x", schedule: "@daily", keepDaily: 0, store: undefined }));
    assert.deepEqual(bad.map((f) => f.property).sort(), ["jobId", "keepDaily", "schedule", "store"]);
    assert.equal(server.requests.length, 0);
  });

  it("PBS's own rejection reaches the user with the parameter at fault", async () => {
    // The provider's create does not re-check; the stand-in rejects like PBS.
    await rejectsWith(prune.create({ ...pruneArgs(), jobId: "bad-prune", keepDaily: 0 }), /^PBS rejected POST \/config\/prune: keep-daily: value must have a minimum value of 1 \(got 0\)$/);
    await rejectsWith(prune.create({ ...pruneArgs(), jobId: "bad-prune", store: "nostore" }), /^PBS rejected POST \/config\/prune: no such datastore 'nostore'$/);
  });
});

describe("VerifyJob", () => {
  const verifyArgs = (extra: Record<string, unknown> = {}) => ({
    connection: server.connection(),
    jobId: "store1-verify",
    store: "store1",
    schedule: "Sat *-*-* 06:00",
    ignoreVerified: true,
    outdatedAfterDays: 30,
    comment: "weekly",
    ...extra,
  });

  it("create → read → update → drift → delete round trip", async () => {
    const { id, outs } = await create(verify, verifyArgs());
    assert.deepEqual(server.state.verify.get("store1-verify"), {
      id: "store1-verify", store: "store1", schedule: "Sat *-*-* 06:00", "ignore-verified": true, "outdated-after": 30, comment: "weekly",
    });
    assert.deepEqual(await read(verify, id, outs), outs);
    assert.equal((await diff(verify, id, outs, verifyArgs())).changes, false);

    server.clearLog();
    const next = verifyArgs({ schedule: undefined, outdatedAfterDays: 60, ns: "critical", maxDepth: 0 });
    const { outs: outs2 } = await up(verify, id, outs, next);
    assert.deepEqual(withDigest(server.seen("PUT")[0].body), { "outdated-after": 60, ns: "critical", "max-depth": 0, delete: ["schedule"], digest: "…" });
    assert.equal(server.state.verify.get("store1-verify")?.schedule, undefined);

    const live = server.state.verify.get("store1-verify");
    assert.ok(live);
    live["ignore-verified"] = false;
    const refreshed = await read(verify, id, outs2);
    assert.equal(refreshed?.ignoreVerified, false);
    assert.deepEqual((await diff(verify, id, refreshed ?? {}, next)).changes, true);

    await remove(verify, id, outs2);
    assert.equal(server.state.verify.has("store1-verify"), false);
  });

  it("replaces only when the job id changes, and refuses the deprecated outdated-after 0", async () => {
    const olds = verifyArgs();
    assert.deepEqual((await diff(verify, "store1-verify", olds, verifyArgs({ jobId: "new-verify" }))).replaces, ["jobId"]);
    assert.deepEqual(await diff(verify, "store1-verify", olds, verifyArgs({ store: "store2", ignoreVerified: false })), { changes: true, replaces: [] });
    assert.deepEqual((await failures(verify, verifyArgs({ outdatedAfterDays: 0 }))).map((f) => f.property), ["outdatedAfterDays"]);
  });
});
