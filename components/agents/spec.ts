/**
 * The plain, typed description of one host's backup agent: what borgmatic backs up there, where
 * to, how long it keeps it and when it runs. Every generator in this folder is a pure function of
 * an `AgentSpec` (and the borgmatic version), so the config, units and scripts are tested without
 * Pulumi, and the component only ships their output to the host.
 */
import type { CalendarEvent } from "../../config/calendar";

/** borgmatic config syntax: "1.7" (Debian 12) has sections; "1.8" is flat (1.8.2 up to 1.9.x). */
export type BorgmaticVersion = "1.7" | "1.8";
export const BORGMATIC_VERSIONS: readonly BorgmaticVersion[] = ["1.7", "1.8"];

/** Encrypted borg modes only: the strategy says all backups are encrypted at rest. */
export type EncryptionMode = "repokey-blake2" | "repokey" | "keyfile-blake2" | "keyfile";
export const ENCRYPTION_MODES: readonly EncryptionMode[] = ["repokey-blake2", "repokey", "keyfile-blake2", "keyfile"];

export type DatabaseKind = "postgresql" | "mariadb" | "mysql" | "mongodb";
export type CheckName = "repository" | "archives" | "data" | "extract";

/** The host the agent runs on and how Pulumi reaches it. */
export interface AgentHost {
  /** Host name; names the units, paths and archives (`<name>-<timestamp>`). Lowercase letters, digits, `-`. */
  name: string;
  /** Address the SSH connection dials. */
  address: string;
  /** SSH login; commands go through `sudo -n` unless it is root. @default "root" */
  sshUser?: string;
  /** @default 22 */
  sshPort?: number;
}

/** Where the archives go. */
export interface AgentRepository {
  /** borg repository: a local path or `ssh://user@host[:port]/path` (e.g. on the TrueNAS). */
  url: string;
  /** borg encryption mode for `init`. @default "repokey-blake2" */
  encryption?: EncryptionMode;
  /** Private key on the host that borg's SSH uses for an `ssh://` repository. @default ssh's own defaults */
  sshIdentityFile?: string;
  /**
   * known_hosts line(s) of the repository server. Given, the host key is pinned (strict checking
   * against this file only); absent, the first key seen is trusted (accept-new).
   */
  knownHosts?: string;
  /** borg executable on the repository server, when it is not `borg` on its PATH. */
  remotePath?: string;
}

/** A database dumped by borgmatic's native hook (consistent dump, restorable with `borgmatic restore`). */
export interface AgentDatabase {
  kind: DatabaseKind;
  /** Database name, or "all" for every database on the server. */
  name: string;
  /** Server address; absent, the client's default (a local Unix socket for PostgreSQL and MariaDB). */
  hostname?: string;
  port?: number;
  username?: string;
  /**
   * Key into the component's `databasePasswords`. The password reaches the host only inside the
   * secrets file; the config names it as an environment variable (`${HOMELAB_DB_PASSWORD_<REF>}`).
   */
  passwordSecretRef?: string;
}

/** A container whose named volumes are backed up. */
export interface AgentDockerContainer {
  container: string;
  /** Named volumes, backed up at `<dockerRoot>/volumes/<volume>/_data`. */
  volumes: string[];
  /** Stop the container while the archive is created (consistent files) and start it again after, also on failure. */
  stopDuringBackup: boolean;
}

/** borg prune's keep counts; 0 or absent keeps none of that kind. */
export interface AgentRetention {
  keepHourly?: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  keepYearly?: number;
}

/** A borgmatic consistency check and how often it runs at most ("2 weeks", "1 month", "always"). */
export interface AgentCheck {
  name: CheckName;
  frequency: string;
}

/** Where the agent's files live on the host. Defaults suit a Debian host; tests point them into temp dirs. */
export interface AgentLayout {
  /** Holds `config.yaml`, `secrets.env` and `known_hosts`. @default `/etc/homelab-backup/<name>` */
  configDir: string;
  /** The agent's entry point (runs borgmatic, quiesces containers). @default `/usr/local/sbin/homelab-backup-<name>` */
  scriptPath: string;
  /** @default "/etc/systemd/system" */
  unitDir: string;
  /** borgmatic's own directory: database dump pipes, check timestamps. @default `/var/lib/homelab-backup/<name>` */
  stateDir: string;
  /** Which containers the agent stopped, so every exit path starts exactly those again. @default "/run/homelab-backup" */
  runDir: string;
}

/** Everything one host's agent does. Plain data (no Pulumi Inputs): it decides which resources and files exist. */
export interface AgentSpec {
  host: AgentHost;
  /** The strategy's service whose tier sets schedule and retention; for descriptions. */
  service?: string;
  repository: AgentRepository;
  /** Absolute paths to back up (e.g. /etc, /opt/stacks, /etc/ssl). @default [] */
  sources?: string[];
  /**
   * borg exclude patterns, added to {@link DEFAULT_EXCLUDES} (what the strategy does not back up).
   * Directories holding a `.nobackup` file or a CACHEDIR.TAG are skipped as well. @default []
   */
  excludes?: string[];
  /** @default [] */
  databases?: AgentDatabase[];
  /** @default [] */
  docker?: AgentDockerContainer[];
  /** Docker's data root on the host. @default "/var/lib/docker" */
  dockerRoot?: string;
  retention: AgentRetention;
  /** @default {@link DEFAULT_CHECKS} */
  checks?: AgentCheck[];
  /** When the timer fires: the service's calendar event; its `source` becomes `OnCalendar=`. */
  schedule: CalendarEvent;
  /** healthchecks-style ping URL: borgmatic pings `<url>/start`, `<url>` and `<url>/fail`. */
  healthcheckUrl?: string;
  /** A run still going after this many hours is stopped (and counts as failed). @default 12 */
  maxRunHours?: number;
  /** @default {@link defaultLayout} */
  layout?: Partial<AgentLayout>;
}

/**
 * The strategy's "not backed up" list as borg patterns: temporary files, cache directories and
 * ISO images. Re-downloadable content has no pattern; mark it with a `.nobackup` file or add
 * its path to `excludes`.
 */
export const DEFAULT_EXCLUDES: readonly string[] = ["/tmp", "/var/tmp", "/var/cache", "*/.cache", "*.tmp", "*.iso"];

/** The strategy's weekly integrity check and monthly restore test, as borgmatic checks. */
export const DEFAULT_CHECKS: readonly AgentCheck[] = [
  { name: "repository", frequency: "1 week" },
  { name: "archives", frequency: "1 week" },
  { name: "extract", frequency: "1 month" },
  { name: "data", frequency: "1 month" },
];

export const DEFAULT_DOCKER_ROOT = "/var/lib/docker";

/** The spec with every default applied; what the generators read. */
export interface ResolvedAgentSpec {
  name: string;
  host: Required<AgentHost>;
  service?: string;
  repository: Required<Pick<AgentRepository, "url" | "encryption">> & Omit<AgentRepository, "url" | "encryption">;
  sources: string[];
  excludes: string[];
  databases: AgentDatabase[];
  docker: AgentDockerContainer[];
  dockerRoot: string;
  retention: AgentRetention;
  checks: AgentCheck[];
  schedule: CalendarEvent;
  healthcheckUrl?: string;
  maxRunHours: number;
  layout: AgentLayout;
}

export function defaultLayout(name: string): AgentLayout {
  return {
    configDir: `/etc/homelab-backup/${name}`,
    scriptPath: `/usr/local/sbin/homelab-backup-${name}`,
    unitDir: "/etc/systemd/system",
    stateDir: `/var/lib/homelab-backup/${name}`,
    runDir: "/run/homelab-backup",
  };
}

/** Thrown for an invalid spec; the message lists every problem, one per line. */
export class AgentSpecError extends Error {
  constructor(
    readonly agent: string,
    readonly problems: readonly string[],
  ) {
    super(`agent ${agent}: ${problems.length === 1 ? problems[0] : "\n  " + problems.join("\n  ")}`);
    this.name = "AgentSpecError";
  }
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CONTAINER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SECRET_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const FREQUENCY = /^(always|[1-9][0-9]* (second|minute|hour|day|week|month|year)s?)$/;
const CHECK_NAMES: readonly CheckName[] = ["repository", "archives", "data", "extract"];
const KINDS: readonly DatabaseKind[] = ["postgresql", "mariadb", "mysql", "mongodb"];

/**
 * Whether a borg exclude pattern covers a path: fnmatch style (borg's default for excludes,
 * where `*` also matches `/`) or `sh:` style, matching the path or any directory above it.
 * Other styles (`re:`, `pp:`, `pf:`) are checked as path prefixes, which is close enough to catch
 * the state dir being excluded.
 */
export function excludeMatches(pattern: string, path: string): boolean {
  // Every agent is resolved several times (validation, agent, restore test) with the same
  // excludes: each pattern is compiled and tried once per path.
  const key = `${pattern}\0${path}`;
  let matches = excludeResults.get(key);
  if (matches === undefined) {
    matches = computeExcludeMatches(pattern, path);
    if (excludeResults.size >= 4096) excludeResults.clear();
    excludeResults.set(key, matches);
  }
  return matches;
}

const excludeResults = new Map<string, boolean>();

function computeExcludeMatches(pattern: string, path: string): boolean {
  const candidates: string[] = [];
  const parts = path.split("/");
  for (let i = 2; i <= parts.length; i++) candidates.push(parts.slice(0, i).join("/"));
  const style = /^(fm|sh|re|pp|pf):/.exec(pattern)?.[1] ?? "fm";
  const body = pattern.replace(/^(fm|sh|re|pp|pf):/, "");
  if (style === "re") {
    try {
      const regex = new RegExp(body);
      return candidates.some((c) => regex.test(c.replace(/^\//, "")));
    } catch {
      return false;
    }
  }
  if (style === "pp" || style === "pf") return candidates.some((c) => c === body.replace(/\/+$/, ""));
  let source = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (style === "sh" && body.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (ch === "*") source += style === "sh" ? "[^/]*" : ".*";
    else if (ch === "?") source += style === "sh" ? "[^/]" : ".";
    else if (ch === "[") {
      const end = body.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${body.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  const regex = new RegExp(`^/?${source.replace(/^\//, "")}/?$`);
  return candidates.some((c) => regex.test(c.replace(/^\//, "")) || regex.test(c));
}

/** Environment variable that carries a database password from the secrets file into the config. */
export function passwordEnvName(ref: string): string {
  return `HOMELAB_DB_PASSWORD_${ref.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Path of a named Docker volume's data on the host. */
export function volumePath(dockerRoot: string, volume: string): string {
  return `${dockerRoot.replace(/\/+$/, "")}/volumes/${volume}/_data`;
}

/** Config paths and unit names derived from the layout. */
export function agentFiles(spec: ResolvedAgentSpec) {
  const { configDir, unitDir } = spec.layout;
  const unit = `homelab-backup-${spec.name}`;
  return {
    config: `${configDir}/config.yaml`,
    secrets: `${configDir}/secrets.env`,
    knownHosts: `${configDir}/known_hosts`,
    script: spec.layout.scriptPath,
    serviceUnit: `${unit}.service`,
    timerUnit: `${unit}.timer`,
    servicePath: `${unitDir}/${unit}.service`,
    timerPath: `${unitDir}/${unit}.timer`,
    stoppedFile: `${spec.layout.runDir}/${spec.name}.stopped`,
  };
}

/**
 * Applies defaults and checks everything the generators rely on, reporting all problems at once.
 * @throws AgentSpecError
 */
export function resolveAgentSpec(spec: AgentSpec): ResolvedAgentSpec {
  const name = spec.host?.name ?? "";
  const problems: string[] = [];
  const text = (what: string, value: string) => {
    // borgmatic 1.7+ substitutes ${VAR} anywhere in the config; user text must never be read as one.
    if (value.includes("${")) problems.push(`${what} ${JSON.stringify(value)} contains "\${", which borgmatic reads as an environment variable`);
    if (/[\n\r\0]/.test(value)) problems.push(`${what} ${JSON.stringify(value)} contains a line break or NUL`);
  };
  const absolute = (what: string, value: string) => {
    text(what, value);
    if (!value.startsWith("/")) problems.push(`${what} ${JSON.stringify(value)} is not an absolute path`);
  };

  if (!NAME.test(name)) problems.push(`host.name ${JSON.stringify(name)} is invalid; expected lowercase letters, digits and "-" (it names units and files)`);
  if (!spec.host?.address) problems.push("host.address is empty; expected the address SSH dials");
  else text("host.address", spec.host.address);
  const sshUser = spec.host?.sshUser ?? "root";
  if (!/^[a-z_][a-z0-9_-]*$/.test(sshUser)) problems.push(`host.sshUser ${JSON.stringify(sshUser)} is not a user name`);
  const sshPort = spec.host?.sshPort ?? 22;
  if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535) problems.push(`host.sshPort ${sshPort} is not a port from 1 to 65535`);

  const repo = spec.repository ?? { url: "" };
  if (!repo.url || /\s/.test(repo.url)) problems.push(`repository.url ${JSON.stringify(repo.url)} is invalid; expected a path or ssh://user@host/path without spaces`);
  else text("repository.url", repo.url);
  const encryption = repo.encryption ?? "repokey-blake2";
  if (!ENCRYPTION_MODES.includes(encryption)) problems.push(`repository.encryption ${JSON.stringify(encryption)} is not one of ${ENCRYPTION_MODES.join(", ")} (backups are always encrypted)`);
  if (repo.sshIdentityFile !== undefined) absolute("repository.sshIdentityFile", repo.sshIdentityFile);
  if (repo.remotePath !== undefined) text("repository.remotePath", repo.remotePath);
  if (repo.knownHosts !== undefined && (repo.knownHosts.includes("${") || repo.knownHosts.trim() === "")) {
    problems.push("repository.knownHosts is empty or contains \"${\"; expected known_hosts lines");
  }

  const sources = spec.sources ?? [];
  sources.forEach((s, i) => absolute(`sources[${i}]`, s));
  const excludes = [...DEFAULT_EXCLUDES];
  for (const [i, e] of (spec.excludes ?? []).entries()) {
    text(`excludes[${i}]`, e);
    if (e.trim() === "") problems.push(`excludes[${i}] is empty`);
    if (!excludes.includes(e)) excludes.push(e);
  }

  const databases = spec.databases ?? [];
  const envOwners = new Map<string, string>();
  databases.forEach((db, i) => {
    const at = `databases[${i}]`;
    if (!KINDS.includes(db.kind)) problems.push(`${at}.kind ${JSON.stringify(db.kind)} is not one of ${KINDS.join(", ")}`);
    if (!db.name) problems.push(`${at}.name is empty; expected a database name or "all"`);
    else text(`${at}.name`, db.name);
    if (db.hostname !== undefined) text(`${at}.hostname`, db.hostname);
    if (db.username !== undefined) text(`${at}.username`, db.username);
    if (db.port !== undefined && (!Number.isInteger(db.port) || db.port < 1 || db.port > 65535)) problems.push(`${at}.port ${db.port} is not a port from 1 to 65535`);
    if (db.passwordSecretRef !== undefined) {
      if (!SECRET_REF.test(db.passwordSecretRef)) problems.push(`${at}.passwordSecretRef ${JSON.stringify(db.passwordSecretRef)} is invalid; expected letters, digits, "_", "." or "-"`);
      const env = passwordEnvName(db.passwordSecretRef);
      const owner = envOwners.get(env);
      if (owner !== undefined && owner !== db.passwordSecretRef) problems.push(`${at}.passwordSecretRef ${JSON.stringify(db.passwordSecretRef)} and ${JSON.stringify(owner)} both map to ${env}; rename one`);
      envOwners.set(env, db.passwordSecretRef);
    }
  });
  const dumpKeys = new Set<string>();
  databases.forEach((db, i) => {
    // borgmatic names each dump by kind, host and database: two entries with the same triple would share a dump.
    const key = `${db.kind === "mysql" ? "mariadb" : db.kind}|${db.hostname ?? ""}|${db.name}`;
    if (dumpKeys.has(key)) problems.push(`databases[${i}] dumps ${db.kind} database ${JSON.stringify(db.name)} on ${db.hostname ?? "localhost"} twice`);
    dumpKeys.add(key);
  });

  const docker = spec.docker ?? [];
  const containers = new Set<string>();
  docker.forEach((d, i) => {
    if (!CONTAINER.test(d.container)) problems.push(`docker[${i}].container ${JSON.stringify(d.container)} is not a container name`);
    if (containers.has(d.container)) problems.push(`docker[${i}].container ${JSON.stringify(d.container)} is listed twice`);
    containers.add(d.container);
    if (!d.volumes || d.volumes.length === 0) problems.push(`docker[${i}].volumes is empty; expected the container's named volumes`);
    (d.volumes ?? []).forEach((v, j) => {
      if (!CONTAINER.test(v)) problems.push(`docker[${i}].volumes[${j}] ${JSON.stringify(v)} is not a volume name`);
    });
  });
  const dockerRoot = spec.dockerRoot ?? DEFAULT_DOCKER_ROOT;
  absolute("dockerRoot", dockerRoot);

  if (sources.length === 0 && databases.length === 0 && docker.length === 0) {
    problems.push("nothing to back up; expected sources, databases or docker volumes");
  }

  const r = spec.retention ?? ({} as AgentRetention);
  const keeps: [string, number | undefined][] = [
    ["keepHourly", r.keepHourly],
    ["keepDaily", r.keepDaily],
    ["keepWeekly", r.keepWeekly],
    ["keepMonthly", r.keepMonthly],
    ["keepYearly", r.keepYearly],
  ];
  for (const [key, value] of keeps) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) problems.push(`retention.${key} ${value} is not a whole number >= 0`);
  }
  if (!keeps.some(([, v]) => (v ?? 0) > 0)) problems.push("retention keeps nothing; expected at least one keep count above 0 (prune would delete every archive)");

  const checks = spec.checks ?? [...DEFAULT_CHECKS];
  const seen = new Set<string>();
  checks.forEach((c, i) => {
    if (!CHECK_NAMES.includes(c.name)) problems.push(`checks[${i}].name ${JSON.stringify(c.name)} is not one of ${CHECK_NAMES.join(", ")}`);
    if (seen.has(c.name)) problems.push(`checks[${i}].name ${JSON.stringify(c.name)} is listed twice`);
    seen.add(c.name);
    if (!FREQUENCY.test(c.frequency)) problems.push(`checks[${i}].frequency ${JSON.stringify(c.frequency)} is invalid; expected "always" or a number and a unit, such as "2 weeks" or "1 month"`);
  });

  if (!spec.schedule || typeof spec.schedule.source !== "string" || spec.schedule.source.trim() === "") {
    problems.push("schedule is missing; expected a parsed calendar event (parseCalendarEvent)");
  } else text("schedule.source", spec.schedule.source);

  if (spec.healthcheckUrl !== undefined) {
    text("healthcheckUrl", spec.healthcheckUrl);
    if (!/^https?:\/\/[^\s/]+/.test(spec.healthcheckUrl)) problems.push(`healthcheckUrl ${JSON.stringify(spec.healthcheckUrl)} is not an http(s) URL`);
  }

  const maxRunHours = spec.maxRunHours ?? 12;
  if (!Number.isInteger(maxRunHours) || maxRunHours < 1) problems.push(`maxRunHours ${maxRunHours} is not a whole number of hours >= 1`);

  const layout = { ...defaultLayout(name), ...spec.layout };
  for (const [key, value] of Object.entries(layout)) absolute(`layout.${key}`, value);
  // Database dumps stream through named pipes in the state dir. Should an exclude cover them, borg
  // skips the pipes and borgmatic waits for the dumps forever: a hung backup, not a failed one.
  const dumpPath = `${layout.stateDir}/postgresql_databases/localhost/db`;
  for (const pattern of excludes) {
    if (excludeMatches(pattern, dumpPath)) problems.push(`exclude ${JSON.stringify(pattern)} covers the state dir ${layout.stateDir}, where database dumps stream through; move layout.stateDir or narrow the pattern`);
  }

  if (problems.length > 0) throw new AgentSpecError(name || "(unnamed)", problems);
  const out: ResolvedAgentSpec = {
    name,
    host: { name, address: spec.host.address, sshUser, sshPort },
    ...(spec.service !== undefined ? { service: spec.service } : {}),
    repository: { ...repo, encryption },
    sources: [...sources],
    excludes,
    databases: databases.map((d) => ({ ...d })),
    docker: docker.map((d) => ({ ...d, volumes: [...d.volumes] })),
    dockerRoot,
    retention: { ...r },
    checks: checks.map((c) => ({ ...c })),
    schedule: spec.schedule,
    ...(spec.healthcheckUrl !== undefined ? { healthcheckUrl: spec.healthcheckUrl } : {}),
    maxRunHours,
    layout,
  };
  RESOLVED.add(out);
  return out;
}

const RESOLVED = new WeakSet<ResolvedAgentSpec>();

/** The resolved spec: as given when it came from {@link resolveAgentSpec}, else resolved now. */
export function resolved(input: AgentSpec | ResolvedAgentSpec): ResolvedAgentSpec {
  return RESOLVED.has(input as ResolvedAgentSpec) ? (input as ResolvedAgentSpec) : resolveAgentSpec(input as AgentSpec);
}

/** Password references the spec's databases use, each once, in order. */
export function passwordRefs(spec: ResolvedAgentSpec): string[] {
  const refs: string[] = [];
  for (const db of spec.databases) if (db.passwordSecretRef !== undefined && !refs.includes(db.passwordSecretRef)) refs.push(db.passwordSecretRef);
  return refs;
}
