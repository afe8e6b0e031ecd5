/** Rows shared by the text and Markdown renderers, so both show the same facts. */
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
