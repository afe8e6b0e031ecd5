import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { PlanInputError } from "../../plan/cli";
import type { ReportResult } from "../../report/cli";
import { cellText } from "../../report/markdown";
import { reportOf, startLab, TRUENAS_KEY, writeStackFile, type Lab } from "./seed";

let lab: Lab;
/** A port nothing listens on: TrueNAS "unreachable". */
let closedPort: number;

before(async () => {
  lab = await startLab();
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
after(() => lab.close());

const secrets = () => [lab.pbs.tokenSecret, TRUENAS_KEY];
function assertNoSecret(...texts: string[]) {
  for (const text of texts) for (const secret of secrets()) assert.ok(!text.includes(secret), "a secret leaked into the output");
}

describe("TrueNAS cannot be read", () => {
  let unreachable: ReportResult;
  before(async () => {
    unreachable = await reportOf(lab, "monthly", { truenasUrl: `wss://127.0.0.1:${closedPort}` });
  });

  test("the report is still written, says so on top, and warns once on stderr", () => {
    assert.equal(unreachable.report.truenas.available, false);
    assert.match(unreachable.markdown, /> ⚠️ \*\*TrueNAS could not be read:\*\* cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    assert.equal(unreachable.warnings.filter((w) => w.startsWith("report: warning: TrueNAS not read (cannot connect to 127.0.0.1:")).length, 1);
    assert.ok(unreachable.markdown.includes("_The TrueNAS pool and replicas were not read._"));
    assert.ok(!unreachable.markdown.includes("TrueNAS pool `tank`"));
    assertNoSecret(unreachable.markdown, ...unreachable.warnings);
  });

  test("what needs TrueNAS is unknown, not failed; the rest is judged as before", () => {
    const db = unreachable.report.compliance.find((c) => c.service === "database-vms") ?? assert.fail();
    assert.equal(cellText(db.replicated), "❔ TrueNAS not read");
    assert.equal(cellText(db.offsite), "❔ TrueNAS not read");
    assert.equal(db.compliant, "unknown");
    const app = unreachable.report.compliance.find((c) => c.service === "application-vms") ?? assert.fail();
    assert.equal(app.offsite.verdict, "n/a");
    assert.equal(app.compliant, "no");
  });

  test("no API key in the environment: TrueNAS is left out, nothing is sent to it", async () => {
    const calls = lab.nas.calls.length;
    const r = await reportOf(lab, "weekly", { env: { HOMELAB_PBS_TOKEN: lab.env.HOMELAB_PBS_TOKEN } });
    assert.deepEqual(r.report.truenas, { available: false, reason: "HOMELAB_TRUENAS_API_KEY is not set" });
    assert.equal(lab.nas.calls.length, calls);
  });

  test("a TrueNAS certificate other than the pinned one: left out, the key never written", async () => {
    const stackFile = writeStackFile(mkdtempSync(join(tmpdir(), "report-pin-")), lab.pbs, lab.nas, (config) => {
      (config["homelab-backup:hosts"] as { truenas: Record<string, unknown> }).truenas.fingerprint = lab.pbs.fingerprint;
    });
    const received = lab.nas.received.length;
    const { runReport } = await import("../../report/cli");
    const r = await runReport({ stackFile, period: "weekly", now: new Date("2026-11-28T08:00:00Z"), restoreLog: lab.restoreLog, truenasUrl: lab.nas.url }, lab.env);
    assert.equal(r.report.truenas.available, false);
    assert.match(r.report.truenas.available ? "" : r.report.truenas.reason, /SHA-256 fingerprint .* is pinned; refusing to send the API key/);
    assert.ok(lab.nas.received.slice(received).every((m) => !m.includes(TRUENAS_KEY)));
    assertNoSecret(r.markdown, ...r.warnings);
  });
});

describe("the restore-test log is missing", () => {
  test("the report says no restore tests are recorded, and restore tests are not met", async () => {
    const missing = join(lab.dir, "no-such-log.jsonl");
    const monthly = await reportOf(lab, "monthly", { restoreLog: missing });
    assert.ok(monthly.markdown.includes("## Disaster-recovery test results\n\n_No restore tests recorded._"));
    assert.ok(monthly.report.compliance.every((c) => cellText(c.restoreTested) === "❌ no restore tests recorded"));
    assert.deepEqual(monthly.warnings, []);
    const weekly = await reportOf(lab, "weekly", { restoreLog: missing });
    assert.ok(weekly.markdown.includes("- No restore tests recorded."));
  });
});

describe("PBS refuses or misbehaves", () => {
  test("a token PBS refuses is one input problem naming the variable, never the secret", async () => {
    const wrong = `${lab.pbs.tokenId}:not-the-secret-0000`;
    await assert.rejects(reportOf(lab, "weekly", { env: { HOMELAB_PBS_TOKEN: wrong } }), (e: unknown) => {
      assert.ok(e instanceof PlanInputError);
      assert.deepEqual(e.lines, [
        "HOMELAB_PBS_TOKEN: root@pam!homelab-backup:[secret]: PBS refused it (authentication failed - invalid credentials); expected a token with Datastore.Audit on /datastore and Sys.Audit on /system",
      ]);
      assert.ok(!e.message.includes("not-the-secret-0000"));
      return true;
    });
  });

  test("a malformed token is refused without being printed", async () => {
    const env = { HOMELAB_PBS_TOKEN: lab.pbs.tokenSecret, HOMELAB_TRUENAS_API_KEY: TRUENAS_KEY };
    await assert.rejects(reportOf(lab, "weekly", { env }), (e: unknown) => {
      assert.ok(e instanceof PlanInputError);
      assert.deepEqual(e.lines, ["HOMELAB_PBS_TOKEN: [secret]: is not a token; expected the PBS API token as user@realm!name:secret"]);
      assertNoSecret(e.message);
      return true;
    });
  });

  test("PBS echoing the request back (credentials and all) does not put the token in the error", async () => {
    lab.pbs.injectFaults(1, { kind: "echo" });
    await assert.rejects(reportOf(lab, "weekly"), (e: unknown) => {
      assert.match((e as Error).message, /^PBS rejected GET \/version/);
      assertNoSecret((e as Error).message, JSON.stringify(e));
      return true;
    });
  });

  test("a datastore PBS does not have is a note; the other datastore is still reported", async () => {
    const config = lab.pbs.state.datastores.get("homelab");
    lab.pbs.state.datastores.delete("homelab");
    try {
      const r = await reportOf(lab, "weekly");
      assert.ok(r.report.notes.some((n) => /^homelab:important: PBS rejected GET \/admin\/datastore\/homelab\/snapshots: datastore 'homelab' does not exist/.test(n)), r.report.notes.join("\n"));
      assert.ok(r.report.notes.includes("PBS reports no usage for datastore homelab"));
      assert.equal(r.report.backupRates.find((x) => x.subject === "database-vms")?.ok, 334);
    } finally {
      lab.pbs.state.datastores.set("homelab", config as Record<string, string>);
    }
  });

  test("only reads: every request the report made was a GET", () => {
    assert.ok(lab.pbs.requests.length > 0);
    assert.deepEqual([...new Set(lab.pbs.requests.map((r) => r.method))], ["GET"]);
    const methods = new Set(lab.nas.calls);
    for (const m of methods) assert.match(m, /^(auth\.login_ex|replication\.query|pool\.query|pool\.snapshot\.query|cloudsync\.query)$/);
  });
});

describe("secrets", () => {
  test("neither the PBS token nor the TrueNAS key appears in any report or warning", async () => {
    for (const period of ["weekly", "monthly"] as const) {
      const r = await reportOf(lab, period);
      assert.ok(r.report.truenas.available);
      assertNoSecret(r.markdown, ...r.warnings);
    }
  });
});
