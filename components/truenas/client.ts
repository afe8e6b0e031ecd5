/**
 * The one place that speaks to TrueNAS: JSON-RPC 2.0 over a WebSocket at `wss://<host>/api/current`,
 * authenticated with `auth.login_ex {mechanism: "API_KEY_PLAIN"}`.
 *
 * Habits every TrueNAS resource relies on:
 * - TLS only (endpoint.ts), verified against the CA store or a pinned certificate fingerprint; the
 *   pin is compared on the upgraded socket before the login message is written;
 * - requests correlated by id, each with its own timeout;
 * - a dropped connection is re-established once per call; a call that was in flight is repeated
 *   only when repeating it cannot apply it twice (reads, updates, deletes), so a dropped `create`
 *   fails with "state unknown" instead of creating a duplicate;
 * - jobs are waited for by polling `core.get_jobs`: `core.job_wait` is itself a job, so waiting on
 *   it would need the same polling (or event subscriptions) one level further down;
 * - errors quote TrueNAS's field and message (errors.ts) and never a secret; nothing is logged.
 *
 * This module must stay free of `@pulumi/pulumi` at runtime: dynamic providers are serialized with
 * everything they reference, and a client is built inside each provider method.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type WebSocket from "ws";
import { endpointUrl, FingerprintMismatchError, fingerprintMatches } from "./endpoint";
import { apiErrorFrom, jobErrorFrom, redact, TruenasAuthError, TruenasConnectionError, TruenasJobError } from "./errors";

/** How to reach TrueNAS and authenticate, as the providers receive it (plain values). */
export interface TruenasConnection {
  /** `wss://<host>` or `https://<host>` (`/api/current` is added); ws:// and http:// are refused. */
  readonly url: string;
  /** The user the API key belongs to (keys are user-linked since 25.04). */
  readonly username: string;
  /** The API key. Never logged and never part of an error message. */
  readonly apiKey: string;
  /** SHA-256 fingerprint of the TrueNAS certificate, for a self-signed one; replaces chain validation. */
  readonly fingerprint?: string;
  /** PEM CA certificate to trust in addition to the system store (a homelab CA). */
  readonly caCert?: string;
  /** Connect + TLS + upgrade timeout. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Per-call timeout. @default 30000 */
  readonly callTimeoutMs?: number;
  /** How long a job may run. @default 600000 */
  readonly jobTimeoutMs?: number;
  /** Interval between `core.get_jobs` polls. @default 1000 */
  readonly jobPollIntervalMs?: number;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  /** Whether a call in flight when the connection dropped may be sent again. @default by method name */
  readonly repeatable?: boolean;
}

/**
 * Methods that can be sent twice without a second effect. `create`, `run`, `sync` and the like
 * are not: after a drop nobody knows whether the first one was applied.
 */
export function isRepeatable(method: string): boolean {
  return /\.(query|get_instance|update|delete|verify|used_by|version|get_jobs|filesystem_choices|remote_ssh_host_key_scan|generate_ssh_key_pair|delete_will_change_retention_for|update_will_change_retention_for)$/.test(
    method,
  );
}

const DROPPED = "TRUENAS_CONNECTION_DROPPED";

interface Pending {
  readonly method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One authenticated WebSocket. Its fields (like the client's) are assigned in the constructor:
 * Pulumi's closure serializer drops class-field initializers.
 */
class Link {
  private nextId: number;
  private readonly pending: Map<number, Pending>;
  closed: boolean;
  private readonly ws: WebSocket;
  private readonly secrets: readonly string[];

  private constructor(ws: WebSocket, secrets: readonly string[]) {
    this.ws = ws;
    this.secrets = secrets;
    this.nextId = 1;
    this.pending = new Map();
    this.closed = false;
    ws.on("message", (data) => this.onMessage(data.toString()));
    ws.on("close", () => this.onClose());
    ws.on("error", () => this.onClose());
  }

  static open(connection: TruenasConnection, url: string, secrets: readonly string[]): Promise<Link> {
    const timeoutMs = connection.connectTimeoutMs ?? 10_000;
    const pinned = connection.fingerprint;
    const host = new URL(url).host;
    // Required here, not imported at the top: Pulumi serializes a dynamic provider with what it
    // captures, and an ESM-interop wrapper around `ws` drags the whole library in by value
    // (and fails), while a plain require() in the function body is kept as a require.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { WebSocket: Socket } = require("ws") as typeof import("ws");
    return new Promise((resolve, reject) => {
      const ws = new Socket(url, {
        handshakeTimeout: timeoutMs,
        perMessageDeflate: false,
        // With a pin the pin is the trust decision (checked below); without one, the chain must verify.
        rejectUnauthorized: pinned === undefined,
        ...(connection.caCert ? { ca: connection.caCert } : {}),
      });
      let settled = false;
      let verified = pinned === undefined;
      // Declared before `fail` uses it: Pulumi's closure serializer cannot follow a later declaration.
      let timer: NodeJS.Timeout | undefined = undefined;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(error);
      };
      timer = setTimeout(
        () => fail(new TruenasConnectionError(`timed out after ${timeoutMs} ms connecting to ${host}`, "ETIMEDOUT")),
        timeoutMs,
      );
      ws.once("upgrade", (res: IncomingMessage) => {
        if (pinned === undefined) return;
        const presented = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        if (fingerprintMatches(pinned, presented)) verified = true;
        else fail(new FingerprintMismatchError(host, pinned, presented));
      });
      ws.once("open", () => {
        if (!verified) return fail(new FingerprintMismatchError(host, pinned ?? "", undefined));
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(new Link(ws, secrets));
      });
      ws.once("error", (error: Error & { code?: string }) => fail(connectError(host, error, secrets)));
      ws.once("close", () => fail(new TruenasConnectionError(`${host} closed the connection during the handshake`, DROPPED)));
    });
  }

  request(method: string, params: readonly unknown[], timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new TruenasConnectionError("not connected", DROPPED));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const effect = isRepeatable(method) ? "" : "; it may still be applied, so run `pulumi refresh` before retrying";
        reject(new TruenasConnectionError(`TrueNAS did not answer ${method} within ${timeoutMs} ms${effect}`, "ETIMEDOUT"));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }), (error) => {
        if (error) this.onClose();
      });
    });
  }

  close(): void {
    this.closed = true;
    this.ws.close();
    this.onClose();
  }

  private onMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const m = message as { id?: unknown; result?: unknown; error?: unknown };
    // Notifications (collection_update, notify_unsubscribed) carry no id.
    if (typeof m.id !== "number") return;
    const pending = this.pending.get(m.id);
    if (!pending) return;
    this.pending.delete(m.id);
    clearTimeout(pending.timer);
    if (m.error !== undefined && m.error !== null) pending.reject(apiErrorFrom(pending.method, m.error, this.secrets));
    else pending.resolve(m.result);
  }

  private onClose(): void {
    this.closed = true;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new TruenasConnectionError(`the connection to TrueNAS dropped during ${pending.method}`, DROPPED));
    }
  }
}

function connectError(host: string, error: Error & { code?: string }, secrets: readonly string[]): Error {
  const code = error.code;
  const tlsCodes = ["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_HAS_EXPIRED", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"];
  if (code !== undefined && tlsCodes.includes(code)) {
    return new TruenasConnectionError(
      `the TLS certificate of ${host} did not verify (${code}); pin its SHA-256 fingerprint (\`fingerprint\`) or give its CA (\`caCert\`)`,
      code,
    );
  }
  return new TruenasConnectionError(`cannot connect to ${host}: ${redact(error.message, secrets)}`, code);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface ClientOptions {
  /** Values to keep out of errors besides the API key (private keys, passwords, S3 secrets). */
  readonly secrets?: readonly string[];
}

export class TruenasClient {
  private readonly url: string;
  private readonly secrets: readonly string[];
  private readonly connection: TruenasConnection;
  private link: Link | undefined;
  private everConnected: boolean;
  private connecting: Promise<void> | undefined;
  /** Sockets opened and logins made, for tests and diagnostics. */
  readonly stats: { connects: number; logins: number };

  /** @throws InsecureTransportError before any socket is opened when the URL is not TLS */
  constructor(connection: TruenasConnection, options: ClientOptions = {}) {
    this.connection = connection;
    this.link = undefined;
    this.connecting = undefined;
    this.everConnected = false;
    this.stats = { connects: 0, logins: 0 };
    this.url = endpointUrl(connection.url);
    this.secrets = [connection.apiKey, ...(options.secrets ?? [])];
  }

  /** Calls a method and returns its result. */
  async call(method: string, params: readonly unknown[] = [], options: CallOptions = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.connection.callTimeoutMs ?? 30_000;
    const repeatable = options.repeatable ?? isRepeatable(method);
    let reconnected = false;
    for (;;) {
      const hadLink = this.everConnected;
      if (this.link === undefined || this.link.closed) {
        if (hadLink) {
          if (reconnected) throw new TruenasConnectionError(`the connection to TrueNAS dropped again before ${method}`, DROPPED);
          reconnected = true;
        }
        // Concurrent calls share one connection attempt instead of each logging in.
        this.connecting ??= this.connect().finally(() => {
          this.connecting = undefined;
        });
        await this.connecting;
      }
      const link = this.link as Link;
      try {
        return await link.request(method, params, timeoutMs);
      } catch (error) {
        const dropped = error instanceof TruenasConnectionError && error.code === DROPPED;
        if (!dropped || reconnected) throw error;
        if (!repeatable) {
          throw new TruenasConnectionError(
            `the connection to TrueNAS dropped while ${method} was in flight; whether it was applied is unknown, ` +
              "so it is not sent again: run `pulumi refresh`, then `pulumi up`",
            DROPPED,
          );
        }
      }
    }
  }

  /** Calls a job method and waits for the job; returns the job's result. */
  async callJob(method: string, params: readonly unknown[] = [], options: CallOptions = {}): Promise<unknown> {
    const jobId = await this.call(method, params, options);
    if (typeof jobId !== "number") throw new TruenasConnectionError(`${method} returned ${JSON.stringify(jobId)} where a job id was expected`, undefined);
    return this.waitForJob(jobId, method);
  }

  /** Polls `core.get_jobs` until the job ends; throws TruenasJobError unless it ends in SUCCESS. */
  async waitForJob(jobId: number, method: string): Promise<unknown> {
    const timeoutMs = this.connection.jobTimeoutMs ?? 600_000;
    const pollMs = this.connection.jobPollIntervalMs ?? 1000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const jobs = await this.call("core.get_jobs", [[["id", "=", jobId]]]);
      const job = Array.isArray(jobs) ? jobs.find((j) => isRecord(j) && j.id === jobId) : undefined;
      if (!isRecord(job)) throw new TruenasJobError(`TrueNAS has no job #${jobId} for ${method}`, method, jobId, "MISSING", []);
      if (job.state === "SUCCESS") return job.result;
      if (job.state === "FAILED" || job.state === "ABORTED") throw jobErrorFrom(method, job, this.secrets);
      if (Date.now() + pollMs > deadline) {
        throw new TruenasJobError(`TrueNAS job ${method} (#${jobId}) did not finish within ${timeoutMs} ms (still ${String(job.state)})`, method, jobId, String(job.state), []);
      }
      await sleep(pollMs);
    }
  }

  /** The text with this client's secrets replaced by `***`, for messages built from TrueNAS answers. */
  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /** TrueNAS's version as `[major, minor]`, e.g. `[25, 10]`. */
  async version(): Promise<readonly [number, number]> {
    const text = String(await this.call("system.version"));
    const m = /(\d{2})\.(\d{1,2})/.exec(text);
    if (!m) throw new TruenasConnectionError(`cannot read a version from system.version "${text}"`, undefined);
    return [Number(m[1]), Number(m[2])];
  }

  close(): void {
    this.link?.close();
    this.link = undefined;
  }

  private async connect(): Promise<void> {
    this.stats.connects++;
    const link = await Link.open(this.connection, this.url, this.secrets);
    this.everConnected = true;
    let response: unknown;
    try {
      response = await link.request(
        "auth.login_ex",
        [{ mechanism: "API_KEY_PLAIN", username: this.connection.username, api_key: this.connection.apiKey }],
        this.connection.callTimeoutMs ?? 30_000,
      );
    } catch (error) {
      link.close();
      throw error;
    }
    this.stats.logins++;
    const type = isRecord(response) ? String(response.response_type) : String(response);
    if (type !== "SUCCESS") {
      link.close();
      const hint: Record<string, string> = {
        AUTH_ERR: "check the key, that it is not revoked (a key sent once without TLS is), and that it belongs to this user",
        EXPIRED: "the key has expired; create a new one",
        OTP_REQUIRED: "API keys are not subject to two-factor authentication, so this is a password login; use an API key",
        REDIRECT: "this node is not the active controller; use the active one's address",
      };
      throw new TruenasAuthError(
        `TrueNAS refused the API key for user "${this.connection.username}" (${type}): ${hint[type] ?? "unexpected login response"}`,
        type,
      );
    }
    this.link = link;
  }
}
