/**
 * What a change does to protection: two plan documents in, the differences a reviewer has to
 * judge out. Pure (no I/O, no Pulumi), so the same comparison serves the CLI, the PR comment and
 * the tests, and any two documents compare (two stacks, two commits, a saved JSON plan).
 *
 * Every change has a direction. "weaker" is anything that can cost data or time in a restore:
 * a copy lost, retention or frequency cut, a copy no longer encrypted/immutable/verified/protected,
 * a restore that now starts further away, a policy newly violated or newly exempted. Those are the
 * reviewer's decisions; everything else is context.
 */
import { describeCalendarEvent, maxIntervalMinutes, parseCalendarEvent } from "../config/calendar";
import { formatDuration } from "../config/duration";
import { counts, type Copy, type DataClass } from "../model";
import { DATA_BEARING } from "../policies/rules/data-protected";
import type { Violation } from "../policies/run";
import type { PlanDocument, PlanResource } from "./document";

export type Direction = "weaker" | "stronger" | "neutral";

export type ChangeKind =
  | "class-removed"
  | "class-added"
  | "copy-lost"
  | "copy-gained"
  | "copy-moved"
  | "copy-property"
  | "retention"
  | "schedule"
  | "tier"
  | "objective"
  | "restore-path"
  | "source"
  | "policy-violated"
  | "policy-resolved"
  | "policy-exempted"
  | "resource"
  | "cost";

export interface Change {
  kind: ChangeKind;
  direction: Direction;
  /** A data class name, `tier <name>`, a policy subject or a resource's `type::name`. */
  subject: string;
  /** One line a reviewer reads, naming the before and after values. */
  message: string;
  before?: string;
  after?: string;
  /** A mandatory policy newly violated: the plan exits 2 until it is fixed or exempted. */
  blocking?: boolean;
}

/** RPO and RTO the stack promises per tier: declarations (the stack file's `tiers`), not resources. */
export interface TierObjective {
  tier: string;
  rpo: string;
  rpoMinutes: number;
  rto: string;
  rtoMinutes: number;
}

export interface ProtectionFacts {
  tier?: string;
  copies: number;
  media: number;
  offsite: number;
  /** Worst-case minutes between two backups of the job that feeds the class: its real RPO. */
  rpoMinutes?: number;
  rtoTarget?: string;
  /** Where a restore starts: the nearest backup copy. */
  restoreFrom?: string;
}

export interface ClassDiff {
  name: string;
  status: "added" | "removed" | "changed" | "unchanged";
  before?: ProtectionFacts;
  after?: ProtectionFacts;
  changes: Change[];
}

export interface ProtectionDiff {
  before: { stack: string; stackFile: string };
  after: { stack: string; stackFile: string };
  classes: ClassDiff[];
  /** Changes that belong to no single class: tier objectives, policies, resources, cost. */
  other: Change[];
  /** Every change, classes first, in the order they are rendered. */
  changes: Change[];
  weakenings: Change[];
  strengthenings: Change[];
  policies: { newlyViolated: Violation[]; resolved: Violation[]; newlyExempted: Violation[] };
  cost?: { before?: number; after?: number; currency: string };
}

export interface DiffOptions {
  /** Tier objectives of each side; without them a tier change is reported, not judged. */
  objectives?: { before?: readonly TierObjective[]; after?: readonly TierObjective[] };
}

/** Restore speed rank of a copy kind: a restore starts from the lowest. */
const RESTORE_RANK: Record<Copy["kind"], number> = { source: 0, "pbs-datastore": 1, "borg-repository": 1, "nas-replica": 2, "offsite-bucket": 3 };
const RESTORE_WORDS: Record<number, string> = {
  1: "on-site backup server (minutes)",
  2: "NAS replica (the datastore must be sent back to PBS first)",
  3: "off-site bucket (download, and a retrieval wait for archive classes)",
};

/** Worst-case interval of a calendar event in minutes, undefined when it is not one. */
export function intervalOf(schedule: string | undefined): number | undefined {
  if (!schedule) return undefined;
  try {
    const minutes = maxIntervalMinutes(parseCalendarEvent(schedule));
    return Number.isFinite(minutes) ? minutes : undefined;
  } catch {
    return undefined;
  }
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A schedule in words: a calendar event (PVE/PBS) or a cron object (TrueNAS). */
export function whenText(schedule: unknown): string | undefined {
  if (typeof schedule === "string") {
    try {
      return describeCalendarEvent(parseCalendarEvent(schedule));
    } catch {
      return schedule;
    }
  }
  if (!schedule || typeof schedule !== "object" || Array.isArray(schedule)) return undefined;
  const c = schedule as Record<string, unknown>;
  if (!("minute" in c) || !("hour" in c)) return undefined;
  const f = (k: string) => String(c[k] ?? "*");
  const time = /^\d+$/.test(f("hour")) && /^\d+$/.test(f("minute")) ? `${f("hour").padStart(2, "0")}:${f("minute").padStart(2, "0")}` : undefined;
  if (time && f("month") === "*") {
    if (f("dom") === "*" && f("dow") === "*") return `daily ${time}`;
    if (/^\d+$/.test(f("dom")) && f("dow") === "*") return `monthly on day ${f("dom")} ${time}`;
    if (f("dom") === "*" && /^[0-7](,[0-7])*$/.test(f("dow"))) return `${f("dow").split(",").map((d) => WEEKDAYS[Number(d) % 7]).join(",")} ${time}`;
  }
  return `cron ${["minute", "hour", "dom", "month", "dow"].map(f).join(" ")}`;
}

/** A TrueNAS cron object as a calendar event, so its interval can be computed; undefined for steps and ranges cron has but calendars spell differently. */
function cronAsCalendar(schedule: Record<string, unknown>): string | undefined {
  const f = (k: string) => String(schedule[k] ?? "*");
  const list = /^(\*|\d+(,\d+)*)$/;
  if (!["minute", "hour", "dom", "month", "dow"].every((k) => list.test(f(k)))) return undefined;
  const dow = f("dow") === "*" ? "" : `${f("dow").split(",").map((n) => WEEKDAYS[Number(n) % 7]).join(",")} `;
  return `${dow}*-${f("month")}-${f("dom")} ${f("hour")}:${f("minute")}`;
}

export interface FeedSchedule {
  /** The schedule in words. */
  text: string;
  /** Worst-case minutes between two runs, when known. */
  interval?: number;
}

function feedOf(schedule: unknown): FeedSchedule | undefined {
  const text = whenText(schedule);
  if (!text) return undefined;
  const calendar = typeof schedule === "string" ? schedule : cronAsCalendar(schedule as Record<string, unknown>);
  const interval = intervalOf(calendar);
  return { text, ...(interval !== undefined ? { interval } : {}) };
}

function bucketInput(r: PlanResource): string | undefined {
  const direct = r.inputs["bucket"];
  if (typeof direct === "string") return direct;
  const attrs = r.inputs["attributes"];
  const nested = attrs && typeof attrs === "object" ? (attrs as Record<string, unknown>)["bucket"] : undefined;
  return typeof nested === "string" ? nested : undefined;
}

/**
 * When a copy is made: the class's job for the first backup copy, the replication task for a NAS
 * replica, the cloud sync for a bucket. Downstream copies lag by their own schedule, so it is part
 * of what a restore from them can lose.
 */
export function feedSchedule(doc: PlanDocument, cls: DataClass, copy: Copy): FeedSchedule | undefined {
  const backups = cls.copies.filter((c) => !c.original);
  if (backups[0] === copy || copy.kind === "pbs-datastore" || copy.kind === "borg-repository") return feedOf(cls.schedule);
  if (copy.kind === "nas-replica") return feedOf(doc.resources.find((r) => `${r.type}::${r.name}` === copy.resource)?.inputs["schedule"]);
  if (copy.kind === "offsite-bucket") {
    const bucket = copy.location.replace(/^S3 /, "");
    const syncs = doc.resources.filter((r) => /:CloudSyncTask$/.test(r.type) && bucketInput(r) === bucket);
    // Several NAS paths may sync into one bucket: the one that uploads the previous copy feeds this one.
    const previous = cls.copies[cls.copies.indexOf(copy) - 1];
    const mount = previous?.kind === "nas-replica" ? `/mnt/${previous.location.replace(/^TrueNAS /, "")}` : /^borg ssh:\/\/[^/]+(\/.*)$/.exec(previous?.location ?? "")?.[1];
    const path = (r: PlanResource) => (typeof r.inputs["path"] === "string" ? (r.inputs["path"] as string) : "");
    const sync = syncs.find((r) => mount !== undefined && (mount === path(r) || mount.startsWith(`${path(r)}/`))) ?? syncs[0];
    return feedOf(sync?.inputs["schedule"]);
  }
  return undefined;
}

const DAYS_PER: Record<string, number> = { last: 0, hourly: 1 / 24, daily: 1, weekly: 7, monthly: 30.44, yearly: 365 };

/** How far back the oldest restore point reaches, in days, for a GFS keep policy. */
export function horizonDays(keep: Record<string, number> | undefined, retentionDays?: number): number | undefined {
  if (retentionDays !== undefined) return retentionDays;
  if (!keep) return undefined;
  const days = Object.entries(keep).map(([k, n]) => (DAYS_PER[k] ?? 0) * n);
  return days.length ? Math.max(...days) : undefined;
}

export function formatDays(days: number): string {
  if (days >= 365 && Math.abs(days / 365 - Math.round(days / 365)) < 0.05) return `${Math.round(days / 365)}y`;
  if (days >= 60) return `${Math.round(days / 30.44)} months`;
  if (days >= 1) return `${Math.round(days)}d`;
  return `${Math.round(days * 24)}h`;
}

function restoreSource(c: DataClass): Copy | undefined {
  const backups = c.copies.filter((x) => !x.original);
  return backups.reduce<Copy | undefined>((best, x) => (best === undefined || RESTORE_RANK[x.kind] < RESTORE_RANK[best.kind] ? x : best), undefined);
}

export function factsOf(c: DataClass, objectives?: readonly TierObjective[]): ProtectionFacts {
  const n = counts(c);
  const rpo = intervalOf(c.schedule);
  const objective = objectives?.find((o) => o.tier === c.tier);
  const from = restoreSource(c);
  return {
    ...(c.tier ? { tier: c.tier } : {}),
    copies: n.copies,
    media: n.media,
    offsite: n.offsite,
    ...(rpo !== undefined ? { rpoMinutes: rpo } : {}),
    ...(objective ? { rtoTarget: objective.rto } : {}),
    ...(from ? { restoreFrom: from.location } : {}),
  };
}

const countsText = (f: { copies: number; media: number; offsite: number }) => `${f.copies} copies, ${f.media} media, ${f.offsite} off-site`;

/** Pairs copies of two versions of a class: same place first, then same kind (a move), rest lost/gained. */
function pairCopies(before: Copy[], after: Copy[]): { pairs: [Copy, Copy][]; lost: Copy[]; gained: Copy[] } {
  const left = [...before];
  const right = [...after];
  const pairs: [Copy, Copy][] = [];
  for (const match of [(a: Copy, b: Copy) => a.kind === b.kind && a.location === b.location, (a: Copy, b: Copy) => a.kind === b.kind]) {
    for (let i = 0; i < left.length; ) {
      const j = right.findIndex((b) => match(left[i] as Copy, b));
      if (j >= 0) {
        pairs.push([left[i] as Copy, right[j] as Copy]);
        left.splice(i, 1);
        right.splice(j, 1);
      } else i++;
    }
  }
  return { pairs, lost: left, gained: right };
}

const FLAG_WORDS: [keyof Pick<Copy, "encrypted" | "immutable" | "verified" | "protected">, string][] = [
  ["encrypted", "encrypted"],
  ["immutable", "immutable (locked or read-only)"],
  ["verified", "verified on a schedule"],
  ["protected", "protected from deletion"],
];

function keepText(keep: Record<string, number> | undefined): string {
  return keep && Object.keys(keep).length ? Object.entries(keep).map(([k, n]) => `${k} ${n}`).join(", ") : "nothing kept";
}

function retentionChanges(subject: string, a: Copy, b: Copy): Change[] {
  const out: Change[] = [];
  const where = b.location;
  if (a.keep || b.keep) {
    const buckets = [...new Set([...Object.keys(a.keep ?? {}), ...Object.keys(b.keep ?? {})])];
    const shorter = buckets.filter((k) => (b.keep?.[k] ?? 0) < (a.keep?.[k] ?? 0));
    const longer = buckets.filter((k) => (b.keep?.[k] ?? 0) > (a.keep?.[k] ?? 0));
    if (shorter.length || longer.length) {
      const parts = buckets
        .filter((k) => (a.keep?.[k] ?? 0) !== (b.keep?.[k] ?? 0))
        .map((k) => `${k} ${a.keep?.[k] ?? "none"} → ${b.keep?.[k] ?? "none"}`);
      const ha = horizonDays(a.keep);
      const hb = horizonDays(b.keep);
      const horizon =
        ha !== undefined && hb !== undefined
          ? ha === hb
            ? `; the oldest restore point stays ~${formatDays(ha)} back`
            : `; the oldest restore point goes from ~${formatDays(ha)} to ~${formatDays(hb)} back`
          : "";
      const direction: Direction = shorter.length ? "weaker" : "stronger";
      out.push({
        kind: "retention",
        direction,
        subject,
        message: `retention ${direction === "weaker" ? "shortened" : "lengthened"}: ${where} keeps ${parts.join(", ")}${horizon}${shorter.length && longer.length ? " (some buckets grow, but restore points are lost)" : ""}`,
        before: keepText(a.keep),
        after: keepText(b.keep),
      });
    }
  }
  if ((a.retentionDays !== undefined || b.retentionDays !== undefined) && a.retentionDays !== b.retentionDays && !(a.keep || b.keep)) {
    const from = a.retentionDays;
    const to = b.retentionDays;
    // No figure after means "kept until deleted by hand", which is longer, not shorter.
    const direction: Direction = to === undefined ? "stronger" : from === undefined || to < from ? "weaker" : "stronger";
    out.push({
      kind: "retention",
      direction,
      subject,
      message: `retention ${direction === "weaker" ? "shortened" : "lengthened"}: ${where} keeps ${from !== undefined ? formatDays(from) : "everything"} → ${to !== undefined ? formatDays(to) : "everything"}`,
      before: a.retention ?? (from !== undefined ? `${from} days` : "no expiry"),
      after: b.retention ?? (to !== undefined ? `${to} days` : "no expiry"),
    });
  }
  if (a.lockDays !== b.lockDays) {
    const direction: Direction = (b.lockDays ?? 0) < (a.lockDays ?? 0) ? "weaker" : "stronger";
    out.push({
      kind: "retention",
      direction,
      subject,
      message: `object lock ${direction === "weaker" ? "shortened" : "lengthened"}: ${where} locks each version ${a.lockDays ?? 0} → ${b.lockDays ?? 0} days`,
      before: `${a.lockDays ?? 0} days`,
      after: `${b.lockDays ?? 0} days`,
    });
  }
  return out;
}

function copyPairChanges(subject: string, a: Copy, b: Copy, feeds: { before?: FeedSchedule; after?: FeedSchedule }): Change[] {
  const out: Change[] = [];
  const fa = feeds.before;
  const fb = feeds.after;
  if (fa && fb && fa.text !== fb.text) {
    const known = fa.interval !== undefined && fb.interval !== undefined;
    const direction: Direction = known ? ((fb.interval as number) > (fa.interval as number) ? "weaker" : (fb.interval as number) < (fa.interval as number) ? "stronger" : "neutral") : "neutral";
    const lag = known && fa.interval !== fb.interval ? `; it can lag up to ${formatDuration(fa.interval as number)} → ${formatDuration(fb.interval as number)} behind` : "";
    out.push({ kind: "schedule", direction, subject, message: `${b.location} is updated ${direction === "weaker" ? "less often" : direction === "stronger" ? "more often" : "at another time"}: ${fa.text} → ${fb.text}${lag}`, before: fa.text, after: fb.text });
  }
  if (a.location !== b.location) {
    out.push({ kind: "copy-moved", direction: "neutral", subject, message: `copy moved: ${a.location} → ${b.location}`, before: a.location, after: b.location });
  }
  for (const [flag, words] of FLAG_WORDS) {
    if (a[flag] === b[flag]) continue;
    out.push({
      kind: "copy-property",
      direction: b[flag] ? "stronger" : "weaker",
      subject,
      message: b[flag] ? `${b.location} is now ${words}` : `${b.location} is no longer ${words}${flag === "verified" ? ` (${b.verification})` : ""}`,
      before: String(a[flag]),
      after: String(b[flag]),
    });
  }
  out.push(...retentionChanges(subject, a, b));
  return out;
}

function describeCopy(c: Copy): string {
  const marks = [c.site === "offsite" ? "off-site" : "on-site", c.medium, c.retention ? `keeps ${c.retention}` : ""].filter(Boolean);
  return `${c.location} (${marks.join(", ")})`;
}

function judgeObjectives(before: TierObjective | undefined, after: TierObjective | undefined): Direction {
  if (!before || !after) return "neutral";
  const rpo = Math.sign(after.rpoMinutes - before.rpoMinutes);
  const rto = Math.sign(after.rtoMinutes - before.rtoMinutes);
  if (rpo > 0 || rto > 0) return "weaker";
  if (rpo < 0 || rto < 0) return "stronger";
  return "neutral";
}

function classChanges(a: DataClass, b: DataClass, options: DiffOptions, docs: { before: PlanDocument; after: PlanDocument }): Change[] {
  const subject = b.name;
  const out: Change[] = [];
  const objBefore = options.objectives?.before;
  const objAfter = options.objectives?.after;

  if (a.tier !== b.tier) {
    const oa = objBefore?.find((o) => o.tier === a.tier);
    const ob = objAfter?.find((o) => o.tier === b.tier);
    const targets = oa && ob ? ` (RPO target ${oa.rpo} → ${ob.rpo}, RTO target ${oa.rto} → ${ob.rto})` : "";
    out.push({ kind: "tier", direction: judgeObjectives(oa, ob), subject, message: `tier ${a.tier ?? "none"} → ${b.tier ?? "none"}${targets}`, before: a.tier ?? "none", after: b.tier ?? "none" });
  }

  const ia = intervalOf(a.schedule);
  const ib = intervalOf(b.schedule);
  if (a.schedule !== b.schedule) {
    const direction: Direction = ia !== undefined && ib !== undefined ? (ib > ia ? "weaker" : ib < ia ? "stronger" : "neutral") : "neutral";
    const rpo = ia !== undefined && ib !== undefined && ia !== ib ? `; worst-case data loss (RPO) ${formatDuration(ia)} → ${formatDuration(ib)}` : "";
    const word = direction === "weaker" ? "less frequent" : direction === "stronger" ? "more frequent" : "moved";
    out.push({ kind: "schedule", direction, subject, message: `backups ${word}: \`${a.schedule ?? "none"}\` → \`${b.schedule ?? "none"}\`${rpo}`, before: a.schedule ?? "none", after: b.schedule ?? "none" });
  }

  const sa = a.copies.find((c) => c.original);
  const sb = b.copies.find((c) => c.original);
  if (sa && sb && sa.location !== sb.location) {
    out.push({ kind: "source", direction: "neutral", subject, message: `guests backed up: ${sa.location} → ${sb.location}`, before: sa.location, after: sb.location });
  }

  const { pairs, lost, gained } = pairCopies(a.copies.filter((c) => !c.original), b.copies.filter((c) => !c.original));
  const na = counts(a);
  const nb = counts(b);
  const tally = na.copies !== nb.copies || na.media !== nb.media || na.offsite !== nb.offsite ? `; 3-2-1 ${countsText(na)} → ${countsText(nb)}` : "";
  for (const c of lost) {
    out.push({ kind: "copy-lost", direction: "weaker", subject, message: `copy lost: ${describeCopy(c)}${tally}`, before: c.location });
  }
  for (const c of gained) {
    out.push({ kind: "copy-gained", direction: "stronger", subject, message: `copy gained: ${describeCopy(c)}${tally}`, after: c.location });
  }
  for (const [x, y] of pairs) {
    // The first backup copy is fed by the job, whose schedule change is reported above.
    const first = x === a.copies.find((c) => !c.original) || x.kind === "pbs-datastore" || x.kind === "borg-repository";
    const feeds = first ? {} : { before: feedSchedule(docs.before, a, x), after: feedSchedule(docs.after, b, y) };
    out.push(...copyPairChanges(subject, x, y, { ...(feeds.before ? { before: feeds.before } : {}), ...(feeds.after ? { after: feeds.after } : {}) }));
  }

  const ra = restoreSource(a);
  const rb = restoreSource(b);
  const rankA = ra ? RESTORE_RANK[ra.kind] : Number.POSITIVE_INFINITY;
  const rankB = rb ? RESTORE_RANK[rb.kind] : Number.POSITIVE_INFINITY;
  if (rankA !== rankB) {
    const direction: Direction = rankB > rankA ? "weaker" : "stronger";
    const word = (c: Copy | undefined, rank: number) => (c ? `${c.location}, ${RESTORE_WORDS[rank] ?? c.kind}` : "nothing: no backup copy");
    out.push({
      kind: "restore-path",
      direction,
      subject,
      message: `RTO ${direction === "weaker" ? "longer" : "shorter"}: a restore now starts from ${word(rb, rankB)}; before from ${word(ra, rankA)}`,
      before: ra?.location ?? "none",
      after: rb?.location ?? "none",
    });
  }
  return out;
}

const WEAKENING_ORDER: ChangeKind[] = [
  "class-removed", "copy-lost", "restore-path", "tier", "objective", "schedule", "retention", "copy-property",
  "resource", "policy-exempted", "policy-violated", "copy-moved", "source", "cost", "class-added", "copy-gained", "policy-resolved",
];

function violationKey(v: Violation): string {
  return `${v.id}\u0000${v.subject}`;
}

function policyChanges(before: readonly Violation[], after: readonly Violation[]): { changes: Change[]; newlyViolated: Violation[]; resolved: Violation[]; newlyExempted: Violation[] } {
  const a = new Map(before.map((v) => [violationKey(v), v]));
  const b = new Map(after.map((v) => [violationKey(v), v]));
  const newlyViolated: Violation[] = [];
  const resolved: Violation[] = [];
  const newlyExempted: Violation[] = [];
  const changes: Change[] = [];
  for (const [k, v] of b) {
    const old = a.get(k);
    if (v.exemptReason) {
      if (!old || !old.exemptReason) {
        newlyExempted.push(v);
        changes.push({ kind: "policy-exempted", direction: "weaker", subject: v.subject, message: `${v.id} ${v.policy} newly exempted: ${v.message} (reason given: ${v.exemptReason})` });
      }
      continue;
    }
    if (!old || old.exemptReason) {
      newlyViolated.push(v);
      changes.push({
        kind: "policy-violated",
        direction: "weaker",
        subject: v.subject,
        message: `${v.id} ${v.policy} newly violated (${v.enforcement}${v.enforcement === "mandatory" ? ", the plan exits 2" : ""}): ${v.message}`,
        ...(v.enforcement === "mandatory" ? { blocking: true } : {}),
      });
    }
  }
  for (const [k, v] of a) {
    if (b.has(k) || v.exemptReason) continue;
    resolved.push(v);
    changes.push({ kind: "policy-resolved", direction: "stronger", subject: v.subject, message: `${v.id} ${v.policy} resolved (${v.enforcement}): was "${v.message}"` });
  }
  return { changes, newlyViolated, resolved, newlyExempted };
}

const resourceKey = (r: Pick<PlanResource, "type" | "name">) => `${r.type}::${r.name}`;
const isKept = (r: PlanResource) => r.protect || r.retainOnDelete;

/** Data-bearing resources (or any protected one) dropped or left unprotected: deletion can take data with it. */
function resourceChanges(before: readonly PlanResource[], after: readonly PlanResource[]): Change[] {
  const b = new Map(after.map((r) => [resourceKey(r), r]));
  const a = new Map(before.map((r) => [resourceKey(r), r]));
  const out: Change[] = [];
  for (const [k, r] of a) {
    const now = b.get(k);
    const bearing = DATA_BEARING.has(r.type);
    if (!now) {
      if (bearing || isKept(r)) {
        out.push({
          kind: "resource",
          direction: "weaker",
          subject: k,
          message: `${r.name} is no longer declared${isKept(r) ? " (it was protected: pulumi up refuses to delete it, or abandons it if retainOnDelete)" : ": pulumi up deletes it"}`,
        });
      }
      continue;
    }
    if (isKept(r) && !isKept(now)) {
      out.push({ kind: "resource", direction: "weaker", subject: k, message: `${r.name} is no longer protected from deletion (protect and retainOnDelete off)` });
    } else if (!isKept(r) && isKept(now) && bearing) {
      out.push({ kind: "resource", direction: "stronger", subject: k, message: `${r.name} is now protected from deletion` });
    }
    if (r.inputs["destroyDataOnDelete"] !== true && now.inputs["destroyDataOnDelete"] === true) {
      out.push({ kind: "resource", direction: "weaker", subject: k, message: `${r.name} now deletes its backup data when the resource is deleted (destroyDataOnDelete)` });
    }
  }
  return out;
}

/** The off-site tier's declared monthly cost, when the stack has one. */
export function monthlyCostOf(doc: PlanDocument): { monthly: number; currency: string } | undefined {
  const monthly = doc.cost?.declared.monthly;
  // The cost model prices in USD (components/offsite/prices.ts).
  return typeof monthly === "number" && Number.isFinite(monthly) ? { monthly, currency: "USD" } : undefined;
}

/** Changes of a tier's promise itself (same name, other RPO/RTO), for tiers a class uses. */
function objectiveChanges(options: DiffOptions, tiersInUse: Set<string>): Change[] {
  const out: Change[] = [];
  const before = options.objectives?.before ?? [];
  const after = options.objectives?.after ?? [];
  for (const b of after) {
    const a = before.find((o) => o.tier === b.tier);
    if (!a || !tiersInUse.has(b.tier)) continue;
    const parts: string[] = [];
    if (a.rpoMinutes !== b.rpoMinutes) parts.push(`RPO target ${a.rpo} → ${b.rpo}`);
    if (a.rtoMinutes !== b.rtoMinutes) parts.push(`RTO target ${a.rto} → ${b.rto}`);
    if (!parts.length) continue;
    out.push({ kind: "objective", direction: judgeObjectives(a, b), subject: `tier ${b.tier}`, message: `tier ${b.tier}: ${parts.join(", ")}`, before: `${a.rpo}/${a.rto}`, after: `${b.rpo}/${b.rto}` });
  }
  return out;
}

function byName(classes: readonly DataClass[]): Map<string, DataClass> {
  const map = new Map<string, DataClass>();
  for (const c of classes) map.set(c.name, c);
  return map;
}

export function diffProtection(before: PlanDocument, after: PlanDocument, options: DiffOptions = {}): ProtectionDiff {
  const a = byName(before.copies);
  const b = byName(after.copies);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const classes: ClassDiff[] = [];
  for (const name of names) {
    const x = a.get(name);
    const y = b.get(name);
    const factsBefore = x ? factsOf(x, options.objectives?.before) : undefined;
    const factsAfter = y ? factsOf(y, options.objectives?.after) : undefined;
    const facts = { ...(factsBefore ? { before: factsBefore } : {}), ...(factsAfter ? { after: factsAfter } : {}) };
    if (x && !y) {
      const backups = x.copies.filter((c) => !c.original).length;
      classes.push({
        name,
        status: "removed",
        ...facts,
        changes: [{ kind: "class-removed", direction: "weaker", subject: name, message: `no longer backed up: its job is gone, so its ${backups} backup cop${backups === 1 ? "y gets" : "ies get"} no new restore points (${x.copies.map((c) => c.location).join(" → ")})` }],
      });
    } else if (!x && y) {
      classes.push({ name, status: "added", ...facts, changes: [{ kind: "class-added", direction: "stronger", subject: name, message: `newly backed up: ${y.copies.map((c) => c.location).join(" → ")}` }] });
    } else if (x && y) {
      const changes = classChanges(x, y, options, { before, after });
      classes.push({ name, status: changes.length ? "changed" : "unchanged", ...facts, changes });
    }
  }
  // A requirement that stops applying because the class left its tier is not an improvement.
  const downgraded = new Map(classes.flatMap((c) => c.changes.filter((x) => x.kind === "tier" && x.direction === "weaker").map((x) => [x.subject, x] as const)));
  const tiersInUse = new Set([...before.copies, ...after.copies].map((c) => c.tier).filter((t): t is string => t !== undefined));
  const policies = policyChanges(before.violations, after.violations);
  for (const change of policies.changes) {
    const tier = change.kind === "policy-resolved" ? downgraded.get(change.subject) : undefined;
    if (!tier) continue;
    change.direction = "neutral";
    change.message = change.message.replace(" resolved (", ` no longer applies after ${tier.message.split(" (")[0]} (`);
  }
  const other: Change[] = [...objectiveChanges(options, tiersInUse), ...policies.changes, ...resourceChanges(before.resources, after.resources)];
  const costBefore = monthlyCostOf(before);
  const costAfter = monthlyCostOf(after);
  let cost: ProtectionDiff["cost"];
  if (costBefore || costAfter) {
    cost = { ...(costBefore ? { before: costBefore.monthly } : {}), ...(costAfter ? { after: costAfter.monthly } : {}), currency: costAfter?.currency ?? costBefore?.currency ?? "USD" };
    if (costBefore?.monthly !== costAfter?.monthly) {
      const money = (n: number | undefined) => (n === undefined ? "none" : `${n.toFixed(2)} ${cost?.currency}`);
      const delta = (costAfter?.monthly ?? 0) - (costBefore?.monthly ?? 0);
      other.push({ kind: "cost", direction: "neutral", subject: "cost", message: `monthly cost ${money(costBefore?.monthly)} → ${money(costAfter?.monthly)} (${delta >= 0 ? "+" : ""}${delta.toFixed(2)})`, before: money(costBefore?.monthly), after: money(costAfter?.monthly) });
    }
  }
  const changes = [...classes.flatMap((c) => c.changes), ...other];
  // What can block or lose data comes first; within a kind, the class order above.
  const weakenings = changes.filter((c) => c.direction === "weaker").map((c, i) => ({ c, i }));
  weakenings.sort((x, y) => (x.c.blocking ? 0 : 1) - (y.c.blocking ? 0 : 1) || WEAKENING_ORDER.indexOf(x.c.kind) - WEAKENING_ORDER.indexOf(y.c.kind) || x.i - y.i);
  return {
    before: { stack: before.stack, stackFile: before.stackFile },
    after: { stack: after.stack, stackFile: after.stackFile },
    classes,
    other,
    changes,
    weakenings: weakenings.map((w) => w.c),
    strengthenings: changes.filter((c) => c.direction === "stronger"),
    policies: { newlyViolated: policies.newlyViolated, resolved: policies.resolved, newlyExempted: policies.newlyExempted },
    ...(cost ? { cost } : {}),
  };
}

/** A document with nothing in it: the base of a stack that did not exist before the change. */
export function emptyDocument(stack: string, stackFile: string): PlanDocument {
  return { stack, stackFile, resources: [], schedules: [], retention: [], outputs: {}, notes: [], flows: [], keys: [], copies: [], violations: [] };
}
