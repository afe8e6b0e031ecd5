/**
 * Offline there are no secrets to decrypt: every secret the strategy needs and the stack file
 * does not hold gets a placeholder, marked secret, so the program runs and the plan says so.
 */
import { requiredSecrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { PROJECT } from "../config/validate";

import { SECRET_PLACEHOLDER } from "./stack-file";

export { SECRET_PLACEHOLDER };

export function withPlaceholderSecrets(
  strategy: Strategy,
  config: Record<string, string>,
  secretKeys: readonly string[],
): { config: Record<string, string>; secretKeys: string[]; unset: string[] } {
  const out = { ...config };
  const keys = [...secretKeys];
  const unset = requiredSecrets(strategy).filter((k) => !keys.includes(`${PROJECT}:${k}`));
  for (const key of unset) {
    out[`${PROJECT}:${key}`] =
      key === "notificationSecrets"
        ? JSON.stringify(Object.fromEntries(strategy.monitoring.targets.map((t) => [t.name, SECRET_PLACEHOLDER])))
        : key === "agentDatabasePasswords"
          ? JSON.stringify(Object.fromEntries(strategy.agents.flatMap((a) => a.databases.map((d) => [`${a.name}.${d.kind}.${d.name}`, SECRET_PLACEHOLDER]))))
          : SECRET_PLACEHOLDER;
    keys.push(`${PROJECT}:${key}`);
  }
  return { config: out, secretKeys: keys, unset };
}
