/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program: every key as a
 * string (structured values as JSON), `secure:` values as secrets. Offline there is no key to
 * decrypt them, so secrets become placeholders that never leave the plan unredacted.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "yaml";
import { PROJECT } from "../config/validate";

/** What a `secure:` value reads as offline; the plan redacts it wherever it appears. */
export const SECRET_PLACEHOLDER = "offline-plan-placeholder";

export interface StackFile {
  stack: string;
  path: string;
  /** Full keys (`project:key`) to string values. */
  config: Record<string, string>;
  /** Full keys whose values are secrets. */
  secretKeys: string[];
  /** The project's own keys, prefix stripped, values parsed. */
  raw: Record<string, unknown>;
}

/** Thrown for an unreadable stack file: the message is one line for the user. */
export class StackFileError extends Error {}

function isSecure(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

export function readStackFile(path: string): StackFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new StackFileError(`${path}: cannot read the stack file; expected a Pulumi.<stack>.yaml file`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new StackFileError(`${path}: is not valid YAML (${(e as Error).message.split("\n")[0]})`);
  }
  const configBlock = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof configBlock !== "object" || configBlock === null || Array.isArray(configBlock)) {
    throw new StackFileError(`${path}: config: expected a map of config keys`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(configBlock as Record<string, unknown>)) {
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    if (isSecure(value)) {
      config[fullKey] = SECRET_PLACEHOLDER;
      secretKeys.push(fullKey);
    } else {
      config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
    if (fullKey.startsWith(`${PROJECT}:`)) raw[fullKey.slice(PROJECT.length + 1)] = isSecure(value) ? SECRET_PLACEHOLDER : value;
  }
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(path));
  return { stack: m?.[1] ?? basename(path), path, config, secretKeys, raw };
}
