/**
 * The data-flow diagram of a plan: sources → PBS → TrueNAS → off-site, each edge labelled with
 * when the copy is made and how long it is kept. Built from `document.copies` (the protection
 * model) and the resources the copies name, never from config, so the picture in a PR comment is
 * what `pulumi up` would converge to.
 *
 * GitHub renders Mermaid with a text-size and edge-count ceiling; a stack with many services
 * collapses its sources per tier and first copy so the diagram always renders.
 */
import type { Copy, DataClass } from "../../model";
import { blocking } from "../../policies/run";
import { feedSchedule, formatDays } from "../diff";
import type { PlanDocument } from "../document";

export type FlowGroup = "source" | "pbs" | "nas" | "borg" | "offsite";

export interface FlowNode {
  id: string;
  group: FlowGroup;
  /** Label lines, plain text (escaped when rendered). */
  lines: string[];
  /** Mermaid classes: `offsite`, `weak` (a copy not encrypted or not verified), `violation`. */
  classes: string[];
}

export interface FlowEdge {
  from: string;
  to: string;
  /** Label lines: when the copy is made, how long it is kept. */
  lines: string[];
}

export interface FlowGraph {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Sources were grouped per tier and first copy (too many services for one node each). */
  collapsed: boolean;
}

const GROUP_OF: Record<Copy["kind"], FlowGroup> = {
  source: "source",
  "pbs-datastore": "pbs",
  "nas-replica": "nas",
  "borg-repository": "borg",
  "offsite-bucket": "offsite",
};

const GROUP_TITLE: Record<FlowGroup, string> = {
  source: "Sources (Proxmox VE guests, hosts)",
  pbs: "Proxmox Backup Server",
  nas: "TrueNAS",
  borg: "Borg repositories",
  offsite: "Off-site",
};

const GROUP_ORDER: FlowGroup[] = ["source", "pbs", "borg", "nas", "offsite"];

/** Beyond this many data classes, sources are grouped: GitHub refuses diagrams past ~500 edges / 50,000 characters. */
export const COLLAPSE_ABOVE = 30;
const MAX_TEXT = 45_000;

/** Mermaid label text: entity codes for everything the flowchart grammar or HTML labels would read. */
export function escapeLabel(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/#/g, "#35;")
    .replace(/"/g, "#quot;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;")
    .replace(/\|/g, "#124;")
    .replace(/`/g, "#96;");
}

function keepLine(copy: Copy): string | undefined {
  const parts: string[] = [];
  if (copy.keep && Object.keys(copy.keep).length) parts.push(Object.entries(copy.keep).map(([k, n]) => `${n} ${k}`).join(", "));
  else if (copy.retention && !/^\d+ days$/.test(copy.retention)) parts.push(copy.retention);
  else if (copy.retentionDays !== undefined) parts.push(formatDays(copy.retentionDays));
  if (copy.lockDays) parts.push(`locked ${formatDays(copy.lockDays)}`);
  return parts.length ? `keep ${parts.join(" · ")}` : undefined;
}

function copyMarks(copy: Copy): string {
  const marks: string[] = [];
  marks.push(copy.encrypted ? "encrypted" : "NOT encrypted");
  if (copy.immutable) marks.push(copy.kind === "offsite-bucket" ? "object lock" : "read-only");
  marks.push(copy.verified ? "verified" : "NOT verified");
  return marks.join(" · ");
}

const TIER_RANK = (tier: string | undefined) => ({ critical: 0, important: 1, archive: 2 })[tier ?? ""] ?? 3;

export function flowGraph(doc: PlanDocument, options: { collapse?: boolean } = {}): FlowGraph {
  const classes = [...doc.copies].sort((a, b) => TIER_RANK(a.tier) - TIER_RANK(b.tier) || (a.tier ?? "").localeCompare(b.tier ?? "") || a.name.localeCompare(b.name));
  const collapsed = options.collapse ?? classes.length > COLLAPSE_ABOVE;
  const violating = new Set(blocking(doc.violations).map((v) => v.subject));
  const nodes = new Map<string, FlowNode>();
  const edges = new Map<string, FlowEdge>();
  const counters: Record<FlowGroup, number> = { source: 0, pbs: 0, nas: 0, borg: 0, offsite: 0 };
  const storeIds = new Map<string, string>();
  const groupMembers = new Map<string, DataClass[]>();

  const storeNode = (copy: Copy): string => {
    const key = `${copy.kind}\u0000${copy.location}`;
    const known = storeIds.get(key);
    if (known) return known;
    const group = GROUP_OF[copy.kind];
    const id = `${group}${counters[group]++}`;
    storeIds.set(key, id);
    const weak = !copy.encrypted || !copy.verified;
    nodes.set(id, { id, group, lines: [copy.location, copyMarks(copy)], classes: [...(copy.site === "offsite" ? ["offsite"] : []), ...(weak ? ["weak"] : [])] });
    return id;
  };

  const addEdge = (from: string, to: string, lines: string[]) => {
    const key = `${from}->${to}`;
    const existing = edges.get(key);
    if (!existing) edges.set(key, { from, to, lines });
    else for (const l of lines) if (!existing.lines.includes(l)) existing.lines.push(l);
  };

  for (const cls of classes) {
    const source = cls.copies.find((c) => c.original);
    let sourceId: string;
    if (collapsed) {
      const first = cls.copies.find((c) => !c.original);
      const key = `${cls.tier ?? "?"}\u0000${first?.location ?? "none"}`;
      const members = groupMembers.get(key) ?? [];
      members.push(cls);
      groupMembers.set(key, members);
      sourceId = `source${[...groupMembers.keys()].indexOf(key)}`;
      const names = members.map((m) => m.name);
      const shown = names.length > 4 ? `${names.slice(0, 4).join(", ")} and ${names.length - 4} more` : names.join(", ");
      nodes.set(sourceId, {
        id: sourceId,
        group: "source",
        lines: [`${members.length} service${members.length === 1 ? "" : "s"} · tier ${cls.tier ?? "none"}`, shown],
        classes: members.some((m) => violating.has(m.name)) ? ["violation"] : [],
      });
    } else {
      sourceId = `source${counters.source++}`;
      nodes.set(sourceId, {
        id: sourceId,
        group: "source",
        lines: [cls.name, `${source?.location.replace(/^PVE /, "") ?? "source"} · tier ${cls.tier ?? "none"}`],
        classes: violating.has(cls.name) ? ["violation"] : [],
      });
    }
    let previous = sourceId;
    cls.copies.forEach((copy) => {
      if (copy.original) return;
      const id = storeNode(copy);
      const when = feedSchedule(doc, cls, copy)?.text;
      const keep = keepLine(copy);
      addEdge(previous, id, [when, keep].filter((l): l is string => l !== undefined));
      previous = id;
    });
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], collapsed };
}

function nodeText(n: FlowNode): string {
  const label = n.lines.map(escapeLabel).join("<br/>");
  // Stores are cylinders, sources rounded boxes: the shape says which side of the flow it is.
  return n.group === "source" ? `${n.id}("${label}")` : `${n.id}[("${label}")]`;
}

function edgeText(e: FlowEdge): string {
  // Distinct schedules of one collapsed group are joined; beyond three the label says how many.
  const lines = e.lines.length > 4 ? [...e.lines.slice(0, 3), `and ${e.lines.length - 3} more`] : e.lines;
  return lines.length ? `${e.from} -->|"${lines.map(escapeLabel).join("<br/>")}"| ${e.to}` : `${e.from} --> ${e.to}`;
}

function render(graph: FlowGraph): string {
  const out: string[] = ["flowchart LR"];
  for (const group of GROUP_ORDER) {
    const members = graph.nodes.filter((n) => n.group === group);
    if (!members.length) continue;
    out.push(`  subgraph ${group}_group["${escapeLabel(GROUP_TITLE[group])}"]`);
    out.push("    direction TB");
    for (const n of members) out.push(`    ${nodeText(n)}`);
    out.push("  end");
  }
  for (const e of graph.edges) out.push(`  ${edgeText(e)}`);
  out.push("  classDef offsite stroke-dasharray: 5 5");
  out.push("  classDef weak stroke:#d97706,stroke-width:2px");
  out.push("  classDef violation stroke:#dc2626,stroke-width:3px");
  for (const cls of ["offsite", "weak", "violation"]) {
    const ids = graph.nodes.filter((n) => n.classes.includes(cls)).map((n) => n.id);
    if (ids.length) out.push(`  class ${ids.join(",")} ${cls}`);
  }
  return out.join("\n") + "\n";
}

/** The flowchart's Mermaid source (no fences). Empty when the stack has no data class. */
export function renderMermaid(doc: PlanDocument): string {
  if (!doc.copies.length) return "";
  const text = render(flowGraph(doc));
  return text.length > MAX_TEXT ? render(flowGraph(doc, { collapse: true })) : text;
}

/** The fenced block and its legend, for Markdown. */
export function mermaidSection(doc: PlanDocument): string[] {
  const text = renderMermaid(doc);
  if (!text) return [];
  return [
    "```mermaid",
    text.trimEnd(),
    "```",
    "",
    "_Edges: when the copy is made and what it keeps. Dashed: off-site. Orange: a copy not encrypted or not verified. Red: a data class with a mandatory policy violation._",
  ];
}
