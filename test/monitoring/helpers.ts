/**
 * Real-process helpers for the monitoring and hook tests: a runner for the generated scripts
 * (async, so the in-process test servers keep answering), temp dirs, a fake notify command that
 * records its arguments, and an HTTP(S) receiver standing in for Gotify, ntfy and healthchecks.
 */
import { spawnSync } from "node:child_process";
import { beforeEach } from "node:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCert } from "../fixtures/cert";

/** Commands the generated scripts call; Debian packages: bash, curl, jq, openssl, python3, systemd. */
export const SCRIPT_TOOLS = ["bash", "curl", "jq", "openssl", "timeout", "awk"];

/**
 * Call inside a `describe`: when a tool is missing, every test of the suite fails (not skips)
 * naming it. Returns whether all are there, so `before` can leave its setup out.
 */
export function failEachTestWithout(tools: string[]): boolean {
  const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v '${t}'`]).status !== 0);
  if (missing.length === 0) return true;
  const error = new Error(`missing ${missing.join(", ")}: apt-get install ${missing.map((m) => (m === "timeout" ? "coreutils" : m === "awk" ? "mawk" : m === "systemd-analyze" ? "systemd" : m)).join(" ")}`);
  beforeEach(() => {
    throw error;
  });
  return false;
}

// One process runner for every suite that runs generated scripts for real.
export { run, type RunResult } from "../agents/helpers";

const temps: string[] = [];
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hb-${prefix}-`));
  temps.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function writeExecutable(path: string, content: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, 0o755);
  return path;
}

/** A stand-in for homelab-backup-notify: each call appends its arguments as one JSON line. */
export class FakeNotify {
  readonly path: string;
  private readonly log: string;

  constructor(dir: string) {
    this.path = join(dir, "homelab-backup-notify");
    this.log = join(dir, "notify.calls");
    // Arguments NUL-separated, one call per line: a body may hold anything but NUL. It drains
    // its standard input, as a real notifier may: a caller must not hand it a loop's input.
    writeExecutable(this.path, `#!/bin/bash\ncat >/dev/null\n{ printf '%s\\0' "$@"; printf '\\n'; } >> ${JSON.stringify(this.log)}\nexit 0\n`);
  }

  calls(): { severity: string; title: string; body: string; argc: number }[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, "utf8")
      .split("\0\n")
      .filter((l) => l !== "")
      .map((l) => {
        const args = l.split("\0");
        return { severity: args[0] ?? "", title: args[1] ?? "", body: args[2] ?? "", argc: args.length };
      });
  }

  clear(): void {
    writeFileSync(this.log, "");
  }
}

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP (or, with a certificate, HTTPS) receiver that records every request. */
export class Receiver {
  readonly requests: Received[] = [];
  /** What the next requests are answered with. */
  reply: { status: number; body: string } = { status: 200, body: "{}" };

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(cert?: TestCert): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const handler: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        receiver?.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(receiver?.reply.status ?? 200, { "content-type": "application/json" });
        res.end(receiver?.reply.body ?? "");
      });
    };
    const server = cert ? https.createServer({ key: cert.key, cert: cert.cert }, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    receiver = new Receiver(server, `${cert ? "https" : "http"}://127.0.0.1:${port}`);
    return receiver;
  }

  paths(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Environment for the scripts: the test's PATH first, no proxy for loopback. */
export function scriptEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", LANG: "C.UTF-8", ...extra };
}
