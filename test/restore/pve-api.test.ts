/**
 * The PVE client (auth, pinning, errors, tasks) against the PVE test server, and the server's
 * contract itself: a restore tool tested against a server that accepts anything proves nothing.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { AuthError, loginWithTicket } from "../../restore/pve/auth";
import { PveApiError, PveClient, PveNetworkError } from "../../restore/pve/client";
import {
  agentPing,
  destroyGuest,
  guestStatus,
  listBackups,
  restoreGuest,
  startGuest,
  TaskFailedError,
  vzdump,
  waitTask,
} from "../../restore/pve/api";
import { totp, type PveTestServer } from "../fixtures/pve-server";
import { CRITICAL, hourlyBackups, startCluster } from "./harness";

describe("PVE client and the PVE test server", () => {
  let pve: PveTestServer;
  let client: PveClient;
  const wait = (upid: string): Promise<string> => waitTask(client, upid, { pollMs: 1, timeoutMs: 5000, what: "test task" });
  const rejection = async (promise: Promise<unknown>): Promise<PveApiError> => {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof PveApiError, String(error));
      return error;
    }
    assert.fail("expected PVE to refuse");
  };

  before(async () => {
    pve = await startCluster({ taskPolls: 2, bootPings: 1 });
    hourlyBackups(pve, 101, new Date(), 2);
    client = new PveClient({ url: pve.url, fingerprint: pve.fingerprint }, { kind: "token", tokenId: pve.tokenId, secret: pve.tokenSecret });
  });
  after(() => pve.close());

  it("authenticates with the exact PVEAPIToken header; a wrong secret is a 401 that never quotes it", async () => {
    assert.ok(Array.isArray(await client.get("/cluster/resources", { type: "vm" })));
    const wrong = new PveClient({ url: pve.url, fingerprint: pve.fingerprint }, { kind: "token", tokenId: pve.tokenId, secret: "not-the-secret-value" });
    const error = await rejection(wrong.get("/cluster/resources"));
    assert.equal(error.status, 401);
    assert.equal(error.message, "PVE refused GET /cluster/resources: authentication failure (check the API token, or log in again)");
  });

  it("refuses a server whose certificate is not the pinned one before sending anything", async () => {
    const seen = pve.requests.length;
    const other = new PveClient({ url: pve.url, fingerprint: "AB:".repeat(31) + "AB" }, { kind: "token", tokenId: pve.tokenId, secret: pve.tokenSecret });
    await assert.rejects(other.get("/cluster/resources"), (e: unknown) => e instanceof PveNetworkError && /refusing to send credentials/.test(e.message));
    assert.equal(pve.requests.length, seen);
  });

  it("logs in with a password and a TOTP code, and sends the CSRF token on writes", async () => {
    const secret = randomBytes(20);
    pve.addUser("ops@pve", "hunter2-long-password", secret);
    const answers = { password: async () => "hunter2-long-password", secondFactor: async () => totp(secret) };
    const ticket = await loginWithTicket({ url: pve.url, fingerprint: pve.fingerprint }, "ops@pve", answers);
    assert.equal(ticket.authId, "ops@pve");
    assert.equal((await guestStatus(ticket, "pve3", "qemu", 131)).status, "stopped");
    await waitTask(ticket, await startGuest(ticket, "pve3", "qemu", 131), { pollMs: 1, timeoutMs: 5000, what: "start" });
    assert.equal(pve.guests.get(131)?.status, "running");

    if (ticket.auth.kind !== "ticket") assert.fail("expected a ticket");
    const noCsrf = new PveClient({ url: pve.url, fingerprint: pve.fingerprint }, { ...ticket.auth, csrf: "forged" });
    assert.equal((await rejection(noCsrf.post("/nodes/pve3/qemu/131/status/stop"))).status, 401);

    const wrongCode = { password: async () => "hunter2-long-password", secondFactor: async () => (Number(totp(secret)) ^ 1).toString().padStart(6, "0") };
    await assert.rejects(loginWithTicket({ url: pve.url, fingerprint: pve.fingerprint }, "ops@pve", wrongCode), (e: unknown) => e instanceof AuthError && e.message === "PVE refused the second factor for ops@pve");
    const wrongPassword = { password: async () => "hunter3-long-password", secondFactor: async () => totp(secret) };
    await assert.rejects(loginWithTicket({ url: pve.url, fingerprint: pve.fingerprint }, "ops@pve", wrongPassword), (e: unknown) => e instanceof AuthError && !/hunter/.test(e.message));
  });

  it("refuses what PVE refuses: unknown parameters, restores over existing or running guests, destroying a running guest", async () => {
    const volid = pve.volumes.find((v) => v.vmid === 101)!.volid;
    const unknown = await rejection(client.post("/nodes/pve1/qemu", { vmid: 9300, archive: volid, colour: "red" }));
    assert.equal(unknown.status, 400);
    assert.match(unknown.params.colour ?? "", /not defined in schema/);
    assert.match((await rejection(restoreGuest(client, "pve1", "qemu", { vmid: 101, volid, force: false, unique: false }))).message, /VM 101 already exists on node 'pve1'/);
    assert.match((await rejection(restoreGuest(client, "pve1", "qemu", { vmid: 101, volid, force: true, unique: false }))).message, /unable to restore VM 101 - VM is running/);
    assert.match((await rejection(restoreGuest(client, "pve1", "lxc", { vmid: 9301, volid, force: false, unique: false }))).message, /is not a container backup/);
    assert.match((await rejection(destroyGuest(client, "pve1", "qemu", 101))).message, /VM 101 is running - destroy failed/);
    assert.match((await rejection(client.get("/nodes/pve1/storage/nope/content", { content: "backup" }))).message, /storage 'nope' does not exist/);
    assert.equal((await rejection(client.get("/nodes/pve1/nonsense"))).status, 404);
  });

  it("runs tasks for a few polls, locks the guest meanwhile, and applies the effect when they stop", async () => {
    const volid = pve.volumes.find((v) => v.vmid === 101)!.volid;
    const upid = await restoreGuest(client, "pve1", "qemu", { vmid: 9400, volid, force: false, unique: true });
    assert.equal((await guestStatus(client, "pve1", "qemu", 9400)).lock, "create");
    assert.match((await rejection(startGuest(client, "pve1", "qemu", 9400))).message, /VM is locked \(create\)/);
    await wait(upid);
    const copy = pve.guests.get(9400)!;
    assert.equal(copy.config.memory, 8192);
    assert.notEqual(copy.config.net0, pve.guests.get(101)!.config.net0, "unique gives new MAC addresses");
    // Booting: the agent answers only from the second ping on.
    await wait(await startGuest(client, "pve1", "qemu", 9400));
    assert.deepEqual(await agentPing(client, "pve1", 9400), { ok: false, why: "QEMU guest agent is not running" });
    assert.deepEqual(await agentPing(client, "pve1", 9400), { ok: true });
  });

  it("keeps what vzdump writes, and a restore brings it back; a failed task reports its exit status and leaves nothing", async () => {
    const before = (await listBackups(client, "pve2", CRITICAL, 102)).length;
    await wait(await vzdump(client, "pve2", { vmid: 102, storage: CRITICAL, mode: "snapshot", protected: true, notesTemplate: "{{guestname}} on {{node}}" }));
    const made = await listBackups(client, "pve2", CRITICAL, 102);
    assert.equal(made.length, before + 1);
    assert.deepEqual([made[0]!.notes, made[0]!.protected], ["db02 on pve2", true]);
    await wait(await restoreGuest(client, "pve1", "qemu", { vmid: 9500, volid: made[0]!.volid, force: false, unique: false }));
    assert.deepEqual(pve.guests.get(9500)?.config, pve.guests.get(102)?.config);

    await assert.rejects(
      wait(await vzdump(client, "pve1", { vmid: 102, storage: CRITICAL, mode: "snapshot", protected: false, notesTemplate: "x" })),
      (e: unknown) => e instanceof TaskFailedError && /guest is not on node 'pve1'/.test(e.exitstatus ?? ""),
    );
    pve.failNextTask("qmrestore", "unable to restore VM 9600 - broken archive");
    await assert.rejects(wait(await restoreGuest(client, "pve1", "qemu", { vmid: 9600, volid: made[0]!.volid, force: false, unique: false })), (e: unknown) => e instanceof TaskFailedError && e.exitstatus === "unable to restore VM 9600 - broken archive");
    assert.equal(pve.guests.has(9600), false, "a failed restore to a new id leaves no guest");
  });
});
