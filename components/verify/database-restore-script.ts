/**
 * The database restore test an agent host runs from a systemd timer: the latest archive of the
 * agent's borg repository, each database dump borgmatic stored in it restored into a scratch
 * database (`restoretest_<name>`), a check query, the scratch database dropped whatever
 * happened, one JSON line per database. It reads the agent's own config: the same repository,
 * secrets file (passphrase, database passwords) and database hook entries as `BorgmaticAgent`.
 *
 * Scratch databases carry the `restoretest_` prefix, and that prefix is the whole mark: a
 * production database may not have it (validated here for the spec's names, and checked at run
 * time against every database the dumps hold), and every create, restore and drop goes through a
 * bash function that refuses any other name.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { borgSshCommand } from "../agents/borgmatic-config";
import { shellQuote } from "../agents/shell";
import { agentFiles, passwordEnvName, resolveAgentSpec, type AgentSpec, type DatabaseKind, type ResolvedAgentSpec } from "../agents/spec";
import {
  absolutePathProblems,
  BASH_COMMON,
  DEFAULT_LOG_PATH,
  DEFAULT_NOTIFY_COMMAND,
  positiveProblems,
  RestoreTestConfigError,
  rtoMillis,
  rtoSecondsText,
  textProblems,
} from "./common";

export type RestoreEngine = Exclude<DatabaseKind, "mongodb">;
export const RESTORE_ENGINES: readonly RestoreEngine[] = ["postgresql", "mariadb", "mysql"];
export const SCRATCH_DB_PREFIX = "restoretest_";

/** One database to test, found in the agent's hook entry of that name, or else in its "all" entry. */
export interface DatabaseRestoreSelection {
  kind: RestoreEngine;
  database: string;
}

export interface DatabaseRestoreTestScriptOptions {
  /** The strategy's site name; in the log and the notifications. */
  site: string;
  /** The agent whose repository and databases are tested: the spec its `BorgmaticAgent` got. */
  agent: AgentSpec;
  /** The service in the log. @default agent.service, else the agent's name */
  service?: string;
  /** The tier's recovery time objective: a database whose extract, restore and check take longer fails. */
  rtoMinutes: number;
  /**
   * Which databases to test. @default every named database the agent dumps, and every
   * non-system database found in its "all" dumps (MongoDB is not tested)
   */
  databases?: DatabaseRestoreSelection[];
  /**
   * Check query per database, keyed `<kind>.<database>`; passes when it succeeds and its first
   * value is not empty, 0, false or NULL.
   * @default counts the tables of the restored database (passes when there is one)
   */
  checkQueries?: Record<string, string>;
  /** JSON lines, one per tested database. @default "/var/log/homelab-backup/restore-tests.jsonl" */
  logPath?: string;
  /** Lock file and the extracted dumps (removed after each run). @default `/var/lib/homelab-backup/restore-test-<agent>` */
  stateDir?: string;
  /** @default "/usr/local/sbin/homelab-backup-notify" */
  notifyCommand?: string;
}

/** One hook entry of the agent the script restores from, with the databases to test from it (none: all found in the dump). */
export interface DatabaseRestoreEntry {
  kind: RestoreEngine;
  /** The hook entry's name: a database, or "all". */
  name: string;
  hostname?: string;
  port?: number;
  username?: string;
  passwordEnv?: string;
  databases: string[];
  /** False for an entry only there so its server's leftover scratch databases are dropped. */
  test: boolean;
}

/** borgmatic's dump directories per engine: 1.7 dumps MariaDB through its MySQL hook, 1.8 has its own. */
const HOOK_DIRS: Record<RestoreEngine, string[]> = {
  postgresql: ["postgresql_databases"],
  mariadb: ["mysql_databases", "mariadb_databases"],
  mysql: ["mysql_databases"],
};

/** A database name the script may carry in a plain bash word. */
const DB_NAME = /^[A-Za-z0-9_$-]+$/;

/** The scratch database a database is restored into, as the script names it. */
export function scratchDatabaseName(database: string): string {
  return `${SCRATCH_DB_PREFIX}${database.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
}

/** The entries to restore from, and every problem with the options (empty when valid). */
export function databaseRestorePlan(options: DatabaseRestoreTestScriptOptions): { spec?: ResolvedAgentSpec; entries: DatabaseRestoreEntry[]; problems: string[] } {
  const o = options;
  const problems: string[] = [];
  textProblems("site", o.site, problems);
  positiveProblems("rtoMinutes", o.rtoMinutes, problems);
  if (o.service !== undefined) textProblems("service", o.service, problems);
  if (o.logPath !== undefined) absolutePathProblems("logPath", o.logPath, problems);
  if (o.stateDir !== undefined) absolutePathProblems("stateDir", o.stateDir, problems);
  if (o.notifyCommand !== undefined) absolutePathProblems("notifyCommand", o.notifyCommand, problems);
  let spec: ResolvedAgentSpec | undefined;
  try {
    spec = resolveAgentSpec(o.agent);
  } catch (error) {
    problems.push((error as Error).message);
    return { entries: [], problems };
  }
  const hooks = spec.databases.filter((d): d is typeof d & { kind: RestoreEngine } => RESTORE_ENGINES.includes(d.kind as RestoreEngine));
  for (const db of hooks) {
    if (db.name !== "all" && !DB_NAME.test(db.name)) problems.push(`agent database ${JSON.stringify(db.name)} cannot be tested: expected letters, digits, "_", "$" or "-"`);
    if (db.name.toLowerCase().startsWith(SCRATCH_DB_PREFIX)) problems.push(`agent database ${db.name} starts with ${SCRATCH_DB_PREFIX}, the prefix of scratch databases`);
  }
  const entry = (db: (typeof hooks)[number], databases: string[], test: boolean): DatabaseRestoreEntry => ({
    kind: db.kind,
    name: db.name,
    ...(db.hostname !== undefined ? { hostname: db.hostname } : {}),
    ...(db.port !== undefined ? { port: db.port } : {}),
    ...(db.username !== undefined ? { username: db.username } : {}),
    ...(db.passwordSecretRef !== undefined ? { passwordEnv: passwordEnvName(db.passwordSecretRef) } : {}),
    databases,
    test,
  });
  let entries: DatabaseRestoreEntry[];
  if (o.databases === undefined) {
    entries = hooks.map((db) => entry(db, db.name === "all" ? [] : [db.name], true));
  } else {
    const chosen = new Map<(typeof hooks)[number], string[]>();
    o.databases.forEach((sel, i) => {
      const at = `databases[${i}]`;
      if (!RESTORE_ENGINES.includes(sel?.kind)) {
        problems.push(`${at}.kind ${JSON.stringify(sel?.kind)} is not one of ${RESTORE_ENGINES.join(", ")}`);
        return;
      }
      if (typeof sel.database !== "string" || !DB_NAME.test(sel.database) || sel.database === "all") {
        problems.push(`${at}.database ${JSON.stringify(sel.database)} is invalid; expected one database's name`);
        return;
      }
      if (sel.database.toLowerCase().startsWith(SCRATCH_DB_PREFIX)) problems.push(`${at}.database ${sel.database} starts with ${SCRATCH_DB_PREFIX}, the prefix of scratch databases`);
      const source = hooks.find((d) => d.kind === sel.kind && d.name === sel.database) ?? hooks.find((d) => d.kind === sel.kind && d.name === "all");
      if (!source) {
        problems.push(`${at}: agent ${spec?.name} dumps no ${sel.kind} database ${sel.database} (nor "all")`);
        return;
      }
      const list = chosen.get(source) ?? [];
      if (!list.includes(sel.database)) list.push(sel.database);
      chosen.set(source, list);
    });
    entries = hooks.map((d) => entry(d, chosen.get(d) ?? (d.name === "all" ? [] : [d.name]), chosen.has(d)));
  }
  if (!entries.some((e) => e.test) && problems.length === 0) problems.push(`agent ${spec.name} dumps no PostgreSQL, MariaDB or MySQL database to test`);
  for (const [key, query] of Object.entries(o.checkQueries ?? {})) {
    if (!/^(postgresql|mariadb|mysql)\.[A-Za-z0-9_$-]+$/.test(key)) problems.push(`checkQueries key ${JSON.stringify(key)} is not <kind>.<database>`);
    textProblems(`checkQueries[${JSON.stringify(key)}]`, query, problems);
  }
  return { spec, entries, problems };
}

export function databaseRestoreProblems(options: DatabaseRestoreTestScriptOptions): string[] {
  return databaseRestorePlan(options).problems;
}

const q = shellQuote;
const bashArray = (values: readonly string[]) => `(${values.map((v) => q(v)).join(" ")})`;

export const DATABASE_RESTORE_DEFAULTS = {
  logPath: DEFAULT_LOG_PATH,
  notifyCommand: DEFAULT_NOTIFY_COMMAND,
  stateDir: (agent: string) => `/var/lib/homelab-backup/restore-test-${agent}`,
};

/** The script's text. @throws RestoreTestConfigError listing every problem */
export function renderDatabaseRestoreScript(options: DatabaseRestoreTestScriptOptions): string {
  const { spec, entries, problems } = databaseRestorePlan(options);
  if (problems.length > 0 || !spec) throw new RestoreTestConfigError(`database restore test of agent ${options.agent?.host?.name ?? "?"}`, problems);
  const ssh = borgSshCommand(spec);
  const service = options.service ?? spec.service ?? spec.name;
  const secrets = agentFiles(spec).secrets;
  return `#!/bin/bash
# homelab-backup database restore test of agent "${spec.name}" (site ${options.site}). Written by Pulumi: edits here are overwritten.
# Restores each database of the repository's latest archive into a scratch database
# (${SCRATCH_DB_PREFIX}<name>), checks it and drops it; one JSON line per database in the log.
set -uo pipefail
export LC_ALL=C
umask 077

SCRIPT_NAME=homelab-backup-database-restore-test
SITE=${q(options.site)}
SERVICE=${q(service)}
AGENT=${q(spec.name)}
RTO_MS=${rtoMillis(options.rtoMinutes)}
RTO_S=${rtoSecondsText(options.rtoMinutes)}
LOG=${q(options.logPath ?? DATABASE_RESTORE_DEFAULTS.logPath)}
STATE_DIR=${q(options.stateDir ?? DATABASE_RESTORE_DEFAULTS.stateDir(spec.name))}
NOTIFY=${q(options.notifyCommand ?? DATABASE_RESTORE_DEFAULTS.notifyCommand)}
SECRETS=${q(secrets)}
REPO=${q(spec.repository.url)}
ARCHIVE_GLOB=${q(`${spec.name}-*`)}
DUMP_ROOT=${q(spec.layout.stateDir)}
${ssh ? `export BORG_RSH=${q(ssh)}\n` : ""}${spec.repository.remotePath ? `export BORG_REMOTE_PATH=${q(spec.repository.remotePath)}\n` : ""}E_KIND=${bashArray(entries.map((e) => e.kind))}
E_NAME=${bashArray(entries.map((e) => e.name))}
E_HOST=${bashArray(entries.map((e) => e.hostname ?? ""))}
E_PATHHOST=${bashArray(entries.map((e) => e.hostname ?? "localhost"))}
E_PORT=${bashArray(entries.map((e) => (e.port === undefined ? "" : String(e.port))))}
E_USER=${bashArray(entries.map((e) => e.username ?? ""))}
E_PWVAR=${bashArray(entries.map((e) => e.passwordEnv ?? ""))}
E_DBS=${bashArray(entries.map((e) => e.databases.join(" ")))}
E_HOOKS=${bashArray(entries.map((e) => HOOK_DIRS[e.kind].join(" ")))}
E_TEST=(${entries.map((e) => (e.test ? 1 : 0)).join(" ")})
declare -A QUERY=(${Object.entries(options.checkQueries ?? {})
    .map(([k, v]) => `[${q(k)}]=${q(v)}`)
    .join(" ")})
${BASH_COMMON}
${DB_BODY}`;
}

/** The part of the script that does not depend on the options (bash kept as bash, beside this file). */
const DB_BODY = readFileSync(join(__dirname, "database-restore-test.sh"), "utf8");
