/**
 * Docker volume quiescing, for real with borgmatic and borg, and a stand-in `docker` CLI (no
 * Docker daemon here) that keeps container state in files and marks each volume "stopped" or
 * "running" as the container goes down and up. Proves the archive holds the stopped state, that
 * live volumes are read live, and that a stopped container comes back after a failed dump, a
 * failed stop and a killed run.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deployScript, initRepositoryScript, renderSecretsEnv, resolveAgentSpec, secretsScript, type AgentDockerContainer, type AgentSpec } from "../../components/agents";
import { agentEnv, fakeCommand, freePort, localSpec, removeTempDirs, failEachTestWithout, run, runOk, tempDir } from "./helpers";

const PASSPHRASE = "quiesce passphrase";
let root: string;
let env: NodeJS.ProcessEnv;
let state: string;
let dockerRoot: string;

function containerState(c: string): string {
  return readFileSync(join(state, c), "utf8").trim();
}

function setContainers(running: Record<string, boolean>) {
  for (const [c, on] of Object.entries(running)) {
    writeFileSync(join(state, c), on ? "true\n" : "false\n");
    mkdirSync(join(dockerRoot, "volumes", `${c}_data`, "_data"), { recursive: true });
    writeFileSync(join(dockerRoot, "volumes", `${c}_data`, "_data", "status"), on ? "running\n" : "stopped\n");
  }
}

function dockerCalls(): string[] {
  const log = join(root, "fakebin", "docker.log");
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^\S+\/docker /, ""))
    .filter((l) => !l.startsWith("inspect"));
}

function resetCalls() {
  writeFileSync(join(root, "fakebin", "docker.log"), "");
}

function spec(docker: AgentDockerContainer[], extra: Partial<AgentSpec> = {}) {
  return resolveAgentSpec(localSpec(root, { service: "docker-volumes", docker, dockerRoot, ...extra }));
}

async function deploy(s: ReturnType<typeof spec>) {
  const r = await run("bash", ["-c", deployScript(s, "1.7")], { env });
  assert.equal(r.code, 0, r.stderr);
}

const VW = { container: "vw", volumes: ["vw_data"], stopDuringBackup: true };
const LIVE = { container: "live", volumes: ["live_data"], stopDuringBackup: false };
const IDLE = { container: "idle", volumes: ["idle_data"], stopDuringBackup: true };

describe("quiescing Docker containers around borgmatic", { timeout: 60_000 }, () => {
  const ready = failEachTestWithout(["borgmatic", "borg", "pg_dump"]);
  before(async () => {
    if (!ready) return;
    root = tempDir("quiesce");
    env = agentEnv(root);
    state = join(root, "docker-state");
    dockerRoot = join(root, "docker");
    mkdirSync(state, { recursive: true });
    mkdirSync(join(root, "files"), { recursive: true });
    writeFileSync(join(root, "files", "compose.yaml"), "services: {}\n");
    fakeCommand(join(root, "fakebin"), "systemctl", "exit 0");
    fakeCommand(
      join(root, "fakebin"),
      "docker",
      `state=${JSON.stringify(state)}; volumes=${JSON.stringify(join(dockerRoot, "volumes"))}
cmd=$1; shift
case "$cmd" in
  inspect) c="\${@: -1}"; [ -f "$state/$c" ] || { echo "Error: No such object: $c" >&2; exit 1; }; cat "$state/$c" ;;
  stop) c=$1
    [ "$c" = slow ] && sleep 20
    [ -f "$state/refuse-stop-$c" ] && { echo "Error response from daemon: cannot stop $c" >&2; exit 1; }
    echo false > "$state/$c"; echo stopped > "$volumes/\${c}_data/_data/status"; echo "$c" ;;
  start) c=$1; echo true > "$state/$c"; echo running > "$volumes/\${c}_data/_data/status"; echo "$c" ;;
  *) echo "fake docker: unexpected $cmd" >&2; exit 2 ;;
esac`,
    );
    const s = spec([VW, LIVE, IDLE]);
    await deploy(s);
    assert.equal((await run("bash", ["-c", secretsScript(s)], { env, input: renderSecretsEnv(s, PASSPHRASE, {}) })).code, 0);
    const init = await run("bash", ["-c", initRepositoryScript(s, "1.7")], { env });
    assert.equal(init.code, 0, init.stderr);
  });

  after(() => removeTempDirs());

  it("archives the stopped state of quiesced volumes, reads live ones live, and leaves idle containers down", async () => {
    setContainers({ vw: true, live: true, idle: false });
    resetCalls();
    const r = await run(join(root, "bin", "homelab-backup-e2e"), [], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(dockerCalls(), ["stop vw", "start vw"]);
    assert.equal(containerState("vw"), "true");
    assert.equal(containerState("live"), "true");
    assert.equal(containerState("idle"), "false", "a container an operator stopped stays stopped");

    const repo = join(root, "repo");
    const borgEnv = { ...env, BORG_PASSPHRASE: PASSPHRASE };
    const last = (await runOk("borg", ["list", "--short", "--last", "1", repo], { env: borgEnv })).stdout.trim();
    const read = async (volume: string) =>
      (await runOk("borg", ["extract", "--stdout", `${repo}::${last}`, join(dockerRoot, "volumes", volume, "_data", "status").slice(1)], { env: borgEnv })).stdout.trim();
    assert.equal(await read("vw_data"), "stopped", "the quiesced volume was read while its container was down");
    assert.equal(await read("live_data"), "running", "the live volume was read live");
    assert.ok(!existsSync(join(root, "run", "e2e.stopped")));
  });

  it("starts the container again when a dump fails after the stop", async () => {
    const closed = await freePort();
    await deploy(spec([VW], { databases: [{ kind: "postgresql", name: "gone", hostname: "127.0.0.1", port: closed, username: "postgres" }] }));
    setContainers({ vw: true });
    resetCalls();
    try {
      const r = await run(join(root, "bin", "homelab-backup-e2e"), [], { env });
      assert.notEqual(r.code, 0, "the run must fail");
      assert.deepEqual(dockerCalls(), ["stop vw", "start vw"]);
      assert.equal(containerState("vw"), "true");
    } finally {
      await deploy(spec([VW, LIVE, IDLE]));
    }
  });

  it("starts what it stopped when a later stop fails", async () => {
    await deploy(spec([VW, { container: "stuck", volumes: ["stuck_data"], stopDuringBackup: true }]));
    setContainers({ vw: true, stuck: true });
    writeFileSync(join(state, "refuse-stop-stuck"), "");
    resetCalls();
    try {
      const r = await run(join(root, "bin", "homelab-backup-e2e"), [], { env });
      assert.notEqual(r.code, 0, "the run must fail");
      assert.equal(containerState("vw"), "true");
      assert.equal(containerState("stuck"), "true");
      assert.deepEqual(dockerCalls().filter((c) => c.startsWith("stop")), ["stop vw", "stop stuck"]);
      assert.ok(dockerCalls().includes("start vw"));
    } finally {
      await deploy(spec([VW, LIVE, IDLE]));
    }
  });

  it("starts what it stopped when the run is killed, as systemd stops a unit (TERM to every process)", async () => {
    await deploy(spec([VW, { container: "slow", volumes: ["slow_data"], stopDuringBackup: true }]));
    setContainers({ vw: true, slow: true });
    resetCalls();
    try {
      const child = spawn(join(root, "bin", "homelab-backup-e2e"), [], { env, detached: true, stdio: "ignore" });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
      const until = Date.now() + 20_000;
      while (!dockerCalls().includes("stop slow") && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.ok(dockerCalls().includes("stop slow"), "the run reached the slow stop");
      process.kill(-(child.pid as number), "SIGTERM");
      const code = await exited;
      assert.notEqual(code, 0);
      assert.equal(containerState("vw"), "true", "the container stopped before the kill is running again");
      assert.ok(!existsSync(join(root, "run", "e2e.stopped")), "nothing left to restart");
    } finally {
      await deploy(spec([VW, LIVE, IDLE]));
    }
  });
});
