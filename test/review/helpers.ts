/**
 * Shared by the review tests: fixtures as one-change patches of the live Pulumi.homelab.yaml (so
 * they follow the stack as it grows instead of going stale), plans in child processes (the mock
 * runtime allows one program per process), documents rebuilt after resource surgery, and the
 * real Mermaid parser.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { objectivesOf, planInChild } from "../../plan/against";
import { validateStackFile } from "../../plan/cli";
import type { TierObjective } from "../../plan/diff";
import { buildDocument, type PlanDocument, type PlanResource } from "../../plan/document";
import type { RecordedResource } from "../../plan/record";
import { readStackFile } from "../../plan/stack-file";

export const ROOT = join(__dirname, "..", "..");
export const FIXTURES = join(__dirname, "fixtures");

type Segment = string | { name: string };

interface Fixture {
  change: string;
  set: { path: Segment[]; value: unknown }[];
}

/** Applies a fixture to the homelab stack file; returns the path of `Pulumi.homelab.yaml` in a temp dir. */
export function materialize(name: string, base = join(ROOT, "Pulumi.homelab.yaml")): string {
  const fixture = parse(readFileSync(join(FIXTURES, `${name}.yaml`), "utf8")) as Fixture;
  const doc = parse(readFileSync(base, "utf8")) as { config: Record<string, unknown> };
  for (const { path, value } of fixture.set) {
    let node: unknown = doc.config;
    path.forEach((segment, i) => {
      const last = i === path.length - 1;
      let key: string | number;
      if (typeof segment === "string") key = segment;
      else {
        if (!Array.isArray(node)) throw new Error(`${name}: ${JSON.stringify(segment)} selects from a non-list`);
        key = (node as { name?: string }[]).findIndex((x) => x?.name === segment.name);
        if (key < 0) throw new Error(`${name}: no entry named ${segment.name} in Pulumi.homelab.yaml`);
      }
      const container = node as Record<string | number, unknown>;
      if (last) container[key] = value;
      else {
        if (container[key] === undefined) throw new Error(`${name}: ${String(key)} is not in Pulumi.homelab.yaml`);
        node = container[key];
      }
    });
  }
  const dir = mkdtempSync(join(tmpdir(), `review-${name}-`));
  const path = join(dir, "Pulumi.homelab.yaml");
  writeFileSync(path, stringify(doc));
  return path;
}

export function objectivesFor(stackFile: string): TierObjective[] {
  return objectivesOf(validateStackFile(readStackFile(stackFile)));
}

export function planChild(stackFile: string): Promise<PlanDocument> {
  return planInChild(stackFile).done;
}

/** The plan's resources back in the recorder's shape, so a test can add or drop some and rebuild. */
export function toRecorded(doc: PlanDocument): RecordedResource[] {
  const urnOf = new Map(doc.resources.map((r) => [`${r.type}::${r.name}`, r.urn]));
  return doc.resources.map((r: PlanResource) => {
    const parent = r.parent ? urnOf.get(r.parent) : undefined;
    return {
      urn: r.urn,
      type: r.type,
      name: r.name,
      ...(parent ? { parent } : {}),
      custom: !r.type.startsWith("homelab:"),
      inputs: r.inputs,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      deleteBeforeReplace: false,
      additionalSecretOutputs: [],
      dependencies: [],
      secretInputs: Object.entries(r.inputs).filter(([, v]) => v === "[secret]").map(([k]) => k),
    };
  });
}

/** A new document from the same resources after `edit`: the protection model and policies re-run on them. */
export function rebuild(doc: PlanDocument, edit: (resources: RecordedResource[]) => RecordedResource[]): PlanDocument {
  return buildDocument({ stack: doc.stack, stackFile: doc.stackFile, resources: edit(toRecorded(doc)), outputs: {}, notes: [] });
}

type MermaidApi = { parse(text: string): Promise<unknown> };
let mermaid: Promise<MermaidApi> | undefined;

/**
 * The real Mermaid parser, headless. Mermaid sanitizes labels with DOMPurify, which needs a DOM;
 * parsing does not, so the sanitizer is replaced by the identity before Mermaid loads. If Mermaid
 * ever imports another DOMPurify instance, a valid diagram fails to parse and the test says so.
 */
export function mermaidParser(): Promise<MermaidApi> {
  mermaid ??= (async () => {
    const purify = (await import("dompurify")).default as unknown as Record<string, unknown>;
    purify["sanitize"] = (text: unknown) => String(text);
    purify["addHook"] = () => undefined;
    purify["removeHook"] = () => undefined;
    purify["removeHooks"] = () => undefined;
    return (await import("mermaid")).default as unknown as MermaidApi;
  })();
  return mermaid;
}

// ---------------------------------------------------------------------------------------------
// Runbook checks shared by both stacks

export interface RunbookFacts {
  storages: { id: string; datastore: string; namespace?: string; server: string; username?: string }[];
  datastores: { name: string; path: string }[];
  replicaTargets: string[];
  buckets: string[];
}

/** What the resources declare, read straight from the plan's resources (not through runbook.ts). */
export function declared(doc: PlanDocument): RunbookFacts {
  const s = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    storages: doc.resources
      .filter((r) => r.type === "proxmoxve:storage/pbs:Pbs")
      .map((r) => ({
        id: s(r.inputs["resourceId"]) as string,
        datastore: s(r.inputs["datastore"]) as string,
        ...(s(r.inputs["namespace"]) ? { namespace: s(r.inputs["namespace"]) as string } : {}),
        server: s(r.inputs["server"]) as string,
        ...(s(r.inputs["username"]) ? { username: s(r.inputs["username"]) as string } : {}),
      })),
    datastores: doc.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/pbs:Datastore").map((r) => ({ name: s(r.inputs["name"]) as string, path: s(r.inputs["path"]) as string })),
    replicaTargets: doc.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/truenas:ReplicationTask").map((r) => s(r.inputs["targetDataset"]) as string),
    buckets: doc.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => s(r.inputs["bucket"]) ?? r.name),
  };
}

/** Every match of `re` (global) in `text`, first group. */
export function all(text: string, re: RegExp): string[] {
  return [...text.matchAll(re)].map((m) => m[1] as string);
}

/** The text between a heading and the next heading of the same or a higher level (fenced code is not a heading). */
export function section(text: string, heading: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${JSON.stringify(heading)}`);
  const level = (/^#+/.exec(heading)?.[0] as string).length;
  let fenced = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("```")) fenced = !fenced;
    const m = /^(#+) /.exec(line);
    if (!fenced && m && (m[1] as string).length <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start + 1, end).join("\n");
}
