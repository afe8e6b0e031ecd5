/**
 * borgmatic configuration from an agent spec. The config holds no secret: the repository
 * passphrase reaches borg as BORG_PASSPHRASE and database passwords as `${HOMELAB_DB_PASSWORD_*}`
 * placeholders, both from the secrets file the agent's script loads. So the config can be shown
 * in the plan, hashed and diffed, and the same text is what borgmatic's own validator checks.
 */
import { stringify } from "yaml";
import {
  agentFiles,
  passwordEnvName,
  resolved,
  volumePath,
  type AgentDatabase,
  type AgentSpec,
  type BorgmaticVersion,
  type ResolvedAgentSpec,
} from "./spec";
import { shellQuote } from "./shell";

/** A borgmatic config document (either syntax), as the YAML library will write it. */
export type BorgmaticConfig = Record<string, unknown>;

/** Which borgmatic commands each syntax version uses for what the agent does. */
export interface BorgmaticCommands {
  /** Creates the repository; borgmatic skips it when the repository already exists. */
  init: string;
  /** Validates config files: the program and its arguments before `-c <file>`. */
  validate: string[];
}

export function borgmaticCommands(version: BorgmaticVersion): BorgmaticCommands {
  return version === "1.7"
    ? { init: "init", validate: ["validate-borgmatic-config"] }
    : { init: "rcreate", validate: ["borgmatic", "config", "validate"] };
}

/** True for repositories borg reaches over SSH (`ssh://…` or scp-style `user@host:path`). */
export function isRemoteRepository(url: string): boolean {
  return url.startsWith("ssh://") || /^[^/]+:/.test(url);
}

/**
 * The `ssh` command borg uses for a remote repository. BatchMode makes a missing key or an
 * unknown host fail the run instead of waiting for a prompt nobody answers at 02:00.
 */
export function borgSshCommand(spec: ResolvedAgentSpec): string | undefined {
  if (!isRemoteRepository(spec.repository.url)) return undefined;
  const parts = ["ssh", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=60"];
  if (spec.repository.sshIdentityFile) parts.push("-i", shellQuote(spec.repository.sshIdentityFile), "-o", "IdentitiesOnly=yes");
  if (spec.repository.knownHosts) {
    parts.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${shellQuote(agentFiles(spec).knownHosts)}`);
  } else {
    parts.push("-o", "StrictHostKeyChecking=accept-new");
  }
  return parts.join(" ");
}

/** Archive names start with the agent's name, not the OS hostname, so prune and check still match after a host is rebuilt under another name. */
function archivePrefix(spec: ResolvedAgentSpec): string {
  return `${spec.name}-`;
}

function databaseEntry(db: AgentDatabase): Record<string, unknown> {
  const entry: Record<string, unknown> = { name: db.name };
  if (db.hostname !== undefined) entry.hostname = db.hostname;
  if (db.port !== undefined) entry.port = db.port;
  if (db.username !== undefined) entry.username = db.username;
  if (db.passwordSecretRef !== undefined) entry.password = `\${${passwordEnvName(db.passwordSecretRef)}}`;
  return entry;
}

function databaseHooks(spec: ResolvedAgentSpec, version: BorgmaticVersion): Record<string, unknown[]> {
  const hooks: Record<string, unknown[]> = {};
  const add = (key: string, entry: Record<string, unknown>) => (hooks[key] ??= []).push(entry);
  for (const db of spec.databases) {
    switch (db.kind) {
      case "postgresql":
        add("postgresql_databases", databaseEntry(db));
        break;
      case "mariadb":
        // 1.7 has one hook for both servers; 1.8.2+ has a MariaDB hook that calls mariadb-dump.
        add(version === "1.7" ? "mysql_databases" : "mariadb_databases", databaseEntry(db));
        break;
      case "mysql":
        add("mysql_databases", databaseEntry(db));
        break;
      case "mongodb":
        add("mongodb_databases", databaseEntry(db));
        break;
    }
  }
  return hooks;
}

function quiesceHooks(spec: ResolvedAgentSpec): Record<string, string[]> {
  if (!spec.docker.some((d) => d.stopDuringBackup)) return {};
  const script = shellQuote(spec.layout.scriptPath);
  // Containers stop right before `create` and start right after it; on_error covers a failed
  // dump or create, and the script's own trap covers borgmatic being killed.
  return {
    before_backup: [`${script} quiesce-stop`],
    after_backup: [`${script} quiesce-start`],
    on_error: [`${script} quiesce-start`],
  };
}

function retentionKeys(spec: ResolvedAgentSpec): Record<string, number> {
  const r = spec.retention;
  const out: Record<string, number> = {};
  const put = (key: string, value: number | undefined) => {
    if (value !== undefined && value > 0) out[key] = value;
  };
  put("keep_hourly", r.keepHourly);
  put("keep_daily", r.keepDaily);
  put("keep_weekly", r.keepWeekly);
  put("keep_monthly", r.keepMonthly);
  put("keep_yearly", r.keepYearly);
  return out;
}

/** Every directory the archive starts from: the spec's sources, then each Docker volume's data. */
export function sourceDirectories(spec: ResolvedAgentSpec): string[] {
  const out = [...spec.sources];
  for (const d of spec.docker) for (const v of d.volumes) out.push(volumePath(spec.dockerRoot, v));
  return out;
}

/** The config as a document, in the sections (1.7) or flat keys (1.8) of the given version. */
export function borgmaticConfigObject(input: AgentSpec | ResolvedAgentSpec, version: BorgmaticVersion): BorgmaticConfig {
  const spec = resolved(input);
  const sources = sourceDirectories(spec);
  const ssh = borgSshCommand(spec);
  const prefix = archivePrefix(spec);

  const location: Record<string, unknown> = {};
  if (sources.length > 0) location.source_directories = sources;
  location.repositories = version === "1.7" ? [spec.repository.url] : [{ path: spec.repository.url }];
  location.exclude_patterns = [...spec.excludes];
  location.exclude_caches = true;
  location.exclude_if_present = [".nobackup"];
  location.borgmatic_source_directory = spec.layout.stateDir;
  if (spec.repository.remotePath) location.remote_path = spec.repository.remotePath;

  const storage: Record<string, unknown> = {
    compression: "auto,zstd",
    archive_name_format: `${prefix}{now:%Y-%m-%dT%H:%M:%S.%f}`,
  };
  if (ssh) storage.ssh_command = ssh;

  const retention: Record<string, unknown> = { ...retentionKeys(spec) };
  const consistency: Record<string, unknown> = { checks: spec.checks.map((c) => ({ name: c.name, frequency: c.frequency })) };
  const hooks: Record<string, unknown> = { ...quiesceHooks(spec), ...databaseHooks(spec, version) };
  if (spec.healthcheckUrl) hooks.healthchecks = { ping_url: spec.healthcheckUrl };

  if (version === "1.7") {
    retention.prefix = prefix;
    consistency.prefix = prefix;
    return { location, storage, retention, consistency, hooks };
  }
  // 1.8 dropped the sections and replaced `prefix` with `match_archives`.
  return { ...location, ...storage, match_archives: `sh:${prefix}*`, ...retention, ...consistency, ...hooks };
}

/** The config file's text: a header saying where it comes from, then the YAML. */
export function renderBorgmaticConfig(input: AgentSpec | ResolvedAgentSpec, version: BorgmaticVersion): string {
  const spec = resolved(input);
  const header = [
    `# borgmatic ${version} config of the homelab-backup agent "${spec.name}"${spec.service ? ` (service ${spec.service})` : ""}.`,
    "# Written by Pulumi: edits here are overwritten. Secrets come from secrets.env beside it;",
    `# run borgmatic through ${spec.layout.scriptPath}, which loads them.`,
  ].join("\n");
  return `${header}\n${stringify(borgmaticConfigObject(spec, version), { lineWidth: 0 })}`;
}
