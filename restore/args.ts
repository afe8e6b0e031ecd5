/**
 * The command line. Every flag is optional except the stack: what is missing the wizard asks,
 * and with `--yes` (or without a terminal) a missing answer is an error naming the flag.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { badValue, UsageError } from "./errors";

export const USAGE = `usage: npm run restore -- --stack <name> | --stack-file <path>
         [--service <name>] [--guest <vmid>] [--at <time>|latest] [--target new|in-place] [--new-id <vmid>]
         [--yes] [--dry-run] [--storage <pve-storage>] [--node <pve-node>] [--check <command>]
         [--validate-timeout <90s|5m>] [--audit-log <path>] [--user <user@realm>]

Without --service/--guest/--at/--target the wizard asks. --yes restores without prompts (all four
needed); --dry-run shows what would be done and calls no endpoint that changes anything.
--at takes an ISO 8601 time (UTC unless it carries an offset): 2026-11-27T02:00:00Z, "2026-11-27 02:00".

PVE auth: PVE_API_TOKEN=user@realm!tokenid=secret, or --user (password and second factor prompted).
PVE_FINGERPRINT pins PVE's certificate (otherwise it must verify against the CA store).
The TrueNAS replica is consulted for past points with TRUENAS_API_KEY (TRUENAS_URL overrides wss://<host>).
Notification secrets: NOTIFICATION_SECRETS, the JSON map of the notificationSecrets config secret.

Exit codes: 0 restored (or dry run), 1 nothing done (bad input, refused, cancelled, unreachable),
2 the restore failed and the guest is back as it began, 3 the restore failed and so did putting
the guest back (read the output), 4 the point exists only on the replica (steps printed).`;

export type Target = "new" | "in-place";

export interface Options {
  readonly stackFile: string;
  readonly service?: string;
  readonly guest?: number;
  readonly at?: Date | "latest";
  readonly atText?: string;
  readonly target?: Target;
  readonly newId?: number;
  readonly yes: boolean;
  readonly dryRun: boolean;
  readonly storage?: string;
  readonly node?: string;
  readonly check?: string;
  readonly validateTimeoutMs: number;
  readonly auditLog?: string;
  readonly user?: string;
  readonly help: boolean;
}

const FLAGS = {
  stack: { type: "string" },
  "stack-file": { type: "string" },
  service: { type: "string" },
  guest: { type: "string" },
  at: { type: "string" },
  target: { type: "string" },
  "new-id": { type: "string" },
  yes: { type: "boolean" },
  "dry-run": { type: "boolean" },
  storage: { type: "string" },
  node: { type: "string" },
  check: { type: "string" },
  "validate-timeout": { type: "string" },
  "audit-log": { type: "string" },
  user: { type: "string" },
  help: { type: "boolean" },
} as const;

export const VMID_EXPECTED = "a VM id, an integer from 100 to 999999999";

export function parseVmid(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw badValue(flag, text, VMID_EXPECTED);
  const n = Number(text.trim());
  if (n < 100 || n > 999_999_999) throw badValue(flag, text, VMID_EXPECTED);
  return n;
}

const AT_EXPECTED = "latest, or a time such as 2026-11-27T02:00:00Z or \"2026-11-27 02:00\" (UTC unless an offset is given)";

/**
 * `latest`, or an ISO 8601 time. Without an offset the time is UTC: PVE names backups in UTC, so
 * the times the wizard lists can be typed back as they are.
 */
export function parseAt(text: string, now: Date): Date | "latest" {
  const t = text.trim();
  if (t.toLowerCase() === "latest") return "latest";
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?\s*(Z|UTC|[+-]\d\d:?\d\d)?$/i.exec(t);
  if (!m) throw badValue("--at", text, AT_EXPECTED);
  const [, y, mo, d, h = "00", mi = "00", s = "00", zone] = m;
  let offsetMinutes = 0;
  if (zone && !/^(z|utc)$/i.test(zone)) {
    const z = /^([+-])(\d\d):?(\d\d)$/.exec(zone) as RegExpExecArray;
    offsetMinutes = (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMinutes * 60_000;
  const date = new Date(ms);
  // Date.UTC rolls 2026-02-30 over into March; a date that does not round-trip was not a date.
  const back = new Date(ms + offsetMinutes * 60_000);
  if (
    Number.isNaN(ms) || back.getUTCFullYear() !== Number(y) || back.getUTCMonth() + 1 !== Number(mo) || back.getUTCDate() !== Number(d) ||
    Number(h) > 23 || Number(mi) > 59 || Number(s) > 59
  ) {
    throw badValue("--at", text, AT_EXPECTED);
  }
  if (date.getTime() > now.getTime()) throw badValue("--at", text, "a time at or before now (restore points are in the past)", "is in the future");
  return date;
}

/** `90s`, `5m`, `1h`. */
export function parseTimeout(flag: string, text: string): number {
  const m = /^(\d+)\s*(s|m|h)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw badValue(flag, text, "a duration such as 90s, 5m or 1h");
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"];
}

export function parseOptions(argv: readonly string[], cwd: string, now: Date): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const flag = /'(--?[^' ]+)/.exec(text)?.[1];
    if (/Unknown option/.test(text)) throw new UsageError(`${flag ?? "argument"}: is not a flag of restore; expected one of ${Object.keys(FLAGS).map((f) => `--${f}`).join(", ")}`);
    if (/argument missing/.test(text)) throw new UsageError(`${flag ?? "argument"}: is missing its value; expected ${flag ?? "the flag"} <value>`);
    if (/positional/.test(text)) throw new UsageError(`${/'([^']+)'/.exec(text)?.[1] ?? "argument"}: is not a flag; expected --flag value pairs (npm run restore -- --help)`);
    throw new UsageError(text.split("\n")[0] as string);
  }
  const str = (k: keyof typeof FLAGS): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  if (values.help === true) return { stackFile: "", yes: false, dryRun: false, validateTimeoutMs: 0, help: true };

  const stack = str("stack");
  const stackFile = str("stack-file");
  if (stack === undefined && stackFile === undefined) throw new UsageError("--stack: is missing; expected --stack <name> (reads Pulumi.<name>.yaml) or --stack-file <path>");
  if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) throw badValue("--stack", stack, "a stack name of letters, digits, ., - or _");

  const target = str("target");
  if (target !== undefined && target !== "new" && target !== "in-place") throw badValue("--target", target, "new (a new guest id, the safe default) or in-place");
  const newIdText = str("new-id");
  if (newIdText !== undefined && target === "in-place") throw badValue("--new-id", newIdText, "no --new-id with --target in-place (in place restores over the guest itself)", "cannot be used here");
  const atText = str("at");
  const guestText = str("guest");
  const validate = str("validate-timeout");
  const user = str("user");
  if (user !== undefined && !/^[^\s@]+@[A-Za-z0-9._-]+$/.test(user)) throw badValue("--user", user, "user@realm, such as root@pam");

  return {
    stackFile: resolve(cwd, stackFile ?? `Pulumi.${stack as string}.yaml`),
    ...(str("service") !== undefined ? { service: str("service") } : {}),
    ...(guestText !== undefined ? { guest: parseVmid("--guest", guestText) } : {}),
    ...(atText !== undefined ? { at: parseAt(atText, now), atText } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(newIdText !== undefined ? { newId: parseVmid("--new-id", newIdText) } : {}),
    yes: values.yes === true,
    dryRun: values["dry-run"] === true,
    ...(str("storage") !== undefined ? { storage: str("storage") } : {}),
    ...(str("node") !== undefined ? { node: str("node") } : {}),
    ...(str("check") !== undefined ? { check: str("check") } : {}),
    validateTimeoutMs: validate !== undefined ? parseTimeout("--validate-timeout", validate) : 5 * 60_000,
    ...(str("audit-log") !== undefined ? { auditLog: str("audit-log") } : {}),
    ...(user !== undefined ? { user } : {}),
    help: false,
  };
}
