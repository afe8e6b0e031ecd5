import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TruenasConnection } from "../../components/truenas/client";
import { cloudCredentialSpec, cloudSyncSpec } from "../../components/truenas/cloud-sync";
import { makeProvider } from "../../components/truenas/provider";
import type { TruenasTestServer } from "../fixtures/truenas-server";
import { create, diff, failures, read, rejectsWith, remove, startServer, up } from "./helpers";

const credentials = makeProvider(cloudCredentialSpec);
const tasks = makeProvider(cloudSyncSpec);
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const MONTHLY = { minute: "0", hour: "4", dom: "1", month: "*", dow: "*" };

describe("CloudSyncCredential", () => {
  let server: TruenasTestServer;
  let connection: TruenasConnection;
  before(async () => ({ server, connection } = await startServer()));
  after(async () => server.close());
  const args = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    connection, name: "offsite", accessKeyId: "AKIAEXAMPLE", secretAccessKey: SECRET, region: "eu-central-1", ...extra,
  });

  test("25.10 shape, verified first; keys redacted by TrueNAS are kept from state, so no diff", async () => {
    const { id, outs } = await create(credentials, args());
    assert.deepEqual(server.cloudCredentials.get(Number(id))?.provider, {
      type: "S3", access_key_id: "AKIAEXAMPLE", secret_access_key: SECRET, endpoint: "", region: "eu-central-1",
      skip_region: false, signatures_v2: false, max_upload_parts: 10000,
    });
    assert.ok(server.calls.includes("cloudsync.credentials.verify"));
    assert.deepEqual(await read(credentials, id, outs), outs);
    assert.equal((await diff(credentials, id, outs, args())).changes, false);

    server.cloudCredentials.get(Number(id))!.provider = { ...(server.cloudCredentials.get(Number(id))!.provider as object), endpoint: "https://evil.example" };
    const drifted = (await read(credentials, id, outs)) as Record<string, unknown>;
    assert.equal(drifted.endpoint, "https://evil.example");
    assert.equal((await up(credentials, id, drifted, args())).diff.changes, true);
    assert.equal((server.cloudCredentials.get(Number(id))?.provider as { endpoint: string }).endpoint, "");

    const rotated = await up(credentials, id, outs, args({ secretAccessKey: "new-secret-value-1234" }));
    assert.equal((server.cloudCredentials.get(Number(id))?.provider as { secret_access_key: string }).secret_access_key, "new-secret-value-1234");
    await remove(credentials, id, rotated.outs);
    assert.equal(server.cloudCredentials.has(Number(id)), false);
  });

  test("keys TrueNAS cannot use fail the create, without quoting them", async () => {
    const error = await rejectsWith(create(credentials, args({ accessKeyId: "BADKEY-NOT-THERE" })), /could not use the S3 credential "offsite": AccessDenied: the access key \*\*\* does not exist/);
    assert.doesNotMatch(error.message, /BADKEY/);
  });

  test("25.04 takes the older shape, chosen by system.version", async () => {
    const { server: old, connection: c } = await startServer({ version: "TrueNAS-SCALE-25.04.2.1" });
    try {
      const { id, outs } = await create(credentials, { ...args(), connection: c });
      const row = old.cloudCredentials.get(Number(id));
      assert.equal(row?.provider, "S3");
      assert.equal((row?.attributes as { access_key_id: string }).access_key_id, "AKIAEXAMPLE");
      assert.deepEqual(await read(credentials, id, outs), outs);
    } finally {
      await old.close();
    }
  });
});

describe("CloudSyncTask", () => {
  let server: TruenasTestServer;
  let connection: TruenasConnection;
  let credentialId: number;
  before(async () => {
    ({ server, connection } = await startServer({ jobPolls: 2 }));
    credentialId = (await create(credentials, { connection, name: "c", accessKeyId: "AKIA1", secretAccessKey: SECRET })).outs.truenasId as number;
  });
  after(async () => server.close());
  const args = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    connection, description: "critical off-site", path: "/mnt/tank/replica/critical", credentials: credentialId,
    bucket: "homelab-offsite", folder: "critical", schedule: MONTHLY, encryption: true, filenameEncryption: true,
    encryptionPassword: "pw-0123456789", encryptionSalt: "salt-0123456789", ...extra,
  });

  test("only COPY and PUSH: SYNC, MOVE and PULL are refused at preview", async () => {
    assert.match((await failures(tasks, args({ transferMode: "SYNC" })))[0] ?? "", /^transferMode: SYNC deletes off-site copies of files deleted \(or encrypted away\) on the NAS; only COPY is allowed/);
    assert.match((await failures(tasks, args({ transferMode: "MOVE" })))[0] ?? "", /^transferMode: MOVE deletes the NAS's own data/);
    assert.match((await failures(tasks, args({ direction: "PULL" })))[0] ?? "", /^direction: PULL would write into the NAS from the bucket/);
    assert.deepEqual(await failures(tasks, args({ encryptionSalt: undefined })), ["encryptionSalt: rclone encryption needs a salt (secret); without one every object shares rclone's fixed salt"]);
    assert.deepEqual(await failures(tasks, args({ path: "/srv/data" })), ['path: "/srv/data" is not a path under /mnt, e.g. /mnt/tank/replica/critical']);
    assert.deepEqual(await failures(tasks, args({ schedule: { ...MONTHLY, begin: "00:00" } })), ["schedule.begin: unknown schedule field; expected minute, hour, dom, month, dow"]);
  });

  test("create → read → update → drift (someone picks SYNC) → delete; COPY is what TrueNAS gets", async () => {
    const { id, outs } = await create(tasks, args());
    const row = server.cloudSyncs.get(Number(id));
    assert.equal(row?.transfer_mode, "COPY");
    assert.equal(row?.direction, "PUSH");
    assert.equal(row?.encryption_password, "pw-0123456789");
    assert.deepEqual(row?.schedule, MONTHLY);
    assert.deepEqual(await read(tasks, id, outs), outs, "credentials object and redacted secrets read back as applied");
    assert.equal((await diff(tasks, id, outs, args())).changes, false);

    const moved = await up(tasks, id, outs, args({ storageClass: "DEEP_ARCHIVE" }));
    assert.equal((server.cloudSyncs.get(Number(id))?.attributes as { storage_class: string }).storage_class, "DEEP_ARCHIVE");

    server.cloudSyncs.get(Number(id))!.transfer_mode = "SYNC";
    const drifted = (await read(tasks, id, moved.outs)) as Record<string, unknown>;
    assert.equal(drifted.transferMode, "SYNC");
    assert.equal((await up(tasks, id, drifted, args({ storageClass: "DEEP_ARCHIVE" }))).diff.changes, true);
    assert.equal(server.cloudSyncs.get(Number(id))?.transfer_mode, "COPY");

    await rejectsWith(remove(credentials, String(credentialId), { connection }), /This credential is used by cloud sync task/);
    await remove(tasks, id, moved.outs);
    assert.equal(server.cloudSyncs.has(Number(id)), false);
  });

  test("a dry run after create waits for the job and reports its failure", async () => {
    const polls = server.calls.filter((c) => c === "core.get_jobs").length;
    await create(tasks, args({ dryRunOnCreate: true }));
    assert.ok(server.calls.filter((c) => c === "core.get_jobs").length - polls >= 2);
    await rejectsWith(
      create(tasks, args({ bucket: "missing-bucket", dryRunOnCreate: true })),
      /cloud sync task #\d+ was saved, but its dry run failed.*TrueNAS job cloudsync\.sync \(#\d+\) failed: Failed to create file system for "remote:missing-bucket": directory not found/,
    );
  });
});
