/**
 * The plan document: what the stack declares, derived from the recorded resources (never from
 * the config), in the shape the JSON output promises. Renderers only format this.
 */
import { describeCalendarEvent, parseCalendarEvent } from "../config/calendar";
import { deriveCopies, type DataClass, type ModelResource } from "../model";
import { resolvePolicyConfig, type PolicyConfig } from "../policies/config";
import { runRules, type Violation } from "../policies/run";
import type { RecordedResource } from "./record";

export interface PlanResource {
  type: string;
  name: string;
  /** `type::name` of the parent, or null at the top. */
  parent: string | null;
  urn: string;
  inputs: Record<string, unknown>;
  protect: boolean;
  retainOnDelete: boolean;
}

export interface ScheduleRow {
  resource: string;
  type: string;
  field: string;
  schedule: string;
  /** Human reading of the schedule, or the cron fields for cron-style schedules. */
  when: string;
}

export interface RetentionRow {
  resource: string;
  type: string;
  keep: Record<string, number>;
}

/** The parts of the off-site cost estimate the plan shows. */
export interface OffsiteCost {
  declared: { label: string; monthly: number; restore: { total: number }; classes: { name: string; where: string; monthly: number; storage: number; objectOverhead: number; requests: number; earlyDeletion: number }[] };
  standard: { label: string; monthly: number };
  cheapest: { label: string; monthly: number };
  standardToDeclared: number;
  notes: string[];
}

/** Stack outputs that are data for the plan's own sections rather than values to list. */
export const PLAN_DATA_OUTPUTS = ["offsiteCost", "offsiteNotes", "backupFlows", "keyInventory"];

export interface PlanDocument {
  stack: string;
  stackFile: string;
  resources: PlanResource[];
  schedules: ScheduleRow[];
  retention: RetentionRow[];
  outputs: Record<string, unknown>;
  /** Plain-language notes (unset secrets, provider limits). */
  notes: string[];
  /** The off-site tier's cost estimate (from the stack output `offsiteCost`), when declared. */
  cost?: OffsiteCost;
  /** The backup VLAN's allowed flows (from the stack output `backupFlows`). */
  flows: { from: string; to: string; port: string; why: string }[];
  /** Every key the topology holds (from the stack output `keyInventory`). */
  keys: { key: string; protects: string; owner: string; rotation: string; nextRotation: string; oldVersionsKept: string }[];
  /** Copies per data class: the protection model derived from the resources. */
  copies: DataClass[];
  /** Findings of the policy pack that are not compliant (exempt ones carry their reason). */
  violations: Violation[];
}

function resourceKey(r: Pick<RecordedResource, "type" | "name">): string {
  return `${r.type}::${r.name}`;
}

/** A short type for tables: `proxmoxve:backup/job:Job` → `backup.Job`, dynamic → `pbs.Datastore`. */
export function shortType(type: string): string {
  const dynamic = /^pulumi-nodejs:dynamic\/([^:]+):(.+)$/.exec(type);
  if (dynamic) return `${dynamic[1]}.${dynamic[2]}`;
  const parts = type.split(":");
  if (parts.length === 3) {
    const module = (parts[1] as string).split("/")[0] as string;
    // Components read as such, so `critical (pbs.Datastore component)` and its PBS datastore differ.
    if (parts[0] === "homelab") return `${module === "index" ? "homelab" : module}.${parts[2]} component`;
    return module === "index" ? `${parts[0]}.${parts[2]}` : `${module}.${parts[2]}`;
  }
  return type;
}

const KEEP_NAMES: Record<string, string> = {
  "keep-last": "last", keepLast: "last",
  "keep-hourly": "hourly", keepHourly: "hourly",
  "keep-daily": "daily", keepDaily: "daily",
  "keep-weekly": "weekly", keepWeekly: "weekly",
  "keep-monthly": "monthly", keepMonthly: "monthly",
  "keep-yearly": "yearly", keepYearly: "yearly",
};

function keepOf(inputs: Record<string, unknown>): Record<string, number> {
  const keep: Record<string, number> = {};
  const visit = (obj: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(obj)) {
      const name = KEEP_NAMES[k];
      if (name && (typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v)))) keep[name] = Number(v);
    }
  };
  visit(inputs);
  const prune = inputs["pruneBackups"];
  if (prune && typeof prune === "object") visit(prune as Record<string, unknown>);
  if (typeof inputs["lifetimeValue"] === "number" && typeof inputs["lifetimeUnit"] === "string") {
    keep[`${String(inputs["lifetimeUnit"]).toLowerCase()}s`] = inputs["lifetimeValue"] as number;
  }
  return keep;
}

function whenOf(value: unknown): { schedule: string; when: string } | undefined {
  if (typeof value === "string") {
    try {
      return { schedule: value, when: describeCalendarEvent(parseCalendarEvent(value)) };
    } catch {
      return { schedule: value, when: value };
    }
  }
  if (value && typeof value === "object" && "minute" in value && "hour" in value) {
    const c = value as Record<string, unknown>;
    const cron = ["minute", "hour", "dom", "month", "dow"].map((f) => String(c[f] ?? "*")).join(" ");
    return { schedule: cron, when: `cron ${cron}` };
  }
  return undefined;
}

export function buildDocument(input: {
  stack: string;
  stackFile: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  notes: string[];
  policyConfig?: Partial<PolicyConfig>;
}): PlanDocument {
  const byUrn = new Map(input.resources.map((r) => [r.urn, r]));
  const resources: PlanResource[] = input.resources.map((r) => {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    return {
      type: r.type,
      name: r.name,
      parent: parent ? resourceKey(parent) : null,
      urn: r.urn,
      inputs: r.inputs,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
    };
  });
  const model = input.resources.map(toModelResource);
  const schedules: ScheduleRow[] = [];
  const retention: RetentionRow[] = [];
  for (const r of input.resources) {
    if (!r.custom) continue;
    for (const [field, value] of Object.entries(r.inputs)) {
      if (!/schedule$/i.test(field) || field === "matchCalendar") continue;
      const when = whenOf(value);
      if (when) schedules.push({ resource: r.name, type: shortType(r.type), field, ...when });
    }
    const keep = keepOf(r.inputs);
    if (Object.keys(keep).length > 0) retention.push({ resource: r.name, type: shortType(r.type), keep });
  }
  const cost = input.outputs["offsiteCost"] as OffsiteCost | undefined;
  const offsiteNotes = Array.isArray(input.outputs["offsiteNotes"]) ? (input.outputs["offsiteNotes"] as string[]) : [];
  const outputs = Object.fromEntries(Object.entries(input.outputs).filter(([k]) => !PLAN_DATA_OUTPUTS.includes(k)));
  return {
    stack: input.stack,
    stackFile: input.stackFile,
    resources,
    ...(cost && typeof cost === "object" && "declared" in cost ? { cost } : {}),
    flows: Array.isArray(input.outputs["backupFlows"]) ? (input.outputs["backupFlows"] as PlanDocument["flows"]) : [],
    keys: Array.isArray(input.outputs["keyInventory"]) ? (input.outputs["keyInventory"] as PlanDocument["keys"]) : [],
    schedules,
    retention,
    outputs,
    notes: [...input.notes, ...offsiteNotes],
    copies: deriveCopies(model),
    violations: runRules(model, resolvePolicyConfig(input.policyConfig)),
  };
}

export function toModelResource(r: RecordedResource): ModelResource {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.inputs,
    protect: r.protect,
    retainOnDelete: r.retainOnDelete,
    secretProps: r.secretInputs,
    ...(r.parent ? { parentUrn: r.parent } : {}),
  };
}
