/**
 * `homelab-backup-notify <info|warning|error> <title> <body>`: the one command every generated
 * script (checks, the vzdump hook, other engineers' scripts) calls to reach people. The targets
 * are baked into the script; their secrets are read from a root-only env file, and reach curl as
 * a config file on standard input, so they appear neither in the script nor in the process list.
 */
import { shellQuote } from "../agents/shell";
import { MonitoringArgsError, checkName } from "./connection";

export type Severity = "info" | "warning" | "error";
export const SEVERITIES: readonly Severity[] = ["info", "warning", "error"];

/** The command path and argument order other scripts rely on. */
export const NOTIFY_COMMAND = "/usr/local/sbin/homelab-backup-notify";
export const NOTIFY_ENV_FILE = "/etc/homelab-backup/notify.env";

interface TargetBase {
  /** Unique among the targets; names the target in logs and its secret's variable. */
  name: string;
  /** Messages below this severity skip the target (mail for errors only, say). @default "info" */
  minSeverity?: Severity;
}

/** Gotify: `POST <server>/message`, the application token in the `X-Gotify-Key` header. */
export interface GotifyTarget extends TargetBase {
  type: "gotify";
  /** Base URL of the Gotify server; https only, the token must not travel in clear. */
  server: string;
  /** CA bundle on the host for a private CA. @default the system's trust store */
  caFile?: string;
}

/**
 * A JSON webhook. "ntfy" publishes with ntfy's JSON API (`POST` to the server root with the
 * URL's path as the topic, priority and tags); "json" posts `{severity, title, message, host,
 * source}` to the URL as given, for anything else that takes JSON.
 */
export interface WebhookTarget extends TargetBase {
  type: "webhook";
  url: string;
  /** @default "ntfy" */
  format?: "ntfy" | "json";
  /** CA bundle on the host for a private CA. @default the system's trust store */
  caFile?: string;
}

/**
 * Mail through the host's own MTA (`sendmail`, which PVE and PBS set up for their own mail).
 * Server, port and credentials of the config's smtp target are the MTA's business, not the
 * script's; without a sendmail the script says that mail is not available.
 */
export interface SmtpTarget extends TargetBase {
  type: "smtp";
  from: string;
  mailto: string[];
}

export type NotifyTarget = GotifyTarget | WebhookTarget | SmtpTarget;

export interface NotifyLayout {
  /** @default NOTIFY_COMMAND */
  scriptPath: string;
  /** @default NOTIFY_ENV_FILE */
  envFile: string;
}

export const DEFAULT_NOTIFY_LAYOUT: NotifyLayout = { scriptPath: NOTIFY_COMMAND, envFile: NOTIFY_ENV_FILE };

/** Which secret each target reads from the env file, if any. */
export function secretEnvName(target: NotifyTarget): string | undefined {
  const id = target.name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  if (target.type === "gotify") return `GOTIFY_TOKEN_${id}`;
  if (target.type === "webhook") return `WEBHOOK_TOKEN_${id}`;
  return undefined;
}

const URL_SAFE = /^https?:\/\/[^\s/@'"\\`$]+(\/[^\s'"\\`$#]*)?$/;
const EMAIL = /^[^\s@,<>'"\\]+@[^\s@,<>'"\\]+$/;
const PATH = /^\/[^\s'"\\`$]*$/;

/**
 * Checks the targets and which of them have secrets.
 * @throws MonitoringArgsError listing every problem
 */
export function validateTargets(targets: NotifyTarget[], secretNames: { gotify: string[]; webhook: string[] }, component = "notifier"): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    const at = `targets[${i}]`;
    checkName(`${at}.name`, t.name, problems);
    if (seen.has(t.name)) problems.push(`${at}.name ${JSON.stringify(t.name)} is used twice`);
    seen.add(t.name);
    if (t.minSeverity !== undefined && !SEVERITIES.includes(t.minSeverity)) problems.push(`${at}.minSeverity ${JSON.stringify(t.minSeverity)} is not one of ${SEVERITIES.join(", ")}`);
    switch (t.type) {
      case "gotify":
        // The application token rides along with every message: https only.
        if (!URL_SAFE.test(t.server) || !t.server.startsWith("https://")) problems.push(`${at}.server ${JSON.stringify(t.server)} is invalid; expected an https:// URL without credentials`);
        if (!secretNames.gotify.includes(t.name)) problems.push(`${at}: gotify target ${JSON.stringify(t.name)} has no token; expected gotifyTokens[${JSON.stringify(t.name)}]`);
        if (t.caFile !== undefined && !PATH.test(t.caFile)) problems.push(`${at}.caFile ${JSON.stringify(t.caFile)} is not an absolute path`);
        break;
      case "webhook":
        if (!URL_SAFE.test(t.url)) problems.push(`${at}.url ${JSON.stringify(t.url)} is invalid; expected an http(s) URL without credentials`);
        else if (t.url.startsWith("http://") && secretNames.webhook.includes(t.name)) problems.push(`${at}.url ${JSON.stringify(t.url)} is plain http but the target has a token; expected https://`);
        if (t.format !== undefined && t.format !== "ntfy" && t.format !== "json") problems.push(`${at}.format ${JSON.stringify(t.format)} is not one of ntfy, json`);
        if ((t.format ?? "ntfy") === "ntfy" && URL_SAFE.test(t.url) && ntfyTopic(t.url).topic === "") problems.push(`${at}.url ${JSON.stringify(t.url)} names no ntfy topic; expected https://<server>/<topic>`);
        if (t.caFile !== undefined && !PATH.test(t.caFile)) problems.push(`${at}.caFile ${JSON.stringify(t.caFile)} is not an absolute path`);
        break;
      case "smtp":
        if (!EMAIL.test(t.from ?? "")) problems.push(`${at}.from ${JSON.stringify(t.from)} is not an e-mail address`);
        if (!Array.isArray(t.mailto) || t.mailto.length === 0) problems.push(`${at}.mailto is empty; expected at least one address`);
        else t.mailto.forEach((m, j) => EMAIL.test(m) || problems.push(`${at}.mailto[${j}] ${JSON.stringify(m)} is not an e-mail address`));
        break;
      default:
        problems.push(`${at}.type ${JSON.stringify((t as { type: unknown }).type)} is not one of gotify, webhook, smtp`);
    }
  });
  const envNames = new Map<string, string>();
  for (const t of targets) {
    const env = secretEnvName(t);
    if (env === undefined) continue;
    const other = envNames.get(env);
    // "a-b" and "a_b" would read the same variable, and one target the other's token.
    if (other !== undefined) problems.push(`targets ${JSON.stringify(other)} and ${JSON.stringify(t.name)} both keep their secret in ${env}; rename one`);
    envNames.set(env, t.name);
  }
  for (const [kind, names] of Object.entries(secretNames)) {
    for (const n of names) if (!targets.some((t) => t.type === kind && t.name === n)) problems.push(`${kind}Tokens[${JSON.stringify(n)}] names no ${kind} target`);
  }
  if (problems.length > 0) throw new MonitoringArgsError(component, problems);
}

/** ntfy publishes JSON to the server root with the topic in the body. */
export function ntfyTopic(url: string): { root: string; topic: string } {
  const u = new URL(url);
  return { root: `${u.protocol}//${u.host}/`, topic: u.pathname.replace(/^\/+|\/+$/g, "") };
}

/**
 * The env file's text (shell syntax, sourced by the script). Goes to hosts only as the secret
 * standard input of the secrets step.
 */
export function renderNotifyEnv(targets: NotifyTarget[], secrets: Record<string, string>): string {
  const lines = ["# homelab-backup-notify secrets, written by Pulumi."];
  for (const t of targets) {
    const name = secretEnvName(t);
    const value = secrets[t.name];
    if (name === undefined || value === undefined) continue;
    if (value === "" || /[\r\n\0]/.test(value)) throw new Error(`notifier: the secret of target ${t.name} is empty or contains a line break`);
    lines.push(`${name}=${shellQuote(value)}`);
  }
  return lines.join("\n") + "\n";
}

function deliveryLine(t: NotifyTarget): string {
  const min = shellQuote(t.minSeverity ?? "info");
  switch (t.type) {
    case "gotify":
      return `send_gotify ${shellQuote(t.name)} ${min} ${shellQuote(t.server.replace(/\/+$/, ""))} ${secretEnvName(t)} ${shellQuote(t.caFile ?? "")}`;
    case "webhook": {
      const format = t.format ?? "ntfy";
      const url = format === "ntfy" ? ntfyTopic(t.url).root : t.url;
      const topic = format === "ntfy" ? ntfyTopic(t.url).topic : "";
      return `send_webhook ${shellQuote(t.name)} ${min} ${format} ${shellQuote(url)} ${shellQuote(topic)} ${secretEnvName(t)} ${shellQuote(t.caFile ?? "")}`;
    }
    case "smtp":
      return `send_mail ${shellQuote(t.name)} ${min} ${shellQuote(t.from)} ${t.mailto.map(shellQuote).join(" ")}`;
  }
}

export interface NotifyScriptOptions {
  /** Where the script reads its secrets. @default DEFAULT_NOTIFY_LAYOUT */
  layout?: Partial<NotifyLayout>;
  /** Seconds per delivery. @default 20 */
  timeoutSeconds?: number;
}

export function renderNotifyScript(targets: NotifyTarget[], options: NotifyScriptOptions = {}): string {
  const layout = { ...DEFAULT_NOTIFY_LAYOUT, ...options.layout };
  const deliveries = targets.map(deliveryLine);
  return `#!/bin/bash
# homelab-backup-notify: one message to the homelab's notification targets.
# Written by Pulumi: edits here are overwritten. Secrets come from ${layout.envFile}.
#   homelab-backup-notify <info|warning|error> <title> <body>
# Exit 0 when every target that takes the severity got the message, 1 when one did not, 2 on
# wrong usage. Every message also goes to syslog, so it is on the host even when no target is.
set -uo pipefail
umask 077
PATH="$PATH:/usr/sbin:/sbin"

ENV_FILE=${shellQuote(layout.envFile)}
TIMEOUT=${options.timeoutSeconds ?? 20}

usage() {
  echo "usage: homelab-backup-notify <info|warning|error> <title> <body>" >&2
  exit 2
}
[ "$#" -eq 3 ] || usage
severity=$1
# A title is one line: it becomes a mail header.
title=$(printf '%s' "$2" | tr '\\r\\n' '  ')
body=$3
[ -n "$title" ] || usage
rank() { case "$1" in info) echo 1 ;; warning) echo 2 ;; error) echo 3 ;; *) echo 0 ;; esac; }
level=$(rank "$severity")
[ "$level" -gt 0 ] || usage

host=$(uname -n)
message="$body

-- homelab-backup on $host"
TMP=$(mktemp -d "\${TMPDIR:-/tmp}/homelab-backup-notify.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ -r "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  . "$ENV_FILE"
fi

case "$severity" in info) prio=user.info ;; warning) prio=user.warning ;; *) prio=user.err ;; esac
logger -t homelab-backup-notify -p "$prio" -- "[$severity] $title: $body" 2>/dev/null || true

failed=0
fail() {
  echo "homelab-backup-notify: $*" >&2
  failed=1
}

# post_json <target> <url> <json file> <secret header or ""> <ca file or "">. The header goes to
# curl on standard input; responses are never printed, as a server may echo what it was sent.
post_json() {
  local name=$1 url=$2 file=$3 header=$4 ca=$5 code
  local opts=(--silent --show-error --proto '=https,http' --max-time "$TIMEOUT" --output /dev/null --write-out '%{http_code}')
  [ -z "$ca" ] || opts+=(--cacert "$ca")
  header=\${header//\\\\/\\\\\\\\}
  header=\${header//\\"/\\\\\\"}
  code=$( { [ -z "$4" ] || printf 'header = "%s"\\n' "$header"; } |
    curl --config - "\${opts[@]}" -H 'Content-Type: application/json' --data-binary @"$file" "$url" 2>"$TMP/curl.err") || true
  case "$code" in
    2??) return 0 ;;
    000|"") fail "$name: could not deliver to $url: $(head -n 1 "$TMP/curl.err")" ;;
    *) fail "$name: $url answered HTTP $code" ;;
  esac
  return 1
}

send_gotify() {
  local name=$1 min=$2 server=$3 var=$4 ca=$5 token p
  [ "$level" -ge "$(rank "$min")" ] || return 0
  token=\${!var:-}
  if [ -z "$token" ]; then fail "$name: no token ($var) in $ENV_FILE; message not sent"; return; fi
  case "$severity" in info) p=2 ;; warning) p=5 ;; *) p=8 ;; esac
  jq -n --arg t "$title" --arg m "$message" --argjson p "$p" '{title: $t, message: $m, priority: $p}' >"$TMP/gotify.json"
  post_json "$name" "$server/message" "$TMP/gotify.json" "X-Gotify-Key: $token" "$ca"
}

send_webhook() {
  local name=$1 min=$2 format=$3 url=$4 topic=$5 var=$6 ca=$7 token header="" p tag
  [ "$level" -ge "$(rank "$min")" ] || return 0
  token=\${!var:-}
  [ -z "$token" ] || header="Authorization: Bearer $token"
  if [ "$format" = ntfy ]; then
    case "$severity" in info) p=3 tag=information_source ;; warning) p=4 tag=warning ;; *) p=5 tag=rotating_light ;; esac
    jq -n --arg topic "$topic" --arg t "$title" --arg m "$message" --argjson p "$p" --arg tag "$tag" \\
      '{topic: $topic, title: $t, message: $m, priority: $p, tags: [$tag, "homelab-backup"]}' >"$TMP/webhook.json"
  else
    jq -n --arg s "$severity" --arg t "$title" --arg m "$body" --arg h "$host" \\
      '{severity: $s, title: $t, message: $m, host: $h, source: "homelab-backup"}' >"$TMP/webhook.json"
  fi
  post_json "$name" "$url" "$TMP/webhook.json" "$header" "$ca"
}

send_mail() {
  local name=$1 min=$2 from=$3 sendmail subject
  shift 3
  [ "$level" -ge "$(rank "$min")" ] || return 0
  if ! sendmail=$(command -v sendmail); then
    fail "$name: mail is not available on $host (no sendmail; install an MTA such as postfix); not sent to $*"
    return
  fi
  subject="[homelab-backup] $severity: $title"
  # Non-ASCII subjects are encoded (RFC 2047); headers must stay 7-bit.
  if printf '%s' "$subject" | LC_ALL=C grep -q '[^ -~]'; then
    subject="=?UTF-8?B?$(printf '%s' "$subject" | base64 -w 0)?="
  fi
  # Recipients on the command line, not from headers (-t): nothing in a message can add one.
  if ! {
    printf 'From: %s\\nTo: %s\\nSubject: %s\\nMIME-Version: 1.0\\nContent-Type: text/plain; charset=UTF-8\\nContent-Transfer-Encoding: 8bit\\n\\n' \\
      "$from" "$(IFS=,; echo "$*")" "$subject"
    printf '%s\\n' "$message"
  } | "$sendmail" -oi -f "$from" -- "$@" 2>"$TMP/mail.err"; then
    fail "$name: sendmail failed: $(head -n 1 "$TMP/mail.err")"
  fi
}

${deliveries.length > 0 ? deliveries.join("\n") : "# No targets: the message is in syslog only."}

exit "$failed"
`;
}
