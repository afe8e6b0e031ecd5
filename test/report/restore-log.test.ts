import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRestoreLog, readRestoreLog } from "../../report/restore-log";
import { RESTORE_LOG } from "./seed";

const lines = (...items: unknown[]) => items.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n");
const vm = RESTORE_LOG[0] as Record<string, unknown>;
const db = RESTORE_LOG[1] as Record<string, unknown>;

describe("restore-test log", () => {
  test("reads VM and database tests with their line numbers and times; blank lines are skipped", () => {
    const log = parseRestoreLog(lines(vm, "", db), "log");
    assert.deepEqual(log.problems, []);
    assert.deepEqual(log.tests.map((t) => [t.line, t.kind, t.service, t.at]), [
      [1, "monthly", "file-server", Date.parse("2026-11-07T10:00:00Z") / 1000],
      [3, "database", "database-vms", Date.parse("2026-11-08T05:00:00Z") / 1000],
    ]);
  });

  test("a bad line is one problem naming its line, key, value and what was expected; the rest still counts", () => {
    const log = parseRestoreLog(
      lines(vm, "{torn", { ...vm, kind: "daily" }, { ...vm, totalSeconds: -1 }, { ...vm, ts: "last Tuesday" }, { ...vm, totalSeconds: null }, { ...db, engine: "" }, [1, 2], { ...vm, result: "fail", totalSeconds: null, reason: "no boot" }),
      "restore.jsonl",
    );
    assert.deepEqual(log.problems, [
      `restore.jsonl:2: "{torn": is not JSON (Expected property name or '}' in JSON at position 1); expected one JSON object per line`,
      'restore.jsonl:3: kind: "daily": expected weekly, monthly or database',
      "restore.jsonl:4: totalSeconds: -1: expected a number of seconds",
      'restore.jsonl:5: ts: "last Tuesday": expected an ISO 8601 time such as 2026-11-28T08:00:00Z',
      "restore.jsonl:6: totalSeconds: null: expected totalSeconds for a passed test",
      'restore.jsonl:7: engine: "": expected a non-empty string',
      "restore.jsonl:8: [1,2]: expected a JSON object",
    ]);
    // A failed test may stop before it has a total.
    assert.deepEqual(log.tests.map((t) => [t.line, t.result]), [[1, "pass"], [9, "fail"]]);
  });

  test("the writer's failure before it found a service or guest (fields null) is a failed test, not a bad line", () => {
    const early = '{"ts":"2026-11-27T03:00:00Z","kind":"weekly","site":"homelab","service":null,"tier":null,"guest":null,"guestType":null,"volid":null,"backupTime":null,"scratchVmid":9001,"restoreSeconds":0.0,"bootSeconds":0.0,"totalSeconds":0.0,"rtoSeconds":0,"result":"fail","reason":"no backup found on storage pbs-critical"}';
    const db = '{"ts":"2026-11-27T04:00:00Z","kind":"database","site":"homelab","service":"database-vms","agent":"db01","engine":null,"database":null,"archive":null,"restoreSeconds":0.0,"totalSeconds":1.2,"rtoSeconds":3600,"result":"fail","reason":"borg list failed"}';
    const log = parseRestoreLog(lines(early, db), "log");
    assert.deepEqual(log.problems, []);
    assert.deepEqual(log.tests.map((t) => [t.service, t.result, t.reason]), [[null, "fail", "no backup found on storage pbs-critical"], ["database-vms", "fail", "borg list failed"]]);
  });

  test("keys the reader does not know yet are kept, not refused", () => {
    const log = parseRestoreLog(lines({ ...vm, operator: "alice" }), "log");
    assert.deepEqual(log.problems, []);
    assert.equal((log.tests[0] as unknown as Record<string, unknown>).operator, "alice");
  });

  test("a missing file is no tests recorded, not an error", () => {
    const dir = mkdtempSync(join(tmpdir(), "restore-log-"));
    assert.deepEqual(readRestoreLog(join(dir, "none.jsonl")), { path: join(dir, "none.jsonl"), found: false, tests: [], problems: [] });
    writeFileSync(join(dir, "one.jsonl"), lines(vm) + "\n");
    const found = readRestoreLog(join(dir, "one.jsonl"));
    assert.equal(found.found, true);
    assert.equal(found.tests.length, 1);
    const unreadable = readRestoreLog(dir);
    assert.equal(unreadable.found, false);
    assert.match(unreadable.problems[0] ?? "", /: cannot be read \(EISDIR\); expected a readable JSON-lines file$/);
  });
});
