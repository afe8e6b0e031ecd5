/**
 * The steps every monitoring component runs on its hosts over SSH: install the tools the scripts
 * call, write the root-only secrets file from standard input, write the generated files. Each is
 * idempotent POSIX sh, and none carries a secret: secrets only travel on the secrets step's stdin.
 */
import { sha256, shellQuote, writeFileScript } from "../agents/shell";

export interface HostFile {
  readonly path: string;
  /** Octal, as chmod takes it. */
  readonly mode: string;
  readonly content: string;
}

/** Installs the Debian packages whose commands are missing, and nothing else. */
export function installPackagesScript(packages: Record<string, string>): string {
  const pairs = Object.entries(packages);
  return [
    "set -eu",
    "export DEBIAN_FRONTEND=noninteractive",
    `missing=""`,
    // By command, not by package: a host whose curl comes from elsewhere needs nothing installed.
    ...pairs.map(([cmd, pkg]) => `command -v ${shellQuote(cmd)} >/dev/null 2>&1 || missing="$missing ${pkg}"`),
    `if [ -n "$missing" ]; then`,
    "  apt-get update -qq",
    "  apt-get install -y -qq --no-install-recommends $missing",
    "fi",
  ].join("\n");
}

/** Writes standard input to `path`, readable by root only, atomically. */
export function secretsFileScript(path: string): string {
  const dir = path.replace(/\/[^/]+$/, "") || "/";
  return [
    "set -eu",
    "umask 077",
    `install -d -m 0700 ${shellQuote(dir)}`,
    `cat > ${shellQuote(`${path}.new`)}`,
    `mv -f ${shellQuote(`${path}.new`)} ${shellQuote(path)}`,
  ].join("\n");
}

/** Removes the secrets file: monitoring credentials protect no data, so nothing keeps them. */
export function removeSecretsScript(path: string): string {
  return ["set -eu", `rm -f ${shellQuote(path)} ${shellQuote(`${path}.new`)}`].join("\n");
}

/**
 * Writes the files with their modes, then runs `after` (daemon-reload, enabling timers, the hook's
 * entry points). A hash of the files heads the script, so the plan shows at a glance whether a
 * host's files changed; what `after` does is in the script itself.
 */
export function deployFilesScript(label: string, files: readonly HostFile[], after: readonly string[] = []): string {
  const { hash, body } = deployFilesBody(files, after);
  return `# ${label}, content ${hash.slice(0, 16)}\n${body}`;
}

/**
 * The same files go to every node (a hook with an entry point per service, on twenty nodes):
 * the body is built once per list of files (lists are built once and never changed) and reused.
 */
const bodies = new WeakMap<readonly HostFile[], Map<string, { hash: string; body: string }>>();

function deployFilesBody(files: readonly HostFile[], after: readonly string[]): { hash: string; body: string } {
  const byAfter = bodies.get(files) ?? new Map<string, { hash: string; body: string }>();
  bodies.set(files, byAfter);
  const key = after.join("\0");
  const known = byAfter.get(key);
  if (known) return known;
  const hash = sha256(files.map((f) => `${f.path}\0${f.mode}\0${f.content}`).join("\0"));
  const dirs = [...new Set(files.map((f) => f.path.replace(/\/[^/]+$/, "")))];
  const body = [
    "set -eu",
    "umask 022",
    ...dirs.map((d) => `install -d ${shellQuote(d)}`),
    ...files.map((f) => writeFileScript(f.path, f.content, f.mode)),
    ...after,
  ].join("\n");
  const built = { hash, body };
  byAfter.set(key, built);
  return built;
}
