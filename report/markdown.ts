/**
 * The report as Markdown: the strategy's weekly report (rates, storage trends, durations,
 * failed jobs), and for the monthly one also the comprehensive status, capacity planning,
 * disaster-recovery test results and compliance verification.
 */
import { markdownTable } from "../plan/render/table";
import type { Report } from "./build";
import { durationChart, usageChart } from "./charts";
import type { Cell } from "./compliance";
import type { JobRate } from "./jobs";
import { formatDate, formatSpan, formatTime } from "./period";

const CELL_MARK: Record<Cell["verdict"], string> = { met: "✅", "not met": "❌", unknown: "❔", "n/a": "➖" };

export function cellText(cell: Cell): string {
  return `${CELL_MARK[cell.verdict]} ${cell.text}`;
}

export function percent(fraction: number | null | undefined, digits = 1): string {
  return fraction === null || fraction === undefined ? "–" : `${(fraction * 100).toFixed(digits)} %`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 2)} ${units[i]}`;
}

/** PBS's text verbatim, as code: one line, and a fence longer than any backtick run inside. */
export function code(text: string): string {
  const flat = text.replace(/\s*\r?\n\s*/g, " ⏎ ").trim();
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return longest ? `${fence} ${flat} ${fence}` : `${fence}${flat}${fence}`;
}

const minutes = (m: number | null) => (m === null ? "–" : m < 10 ? `${m.toFixed(1)} min` : `${Math.round(m)} min`);
const signed = (x: number, unit: string, digits = 1) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}${unit}`;

function rateCells(r: JobRate): string[] {
  return [r.scheduled === undefined ? "–" : String(r.scheduled), String(r.ok), String(r.warnings), String(r.failed), String(r.missed), String(r.running), percent(r.rate)];
}

function header(report: Report, monthly: boolean): string[] {
  const { period, truenas } = report;
  const out = [
    `# ${monthly ? "Monthly" : "Weekly"} backup report: \`${report.stack}\``,
    "",
    `**Period:** ${formatTime(period.start)} to ${formatTime(period.end)} (${period.days} days) · ` +
      `**PBS** ${report.pbsVersion} at \`${report.pbsEndpoint}\` · ` +
      `**TrueNAS** \`${report.truenasEndpoint}\` ${truenas.available ? "read" : "not read"}`,
  ];
  if (!truenas.available) {
    out.push("", `> ⚠️ **TrueNAS could not be read:** ${truenas.reason}. Replication, pool usage and off-site state are unknown in this report.`);
  }
  return out;
}

function summary(report: Report, monthly: boolean): string[] {
  const backups = report.backupRates;
  const sum = (f: (r: JobRate) => number) => backups.reduce((s, r) => s + f(r), 0);
  const ok = sum((r) => r.ok + r.warnings);
  const denominator = ok + sum((r) => r.failed + r.missed);
  const out = [
    "## Summary",
    "",
    `- **Backups:** ${ok} of ${denominator} guest backups succeeded (${percent(denominator ? ok / denominator : null)}); ${sum((r) => r.failed)} failed, ${sum((r) => r.missed)} missed.`,
    `- **Failed jobs:** ${report.failures.length} (${report.failureGroups.length} distinct PBS error${report.failureGroups.length === 1 ? "" : "s"}).`,
    `- **Storage:** ${report.storage.map((s) => `\`${s.store}\` ${percent(s.projection?.latest ?? (s.used !== undefined && s.total ? s.used / s.total : undefined))} used${s.change !== null ? ` (${signed(s.change * 100, " points")})` : ""}`).join(", ")}.`,
  ];
  if (monthly) {
    const stale = report.statuses.filter((s) => s.status !== "fresh").map((s) => s.service.name);
    const compliant = report.compliance.filter((c) => c.compliant === "yes").length;
    out.push(`- **Stale services:** ${stale.length ? stale.join(", ") : "none"}.`);
    out.push(`- **Compliance:** ${compliant} of ${report.compliance.length} services meet every promise.`);
  }
  return out;
}

function rates(report: Report): string[] {
  const backupRows = report.backupRates.map((r) => {
    const service = report.strategy.services.find((s) => s.name === r.subject);
    return [r.subject, service?.tier.name ?? "", ...rateCells(r)];
  });
  return [
    "## Backup success and failure rates",
    "",
    "Guest backups per service (one per guest and run; a scheduled run that left no task is missed and counts as a failure):",
    "",
    markdownTable(["Service", "Tier", "Scheduled", "OK", "Warnings", "Failed", "Missed", "Running", "Success rate"], backupRows),
    "",
    "Maintenance jobs per datastore:",
    "",
    markdownTable(["Datastore", "Job type", "Scheduled", "OK", "Warnings", "Failed", "Missed", "Running", "Success rate"], report.maintenanceRates.map((r) => [r.subject, r.jobType, ...rateCells(r)])),
  ];
}

function storage(report: Report): string[] {
  const threshold = report.strategy.monitoring.capacityThresholdPercent;
  const rows = report.storage.map((s) => [
    `\`${s.store}\``,
    bytes(s.used),
    bytes(s.total),
    percent(s.used !== undefined && s.total ? s.used / s.total : undefined),
    s.change === null ? "–" : signed(s.change * 100, " points"),
    s.growthPerDay === null ? "–" : signed(s.growthPerDay * 100, " points", 2) + (s.total ? ` (${bytes(Math.abs(s.growthPerDay) * s.total)})` : ""),
  ]);
  const pool = report.pool;
  if (pool) rows.push([`TrueNAS pool \`${pool.name}\` (${pool.status})`, bytes(pool.allocated), bytes(pool.size), percent(pool.size ? pool.allocated / pool.size : undefined), "– (no history)", "–"]);
  const out = ["## Storage utilization trends", "", markdownTable(["Storage", "Used", "Total", "Used %", "Change in period", "Growth per day"], rows)];
  if (!report.truenas.available) out.push("", "_The TrueNAS pool and replicas were not read._");
  else {
    out.push(
      "",
      "Replicas on TrueNAS:",
      "",
      markdownTable(
        ["Datastore", "Replication", "Last state", "At", "Replica snapshots", "Newest replica snapshot"],
        report.truenas.replications.map((r) => [
          `\`${r.datastore}\``,
          r.task ?? "none targets its replica",
          r.state === "ERROR" ? `ERROR: ${code(r.error ?? "no error text")}` : r.state ?? "–",
          r.at === undefined ? "–" : formatTime(r.at),
          String(r.replicaSnapshots),
          r.newestReplicaSnapshot === undefined ? "–" : formatTime(r.newestReplicaSnapshot),
        ]),
      ),
    );
  }
  for (const s of report.storage) {
    const chart = usageChart(s, threshold);
    if (chart.length) out.push("", ...chart);
  }
  return out;
}

function durations(report: Report): string[] {
  const rows = report.durations.map((d) => [
    d.service,
    String(d.runs),
    minutes(d.expectedMinutes),
    minutes(d.medianMinutes),
    minutes(d.maxMinutes),
    d.runs ? `${d.overExpected} of ${d.runs}` : "–",
    d.trend === null ? "–" : signed(d.trend * 100, " %", 0),
  ]);
  const chart = durationChart(report.durations);
  return [
    "## Backup duration trends",
    "",
    "A run is one firing of the service's job, from its first guest's start to its last guest's end; failed runs are left out. Trend: the median of the period's second half against its first half.",
    "",
    markdownTable(["Service", "Runs", "Expected", "Median", "Longest", "Over expected", "Trend"], rows),
    ...(chart.length ? ["", ...chart] : []),
  ];
}

function failedJobs(report: Report): string[] {
  const out = ["## Failed-job analysis", ""];
  if (report.failures.length === 0) out.push("_No PBS job failed in the period._");
  else {
    out.push(
      "The same PBS error on several runs is one problem; most frequent first:",
      "",
      markdownTable(
        ["Count", "Job type", "Affected", "First", "Last", "PBS error"],
        report.failureGroups.map((g) => [String(g.count), g.jobType, g.subjects.join(", "), formatTime(g.first), formatTime(g.last), code(g.message)]),
      ),
      "",
      `Most recent failures${report.failures.length > 20 ? " (20 of " + report.failures.length + ")" : ""}:`,
      "",
      markdownTable(
        ["Started", "Job type", "Service or datastore", "Task", "Ran for", "PBS error"],
        report.failures.slice(0, 20).map((f) => [formatTime(f.at), f.jobType, f.subject, code(f.workerId), f.seconds === undefined ? "–" : formatSpan(f.seconds), code(f.message)]),
      ),
    );
  }
  const other: string[] = [];
  for (const r of [...report.backupRates, ...report.maintenanceRates]) {
    if (r.missed) other.push(`- **${r.subject}** (${r.jobType}): ${r.missed} scheduled run${r.missed === 1 ? "" : "s"} left no task on PBS.`);
  }
  for (const s of report.statuses) {
    for (const f of s.verification.failed) other.push(`- **${s.service.name}**: verification of ${f.type}/${f.id} from ${formatTime(f.time)} failed.`);
  }
  if (report.truenas.available) {
    for (const r of report.truenas.replications) {
      if (r.state === "ERROR") other.push(`- **Replication ${r.task}** to TrueNAS failed${r.at !== undefined ? ` ${formatTime(r.at)}` : ""}: ${code(r.error ?? "no error text")}`);
    }
  }
  if (other.length) out.push("", "Also:", "", ...other);
  return out;
}

function status(report: Report): string[] {
  const now = report.period.end;
  const rows = report.statuses.map((s) => [
    s.service.name,
    s.service.tier.name,
    s.guests.map((g) => g.guest).join(", ") || "–",
    String(s.snapshots),
    s.newest === undefined ? "–" : formatTime(s.newest),
    s.newest === undefined ? "–" : formatSpan(now - s.newest),
    formatSpan(s.allowedSeconds),
    s.status === "fresh" ? "✅ fresh" : s.status === "none" ? "❌ no backup" : `❌ stale (${s.guests.filter((g) => !g.fresh).map((g) => g.guest).join(", ")})`,
    s.lastTask ? `${s.lastTask.outcome} ${formatTime(s.lastTask.at)}` : "none in the period",
  ]);
  return [
    "## Comprehensive backup status",
    "",
    `Fresh: every guest's newest backup is within the tier's RPO plus the service's expected run time (PBS lists a backup once it finished, under its start time).`,
    "",
    markdownTable(["Service", "Tier", "Guests", "Snapshots", "Newest backup", "Age", "Allowed", "Status", "Last task"], rows),
  ];
}

function capacity(report: Report): string[] {
  const threshold = report.strategy.monitoring.capacityThresholdPercent;
  const when = (level: { reached: boolean; days: number | null; at: number | null } | undefined) =>
    !level ? "–" : level.reached ? "reached" : level.days === null ? "not growing" : `in ${Math.floor(level.days)} days (${formatDate(level.at as number)})`;
  const rows = report.storage.map((s) => [
    `\`${s.store}\``,
    percent(s.projection?.latest),
    s.projection ? signed(s.projection.slopePerDay * 100, " points", 2) : "–",
    when(s.projection?.levels[0]),
    when(s.projection?.levels[1]),
    s.recommendation,
  ]);
  const samples = report.storage.map((s) => `${s.store} ${s.projection?.samples ?? 0}`).join(", ");
  const out = [
    "## Capacity planning",
    "",
    `A straight line fitted (least squares) to PBS's usage history (samples: ${samples}); the strategy alerts above ${threshold} %.`,
    "",
    markdownTable(["Datastore", "Used now", "Growth per day", `${threshold} % reached`, "Full", "Recommendation"], rows),
  ];
  const pool = report.pool;
  if (pool && pool.size) {
    const used = pool.allocated / pool.size;
    out.push("", `TrueNAS pool \`${pool.name}\`: ${percent(used)} used of ${bytes(pool.size)}${used * 100 >= threshold ? `, above the ${threshold} % threshold` : ""} (TrueNAS keeps no usage history the report can read, so no projection).`);
  }
  return out;
}

function restoreTests(report: Report): string[] {
  const r = report.restores;
  const out = ["## Disaster-recovery test results", ""];
  if (!r.found) out.push("_No restore tests recorded._");
  else if (r.results.length === 0) out.push("_No restore test in the period._");
  else {
    const passed = r.results.filter((x) => x.good).length;
    out.push(
      `${passed} of ${r.results.length} restore tests passed within their RTO.`,
      "",
      markdownTable(
        ["Date", "Kind", "Service", "Restored", "Result", "Duration", "RTO", "Within RTO", "Reason"],
        r.results.map((x) => {
          const t = x.test;
          const or = (v: string | number | null) => (v === null ? "?" : String(v));
          const what = t.kind === "database" ? `${or(t.engine)} \`${or(t.database)}\` on ${t.agent}` : `${or(t.guestType)} ${or(t.guest)} → scratch ${or(t.scratchVmid)}`;
          return [
            t.ts.slice(0, 16).replace("T", " "),
            t.kind,
            t.service ?? "no service",
            what,
            t.result === "pass" ? "✅ pass" : "❌ fail",
            t.totalSeconds === null ? "–" : formatSpan(t.totalSeconds),
            formatSpan(x.rtoSeconds),
            x.withinRto === null ? "–" : x.withinRto ? "yes" : "no",
            t.reason ?? "",
          ];
        }),
      ),
    );
  }
  out.push("", "The strategy's monthly verification:", "");
  for (const c of r.checklist) out.push(`- [${c.done ? "x" : " "}] ${c.item}: ${c.evidence}`);
  if (report.restoreProblems.length) {
    out.push("", `Lines of the restore log that could not be read (${report.restoreProblems.length}):`, "");
    for (const p of report.restoreProblems) out.push(`- ${code(p)}`);
  }
  return out;
}

function compliance(report: Report): string[] {
  return [
    "## Compliance verification",
    "",
    "✅ met · ❌ not met · ❔ unknown (source not read) · ➖ not applicable",
    "",
    markdownTable(
      ["Service", "Tier", "Backed up within RPO", "Verified", "Restore-tested", "Replicated to NAS", "Off-site", "Compliant"],
      report.compliance.map((c) => [c.service, c.tier, cellText(c.rpo), cellText(c.verified), cellText(c.restoreTested), cellText(c.replicated), cellText(c.offsite), c.compliant]),
    ),
  ];
}

function notes(report: Report, monthly: boolean): string[] {
  const lines = [...report.notes];
  if (!monthly) {
    if (!report.restores.found) lines.push("No restore tests recorded.");
    for (const p of report.restoreProblems) lines.push(`restore log: ${code(p)}`);
  }
  return lines.length ? ["## Notes", "", ...lines.map((l) => `- ${l}`)] : [];
}

export function renderReport(report: Report): string {
  const monthly = report.period.name === "monthly";
  const sections: string[][] = [header(report, monthly), summary(report, monthly), rates(report), storage(report), durations(report), failedJobs(report)];
  if (monthly) sections.push(status(report), capacity(report), restoreTests(report), compliance(report));
  sections.push(notes(report, monthly));
  return sections.filter((s) => s.length).map((s) => s.join("\n")).join("\n\n") + "\n";
}
