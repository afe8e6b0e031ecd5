import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseCalendarEvent as cal } from "../../config/calendar";
import type { TruenasReplicaArgs } from "../../components/truenas/secondary";
import { makeHostKey, makeOpenSshKey } from "../fixtures/truenas-server";
import { startServer } from "./helpers";

interface Registered {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, unknown>;
  protect: boolean;
  retainOnDelete: boolean;
  secretOutputs: string[];
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const PBS_KEY = makeHostKey();
const registered: Registered[] = [];
const unwrap = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));
const isSecret = (v: unknown): boolean => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] !== undefined;

let Replica: typeof import("../../components/truenas/secondary").TruenasReplica;
let validate: typeof import("../../components/truenas/secondary").validateReplicaArgs;

const args = (extra: Partial<TruenasReplicaArgs> = {}): TruenasReplicaArgs => ({
  connection: { url: "https://truenas.home.arpa", username: "admin", apiKey: pulumi.secret("1-key"), fingerprint: "AA:".repeat(31) + "AA" },
  source: { host: "10.20.0.20", hostKey: PBS_KEY },
  nasAddress: "10.20.0.30",
  datastores: [
    {
      name: "homelab", sourceDataset: "backup/homelab", targetDataset: "tank/replica/homelab",
      snapshotSchedule: cal("*-*-* 05:15"), replicationSchedule: cal("*-*-* 05:45"), lifetime: { value: 8, unit: "WEEK" },
      activity: {
        backups: [{ name: "daily", schedule: cal("*-*-* 02:00"), expectedDurationMinutes: 90 }],
        gc: { name: "gc", schedule: cal("*-*-* 05:30"), expectedDurationMinutes: 30 },
      },
    },
    { name: "critical", sourceDataset: "backup/critical", targetDataset: "tank/replica/critical", snapshotSchedule: cal("*-*-* *:30"), replicationSchedule: cal("*-*-* *:45"), sourceKeep: 48 },
  ],
  localDatasets: [{ dataset: "tank/fileserver", schedule: cal("*-*-* 01:00"), lifetime: { value: 30, unit: "DAY" } }],
  offsite: {
    name: "offsite", accessKeyId: pulumi.secret("AKIA1"), secretAccessKey: pulumi.secret("s3cret"), path: "/mnt/tank/replica/critical",
    bucket: "homelab-offsite-critical", folder: "critical", schedule: cal("*-*-01 04:00"), storageClass: "DEEP_ARCHIVE",
    encryption: { password: pulumi.secret("pw"), salt: pulumi.secret("salt") },
  },
  ...extra,
});

describe("TruenasReplica under mocks", () => {
  before(async () => {
    let nextId = 1;
    await pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          // Outputs the providers compute: TrueNAS ids, and the key pair's public key.
          const computed: Record<string, unknown> = { truenasId: nextId++ };
          if (a.type.endsWith(":SshKeypair")) computed.publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMock";
          return { id: `${a.name}-id`, state: { ...a.inputs, ...computed } };
        },
        call: (a) => {
          throw new Error(`unmocked call ${a.token}`);
        },
      },
      "project",
      "stack",
      false,
    );
    // The public mock API hides protect and retainOnDelete (pulumi/pulumi#14421).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const proto = (require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } }).MockMonitor.prototype;
    const original = proto.registerResource as (this: unknown, req: never, cb: (e: unknown, r: { getUrn(): string } | undefined) => void) => unknown;
    proto.registerResource = function (this: unknown, req: { getType(): string; getName(): string; getProtect(): boolean; getRetainondelete(): boolean; getAdditionalsecretoutputsList(): string[]; getObject(): { toJavaScript(): Record<string, unknown> } | undefined }, cb: (e: unknown, r: { getUrn(): string } | undefined) => void) {
      return original.call(this, req as never, (err, res) => {
        if (!err && res) {
          registered.push({
            type: req.getType(), name: req.getName(), urn: res.getUrn(), inputs: req.getObject()?.toJavaScript() ?? {},
            protect: req.getProtect() === true, retainOnDelete: req.getRetainondelete() === true, secretOutputs: req.getAdditionalsecretoutputsList(),
          });
        }
        cb(err, res);
      });
    };
    ({ TruenasReplica: Replica, validateReplicaArgs: validate } = await import("../../components/truenas/secondary"));
  });

  const byName = (name: string): Registered => {
    const r = registered.find((x) => x.name === name);
    assert.ok(r, `${name} registered`);
    return r;
  };

  test("registers the key, the pinned connection, a PULL task per datastore, snapshot tasks and the off-site copy, all under the component", async () => {
    const replica = new Replica("nas", args());
    await unwrap(replica.authorizedKey);
    await new Promise((r) => setTimeout(r, 50));
    const children = registered.filter((r) => r.type !== "homelab:truenas:Replica" && r.name.startsWith("nas"));
    assert.deepEqual(children.map((c) => `${c.type} ${c.name}`).sort(), [
      "pulumi-nodejs:dynamic/truenas:CloudSyncCredential nas-offsite-s3",
      "pulumi-nodejs:dynamic/truenas:CloudSyncTask nas-offsite",
      "pulumi-nodejs:dynamic/truenas:PeriodicSnapshotTask nas-snap-tank-fileserver",
      "pulumi-nodejs:dynamic/truenas:ReplicationTask nas-critical",
      "pulumi-nodejs:dynamic/truenas:ReplicationTask nas-homelab",
      "pulumi-nodejs:dynamic/truenas:SshConnection nas-pbs",
      "pulumi-nodejs:dynamic/truenas:SshKeypair nas-key",
    ]);
    for (const c of children) {
      assert.match(c.urn, /::homelab:truenas:Replica\$pulumi-nodejs:dynamic\/truenas:/, `${c.name} is parented to the component`);
      assert.equal(typeof c.inputs.__provider, "string", `${c.name}'s provider serialized`);
      assert.ok((c.inputs.__provider as string).length > 1000);
      assert.ok(c.secretOutputs.includes("connection"), `${c.name} keeps its connection secret`);
      const conn = c.inputs.connection as Record<string, unknown>;
      assert.ok(isSecret(conn) || isSecret(conn.apiKey), `${c.name}'s API key is a secret input`);
    }
  });

  test("the replicated datasets' tasks are protected and retained on delete; nothing else needs it", () => {
    for (const name of ["nas-homelab", "nas-critical"]) {
      assert.equal(byName(name).protect, true);
      assert.equal(byName(name).retainOnDelete, true);
    }
    assert.equal(byName("nas-snap-tank-fileserver").protect, false);
    assert.equal(byName("nas-pbs").protect, false);
  });

  test("each replication pulls over SSH with the pinned connection, CUSTOM retention, read-only target, never from scratch", () => {
    const homelab = byName("nas-homelab").inputs;
    const ssh = byName("nas-pbs").inputs;
    assert.equal(homelab.direction, "PULL");
    assert.equal(homelab.transport, "SSH");
    assert.deepEqual(homelab.sourceDatasets, ["backup/homelab"]);
    assert.equal(homelab.targetDataset, "tank/replica/homelab");
    assert.deepEqual(homelab.namingSchema, ["auto-%Y-%m-%d_%H-%M"]);
    assert.deepEqual(homelab.schedule, { minute: "45", hour: "5", dom: "*", month: "*", dow: "*", begin: "00:00", end: "23:59" });
    assert.deepEqual([homelab.retentionPolicy, homelab.lifetimeValue, homelab.lifetimeUnit], ["CUSTOM", 8, "WEEK"]);
    assert.deepEqual([homelab.readonly, homelab.allowFromScratch, homelab.encryption, homelab.auto], ["SET", false, false, true]);
    assert.equal(typeof homelab.sshCredentials, "number");
    assert.deepEqual(byName("nas-critical").inputs.schedule, { minute: "45", hour: "*", dom: "*", month: "*", dow: "*", begin: "00:00", end: "23:59" });
    assert.equal(ssh.remoteHostKey, PBS_KEY, "the host key comes from config");
    assert.equal(ssh.scanHostKey, undefined, "no trust-on-first-use scan");
    assert.equal(ssh.host, "10.20.0.20");
  });

  test("the file server keeps 30 days of its own snapshots; the off-site copy is COPY with secrets kept secret", () => {
    const snap = byName("nas-snap-tank-fileserver").inputs;
    assert.deepEqual([snap.dataset, snap.lifetimeValue, snap.lifetimeUnit], ["tank/fileserver", 30, "DAY"]);
    assert.deepEqual(snap.schedule, { minute: "0", hour: "1", dom: "*", month: "*", dow: "*", begin: "00:00", end: "23:59" });
    const task = byName("nas-offsite").inputs;
    assert.equal(task.transferMode, "COPY");
    assert.equal(task.direction, "PUSH");
    assert.deepEqual(task.schedule, { minute: "0", hour: "4", dom: "1", month: "*", dow: "*" });
    assert.ok(isSecret(task.encryptionPassword) && isSecret(task.encryptionSalt));
    const cred = byName("nas-offsite-s3");
    assert.ok(isSecret(cred.inputs.secretAccessKey) && isSecret(cred.inputs.accessKeyId));
    assert.ok(cred.secretOutputs.includes("secretAccessKey"));
  });

  test("outputs: the public key, the restricted authorized_keys line, the PBS host's units; allowDestroy drops the protection", async () => {
    const replica = new Replica("loose", args({ allowDestroy: true, datastores: [args().datastores[0]!], localDatasets: [], offsite: undefined }));
    assert.equal(await unwrap(replica.authorizedKey), 'from="10.20.0.30",no-agent-forwarding,no-port-forwarding,no-pty,no-X11-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMock truenas-replication');
    const unit = replica.sourceSnapshotUnits.homelab;
    assert.match(unit?.timer ?? "", /^OnCalendar=\*-\*-\* 05:15$/m);
    assert.match(unit?.script ?? "", /date -u \+'auto-%Y-%m-%d_%H-%M'/);
    await unwrap(replica.replications.homelab!.truenasId);
    assert.equal(byName("loose-homelab").protect, false);
    assert.equal(byName("loose-homelab").retainOnDelete, false);
  });

  test("a serialized provider works on its own, as the engine's provider host runs it", async () => {
    const { server, connection } = await startServer();
    try {
      // The same loader the dynamic provider host uses (@pulumi/pulumi's cmd/dynamic-provider).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const requireFromString = require("require-from-string") as (code: string) => { handler(): pulumi.dynamic.ResourceProvider };
      const provider = requireFromString(byName("nas-snap-tank-fileserver").inputs.__provider as string).handler();
      assert.ok(provider.check && provider.read && provider.delete);
      const news = { connection, dataset: "tank/fileserver", lifetimeValue: 30, lifetimeUnit: "DAY", schedule: { minute: "0", hour: "1", dom: "*", month: "*", dow: "*" } };
      const { inputs, failures } = await provider.check({}, news);
      assert.deepEqual(failures, []);
      const created = await provider.create(inputs);
      assert.equal(server.snapshotTasks.get(Number(created.id))?.lifetime_value, 30);
      assert.deepEqual((await provider.read(created.id, created.outs)).props, created.outs);
      await provider.delete(created.id, created.outs);
      assert.equal(server.snapshotTasks.size, 0);
      const missing = (await provider.check({}, { ...news, dataset: "tank/missing" })).inputs;
      // The engine reports only `error.message`, which a serialized Error subclass must still carry.
      const messageOf = (p: Promise<unknown>): Promise<string> => p.then(() => "resolved", (e: unknown) => String((e as { message?: unknown }).message));
      assert.equal(await messageOf(provider.create(missing)), "TrueNAS rejected pool.snapshottask.create: periodic_snapshot_create.dataset: Dataset not found");
      assert.match(await messageOf(provider.create({ ...inputs, connection: { ...connection, fingerprint: "AB".repeat(32) } })), /fingerprint .* is pinned; refusing to send the API key/);
    } finally {
      await server.close();
    }
  });

  test("every serialized provider checks and talks to TrueNAS on its own", async () => {
    const { server, connection } = await startServer({ hostKeys: {} });
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const load = (name: string): pulumi.dynamic.ResourceProvider => (require("require-from-string") as (code: string) => { handler(): pulumi.dynamic.ResourceProvider })(byName(name).inputs.__provider as string).handler();
      const run = async (name: string, news: Record<string, unknown>): Promise<{ id: string; outs: Record<string, unknown> }> => {
        const provider = load(name);
        const { inputs, failures } = await provider.check!({}, { connection, ...news });
        assert.deepEqual(failures, [], name);
        const created = await provider.create(inputs);
        assert.deepEqual((await provider.read!(created.id, created.outs)).props, created.outs, name);
        return { id: created.id, outs: created.outs as Record<string, unknown> };
      };
      const pair = makeOpenSshKey();
      const key = await run("nas-key", { name: "k", privateKey: pair.privateKey });
      assert.equal(key.outs.publicKey, pair.publicKey);
      const ssh = await run("nas-pbs", { name: "pbs", host: "10.20.0.20", privateKey: key.outs.truenasId, remoteHostKey: PBS_KEY });
      await run("nas-homelab", {
        name: "r", direction: "PULL", transport: "SSH", sshCredentials: ssh.outs.truenasId, sourceDatasets: ["backup/homelab"], targetDataset: "tank/replica/homelab",
        recursive: false, namingSchema: ["auto-%Y-%m-%d_%H-%M"], auto: true, schedule: { minute: "45", hour: "5" }, retentionPolicy: "CUSTOM", lifetimeValue: 8, lifetimeUnit: "WEEK",
      });
      const cred = await run("nas-offsite-s3", { name: "c", accessKeyId: "AKIA1", secretAccessKey: "s3cret-s3cret" });
      await run("nas-offsite", { path: "/mnt/tank/replica/critical", credentials: cred.outs.truenasId, bucket: "b", schedule: { minute: "0", hour: "4", dom: "1" }, dryRunOnCreate: true });
      assert.equal([server.keychain.size, server.replications.size, server.cloudCredentials.size, server.cloudSyncs.size].join(), "2,1,1,1");
    } finally {
      await server.close();
    }
  });

  test("unsafe or inexpressible args are refused before anything is registered, all at once", () => {
    const before = registered.length;
    const bad = args({
      datastores: [{ ...args().datastores[0]!, snapshotSchedule: cal("*-*-* 03:00"), sourceKeep: 1 }],
      offsite: { ...args().offsite!, schedule: cal("Sun *-*-01..07 04:00") },
    });
    const problems = validate(bad);
    assert.equal(problems.length, 3);
    assert.match(problems[0] as string, /^datastores\.homelab\.sourceKeep: the PBS host must keep at least 2 snapshots/);
    assert.match(problems[1] as string, /^datastores\.homelab\.snapshotSchedule: the snapshot at 03:00 falls while daily runs/);
    assert.match(problems[2] as string, /^offsite\.offsite\.schedule: "Sun \*-\*-01\.\.07 04:00" fires only on Sun .* e\.g\. "\*-\*-01 04:00"/);
    assert.throws(() => new Replica("bad", bad), /TruenasReplica "bad" cannot be applied safely:\n- datastores\.homelab\.sourceKeep/);
    assert.equal(registered.filter((r) => r.name.startsWith("bad")).length, 0);
    assert.equal(registered.length, before);
  });
});
