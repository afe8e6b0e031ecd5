/**
 * `npm run bench`: the plan's cost as the homelab grows, against the bare SDK registering the
 * same custom resources. Printed, never asserted (machines are noisy).
 *   npm run bench                      default sizes
 *   npm run bench -- 10x1 500x5        chosen sizes (services x nodes)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { textTable } from "../plan/render/table";

const DEFAULT_SIZES = ["10x1", "100x5", "500x20", "2000x20"];

function child(args: string[]): Record<string, number | string> {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "child.ts"), ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`bench child ${args.join(" ")} failed: ${r.stderr.split("\n").slice(0, 5).join(" ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string);
}

function main() {
  const sizes = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_SIZES;
  const dir = mkdtempSync(join(tmpdir(), "bench-"));
  const rows: string[][] = [];
  let previous: { services: number; ms: number } | undefined;
  for (const size of sizes) {
    const [services, nodes] = size.split("x").map(Number) as [number, number];
    const types = join(dir, `${size}.json`);
    const lib = child(["library", String(services), String(nodes), types]);
    const base = child(["baseline", types]);
    const libMs = Number(lib["programMs"]);
    const ratio = libMs / Math.max(1, Number(base["totalMs"]));
    const growth = previous ? ((libMs / previous.ms) / (services / previous.services)).toFixed(2) : "·";
    previous = { services, ms: libMs };
    rows.push([
      `${services}`, `${nodes}`, String(lib["resources"]), String(lib["dataClasses"]),
      `${lib["importMs"]}`, `${libMs}`, `${base["totalMs"]}`, ratio.toFixed(2),
      `${lib["analysisMs"]}`, `${((Number(lib["analysisMs"]) / libMs) * 100).toFixed(0)}%`,
      growth, `${lib["maxRssMb"]}`, `${base["maxRssMb"]}`,
    ]);
    process.stderr.write(`measured ${size}\n`);
  }
  process.stdout.write(
    textTable(
      ["SERVICES", "NODES", "RESOURCES", "CLASSES", "IMPORT ms", "PROGRAM ms", "BASELINE ms", "RATIO", "MODEL+POLICY+TEXT ms", "OF PROGRAM", "GROWTH/LINEAR", "PEAK MB", "BASE PEAK MB"],
      rows,
    ) + "\n",
  );
  process.stdout.write(
    "\nIMPORT = loading the program's modules (provider SDKs), once per run, not in the ratio.\n" +
      "RATIO = library program time / bare-SDK registration of the same custom resources (target <= 1.5).\n" +
      "GROWTH/LINEAR = (time ratio to the previous size) / (service ratio): about 1 means linear.\n" +
      "MODEL+POLICY+TEXT = the 3-2-1 model, every policy and the text rendering, after the program (target < 20% of the program).\n",
  );
}

main();
