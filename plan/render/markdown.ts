import type { PlanDocument } from "../document";
import { copyRows, costRows, costSummary, flags, KEEP_COLUMNS, policySummary, violationRows, retentionRows, scheduleRows, shortType, summary, treeLines } from "./sections";
import { mermaidSection } from "./mermaid";
import { markdownTable } from "./table";

export function renderMarkdown(doc: PlanDocument): string {
  const out: string[] = [];
  out.push(`## homelab-backup plan: \`${doc.stack}\``);
  out.push("");
  out.push(`${summary(doc)} (from \`${doc.stackFile}\`).`);
  out.push("");
  const diagram = mermaidSection(doc);
  if (diagram.length) {
    out.push("### Data flows");
    out.push("");
    out.push(...diagram);
    out.push("");
  }
  out.push("### Copies (3-2-1)");
  out.push("");
  out.push(doc.copies.length ? markdownTable(["Data class", "Tier", "Copies", "Media", "Off-site", "Where"], copyRows(doc)) : "_No data class found._");
  out.push("");
  out.push("### Schedules");
  out.push("");
  out.push(doc.schedules.length ? markdownTable(["Resource", "Type", "Field", "Schedule", "When"], scheduleRows(doc).map((r) => r.map((c, i) => (i === 3 ? `\`${c}\`` : c)))) : "_None declared._");
  out.push("");
  out.push("### Retention");
  out.push("");
  out.push(
    doc.retention.length
      ? markdownTable(["Resource", "Type", ...KEEP_COLUMNS.map((k) => k[0]?.toUpperCase() + k.slice(1)), "Other"], retentionRows(doc))
      : "_None declared._",
  );
  if (doc.flows.length) {
    out.push("");
    out.push("### Backup VLAN flows");
    out.push("");
    out.push(markdownTable(["From", "To", "Port", "Why"], doc.flows.map((f) => [f.from, f.to, f.port, f.why])));
  }
  if (doc.keys.length) {
    out.push("");
    out.push("### Keys");
    out.push("");
    out.push(markdownTable(["Key", "Protects", "Rotation", "Next", "Old versions kept"], doc.keys.map((k) => [k.key, k.protects, k.rotation, k.nextRotation || "·", k.oldVersionsKept])));
  }
  if (doc.cost) {
    out.push("");
    out.push("### Off-site cost (per month)");
    out.push("");
    out.push(markdownTable(["Class", "Where", "Storage", "Per-object", "Requests", "Early delete", "Monthly"], costRows(doc)));
    out.push("");
    for (const line of costSummary(doc)) out.push(`- ${line}`);
  }
  out.push("");
  out.push("### Policies");
  out.push("");
  out.push(`**${policySummary(doc)}**`);
  if (doc.violations.length) {
    out.push("");
    out.push(markdownTable(["Level", "Policy", "Subject", "Finding"], violationRows(doc)));
  }
  if (doc.notes.length) {
    out.push("");
    out.push("### Notes");
    out.push("");
    for (const n of doc.notes) out.push(`- ${n}`);
  }
  out.push("");
  out.push("<details><summary>Resources</summary>");
  out.push("");
  out.push("```");
  for (const line of treeLines(doc)) {
    const f = flags(line.resource);
    out.push(`${"  ".repeat(line.depth)}${line.resource.name} (${shortType(line.resource.type)})${f ? " " + f : ""}`);
  }
  out.push("```");
  out.push("");
  out.push("</details>");
  return out.join("\n") + "\n";
}
