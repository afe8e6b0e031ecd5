/**
 * Telling people a restore happened, through the stack's notification targets. gotify and
 * webhook targets are HTTP POSTs the workstation can make; mail is left to PVE and PBS, which
 * hold the SMTP credentials, so an smtp target is reported as not sent. A failed notification
 * never fails the restore: the audit line is already written.
 */
import * as https from "node:https";
import type { Strategy } from "../config/strategy";
import { redact } from "../components/pbs/client";
import type { AuditRecord } from "./audit";
import { clock } from "./format";

export interface Delivery {
  readonly target: string;
  readonly type: string;
  readonly sent: boolean;
  readonly detail: string;
}

/** `NOTIFICATION_SECRETS`: the JSON map of the `notificationSecrets` config secret (target name → token). */
export function notificationSecrets(env: NodeJS.ProcessEnv): { secrets: Record<string, string>; problem?: string } {
  const text = env.NOTIFICATION_SECRETS;
  if (!text) return { secrets: {} };
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      return { secrets: Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === "string")) as Record<string, string> };
    }
  } catch {
    // Reported below without the value: it is a secret.
  }
  return { secrets: {}, problem: "NOTIFICATION_SECRETS is not a JSON map of target name to secret" };
}

export function summary(record: AuditRecord): { title: string; message: string; failed: boolean } {
  const failed = record.outcome !== "restored";
  const title = `Restore ${record.outcome}: ${record.service} guest ${record.guest.vmid} → ${record.target.mode === "new" ? `new guest ${record.target.vmid}` : "in place"}`;
  const lines = [
    `point ${record.point.volid}`,
    `by ${record.who.user}@${record.who.host} as ${record.who.pve}`,
    `took ${clock(record.durationSeconds * 1000)} of RTO ${record.rto.target}${record.rto.met ? "" : " (RTO MISSED)"}`,
    ...(record.error ? [`error: ${record.error}`] : []),
    ...(record.safetyCopy ? [`safety copy ${record.safetyCopy}`] : []),
  ];
  return { title, message: lines.join("\n"), failed };
}

function post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body), "utf8");
    const req = https.request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Content-Length": payload.length, ...headers },
      timeout: timeoutMs,
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.end(payload);
  });
}

export async function notify(strategy: Strategy, record: AuditRecord, auditFile: string, env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<Delivery[]> {
  const { secrets, problem } = notificationSecrets(env);
  const { title, message, failed } = summary(record);
  const all = Object.values(secrets);
  return Promise.all(
    strategy.monitoring.targets.map(async (target): Promise<Delivery> => {
      const base = { target: target.name, type: target.type };
      try {
        if (target.type === "smtp") {
          return { ...base, sent: false, detail: `mail is not sent from the workstation (PVE and PBS hold the SMTP credentials); the record is in ${auditFile}` };
        }
        if (target.type === "gotify") {
          const token = secrets[target.name];
          if (!token) return { ...base, sent: false, detail: problem ?? `no token: NOTIFICATION_SECRETS has no "${target.name}"` };
          const status = await post(`${target.server.replace(/\/+$/, "")}/message`, { title, message, priority: failed ? 8 : 4 }, { "X-Gotify-Key": token }, timeoutMs);
          return { ...base, sent: status >= 200 && status < 300, detail: `HTTP ${status}` };
        }
        const status = await post(target.url, { title, message, severity: failed ? "error" : "info", record }, {}, timeoutMs);
        return { ...base, sent: status >= 200 && status < 300, detail: `HTTP ${status}` };
      } catch (error) {
        return { ...base, sent: false, detail: redact(error instanceof Error ? error.message : String(error), all) };
      }
    }),
  );
}
