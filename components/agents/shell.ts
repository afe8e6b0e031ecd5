/**
 * Shell quoting and file-writing helpers for the scripts the agent runs on its host. Everything
 * the remote commands carry is built here, so quoting has one implementation to test.
 */
import * as crypto from "node:crypto";

/** Quotes a value for POSIX sh (and bash): single quotes, with `'` written as `'\''`. */
export function shellQuote(value: string): string {
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const digests = new Map<string, string>();
// Node 20.12+: a one-shot hash, a third of createHash's cost on the short texts most scripts are.
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;

/**
 * Hex SHA-256 of a text, for content markers and heredoc delimiters. Every host gets the same
 * scripts, so the digests of recent texts are kept (a bounded set: a plan holds a few hundred).
 */
export function sha256(text: string): string {
  let digest = digests.get(text);
  if (digest === undefined) {
    digest = oneShot ? oneShot("sha256", text) : crypto.createHash("sha256").update(text).digest("hex");
    if (digests.size >= 1024) digests.clear();
    digests.set(text, digest);
  }
  return digest;
}

/**
 * A script fragment that writes `content` to `path` atomically (temp file, then rename) with the
 * given mode. A quoted heredoc keeps the content readable in the plan; its delimiter carries a
 * hash of the content, so no line of the content can end the heredoc early.
 */
export function writeFileScript(path: string, content: string, mode: string): string {
  const body = content.endsWith("\n") ? content : `${content}\n`;
  const delimiter = `HOMELAB_BACKUP_EOF_${sha256(body).slice(0, 16)}`;
  // A line of the body equal to the delimiter; the body ends with a newline.
  if (`\n${body}`.includes(`\n${delimiter}\n`)) throw new Error(`content for ${path} contains its own heredoc delimiter`);
  const tmp = `${path}.new`;
  return [
    `cat > ${shellQuote(tmp)} <<'${delimiter}'`,
    body + delimiter,
    `chmod ${mode} ${shellQuote(tmp)}`,
    `mv -f ${shellQuote(tmp)} ${shellQuote(path)}`,
  ].join("\n");
}

/**
 * Runs a script as root: as is for root logins, otherwise through `sudo -n` (never prompting, so
 * a missing sudo rule fails the command instead of hanging `pulumi up`). Standard input passes
 * through sudo, which the secrets step relies on.
 */
export function asRoot(script: string, sshUser: string): string {
  if (sshUser === "root") return script;
  return `sudo -n bash -c ${shellQuote(script)}`;
}
