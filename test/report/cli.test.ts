import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSelfSignedCert } from "../fixtures/cert";
import { PlanInputError } from "../../plan/cli";
import { parseReportArgs } from "../../report/cli";
import { NOW_ISO, ROOT, startLab, TRUENAS_KEY, writeStackFile, type Lab } from "./seed";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Async on purpose: the test servers live in this process and must keep answering. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HOMELAB_")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "report/cli.ts", ...args], { cwd: ROOT, env: { ...clean, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let lab: Lab;
let out: string;
let notWritten: string;
let fromConfig: string;
const runs: Record<string, Run> = {};

before(async () => {
  lab = await startLab();
  const dir = mkdtempSync(join(tmpdir(), "report-cli-"));
  out = join(dir, "monthly.md");
  notWritten = join(dir, "not-written.md");
  const wrongPin = writeStackFile(mkdtempSync(join(tmpdir(), "report-cli-pin-")), lab.pbs, lab.nas, (config) => {
    (config["homelab-backup:hosts"] as { pbs: Record<string, unknown> }).pbs.fingerprint = makeSelfSignedCert().fingerprint;
  });
  const base = ["--stack-file", lab.stackFile, "--now", NOW_ISO, "--restore-log", lab.restoreLog];
  // The same stack with the log where its restore tests write it, and no --restore-log.
  const configuredLog = writeStackFile(mkdtempSync(join(tmpdir(), "report-cli-log-")), lab.pbs, lab.nas, (config) => {
    const verification = (config["homelab-backup:verification"] ??= {}) as { restoreTests?: Record<string, unknown> };
    verification.restoreTests = { ...(verification.restoreTests ?? {}), log: lab.restoreLog };
  });
  fromConfig = join(dir, "from-config.md");
  // One process each, all at once: each pays for loading the project.
  const cases: Record<string, Promise<Run>> = {
    monthly: runCli([...base, "--period", "monthly", "--out", out, "--truenas-url", "wss://127.0.0.1:1"], lab.env),
    wrongPin: runCli(["--stack-file", wrongPin, "--now", NOW_ISO, "--out", notWritten], lab.env),
    noToken: runCli(base, { HOMELAB_TRUENAS_API_KEY: TRUENAS_KEY }),
    badPeriod: runCli([...base, "--period", "daily"], lab.env),
    configuredLog: runCli(["--stack-file", configuredLog, "--now", NOW_ISO, "--period", "monthly", "--out", fromConfig, "--truenas-url", "wss://127.0.0.1:1"], lab.env),
  };
  for (const [name, run] of Object.entries(cases)) runs[name] = await run;
});
after(() => lab.close());

const secrets = () => [lab.pbs.tokenSecret, TRUENAS_KEY];
function assertNoSecret(run: Run) {
  for (const s of secrets()) assert.ok(!run.stdout.includes(s) && !run.stderr.includes(s), "a secret leaked");
}
function assertOneLine(run: Run) {
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr.split("\n").filter(Boolean).length, 1, run.stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
}

describe("npm run report", () => {
  test("without --restore-log, the log is read where the stack's restore tests write it (verification.restoreTests.log)", () => {
    const run = runs.configuredLog as Run;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, (runs.monthly as Run).stderr);
    assert.equal(readFileSync(fromConfig, "utf8"), readFileSync(out, "utf8"));
  });

  test("monthly to a file with TrueNAS unreachable: exit 0, nothing on stdout, one warning line each for TrueNAS and the log", () => {
    const run = runs.monthly as Run;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      "report: warning: TrueNAS not read (cannot connect to 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1); replication, pool and off-site state are marked unknown\n" +
        "report: warning: 2 line(s) of restore-tests.jsonl could not be read; the report lists them\n",
    );
    const text = readFileSync(out, "utf8");
    assert.ok(text.startsWith("# Monthly backup report: `homelab`\n"));
    assert.ok(text.includes("> ⚠️ **TrueNAS could not be read:** cannot connect to 127.0.0.1:1"));
    assert.ok(text.includes("| database-vms | critical | ✅ newest 54 min old (≤ RPO 1h + 25 min run) |"));
    assertNoSecret(run);
    for (const s of secrets()) assert.ok(!text.includes(s));
  });

  test("a wrong PBS fingerprint: exit 1, one line naming the config key and both fingerprints", () => {
    const run = runs.wrongPin as Run;
    assertOneLine(run);
    assert.match(run.stderr, /^homelab-backup:hosts\.pbs\.fingerprint: "[0-9A-F:]{95}" is not the certificate PBS at 127\.0\.0\.1:\d+ presents \([0-9A-F:]{95}\); expected the fingerprint `proxmox-backup-manager cert info` prints \(nothing was sent\)\n$/);
    assert.ok(run.stderr.includes(`(${lab.pbs.fingerprint})`));
    assert.ok(!existsSync(notWritten), "nothing is written when the run fails");
    assertNoSecret(run);
  });

  test("no PBS token in the environment: exit 1, one line", () => {
    const run = runs.noToken as Run;
    assertOneLine(run);
    assert.equal(run.stderr, "HOMELAB_PBS_TOKEN: is not set; expected the PBS API token as user@realm!name:secret (the stack's pbsApiToken is encrypted and is not read here)\n");
  });

  test("a bad --period: exit 1, one line", () => {
    const run = runs.badPeriod as Run;
    assertOneLine(run);
    assert.equal(run.stderr, '--period: "daily" is not a period; expected weekly or monthly\n');
  });
});

describe("report arguments", () => {
  test("defaults: weekly, Pulumi.<stack>.yaml, now from the clock", () => {
    const now = new Date("2026-01-02T03:04:05Z");
    const o = parseReportArgs(["--stack", "homelab"], "/repo", () => now);
    assert.deepEqual(o, { stackFile: "/repo/Pulumi.homelab.yaml", period: "weekly", now });
    const p = parseReportArgs(["--stack-file=x/Pulumi.a.yaml", "--period=monthly", "--out", "r.md", "--restore-log", "l.jsonl", "--now", "2026-11-28T08:00:00+01:00"], "/repo");
    assert.deepEqual(p, { stackFile: "/repo/x/Pulumi.a.yaml", period: "monthly", now: new Date("2026-11-28T07:00:00Z"), out: "/repo/r.md", restoreLog: "/repo/l.jsonl" });
  });

  test("every problem at once, one line each", () => {
    assert.throws(() => parseReportArgs(["--period", "yearly", "--now", "2026-11-28T08:00", "--truenas-url", "ws://nas", "--bogus"]), (e: unknown) => {
      assert.ok(e instanceof PlanInputError);
      assert.deepEqual(e.lines.map((l) => l.split(";")[0]), [
        "--bogus: unknown argument",
        '--period: "yearly" is not a period',
        "--stack: is missing",
        '--now: "2026-11-28T08:00" is not a time',
        '--truenas-url: "ws://nas" is not a TLS URL',
      ]);
      return true;
    });
  });

  test("a day that does not exist is refused, not rolled into the next month", () => {
    for (const bad of ["2026-02-30", "2026-02-29T10:00:00Z", "2026-13-01"]) {
      assert.throws(() => parseReportArgs(["--stack", "homelab", "--now", bad]), (e: unknown) => e instanceof PlanInputError && e.lines[0]!.startsWith(`--now: "${bad}" is not a time`));
    }
    assert.deepEqual(parseReportArgs(["--stack", "homelab", "--now", "2028-02-29"], "/repo").now, new Date("2028-02-29T00:00:00Z"));
  });
});
