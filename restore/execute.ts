/**
 * Carrying out a restore so that a failure leaves the cluster as it was found.
 *
 * In place: the guest is shut down first and only then backed up, so the safety copy holds its
 * last write (a live backup followed by a shutdown would lose whatever was written in between).
 * The safety copy is a vzdump to PBS, never a snapshot: restoring over a guest replaces its disks,
 * and its snapshots go with them. The copy stays protected afterwards, so a prune cannot remove it
 * while someone may still want it.
 *
 * To a new id: the copy gets new MAC addresses and its network devices are disconnected before it
 * first boots, so a restored database cannot take the production guest's address or accept
 * writes meant for it. The QEMU agent talks over virtio-serial, so validation works offline.
 */
import type { PveClient } from "./pve/client";
import {
  agentExec,
  agentExecStatus,
  agentPing,
  destroyGuest,
  guestConfig,
  guestStatus,
  listBackups,
  listGuests,
  restoreGuest,
  shutdownGuest,
  startGuest,
  stopGuest,
  updateConfig,
  vzdump,
  waitTask,
  type GuestType,
} from "./pve/api";
import type { Operation } from "./operation";
import type { Reporter } from "./progress";
import { isoUtc } from "./format";

export type Outcome =
  /** The point is restored and validated. */
  | "restored"
  /** It failed after changing the guest; the safety copy is back and the guest is as it began. */
  | "rolled-back"
  /** It failed; the guest it was creating is removed. */
  | "removed"
  /** It failed before changing anything (the shutdown or the safety copy); the guest is as it began. */
  | "not-started"
  /** It failed and so did putting things back: someone must look. */
  | "rollback-failed";

export interface StepRecord {
  readonly step: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly detail?: string;
}

export interface ExecResult {
  readonly outcome: Outcome;
  readonly error?: string;
  readonly safetyCopy?: string;
  readonly steps: readonly StepRecord[];
  readonly notes: readonly string[];
}

export interface ExecDeps {
  readonly client: PveClient;
  readonly reporter: Reporter;
  readonly pollMs: number;
  /** How long one PVE task may run before it counts as failed. */
  readonly taskTimeoutMs: number;
}

const SHUTDOWN_TIMEOUT_S = 120;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `agent: 1` or `agent: enabled=1,fstrim_cloned_disks=1`. */
export function agentEnabled(config: Record<string, unknown>): boolean {
  return /^(1|enabled=1)(,|$)/.test(String(config.agent ?? "0"));
}

/** The config as it describes the guest: without PVE's bookkeeping. */
export function comparableConfig(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (k !== "digest" && k !== "lock") out[k] = String(v);
  return out;
}

export function configDifferences(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => before[k] !== after[k]).map((k) => `${k}: ${before[k] ?? "(unset)"} → ${after[k] ?? "(unset)"}`);
}

/** `virtio=BC:..,bridge=vmbr0` → `virtio=BC:..,bridge=vmbr0,link_down=1`. */
export function disconnected(net: string): string {
  return /(^|,)link_down=/.test(net) ? net.replace(/(^|,)link_down=[^,]*/, "$1link_down=1") : `${net},link_down=1`;
}

/** `db01` → `db01-restored`, kept within the 63 characters of a DNS label PVE requires. */
export function restoredName(name: string): string {
  return `${name.slice(0, 63 - "-restored".length)}-restored`;
}

export async function execute(op: Operation, deps: ExecDeps): Promise<ExecResult> {
  return new Run(op, deps).go();
}

class Run {
  private readonly steps: StepRecord[] = [];
  private readonly notes: string[] = [];
  private readonly client: PveClient;

  constructor(private readonly op: Operation, private readonly deps: ExecDeps) {
    this.client = deps.client;
  }

  async go(): Promise<ExecResult> {
    if (this.op.target.mode === "new") return this.toNewId();
    return this.op.guest.exists ? this.inPlace() : this.recreate();
  }

  private result(outcome: Outcome, extra: { error?: string; safetyCopy?: string } = {}): ExecResult {
    return { outcome, ...extra, steps: this.steps, notes: this.notes };
  }

  private note(text: string): void {
    this.notes.push(text);
    this.deps.reporter.note(text);
  }

  private async step<T>(title: string, fn: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    const started = Date.now();
    this.deps.reporter.begin(title);
    try {
      const value = await fn();
      const d = detail?.(value);
      this.deps.reporter.end(true, d);
      this.steps.push({ step: title, ok: true, seconds: (Date.now() - started) / 1000, ...(d ? { detail: d } : {}) });
      return value;
    } catch (error) {
      this.deps.reporter.end(false, message(error));
      this.steps.push({ step: title, ok: false, seconds: (Date.now() - started) / 1000, detail: message(error) });
      throw error;
    }
  }

  private async task(upid: Promise<string>, what: string): Promise<string> {
    return waitTask(this.client, await upid, { pollMs: this.deps.pollMs, timeoutMs: this.deps.taskTimeoutMs, what, onPoll: () => this.deps.reporter.tick() });
  }

  private async running(node: string, type: GuestType, vmid: number): Promise<boolean> {
    return (await guestStatus(this.client, node, type, vmid)).status === "running";
  }

  private async exists(vmid: number): Promise<boolean> {
    return (await listGuests(this.client)).some((g) => g.vmid === vmid);
  }

  private async stopIfRunning(node: string, type: GuestType, vmid: number): Promise<void> {
    if (await this.running(node, type, vmid)) await this.step(`stop ${vmid}`, () => this.task(stopGuest(this.client, node, type, vmid), `stopping ${vmid}`));
  }

  /** Starts the guest and waits until it proves it is alive; the check command too, when `withCheck`. */
  private async validate(node: string, type: GuestType, vmid: number, withCheck: boolean): Promise<void> {
    const timeout = this.op.validateTimeoutMs;
    await this.step(`start ${vmid}`, () => this.task(startGuest(this.client, node, type, vmid), `starting ${vmid}`));
    if (type === "lxc") {
      await this.step(`${vmid} stays running`, async () => {
        await sleep(this.deps.pollMs);
        if (!(await this.running(node, type, vmid))) throw new Error(`container ${vmid} stopped right after starting`);
      });
      if (withCheck && this.op.check) this.note(`check skipped for container ${vmid}: PVE's API cannot run a command in a container`);
      return;
    }
    const config = await guestConfig(this.client, node, type, vmid);
    if (!agentEnabled(config)) {
      this.note(`${vmid} has no QEMU guest agent configured: judged by its running state only`);
      await this.step(`${vmid} stays running`, async () => {
        await sleep(this.deps.pollMs);
        if (!(await this.running(node, type, vmid))) throw new Error(`VM ${vmid} stopped right after starting`);
      });
      return;
    }
    await this.step(`QEMU guest agent of ${vmid} answers`, async () => {
      const deadline = Date.now() + timeout;
      let last = "no answer yet";
      for (;;) {
        const ping = await agentPing(this.client, node, vmid);
        if (ping.ok) return;
        last = ping.why ?? last;
        if (Date.now() >= deadline) throw new Error(`no answer within ${Math.round(timeout / 1000)} s (last: ${last})`);
        this.deps.reporter.tick();
        await sleep(this.deps.pollMs);
      }
    });
    const check = this.op.check;
    if (!withCheck || !check) return;
    await this.step(`check: ${check}`, async () => {
      const pid = await agentExec(this.client, node, vmid, check);
      const deadline = Date.now() + timeout;
      for (;;) {
        const status = await agentExecStatus(this.client, node, vmid, pid);
        if (status.exited) {
          if (status.exitcode === 0) return;
          throw new Error(`exited ${status.exitcode ?? "?"}${status.err || status.out ? `: ${(status.err || status.out || "").trim().split("\n").slice(-1)[0]}` : ""}`);
        }
        if (Date.now() >= deadline) throw new Error(`still running after ${Math.round(timeout / 1000)} s`);
        this.deps.reporter.tick();
        await sleep(this.deps.pollMs);
      }
    });
  }

  /** Waits out a task still holding the guest (one whose status polling failed keeps running on PVE). */
  private async unlocked(node: string, type: GuestType, vmid: number): Promise<void> {
    const deadline = Date.now() + this.deps.taskTimeoutMs;
    for (;;) {
      const { lock } = await guestStatus(this.client, node, type, vmid);
      if (lock === undefined) return;
      if (Date.now() >= deadline) throw new Error(`${vmid} is still locked (${lock})`);
      this.deps.reporter.tick();
      await sleep(this.deps.pollMs);
    }
  }

  /** Removes a guest this run created, so a failed restore leaves nothing behind. */
  private async removeCreated(node: string, type: GuestType, vmid: number, error: string): Promise<ExecResult> {
    try {
      if (!(await this.exists(vmid))) return this.result("removed", { error });
      await this.step(`wait until no task holds ${vmid}`, () => this.unlocked(node, type, vmid));
      if (!(await this.exists(vmid))) return this.result("removed", { error });
      await this.stopIfRunning(node, type, vmid);
      await this.step(`remove ${vmid}`, () => this.task(destroyGuest(this.client, node, type, vmid), `removing ${vmid}`));
      return this.result("removed", { error });
    } catch (cleanup) {
      this.note(`remove ${vmid} by hand: qm stop ${vmid}; qm destroy ${vmid} --purge`);
      return this.result("rollback-failed", { error: `${error}; removing ${vmid} failed too: ${message(cleanup)}` });
    }
  }

  private async toNewId(): Promise<ExecResult> {
    const { point, guest, target } = this.op;
    try {
      await this.step(`restore ${isoUtc(point.time)} into new ${guest.type === "qemu" ? "VM" : "container"} ${target.vmid}`, () =>
        this.task(restoreGuest(this.client, target.node, guest.type, { vmid: target.vmid, volid: point.volid, force: false, unique: true }), `restoring into ${target.vmid}`),
      );
      await this.step(`isolate ${target.vmid}: network disconnected, not started at boot, renamed`, async () => {
        const config = await guestConfig(this.client, target.node, guest.type, target.vmid);
        const nets = Object.entries(config).filter(([k]) => /^net\d+$/.test(k));
        const change: Record<string, string | number> = { onboot: 0 };
        if (typeof config.digest === "string") change.digest = config.digest;
        for (const [k, v] of nets) change[k] = disconnected(String(v));
        // Two guests called db01 in the UI invite someone to stop the wrong one.
        const nameKey = guest.type === "qemu" ? "name" : "hostname";
        if (typeof config[nameKey] === "string") change[nameKey] = restoredName(config[nameKey] as string);
        await updateConfig(this.client, target.node, guest.type, target.vmid, change);
        return nets.length === 0 ? "it has no network devices" : nets.map(([k]) => k).join(", ");
      }, (d) => d);
      await this.validate(target.node, guest.type, target.vmid, true);
    } catch (error) {
      // Any failure, not just a failed step: a lost connection mid-validation must not leave the copy behind.
      return this.removeCreated(target.node, guest.type, target.vmid, message(error));
    }
    this.note(`${target.vmid} runs with its network disconnected; connect it when ready: ${guest.type === "qemu" ? "qm" : "pct"} set ${target.vmid} --net0 <value without link_down=1>`);
    return this.result("restored");
  }

  /** The guest is gone (a disaster, not a bad update): restore it under its own id, no safety copy to take. */
  private async recreate(): Promise<ExecResult> {
    const { point, guest, target } = this.op;
    try {
      await this.step(`restore ${isoUtc(point.time)} as ${guest.vmid}`, () =>
        this.task(restoreGuest(this.client, target.node, guest.type, { vmid: guest.vmid, volid: point.volid, force: false, unique: false }), `restoring ${guest.vmid}`),
      );
      await this.validate(target.node, guest.type, guest.vmid, true);
    } catch (error) {
      return this.removeCreated(target.node, guest.type, guest.vmid, message(error));
    }
    return this.result("restored");
  }

  private async inPlace(): Promise<ExecResult> {
    const { point, guest, target } = this.op;
    const { node } = target;
    const vmid = guest.vmid;
    const before = comparableConfig(await guestConfig(this.client, node, guest.type, vmid));
    const wasRunning = await this.running(node, guest.type, vmid);

    let safety: string;
    try {
      if (wasRunning) {
        await this.step(`shut down ${vmid}`, () => this.task(shutdownGuest(this.client, node, guest.type, vmid, SHUTDOWN_TIMEOUT_S), `shutting down ${vmid}`));
      }
      const storage = this.op.safetyStorage;
      safety = await this.step(`safety copy of ${vmid} to ${storage}`, async () => {
        const known = new Set((await listBackups(this.client, node, storage, vmid)).map((b) => b.volid));
        await this.task(
          vzdump(this.client, node, {
            vmid,
            storage,
            mode: "snapshot",
            protected: true,
            notesTemplate: `{{guestname}} · restore safety copy before restoring ${isoUtc(point.time)}`,
          }),
          `the safety copy of ${vmid}`,
        );
        const made = (await listBackups(this.client, node, storage, vmid)).filter((b) => !known.has(b.volid)).sort((a, b) => b.ctime - a.ctime)[0];
        if (!made) throw new Error(`vzdump finished but no new backup of ${vmid} is on ${storage}`);
        return made.volid;
      }, (v) => v);
    } catch (error) {
      // Nothing was restored; only the power state may have changed.
      try {
        if (wasRunning && !(await this.running(node, guest.type, vmid))) await this.validate(node, guest.type, vmid, false);
      } catch (restart) {
        return this.result("rollback-failed", { error: `${message(error)}; starting ${vmid} again failed too: ${message(restart)}` });
      }
      return this.result("not-started", { error: message(error) });
    }

    try {
      await this.step(`restore ${isoUtc(point.time)} over ${vmid}`, () =>
        this.task(restoreGuest(this.client, node, guest.type, { vmid, volid: point.volid, force: true, unique: false }), `restoring over ${vmid}`),
      );
      await this.validate(node, guest.type, vmid, true);
    } catch (error) {
      return this.rollback(safety, before, wasRunning, message(error));
    }
    if (!wasRunning) {
      try {
        await this.step(`shut down ${vmid} again (it was stopped)`, () => this.task(shutdownGuest(this.client, node, guest.type, vmid, SHUTDOWN_TIMEOUT_S), `shutting down ${vmid}`));
      } catch {
        this.note(`${vmid} is restored and validated but still running; it was stopped before`);
      }
    }
    this.note(`the safety copy ${safety} stays protected; unprotect it when no longer needed: pvesh set /nodes/${node}/storage/${this.op.safetyStorage}/content/${safety} --protected 0`);
    return this.result("restored", { safetyCopy: safety });
  }

  private async rollback(safety: string, before: Record<string, string>, wasRunning: boolean, error: string): Promise<ExecResult> {
    const { guest, target } = this.op;
    const { node } = target;
    const vmid = guest.vmid;
    this.deps.reporter.note(`rolling back to the safety copy ${safety}`);
    try {
      const present = await this.exists(vmid);
      if (present) {
        await this.unlocked(node, guest.type, vmid);
        await this.stopIfRunning(node, guest.type, vmid);
      }
      await this.step(`put the safety copy back over ${vmid}`, () =>
        this.task(restoreGuest(this.client, node, guest.type, { vmid, volid: safety, force: present, unique: false }), `restoring the safety copy of ${vmid}`),
      );
      if (wasRunning) await this.validate(node, guest.type, vmid, false);
      const after = comparableConfig(await guestConfig(this.client, node, guest.type, vmid));
      const diff = configDifferences(before, after);
      if (diff.length > 0) this.note(`config of ${vmid} differs from before the restore: ${diff.join("; ")}`);
    } catch (rollback) {
      const how = guest.type === "qemu" ? `qmrestore ${safety} ${vmid} --force` : `pct restore ${vmid} ${safety} --force`;
      this.note(`put ${vmid} back by hand: ${how}${wasRunning ? `, then start it` : ""}`);
      return this.result("rollback-failed", { error: `${error}; the rollback failed too: ${message(rollback)}`, safetyCopy: safety });
    }
    return this.result("rolled-back", { error, safetyCopy: safety });
  }
}
