/**
 * `RestoreTest`: deploys the PVE node's restore test over SSH with @pulumi/command: the script
 * and a weekly and a monthly service with their timers, one `remote.Command` whose delete
 * disables the timers again. The script and units come from the pure generators beside this
 * file, so what runs on the node is what the tests ran.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { asRoot, sha256, shellQuote, writeFileScript } from "../agents/shell";
import type { HostFile } from "../monitoring/remote-steps";
import { absolutePathProblems, DEFAULT_UNIT_DIR, positiveProblems, RestoreTestConfigError, scheduleOnCalendar, type Schedule, type VerifyConnection } from "./common";
import { renderRestoreTestScript, resolveRestoreTestOptions, restoreTestProblems, type RestoreTestScriptOptions } from "./restore-test-script";
import { renderUnits, type UnitPair } from "./systemd";

export const RESTORE_TEST_TYPE = "homelab:verify:RestoreTest";

export interface RestoreTestArgs extends RestoreTestScriptOptions {
  /** The PVE node the tests run on; its PBS storage, bridge and scratch ids are the ones above. */
  connection: VerifyConnection;
  /** When the weekly random test runs. @default "Sat *-*-* 10:00" */
  weeklySchedule?: Schedule;
  /** When the monthly full test of `monthlyServices` runs. @default "Sun *-*-01..07 10:00" (first Sunday) */
  monthlySchedule?: Schedule;
  /**
   * Names the script and the units, so one node can run a test per PBS storage; instances share
   * the state directory and its lock, so they never run at once.
   * @default "homelab-backup-restore-test"
   */
  unitName?: string;
  /** Where the script goes on the node. @default "/usr/local/sbin/<unitName>" */
  scriptPath?: string;
  /** @default "/etc/systemd/system" */
  unitDir?: string;
  /** A run still going after this many hours is stopped (and its scratch guest destroyed). @default 12 */
  maxRunHours?: number;
}

export const RESTORE_TEST_DEPLOY_DEFAULTS = {
  weeklySchedule: "Sat *-*-* 10:00",
  monthlySchedule: "Sun *-*-01..07 10:00",
  scriptPath: "/usr/local/sbin/homelab-backup-restore-test",
  unitDir: DEFAULT_UNIT_DIR,
  maxRunHours: 12,
};

const UNIT = "homelab-backup-restore-test";

/** A file the deploy step writes. */
export type RestoreTestFile = HostFile;

export interface RestoreTestFiles {
  files: RestoreTestFile[];
  units: { weekly: UnitPair; monthly: UnitPair };
  /** The timers' `OnCalendar=` values. */
  onCalendar: { weekly: string; monthly: string };
}

/** The files the deploy step writes on the node: script, then both services and timers. */
export function restoreTestFiles(args: Omit<RestoreTestArgs, "connection">): RestoreTestFiles {
  const problems = restoreTestProblems(args);
  const unitName = args.unitName ?? UNIT;
  const scriptPath = args.scriptPath ?? (args.unitName ? `/usr/local/sbin/${unitName}` : RESTORE_TEST_DEPLOY_DEFAULTS.scriptPath);
  if (!/^[a-z][a-z0-9-]{0,80}$/.test(unitName)) problems.push(`unitName ${JSON.stringify(unitName)} is invalid; expected lowercase letters, digits and - (a systemd unit name)`);
  const unitDir = args.unitDir ?? RESTORE_TEST_DEPLOY_DEFAULTS.unitDir;
  const maxRunHours = args.maxRunHours ?? RESTORE_TEST_DEPLOY_DEFAULTS.maxRunHours;
  absolutePathProblems("scriptPath", scriptPath, problems);
  absolutePathProblems("unitDir", unitDir, problems);
  positiveProblems("maxRunHours", maxRunHours, problems, true);
  const calendars: Record<"weekly" | "monthly", string> = { weekly: "", monthly: "" };
  for (const kind of ["weekly", "monthly"] as const) {
    try {
      calendars[kind] = scheduleOnCalendar(args[`${kind}Schedule`] ?? RESTORE_TEST_DEPLOY_DEFAULTS[`${kind}Schedule`]);
    } catch (error) {
      problems.push(`${kind}Schedule: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new RestoreTestConfigError(`restore test of site ${args.site}`, problems);
  const options = resolveRestoreTestOptions(args);
  const unit = (kind: "weekly" | "monthly") =>
    renderUnits({
      unit: `${unitName}-${kind}`,
      description: `homelab-backup ${kind} restore test of site ${options.site}`,
      execStart: `${scriptPath} ${kind}`,
      onCalendar: calendars[kind],
      maxRunHours,
      after: ["network-online.target", "pve-cluster.service", "pvedaemon.service"],
      hardened: false,
    });
  const units = { weekly: unit("weekly"), monthly: unit("monthly") };
  const files: RestoreTestFile[] = [{ path: scriptPath, mode: "0700", content: renderRestoreTestScript(args) }];
  for (const pair of [units.weekly, units.monthly]) {
    files.push({ path: `${unitDir}/${pair.serviceName}`, mode: "0644", content: pair.service });
    files.push({ path: `${unitDir}/${pair.timerName}`, mode: "0644", content: pair.timer });
  }
  return { files, units, onCalendar: calendars };
}

/**
 * Checks the node has what the script needs (refusing a non-isolated bridge), writes the files
 * and enables both timers. The content hash heads it, so the plan shows when the node's test
 * changed.
 */
export function restoreTestDeployScript(args: Omit<RestoreTestArgs, "connection">, built: RestoreTestFiles = restoreTestFiles(args)): string {
  const { files, units } = built;
  const hash = sha256(files.map((f) => `${f.path}\0${f.mode}\0${f.content}`).join("\0"));
  const bridge = shellQuote(args.isolatedBridge);
  const dirs = [...new Set(files.map((f) => f.path.replace(/\/[^/]+$/, "")))];
  return [
    `# homelab-backup restore test of site ${args.site}, content ${hash.slice(0, 16)}`,
    "set -eu",
    "for c in qm pct qmrestore pvesm pvesh perl flock timeout ip; do",
    `  command -v "$c" >/dev/null 2>&1 || { echo "homelab-backup: $c is missing; the restore test runs on a PVE node" >&2; exit 1; }`,
    "done",
    `perl -MJSON::PP -e 1 || { echo "homelab-backup: perl's JSON::PP is missing" >&2; exit 1; }`,
    `ip link show dev ${bridge} >/dev/null 2>&1 || { echo "homelab-backup: the isolated bridge ${args.isolatedBridge} does not exist; create it with no ports (no bridge-ports) before enabling restore tests" >&2; exit 1; }`,
    `if [ -n "$(ip -o link show master ${bridge} 2>/dev/null)" ]; then echo "homelab-backup: the bridge ${args.isolatedBridge} has ports; restore tests need one with none" >&2; exit 1; fi`,
    "umask 022",
    ...dirs.map((d) => `install -d ${shellQuote(d)}`),
    ...files.map((f) => writeFileScript(f.path, f.content, f.mode)),
    "systemctl daemon-reload",
    `systemctl enable --now ${units.weekly.timerName} ${units.monthly.timerName}`,
  ].join("\n");
}

/** Removing the component stops the schedule; the log and the state stay. */
export function restoreTestDisableScript(args: Pick<RestoreTestArgs, "unitDir" | "unitName">): string {
  const unitDir = args.unitDir ?? RESTORE_TEST_DEPLOY_DEFAULTS.unitDir;
  const timers = ["weekly", "monthly"].map((k) => `${args.unitName ?? UNIT}-${k}.timer`);
  return [
    "set -eu",
    ...timers.map((t) => `if [ -e ${shellQuote(`${unitDir}/${t}`)} ]; then systemctl disable --now ${t}; fi`),
  ].join("\n");
}

export class RestoreTest extends pulumi.ComponentResource {
  /** `OnCalendar=` of the weekly and monthly timers. */
  readonly weeklyOnCalendar: string;
  readonly monthlyOnCalendar: string;
  /** The timers' unit names on the node. */
  readonly timerUnits: string[];
  /** Services whose guests the weekly run may pick, and those the monthly run tests in full; for the protection model. */
  readonly testedServices: string[];
  readonly monthlyServices: string[];

  constructor(name: string, args: RestoreTestArgs, opts?: pulumi.ComponentResourceOptions) {
    const { connection: conn, ...rest } = args;
    // Validates everything (range against production ids included) before anything registers.
    const built = restoreTestFiles(rest);
    const { units } = built;
    super(RESTORE_TEST_TYPE, name, {}, opts);
    this.weeklyOnCalendar = built.onCalendar.weekly;
    this.monthlyOnCalendar = built.onCalendar.monthly;
    this.timerUnits = [units.weekly.timerName, units.monthly.timerName];
    this.testedServices = rest.services.map((s) => s.service);
    this.monthlyServices = [...(rest.monthlyServices ?? [])];

    const user = conn.user ?? "root";
    const connection = { host: conn.host, user, port: conn.port ?? 22, privateKey: pulumi.secret(conn.privateKey) };
    new remote.Command(
      `${name}-deploy`,
      {
        connection,
        create: asRoot(restoreTestDeployScript(rest, built), user),
        // No triggers: a changed script is an update (create runs again), not a replacement.
        delete: asRoot(restoreTestDisableScript(rest), user),
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.registerOutputs({
      weeklyOnCalendar: this.weeklyOnCalendar,
      monthlyOnCalendar: this.monthlyOnCalendar,
      timerUnits: this.timerUnits,
      testedServices: this.testedServices,
      monthlyServices: this.monthlyServices,
    });
  }
}
