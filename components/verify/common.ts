/**
 * What the two restore-test scripts share: their defaults, the bash helpers that write the JSON
 * log and call the notify command, name checks, and the schedule and connection types of the
 * components. One implementation, so both logs read the same way for `npm run report`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseCalendarEvent, type CalendarEvent } from "../../config/calendar";
import { onCalendar } from "../agents/systemd";

/** Called as `<cmd> <info|warning|error> <title> <body>` when it is executable; absent is fine. */
export const DEFAULT_NOTIFY_COMMAND = "/usr/local/sbin/homelab-backup-notify";
/** One JSON line per tested guest or database; the report reads this file. */
export const DEFAULT_LOG_PATH = "/var/log/homelab-backup/restore-tests.jsonl";
export const DEFAULT_UNIT_DIR = "/etc/systemd/system";

/** How Pulumi reaches the host over SSH. */
export interface VerifyConnection {
  /** Address SSH dials. */
  host: pulumi.Input<string>;
  /**
   * Plain, not an Input: it decides whether the scripts run through `sudo -n`.
   * @default "root"
   */
  user?: string;
  /** @default 22 */
  port?: pulumi.Input<number>;
  /** OpenSSH private key of the login; a secret (wrapped with `pulumi.secret` either way). */
  privateKey: pulumi.Input<string>;
}

/** A schedule as the project writes them (systemd calendar syntax, the subset PVE and PBS accept), or already parsed. */
export type Schedule = string | CalendarEvent;

/** The `OnCalendar=` value of a schedule; a string goes through the project's parser so a bad one fails at construction. */
export function scheduleOnCalendar(schedule: Schedule): string {
  return onCalendar(typeof schedule === "string" ? parseCalendarEvent(schedule) : schedule);
}

/** Thrown for invalid restore-test args; the message lists every problem, one per line. */
export class RestoreTestConfigError extends Error {
  constructor(
    readonly what: string,
    readonly problems: readonly string[],
  ) {
    super(`${what}: ${problems.length === 1 ? problems[0] : "\n  " + problems.join("\n  ")}`);
    this.name = "RestoreTestConfigError";
  }
}

/** Checks shared by both scripts' options: text that ends up in shell or JSON must be one clean line. */
export function textProblems(what: string, value: unknown, problems: string[]): void {
  if (typeof value !== "string" || value === "") problems.push(`${what} is empty`);
  else if (/[\n\r\0]/.test(value)) problems.push(`${what} ${JSON.stringify(value)} contains a line break or NUL`);
}

export function absolutePathProblems(what: string, value: unknown, problems: string[]): void {
  textProblems(what, value, problems);
  if (typeof value === "string" && value !== "" && (!value.startsWith("/") || /\s/.test(value))) {
    problems.push(`${what} ${JSON.stringify(value)} is not an absolute path without spaces`);
  }
}

export function positiveProblems(what: string, value: unknown, problems: string[], integer = false): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    problems.push(`${what} ${JSON.stringify(value)} is not a positive ${integer ? "integer" : "number"}`);
  }
}

/** Milliseconds of an RTO in minutes, which the scripts compare against in integer maths. */
export function rtoMillis(rtoMinutes: number): number {
  return Math.round(rtoMinutes * 60_000);
}

/** `rtoSeconds` as the log writes it: a JSON number. */
export function rtoSecondsText(rtoMinutes: number): string {
  const ms = rtoMillis(rtoMinutes);
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toString();
}

/**
 * Bash helpers both scripts include (common.sh beside this file: bash kept as bash, so it reads,
 * and `bash -n` checks it, without template-literal escapes). Times are kept in integer milliseconds (from
 * EPOCHREALTIME, so under LC_ALL=C) and written as seconds rounded up to a tenth, so a logged
 * total above the logged RTO is exactly a failed comparison.
 */
export const BASH_COMMON = readFileSync(join(__dirname, "common.sh"), "utf8");
