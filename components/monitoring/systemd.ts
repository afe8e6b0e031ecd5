/**
 * The service and timer of a check. The service is a oneshot that fails only when the check
 * could not run (exit 1 or 2), so `systemctl --failed` shows a broken monitor, while alerts go
 * through homelab-backup-notify.
 */
import { checkUnitNames, type CheckKind, type CheckLayout } from "./layout";

export interface CheckUnits {
  serviceName: string;
  timerName: string;
  service: string;
  timer: string;
}

const DESCRIPTIONS: Record<CheckKind, string> = {
  capacity: "homelab-backup capacity check (PBS datastores, TrueNAS pools)",
  freshness: "homelab-backup freshness check (backups within RPO, long-running backups)",
};

export function renderCheckUnits(kind: CheckKind, layout: CheckLayout, onCalendar: string): CheckUnits {
  const names = checkUnitNames(kind);
  const service = [
    "[Unit]",
    `Description=${DESCRIPTIONS[kind]}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${layout.scriptPath}`,
    // An unreachable API must not pile up runs: each call has its own timeout, this caps the lot.
    "TimeoutStartSec=10min",
    "Nice=10",
    "PrivateTmp=yes",
    // /usr, /boot and /etc read-only: the check only writes its state under /var/lib.
    "ProtectSystem=full",
    "ProtectHome=yes",
    "NoNewPrivileges=yes",
    "",
  ].join("\n");
  const timer = [
    "[Unit]",
    `Description=Schedule of the ${DESCRIPTIONS[kind]}`,
    "",
    "[Timer]",
    `OnCalendar=${onCalendar}`,
    // Spread over a minute so several hosts' checks do not hit the API in the same second.
    "RandomizedDelaySec=60",
    // A check missed while the host was off runs at boot: a full store is news then too.
    "Persistent=true",
    `Unit=${names.service}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { serviceName: names.service, timerName: names.timer, service, timer };
}
