/**
 * What the restore tests share: the homelab stack pointed at the test servers, a seeded cluster,
 * and two ways to run the real CLI (plain pipes for the flag form, a pseudo-terminal for the wizard).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse, stringify } from "yaml";
import { parseOptions } from "../../restore/args";
import { failureLine } from "../../restore/cli";
import { runRestore } from "../../restore/flow";
import { PveTestServer } from "../fixtures/pve-server";

export const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "restore/cli.ts");
/** tsx's loader by path: the CLI runs in a temp dir, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

/** The homelab's storages, as PVE names them (`<storageId>-<datastore>[-<namespace>]`). */
export const CRITICAL = "pbs-backup-critical";
export const IMPORTANT = "pbs-backup-homelab-important";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A temp dir holding `Pulumi.homelab.yaml`: the seed stack with its hosts pointed at the test servers. */
export function stackDir(pve: PveTestServer, overrides: { truenasFingerprint?: string; targets?: unknown[] } = {}): string {
  const doc = parse(readFileSync(join(ROOT, "Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, any> };
  const cfg = doc.config;
  cfg["homelab-backup:hosts"].pve.endpoint = pve.url;
  cfg["homelab-backup:hosts"].truenas.host = "127.0.0.1";
  cfg["homelab-backup:hosts"].truenas.apiUser = "admin";
  if (overrides.truenasFingerprint) cfg["homelab-backup:hosts"].truenas.fingerprint = overrides.truenasFingerprint;
  // Only the mail target by default: the seed's gotify and ntfy hosts do not resolve here.
  cfg["homelab-backup:monitoring"].targets = overrides.targets ?? cfg["homelab-backup:monitoring"].targets.filter((t: { type: string }) => t.type === "smtp");
  const dir = mkdtempSync(join(tmpdir(), "restore-test-"));
  writeFileSync(join(dir, "Pulumi.homelab.yaml"), stringify(doc));
  return dir;
}

/**
 * The homelab's guests: the database VMs 101 (running on pve1) and 102 (on pve2), the file
 * server 110, the docker host 120, and two application VMs in pool `applications`.
 */
export async function startCluster(options: { taskPolls?: number; bootPings?: number } = {}): Promise<PveTestServer> {
  const pve = await PveTestServer.start({ storages: [CRITICAL, IMPORTANT], taskPolls: options.taskPolls ?? 2, bootPings: options.bootPings ?? 1 });
  pve.addGuest({ vmid: 101, node: "pve1", config: { name: "db01", memory: 8192, cores: 4, agent: "1", net0: "virtio=BC:24:11:00:01:01,bridge=vmbr0", scsi0: "local-zfs:vm-101-disk-0,size=64G", onboot: 1 } });
  pve.addGuest({ vmid: 102, node: "pve2", config: { name: "db02", memory: 8192, cores: 4, agent: "1", net0: "virtio=BC:24:11:00:01:02,bridge=vmbr0", scsi0: "local-zfs:vm-102-disk-0,size=64G" } });
  pve.addGuest({ vmid: 110, node: "pve1", config: { name: "files", memory: 4096, agent: "1", net0: "virtio=BC:24:11:00:01:10,bridge=vmbr0" } });
  pve.addGuest({ vmid: 120, node: "pve3", config: { name: "docker01", memory: 4096, agent: "1", net0: "virtio=BC:24:11:00:01:20,bridge=vmbr0" } });
  pve.addGuest({ vmid: 130, node: "pve2", pool: "applications", config: { name: "app01", memory: 2048, agent: "1", net0: "virtio=BC:24:11:00:01:30,bridge=vmbr0" } });
  pve.addGuest({ vmid: 131, node: "pve3", pool: "applications", status: "stopped", config: { name: "app02", memory: 2048, net0: "virtio=BC:24:11:00:01:31,bridge=vmbr0" } });
  return pve;
}

/** Hourly backups of 101 for the last `hours` hours (at :00), as the critical job writes them. */
export function hourlyBackups(pve: PveTestServer, vmid: number, until: Date, hours: number, storage = CRITICAL): void {
  const last = Math.floor(until.getTime() / HOUR) * HOUR;
  for (let i = hours - 1; i >= 0; i--) {
    pve.addBackup({ vmid, storage, time: new Date(last - i * HOUR), notes: `db01 · service database-vms · tier critical`, verification: i > 2 ? "ok" : undefined });
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function cliEnv(pve: PveTestServer, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    PVE_API_TOKEN: pve.apiToken,
    PVE_FINGERPRINT: pve.fingerprint,
    RESTORE_POLL_MS: "25",
    USER: "tester",
    ...extra,
  };
  return env;
}

/** The CLI with pipes: no terminal, so the flag form. */
export function runCli(args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * The same run as the CLI's, in this process: for cases where what matters is what the restore
 * does, not how a process starts (spawning one costs a second of CPU).
 */
export async function runInProcess(args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  let stdout = "";
  try {
    const code = await runRestore(parseOptions(args, options.cwd, new Date()), {
      env: options.env, cwd: options.cwd, now: () => new Date(), out: (t) => (stdout += t), tty: false,
    });
    return { code, stdout, stderr: "" };
  } catch (error) {
    return { code: 1, stdout, stderr: `${failureLine(error)}\n` };
  }
}

/** Terminal output without colours and cursor movement, for matching. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

export const KEY = { down: "\x1b[B", up: "\x1b[A", enter: "\r" } as const;

/**
 * The CLI on a pseudo-terminal (util-linux `script`), so inquirer draws its prompts and reads
 * keys as it does for a person. `expect` waits for text, `send` types.
 */
export class Terminal {
  private output = "";
  private readonly exited: Promise<number>;
  private readonly child;

  constructor(args: readonly string[], options: { cwd: string; env: Record<string, string> }) {
    const command = [process.execPath, "--import", TSX, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    this.child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: options.cwd,
      env: { ...options.env, TERM: "xterm-256color", COLUMNS: "200", LINES: "50" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) => this.child.on("close", (code) => r(code ?? -1)));
  }

  get text(): string {
    return plain(this.output);
  }

  /** Waits until `pattern` appears after `from` characters of plain output; returns where it ends. */
  async expect(pattern: RegExp, timeoutMs = 15_000, from = 0): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.text.slice(from);
      const m = pattern.exec(text);
      if (m) return from + m.index + m[0].length;
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`timed out waiting for ${pattern} in:\n${this.text.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Types `keys` after the prompt has settled (inquirer ignores keys sent while it draws). */
  async send(keys: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 120));
    this.child.stdin.write(keys);
  }

  async exit(timeoutMs = 30_000): Promise<number> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function auditLines(path: string): Record<string, any>[] {
  return readFileSync(path, "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, any>);
}
