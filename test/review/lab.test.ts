/**
 * The lab stack's runbook and diagram: one PVE node, tag-selected guests, MinIO as the off-site
 * target. Planned once in this process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { plan } from "../../plan/cli";
import type { TierObjective } from "../../plan/diff";
import type { PlanDocument } from "../../plan/document";
import { renderMarkdown } from "../../plan/render/markdown";
import { renderMermaid } from "../../plan/render/mermaid";
import { renderRunbook } from "../../plan/runbook";
import { mermaidParser, objectivesFor, ROOT } from "./helpers";
import { runbookContract } from "./runbook-checks";

const LAB = join(ROOT, "Pulumi.lab.yaml");
let doc: PlanDocument;
let objectives: TierObjective[];
let text = "";

before(async () => {
  doc = (await plan({ stackFile: LAB, format: "json" })).document;
  objectives = objectivesFor(LAB);
  text = renderRunbook(doc, { objectives });
}, { timeout: 120_000 });

describe("the lab runbook", () => {
  runbookContract(() => ({ doc, objectives, text }));

  test("tag-selected guests are found by the backups' notes, not by VM ids the plan cannot know", () => {
    const tagged = doc.copies.find((c) => c.kind === "service" && !c.copies.some((x) => /^PVE VMs /.test(x.location)));
    assert.ok(tagged, "the lab has a tag-selected service");
    assert.match(text, new RegExp(`contains\\("service ${tagged.name}"\\)`));
  });

  test("an S3-compatible off-site target is reached through its endpoint", () => {
    const credential = doc.resources.find((r) => r.type === "pulumi-nodejs:dynamic/truenas:CloudSyncCredential");
    const endpoint = credential?.inputs["endpoint"];
    assert.ok(typeof endpoint === "string" && endpoint.startsWith("https://"));
    assert.match(text, new RegExp(`rclone config create offsite s3 provider Other endpoint ${endpoint.replace(/[.]/g, "\\.")} `));
  });
});

describe("the lab diagram", () => {
  test("is in the plan's Markdown and parses", async () => {
    const mermaid = await mermaidParser();
    assert.ok(renderMarkdown(doc).includes("```mermaid\n" + renderMermaid(doc)));
    await mermaid.parse(renderMermaid(doc));
  });
});
