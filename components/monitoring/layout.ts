/**
 * Where the monitoring files live on a host. The defaults are what the components deploy; the
 * generators take overrides so tests run the very same scripts under a temp dir.
 */
import { NOTIFY_COMMAND } from "./notify-script";

export interface CheckLayout {
  /** The check script. */
  scriptPath: string;
  /** Root-only env file with the check's secrets. */
  envFile: string;
  /** Open alerts and usage samples. */
  stateDir: string;
  /** The notify command the check calls. */
  notify: string;
  /** The TrueNAS query helper (capacity check only). */
  truenasQuery: string;
  /** Where the service and timer units go. */
  unitDir: string;
}

export type CheckKind = "capacity" | "freshness";

export function defaultCheckLayout(kind: CheckKind): CheckLayout {
  return {
    scriptPath: `/usr/local/lib/homelab-backup/check-${kind}`,
    envFile: `/etc/homelab-backup/${kind}.env`,
    stateDir: `/var/lib/homelab-backup/monitor/${kind}`,
    notify: NOTIFY_COMMAND,
    truenasQuery: "/usr/local/lib/homelab-backup/truenas-query",
    unitDir: "/etc/systemd/system",
  };
}

export function checkUnitNames(kind: CheckKind): { service: string; timer: string } {
  return { service: `homelab-backup-${kind}.service`, timer: `homelab-backup-${kind}.timer` };
}
