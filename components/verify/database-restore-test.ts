/**
 * `DatabaseRestoreTest`: deploys an agent host's database restore test over SSH with
 * @pulumi/command: the script, a service and its timer, one `remote.Command` whose delete
 * disables the timer. It runs beside the host's `BorgmaticAgent` and reads that agent's config
 * (repository, secrets file, database hooks), so deploy it after the agent (`dependsOn`).
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { asRoot, shellQuote } from "../agents/shell";
import { deployFilesScript, type HostFile } from "../monitoring/remote-steps";
import { absolutePathProblems, DEFAULT_UNIT_DIR, positiveProblems, RestoreTestConfigError, scheduleOnCalendar, type Schedule, type VerifyConnection } from "./common";
import { databaseRestorePlan, renderDatabaseRestoreScript, type DatabaseRestoreTestScriptOptions } from "./database-restore-script";
import { renderUnits, type UnitPair } from "./systemd";

export const DATABASE_RESTORE_TEST_TYPE = "homelab:verify:DatabaseRestoreTest";

export interface DatabaseRestoreTestArgs extends DatabaseRestoreTestScriptOptions {
  /**
   * How Pulumi reaches the agent host.
   * @default host, user and port from `agent.host`; the private key is always required
   */
  connection: Partial<Omit<VerifyConnection, "privateKey">> & Pick<VerifyConnection, "privateKey">;
  /** When the test runs: the strategy's monthly database restore test. @default "*-*-01 06:00" */
  schedule?: Schedule;
  /** Where the script goes on the host. @default `/usr/local/sbin/homelab-backup-<agent>-restore-test` */
  scriptPath?: string;
  /** @default "/etc/systemd/system" */
  unitDir?: string;
  /** A run still going after this many hours is stopped (and its scratch database dropped). @default 6 */
  maxRunHours?: number;
}

export const DATABASE_RESTORE_DEPLOY_DEFAULTS = {
  schedule: "*-*-01 06:00",
  scriptPath: (agent: string) => `/usr/local/sbin/homelab-backup-${agent}-restore-test`,
  unitDir: DEFAULT_UNIT_DIR,
  maxRunHours: 6,
};

export interface DatabaseRestoreTestFiles {
  files: HostFile[];
  units: UnitPair;
  /** The timer's `OnCalendar=` value. */
  onCalendar: string;
}

/** The files the deploy step writes: the script, the service and the timer. @throws RestoreTestConfigError */
export function databaseRestoreTestFiles(args: Omit<DatabaseRestoreTestArgs, "connection">): DatabaseRestoreTestFiles {
  const { spec, problems } = databaseRestorePlan(args);
  const agent = spec?.name ?? args.agent?.host?.name ?? "?";
  const scriptPath = args.scriptPath ?? DATABASE_RESTORE_DEPLOY_DEFAULTS.scriptPath(agent);
  const unitDir = args.unitDir ?? DATABASE_RESTORE_DEPLOY_DEFAULTS.unitDir;
  const maxRunHours = args.maxRunHours ?? DATABASE_RESTORE_DEPLOY_DEFAULTS.maxRunHours;
  absolutePathProblems("scriptPath", scriptPath, problems);
  absolutePathProblems("unitDir", unitDir, problems);
  positiveProblems("maxRunHours", maxRunHours, problems, true);
  let calendar = "";
  try {
    calendar = scheduleOnCalendar(args.schedule ?? DATABASE_RESTORE_DEPLOY_DEFAULTS.schedule);
  } catch (error) {
    problems.push(`schedule: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new RestoreTestConfigError(`database restore test of agent ${agent}`, problems);
  const units = renderUnits({
    unit: `homelab-backup-${agent}-restore-test`,
    description: `homelab-backup database restore test of agent ${agent} (site ${args.site})`,
    execStart: scriptPath,
    onCalendar: calendar,
    maxRunHours,
    after: ["network-online.target"],
    hardened: true,
  });
  return {
    units,
    onCalendar: calendar,
    files: [
      { path: scriptPath, mode: "0700", content: renderDatabaseRestoreScript(args) },
      { path: `${unitDir}/${units.serviceName}`, mode: "0644", content: units.service },
      { path: `${unitDir}/${units.timerName}`, mode: "0644", content: units.timer },
    ],
  };
}

/** Writes the files and enables the timer; the content hash heads it, as the agent's deploy step does. */
export function databaseRestoreTestDeployScript(args: Omit<DatabaseRestoreTestArgs, "connection">, built: DatabaseRestoreTestFiles = databaseRestoreTestFiles(args)): string {
  return deployFilesScript(`homelab-backup database restore test of agent ${args.agent.host.name}`, built.files, ["systemctl daemon-reload", `systemctl enable --now ${built.units.timerName}`]);
}

/** Removing the test stops its schedule; the log stays. */
export function databaseRestoreTestDisableScript(args: Omit<DatabaseRestoreTestArgs, "connection">, built: DatabaseRestoreTestFiles = databaseRestoreTestFiles(args)): string {
  const { units } = built;
  const unitDir = args.unitDir ?? DATABASE_RESTORE_DEPLOY_DEFAULTS.unitDir;
  return ["set -eu", `if [ -e ${shellQuote(`${unitDir}/${units.timerName}`)} ]; then systemctl disable --now ${units.timerName}; fi`].join("\n");
}

export class DatabaseRestoreTest extends pulumi.ComponentResource {
  /** The timer's `OnCalendar=` value. */
  readonly onCalendar: string;
  /** The timer's unit name on the host. */
  readonly timerUnit: string;
  /** `<kind>.<database>` of the databases named for testing; "<kind>.all" stands for every database found in an "all" dump. */
  readonly databases: string[];

  constructor(name: string, args: DatabaseRestoreTestArgs, opts?: pulumi.ComponentResourceOptions) {
    const { connection: conn, ...rest } = args;
    // Validates before anything registers: a refused test leaves no half-registered component.
    const built = databaseRestoreTestFiles(rest);
    super(DATABASE_RESTORE_TEST_TYPE, name, {}, opts);
    const { spec, entries } = databaseRestorePlan(rest);
    this.onCalendar = built.onCalendar;
    this.timerUnit = built.units.timerName;
    this.databases = entries.filter((e) => e.test).flatMap((e) => (e.databases.length > 0 ? e.databases.map((d) => `${e.kind}.${d}`) : [`${e.kind}.all`]));

    const user = conn.user ?? spec?.host.sshUser ?? "root";
    const connection = {
      host: conn.host ?? (spec?.host.address as string),
      user,
      port: conn.port ?? spec?.host.sshPort ?? 22,
      privateKey: pulumi.secret(conn.privateKey),
    };
    new remote.Command(
      `${name}-deploy`,
      {
        connection,
        create: asRoot(databaseRestoreTestDeployScript(rest, built), user),
        delete: asRoot(databaseRestoreTestDisableScript(rest, built), user),
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.registerOutputs({ onCalendar: this.onCalendar, timerUnit: this.timerUnit, databases: this.databases });
  }
}
