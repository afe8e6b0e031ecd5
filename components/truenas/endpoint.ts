/**
 * Where and how the client may talk to TrueNAS: only over TLS, because TrueNAS revokes an API key
 * the moment it arrives over plain HTTP or ws, and only to a certificate that verifies, either
 * against the CA store (plus an optional CA) or against a pinned SHA-256 fingerprint.
 *
 * REST (`/api/v2.0`) is deliberately not supported, not even for 24.10: it is deprecated in 25.04,
 * raises an alert on every call from 25.10.1 and is removed in 26, and supporting it would double
 * the transport, the error shapes and the contract tests for a release line that has no
 * `/api/current` JSON-RPC endpoint anyway. TrueNAS 25.04 or newer is required.
 */

/** The URL was not `wss://` or `https://`; nothing was sent. */
export class InsecureTransportError extends Error {
  readonly code: string;
  constructor(url: string) {
    const message =
      `refusing to connect to ${url}: TrueNAS revokes an API key that is sent without TLS, ` +
      "so only wss:// (or https://, which means the same endpoint) is allowed";
    super(message);
    this.message = message;
    this.name = "InsecureTransportError";
    this.code = "TRUENAS_INSECURE_TRANSPORT";
  }
}

/** The server presented a certificate other than the pinned one; nothing was sent. */
export class FingerprintMismatchError extends Error {
  readonly code: string;
  readonly endpoint: string;
  readonly expected: string;
  readonly actual: string | undefined;
  constructor(endpoint: string, expected: string, actual: string | undefined) {
    const message =
      `the TLS certificate of ${endpoint} has SHA-256 fingerprint ${actual ?? "(none)"} but ${expected} is pinned; ` +
      "refusing to send the API key (check the certificate under System > Certificates)";
    super(message);
    this.message = message;
    this.name = "FingerprintMismatchError";
    this.code = "TRUENAS_FINGERPRINT_MISMATCH";
    this.endpoint = endpoint;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * `wss://nas/api/current` for `wss://nas`, `https://nas`, `https://nas:8443/` or a full
 * `/api/current` (or versioned `/api/v25.10.0`) URL.
 * @throws InsecureTransportError for ws:// and http://, TypeError for anything that is not a URL
 */
export function endpointUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === "ws:" || u.protocol === "http:") throw new InsecureTransportError(url);
  if (u.protocol !== "wss:" && u.protocol !== "https:") {
    throw new TypeError(`expected a wss:// or https:// URL for TrueNAS, got ${u.protocol}//`);
  }
  const path = u.pathname.replace(/\/+$/, "");
  const apiPath = /\/api\/(current|v\d[\w.]*)$/.test(path) ? path : `${path}/api/current`;
  return `wss://${u.host}${apiPath}`;
}

/** Upper-case hex without separators, so `aa:bb:..` and `AABB..` compare equal. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, "").trim().toUpperCase();
}

/** A SHA-256 fingerprint: 32 bytes of hex, with or without colons. */
export function isSha256Fingerprint(fingerprint: string): boolean {
  return /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(fingerprint) || /^[0-9A-Fa-f]{64}$/.test(fingerprint);
}

export function fingerprintMatches(pinned: string, presented: string | undefined): boolean {
  if (presented === undefined || presented === "") return false;
  const a = normalizeFingerprint(pinned);
  return a.length === 64 && a === normalizeFingerprint(presented);
}
