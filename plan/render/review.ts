/**
 * The review of a change: what it does to protection, weakenings first, as a reviewer decides
 * them. Text for a terminal, Markdown for the PR comment; both say the same things.
 */
import { formatDuration } from "../../config/duration";
import { blocking } from "../../policies/run";
import type { Change, ClassDiff, ProtectionDiff, ProtectionFacts } from "../diff";
import { markdownTable, textTable } from "./table";

/** Where the "before" side came from, for the header. */
export interface AgainstInfo {
  /** What the user passed: a git ref or a stack file path. */
  label: string;
  kind: "git" | "file";
  /** The stack file that was planned as "before" (`<ref>:<path>` for git). */
  source: string;
  /** The base did not have this stack file: everything is compared with nothing. */
  missing?: boolean;
}

export interface ReviewContext {
  against: AgainstInfo;
  /** Mandatory violations of the "after" plan: they decide the exit code, so the header says so. */
  afterBlocking: number;
}

function facts(f: ProtectionFacts | undefined): { tier: string; n: string; rpo: string; rto: string; from: string } {
  if (!f) return { tier: "—", n: "—", rpo: "—", rto: "—", from: "—" };
  return {
    tier: f.tier ?? "?",
    n: `${f.copies}/${f.media}/${f.offsite}`,
    rpo: f.rpoMinutes !== undefined ? formatDuration(f.rpoMinutes) : "?",
    rto: f.rtoTarget ?? "?",
    from: f.restoreFrom ?? "nothing",
  };
}

const arrow = (a: string, b: string) => (a === b ? b : `${a} → ${b}`);

function verdict(c: ClassDiff): string {
  if (c.status === "unchanged") return "unchanged";
  const weaker = c.changes.some((x) => x.direction === "weaker");
  const stronger = c.changes.some((x) => x.direction === "stronger");
  const word = c.status === "added" ? "added" : c.status === "removed" ? "removed" : "changed";
  return weaker && stronger ? `${word}: weaker and stronger` : weaker ? `${word}: WEAKER` : stronger ? `${word}: stronger` : word;
}

function classRows(diff: ProtectionDiff): string[][] {
  return diff.classes
    .filter((c) => c.status !== "unchanged")
    .map((c) => {
      const a = facts(c.before);
      const b = facts(c.after);
      const pick = (k: keyof typeof a) => (c.before && c.after ? arrow(a[k], b[k]) : c.after ? b[k] : a[k]);
      return [c.name, pick("tier"), pick("n"), pick("rpo"), pick("rto"), pick("from"), verdict(c)];
    });
}

const CLASS_HEADERS = ["Data class", "Tier", "Copies/media/off-site", "RPO (worst case)", "RTO target", "Restore starts from", "Verdict"];

function sourceLine(ctx: ReviewContext): string {
  const a = ctx.against;
  if (a.missing) return `The stack file does not exist at ${a.label}: every data class below is new.`;
  return a.kind === "git"
    ? `Both versions are planned by this checkout's code; only the stack file differs (${a.source} → the working tree). A code change that alters what a stack declares shows up as protection changes; one that changes how the plan is computed does not.`
    : `Both stack files are planned by this checkout's code (${a.source} → the working tree).`;
}

function unchangedLine(diff: ProtectionDiff): string | undefined {
  const same = diff.classes.filter((c) => c.status === "unchanged").map((c) => c.name);
  return same.length ? `${same.length} data class${same.length === 1 ? "" : "es"} unchanged: ${same.join(", ")}.` : undefined;
}

/** Markdown inline text: HTML-looking text escaped outside code spans, so a message renders as written. */
function md(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\*/g, "\\*").replace(/_/g, "\\_")))
    .join("");
}

const plain = (text: string) => text.replace(/`/g, "");

function mdItem(c: Change, checkbox: boolean): string {
  return `- ${checkbox ? "[ ] " : ""}**${md(c.subject)}** · ${md(c.message)}${c.blocking ? " **(blocks: exit 2)**" : ""}`;
}

export function renderReviewMarkdown(diff: ProtectionDiff, ctx: ReviewContext): string {
  const out: string[] = [];
  out.push(`## Backup review: \`${diff.after.stack}\` against \`${ctx.against.label}\``);
  out.push("");
  out.push(sourceLine(ctx));
  out.push("");
  const weak = diff.weakenings;
  if (weak.length) {
    out.push(`### ⚠️ Reviewer must decide: ${weak.length} weakening${weak.length === 1 ? "" : "s"}`);
    out.push("");
    for (const c of weak) out.push(mdItem(c, true));
    out.push("");
    out.push("Approving accepts each of these. Tick the ones that are intended and say why in the PR; restore the protection for the others.");
  } else {
    out.push("### ✅ Nothing for the reviewer to decide");
    out.push("");
    out.push("No copy, retention, schedule, restore path, protection flag or policy result got weaker.");
  }
  if (ctx.afterBlocking) {
    out.push("");
    out.push(`**This change leaves ${ctx.afterBlocking} mandatory policy violation${ctx.afterBlocking === 1 ? "" : "s"}: the plan exits 2.**`);
  }
  out.push("");
  out.push("### Protection by data class");
  out.push("");
  const rows = classRows(diff);
  out.push(rows.length ? markdownTable(CLASS_HEADERS, rows) : "_No data class changed._");
  const same = unchangedLine(diff);
  if (same) {
    out.push("");
    out.push(same);
  }
  if (diff.strengthenings.length) {
    out.push("");
    out.push(`### Strengthened (${diff.strengthenings.length})`);
    out.push("");
    for (const c of diff.strengthenings) out.push(mdItem(c, false));
  }
  const neutral = diff.changes.filter((c) => c.direction === "neutral");
  if (neutral.length) {
    out.push("");
    out.push(`### Also changed (${neutral.length})`);
    out.push("");
    for (const c of neutral) out.push(mdItem(c, false));
  }
  out.push("");
  out.push("### Policies");
  out.push("");
  out.push(policyLine(diff));
  if (diff.cost) {
    out.push("");
    out.push("### Cost");
    out.push("");
    out.push(costLine(diff));
  }
  return out.join("\n") + "\n";
}

function policyLine(diff: ProtectionDiff): string {
  const p = diff.policies;
  const mandatory = blocking(p.newlyViolated).length;
  return `${p.newlyViolated.length} newly violated (${mandatory} mandatory), ${p.resolved.length} resolved, ${p.newlyExempted.length} newly exempted.`;
}

function costLine(diff: ProtectionDiff): string {
  const c = diff.cost;
  if (!c) return "";
  const money = (n: number | undefined) => (n === undefined ? "none" : `${n.toFixed(2)} ${c.currency}`);
  return c.before === c.after ? `Monthly: ${money(c.after)}, unchanged.` : `Monthly: ${money(c.before)} → ${money(c.after)}.`;
}

export function renderReviewText(diff: ProtectionDiff, ctx: ReviewContext): string {
  const out: string[] = [];
  out.push(`BACKUP REVIEW · stack ${diff.after.stack} against ${ctx.against.label}`);
  out.push(sourceLine(ctx));
  out.push("");
  const weak = diff.weakenings;
  if (weak.length) {
    out.push(`!! REVIEWER MUST DECIDE: ${weak.length} WEAKENING${weak.length === 1 ? "" : "S"}`);
    for (const c of weak) out.push(`!! ${c.subject}: ${plain(c.message)}${c.blocking ? " (blocks: exit 2)" : ""}`);
  } else {
    out.push("NOTHING WEAKENED: no copy, retention, schedule, restore path, protection flag or policy result got weaker.");
  }
  if (ctx.afterBlocking) out.push(`!! this change leaves ${ctx.afterBlocking} mandatory policy violation(s): the plan exits 2`);
  out.push("");
  out.push("PROTECTION BY DATA CLASS");
  const rows = classRows(diff);
  out.push(rows.length ? textTable(CLASS_HEADERS.map((h) => h.toUpperCase()), rows) : "(no data class changed)");
  const same = unchangedLine(diff);
  if (same) out.push(same);
  if (diff.strengthenings.length) {
    out.push("");
    out.push("STRENGTHENED");
    for (const c of diff.strengthenings) out.push(`+ ${c.subject}: ${plain(c.message)}`);
  }
  const neutral = diff.changes.filter((c) => c.direction === "neutral");
  if (neutral.length) {
    out.push("");
    out.push("ALSO CHANGED");
    for (const c of neutral) out.push(`~ ${c.subject}: ${plain(c.message)}`);
  }
  out.push("");
  out.push(`POLICIES: ${policyLine(diff)}`);
  if (diff.cost) out.push(`COST: ${costLine(diff)}`);
  return out.join("\n") + "\n";
}
