/** Rows shared by the text and Markdown renderers, so both show the same facts. */
import { counts } from "../../model";
import { shortType, type PlanDocument, type PlanResource } from "../document";

export const KEEP_COLUMNS = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;

export function scheduleRows(doc: PlanDocument): string[][] {
  return doc.schedules.map((s) => [s.resource, s.type, s.field, s.schedule, s.when]);
}

export function retentionRows(doc: PlanDocument): string[][] {
  return doc.retention.map((r) => {
    const extra = Object.entries(r.keep)
      .filter(([k]) => !(KEEP_COLUMNS as readonly string[]).includes(k))
      .map(([k, v]) => `${v} ${k}`)
      .join(", ");
    return [r.resource, r.type, ...KEEP_COLUMNS.map((k) => (r.keep[k] !== undefined ? String(r.keep[k]) : "·")), extra || "·"];
  });
}

export interface TreeLine {
  depth: number;
  last: boolean[];
  resource: PlanResource;
}

/** Depth-first order of the resource tree, children in registration order. */
export function treeLines(doc: PlanDocument): TreeLine[] {
  const children = new Map<string | null, PlanResource[]>();
  for (const r of doc.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const out: TreeLine[] = [];
  const walk = (parent: string | null, depth: number, last: boolean[]) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const isLast = i === list.length - 1;
      out.push({ depth, last: [...last, isLast], resource: r });
      walk(`${r.type}::${r.name}`, depth + 1, [...last, isLast]);
    });
  };
  walk(null, 0, []);
  return out;
}

export function flags(r: PlanResource): string {
  const f: string[] = [];
  if (r.protect) f.push("protected");
  if (r.retainOnDelete) f.push("retained on delete");
  return f.length ? `[${f.join(", ")}]` : "";
}

export function summary(doc: PlanDocument): string {
  const components = doc.resources.filter((r) => r.type.startsWith("homelab:")).length;
  const providers = doc.resources.filter((r) => r.type.startsWith("pulumi:providers:")).length;
  const protectedCount = doc.resources.filter((r) => r.protect).length;
  const custom = doc.resources.length - components - providers;
  return `${doc.resources.length} resources: ${components} components, ${custom} resources, ${providers} providers; ${protectedCount} protected from deletion`;
}

export { shortType };

/** The 3-2-1 matrix: one row per data class with its counts and its chain of copies. */
export function copyRows(doc: PlanDocument): string[][] {
  return doc.copies.map((c) => {
    const n = counts(c);
    const chain = c.copies
      .map((copy) => {
        const marks = [copy.encrypted ? "enc" : "", copy.immutable ? "immutable" : "", copy.verified ? "verified" : "", copy.site === "offsite" ? "off-site" : ""].filter(Boolean);
        return marks.length ? `${copy.location} (${marks.join(", ")})` : copy.location;
      })
      .join(" → ");
    return [c.name, c.tier ?? "?", String(n.copies), String(n.media), String(n.offsite), chain];
  });
}

export function violationRows(doc: PlanDocument): string[][] {
  return doc.violations.map((v) => [
    v.exemptReason ? "exempt" : v.enforcement,
    `${v.id} ${v.policy}`,
    v.subject,
    v.exemptReason ? `${v.message} (exempt: ${v.exemptReason})` : v.message,
  ]);
}

export function policySummary(doc: PlanDocument): string {
  const mandatory = doc.violations.filter((v) => v.enforcement === "mandatory" && !v.exemptReason).length;
  const advisory = doc.violations.filter((v) => v.enforcement === "advisory").length;
  const exempt = doc.violations.filter((v) => v.exemptReason).length;
  return mandatory === 0
    ? `every mandatory policy passes (${advisory} advisory finding${advisory === 1 ? "" : "s"}, ${exempt} exempt)`
    : `${mandatory} MANDATORY VIOLATION${mandatory === 1 ? "" : "S"} (${advisory} advisory, ${exempt} exempt): the plan exits 2`;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The off-site cost: per class, the total, one full restore, and what Standard and the cheapest layout would cost. */
export function costRows(doc: PlanDocument): string[][] {
  const c = doc.cost;
  if (!c) return [];
  return [
    ...c.declared.classes.map((k) => [k.name, k.where, usd(k.storage), usd(k.objectOverhead), usd(k.requests), usd(k.earlyDeletion), usd(k.monthly)]),
    ["total", c.declared.label, "", "", "", "", usd(c.declared.monthly)],
  ];
}

export function costSummary(doc: PlanDocument): string[] {
  const c = doc.cost;
  if (!c) return [];
  return [
    `one full restore: ${usd(c.declared.restore.total)} (retrieval and egress)`,
    `the same in ${c.standard.label}: ${usd(c.standard.monthly)}/month (${c.standardToDeclared.toFixed(1)}x); cheapest feasible: ${c.cheapest.label} at ${usd(c.cheapest.monthly)}/month`,
  ];
}
