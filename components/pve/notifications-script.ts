/**
 * PVE's own notification system, set from config over SSH: the Proxmox VE provider has no
 * endpoint or matcher resources (provider issue #2863) and no `notification-mode` on backup jobs
 * (#2898, #3074), so vzdump failures would otherwise go to legacy sendmail or nowhere. The script
 * creates or updates one endpoint per notification target, one matcher that sends failed vzdump
 * runs to all of them, and switches every job to the notification system. Secrets (gotify
 * tokens, the smtp password) arrive on standard input as `NAME=value` lines, never in the script.
 */
import { shellQuote } from "../agents/shell";

export interface PveGotifyTarget {
  type: "gotify";
  name: string;
  server: string;
}
export interface PveWebhookTarget {
  type: "webhook";
  name: string;
  url: string;
}
export interface PveSmtpTarget {
  type: "smtp";
  name: string;
  server: string;
  port: number;
  mode: "tls" | "starttls";
  from: string;
  mailto: string[];
  username?: string;
}
export type PveNotificationTarget = PveGotifyTarget | PveWebhookTarget | PveSmtpTarget;

export interface PveNotificationsSpec {
  targets: readonly PveNotificationTarget[];
  /** Backup job ids (`backup-<service>`) switched to `notification-mode notification-system`. */
  jobIds: readonly string[];
  /** @default "homelab-backup-vzdump" */
  matcherName?: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{1,31}$/;
/** Variable a target's secret is read into: `SECRET_<name with - as _>`. */
export function secretVariable(target: string): string {
  return `SECRET_${target.replace(/-/g, "_")}`;
}

/** What PVE's webhook sends: title and message, as ntfy and most webhooks display them. */
const WEBHOOK_BODY = Buffer.from("{{ title }}\n{{ message }}", "utf8").toString("base64");

function endpointArgs(t: PveNotificationTarget): string[] {
  switch (t.type) {
    case "gotify":
      return ["--server", t.server, "--token", `"$${secretVariable(t.name)}"`];
    case "webhook":
      return ["--url", t.url, "--method", "post", "--body", WEBHOOK_BODY];
    case "smtp":
      return [
        "--server", t.server, "--port", String(t.port), "--mode", t.mode, "--from-address", t.from,
        ...t.mailto.flatMap((m) => ["--mailto", m]),
        ...(t.username ? ["--username", t.username, "--password", `"$${secretVariable(t.name)}"`] : []),
      ];
  }
}

/** Quotes every argument except the secret references, which stay double-quoted variables. */
function args(list: string[]): string {
  return list.map((a) => (a.startsWith('"$SECRET_') ? a : shellQuote(a))).join(" ");
}

export function pveNotificationsScript(spec: PveNotificationsSpec): string {
  const problems: string[] = [];
  for (const t of spec.targets) if (!NAME.test(t.name)) problems.push(`target name ${JSON.stringify(t.name)} is not a PVE notification target name`);
  for (const id of spec.jobIds) if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id)) problems.push(`job id ${JSON.stringify(id)} is not a PVE backup job id`);
  const matcher = spec.matcherName ?? "homelab-backup-vzdump";
  if (!NAME.test(matcher)) problems.push(`matcherName ${JSON.stringify(matcher)} is not a PVE matcher name`);
  if (problems.length > 0) throw new Error(`PVE notifications: ${problems.join("; ")}`);
  const lines = [
    "set -eu",
    // Secrets: `NAME=value` lines on stdin; only known names are taken.
    ...spec.targets.map((t) => `${secretVariable(t.name)}=""`),
    // Split at the first "=" only: a token or password may end in base64 padding.
    "while IFS= read -r line; do",
    "  key=${line%%=*}; value=${line#*=}",
    "  case \"$key\" in",
    ...spec.targets.map((t) => `    ${secretVariable(t.name)}) ${secretVariable(t.name)}=$value ;;`),
    "    *) ;;",
    "  esac",
    "done",
    // Create what is missing, update what exists: the same script converges either way.
    "upsert() {",
    "  local path=$1 name=$2; shift 2",
    "  if pvesh get \"$path/$name\" >/dev/null 2>&1; then pvesh set \"$path/$name\" \"$@\"; else pvesh create \"$path\" --name \"$name\" \"$@\"; fi",
    "}",
  ];
  for (const t of spec.targets) {
    if (t.type === "gotify" || (t.type === "smtp" && t.username)) {
      lines.push(`test -n "$${secretVariable(t.name)}" || { echo "no secret for notification target ${t.name} on standard input" >&2; exit 1; }`);
    }
    lines.push(`upsert /cluster/notifications/endpoints/${t.type} ${shellQuote(t.name)} ${args(endpointArgs(t))}`);
  }
  if (spec.targets.length > 0) {
    lines.push(
      `upsert /cluster/notifications/matchers ${shellQuote(matcher)} ${spec.targets.map((t) => `--target ${shellQuote(t.name)}`).join(" ")} --match-field 'exact:type=vzdump' --match-severity error --mode all --comment 'homelab-backup: failed backup jobs'`,
    );
  }
  for (const id of spec.jobIds) lines.push(`pvesh set /cluster/backup/${shellQuote(id)} --notification-mode notification-system`);
  return lines.join("\n");
}

/** The stdin the script reads: one `NAME=value` line per target secret. */
export function pveNotificationSecrets(targets: readonly PveNotificationTarget[], secrets: Readonly<Record<string, string>>): string {
  return targets
    .filter((t) => t.type === "gotify" || (t.type === "smtp" && t.username))
    .map((t) => `${secretVariable(t.name)}=${secrets[t.name] ?? ""}\n`)
    .join("");
}
