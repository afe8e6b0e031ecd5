import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TruenasConnection } from "../../components/truenas/client";
import { keypairSpec, sshConnectionSpec } from "../../components/truenas/keychain";
import { makeProvider } from "../../components/truenas/provider";
import { replicationSpec } from "../../components/truenas/replication-task";
import { snapshotTaskSpec } from "../../components/truenas/snapshot-task";
import { makeHostKey, type TruenasTestServer } from "../fixtures/truenas-server";
import { UNKNOWN } from "../../components/truenas/fields";
import { checked, create, diff, failures, read, rejectsWith, remove, startServer, up } from "./helpers";

const replications = makeProvider(replicationSpec);
const SCHEDULE = { minute: "45", hour: "5", dom: "*", month: "*", dow: "*" };

describe("ReplicationTask", () => {
  let server: TruenasTestServer;
  let connection: TruenasConnection;
  let sshId: number;
  let keyId: number;
  const pull = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    connection, name: "pbs-homelab", direction: "PULL", transport: "SSH", sshCredentials: sshId,
    sourceDatasets: ["backup/homelab"], targetDataset: "tank/replica/homelab", recursive: false,
    namingSchema: ["auto-%Y-%m-%d_%H-%M"], auto: true, schedule: SCHEDULE, readonly: "SET",
    retentionPolicy: "CUSTOM", lifetimeValue: 8, lifetimeUnit: "WEEK", ...extra,
  });

  before(async () => {
    ({ server, connection } = await startServer());
    const key = await create(makeProvider(keypairSpec), { connection, name: "k" });
    keyId = key.outs.truenasId as number;
    const ssh = await create(makeProvider(sshConnectionSpec), { connection, name: "pbs", host: "10.20.0.20", privateKey: keyId, remoteHostKey: makeHostKey() });
    sshId = ssh.outs.truenasId as number;
  });
  after(async () => server.close());

  test("check mirrors the replication plugin's rules, in TrueNAS's words", async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ namingSchema: [] }, ["namingSchema: Naming schema is required for pull replication"]],
      [{ periodicSnapshotTasks: [3] }, ["periodicSnapshotTasks: Pull replication can't be bound to periodic snapshot task"]],
      [{ auto: false }, ["schedule: You can't have schedule for replication that does not run automatically"]],
      [{ schedule: undefined }, ["auto: Pull replication that runs automatically must have schedule"]],
      [{ exclude: ["backup/homelab/x"] }, ["exclude: Excluding child datasets is only supported for recursive replication"]],
      [{ recursive: true, exclude: ["other/x"] }, ["exclude[0]: This dataset is not a child of any of source datasets"]],
      [{ lifetimeValue: undefined }, ["lifetimeValue: This field is required for custom retention policy"]],
      [{ retentionPolicy: "NONE" }, ["lifetimeValue: This field has no sense for specified retention policy", "lifetimeUnit: This field has no sense for specified retention policy"]],
      [{ sshCredentials: undefined }, ["sshCredentials: SSH Credentials are required for non-local replication"]],
      [{ transport: "LOCAL" }, ["sshCredentials: Remote credentials have no sense for local replication"]],
      [{ holdPendingSnapshots: true }, ["holdPendingSnapshots: Pull replication tasks can't hold pending snapshots because they don't do source retention"]],
      [{ onlyMatchingSchedule: true, auto: false, schedule: undefined }, ["onlyMatchingSchedule: You can't have only-matching-schedule without schedule"]],
      [{ alsoIncludeNamingSchema: ["x-%Y%m%d%H%M"] }, ["alsoIncludeNamingSchema: This field has no sense for pull replication"]],
      [{ direction: "PUSH", namingSchema: [] }, ['periodicSnapshotTasks: You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" for push replication task']],
      [{ direction: "PUSH", namingSchema: [], periodicSnapshotTasks: [1] }, ["schedule: Push replication can't be bound to periodic snapshot task and have schedule at the same time"]],
      [{ namingSchema: ["auto-%Y"] }, ["namingSchema[0]: %m must be present in snapshot naming schema"]],
      [{ recursive: undefined }, ["recursive: recursive is required (true or false)"]],
    ];
    for (const [extra, expected] of cases) assert.deepEqual(await failures(replications, pull(extra)), expected, JSON.stringify(extra));
  });

  test("at preview, values other resources have not produced yet pass check and count as changes", async () => {
    assert.deepEqual(await failures(replications, pull({ sshCredentials: UNKNOWN })), []);
    const { id, outs } = await create(replications, pull({ name: "preview" }));
    const d = await diff(replications, id, outs, pull({ name: "preview", sshCredentials: UNKNOWN }));
    assert.equal(d.changes, true);
    assert.deepEqual(d.replaces, []);
  });

  test("check refuses what would destroy or expose replicated data", async () => {
    assert.match((await failures(replications, pull({ allowFromScratch: true })))[0] ?? "", /^allowFromScratch: allow_from_scratch destroys every snapshot on the target/);
    assert.match((await failures(replications, pull({ retentionPolicy: "SOURCE", lifetimeValue: undefined, lifetimeUnit: undefined })))[0] ?? "", /^retentionPolicy: SOURCE deletes replica snapshots whenever they vanish from the source/);
    assert.match((await failures(replications, pull({ transport: "SSH+NETCAT" })))[0] ?? "", /^transport: SSH\+NETCAT sends the data unencrypted/);
    assert.match((await failures(replications, pull({ encryption: true })))[0] ?? "", /^encryption: ZFS encryption of the replica is not supported/);
  });

  test("create → read → update → drift → delete, with ids normalised from query's objects", async () => {
    const { id, outs } = await create(replications, pull());
    const row = server.replications.get(Number(id));
    assert.equal(row?.ssh_credentials, sshId, "create sends the credential's id");
    assert.equal(row?.allow_from_scratch, false);
    assert.equal(row?.encryption, false);
    assert.deepEqual(row?.schedule, { ...SCHEDULE, begin: "00:00", end: "23:59" });

    const refreshed = (await read(replications, id, outs)) as Record<string, unknown>;
    assert.deepEqual(refreshed, outs, "query's ssh_credentials object reads back as the id");
    assert.equal((await diff(replications, id, outs, pull())).changes, false);

    const longer = await up(replications, id, outs, pull({ lifetimeValue: 12 }));
    assert.equal(server.replications.get(Number(id))?.lifetime_value, 12);

    Object.assign(server.replications.get(Number(id)) as object, { readonly: "IGNORE", allow_from_scratch: true, retention_policy: "NONE", lifetime_value: null, lifetime_unit: null });
    const drifted = (await read(replications, id, longer.outs)) as Record<string, unknown>;
    assert.equal(drifted.allowFromScratch, true);
    assert.equal(drifted.retentionPolicy, "NONE");
    assert.equal(drifted.lifetimeValue, undefined);
    const back = await up(replications, id, drifted, pull({ lifetimeValue: 12 }));
    assert.deepEqual(back.diff.replaces, []);
    const restored = server.replications.get(Number(id));
    assert.deepEqual([restored?.readonly, restored?.allow_from_scratch, restored?.retention_policy, restored?.lifetime_value], ["SET", false, "CUSTOM", 12]);

    server.addSnapshot("tank/replica/homelab", "auto-2025-01-06_05-15");
    await remove(replications, id, back.outs);
    assert.equal(server.replications.has(Number(id)), false);
    assert.deepEqual(server.snapshotNames("tank/replica/homelab"), ["auto-2025-01-06_05-15"], "the replica's snapshots stay");
    assert.ok(server.keychain.has(sshId), "the SSH connection stays");
  });

  test("a new direction or transport replaces the task", async () => {
    const { id, outs } = await create(replications, pull({ name: "to-replace" }));
    const d = await diff(replications, id, outs, pull({ name: "to-replace", direction: "PUSH", namingSchema: [], alsoIncludeNamingSchema: ["auto-%Y-%m-%d_%H-%M"] }));
    assert.deepEqual(d.replaces, ["direction"]);
    assert.equal(d.changes, true);
    const local = await diff(replications, id, outs, pull({ name: "to-replace", transport: "LOCAL", sshCredentials: undefined }));
    assert.deepEqual(local.replaces, ["transport"]);
    assert.deepEqual((await diff(replications, id, outs, pull({ name: "renamed" }))).replaces, []);
  });

  test("TrueNAS's cross-object rules reach the user with field and message", async () => {
    await rejectsWith(
      create(replications, pull({ name: "wrong-credential", sshCredentials: keyId })),
      new RegExp(`^TrueNAS rejected replication\\.create: replication_create\\.ssh_credentials: Credential ${keyId} is not of type SSH_CREDENTIALS$`),
    );
    // PUSH bound to a disabled snapshot task: only TrueNAS knows the task is disabled.
    const snap = await create(makeProvider(snapshotTaskSpec), { connection, dataset: "tank/fileserver", schedule: SCHEDULE, enabled: false });
    const push = { ...pull({ name: "push", direction: "PUSH", namingSchema: [], schedule: undefined, periodicSnapshotTasks: [snap.outs.truenasId] }) };
    await checked(replications, push);
    await rejectsWith(create(replications, push), /replication_create\.periodic_snapshot_tasks\.0: You can't bind disabled periodic snapshot task to enabled replication task/);
  });
});
