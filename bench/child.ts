/**
 * One bench measurement in its own process (the mock runtime is a per-process singleton):
 *   library  <size|stackFile> <typesFile> [<warmTypesFile>]
 *                                            the real program (a synthetic <services>x<nodes>, or
 *                                            a stack file), then model, policies and rendering
 *   baseline <typesFile> bare                the same custom resources as plain `CustomResource`s
 *   baseline <typesFile> sdk                 the same custom resources through their SDK classes
 * Prints one JSON line.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { basename, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { buildDocument } from "../plan/document";
import { recordProgram } from "../plan/record";
import { renderText } from "../plan/render/text";
import { parseStrategy } from "../config/validate";
import { withPlaceholderSecrets } from "../plan/placeholders";
import { readStackFile } from "../plan/stack-file";
import { validateStackFile } from "../plan/failure";
import { asPulumiConfig, syntheticConfig } from "./generate";
import { sdkClassFor } from "./sdk-classes";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/**
 * With HOMELAB_BENCH_PROFILE=<dir>, a CPU profile of the timed window only (not module loading),
 * written as <dir>/<label>.cpuprofile for Chrome DevTools or `speedscope`, and a sampled profile of
 * every allocation in that window as <dir>/<label>.heapprofile.
 */
async function startProfiler(): Promise<{ stop(label: string): Promise<void> } | undefined> {
  const dir = process.env["HOMELAB_BENCH_PROFILE"];
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  // Every allocation, kept or collected: what the garbage collector has to work through.
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", { samplingInterval: 65536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    async stop(label: string) {
      const { profile } = await post<{ profile: unknown }>("Profiler.stop");
      const heap = await post<{ profile: unknown }>("HeapProfiler.stopSampling");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
      writeFileSync(join(dir, `${label}.heapprofile`), JSON.stringify(heap.profile));
      session.disconnect();
    },
  };
}

function rssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** The program's input: a synthetic size, or a stack file as `npm run plan` reads it. */
function programInput(what: string): { label: string; services: number; nodes: number; config: Record<string, string>; secretKeys: string[] } {
  const size = /^(\d+)x(\d+)$/.exec(what);
  if (size) {
    const services = Number(size[1]);
    const nodes = Number(size[2]);
    const raw = syntheticConfig({ services, nodes });
    const parsed = parseStrategy(raw);
    if (!parsed.ok) throw new Error(`synthetic config is invalid: ${parsed.problems[0]?.path}: ${parsed.problems[0]?.message}`);
    return { label: what, services, nodes, ...withPlaceholderSecrets(parsed.strategy, asPulumiConfig(raw), []) };
  }
  const file = readStackFile(what);
  const strategy = validateStackFile(file);
  const { config, secretKeys } = withPlaceholderSecrets(strategy, file.config, file.secretKeys);
  return { label: basename(what).replace(/^Pulumi\.|\.yaml$/g, ""), services: strategy.services.length, nodes: strategy.hosts.pve.nodes.length, config, secretKeys };
}

async function library(what: string, typesFile: string, warmTypesFile?: string) {
  const { label, services, nodes, config, secretKeys } = programInput(what);
  // Module loading is a fixed start-up cost, measured apart so the ratio compares registration.
  const tImport = performance.now();
  await import("../stacks/program");
  // The provider SDKs load a submodule (aws.s3, proxmoxve.backup) on first use; the baseline
  // loads its classes before its clock starts, so the library's are loaded here too.
  if (warmTypesFile) for (const r of JSON.parse(readFileSync(warmTypesFile, "utf8")) as Registered[]) sdkClassFor(r.type);
  const importMs = Math.round(performance.now() - tImport);
  const profiler = await startProfiler();
  const t0 = performance.now();
  const recording = await recordProgram({ project: "homelab-backup", stack: "bench", config, secretKeys, keepProviderText: true }, async () => (await import("../stacks/program")).runProgram);
  const t1 = performance.now();
  await profiler?.stop(`library-${label}`);
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

async function baseline(typesFile: string, flavor: string) {
  const custom = JSON.parse(readFileSync(typesFile, "utf8")) as Registered[];
  class Bare extends pulumi.CustomResource {}
  // Classes are looked up (and their packages loaded) before the clock starts, as the library's
  // modules are imported before its program is timed.
  const construct = custom.map((r): ((name: string, inputs: pulumi.Inputs) => pulumi.CustomResource) => {
    const cls = flavor === "sdk" ? sdkClassFor(r.type) : undefined;
    return cls ? (name, inputs) => new cls(name, inputs) : (name, inputs) => new Bare(r.type, name, inputs);
  });
  // Through the plan's own recorder, as the library's program is: the same mocks and answers, the
  // same runtime settings and the same recording of each resource, so the ratio is the library's
  // own cost and not the harness's.
  const profiler = await startProfiler();
  const t0 = performance.now();
  const recording = await recordProgram({ project: "homelab-backup", stack: "bench", config: {}, secretKeys: [] }, async () => () => {
    custom.forEach((r, i) => (construct[i] as (name: string, inputs: pulumi.Inputs) => pulumi.CustomResource)(r.name, r.inputs));
    return {};
  });
  const t1 = performance.now();
  if (recording.resources.length !== custom.length) throw new Error(`the baseline registered ${recording.resources.length} resources; expected ${custom.length}`);
  await profiler?.stop(`baseline-${flavor}-${custom.length}`);
  return { mode: "baseline", flavor, resources: custom.length, totalMs: Math.round(t1 - t0), maxRssMb: rssMb() };
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  const result = mode === "library" ? await library(args[0] as string, args[1] as string, args[2]) : await baseline(args[0] as string, args[1] ?? "bare");
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

void main();
