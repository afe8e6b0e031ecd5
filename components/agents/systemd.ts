/**
 * The agent's systemd service and timer. The timer fires on the service's calendar event, the
 * same schedule syntax PVE and PBS jobs use, so one schedule in config drives VM and file backups.
 */
import type { CalendarEvent } from "../../config/calendar";
import { agentFiles, resolved, type AgentSpec, type ResolvedAgentSpec } from "./spec";

/** systemd's week starts on Monday: a weekday range wraps when its end comes before its start in this order. */
const SYSTEMD_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function weekIndex(name: string): number {
  return SYSTEMD_WEEK.findIndex((d) => name.toLowerCase().startsWith(d));
}

/** `*\/N` with the field's first value, which systemd needs as the start of a repetition. */
function startRepetitions(field: string, first: number): string {
  return field
    .split(",")
    .map((part) => (part.startsWith("*/") ? `${first}${part.slice(1)}` : part))
    .join(",");
}

/**
 * The event as an `OnCalendar=` value. The source is systemd syntax already, except for two
 * things the project's parser (like PVE) accepts and systemd 252 refuses: weekday ranges that
 * wrap around the week (`Fri..Mon`, or `Sun..Tue` as systemd's week starts on Monday), written
 * as the list of days they mean, and repetitions from `*` (`*:*\/15`, `*-*-*\/10`), written from
 * the field's first value (`*:0/15`).
 */
export function onCalendar(event: CalendarEvent): string {
  const tokens = event.source.trim().split(/\s+/);
  const out: string[] = [];
  for (const [i, token] of tokens.entries()) {
    if (i === 0 && /^[a-z]/i.test(token)) {
      // Weekdays, or a shorthand (daily, monthly), which has no range and stays as it is.
      const wraps = token.split(",").some((part) => {
        const [a, b] = part.split("..");
        return b !== undefined && weekIndex(b) < weekIndex(a ?? "");
      });
      out.push(wraps ? [1, 2, 3, 4, 5, 6, 0].filter((d) => event.weekdays.includes(d)).map((d) => DAY_NAMES[d]).join(",") : token);
    } else if (token.includes(":")) {
      out.push(token.split(":").map((f) => startRepetitions(f, 0)).join(":"));
    } else if (token.includes("-")) {
      const fields = token.split("-");
      const firsts = fields.length === 2 ? [1, 1] : [1970, 1, 1];
      out.push(fields.map((f, k) => startRepetitions(f, firsts[k] ?? 1)).join("-"));
    } else out.push(token);
  }
  return out.join(" ");
}

export interface SystemdUnits {
  serviceName: string;
  timerName: string;
  service: string;
  timer: string;
}

export function renderSystemdUnits(input: AgentSpec | ResolvedAgentSpec): SystemdUnits {
  const spec = resolved(input);
  const files = agentFiles(spec);
  const quiesces = spec.docker.some((d) => d.stopDuringBackup);
  const what = `homelab-backup agent ${spec.name}${spec.service ? ` (service ${spec.service})` : ""}`;
  const service = [
    "[Unit]",
    `Description=borgmatic backup of ${what}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${files.script}`,
    // Runs after any end of the run, even a kill past the trap in the script: a container the
    // agent stopped is never left down.
    ...(quiesces ? [`ExecStopPost=${files.script} quiesce-start`] : []),
    // A hung dump or an unreachable repository must not hold the schedule forever.
    `TimeoutStartSec=${spec.maxRunHours}h`,
    "Nice=19",
    "IOSchedulingClass=best-effort",
    "IOSchedulingPriority=7",
    "PrivateTmp=yes",
    "ProtectSystem=full",
    "NoNewPrivileges=yes",
    // borgmatic logs every file it cannot read; journald's rate limit would hide the ones that matter.
    "LogRateLimitIntervalSec=0",
    "",
  ].join("\n");
  const timer = [
    "[Unit]",
    `Description=Schedule of ${what}`,
    "",
    "[Timer]",
    `OnCalendar=${onCalendar(spec.schedule)}`,
    // A run missed while the host was off happens at boot, as PVE's repeat-missed does for VMs.
    "Persistent=true",
    `Unit=${files.serviceUnit}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { serviceName: files.serviceUnit, timerName: files.timerUnit, service, timer };
}
