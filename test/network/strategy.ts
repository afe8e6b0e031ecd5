/** Typed strategies from the real stack files, the way the program gets them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { StrategyInput } from "../../config/schema";
import type { Strategy } from "../../config/strategy";
import { formatProblem, parseStrategy, PROJECT } from "../../config/validate";

/** The project's keys of `Pulumi.<stack>.yaml`, prefix stripped, as parsed YAML (a fresh copy each call). */
export function rawStackConfig(stack: "homelab" | "lab"): StrategyInput {
  const doc = parse(readFileSync(join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
  }
  // The stack files are the schema's input shape; parseStrategy checks them for real.
  return raw as unknown as StrategyInput;
}

/** Validates raw config; a problem fails the test with the validator's own lines. */
export function strategyFrom(raw: StrategyInput): Strategy {
  const result = parseStrategy(raw as unknown as Record<string, unknown>);
  if (!result.ok) throw new Error(`invalid test strategy:\n${result.problems.map(formatProblem).join("\n")}`);
  return result.strategy;
}

/** A stack's strategy, optionally after changing its raw config. */
export function stackStrategy(stack: "homelab" | "lab", mutate?: (raw: StrategyInput) => void): Strategy {
  const raw = rawStackConfig(stack);
  mutate?.(raw);
  return strategyFrom(raw);
}
