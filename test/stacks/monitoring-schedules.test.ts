import { test } from "node:test";
import assert from "node:assert/strict";
import { recordProgram } from "../../plan/record";
import { parseStrategy } from "../../config/validate";
import { withPlaceholderSecrets } from "../../plan/placeholders";
import { asPulumiConfig, syntheticConfig } from "../../bench/generate";

test("the checks' timers get the config's schedules in the form systemd reads", async () => {
  // Both are valid config (the PVE/PBS syntax) that systemd 252 refuses as written.
  const raw = { ...syntheticConfig({ services: 6, nodes: 1 }), verification: { checks: { capacity: "Fri..Mon *-*-* 03:00", freshness: "*:*/15" } } };
  const parsed = parseStrategy(raw);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  const { config, secretKeys } = withPlaceholderSecrets(parsed.strategy, asPulumiConfig(raw), []);
  const { resources } = await recordProgram({ project: "homelab-backup", stack: "schedules", config, secretKeys }, async () => (await import("../../stacks/program")).runProgram);
  const create = (name: string) => String(resources.find((r) => r.type === "command:remote:Command" && r.name === name)?.inputs["create"] ?? "");
  assert.match(create("capacity-deploy"), /^OnCalendar=Mon,Fri,Sat,Sun \*-\*-\* 03:00$/m);
  assert.match(create("freshness-deploy"), /^OnCalendar=\*:0\/15$/m);
});
