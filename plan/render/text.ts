import type { PlanDocument } from "../document";
import { copyRows, costRows, costSummary, flags, KEEP_COLUMNS, policySummary, violationRows, retentionRows, scheduleRows, shortType, summary, treeLines } from "./sections";
import { textTable } from "./table";

export function renderText(doc: PlanDocument): string {
  const out: string[] = [];
  out.push(`homelab-backup plan · stack ${doc.stack} (${doc.stackFile})`);
  out.push(summary(doc));
  out.push("");
  out.push("RESOURCES");
  for (const line of treeLines(doc)) {
    const prefix = line.last
      .slice(0, -1)
      .map((l) => (l ? "   " : "│  "))
      .join("");
    const branch = line.depth === 0 ? "" : line.last[line.last.length - 1] ? "└─ " : "├─ ";
    const f = flags(line.resource);
    out.push(`${line.depth === 0 ? "" : prefix.slice(3)}${branch}${line.resource.name}  (${shortType(line.resource.type)})${f ? "  " + f : ""}`);
  }
  out.push("");
  out.push("COPIES (3-2-1 matrix)");
  out.push(doc.copies.length ? textTable(["DATA CLASS", "TIER", "COPIES", "MEDIA", "OFF-SITE", "WHERE"], copyRows(doc)) : "(no data class found)");
  out.push("");
  out.push("SCHEDULES");
  out.push(doc.schedules.length ? textTable(["RESOURCE", "TYPE", "FIELD", "SCHEDULE", "WHEN"], scheduleRows(doc)) : "(none declared)");
  out.push("");
  out.push("RETENTION (backups kept)");
  out.push(
    doc.retention.length
      ? textTable(["RESOURCE", "TYPE", ...KEEP_COLUMNS.map((k) => k.toUpperCase()), "OTHER"], retentionRows(doc))
      : "(none declared)",
  );
  if (doc.flows.length) {
    out.push("");
    out.push("BACKUP VLAN FLOWS (everything else is dropped and logged)");
    out.push(textTable(["FROM", "TO", "PORT", "WHY"], doc.flows.map((f) => [f.from, f.to, f.port, f.why])));
  }
  if (doc.keys.length) {
    out.push("");
    out.push("KEYS");
    out.push(textTable(["KEY", "PROTECTS", "ROTATION", "NEXT", "OLD VERSIONS KEPT"], doc.keys.map((k) => [k.key, k.protects, k.rotation, k.nextRotation || "·", k.oldVersionsKept])));
  }
  if (doc.cost) {
    out.push("");
    out.push("OFF-SITE COST (per month)");
    out.push(textTable(["CLASS", "WHERE", "STORAGE", "PER-OBJECT", "REQUESTS", "EARLY DELETE", "MONTHLY"], costRows(doc)));
    for (const line of costSummary(doc)) out.push(line);
  }
  out.push("");
  out.push(`POLICIES: ${policySummary(doc)}`);
  if (doc.violations.length) {
    out.push(textTable(["LEVEL", "POLICY", "SUBJECT", "FINDING"], violationRows(doc)));
    const fixes = [...new Map(doc.violations.filter((v) => !v.exemptReason).map((v) => [v.id, v.fix])).entries()];
    out.push("");
    for (const [id, fix] of fixes) out.push(`fix ${id}: ${fix}`);
  }
  if (doc.notes.length) {
    out.push("");
    out.push("NOTES");
    for (const n of doc.notes) out.push(`- ${n}`);
  }
  const outputKeys = Object.keys(doc.outputs);
  if (outputKeys.length) {
    out.push("");
    out.push("OUTPUTS");
    for (const key of outputKeys) out.push(...outputLines(key, doc.outputs[key]));
  }
  return out.join("\n") + "\n";
}

/** Outputs one per line; maps one entry per line so long values stay readable. */
function outputLines(key: string, value: unknown): string[] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return [`${key}:`, ...Object.entries(value as Record<string, unknown>).map(([k, v]) => `  ${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`)];
  }
  return [`${key} = ${Array.isArray(value) ? value.join(", ") : typeof value === "string" ? value : JSON.stringify(value)}`];
}
