/**
 * How the monitoring components (and the PVE backup hook) reach a host over SSH, and the shape
 * of the PBS API endpoint their scripts call. Plain where a value decides what is generated.
 */
import * as pulumi from "@pulumi/pulumi";
import { asRoot } from "../agents/shell";
import { formatFingerprint, isSha256Fingerprint } from "../pbs/tls";

/** An SSH login on the host a script is deployed to. */
export interface HostConnection {
  /** Address or name SSH dials. */
  host: pulumi.Input<string>;
  /**
   * Plain, not an Input: it decides whether the steps run through `sudo -n`.
   * @default "root"
   */
  user?: string;
  /** @default 22 */
  port?: pulumi.Input<number>;
  /** OpenSSH private key of the login; a secret (wrapped with `pulumi.secret` either way). */
  privateKey: pulumi.Input<string>;
}

/** The connection as `remote.Command` takes it, with the key always secret. */
export function sshConnection(c: HostConnection) {
  return { host: c.host, user: c.user ?? "root", port: c.port ?? 22, privateKey: pulumi.secret(c.privateKey) };
}

/** Runs a step as root for this login (see `asRoot`). */
export function rootStep(c: HostConnection, script: string): string {
  return asRoot(script, c.user ?? "root");
}

/**
 * The PBS REST API as the scripts call it. Trust is the pinned certificate fingerprint, as for
 * PVE's `pbs` storage; the token is a read-only audit token (its secret travels separately).
 */
export interface PbsApiEndpoint {
  /** Host name or IPv4 address the script's host reaches PBS at (the backup VLAN address from PVE nodes, `127.0.0.1` on the PBS host). */
  host: string;
  /** @default 8007 */
  port?: number;
  /** SHA-256 fingerprint of the PBS certificate (`proxmox-backup-manager cert info`), colon-separated or not. */
  fingerprint: string;
  /**
   * Audit token id, `user@realm!name`. Read-only: the DatastoreAudit role (Datastore.Audit) on
   * `/datastore/<store>` for every datastore checked; the freshness check also needs the Audit
   * role (Sys.Audit) on `/system/tasks` to see the PVE token's running backup tasks.
   */
  tokenId: string;
}

export interface ResolvedPbsEndpoint {
  host: string;
  port: number;
  /** Upper-case, colon-separated: what `openssl x509 -fingerprint -sha256` prints. */
  fingerprint: string;
  tokenId: string;
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const TOKEN_ID = /^[^\s:/@!'"\\]+@[A-Za-z0-9_-]+![A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Checks an endpoint, appending one line per problem under `at`. */
export function resolvePbsEndpoint(at: string, e: PbsApiEndpoint, problems: string[]): ResolvedPbsEndpoint {
  if (!HOST.test(e.host ?? "")) problems.push(`${at}.host ${JSON.stringify(e.host)} is invalid; expected a host name or IPv4 address`);
  const port = e.port ?? 8007;
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${at}.port ${port} is not a port from 1 to 65535`);
  if (!isSha256Fingerprint(e.fingerprint ?? "")) problems.push(`${at}.fingerprint ${JSON.stringify(e.fingerprint)} is invalid; expected a SHA-256 fingerprint (32 hex bytes, AA:BB:...)`);
  // A token, never a user: a password login would need a ticket and could do anything the user can.
  if (!TOKEN_ID.test(e.tokenId ?? "")) problems.push(`${at}.tokenId ${JSON.stringify(e.tokenId)} is invalid; expected an API token id such as monitor@pbs!audit`);
  return { host: e.host, port, fingerprint: isSha256Fingerprint(e.fingerprint ?? "") ? formatFingerprint(e.fingerprint) : e.fingerprint, tokenId: e.tokenId };
}

/** `host:port` for openssl and the URL (IPv6 literals are not accepted, so no brackets). */
export function pbsAddress(e: ResolvedPbsEndpoint): string {
  return `${e.host}:${e.port}`;
}

/** A healthchecks-style ping URL: http(s), no credentials, no trailing slash. */
export function checkPingUrl(at: string, url: string | undefined, problems: string[]): string | undefined {
  if (url === undefined) return undefined;
  if (!/^https?:\/\/[^\s/@'"\\`$]+(\/[^\s'"\\`$]*)?$/.test(url)) {
    problems.push(`${at} ${JSON.stringify(url)} is invalid; expected an http(s) URL without spaces, quotes or credentials`);
    return url;
  }
  return url.replace(/\/+$/, "");
}

/** A systemd `OnCalendar=` value; `systemd-analyze calendar` is the real judge (the tests run it). */
export function checkOnCalendar(at: string, value: string, problems: string[]): void {
  if (value.trim() === "" || /[\n\r\0'"\\]/.test(value)) problems.push(`${at} ${JSON.stringify(value)} is not a systemd calendar event`);
}

export function checkName(at: string, value: string, problems: string[]): void {
  // Names become file names, unit names, env variable names and bash array keys.
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(value ?? "")) problems.push(`${at} ${JSON.stringify(value)} is invalid; expected lowercase letters, digits, "-" or "_"`);
}

export function checkNumber(at: string, value: number, min: number, max: number, problems: string[], integer = true): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    problems.push(`${at} ${value} is invalid; expected ${integer ? "a whole number" : "a number"} from ${min} to ${max}`);
  }
}

/** Every problem with a component's arguments at once, one line each. */
export class MonitoringArgsError extends Error {
  constructor(
    readonly component: string,
    readonly problems: string[],
  ) {
    super(`${component}: ${problems.length} problem${problems.length === 1 ? "" : "s"} in the arguments:\n  ${problems.join("\n  ")}`);
    this.name = "MonitoringArgsError";
  }
}
