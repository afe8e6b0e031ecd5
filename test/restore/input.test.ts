/**
 * Bad input: one line naming the flag, the value and what is expected; exit 1; no stack trace;
 * nothing changed on the cluster.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseOptions, type Options } from "../../restore/args";
import { failureLine } from "../../restore/cli";
import { UsageError } from "../../restore/errors";
import { runRestore } from "../../restore/flow";
import type { PveTestServer } from "../fixtures/pve-server";
import { cliEnv, hourlyBackups, runCli, stackDir, startCluster } from "./harness";

const NOW = new Date("2026-11-28T10:00:00Z");

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error.message;
  }
  assert.fail("expected a UsageError");
}

async function usageErrorAsync(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error.message;
  }
  assert.fail("expected a UsageError");
}

describe("bad flags", () => {
  const parse = (...args: string[]): Options => parseOptions(["--stack", "homelab", ...args], "/tmp", NOW);

  it("names the flag, the value and what is expected", () => {
    assert.equal(
      usageError(() => parse("--at", "yesterday")),
      '--at: "yesterday" is invalid; expected latest, or a time such as 2026-11-27T02:00:00Z or "2026-11-27 02:00" (UTC unless an offset is given)',
    );
    assert.match(usageError(() => parse("--at", "2026-02-30 02:00")), /^--at: "2026-02-30 02:00" is invalid; expected latest/);
    assert.equal(usageError(() => parse("--at", "2026-12-01T00:00:00Z")), '--at: "2026-12-01T00:00:00Z" is in the future; expected a time at or before now (restore points are in the past)');
    assert.equal(usageError(() => parse("--guest", "db01")), '--guest: "db01" is invalid; expected a VM id, an integer from 100 to 999999999');
    assert.equal(usageError(() => parse("--guest", "42")), '--guest: "42" is invalid; expected a VM id, an integer from 100 to 999999999');
    assert.equal(usageError(() => parse("--target", "sideways")), '--target: "sideways" is invalid; expected new (a new guest id, the safe default) or in-place');
    assert.match(usageError(() => parse("--target", "in-place", "--new-id", "9001")), /^--new-id: "9001" cannot be used here; expected no --new-id with --target in-place/);
    assert.equal(usageError(() => parse("--validate-timeout", "0s")), '--validate-timeout: "0s" is invalid; expected a duration such as 90s, 5m or 1h');
    assert.match(usageError(() => parse("--frobnicate")), /^--frobnicate: is not a flag of restore; expected one of --stack, --stack-file, --service/);
    assert.equal(usageError(() => parseOptions([], "/tmp", NOW)), "--stack: is missing; expected --stack <name> (reads Pulumi.<name>.yaml) or --stack-file <path>");
  });

  it("anything else that stops a run before it changes something is one line too", () => {
    assert.equal(failureLine(new Error("could not complete GET /cluster/resources on PVE at pve1:8006: ECONNREFUSED")), "restore: could not complete GET /cluster/resources on PVE at pve1:8006: ECONNREFUSED; nothing was changed");
    assert.equal(failureLine(new UsageError("--at: x")), "--at: x");
  });

  it("reads times as UTC unless they carry an offset", () => {
    assert.equal((parse("--at", "2026-11-27 02:00").at as Date).toISOString(), "2026-11-27T02:00:00.000Z");
    assert.equal((parse("--at", "2026-11-27T03:30:00+01:00").at as Date).toISOString(), "2026-11-27T02:30:00.000Z");
    assert.equal(parse("--at", "LATEST").at, "latest");
  });
});

describe("bad answers found against the cluster", () => {
  let pve: PveTestServer;
  let dir: string;
  const outputs: string[] = [];

  before(async () => {
    pve = await startCluster();
    hourlyBackups(pve, 101, new Date(), 3);
    dir = stackDir(pve);
  });
  after(() => pve.close());

  const run = (args: string[], env: Record<string, string> = cliEnv(pve)): Promise<number> =>
    runRestore(parseOptions(["--stack", "homelab", ...args], dir, new Date()), { env, cwd: dir, now: () => new Date(), out: (t) => outputs.push(t), tty: false });

  it("an unknown service, or a guest of another service", async () => {
    assert.equal(
      await usageErrorAsync(run(["--service", "databse-vms"])),
      '--service: "databse-vms" is not a service of this stack; expected one of database-vms, application-vms, file-server, development-vms, docker-volumes, archives',
    );
    assert.equal(await usageErrorAsync(run(["--service", "database-vms", "--guest", "130"])), '--guest: "130" is not a guest of service database-vms; expected one of 101, 102');
  });

  it("refuses a production guest id as the new target: listed in the config, or on the cluster", async () => {
    const common = ["--service", "database-vms", "--guest", "101", "--at", "latest", "--target", "new", "--yes"];
    assert.equal(
      await usageErrorAsync(run([...common, "--new-id", "110"])),
      '--new-id: "110" is a production guest (listed in the config for service file-server); expected a free id such as 100',
    );
    assert.equal(
      await usageErrorAsync(run([...common, "--new-id", "131"])),
      '--new-id: "131" is a production guest (it exists on the cluster as app02 on pve3); expected a free id such as 100',
    );
    assert.deepEqual(pve.mutatingRequests(), []);
  });

  it("a missing answer with nobody to ask names the flag", async () => {
    assert.match(await usageErrorAsync(run(["--service", "database-vms", "--guest", "101", "--target", "new"])), /^--at: is missing; expected latest, or a time/);
    assert.equal(
      await usageErrorAsync(run(["--service", "database-vms", "--guest", "101", "--at", "latest", "--target", "new"])),
      "--yes: is missing; expected --yes to restore without a prompt (or --dry-run to only see the plan)",
    );
    assert.deepEqual(pve.mutatingRequests(), []);
  });

  it("a malformed token is named, never shown", async () => {
    const env = { ...cliEnv(pve), PVE_API_TOKEN: "root@pam:s3cr3t-value" };
    const message = await usageErrorAsync(run(["--service", "database-vms"], env));
    assert.equal(message, "PVE_API_TOKEN: is not an API token; expected user@realm!tokenid=secret");
    const none = cliEnv(pve);
    delete none.PVE_API_TOKEN;
    assert.equal(
      await usageErrorAsync(run(["--service", "database-vms"], none)),
      "PVE_API_TOKEN: is missing; expected user@realm!tokenid=secret in the environment, or --user <user@realm> at a terminal",
    );
  });
});

describe("bad input at the command line", () => {
  let pve: PveTestServer;
  let dir: string;

  before(async () => {
    pve = await startCluster();
    dir = stackDir(pve);
  });
  after(() => pve.close());

  it("prints one line, exits 1, and shows no stack trace", async () => {
    const [badAt, badService, wrongPin] = await Promise.all([
      runCli(["--stack", "homelab", "--at", "last tuesday"], { cwd: dir, env: cliEnv(pve) }),
      runCli(["--stack", "homelab", "--service", "nope"], { cwd: dir, env: cliEnv(pve) }),
      runCli(["--stack-file", join(dir, "Pulumi.homelab.yaml"), "--service", "database-vms"], {
        cwd: "/",
        env: cliEnv(pve, { PVE_FINGERPRINT: "AA:".repeat(31) + "AA" }),
      }),
    ]);
    for (const r of [badAt, badService, wrongPin]) {
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.split("\n").filter((l) => l !== "").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    assert.match(badAt.stderr, /^--at: "last tuesday" is invalid; expected latest/);
    assert.match(badService.stderr, /^--service: "nope" is not a service of this stack; expected one of database-vms/);
    assert.match(wrongPin.stderr, /refusing to send credentials/);
    assert.doesNotMatch(wrongPin.stderr + wrongPin.stdout, new RegExp(pve.tokenSecret));
    assert.equal(pve.requests.length, 0, "with a wrong pin no request reaches the server");
  });
});
