import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TruenasClient, type TruenasConnection } from "../../components/truenas/client";
import { makeProvider } from "../../components/truenas/provider";
import { snapshotTaskSpec } from "../../components/truenas/snapshot-task";
import type { TruenasTestServer } from "../fixtures/truenas-server";
import { checked, create, diff, failures, read, rejectsWith, remove, startServer, up, withoutConnection } from "./helpers";

const provider = makeProvider(snapshotTaskSpec);
const SCHEDULE = { minute: "0", hour: "1", dom: "*", month: "*", dow: "*" };

describe("PeriodicSnapshotTask", () => {
  let server: TruenasTestServer;
  let connection: TruenasConnection;
  before(async () => ({ server, connection } = await startServer()));
  after(async () => server.close());
  const args = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ connection, dataset: "tank/fileserver", schedule: SCHEDULE, ...extra });

  test("check fills TrueNAS's defaults", async () => {
    const inputs = await checked(provider, args());
    assert.deepEqual(withoutConnection(inputs), {
      dataset: "tank/fileserver", recursive: false, exclude: [], lifetimeValue: 2, lifetimeUnit: "WEEK",
      namingSchema: "auto-%Y-%m-%d_%H-%M", schedule: { ...SCHEDULE, begin: "00:00", end: "23:59" }, allowEmpty: true, enabled: true,
    });
  });

  test("check mirrors TrueNAS's validation, so mistakes fail at preview", async () => {
    assert.deepEqual(await failures(provider, args({ exclude: ["tank/fileserver/photos"] })), ["exclude: Excluding datasets is not necessary for non-recursive periodic snapshot tasks"]);
    assert.deepEqual(await failures(provider, args({ recursive: true, exclude: ["tank/other"] })), ["exclude[0]: Excluded dataset should be a child or other descendant of the selected dataset"]);
    assert.deepEqual(await failures(provider, args({ namingSchema: "auto-%Y-%m-%d" })), ["namingSchema: %H must be present in snapshot naming schema"]);
    assert.deepEqual(await failures(provider, args({ namingSchema: "auto/%Y%m%d%H%M" })), ["namingSchema: / is not an allowed character in ZFS snapshot name"]);
    assert.deepEqual(await failures(provider, args({ lifetimeValue: 0 })), ["lifetimeValue: 0 is below the minimum of 1"]);
    assert.deepEqual(await failures(provider, args({ lifetimeUnit: "FORTNIGHT" })), ['lifetimeUnit: "FORTNIGHT" is not one of HOUR, DAY, WEEK, MONTH, YEAR']);
    assert.deepEqual(await failures(provider, args({ dataset: "/mnt/tank/fileserver" })), ['dataset: "/mnt/tank/fileserver" is not a ZFS dataset name such as tank/replica (no leading / or /mnt)']);
    assert.deepEqual(await failures(provider, args({ schedule: { ...SCHEDULE, hour: "25" } })), ['schedule.hour: Please ensure fields match cron syntax - "25" is outside 0-23']);
    assert.deepEqual(await failures(provider, args({ schedule: { ...SCHEDULE, begin: "09:00", end: "17:00" } })), ["schedule.begin: Specified schedule does not match specified time interval"]);
    assert.deepEqual(await failures(provider, { ...args(), schedule: undefined }), ["schedule: schedule is required"]);
    assert.deepEqual(await failures(provider, args({ lifetime: 3 })), ["lifetime: unknown input for a TrueNAS periodic snapshot task"]);
    const insecure = await failures(provider, args({ connection: { ...connection, url: "ws://127.0.0.1:1" } }));
    assert.equal(insecure.length, 1);
    assert.match(insecure[0] as string, /^connection\.url: refusing to connect to ws:\/\/.*revokes an API key/);
  });

  test("create → read → update → drift → delete, with no diff after apply", async () => {
    const { id, outs } = await create(provider, args({ lifetimeValue: 30, lifetimeUnit: "DAY" }));
    const row = server.snapshotTasks.get(Number(id));
    assert.equal(row?.lifetime_value, 30);
    assert.deepEqual(row?.schedule, { ...SCHEDULE, begin: "00:00", end: "23:59" });
    assert.equal(outs.truenasId, Number(id));

    const refreshed = await read(provider, id, outs);
    assert.deepEqual(refreshed, outs, "read returns exactly the applied state");
    assert.equal((await diff(provider, id, outs, args({ lifetimeValue: 30, lifetimeUnit: "DAY" }))).changes, false);

    const updated = await up(provider, id, outs, args({ lifetimeValue: 45, lifetimeUnit: "DAY", schedule: { ...SCHEDULE, hour: "2" } }));
    assert.equal(updated.diff.changes, true);
    assert.equal(server.snapshotTasks.get(Number(id))?.lifetime_value, 45);
    assert.equal((server.snapshotTasks.get(Number(id))?.schedule as { hour: string }).hour, "2");

    // Drift: someone disables the task and moves it in the UI.
    Object.assign(server.snapshotTasks.get(Number(id)) as object, { enabled: false, lifetime_value: 1 });
    const drifted = (await read(provider, id, updated.outs)) as Record<string, unknown>;
    assert.equal(drifted.enabled, false);
    assert.equal(drifted.lifetimeValue, 1);
    const back = await up(provider, id, drifted, args({ lifetimeValue: 45, lifetimeUnit: "DAY", schedule: { ...SCHEDULE, hour: "2" } }));
    assert.equal(back.diff.changes, true);
    assert.equal(server.snapshotTasks.get(Number(id))?.enabled, true);
    assert.equal(server.snapshotTasks.get(Number(id))?.lifetime_value, 45);

    await remove(provider, id, back.outs);
    assert.equal(server.snapshotTasks.has(Number(id)), false);
    assert.equal(await read(provider, id, back.outs), undefined, "a deleted task reads as gone");
    await remove(provider, id, back.outs); // already gone: not an error
  });

  test("TrueNAS's own refusals reach the user with field and message", async () => {
    await rejectsWith(create(provider, args({ dataset: "tank/missing" })), /^TrueNAS rejected pool\.snapshottask\.create: periodic_snapshot_create\.dataset: Dataset not found$/);
  });

  test("deleting or re-scheming a task never destroys its snapshots", async () => {
    const client = new TruenasClient(connection);
    const snapshotsAfter = async (dataset: string, act: (id: number, outs: Record<string, unknown>) => Promise<void>): Promise<string[]> => {
      const { id, outs } = await create(provider, args({ dataset, lifetimeValue: 1, lifetimeUnit: "DAY" }));
      for (const at of [Date.UTC(2025, 0, 6, 1, 0), Date.UTC(2025, 0, 7, 1, 0)]) {
        server.clock = new Date(at);
        await client.callJob("pool.snapshottask.run", [Number(id)]);
      }
      assert.equal(server.snapshotNames(dataset).length, 2);
      await act(Number(id), outs);
      server.runRetention(new Date(Date.UTC(2035, 0, 1)));
      return server.snapshotNames(dataset);
    };
    server.addDataset("tank/a");
    server.addDataset("tank/b");
    server.addDataset("tank/c");
    server.addDataset("tank/d");

    // Through the provider: delete passes fixate_removal_date false, so nothing ever expires them.
    assert.deepEqual(await snapshotsAfter("tank/a", (id, outs) => remove(provider, String(id), outs)), ["auto-2025-01-06_01-00", "auto-2025-01-07_01-00"]);
    // Control: fixating removal dates on delete would have scheduled their destruction.
    assert.deepEqual(await snapshotsAfter("tank/b", async (id) => void (await client.call("pool.snapshottask.delete", [id, { fixate_removal_date: true }]))), []);

    // Through the provider: a new naming schema orphans the old snapshots, which are kept.
    assert.equal(
      (await snapshotsAfter("tank/c", async (id, outs) => void (await up(provider, String(id), outs, args({ dataset: "tank/c", lifetimeValue: 1, lifetimeUnit: "DAY", namingSchema: "daily-%Y%m%d-%H%M" }))))).length,
      2,
    );
    // Control: an update carrying fixate_removal_date, even false, fixates on current middleware.
    assert.deepEqual(
      await snapshotsAfter("tank/d", async (id) => void (await client.call("pool.snapshottask.update", [id, { naming_schema: "daily-%Y%m%d-%H%M", fixate_removal_date: false }]))),
      [],
    );
    client.close();
  });
});
