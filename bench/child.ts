/**
 * One bench measurement in its own process (the mock runtime is a per-process singleton):
 *   library  <services> <nodes> <typesFile>  the real program, then model, policies and rendering
 *   baseline <typesFile>                     the same custom resources registered with the bare SDK
 * Prints one JSON line.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { buildDocument } from "../plan/document";
import { recordProgram } from "../plan/record";
import { renderText } from "../plan/render/text";
import { parseStrategy } from "../config/validate";
import { withPlaceholderSecrets } from "../plan/placeholders";
import { asPulumiConfig, syntheticConfig } from "./generate";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

function rssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function library(services: number, nodes: number, typesFile: string) {
  const raw = syntheticConfig({ services, nodes });
  const parsed = parseStrategy(raw);
  if (!parsed.ok) throw new Error(`synthetic config is invalid: ${parsed.problems[0]?.path}: ${parsed.problems[0]?.message}`);
  const { config, secretKeys } = withPlaceholderSecrets(parsed.strategy, asPulumiConfig(raw), []);
  // Module loading is a fixed start-up cost, measured apart so the ratio compares registration.
  const tImport = performance.now();
  await import("../stacks/program");
  const importMs = Math.round(performance.now() - tImport);
  const t0 = performance.now();
  const recording = await recordProgram({ project: "homelab-backup", stack: "bench", config, secretKeys }, async () => (await import("../stacks/program")).runProgram);
  const t1 = performance.now();
  const doc = buildDocument({ stack: "bench", stackFile: "synthetic", resources: recording.resources, outputs: recording.outputs, notes: [] });
  const text = renderText(doc);
  const t2 = performance.now();
  const custom: Registered[] = recording.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
  writeFileSync(typesFile, JSON.stringify(custom));
  return {
    mode: "library",
    services,
    nodes,
    resources: recording.resources.length,
    customResources: custom.length,
    dataClasses: doc.copies.length,
    violations: doc.violations.length,
    textBytes: text.length,
    importMs,
    programMs: Math.round(t1 - t0),
    analysisMs: Math.round(t2 - t1),
    totalMs: Math.round(t2 - t0),
    maxRssMb: rssMb(),
  };
}

async function baseline(typesFile: string) {
  const custom = JSON.parse(readFileSync(typesFile, "utf8")) as Registered[];
  await pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => { throw new Error(`unmocked ${a.token}`); } },
    "homelab-backup",
    "bench",
    true,
  );
  // The same runtime settings as the plan's recorder (plan/record.ts): no stack traces captured.
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;
  const t0 = performance.now();
  class Bare extends pulumi.CustomResource {}
  const resources = custom.map((r) => new Bare(r.type, r.name, r.inputs));
  await Promise.all(resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const t1 = performance.now();
  return { mode: "baseline", resources: custom.length, totalMs: Math.round(t1 - t0), maxRssMb: rssMb() };
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  const result = mode === "library" ? await library(Number(args[0]), Number(args[1]), args[2] as string) : await baseline(args[0] as string);
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

void main();
