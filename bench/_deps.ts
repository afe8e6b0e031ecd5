import { recordProgram } from "../plan/record";
import { parseStrategy } from "../config/validate";
import { withPlaceholderSecrets } from "../plan/placeholders";
import { asPulumiConfig, syntheticConfig } from "./generate";
async function main() {
  const [s, n] = process.argv.slice(2).map(Number);
  const raw = syntheticConfig({ services: s!, nodes: n! });
  const parsed = parseStrategy(raw);
  if (!parsed.ok) throw new Error("bad");
  const { config, secretKeys } = withPlaceholderSecrets(parsed.strategy, asPulumiConfig(raw), []);
  const rec = await recordProgram({ project: "homelab-backup", stack: "bench", config, secretKeys }, async () => (await import("../stacks/program")).runProgram);
  const agg: Record<string, [number, number]> = {};
  for (const r of rec.resources) { const a = (agg[r.type] ??= [0, 0]); a[0]++; a[1] += r.dependencies.length; }
  for (const [t, [c, d]] of Object.entries(agg).sort((a, b) => b[1][1] - a[1][1]).slice(0, 15)) console.log(t, c, d, (d / c).toFixed(1));
  const ex = rec.resources.find((r) => r.type === "proxmoxve:backup/job:Job");
  console.log(ex?.dependencies);
  process.exit(0);
}
void main();
