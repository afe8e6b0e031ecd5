/**
 * The shell scripts the component runs on the host over SSH, one per step. Each is idempotent
 * (safe to re-run on every change) and POSIX sh, run by the login shell of the SSH user (through
 * `sudo -n` for non-root users, see `asRoot`). None contains a secret: secrets travel only on
 * the standard input of {@link secretsScript}.
 */
import { borgmaticCommands, borgSshCommand, renderBorgmaticConfig } from "./borgmatic-config";
import { renderQuiesceScript } from "./quiesce";
import { shellQuote, sha256, writeFileScript } from "./shell";
import {
  agentFiles,
  passwordEnvName,
  passwordRefs,
  resolved,
  type AgentSpec,
  type BorgmaticVersion,
  type DatabaseKind,
  type ResolvedAgentSpec,
} from "./spec";
import { renderSystemdUnits } from "./systemd";

/** Debian packages of the dump/restore clients borgmatic's hooks call. MongoDB's tools are not in Debian. */
const CLIENT_PACKAGES: Record<DatabaseKind, string | undefined> = {
  postgresql: "postgresql-client",
  mariadb: "mariadb-client",
  mysql: "default-mysql-client",
  mongodb: undefined,
};

/** Which borgmatic releases write each config syntax (what `borgmatic --version` must print). */
const VERSION_PATTERN: Record<BorgmaticVersion, string> = {
  "1.7": "1.7.*",
  "1.8": "1.8.* | 1.9.*",
};

/** Packages the host needs: borgmatic, borg and the clients of the spec's databases. */
export function agentPackages(input: AgentSpec | ResolvedAgentSpec): string[] {
  const spec = resolved(input);
  const out = ["borgmatic", "borgbackup"];
  for (const db of spec.databases) {
    const pkg = CLIENT_PACKAGES[db.kind];
    if (pkg && !out.includes(pkg)) out.push(pkg);
  }
  return out;
}

/**
 * Installs borgmatic, borg and the database clients from the host's packages, when missing, and
 * refuses a borgmatic whose config syntax differs from `version`.
 */
export function installCommands(input: AgentSpec | ResolvedAgentSpec, version: BorgmaticVersion): string {
  const spec = resolved(input);
  const packages = agentPackages(spec);
  const lines = [
    "set -eu",
    "export DEBIAN_FRONTEND=noninteractive",
    `missing=""`,
    `for p in ${packages.join(" ")}; do`,
    `  dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"`,
    "done",
    `if [ -n "$missing" ]; then`,
    "  apt-get update -qq",
    "  apt-get install -y -qq $missing",
    "fi",
  ];
  if (spec.databases.some((d) => d.kind === "mongodb")) {
    lines.push(
      "command -v mongodump >/dev/null 2>&1 || { echo 'homelab-backup: mongodump/mongorestore are not installed; install the MongoDB Database Tools (not packaged by Debian)' >&2; exit 1; }",
    );
  }
  lines.push(
    `v=$(borgmatic --version)`,
    `case "$v" in`,
    `  ${VERSION_PATTERN[version]}) ;;`,
    `  *) echo "homelab-backup: borgmatic $v is installed but the agent writes ${version} config; set borgmaticVersion to match" >&2; exit 1 ;;`,
    "esac",
    // Debian enables its own borgmatic.timer, which runs /etc/borgmatic(.d) daily. With no config
    // there it only fails every night; a host that has its own config there keeps its timer.
    "if [ ! -e /etc/borgmatic/config.yaml ] && [ ! -d /etc/borgmatic.d ] && command -v systemctl >/dev/null 2>&1; then",
    "  systemctl disable --now borgmatic.timer >/dev/null 2>&1 || true",
    "fi",
  );
  return lines.join("\n");
}

/**
 * The secrets file (passphrase and database passwords) in shell syntax, which the agent's script
 * sources. Goes to the host only as the secret standard input of {@link secretsScript}.
 * @throws Error naming any password reference that has no value
 */
export function renderSecretsEnv(input: AgentSpec | ResolvedAgentSpec, passphrase: string, passwords: Record<string, string>): string {
  const spec = resolved(input);
  const refs = passwordRefs(spec);
  const missing = refs.filter((r) => passwords[r] === undefined);
  if (missing.length > 0) throw new Error(`agent ${spec.name}: no password given for ${missing.map((m) => JSON.stringify(m)).join(", ")}; expected databasePasswords to hold each passwordSecretRef`);
  if (passphrase === "") throw new Error(`agent ${spec.name}: the repository passphrase is empty`);
  const lines = ["# homelab-backup agent secrets, written by Pulumi.", `BORG_PASSPHRASE=${shellQuote(passphrase)}`];
  for (const ref of refs) lines.push(`${passwordEnvName(ref)}=${shellQuote(passwords[ref] as string)}`);
  return lines.join("\n") + "\n";
}

/** Writes the secrets file from standard input, readable by root only. */
export function secretsScript(input: AgentSpec | ResolvedAgentSpec): string {
  const spec = resolved(input);
  const files = agentFiles(spec);
  return [
    "set -eu",
    "umask 077",
    `install -d -m 0700 ${shellQuote(spec.layout.configDir)}`,
    `cat > ${shellQuote(files.secrets + ".new")}`,
    `mv -f ${shellQuote(files.secrets + ".new")} ${shellQuote(files.secrets)}`,
  ].join("\n");
}

/** What the deploy step writes, path by path, with modes. */
export function agentFileContents(input: AgentSpec | ResolvedAgentSpec, version: BorgmaticVersion): { path: string; mode: string; content: string }[] {
  const spec = resolved(input);
  const files = agentFiles(spec);
  const units = renderSystemdUnits(spec);
  const out = [
    { path: files.config, mode: "0600", content: renderBorgmaticConfig(spec, version) },
    { path: files.script, mode: "0700", content: renderQuiesceScript(spec) },
    { path: files.servicePath, mode: "0644", content: units.service },
    { path: files.timerPath, mode: "0644", content: units.timer },
  ];
  if (spec.repository.knownHosts) out.push({ path: files.knownHosts, mode: "0600", content: spec.repository.knownHosts.trim() + "\n" });
  return out;
}

/**
 * Writes the config, script and units, then enables the timer. The hash of everything written
 * heads the script, so the plan shows at a glance whether a host's agent changed.
 */
export function deployScript(input: AgentSpec | ResolvedAgentSpec, version: BorgmaticVersion): string {
  const spec = resolved(input);
  const files = agentFiles(spec);
  const contents = agentFileContents(spec, version);
  const hash = sha256(contents.map((f) => `${f.path}\0${f.mode}\0${f.content}`).join("\0"));
  const dirs = [...new Set(contents.map((f) => f.path.replace(/\/[^/]+$/, "")))];
  return [
    `# homelab-backup agent ${spec.name}, content ${hash.slice(0, 16)}`,
    "set -eu",
    "umask 022",
    `install -d -m 0700 ${shellQuote(spec.layout.configDir)} ${shellQuote(spec.layout.stateDir)}`,
    ...dirs.filter((d) => d !== spec.layout.configDir).map((d) => `install -d ${shellQuote(d)}`),
    ...contents.map((f) => writeFileScript(f.path, f.content, f.mode)),
    "systemctl daemon-reload",
    `systemctl enable --now ${files.timerUnit}`,
  ].join("\n");
}

/** Creates the repository unless it exists; borgmatic checks first, and borg refuses to init over an existing one. */
export function initRepositoryScript(input: AgentSpec | ResolvedAgentSpec, version: BorgmaticVersion): string {
  const spec = resolved(input);
  const files = agentFiles(spec);
  return ["set -eu", `${shellQuote(files.script)} ${borgmaticCommands(version).init} --encryption ${spec.repository.encryption}`].join("\n");
}

/**
 * Prints the repository key (`borg key export`), which with the passphrase is what a restore
 * needs when the host and its repository key copy are gone (keyfile modes keep the key only on
 * the host).
 */
export function keyExportScript(input: AgentSpec | ResolvedAgentSpec): string {
  const spec = resolved(input);
  const files = agentFiles(spec);
  const ssh = borgSshCommand(spec);
  return [
    "set -eu",
    "set -a",
    `. ${shellQuote(files.secrets)}`,
    "set +a",
    ...(ssh ? [`export BORG_RSH=${shellQuote(ssh)}`] : []),
    ...(spec.repository.remotePath ? [`export BORG_REMOTE_PATH=${shellQuote(spec.repository.remotePath)}`] : []),
    `borg key export ${shellQuote(spec.repository.url)}`,
  ].join("\n");
}

/** Removing an agent stops its schedule and nothing else: config, script and repository stay for restores. */
export function disableScript(input: AgentSpec | ResolvedAgentSpec): string {
  const spec = resolved(input);
  const files = agentFiles(spec);
  return [
    "set -eu",
    `if [ -e ${shellQuote(files.timerPath)} ]; then`,
    `  systemctl disable --now ${files.timerUnit}`,
    "fi",
  ].join("\n");
}
