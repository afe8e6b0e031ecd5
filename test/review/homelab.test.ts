/**
 * The review of a change on the homelab stack: each fixture (one change to Pulumi.homelab.yaml)
 * against the stack as it is, in both directions; the data-flow diagram through the real Mermaid
 * parser; the homelab runbook. The homelab plans once in this process, the four fixtures in child
 * processes started first so they run while it plans.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { documentFromJson } from "../../plan/against";
import { plan, renderPlan } from "../../plan/cli";
import { diffProtection, type ProtectionDiff, type TierObjective } from "../../plan/diff";
import type { PlanDocument } from "../../plan/document";
import { renderJson } from "../../plan/render/json";
import { renderMarkdown } from "../../plan/render/markdown";
import { escapeLabel, flowGraph, renderMermaid, COLLAPSE_ABOVE } from "../../plan/render/mermaid";
import { renderReviewMarkdown, renderReviewText, type ReviewContext } from "../../plan/render/review";
import { renderRunbook } from "../../plan/runbook";
import { blocking } from "../../policies/run";
import { materialize, mermaidParser, objectivesFor, planChild, rebuild, ROOT, section } from "./helpers";
import { runbookContract } from "./runbook-checks";

const FIXTURES = ["shorter-retention", "less-frequent-schedule", "onsite-only-tier", "policy-violated"] as const;
type Fixture = (typeof FIXTURES)[number];

const HOMELAB = join(ROOT, "Pulumi.homelab.yaml");
let base: PlanDocument;
let baseObjectives: TierObjective[];
const after = new Map<Fixture, { doc: PlanDocument; objectives: TierObjective[] }>();

before(async () => {
  const paths = FIXTURES.map((name) => materialize(name));
  const children = paths.map((p) => planChild(p));
  base = (await plan({ stackFile: HOMELAB, format: "json" })).document;
  baseObjectives = objectivesFor(HOMELAB);
  const docs = await Promise.all(children);
  FIXTURES.forEach((name, i) => after.set(name, { doc: docs[i] as PlanDocument, objectives: objectivesFor(paths[i] as string) }));
}, { timeout: 180_000 });

function forward(name: Fixture, withObjectives = true): ProtectionDiff {
  const f = after.get(name);
  assert.ok(f);
  return diffProtection(base, f.doc, withObjectives ? { objectives: { before: baseObjectives, after: f.objectives } } : {});
}

function backward(name: Fixture): ProtectionDiff {
  const f = after.get(name);
  assert.ok(f);
  return diffProtection(f.doc, base, { objectives: { before: f.objectives, after: baseObjectives } });
}

const classOf = (doc: PlanDocument, name: string) => {
  const c = doc.copies.find((x) => x.name === name);
  assert.ok(c, `no data class ${name}`);
  return c;
};

describe("diffProtection: nothing changed", () => {
  test("a plan against itself, its JSON round trip, or itself in another registration order has no change", () => {
    assert.deepEqual(diffProtection(base, base).changes, []);
    const roundTrip = documentFromJson(JSON.parse(renderJson(base)));
    assert.deepEqual(diffProtection(base, roundTrip).changes, []);
    const shuffled = { ...base, resources: [...base.resources].reverse(), copies: [...base.copies].reverse(), violations: [...base.violations].reverse() };
    assert.deepEqual(diffProtection(base, shuffled).changes, []);
    assert.ok(diffProtection(base, base).classes.every((c) => c.status === "unchanged"));
  });
});

describe("diffProtection: shorter retention", () => {
  test("flags every class that shares the shortened prune job, and only retention", () => {
    const d = forward("shorter-retention");
    const onCritical = base.copies.filter((c) => c.copies.some((x) => x.kind === "pbs-datastore" && x.location === "PBS critical")).map((c) => c.name).sort();
    assert.ok(onCritical.includes("file-server"));
    assert.deepEqual([...new Set(d.weakenings.map((w) => w.subject))].sort(), onCritical);
    assert.ok(d.weakenings.every((w) => w.kind === "retention"), JSON.stringify(d.weakenings.map((w) => w.kind)));
    const fs = d.weakenings.find((w) => w.subject === "file-server");
    assert.match(fs?.message ?? "", /PBS critical keeps daily 30 → 14/);
    assert.equal(d.strengthenings.length, 0);
  });
  test("the other way round it is a lengthening, nothing weaker", () => {
    const d = backward("shorter-retention");
    assert.equal(d.weakenings.length, 0);
    assert.ok(d.strengthenings.length > 0 && d.strengthenings.every((s) => s.kind === "retention"));
    assert.match(d.strengthenings.find((s) => s.subject === "file-server")?.message ?? "", /retention lengthened: PBS critical keeps daily 14 → 30/);
  });
});

describe("diffProtection: less frequent schedule", () => {
  test("one weakening: the job's schedule, with its RPO before and after", () => {
    const d = forward("less-frequent-schedule");
    assert.equal(d.weakenings.length, 1, JSON.stringify(d.weakenings));
    const [w] = d.weakenings;
    assert.equal(w?.kind, "schedule");
    assert.equal(w?.subject, "development-vms");
    assert.equal(w?.before, "Sun *-*-* 03:00");
    assert.equal(w?.after, "Sun *-*-01..07,15..21 03:00");
    assert.match(w?.message ?? "", /RPO\) 1w → 3w/);
    const cls = d.classes.find((c) => c.name === "development-vms");
    assert.equal(cls?.before?.rpoMinutes, 7 * 1440);
    assert.equal(cls?.after?.rpoMinutes, 21 * 1440);
  });
  test("the other way round: more frequent, nothing weaker", () => {
    const d = backward("less-frequent-schedule");
    assert.equal(d.weakenings.length, 0);
    assert.deepEqual(d.strengthenings.map((s) => [s.kind, s.subject]), [["schedule", "development-vms"]]);
  });
});

describe("diffProtection: a service moved to an on-site-only tier", () => {
  test("loses its off-site copy, its tier's targets and its hourly schedule", () => {
    const offsite = classOf(base, "docker-volumes").copies.filter((c) => c.site === "offsite").map((c) => c.location);
    assert.ok(offsite.length > 0, "the homelab sends docker-volumes off-site");
    const d = forward("onsite-only-tier");
    const mine = d.weakenings.filter((w) => w.subject === "docker-volumes");
    assert.deepEqual(mine.filter((w) => w.kind === "copy-lost").map((w) => w.before).sort(), [...offsite].sort());
    // One finding per lost bucket copy (critical, monthly, yearly), each with the whole count.
    assert.equal(mine.filter((w) => w.kind === "copy-lost").length, offsite.length);
    assert.match(mine.find((w) => w.kind === "copy-lost")?.message ?? "", new RegExp(`${offsite.length} off-site → .*0 off-site`));
    const critical = baseObjectives.find((o) => o.tier === "critical");
    const important = baseObjectives.find((o) => o.tier === "important");
    assert.ok(critical && important);
    assert.equal(mine.find((w) => w.kind === "tier")?.message, `tier critical → important (RPO target ${critical.rpo} → ${important.rpo}, RTO target ${critical.rto} → ${important.rto})`);
    assert.ok(mine.some((w) => w.kind === "schedule" && /RPO\) 1h → 1d/.test(w.message)));
    assert.equal(d.classes.find((c) => c.name === "docker-volumes")?.after?.offsite, 0);
    // Loss comes before judgement calls in the list the reviewer reads.
    assert.equal(d.weakenings[0]?.kind, "copy-lost");
  });
  test("without the tiers' targets the tier change is reported, not judged", () => {
    const d = forward("onsite-only-tier", false);
    const tier = d.changes.find((c) => c.kind === "tier" && c.subject === "docker-volumes");
    assert.equal(tier?.direction, "neutral");
  });
  test("the other way round: the copy is gained; only the critical tier's advisory restore test is new", () => {
    const d = backward("onsite-only-tier");
    assert.ok(d.strengthenings.some((s) => s.kind === "copy-gained" && s.subject === "docker-volumes"));
    assert.ok(d.strengthenings.some((s) => s.kind === "tier" && s.subject === "docker-volumes"));
    assert.ok(d.weakenings.every((w) => w.kind === "policy-violated" && !w.blocking), JSON.stringify(d.weakenings));
  });
});

describe("diffProtection: a policy newly violated", () => {
  test("mandatory violations come first, marked blocking, with the copies that caused them", () => {
    const d = forward("policy-violated");
    const encrypted = d.policies.newlyViolated.filter((v) => v.id === "HB-ENCRYPTED");
    assert.ok(encrypted.length > 0);
    assert.ok(encrypted.every((v) => v.enforcement === "mandatory"));
    const blockingChanges = d.weakenings.filter((w) => w.blocking);
    assert.equal(blockingChanges.length, blocking(d.policies.newlyViolated).length);
    assert.ok(d.weakenings.slice(0, blockingChanges.length).every((w) => w.blocking), "blocking changes lead the list");
    assert.ok(d.weakenings.some((w) => w.kind === "copy-property" && /PBS critical is no longer encrypted/.test(w.message)));
    assert.ok(blocking(after.get("policy-violated")?.doc.violations ?? []).length > 0, "the new version exits 2");
  });
  test("the other way round the violations are resolved", () => {
    const d = backward("policy-violated");
    assert.equal(d.policies.newlyViolated.length, 0);
    assert.ok(d.policies.resolved.some((v) => v.id === "HB-ENCRYPTED"));
    assert.equal(d.weakenings.length, 0);
  });
});

describe("diffProtection: changes made on the resources", () => {
  test("a replication removed: copies lost, the protected task dropped, 3-2-1 newly violated", () => {
    const task = base.resources.find((r) => r.type === "pulumi-nodejs:dynamic/truenas:ReplicationTask" && JSON.stringify(r.inputs["sourceDatasets"]).includes("homelab"));
    assert.ok(task);
    const afterDoc = rebuild(base, (rs) => rs.filter((r) => r.name !== task.name));
    const baseline = rebuild(base, (rs) => rs);
    const d = diffProtection(baseline, afterDoc);
    const target = `TrueNAS ${String(task.inputs["targetDataset"])}`;
    const lost = d.weakenings.filter((w) => w.kind === "copy-lost");
    assert.ok(lost.length > 0 && lost.every((w) => w.before === target));
    assert.ok(d.weakenings.some((w) => w.kind === "resource" && w.subject.endsWith(`::${task.name}`)));
    assert.ok(d.policies.newlyViolated.some((v) => v.id === "HB-321"));
  });
  test("a storage removed: the restore path falls back to nothing", () => {
    const baseline = rebuild(base, (rs) => rs);
    const afterDoc = rebuild(base, (rs) => rs.filter((r) => !(r.type === "proxmoxve:storage/pbs:Pbs" && r.inputs["resourceId"] === "pbs-backup-homelab-important")));
    const d = diffProtection(baseline, afterDoc);
    const path = d.weakenings.find((w) => w.kind === "restore-path" && w.subject === "application-vms");
    assert.equal(path?.after, "none");
  });
  test("a datastore unprotected and a verify job dropped are weakenings; an exemption is one too", () => {
    const baseline = rebuild(base, (rs) => rs);
    const afterDoc = rebuild(base, (rs) =>
      rs.filter((r) => r.name !== "critical-verify").map((r) => (r.name === "critical-datastore" ? { ...r, protect: false, retainOnDelete: false } : r)),
    );
    const d = diffProtection(baseline, afterDoc);
    assert.ok(d.weakenings.some((w) => w.kind === "resource" && /critical-datastore is no longer protected/.test(w.message)));
    assert.ok(d.weakenings.some((w) => w.kind === "copy-property" && /PBS critical is no longer verified on a schedule/.test(w.message)));
    const advisory = base.violations.find((v) => v.enforcement === "advisory");
    assert.ok(advisory);
    const exempted = { ...base, violations: base.violations.map((v) => (v === advisory ? { ...v, exemptReason: "accepted for the review test" } : v)) };
    const e = diffProtection(base, exempted);
    assert.deepEqual(e.weakenings.map((w) => w.kind), ["policy-exempted"]);
  });
  test("a cost change is reported with both figures, neither weaker nor stronger", () => {
    assert.ok(base.cost, "the homelab declares an off-site tier with a cost");
    const dearer = { ...base, cost: { ...base.cost, declared: { ...base.cost.declared, monthly: base.cost.declared.monthly + 10 } } };
    const d = diffProtection(base, dearer);
    assert.equal(d.changes.length, 1);
    assert.equal(d.changes[0]?.direction, "neutral");
    assert.match(d.changes[0]?.message ?? "", new RegExp(`${base.cost.declared.monthly.toFixed(2)} USD → ${(base.cost.declared.monthly + 10).toFixed(2)} USD \\(\\+10\\.00\\)`));
  });
});

describe("the review", () => {
  const ctx = (doc: PlanDocument): ReviewContext => ({ against: { label: "origin/main", kind: "git", source: "origin/main:Pulumi.homelab.yaml" }, afterBlocking: blocking(doc.violations).length });

  test("markdown opens with one unticked box per weakening, before anything else", () => {
    const d = forward("onsite-only-tier");
    const md = renderReviewMarkdown(d, ctx(after.get("onsite-only-tier")?.doc as PlanDocument));
    const headings = md.split("\n").filter((l) => l.startsWith("### "));
    assert.equal(headings[0], `### ⚠️ Reviewer must decide: ${d.weakenings.length} weakenings`);
    const boxes = md.split("\n").filter((l) => l.startsWith("- [ ] "));
    assert.equal(boxes.length, d.weakenings.length);
    assert.ok(boxes.every((b, i) => b.startsWith(`- [ ] **${d.weakenings[i]?.subject.replace(/_/g, "\\_")}** · `)));
    assert.ok(md.indexOf("Reviewer must decide") < md.indexOf("### Protection by data class"));
    assert.match(md, /\| docker-volumes \| critical → important \| 6\/3\/3 → 3\/2\/0 \|/);
    assert.match(md, /^Both versions are planned by this checkout's code; only the stack file differs \(origin\/main:Pulumi\.homelab\.yaml/m);
  });

  test("a blocking violation is marked; no weakening says so plainly", () => {
    const v = renderReviewMarkdown(forward("policy-violated"), ctx(after.get("policy-violated")?.doc as PlanDocument));
    assert.match(v, /\*\*\(blocks: exit 2\)\*\*/);
    assert.match(v, /\*\*This change leaves \d+ mandatory policy violations?: the plan exits 2\.\*\*/);
    const same = renderReviewMarkdown(diffProtection(base, base), ctx(base));
    assert.match(same, /### ✅ Nothing for the reviewer to decide/);
    assert.ok(!same.includes("- [ ]"));
  });

  test("the plan command puts the review on top of the plan in every format", () => {
    const doc = after.get("less-frequent-schedule")?.doc as PlanDocument;
    const review = { diff: forward("less-frequent-schedule"), info: { label: "origin/main", kind: "git" as const, source: "origin/main:Pulumi.homelab.yaml" } };
    const md = renderPlan("markdown", doc, review);
    assert.match(md, /^## Backup review: `homelab` against `origin\/main`\n/);
    const planAt = md.indexOf("\n---\n\n## homelab-backup plan: `homelab`");
    assert.ok(planAt > md.indexOf("### ⚠️ Reviewer must decide: 1 weakening\n\n- [ ] **development-vms** · backups less frequent"));
    assert.equal(md.slice(planAt + "\n---\n\n".length), renderMarkdown(doc));
    assert.ok(md.indexOf("```mermaid") > planAt);
    const text = renderPlan("text", doc, review);
    assert.match(text, /^BACKUP REVIEW · stack homelab against origin\/main\n/);
    assert.ok(text.includes("\nhomelab-backup plan · stack homelab"));
    const json = JSON.parse(renderPlan("json", doc, review));
    assert.deepEqual(Object.keys(json).slice(0, -1), Object.keys(JSON.parse(renderPlan("json", doc))));
    assert.equal(Object.keys(json).at(-1), "diff");
    assert.deepEqual(json.diff.against, review.info);
    assert.equal(json.diff.weakenings.length, 1);
  });

  test("text says the same things, weakenings loudly", () => {
    const d = forward("shorter-retention");
    const text = renderReviewText(d, ctx(base));
    const loud = text.split("\n").filter((l) => l.startsWith("!! "));
    assert.equal(loud[0], `!! REVIEWER MUST DECIDE: ${d.weakenings.length} WEAKENINGS`);
    assert.equal(loud.length, d.weakenings.length + 1);
    assert.ok(!text.includes("`"), "no Markdown in the text review");
  });
});

describe("the data-flow diagram", () => {
  test("the plan's Markdown carries it, and the real Mermaid parser accepts it (and the fixtures')", async () => {
    const mermaid = await mermaidParser();
    const md = renderMarkdown(base);
    const block = /### Data flows\n\n```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1];
    assert.equal(`${block}\n`, renderMermaid(base));
    await mermaid.parse(block as string);
    for (const name of FIXTURES) await mermaid.parse(renderMermaid(after.get(name)?.doc as PlanDocument));
  });

  test("the parser is real: a broken diagram is refused", async () => {
    const mermaid = await mermaidParser();
    await assert.rejects(mermaid.parse('flowchart LR\n  a["x" --> b'));
    await assert.rejects(mermaid.parse(renderMermaid(base).replace("-->|", "-->|]")));
    // What escapeLabel prevents: a raw quote inside a label ends it early.
    await assert.rejects(mermaid.parse(renderMermaid(base).replace("<br/>keep ", '"keep ')));
  });

  test("every class flows source → each of its copies in order, labelled with when and how long", () => {
    const g = flowGraph(base);
    const idOf = (location: string) => g.nodes.find((n) => n.group !== "source" && n.lines[0] === location)?.id;
    for (const cls of base.copies) {
      const source = g.nodes.find((n) => n.group === "source" && n.lines[0] === cls.name);
      assert.ok(source, cls.name);
      let previous = source.id;
      for (const copy of cls.copies.filter((c) => !c.original)) {
        const id = idOf(copy.location);
        assert.ok(id, copy.location);
        const edge = g.edges.find((e) => e.from === previous && e.to === id);
        assert.ok(edge, `${cls.name}: no edge ${previous} → ${copy.location}`);
        assert.ok(edge.lines.some((l) => l.startsWith("keep ")), `${cls.name} → ${copy.location} says what is kept`);
        previous = id;
      }
      const first = g.edges.find((e) => e.from === source.id);
      assert.ok(first?.lines[0] && !first.lines[0].startsWith("keep "), `${cls.name}: the first edge says when`);
    }
    const offsite = g.nodes.filter((n) => n.group === "offsite");
    assert.ok(offsite.length > 0 && offsite.every((n) => n.classes.includes("offsite")));
  });

  test("hostile names stay labels, and a large stack collapses into groups that still parse", async () => {
    const mermaid = await mermaidParser();
    const hostile = structuredClone(base);
    const victim = hostile.copies[0];
    assert.ok(victim);
    victim.name = 'end"] --> x[<script>|#1;`';
    const first = victim.copies.find((c) => !c.original);
    if (first) first.location = "PBS a|b\"c<d>#e";
    await mermaid.parse(renderMermaid(hostile));
    assert.ok(renderMermaid(hostile).includes(escapeLabel(victim.name)));

    const big = structuredClone(base);
    const template = base.copies.find((c) => c.kind === "service");
    assert.ok(template);
    big.copies = Array.from({ length: COLLAPSE_ABOVE + 20 }, (_, i) => ({ ...structuredClone(template), name: `svc-${i}` }));
    const g = flowGraph(big);
    assert.equal(g.collapsed, true);
    assert.equal(g.nodes.filter((n) => n.group === "source").length, 1);
    assert.match(g.nodes.find((n) => n.group === "source")?.lines[0] ?? "", new RegExp(`^${COLLAPSE_ABOVE + 20} services · tier `));
    await mermaid.parse(renderMermaid(big));
  });
});

describe("the homelab runbook", () => {
  let text = "";
  before(() => {
    text = renderRunbook(base, { objectives: baseObjectives });
  });
  runbookContract(() => ({ doc: base, objectives: baseObjectives, text }));

  test("off-site and agents: which bucket and class, which borg repository and archives", () => {
    const bucket = base.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && base.copies.some((c) => c.copies.some((x) => x.location === `S3 ${String(r.inputs["bucket"])}`)));
    assert.ok(bucket, "an off-site bucket holds a copy");
    const tags = bucket.inputs["tags"] as Record<string, string>;
    assert.match(text, new RegExp(`# bucket ${String(bucket.inputs["bucket"])} \\(retention class ${tags["homelab-backup:retention-class"]}\\), storage class DEEP_ARCHIVE`));
    assert.match(text, /rclone backend restore offsite:/);
    for (const agent of base.resources.filter((r) => r.type === "homelab:agents:BorgmaticAgent")) {
      const deploy = base.resources.find((r) => r.name === `${agent.name}-deploy`);
      const repo = /repositories:\n\s+- (\S+)/.exec(String(deploy?.inputs["create"]))?.[1];
      assert.ok(repo);
      assert.match(text, new RegExp(`# on host ${agent.name} \\(follows service [\\w-]+\\): repository ${repo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, archives ${agent.name}-`));
    }
    assert.match(section(text, "### 4. Restore databases"), /homelab-backup-db01 restore --archive latest/);
  });
});

