/**
 * TLS with a pinned SHA-256 certificate fingerprint, the way PVE's `pbs` storage trusts PBS.
 *
 * PBS ships a self-signed certificate, so chain validation would always fail; the pin replaces it.
 * Node only calls `checkServerIdentity` when chain validation succeeded, so with
 * `rejectUnauthorized: false` that hook is never reached for a self-signed certificate and cannot
 * carry the pin. Instead the socket is opened here, the peer certificate is compared with the pin
 * once the handshake completes, and only a verified socket is handed to the HTTP layer. Nothing,
 * in particular no Authorization header, is written before that comparison.
 */
import * as net from "node:net";
import * as tls from "node:tls";

/** The server presented a certificate other than the pinned one; never retried. */
export class FingerprintMismatchError extends Error {
  readonly code = "PBS_FINGERPRINT_MISMATCH";
  constructor(
    readonly endpoint: string,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(
      `the TLS certificate of ${endpoint} has fingerprint ${actual ?? "(none)"} but ${expected} is pinned; ` +
        "refusing to send credentials (check the fingerprint with `proxmox-backup-manager cert info`)",
    );
    this.name = "FingerprintMismatchError";
  }
}

/** Upper-case hex without separators, so `aa:bb:..` and `AABB..` compare equal. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, "").trim().toUpperCase();
}

/** The colon-separated upper-case form PBS and Node print (`AA:BB:...`). */
export function formatFingerprint(fingerprint: string): string {
  return (normalizeFingerprint(fingerprint).match(/.{1,2}/g) ?? []).join(":");
}

/** A SHA-256 fingerprint: 32 bytes as hex, with or without colons between bytes. */
export function isSha256Fingerprint(fingerprint: string): boolean {
  return /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(fingerprint) || /^[0-9A-Fa-f]{64}$/.test(fingerprint);
}

export function fingerprintMatches(pinned: string, presented: string | undefined): boolean {
  if (presented === undefined || presented === "") return false;
  const a = normalizeFingerprint(pinned);
  return a.length === 64 && a === normalizeFingerprint(presented);
}

export interface PinnedConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly fingerprint: string;
  readonly timeoutMs: number;
}

/** Opens a TLS socket and resolves only if the server's certificate matches the pinned fingerprint. */
export function connectPinned(options: PinnedConnectOptions): Promise<tls.TLSSocket> {
  const { host, port, fingerprint, timeoutMs } = options;
  const endpoint = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      // SNI must not carry an IP address (RFC 6066).
      servername: net.isIP(host) === 0 ? host : undefined,
      // The pin below is the trust decision; see the module comment.
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    let settled = false;
    const fail = (error: Error): void => {
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(error);
      }
    };
    socket.setTimeout(timeoutMs, () => {
      fail(Object.assign(new Error(`timed out after ${timeoutMs} ms connecting to ${endpoint}`), { code: "ETIMEDOUT" }));
    });
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      const presented = socket.getPeerCertificate().fingerprint256;
      if (!fingerprintMatches(fingerprint, presented)) {
        fail(new FingerprintMismatchError(endpoint, formatFingerprint(fingerprint), presented));
        return;
      }
      socket.setTimeout(0);
      socket.removeListener("error", fail);
      settled = true;
      resolve(socket);
    });
  });
}
