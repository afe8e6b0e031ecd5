/**
 * Real-process helpers for the agent tests: throwaway PostgreSQL and MariaDB servers in temp
 * dirs on loopback, a healthchecks-style ping recorder, and a runner for the generated scripts.
 * Nothing here touches the packaged database services or the host's systemd.
 */
import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import { beforeEach } from "node:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { parseCalendarEvent } from "../../config/calendar";
import type { AgentSpec } from "../../components/agents";

const SETUP_HINT = "run scripts/ci-agents-setup.sh as root (it installs postgresql, mariadb-server, borgmatic, borgbackup, systemd)";

function missingTools(tools: string[]): string[] {
  return tools.filter((t) => (t.startsWith("/") ? !existsSync(t) : spawnSync("sh", ["-c", `command -v '${t}'`]).status !== 0));
}

/**
 * Call inside a `describe`: when a tool the real tests need is missing, every test of the suite
 * fails (not skips, not "cancelled") with the setup hint. Returns whether all tools are there,
 * so the suite's `before` can leave its setup out.
 */
export function failEachTestWithout(tools: string[]): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  const error = new Error(`missing ${missing.join(", ")}: ${SETUP_HINT}`);
  beforeEach(() => {
    throw error;
  });
  return false;
}

/** The server's initdb (in PostgreSQL's versioned bin dir, not on PATH), or the pattern it was looked for as. */
export function pgInitdb(): string {
  try {
    return join(pgBinDir(), "initdb");
  } catch {
    return "/usr/lib/postgresql/<version>/bin/initdb";
  }
}

export function pgBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`PostgreSQL server binaries (initdb) not found under ${root}: ${SETUP_HINT}`);
  return join(root, newest, "bin");
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding `input` on stdin. Never throws for a non-zero exit. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    // Decode as a stream: a multi-byte character split across two chunks must not turn into U+FFFD.
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => (stdout += d));
    child.stderr.on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A command that exits without reading its input closes the pipe; that is not an error here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Like {@link run}, but throws with the output when the exit code is not 0. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Where the real tests work. Not under /tmp: the agent's default excludes (the strategy's
 * temporary files) cover /tmp, and a test there would back up nothing.
 */
export const TEST_ROOT = process.env.HOMELAB_AGENT_TEST_ROOT ?? "/var/lib/homelab-backup-tests";

const temps: string[] = [];
export function tempDir(prefix: string): string {
  mkdirSync(TEST_ROOT, { recursive: true, mode: 0o755 });
  chmodSync(TEST_ROOT, 0o755);
  const dir = mkdtempSync(join(TEST_ROOT, `${prefix}-`));
  temps.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

/** A PostgreSQL cluster owned by the `postgres` user (the server refuses root), on 127.0.0.1 with password auth. */
export class PostgresServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
  ) {}

  static async start(password: string): Promise<PostgresServer> {
    const bin = pgBinDir();
    const dir = tempDir("pg");
    const pw = (await runOk("id", ["-u", "postgres"])).stdout.trim();
    chownSync(dir, Number(pw), Number(pw));
    writeFileSync(join(dir, "pwfile"), `${password}\n`);
    chownSync(join(dir, "pwfile"), Number(pw), Number(pw));
    await runOk("runuser", ["-u", "postgres", "--", join(bin, "initdb"), "-D", join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${join(dir, "pwfile")}`, "--no-sync", "-E", "UTF8", "--locale=C"]);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await runOk("runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), "-D", join(dir, "data"), "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
    return new PostgresServer(dir, port, password);
  }

  /** Runs SQL as the superuser over the Unix socket (trust), returning unaligned tuples. */
  async sql(sql: string, db = "postgres"): Promise<string> {
    const r = await runOk("psql", ["-X", "-h", this.dir, "-p", String(this.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]);
    return r.stdout;
  }

  async stop(): Promise<void> {
    await run("runuser", ["-u", "postgres", "--", join(pgBinDir(), "pg_ctl"), "-D", join(this.dir, "data"), "-m", "immediate", "-w", "stop"]);
  }
}

/** A MariaDB server with its own datadir, socket and loopback port, running as root. */
export class MariaServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly pid: number,
  ) {}

  static async start(user: string, password: string): Promise<MariaServer> {
    const dir = tempDir("maria");
    await runOk("mariadb-install-db", ["--no-defaults", `--datadir=${join(dir, "data")}`, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"]);
    const port = await freePort();
    const opts: SpawnOptions = { stdio: "ignore", detached: true };
    const child = spawn(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${join(dir, "data")}`,
        "--user=root",
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        "--skip-networking=0",
        `--socket=${join(dir, "sock")}`,
        `--pid-file=${join(dir, "pid")}`,
        `--log-error=${join(dir, "err.log")}`,
        "--skip-log-bin",
        "--innodb-buffer-pool-size=16M",
        "--innodb-flush-log-at-trx-commit=0",
      ],
      opts,
    );
    child.unref();
    const server = new MariaServer(dir, port, child.pid ?? 0);
    await waitFor("mariadbd", async () => (await run("mariadb-admin", ["--no-defaults", `--socket=${join(dir, "sock")}`, "-uroot", "ping"])).code === 0);
    await server.sql(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO '${user}'@'127.0.0.1';`);
    return server;
  }

  /** Runs SQL as root over the socket, returning tab-separated rows without headers. */
  async sql(sql: string, db?: string): Promise<string> {
    const args = ["--no-defaults", `--socket=${join(this.dir, "sock")}`, "-uroot", "--batch", "--skip-column-names", "-e", sql];
    if (db) args.push(db);
    return (await runOk("mariadb", args)).stdout;
  }

  async stop(): Promise<void> {
    await run("mariadb-admin", ["--no-defaults", `--socket=${join(this.dir, "sock")}`, "-uroot", "shutdown"]);
    try {
      process.kill(this.pid, 0);
      process.kill(this.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export interface Ping {
  method: string;
  path: string;
}

/** A healthchecks stand-in on 127.0.0.1 that records every ping. */
export async function startPingServer(): Promise<{ url: string; pings: Ping[]; close: () => Promise<void> }> {
  const pings: Ping[] = [];
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      pings.push({ method: req.method ?? "", path: req.url ?? "" });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("OK");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/ping/e2e`,
    pings,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A stand-in for a command the scripts call (systemctl, docker): records its arguments, then runs `body`. */
export function fakeCommand(binDir: string, name: string, body: string): void {
  mkdirSync(binDir, { recursive: true });
  const path = join(binDir, name);
  writeFileSync(path, `#!/bin/bash\necho "$0 $*" >> ${JSON.stringify(join(binDir, `${name}.log`))}\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A spec whose every host path lies under `root`, for running the agent's files locally. */
export function localSpec(root: string, overrides: Partial<AgentSpec> = {}): AgentSpec {
  return {
    host: { name: "e2e", address: "127.0.0.1" },
    service: "database-vms",
    repository: { url: join(root, "repo") },
    sources: [join(root, "files")],
    retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
    checks: [
      { name: "repository", frequency: "2 weeks" },
      { name: "archives", frequency: "2 weeks" },
      { name: "extract", frequency: "1 month" },
      { name: "data", frequency: "1 month" },
    ],
    schedule: parseCalendarEvent("*-*-* 02:00"),
    layout: {
      configDir: join(root, "etc"),
      scriptPath: join(root, "bin", "homelab-backup-e2e"),
      unitDir: join(root, "units"),
      stateDir: join(root, "state"),
      runDir: join(root, "run"),
    },
    ...overrides,
  };
}

/** Environment for running borg/borgmatic in a test: its own borg home and fake systemctl/docker first on PATH. */
export function agentEnv(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${join(root, "fakebin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    BORG_BASE_DIR: join(root, "borg-home"),
    // Healthchecks pings must reach the local server directly.
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    LANG: "C.UTF-8",
    ...extra,
  };
}
