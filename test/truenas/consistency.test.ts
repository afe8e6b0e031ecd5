import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firesOnDay, minutesOfDay, parseCalendarEvent as cal, type CalendarEvent } from "../../config/calendar";
import { snapshotTimingProblems, sourceRetentionProblem, type DatastoreJob } from "../../components/truenas/pbs-consistency";
import { authorizedKeyLine, sourceSnapshotUnits } from "../../components/truenas/source-snapshots";

const job = (name: string, schedule: string, minutes: number): DatastoreJob => ({ name, schedule: cal(schedule), expectedDurationMinutes: minutes });
// The strategy's homelab datastore: daily 02:00, weekly Sunday 03:00, first Sunday 04:00; prune 05:00, GC 05:30.
const BACKUPS = [job("daily", "*-*-* 02:00", 90), job("weekly", "Sun *-*-* 03:00", 120), job("monthly", "Sun *-*-01..07 04:00", 60)];
const GC = job("gc", "*-*-* 05:30", 30);
const PRUNE = job("prune", "*-*-* 05:00", 10);
const check = (snapshot: string, backups = BACKUPS): string[] => snapshotTimingProblems({ snapshot: cal(snapshot), backups, gc: GC, otherJobs: [PRUNE] });

/** The check as first written: every snapshot against every run. The sweep must say the same. */
function naiveProblems(snapshot: CalendarEvent, backups: DatastoreJob[], gc: DatastoreJob, otherJobs: DatastoreJob[], days: number): string[] {
  const MINUTE = 60_000;
  const DAY = 86_400_000;
  const from = Date.UTC(2024, 0, 1);
  const starts = (event: CalendarEvent, at: number, n: number): number[] => {
    const out: number[] = [];
    for (let d = 0; d < n; d++) {
      const day = at + d * DAY;
      if (firesOnDay(event, new Date(day))) for (const t of minutesOfDay(event)) out.push(day + t * MINUTE);
    }
    return out;
  };
  const runs = (j: DatastoreJob) => starts(j.schedule, from - 2 * DAY, days + 3).map((s) => ({ job: j.name, start: s, end: s + j.expectedDurationMinutes * MINUTE }));
  const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
  const b = backups.flatMap(runs);
  const g = runs(gc);
  const writers = [...b, ...g, ...otherJobs.flatMap(runs)];
  const found = new Map<string, { first: number; count: number }>();
  const note = (key: string, at: number) => {
    const seen = found.get(key);
    if (seen) seen.count++;
    else found.set(key, { first: at, count: 1 });
  };
  for (const t of starts(snapshot, from, days)) {
    for (const w of writers) if (w.start <= t && t < w.end) note(`the snapshot at ${hhmm(t)} falls while ${w.job} runs (from ${hhmm(w.start)}, expected until ${hhmm(w.end)})`, t);
    let last = Number.NEGATIVE_INFINITY;
    for (const x of b) if (x.start <= t && x.end > last) last = x.end;
    for (const x of Number.isFinite(last) ? g : []) {
      if (x.start >= last && x.start <= t && x.end <= t) note(`${gc.name} at ${hhmm(x.start)} runs between the last backup (done by ${hhmm(last)}) and the snapshot at ${hhmm(t)}; snapshot before GC`, t);
    }
  }
  return [...found.entries()].map(([text, { first, count }]) => `${text}, first on ${new Date(first).toISOString().slice(0, 10)}${count > 1 ? ` (${count} times in ${days} days)` : ""}`);
}

describe("PBS-consistent snapshot time", () => {
  test("the sweep finds exactly what checking every snapshot against every run finds", () => {
    const hours = fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 4 }).map((h) => h.map((x) => String(x).padStart(2, "0")).join(","));
    const minutes = fc.constantFrom("00", "15", "30", "45", "00,30", "05,35");
    const days = fc.constantFrom("*-*-*", "Sun *-*-*", "Mon..Fri *-*-*", "Sun *-*-01..07", "*-*-01", "Sat,Sun *-*-*");
    const event = fc.tuple(days, hours, minutes).map(([d, h, m]) => `${d} ${h}:${m}`);
        // Quarter-hour durations make runs end exactly at a snapshot: the boundaries get exercised.
    // Up to two days: runs that started before the window still reach into it.
    const duration = fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 200 }).map((q) => q * 15));
    const jobArb = (name: string) => fc.tuple(event, duration).map(([e, m]) => job(name, e, m));
    fc.assert(
      fc.property(event, fc.array(jobArb("backup"), { minLength: 0, maxLength: 3 }), jobArb("gc"), fc.array(jobArb("prune"), { maxLength: 2 }), fc.integer({ min: 1, max: 40 }), (snap, backups, gc, others, n) => {
        const named = backups.map((b, i) => ({ ...b, name: `backup${i}` }));
        const got = snapshotTimingProblems({ snapshot: cal(snap), backups: named, gc, otherJobs: others, days: n });
        assert.deepEqual(got, naiveProblems(cal(snap), named, gc, others, n));
      }),
      { numRuns: 300 },
    );
  });


  test("05:15 falls after every backup and prune and before GC", () => {
    assert.deepEqual(check("*-*-* 05:15"), []);
  });

  test("a snapshot during a backup is refused, naming the job and how often it happens", () => {
    assert.deepEqual(check("*-*-* 03:00"), [
      "the snapshot at 03:00 falls while daily runs (from 02:00, expected until 03:30), first on 2024-01-01 (366 times in 366 days)",
      "the snapshot at 03:00 falls while weekly runs (from 03:00, expected until 05:00), first on 2024-01-07 (52 times in 366 days)",
    ]);
  });

  test("a Sunday snapshot during the first-Sunday job is refused on those Sundays only", () => {
    const problems = check("Sun *-*-* 04:30");
    assert.equal(problems.length, 2);
    assert.match(problems[0] as string, /^the snapshot at 04:30 falls while weekly runs .* first on 2024-01-07 \(52 times/);
    assert.match(problems[1] as string, /^the snapshot at 04:30 falls while monthly runs \(from 04:00, expected until 05:00\), first on 2024-01-07 \(12 times in 366 days\)$/);
  });

  test("during GC, during prune, or after GC are refused", () => {
    assert.match(check("*-*-* 05:45")[0] as string, /^the snapshot at 05:45 falls while gc runs/);
    assert.match(check("*-*-* 05:05")[0] as string, /^the snapshot at 05:05 falls while prune runs/);
    assert.match(check("*-*-* 07:00")[0] as string, /^gc at 05:30 runs between the last backup \(done by 03:30\) and the snapshot at 07:00; snapshot before GC/);
  });

  test("hourly backups leave idle gaps; the one before GC qualifies", () => {
    const hourly = [job("critical", "*-*-* *:00", 10)];
    assert.deepEqual(check("*-*-* 05:20", hourly), []);
    assert.match(check("*-*-* 05:05", hourly)[0] as string, /falls while critical runs/);
  });

  test("the PBS host keeps enough snapshots to survive a missed pull", () => {
    assert.equal(sourceRetentionProblem(cal("*-*-* 05:15"), 7, cal("*-*-* 05:45")), undefined);
    assert.match(sourceRetentionProblem(cal("*-*-* 05:15"), 1, cal("*-*-* 05:45")) ?? "", /at least 2 snapshots/);
    assert.match(sourceRetentionProblem(cal("*-*-* 05:15"), 7, cal("Sun *-*-* 06:00")) ?? "", /covers 168 h, less than two replication intervals .* \(336 h\); keep at least 14/);
  });
});

describe("the PBS host's snapshot units", () => {
  const units = sourceSnapshotUnits({ dataset: "backup/homelab", schedule: cal("*-*-* 05:15"), namingSchema: "auto-%Y-%m-%d_%H-%M", keep: 3 });

  test("a timer at the checked time, not caught up at boot", () => {
    assert.equal(units.unitName, "zfs-snapshot-backup-homelab");
    assert.match(units.timer, /^OnCalendar=\*-\*-\* 05:15$/m);
    assert.match(units.timer, /^Persistent=false$/m);
    assert.match(units.service, /^ExecStart=\/usr\/local\/sbin\/zfs-snapshot-backup-homelab$/m);
    assert.throws(() => sourceSnapshotUnits({ dataset: "backup/homelab", schedule: cal("daily"), namingSchema: "auto-%s", keep: 3 }), /naming schema "auto-%s": only %Y %m %d %H %M %S/);
    assert.throws(() => sourceSnapshotUnits({ dataset: "backup/homelab", schedule: cal("daily"), namingSchema: "auto-%Y-%m-%d_%H-%M", keep: 1 }), /keep must be 2 or more/);
  });

  test("the script snapshots with the schema and destroys only the oldest snapshots of that schema", () => {
    const dir = mkdtempSync(join(tmpdir(), "zfs-fake-"));
    try {
      const state = join(dir, "snapshots");
      writeFileSync(
        state,
        [
          "backup/homelab@manual-before-upgrade",
          ...[1, 2, 3, 4].map((d) => `backup/homelab@auto-2025-01-0${d}_05-15`),
          "backup/homelab@auto-2025-01-04_05-15-extra",
        ].join("\n") + "\n",
      );
      // A fake zfs on PATH that keeps the snapshot list in a file, in creation order.
      writeFileSync(
        join(dir, "zfs"),
        `#!/bin/sh
case "$1" in
  snapshot) echo "$2" >> "${state}" ;;
  list) cat "${state}" ;;
  destroy) grep -vxF "$2" "${state}" > "${state}.tmp"; mv "${state}.tmp" "${state}"; echo "$2" >> "${dir}/destroyed" ;;
esac
`,
      );
      chmodSync(join(dir, "zfs"), 0o755);
      writeFileSync(join(dir, "run.sh"), units.script);
      execFileSync("sh", [join(dir, "run.sh")], { env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` } });
      const left = readFileSync(state, "utf8").trim().split("\n");
      const created = left.find((l) => !l.includes("2025-01-0") && l.startsWith("backup/homelab@auto-"));
      assert.match(created ?? "", /^backup\/homelab@auto-\d{4}-\d{2}-\d{2}_\d{2}-\d{2}$/);
      assert.deepEqual(readFileSync(join(dir, "destroyed"), "utf8").trim().split("\n"), ["backup/homelab@auto-2025-01-01_05-15", "backup/homelab@auto-2025-01-02_05-15"]);
      assert.ok(left.includes("backup/homelab@manual-before-upgrade"), "other snapshots are never touched");
      assert.ok(left.includes("backup/homelab@auto-2025-01-04_05-15-extra"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the authorized key is restricted to TrueNAS's address", () => {
    assert.equal(authorizedKeyLine("ssh-ed25519 AAAA\n", "10.20.0.30"), 'from="10.20.0.30",no-agent-forwarding,no-port-forwarding,no-pty,no-X11-forwarding ssh-ed25519 AAAA truenas-replication');
  });
});
