/**
 * HTTP to the Proxmox VE API (`https://<node>:8006/api2/json`), the restore tool's only way into
 * the cluster.
 *
 * PVE speaks the same dialect as PBS (JSON under `data`, `errors` per parameter, UPID tasks), so
 * the PBS client's pinned TLS and helpers are reused; what differs is the auth (a `PVEAPIToken=`
 * header, or a ticket cookie plus a CSRF token on writes), form-encoded bodies, and where PVE puts
 * an error's message (the HTTP reason phrase, with `{"data":null}` as the body).
 *
 * Only reads are retried. A POST whose answer was lost may already have started a restore or a
 * backup; sending it again would start a second one over the first.
 */
import * as https from "node:https";
import {
  backoffDelay,
  encodeQuery,
  isRecord,
  isRetryableNetworkError,
  parsePbsErrorBody,
  redact,
  type ApiValue,
} from "../../components/pbs/client";
import { connectPinned, FingerprintMismatchError } from "../../components/pbs/tls";

export type PveAuth =
  /** Only for `POST /access/ticket`, the call that obtains a ticket. */
  | { readonly kind: "none" }
  | { readonly kind: "token"; readonly tokenId: string; readonly secret: string }
  | { readonly kind: "ticket"; readonly username: string; readonly ticket: string; readonly csrf: string };

export interface PveConnection {
  /** `https://pve1.home.arpa:8006` (a trailing `/api2/json` is accepted). */
  readonly url: string;
  /** SHA-256 fingerprint of PVE's certificate; without one the certificate must verify against the CA store. */
  readonly fingerprint?: string;
  /** Per-attempt timeout. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Retries of a GET after a 5xx or a connection error. @default 3 */
  readonly maxRetries?: number;
  /** @default 250 */
  readonly retryBaseDelayMs?: number;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";
export type Params = Readonly<Record<string, ApiValue | undefined>>;

/** PVE answered with an error status; the message is PVE's own, secrets redacted. */
export class PveApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly method: HttpMethod,
    readonly path: string,
    readonly pveMessage: string,
    readonly params: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = "PveApiError";
  }
}

/** PVE could not be reached. */
export class PveNetworkError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = "PveNetworkError";
  }
}

export function pveEndpoint(url: string): { host: string; port: number; base: string } {
  const u = new URL(url);
  if (u.protocol !== "https:") throw new Error(`the PVE endpoint must use https, got ${u.protocol}//`);
  const path = u.pathname.replace(/\/+$/, "");
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? 8006 : Number(u.port),
    base: path.endsWith("/api2/json") ? path : `${path}/api2/json`,
  };
}

/**
 * PVE answers 500 for every exception, "does not exist" included, so a 500 is not worth repeating;
 * gateway errors and 595/596 (a node proxying to another that did not answer) are.
 */
export function isTransientStatus(status: number): boolean {
  return [502, 503, 504, 595, 596].includes(status);
}

interface RawResponse {
  readonly status: number;
  readonly reason: string;
  readonly text: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class PveClient {
  private readonly endpoint: { host: string; port: number; base: string };

  constructor(
    readonly connection: PveConnection,
    readonly auth: PveAuth,
    /** Values kept out of every message besides the auth secrets (a password during login). */
    private readonly extraSecrets: readonly string[] = [],
  ) {
    this.endpoint = pveEndpoint(connection.url);
  }

  /** Who the cluster sees: `root@pam!restore` or `root@pam`. */
  get authId(): string {
    return this.auth.kind === "token" ? this.auth.tokenId : this.auth.kind === "ticket" ? this.auth.username : "(anonymous)";
  }

  async get(path: string, params?: Params): Promise<unknown> {
    return this.request("GET", path, params);
  }

  async post(path: string, params: Params = {}): Promise<unknown> {
    return this.request("POST", path, params);
  }

  async put(path: string, params: Params = {}): Promise<unknown> {
    return this.request("PUT", path, params);
  }

  async delete(path: string, params?: Params): Promise<unknown> {
    return this.request("DELETE", path, params);
  }

  private get secrets(): string[] {
    const own = this.auth.kind === "token" ? [this.auth.secret] : this.auth.kind === "ticket" ? [this.auth.ticket, this.auth.csrf] : [];
    return [...own, ...this.extraSecrets];
  }

  async request(method: HttpMethod, path: string, params: Params = {}): Promise<unknown> {
    const retries = method === "GET" ? (this.connection.maxRetries ?? 3) : 0;
    const base = this.connection.retryBaseDelayMs ?? 250;
    for (let attempt = 0; ; attempt++) {
      let response: RawResponse;
      try {
        response = await this.send(method, path, params);
      } catch (error) {
        if (isRetryableNetworkError(error) && attempt < retries) {
          await sleep(backoffDelay(attempt, base, 8000, 0.5 + Math.random() / 2));
          continue;
        }
        throw this.networkError(error, method, path);
      }
      if (isTransientStatus(response.status) && attempt < retries) {
        await sleep(backoffDelay(attempt, base, 8000, 0.5 + Math.random() / 2));
        continue;
      }
      if (response.status >= 400) throw this.apiError(method, path, response);
      let parsed: unknown;
      try {
        parsed = response.text.trim() === "" ? {} : JSON.parse(response.text);
      } catch {
        throw new Error(`PVE answered ${method} ${path} with a body that is not JSON`);
      }
      return isRecord(parsed) ? (parsed.data ?? null) : parsed;
    }
  }

  private apiError(method: HttpMethod, path: string, response: RawResponse): PveApiError {
    const body = parsePbsErrorBody(redact(response.text, this.secrets));
    const reason = redact(response.reason, this.secrets).trim();
    // PVE's body is `{"data":null}` for most failures; the message rides in the reason phrase.
    const message = body.message && body.message !== "null" ? body.message : reason;
    const params = Object.entries(body.params).map(([p, m]) => `${p}: ${m}`);
    const detail = params.length > 0 ? `${message ? `${message} ` : ""}(${params.join("; ")})` : message || `HTTP ${response.status}`;
    const hint =
      response.status === 401
        ? " (check the API token, or log in again)"
        : response.status === 403
          ? " (the token or user lacks a privilege on this path)"
          : "";
    return new PveApiError(`PVE refused ${method} ${path}: ${detail}${hint}`, response.status, method, path, message, body.params);
  }

  private networkError(error: unknown, method: HttpMethod, path: string): Error {
    if (error instanceof FingerprintMismatchError) {
      return new PveNetworkError(
        `the TLS certificate of ${error.endpoint} has fingerprint ${error.actual ?? "(none)"} but ${error.expected} is pinned; ` +
          "refusing to send credentials (compare with `pvenode cert info` on the node)",
        error.code,
      );
    }
    const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
    const reason = redact(error instanceof Error ? error.message : String(error), this.secrets);
    const hint = code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) ? " (pin the certificate with PVE_FINGERPRINT, or install its CA)" : "";
    return new PveNetworkError(`could not complete ${method} ${path} on PVE at ${this.endpoint.host}:${this.endpoint.port}: ${reason}${hint}`, code);
  }

  private headers(method: HttpMethod): Record<string, string> {
    if (this.auth.kind === "none") return {};
    if (this.auth.kind === "token") return { Authorization: `PVEAPIToken=${this.auth.tokenId}=${this.auth.secret}` };
    const headers: Record<string, string> = { Cookie: `PVEAuthCookie=${encodeURIComponent(this.auth.ticket)}` };
    if (method !== "GET") headers.CSRFPreventionToken = this.auth.csrf;
    return headers;
  }

  private async send(method: HttpMethod, path: string, params: Params): Promise<RawResponse> {
    const { host, port, base } = this.endpoint;
    const timeoutMs = this.connection.requestTimeoutMs ?? 30_000;
    const inBody = method === "POST" || method === "PUT";
    const form = inBody ? encodeQuery(params).replace(/^\?/, "") : "";
    const payload = inBody ? Buffer.from(form, "utf8") : undefined;
    const fingerprint = this.connection.fingerprint;
    // With a pin, the socket is verified before the request (and its credentials) is written;
    // without one, Node's default chain and host name verification apply. Never neither.
    const socket = fingerprint ? await connectPinned({ host, port, fingerprint, timeoutMs }) : undefined;
    return new Promise<RawResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...this.headers(method), Accept: "application/json", Connection: "close" };
      if (payload !== undefined) {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        headers["Content-Length"] = payload.length;
      }
      const req = https.request({
        method,
        host,
        port,
        path: `${base}${path}${inBody ? "" : encodeQuery(params)}`,
        headers,
        ...(socket ? { createConnection: () => socket } : { rejectUnauthorized: true }),
        timeout: timeoutMs,
      });
      let timedOut: Error | undefined;
      const onTimeout = (): void => {
        timedOut = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" });
        req.destroy(timedOut);
      };
      // A socket from createConnection does not get the request's `timeout`.
      if (socket) socket.setTimeout(timeoutMs, onTimeout);
      else req.on("timeout", onTimeout);
      req.on("error", (error) => {
        socket?.destroy();
        reject(timedOut ?? error);
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          socket?.destroy();
          resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? "", text: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.end(payload);
    });
  }
}
