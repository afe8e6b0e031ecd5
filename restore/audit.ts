/**
 * The audit trail the strategy asks for ("audit logging of all restore operations"): one JSON
 * line per restore, appended before anyone is notified, so a notification that hangs or fails
 * cannot cost the record. Secrets never reach it: it names the PVE identity, not its credential.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { ExecResult, Outcome, StepRecord } from "./execute";
import type { Operation } from "./operation";
import { isoUtc } from "./format";

export interface AuditRecord {
  readonly time: string;
  readonly who: { readonly user: string; readonly host: string; readonly pve: string };
  readonly stack: string;
  readonly service: string;
  readonly tier: string;
  readonly guest: { readonly vmid: number; readonly type: string; readonly node: string; readonly name?: string };
  readonly point: { readonly volid: string; readonly time: string; readonly copy: "pbs"; readonly storage: string; readonly requested: string; readonly why: string };
  readonly target: { readonly mode: "new" | "in-place"; readonly vmid: number; readonly node: string };
  readonly outcome: Outcome | "abandoned";
  readonly error?: string;
  readonly safetyCopy?: string;
  readonly steps: readonly StepRecord[];
  readonly durationSeconds: number;
  readonly rto: { readonly target: string; readonly seconds: number; readonly met: boolean };
}

/** `--audit-log`, else `$XDG_STATE_HOME/homelab-backup/restore-audit.jsonl`, else `./restore-audit.jsonl`. */
export function auditPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag) return resolve(cwd, flag);
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, "homelab-backup", "restore-audit.jsonl");
  return resolve(cwd, "restore-audit.jsonl");
}

/** The OS user (the one behind sudo when there is one) and host. */
export function whoAmI(env: NodeJS.ProcessEnv): { user: string; host: string } {
  let user = env.SUDO_USER || env.USER || "";
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown";
    }
  }
  return { user, host: hostname() };
}

export function auditRecord(op: Operation, result: Omit<ExecResult, "outcome"> & { outcome: Outcome | "abandoned" }, started: Date, durationMs: number, who: { user: string; host: string; pve: string }): AuditRecord {
  const rtoSeconds = op.service.tier.rtoMinutes * 60;
  return {
    time: started.toISOString(),
    who,
    stack: op.stack,
    service: op.service.name,
    tier: op.service.tier.name,
    guest: { vmid: op.guest.vmid, type: op.guest.type, node: op.guest.node, ...(op.guest.name ? { name: op.guest.name } : {}) },
    point: { volid: op.point.volid, time: isoUtc(op.point.time), copy: "pbs", storage: op.point.storage, requested: op.requested, why: op.why },
    target: op.target,
    outcome: result.outcome,
    ...(result.error ? { error: result.error } : {}),
    ...(result.safetyCopy ? { safetyCopy: result.safetyCopy } : {}),
    steps: result.steps,
    durationSeconds: Math.round(durationMs / 100) / 10,
    rto: { target: op.service.tier.rto, seconds: rtoSeconds, met: durationMs <= rtoSeconds * 1000 },
  };
}

/** Fails before a restore starts when the log cannot be written: a restore without its record must not happen. */
export function checkAuditWritable(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, "", { mode: 0o600 });
}

export function appendAudit(path: string, record: AuditRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, JSON.stringify(record) + "\n", { mode: 0o600 });
}
