/**
 * The PVE endpoints a restore uses, typed. Paths and parameters are PVE's (pve-docs API viewer);
 * every mutating call returns a UPID that `waitTask` follows to its end.
 */
import { isRecord, seg } from "../../components/pbs/client";
import { PveApiError, type PveClient } from "./client";

export type GuestType = "qemu" | "lxc";

export interface ClusterGuest {
  readonly vmid: number;
  readonly type: GuestType;
  readonly node: string;
  readonly name?: string;
  readonly status: string;
  readonly pool?: string;
  readonly tags: readonly string[];
  readonly template: boolean;
}

/** One entry of `GET /nodes/{node}/storage/{storage}/content?content=backup`. */
export interface BackupEntry {
  readonly volid: string;
  readonly vmid: number;
  /** Creation time, epoch seconds: for PBS the backup time. */
  readonly ctime: number;
  readonly size: number;
  readonly subtype?: GuestType;
  readonly format?: string;
  readonly notes?: string;
  readonly protected: boolean;
  /** `ok`, `failed`, or undefined when never verified. */
  readonly verification?: string;
  readonly encrypted: boolean;
}

export interface TaskStatus {
  readonly status: "running" | "stopped";
  readonly exitstatus?: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
const flag = (v: unknown): boolean => v === 1 || v === true || v === "1";

function upid(value: unknown, what: string): string {
  if (typeof value !== "string" || !value.startsWith("UPID:")) throw new Error(`PVE returned ${JSON.stringify(value)} for ${what} where a task id (UPID) was expected`);
  return value;
}

/** The node a task runs on: a UPID is `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`. */
export function upidNode(id: string): string {
  const node = id.split(":")[1];
  if (!node) throw new Error(`"${id}" is not a task id (UPID:<node>:...)`);
  return node;
}

export async function listGuests(client: PveClient): Promise<ClusterGuest[]> {
  const data = await client.get("/cluster/resources", { type: "vm" });
  if (!Array.isArray(data)) return [];
  const out: ClusterGuest[] = [];
  for (const r of data) {
    if (!isRecord(r)) continue;
    const vmid = num(r.vmid);
    const type = r.type === "qemu" || r.type === "lxc" ? r.type : undefined;
    if (vmid === undefined || type === undefined) continue;
    out.push({
      vmid,
      type,
      node: str(r.node) ?? "",
      ...(str(r.name) ? { name: str(r.name) } : {}),
      status: str(r.status) ?? "unknown",
      ...(str(r.pool) ? { pool: str(r.pool) } : {}),
      // PVE separates tags with `;` (and accepts `,` and spaces on input).
      tags: (str(r.tags) ?? "").split(/[;, ]+/).filter((t) => t !== ""),
      template: flag(r.template),
    });
  }
  return out;
}

/** The cluster's next free VM id. */
export async function nextFreeId(client: PveClient): Promise<number> {
  const id = num(await client.get("/cluster/nextid"));
  if (id === undefined) throw new Error("PVE returned no next free VM id");
  return id;
}

export async function listBackups(client: PveClient, node: string, storage: string, vmid?: number): Promise<BackupEntry[]> {
  const data = await client.get(`/nodes/${seg(node)}/storage/${seg(storage)}/content`, { content: "backup", ...(vmid !== undefined ? { vmid } : {}) });
  if (!Array.isArray(data)) return [];
  const out: BackupEntry[] = [];
  for (const e of data) {
    if (!isRecord(e) || typeof e.volid !== "string") continue;
    const verification = isRecord(e.verification) ? str(e.verification.state) : undefined;
    const subtype = e.subtype === "qemu" || e.subtype === "lxc" ? e.subtype : /^backup\/ct\//.test(e.volid.split(":")[1] ?? "") ? "lxc" : "qemu";
    out.push({
      volid: e.volid,
      vmid: num(e.vmid) ?? -1,
      ctime: num(e.ctime) ?? 0,
      size: num(e.size) ?? 0,
      subtype,
      ...(str(e.format) ? { format: str(e.format) } : {}),
      ...(str(e.notes) ? { notes: str(e.notes) } : {}),
      protected: flag(e.protected),
      ...(verification ? { verification } : {}),
      encrypted: typeof e.encrypted === "string" && e.encrypted !== "",
    });
  }
  return out;
}

const guestPath = (node: string, type: GuestType, vmid: number): string => `/nodes/${seg(node)}/${type}/${vmid}`;

export async function guestStatus(client: PveClient, node: string, type: GuestType, vmid: number): Promise<{ status: string; name?: string; lock?: string }> {
  const data = await client.get(`${guestPath(node, type, vmid)}/status/current`);
  if (!isRecord(data)) return { status: "unknown" };
  return { status: str(data.status) ?? "unknown", ...(str(data.name) ? { name: str(data.name) } : {}), ...(str(data.lock) ? { lock: str(data.lock) } : {}) };
}

/** The guest's config as PVE returns it (with its `digest`). */
export async function guestConfig(client: PveClient, node: string, type: GuestType, vmid: number): Promise<Record<string, unknown>> {
  const data = await client.get(`${guestPath(node, type, vmid)}/config`);
  if (!isRecord(data)) throw new Error(`PVE returned no config for ${type} ${vmid}`);
  return data;
}

export async function updateConfig(client: PveClient, node: string, type: GuestType, vmid: number, params: Record<string, string | number>): Promise<void> {
  await client.put(`${guestPath(node, type, vmid)}/config`, params);
}

export async function startGuest(client: PveClient, node: string, type: GuestType, vmid: number): Promise<string> {
  return upid(await client.post(`${guestPath(node, type, vmid)}/status/start`), `start of ${vmid}`);
}

/** A clean shutdown that becomes a hard stop after `timeoutSeconds`, so a hung guest cannot block a restore. */
export async function shutdownGuest(client: PveClient, node: string, type: GuestType, vmid: number, timeoutSeconds: number): Promise<string> {
  return upid(await client.post(`${guestPath(node, type, vmid)}/status/shutdown`, { timeout: timeoutSeconds, forceStop: true }), `shutdown of ${vmid}`);
}

export async function stopGuest(client: PveClient, node: string, type: GuestType, vmid: number): Promise<string> {
  return upid(await client.post(`${guestPath(node, type, vmid)}/status/stop`), `stop of ${vmid}`);
}

export async function vzdump(client: PveClient, node: string, params: { vmid: number; storage: string; mode: "snapshot" | "suspend" | "stop"; protected: boolean; notesTemplate: string }): Promise<string> {
  const data = await client.post(`/nodes/${seg(node)}/vzdump`, {
    vmid: String(params.vmid),
    storage: params.storage,
    mode: params.mode,
    protected: params.protected,
    "notes-template": params.notesTemplate,
    // The storage's own prune settings must never remove anything because of this backup.
    remove: false,
  });
  return upid(data, `backup of ${params.vmid}`);
}

/**
 * Restores a backup into `vmid`. `force` overwrites an existing guest (which must be stopped);
 * `unique` gives a copy new MAC addresses so it cannot answer for the original on the network.
 */
export async function restoreGuest(client: PveClient, node: string, type: GuestType, params: { vmid: number; volid: string; force: boolean; unique: boolean }): Promise<string> {
  const body =
    type === "qemu"
      ? { vmid: params.vmid, archive: params.volid, ...(params.force ? { force: true } : {}), ...(params.unique ? { unique: true } : {}) }
      : { vmid: params.vmid, ostemplate: params.volid, restore: true, ...(params.force ? { force: true } : {}), ...(params.unique ? { unique: true } : {}) };
  return upid(await client.post(`/nodes/${seg(node)}/${type}`, body), `restore of ${params.volid}`);
}

export async function destroyGuest(client: PveClient, node: string, type: GuestType, vmid: number): Promise<string> {
  return upid(await client.delete(guestPath(node, type, vmid), { purge: true, "destroy-unreferenced-disks": true }), `removal of ${vmid}`);
}

/**
 * Whether the guest's QEMU agent answers. PVE reports "not running" (booting, broken) as a 500;
 * anything else, a missing privilege above all, is thrown, so it is not waited on for minutes.
 */
export async function agentPing(client: PveClient, node: string, vmid: number): Promise<{ ok: boolean; why?: string }> {
  try {
    await client.post(`${guestPath(node, "qemu", vmid)}/agent/ping`);
    return { ok: true };
  } catch (error) {
    if (error instanceof PveApiError && error.status === 500) return { ok: false, why: error.pveMessage || "HTTP 500" };
    throw error;
  }
}

/** Runs `command` inside the guest through its agent (`/bin/sh -c`). */
export async function agentExec(client: PveClient, node: string, vmid: number, command: string): Promise<number> {
  const data = await client.post(`${guestPath(node, "qemu", vmid)}/agent/exec`, { command: ["/bin/sh", "-c", command] });
  const pid = isRecord(data) ? num(data.pid) : undefined;
  if (pid === undefined) throw new Error(`the guest agent of ${vmid} returned no pid for the check command`);
  return pid;
}

export async function agentExecStatus(client: PveClient, node: string, vmid: number, pid: number): Promise<{ exited: boolean; exitcode?: number; out?: string; err?: string }> {
  const data = await client.get(`${guestPath(node, "qemu", vmid)}/agent/exec-status`, { pid });
  if (!isRecord(data)) return { exited: false };
  return {
    exited: flag(data.exited),
    ...(num(data.exitcode) !== undefined ? { exitcode: num(data.exitcode) } : {}),
    ...(str(data["out-data"]) !== undefined ? { out: str(data["out-data"]) } : {}),
    ...(str(data["err-data"]) !== undefined ? { err: str(data["err-data"]) } : {}),
  };
}

export async function taskStatus(client: PveClient, id: string): Promise<TaskStatus> {
  const data = await client.get(`/nodes/${seg(upidNode(id))}/tasks/${seg(id)}/status`);
  if (!isRecord(data)) throw new Error(`PVE returned no status for task ${id}`);
  return { status: data.status === "stopped" ? "stopped" : "running", ...(str(data.exitstatus) ? { exitstatus: str(data.exitstatus) } : {}) };
}

/** `OK`, or `WARNINGS: n` (the work is done, with something worth reading in the task log). */
export function taskSucceeded(exitstatus: string | undefined): boolean {
  return exitstatus === "OK" || /^WARNINGS: \d+$/.test(exitstatus ?? "");
}

export class TaskFailedError extends Error {
  constructor(message: string, readonly upid: string, readonly exitstatus: string | undefined) {
    super(message);
    this.name = "TaskFailedError";
  }
}

/** Polls a task until it stops; throws TaskFailedError unless it ended OK (or with warnings). */
export async function waitTask(
  client: PveClient,
  id: string,
  options: { pollMs: number; timeoutMs: number; what: string; onPoll?: () => void },
): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const status = await taskStatus(client, id);
    if (status.status === "stopped") {
      if (taskSucceeded(status.exitstatus)) return status.exitstatus as string;
      throw new TaskFailedError(`${options.what} failed: ${status.exitstatus ?? "no exit status"} (task ${id})`, id, status.exitstatus);
    }
    if (Date.now() >= deadline) throw new TaskFailedError(`${options.what} still running after ${Math.round(options.timeoutMs / 1000)} s (task ${id})`, id, undefined);
    options.onPoll?.();
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}
