/**
 * Reading the Pulumi config: the only module that touches `pulumi.Config`. It hands the raw
 * values to the pure validator and turns problems into one RunError (one line each, no stack
 * trace), which the CLI prints as is.
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_KEYS, type SecretKey } from "./schema";
import type { Strategy } from "./strategy";
import { checkSecretKeys, formatProblem, parseStrategy, PROJECT, type ConfigProblem } from "./validate";

/** The project's config keys (prefix stripped), structured values JSON-parsed. */
export function readProjectConfig(): { raw: Record<string, unknown>; isSecret: (key: string) => boolean } {
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2) as [string, string | undefined];
    if (ns !== PROJECT || key === undefined) continue;
    raw[key] = parseValue(text);
  }
  return { raw, isSecret: (key) => isConfigSecret(`${PROJECT}:${key}`) };
}

/** The SDK knows which keys are secret but marks the helper internal; its module is stable. */
function isConfigSecret(fullKey: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  if (typeof config.isConfigSecret !== "function") throw new Error("this @pulumi/pulumi version cannot tell secret config keys; pin 3.248.0");
  return config.isConfigSecret(fullKey);
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Which secrets a strategy needs before `pulumi up` can talk to its hosts. */
export function requiredSecrets(strategy: Strategy): SecretKey[] {
  const keys: SecretKey[] = ["pveApiToken", "pbsApiToken", "truenasApiKey"];
  if (strategy.hosts.offsite.provider !== "aws") keys.push("offsiteAccessKeyId", "offsiteSecretAccessKey");
  if (strategy.monitoring.targets.some((t) => t.type === "gotify" || (t.type === "smtp" && t.username))) keys.push("notificationSecrets");
  if (strategy.agents.length > 0) keys.push("agentSshPrivateKey");
  if (strategy.hosts.truenas.monitorUser !== undefined) keys.push("truenasMonitorApiKey");
  // The master key's public half, the restore tests, the checks and the hook go over SSH.
  if (strategy.security.clientSideEncryption || strategy.verification.restoreTests.enabled) keys.push("hostSshPrivateKey");
  if (strategy.agents.some((a) => a.databases.some((d) => d.password))) keys.push("agentDatabasePasswords");
  return keys;
}

/** Validated config problems become this error: the CLI prints its message, no stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(public readonly problems: ConfigProblem[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map(formatProblem).join("\n")}`);
  }
}

/** Loads and validates the strategy; throws ConfigError listing every problem. */
export function loadStrategy(): Strategy {
  const { raw, isSecret } = readProjectConfig();
  const result = parseStrategy(raw);
  const secretProblems = checkSecretKeys(raw, isSecret, result.ok ? requiredSecrets(result.strategy) : []);
  if (!result.ok) throw new ConfigError([...result.problems, ...secretProblems]);
  if (secretProblems.length > 0) throw new ConfigError(secretProblems);
  return result.strategy;
}

type SecretMapKey = "notificationSecrets" | "agentDatabasePasswords";
export const SECRET_MAPS: readonly SecretMapKey[] = ["notificationSecrets", "agentDatabasePasswords"];

export type Secrets = Record<Exclude<SecretKey, SecretMapKey>, pulumi.Output<string> | undefined> & {
  /** Target name → secret (gotify token, smtp password). */
  notificationSecrets: pulumi.Output<Record<string, string>> | undefined;
  /** `<agent>.<kind>.<database>` → password. */
  agentDatabasePasswords: pulumi.Output<Record<string, string>> | undefined;
};

/** The secrets as Pulumi secret Outputs (never plain strings). */
export function loadSecrets(): Secrets {
  const config = new pulumi.Config(PROJECT);
  const out = {} as Secrets;
  for (const key of SECRET_KEYS) {
    if (key === "notificationSecrets" || key === "agentDatabasePasswords") out[key] = config.getSecretObject<Record<string, string>>(key);
    else out[key] = config.getSecret(key);
  }
  return out;
}
