/**
 * Pure mapping from a strategy service to PVE `/cluster/backup` job arguments, kept apart from
 * the component so the rules (keep-all on the PVE side, stdexcludes, repeat-missed, notification
 * mode) are tested without the mock runtime.
 */
import type { KeepPolicy, Service } from "../../config/strategy";

/** Turns a keep policy into vzdump's `prune-backups` map (`keep-daily` → "7"). */
export function pruneBackupsMap(keep: KeepPolicy): Record<string, string> {
  const out: Record<string, string> = {};
  const names: [keyof KeepPolicy, string][] = [
    ["keepLast", "keep-last"],
    ["keepHourly", "keep-hourly"],
    ["keepDaily", "keep-daily"],
    ["keepWeekly", "keep-weekly"],
    ["keepMonthly", "keep-monthly"],
    ["keepYearly", "keep-yearly"],
  ];
  for (const [key, option] of names) {
    const value = keep[key];
    if (value !== undefined) out[option] = String(value);
  }
  return out;
}

export interface JobSettings {
  /** Which storage (PVE storage id) receives the backups. */
  storage: string;
  /** Paths vzdump leaves out (temporary files, caches, ISO images). */
  excludePaths: string[];
  stdexcludes: boolean;
  /** Mail recipients; without them PVE's `auto` notification mode sends nothing useful (bpg #3000). */
  mailto: string[];
  /**
   * Where retention is enforced. "pbs" (the default, as the PVE docs recommend for PBS targets)
   * sends keep-all so PVE never prunes and the PBS prune job owns retention.
   */
  pruneOn: "pbs" | "pve";
  /** Hook script path on every node (pre-backup health checks), when deployed. */
  script?: string;
}

/** The plain (non-Input) arguments of the service's `backup.Job`. */
export function backupJobArgs(service: Service, settings: JobSettings, vmids: string[] | undefined) {
  const guests: { vmids?: string[]; pool?: string } = {};
  if (vmids && vmids.length > 0) guests.vmids = vmids;
  if (service.guests.pool) guests.pool = service.guests.pool;
  return {
    resourceId: `backup-${service.name}`,
    schedule: service.schedule.source,
    storage: settings.storage,
    ...guests,
    mode: service.mode,
    compress: "zstd",
    enabled: true,
    repeatMissed: true,
    remove: settings.pruneOn === "pve",
    pruneBackups: settings.pruneOn === "pbs" ? { "keep-all": "1" } : pruneBackupsMap(service.keep),
    excludePaths: settings.excludePaths,
    stdexcludes: settings.stdexcludes,
    // "failure" mail only works with explicit recipients (provider issue #3000); without any,
    // failures reach people through the PBS/PVE notification matchers instead.
    ...(settings.mailto.length > 0 ? { mailnotification: "failure", mailtos: settings.mailto } : {}),
    // The notes name the service and tier: visible in PVE, and how the protection model and the
    // policies tell which data class a job protects from the registered resources alone.
    notesTemplate: `{{guestname}} · service ${service.name} · tier ${service.tier.name}`,
    ...(settings.script ? { script: settings.script } : {}),
  };
}
