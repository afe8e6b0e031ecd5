/**
 * systemd units of the restore tests: a oneshot service per run kind and a timer on its
 * calendar event. Missed runs happen at boot (`Persistent=true`), as for the backups themselves.
 */

export interface UnitPair {
  serviceName: string;
  timerName: string;
  service: string;
  timer: string;
}

export interface UnitOptions {
  /** Unit base name, without `.service` / `.timer`. */
  unit: string;
  description: string;
  /** The full ExecStart= command line. */
  execStart: string;
  onCalendar: string;
  maxRunHours: number;
  /** Units the service starts after (and wants). */
  after: string[];
  /** Sandboxing that suits an agent host; PVE's tools need a writable /etc/pve and /run, so the PVE node gets none. */
  hardened: boolean;
}

export function renderUnits(o: UnitOptions): UnitPair {
  const service = [
    "[Unit]",
    `Description=${o.description}`,
    ...(o.after.length > 0 ? [`Wants=${o.after.join(" ")}`, `After=${o.after.join(" ")}`] : []),
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${o.execStart}`,
    // A full monthly run restores one guest after the other; it still must not hold the node forever.
    `TimeoutStartSec=${o.maxRunHours}h`,
    // The script's trap destroys the scratch guest (or drops the scratch database) on stop; give it time.
    "TimeoutStopSec=15min",
    "Nice=10",
    "IOSchedulingClass=best-effort",
    "IOSchedulingPriority=7",
    ...(o.hardened ? ["PrivateTmp=yes", "ProtectSystem=full", "NoNewPrivileges=yes"] : []),
    "",
  ].join("\n");
  const timer = [
    "[Unit]",
    `Description=Schedule of the ${o.description[0]?.toLowerCase()}${o.description.slice(1)}`,
    "",
    "[Timer]",
    `OnCalendar=${o.onCalendar}`,
    "Persistent=true",
    `Unit=${o.unit}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { serviceName: `${o.unit}.service`, timerName: `${o.unit}.timer`, service, timer };
}
