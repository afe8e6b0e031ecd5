/**
 * `npm run bench`: the plan's cost as the homelab grows, against the SDK registering the same
 * custom resources with no components and no validation. Printed, never asserted (machines are
 * noisy).
 *   npm run bench                      default sizes, each measured three times
 *   npm run bench -- 10x1 500x5        chosen sizes (services x nodes)
 *   npm run bench -- stack:homelab     a stack's own config (Pulumi.homelab.yaml)
 *   npm run bench -- --runs 5 100x5    more runs per size (the median is printed)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { textTable } from "../plan/render/table";

const DEFAULT_SIZES = ["stack:homelab", "10x1", "100x5", "500x20", "2000x20"];

function child(args: string[]): Record<string, number | string> {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "child.ts"), ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`bench child ${args.join(" ")} failed: ${r.stderr.split("\n").slice(0, 5).join(" ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string);
}

type Measure = Record<string, number | string>;

/** `stack:homelab` is the project's Pulumi.homelab.yaml. */
function stackFile(size: string): string {
  return resolve(__dirname, "..", `Pulumi.${size.slice("stack:".length)}.yaml`);
}

/** The run whose `key` is the median of the runs. */
function median(runs: Measure[], key: string): Measure {
  return [...runs].sort((a, b) => Number(a[key]) - Number(b[key]))[Math.floor(runs.length / 2)] as Measure;
}

function parseArgs(argv: string[]): { sizes: string[]; runs: number } {
  const sizes: string[] = [];
  let runs = 3;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--runs") {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${argv[i]} is invalid; expected a whole number of at least 1`);
    } else if (/^\d+x\d+$/.test(arg) || /^stack:[A-Za-z0-9_.-]+$/.test(arg)) sizes.push(arg);
    else throw new Error(`argument ${arg} is invalid; expected a size such as 500x20 (services x nodes), stack:<name>, or --runs N`);
  }
  return { sizes: sizes.length ? sizes : DEFAULT_SIZES, runs };
}

function main() {
  let options: { sizes: string[]; runs: number };
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const { sizes, runs } = options;
  const dir = mkdtempSync(join(tmpdir(), "bench-"));
  const rows: string[][] = [];
  let previous: { services: number; ms: number } | undefined;
  // Unmeasured runs first: one small size and each stack. They list the resource types, so every
  // measured run loads their SDK modules before its clock starts, as the baseline does; and they
  // serialize any dynamic provider whose text is not cached yet for these sources.
  const warm = join(dir, "warm.json");
  const warmPrograms = ["10x1", ...sizes.filter((s) => s.startsWith("stack:")).map(stackFile)];
  const warmTypes = warmPrograms.flatMap((program, i) => {
    const file = join(dir, `warm-${i}.json`);
    child(["library", program, file]);
    return JSON.parse(readFileSync(file, "utf8")) as unknown[];
  });
  writeFileSync(warm, JSON.stringify(warmTypes));
  for (const size of sizes) {
    const stack = size.startsWith("stack:") ? size.slice("stack:".length) : undefined;
    // A stack row plans the project's own stack file; it stands apart from the growth series.
    const program = stack ? stackFile(size) : size;
    const types = join(dir, `${size.replace(":", "-")}.json`);
    // Interleaved, so a slow spell of a shared machine hits all three alike; medians are printed.
    const libRuns: Measure[] = [];
    const sdkRuns: Measure[] = [];
    const bareRuns: Measure[] = [];
    for (let run = 0; run < runs; run++) {
      libRuns.push(child(["library", program, types, warm]));
      sdkRuns.push(child(["baseline", types, "sdk"]));
      bareRuns.push(child(["baseline", types, "bare"]));
    }
    const lib = median(libRuns, "programMs");
    const sdk = median(sdkRuns, "totalMs");
    const bare = median(bareRuns, "totalMs");
    const libMs = Number(lib["programMs"]);
    const ratio = libMs / Math.max(1, Number(sdk["totalMs"]));
    const bareRatio = libMs / Math.max(1, Number(bare["totalMs"]));
    const services = Number(lib["services"]);
    let growth = "·";
    if (!stack) {
      if (previous) growth = ((libMs / previous.ms) / (services / previous.services)).toFixed(2);
      previous = { services, ms: libMs };
    }
    rows.push([
      stack ? `${stack} stack` : size, `${services}`, `${lib["nodes"]}`, String(lib["resources"]), String(lib["dataClasses"]),
      `${lib["importMs"]}`, `${libMs}`, `${sdk["totalMs"]}`, ratio.toFixed(2), `${bare["totalMs"]}`, bareRatio.toFixed(2),
      `${lib["analysisMs"]}`, `${((Number(lib["analysisMs"]) / libMs) * 100).toFixed(0)}%`,
      growth, `${lib["maxRssMb"]}`, `${sdk["maxRssMb"]}`,
    ]);
    process.stderr.write(`measured ${size}\n`);
  }
  process.stdout.write(
    textTable(
      ["PROGRAM", "SERVICES", "NODES", "RESOURCES", "CLASSES", "IMPORT ms", "PROGRAM ms", "SDK ms", "RATIO", "BARE ms", "BARE RATIO", "MODEL+POLICY+TEXT ms", "OF PROGRAM", "GROWTH/LINEAR", "PEAK MB", "BASE PEAK MB"],
      rows,
    ) + "\n",
  );
  process.stdout.write(
    `\nEach figure is the median of ${runs} run(s) per size, the three programs interleaved.\n` +
    "IMPORT = loading the program's modules (provider SDKs), once per run, not in the ratio.\n" +
      "SDK = the same custom resources, same inputs, built with the provider SDKs' own classes\n" +
      "  (new proxmoxve.backup.Job(...), new aws.s3.Bucket(...)): no components, no validation, no dependencies.\n" +
      "RATIO = library program time / SDK time (target <= 1.5): the library's own overhead.\n" +
      "BARE = the same resources as plain pulumi.CustomResource(type, name, inputs), a floor below any provider SDK.\n" +
      "GROWTH/LINEAR = (time ratio to the previous size) / (service ratio): about 1 means linear.\n" +
      "MODEL+POLICY+TEXT = the 3-2-1 model, every policy and the text rendering, after the program (target < 20% of the program).\n",
  );
}

main();
