import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, PlanInputError } from "../../plan/cli";

const ROOT = join(__dirname, "..", "..");

function runPlan(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "plan/cli.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function stackFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-"));
  const path = join(dir, "Pulumi.fixture.yaml");
  writeFileSync(path, yaml);
  return path;
}

describe("plan arguments", () => {
  test("--stack picks Pulumi.<stack>.yaml, --format defaults to text", () => {
    const o = parseArgs(["--stack", "homelab"], "/repo");
    assert.equal(o.stackFile, "/repo/Pulumi.homelab.yaml");
    assert.equal(o.format, "text");
    assert.equal(parseArgs(["--stack-file=x/Pulumi.a.yaml", "--format=json"], "/repo").stackFile, "/repo/x/Pulumi.a.yaml");
  });
  test("fails on unknown arguments and formats, one line each", () => {
    assert.throws(() => parseArgs(["--stack", "h", "--format", "html", "--bogus"]), (e: unknown) => {
      assert.ok(e instanceof PlanInputError);
      assert.equal(e.lines.length, 2);
      assert.match(e.lines[0]!, /^--bogus: unknown argument/);
      assert.match(e.lines[1]!, /^--format: "html" is not a format; expected text, markdown or json$/);
      return true;
    });
    assert.throws(() => parseArgs([]), /--stack: is missing/);
  });
});

describe("npm run plan", () => {
  test("json: a stable contract with stack, resources (type, name, parent, inputs), copies and violations", () => {
    const r = runPlan(["--stack", "homelab", "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.stack, "homelab");
    assert.ok(Array.isArray(doc.resources) && doc.resources.length > 5);
    for (const res of doc.resources) {
      assert.deepEqual(Object.keys(res).sort(), ["inputs", "name", "parent", "protect", "retainOnDelete", "type"]);
    }
    assert.ok(Array.isArray(doc.copies));
    assert.ok(Array.isArray(doc.violations));
    assert.ok(doc.schedules.some((s: { schedule: string }) => s.schedule === "Sun *-*-01..07 04:00"));
    // Secrets are redacted, never printed, even as placeholders.
    assert.ok(r.stdout.includes('"[secret]"'));
    assert.ok(!r.stdout.includes("placeholder-encryption-key") && !r.stdout.includes("offline-plan-placeholder"));
  });

  test("json through tsx's own launcher (what npm run plan uses) arrives whole down a slow pipe", () => {
    // tsx relays the program's stdout; exiting before a >64 KB write drained once cut it short
    // when the reader was slower than the writer (jq, python), so the reader here starts late.
    const r = spawnSync("bash", ["-c", "node_modules/.bin/tsx plan/cli.ts --stack homelab --format json | (sleep 1; cat)"], {
      cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 65536, `expected more than one pipe buffer, got ${r.stdout.length}`);
    assert.equal(JSON.parse(r.stdout).stack, "homelab");
  });

  test("text: the resource tree, schedules and retention tables", () => {
    const r = runPlan(["--stack", "homelab"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^homelab-backup plan · stack homelab \(Pulumi\.homelab\.yaml\)$/m);
    for (const heading of ["RESOURCES", "SCHEDULES", "RETENTION (backups kept)"]) assert.match(r.stdout, new RegExp(`^${heading.replace(/[()]/g, "\\$&")}$`, "m"));
    assert.match(r.stdout, /[├└]─ backup-database-vms  \(backup\.Job\)/);
    assert.match(r.stdout, /backup-archives\s+backup\.Job\s+schedule\s+Sun \*-\*-01\.\.07 04:00\s+1st Sun of the month 04:00/);
  });

  test("markdown renders the same facts as tables", () => {
    const r = runPlan(["--stack", "lab", "--format", "markdown"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^## homelab-backup plan: `lab`$/m);
    assert.match(r.stdout, /^\| Resource \| Type \| Field \| Schedule \| When \|$/m);
  });

  test("bad config: one line per problem naming key, value and expectation; exit 1; no stack trace", () => {
    const path = stackFile(`config:
  homelab-backup:hosts:
    pve: { endpoint: "https://pve:8006", nodes: [{ name: pve1, address: 10.0.10.1, backupAddress: 10.20.0.11 }] }
    pbs: { host: pbs, fingerprint: "AA:BB", backupAddress: 10.20.0.20 }
    truenas: { host: nas, backupAddress: 10.20.0.30, pbsHostKey: "ssh-ed25519 AAAAtest" }
    offsite: { bucketPrefix: test-offsite }
  homelab-backup:network:
    backupVlan: { id: 4095, subnet: 10.20.0.0/24 }
  homelab-backup:services:
    - { name: db, tier: gold, guests: { vmids: [101] }, retention: 7d }
  homelab-backup:truenasApiKey: in-the-clear
`);
    const r = runPlan(["--stack-file", path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.deepEqual(lines, [
      'homelab-backup:hosts.pbs.fingerprint: "AA:BB" is invalid; expected a SHA-256 certificate fingerprint as 32 colon-separated hex bytes (AA:BB:...)',
      "homelab-backup:network.backupVlan.id: 4095 is invalid; expected a VLAN id from 1 to 4094",
      'homelab-backup:services[0].tier: "gold" is not a declared tier; expected one of critical, important, archive',
      "homelab-backup:truenasApiKey: is set in plaintext; expected a secret: pulumi config set --secret homelab-backup:truenasApiKey <value>",
    ]);
    assert.ok(!r.stderr.includes("in-the-clear"));
  });

  test("a mandatory policy violation still prints the plan and exits 2; the stack's policy config can lower it", () => {
    const lab = readFileSync(join(ROOT, "Pulumi.lab.yaml"), "utf8");
    // The same stack file away from policies/config.lab.json: the lab's short retention is judged by the seed's minimums.
    const r = runPlan(["--stack-file", stackFile(lab), "--format", "json"]);
    assert.equal(r.code, 2, r.stderr);
    const doc = JSON.parse(r.stdout);
    const ids = doc.violations.filter((v: { enforcement: string }) => v.enforcement === "mandatory").map((v: { id: string; subject: string }) => `${v.id} ${v.subject}`);
    assert.deepEqual(ids, ["HB-RET-ONSITE database-vms", "HB-RET-ONSITE lab-apps", "HB-RET-OFFSITE database-vms @ S3 lab-offsite-critical"]);
    const lowered = runPlan(["--stack", "lab", "--format", "json"]);
    assert.equal(lowered.code, 0, lowered.stderr);
  });

  test("the homelab plan shows the off-site cost and passes every mandatory policy", () => {
    const r = runPlan(["--stack", "homelab"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^OFF-SITE COST \(per month\)$/m);
    assert.match(r.stdout, /^total\s+aws DEEP_ARCHIVE\s+\$\d+\.\d\d$/m);
    assert.match(r.stdout, /^POLICIES: every mandatory policy passes/m);
  });

  test("a missing or broken stack file is one line and exit 1", () => {
    const missing = runPlan(["--stack", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Pulumi\.nope\.yaml: cannot read the stack file/);
    const broken = runPlan(["--stack-file", stackFile("config: [unclosed")]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /is not valid YAML/);
    assert.equal(broken.stderr.trim().split("\n").length, 1);
  });
});
