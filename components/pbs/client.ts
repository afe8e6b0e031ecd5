/**
 * The one place that speaks HTTP to Proxmox Backup Server (`https://<host>:8007/api2/json`).
 *
 * Habits every PBS resource relies on: API-token auth, a pinned certificate (tls.ts), JSON bodies,
 * bounded retries with exponential backoff on 5xx and connection errors only, UPID task polling,
 * the config `digest`, and errors that quote PBS's own message and parameter but never a secret.
 *
 * This module must stay free of `@pulumi/pulumi` at runtime: dynamic providers are serialized with
 * everything they reference, and a client built here is created inside each provider method.
 */
import * as https from "node:https";
import { connectPinned, FingerprintMismatchError } from "./tls";

/** How to reach PBS and authenticate, as the providers receive it (plain values). */
export interface PbsConnection {
  /** PBS base URL, `https://<host>:8007` (a trailing `/api2/json` is accepted). */
  readonly url: string;
  /** SHA-256 fingerprint of the PBS certificate, colon-separated hex (`proxmox-backup-manager cert info`). */
  readonly fingerprint: string;
  /** API token id, `user@realm!tokenname`. */
  readonly tokenId: string;
  /** API token secret. Never logged and never part of an error message. */
  readonly tokenSecret: string;
  /** Retries after the first attempt for 5xx answers and connection errors. @default 4 */
  readonly maxRetries?: number;
  /** First backoff delay; it doubles per retry, capped at 8 s. @default 250 */
  readonly retryBaseDelayMs?: number;
  /** Per-attempt timeout (connect + response). @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Interval between UPID status polls. @default 1000 */
  readonly taskPollIntervalMs?: number;
  /** How long a datastore create/delete task may run. @default 600000 */
  readonly taskTimeoutMs?: number;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";
/** Values PBS parameters take: strings, integers, booleans and string lists. */
export type ApiValue = string | number | boolean | readonly string[];
export type ApiRecord = Record<string, ApiValue>;

/** PBS answered with an HTTP error status. */
export class PbsApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly method: HttpMethod,
    readonly path: string,
    /** PBS's message, secrets redacted. */
    readonly pbsMessage: string,
    /** Per-parameter errors PBS reported, secrets redacted. */
    readonly params: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = "PbsApiError";
  }
}

/** A PBS worker task (UPID) ended with an exit status other than OK, or did not end in time. */
export class PbsTaskError extends Error {
  constructor(
    message: string,
    readonly upid: string,
    readonly exitStatus: string | undefined,
  ) {
    super(message);
    this.name = "PbsTaskError";
  }
}

/** PBS could not be reached (after the retries). */
export class PbsNetworkError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "PbsNetworkError";
  }
}

/** The parts of a PBS error body: `{"message": ..., "errors": {param: msg}}`, or plain text. */
export interface PbsErrorBody {
  readonly message: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Reads an error body in the shapes PBS uses: JSON with `message` and optional `errors`
 * (`{"data":null,"errors":{"param":"msg"},"message":"parameter verification errors\n"}`), or
 * plain text, where parameter errors appear as lines `param 'x': msg` or `x: msg`.
 */
export function parsePbsErrorBody(text: string): PbsErrorBody {
  const trimmed = text.trim();
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (isRecord(parsed)) {
      const params: Record<string, string> = {};
      if (isRecord(parsed.errors)) {
        for (const [param, msg] of Object.entries(parsed.errors)) params[param] = String(msg).trim();
      }
      const message = typeof parsed.message === "string" ? parsed.message.trim() : "";
      return { message, params };
    }
  } catch {
    // Not JSON: PBS's plain-text formatter, handled below.
  }
  const params: Record<string, string> = {};
  for (const line of trimmed.split("\n")) {
    const m = /^\s*(?:parameter\s+)?'?([A-Za-z][A-Za-z0-9_-]*)'?:\s+(.+)$/.exec(line);
    if (m) params[m[1]] = m[2].trim();
  }
  return { message: trimmed.split("\n")[0]?.trim() ?? "", params };
}

/** Replaces every occurrence of a secret (4 characters or longer) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}

/** `PBS rejected PUT /config/prune/x: schedule: unable to parse calendar event` */
export function describeRejection(method: HttpMethod, path: string, status: number, body: PbsErrorBody): string {
  const params = Object.entries(body.params).map(([p, m]) => `${p}: ${m}`);
  const detail = params.length > 0 ? params.join("; ") : body.message || `HTTP ${status}`;
  const hint = status === 401 ? " (check the API token id and secret)" : status === 403 ? " (the API token lacks a privilege)" : "";
  return status < 500
    ? `PBS rejected ${method} ${path}: ${detail}${hint}`
    : `PBS failed ${method} ${path} with HTTP ${status}: ${detail}`;
}

/** Only server faults are worth retrying; a 4xx will fail the same way again. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

const RETRYABLE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "UND_ERR_SOCKET"]);

export function isRetryableNetworkError(error: unknown): boolean {
  if (error instanceof FingerprintMismatchError) return false;
  const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** Delay before retry number `retry` (0-based): base * 2^retry, capped, scaled by `jitter` in [0.5, 1]. */
export function backoffDelay(retry: number, baseMs: number, capMs = 8000, jitter = 1): number {
  const raw = Math.min(capMs, baseMs * 2 ** retry);
  return Math.round(raw * Math.min(1, Math.max(0.5, jitter)));
}

/** The fields of a UPID, `UPID:<node>:<pid>:<pstart>:<task-id>:<starttime>:<type>:<id>:<authid>:`. */
export interface Upid {
  readonly node: string;
  readonly workerType: string;
  readonly workerId: string;
  readonly authId: string;
}

export function parseUpid(upid: string): Upid {
  const parts = upid.split(":");
  if (parts.length < 9 || parts[0] !== "UPID" || parts[1] === "") {
    throw new Error(`PBS returned "${upid}" where a task id (UPID:<node>:...) was expected`);
  }
  return { node: parts[1], workerType: parts[6], workerId: parts[7], authId: parts[8] };
}

/** `https://host:8007` or `https://host:8007/api2/json` → `{ host, port, base: "/api2/json" }`. */
export function apiEndpoint(url: string): { host: string; port: number; base: string } {
  const u = new URL(url);
  if (u.protocol !== "https:") throw new Error(`PBS url must use https, got ${u.protocol}//`);
  const path = u.pathname.replace(/\/+$/, "");
  const base = path.endsWith("/api2/json") ? path : `${path}/api2/json`;
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: u.port === "" ? 8007 : Number(u.port), base };
}

/** Query string with PBS conventions: booleans as 1/0, lists as repeated keys. */
export function encodeQuery(query: Readonly<Record<string, ApiValue | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) params.append(key, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** One path segment, encoded (user ids carry `@` and `!`, UPIDs carry `:`). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A missing object: 404, or the "no such ..." / "does not exist" messages PBS sends with 400 for some lookups. */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof PbsApiError)) return false;
  if (error.status === 404) return true;
  return error.status === 400 && /(^|\s)(no such|does not exist|not found)/i.test(error.pbsMessage);
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, ApiValue | undefined>>;
  readonly body?: Readonly<Record<string, unknown>>;
}

/** A successful answer: PBS puts the payload in `data` and result attributes such as `digest` beside it. */
export interface PbsResponse {
  readonly data: unknown;
  readonly digest?: string;
}

interface RawResponse {
  readonly status: number;
  readonly text: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class PbsClient {
  private readonly endpoint: { host: string; port: number; base: string };
  private readonly secrets: readonly string[];

  /** `extraSecrets`: values of secret resource inputs, kept out of error messages as well. */
  constructor(
    private readonly connection: PbsConnection,
    extraSecrets: readonly string[] = [],
  ) {
    this.endpoint = apiEndpoint(connection.url);
    this.secrets = [connection.tokenSecret, ...extraSecrets];
  }

  async get(path: string, query?: RequestOptions["query"]): Promise<unknown> {
    return (await this.request("GET", path, { query })).data;
  }

  /** GET of a config object: the object and the digest to send back on PUT/DELETE. */
  async getWithDigest(path: string): Promise<{ data: Record<string, unknown>; digest: string | undefined }> {
    const response = await this.request("GET", path);
    if (!isRecord(response.data)) throw new Error(`PBS returned no object for GET ${path}`);
    const inner = typeof response.data.digest === "string" ? response.data.digest : undefined;
    return { data: response.data, digest: response.digest ?? inner };
  }

  async post(path: string, body: Readonly<Record<string, unknown>>): Promise<unknown> {
    return (await this.request("POST", path, { body })).data;
  }

  async put(path: string, body: Readonly<Record<string, unknown>>): Promise<unknown> {
    return (await this.request("PUT", path, { body })).data;
  }

  async delete(path: string, query?: RequestOptions["query"]): Promise<unknown> {
    return (await this.request("DELETE", path, { query })).data;
  }

  /** Polls `/nodes/{node}/tasks/{upid}/status` until the task stops; anything but exit status OK throws. */
  async waitForTask(upid: string): Promise<void> {
    const { node } = parseUpid(upid);
    const path = `/nodes/${seg(node)}/tasks/${seg(upid)}/status`;
    const interval = this.connection.taskPollIntervalMs ?? 1000;
    const deadline = Date.now() + (this.connection.taskTimeoutMs ?? 600_000);
    for (;;) {
      const status = await this.get(path);
      if (isRecord(status) && status.status === "stopped") {
        const exit = typeof status.exitstatus === "string" ? status.exitstatus : undefined;
        if (exit === "OK") return;
        throw new PbsTaskError(`PBS task ${upid} failed: ${redact(exit ?? "no exit status", this.secrets)}`, upid, exit);
      }
      if (Date.now() >= deadline) {
        throw new PbsTaskError(`PBS task ${upid} still running after ${this.connection.taskTimeoutMs ?? 600_000} ms`, upid, undefined);
      }
      await sleep(interval);
    }
  }

  async request(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<PbsResponse> {
    const maxRetries = this.connection.maxRetries ?? 4;
    const base = this.connection.retryBaseDelayMs ?? 250;
    for (let attempt = 0; ; attempt++) {
      let response: RawResponse;
      try {
        response = await this.send(method, path, options);
      } catch (error) {
        if (isRetryableNetworkError(error) && attempt < maxRetries) {
          await sleep(backoffDelay(attempt, base, 8000, 0.5 + Math.random() / 2));
          continue;
        }
        throw this.networkError(error, method, path, attempt + 1);
      }
      if (isRetryableStatus(response.status) && attempt < maxRetries) {
        await sleep(backoffDelay(attempt, base, 8000, 0.5 + Math.random() / 2));
        continue;
      }
      if (response.status >= 400) throw this.apiError(method, path, response, attempt + 1);
      return this.parseSuccess(method, path, response.text);
    }
  }

  private parseSuccess(method: HttpMethod, path: string, text: string): PbsResponse {
    let parsed: unknown;
    try {
      parsed = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      throw new Error(`PBS answered ${method} ${path} with a body that is not JSON`);
    }
    if (!isRecord(parsed)) return { data: parsed };
    return { data: parsed.data ?? null, digest: typeof parsed.digest === "string" ? parsed.digest : undefined };
  }

  private apiError(method: HttpMethod, path: string, response: RawResponse, attempts: number): PbsApiError {
    const body = parsePbsErrorBody(redact(response.text, this.secrets));
    let message = describeRejection(method, path, response.status, body);
    if (attempts > 1) message += ` (after ${attempts} attempts)`;
    return new PbsApiError(message, response.status, method, path, body.message, body.params);
  }

  private networkError(error: unknown, method: HttpMethod, path: string, attempts: number): Error {
    if (error instanceof FingerprintMismatchError) return error;
    const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
    const reason = redact(error instanceof Error ? error.message : String(error), this.secrets);
    const where = `${this.endpoint.host}:${this.endpoint.port}`;
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    return new PbsNetworkError(`could not complete ${method} ${path} on PBS at ${where}${tries}: ${reason}`, code);
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions): Promise<RawResponse> {
    const { host, port, base } = this.endpoint;
    const timeoutMs = this.connection.requestTimeoutMs ?? 30_000;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), "utf8");
    // The socket is verified against the pin before the request (and its token) is written.
    const socket = await connectPinned({ host, port, fingerprint: this.connection.fingerprint, timeoutMs });
    return new Promise<RawResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = {
        Authorization: `PBSAPIToken=${this.connection.tokenId}:${this.connection.tokenSecret}`,
        Accept: "application/json",
        Connection: "close",
      };
      if (payload !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = payload.length;
      }
      const req = https.request({
        method,
        host,
        port,
        path: `${base}${path}${encodeQuery(options.query ?? {})}`,
        headers,
        createConnection: () => socket,
      });
      // The request's own `timeout` option is not applied to a socket from createConnection.
      let timedOut: Error | undefined;
      socket.setTimeout(timeoutMs, () => {
        timedOut = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" });
        req.destroy(timedOut);
      });
      req.on("error", (error) => {
        socket.destroy();
        reject(timedOut ?? error);
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.end(payload);
    });
  }
}
