/**
 * The commands end to end: `npm run plan -- --against` with a git ref (a throwaway repository
 * whose HEAD holds the homelab stack and whose working tree holds one change) and with a stack
 * file; `npm run runbook`; their argument and input errors. Each run is a subprocess.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { resolveAgainst } from "../../plan/against";
import { parseArgs, plan, PlanInputError } from "../../plan/cli";
import { parseRunbookArgs, runbook } from "../../plan/runbook-cli";
import { materialize, ROOT } from "./helpers";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", ["-c", "user.name=review-test", "-c", "user.email=review@test.invalid", "-c", "commit.gpgsign=false", ...args], { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** A repository whose HEAD holds the homelab stack file and whose working tree holds `fixture` applied to it. */
function repoWithChange(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), "review-repo-"));
  git(dir, "init", "-q");
  copyFileSync(join(ROOT, "Pulumi.homelab.yaml"), join(dir, "Pulumi.homelab.yaml"));
  git(dir, "add", "Pulumi.homelab.yaml");
  git(dir, "commit", "-q", "-m", "base");
  copyFileSync(materialize(fixture), join(dir, "Pulumi.homelab.yaml"));
  return dir;
}

const mandatoryOf = (json: { violations: { enforcement: string; exemptReason?: string }[] }) => json.violations.some((v) => v.enforcement === "mandatory" && !v.exemptReason);

describe("npm run plan -- --against", () => {
  test("a git ref, JSON: every plan key kept, plus `diff` naming the ref; exit code as without --against", async () => {
    const repo = repoWithChange("less-frequent-schedule");
    const r = await run("plan/cli.ts", ["--stack-file", join(repo, "Pulumi.homelab.yaml"), "--against", "HEAD", "--format", "json"]);
    assert.ok(r.code === 0 || r.code === 2, r.stderr);
    const json = JSON.parse(r.stdout);
    for (const key of ["stack", "stackFile", "resources", "schedules", "retention", "notes", "outputs", "copies", "violations", "diff"]) assert.ok(key in json, key);
    assert.equal(r.code, mandatoryOf(json) ? 2 : 0);
    assert.deepEqual(json.diff.against, { label: "HEAD", kind: "git", source: "HEAD:Pulumi.homelab.yaml" });
    assert.deepEqual(json.diff.weakenings.map((w: { kind: string; subject: string }) => [w.kind, w.subject]), [["schedule", "development-vms"]]);
    assert.equal(json.diff.classes.find((c: { name: string }) => c.name === "development-vms")?.status, "changed");
  });

  test("a ref that is neither a file nor a commit, or a base this code refuses: input errors, one line each, before anything is planned", async () => {
    const repo = repoWithChange("shorter-retention");
    const stackFile = join(repo, "Pulumi.homelab.yaml");
    // In this process: both are refused before the mock runtime is touched (main() turns them into exit 1).
    await assert.rejects(plan({ stackFile, format: "text", against: "no-such-branch" }, repo), (e: unknown) => {
      assert.ok(e instanceof PlanInputError);
      assert.deepEqual(e.lines, ['--against: "no-such-branch" is neither a file nor a git ref; expected a stack file or a git ref (a branch, tag or commit; in CI fetch it first)']);
      return true;
    });
    const bad = join(mkdtempSync(join(tmpdir(), "review-bad-")), "Pulumi.homelab.yaml");
    const yaml = parse(readFileSync(join(ROOT, "Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, { tier: string }[]> };
    (yaml.config["homelab-backup:services"] as { tier: string }[])[0]!.tier = "gold";
    writeFileSync(bad, JSON.stringify(yaml));
    await assert.rejects(plan({ stackFile, format: "text", against: bad }, repo), (e: unknown) => {
      assert.ok(e instanceof PlanInputError);
      assert.ok(e.lines.every((l) => l.startsWith(`--against ${bad}: homelab-backup:`)), e.lines.join("\n"));
      assert.match(e.lines[0] ?? "", new RegExp(`^--against ${bad.replace(/[.]/g, "\\.")}: homelab-backup:services\\[0\\]\\.tier: "gold" is not a declared tier`));
      return true;
    });
  });

  test("a stack the base does not have is compared with nothing (resolved without planning)", () => {
    const dir = mkdtempSync(join(tmpdir(), "review-new-"));
    git(dir, "init", "-q");
    writeFileSync(join(dir, "README"), "x");
    git(dir, "add", "README");
    git(dir, "commit", "-q", "-m", "base");
    copyFileSync(join(ROOT, "Pulumi.lab.yaml"), join(dir, "Pulumi.lab.yaml"));
    const r = resolveAgainst("HEAD", join(dir, "Pulumi.lab.yaml"), dir);
    assert.equal(r.path, undefined);
    assert.deepEqual(r.info, { label: "HEAD", kind: "git", source: "HEAD:Pulumi.lab.yaml", missing: true });
  });

  test("a git ref brings the base's policy config along under the same stack name", () => {
    const dir = mkdtempSync(join(tmpdir(), "review-policy-"));
    git(dir, "init", "-q");
    copyFileSync(join(ROOT, "Pulumi.lab.yaml"), join(dir, "Pulumi.lab.yaml"));
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "policies", "config.lab.json"), '{"three-two-one":{"settings":{"minCopies":2}}}');
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "base");
    const r = resolveAgainst("HEAD", join(dir, "Pulumi.lab.yaml"), dir);
    assert.ok(r.path?.endsWith("/Pulumi.lab.yaml"));
    const policy = join(r.path as string, "..", "policies", "config.lab.json");
    assert.ok(existsSync(policy));
    assert.equal(readFileSync(policy, "utf8"), '{"three-two-one":{"settings":{"minCopies":2}}}');
    r.cleanup();
    assert.ok(!existsSync(r.path as string));
  });

  test("arguments: --against takes a value; an empty one is refused", () => {
    assert.equal(parseArgs(["--stack", "homelab", "--against=origin/main"], "/repo").against, "origin/main");
    assert.equal(parseArgs(["--stack", "homelab"], "/repo").against, undefined);
    assert.throws(() => parseArgs(["--stack", "homelab", "--against="]), (e: unknown) => e instanceof PlanInputError && /^--against: is empty/.test(e.lines[0] ?? ""));
  });
});

describe("npm run runbook", () => {
  test("--out writes the runbook and prints nothing; exit 0", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "runbook-")), "runbook-lab.md");
    const r = await run("plan/runbook-cli.ts", ["--stack", "lab", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    const text = readFileSync(out, "utf8");
    assert.match(text, /^# Disaster recovery runbook: stack `lab`\n/);
    assert.match(text, /### 6\. Verify service functionality/);
  });

  test("bad arguments and an unreadable stack are input errors (exit 1), one line each", async () => {
    assert.throws(() => parseRunbookArgs(["--bogus"]), (e: unknown) => e instanceof PlanInputError && e.lines.length === 2 && /^--bogus: unknown argument/.test(e.lines[0] ?? ""));
    assert.equal(parseRunbookArgs(["--stack", "lab"], "/repo").stackFile, "/repo/Pulumi.lab.yaml");
    await assert.rejects(runbook({ stackFile: join(ROOT, "Pulumi.nope.yaml") }), (e: unknown) => e instanceof PlanInputError && /Pulumi\.nope\.yaml: cannot read the stack file/.test(e.lines[0] ?? ""));
  });

  test("package.json runs it as `npm run runbook`", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts["runbook"], "tsx plan/runbook-cli.ts");
  });
});

describe("the PR workflow", () => {
  test("plans every stack against the PR base with full history and updates one comment", () => {
    const wf = parse(readFileSync(join(ROOT, ".github", "workflows", "backup-plan.yml"), "utf8")) as {
      on: Record<string, unknown>;
      permissions: Record<string, string>;
      jobs: { plan: { steps: { uses?: string; with?: Record<string, unknown>; run?: string }[] } };
    };
    assert.ok("pull_request" in wf.on);
    assert.equal(wf.permissions["pull-requests"], "write");
    const steps = wf.jobs.plan.steps;
    assert.equal(steps.find((s) => s.uses?.startsWith("actions/checkout"))?.with?.["fetch-depth"], 0);
    const planStep = steps.find((s) => s.run?.includes("npm run --silent plan"));
    assert.match(planStep?.run ?? "", /--against "\$BASE_SHA" --format markdown/);
    const comment = steps.find((s) => s.uses?.startsWith("actions/github-script"));
    assert.match(String(comment?.with?.["script"]), /updateComment[\s\S]*createComment/);
  });
});
