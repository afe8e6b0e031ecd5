/**
 * What the restore reads from the stack file: the validated strategy (same reader and validator
 * as the plan), the PVE storage each service writes to, and which VM ids are production guests.
 */
import { formatProblem, parseStrategy, type ConfigProblem } from "../config/validate";
import { storageIdFor } from "../components/pve/storage-id";
import { readStackFile, StackFileError, type StackFile } from "../plan/stack-file";
import type { Service, Strategy } from "../config/strategy";
import { badValue, UsageError } from "./errors";

export interface Stack {
  readonly name: string;
  readonly path: string;
  readonly strategy: Strategy;
}

/** A stack file, its name and its project's keys (prefix stripped; secrets are skipped by the validator). */
function readStack(path: string): StackFile {
  try {
    return readStackFile(path);
  } catch (error) {
    if (!(error instanceof StackFileError)) throw error;
    throw new UsageError(`--stack: ${error.message}`);
  }
}

/** The project's keys of a stack file, prefix stripped (secrets are skipped by the validator). */
export function readProjectKeys(path: string): Record<string, unknown> {
  return readStack(path).raw;
}

export function loadStack(path: string): Stack {
  const file = readStack(path);
  const result = parseStrategy(file.raw);
  if (!result.ok) {
    const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more: npm run plan lists them)` : "";
    throw new UsageError(`${formatProblem(result.problems[0] as ConfigProblem)}${more}`);
  }
  return { name: file.stack, path, strategy: result.strategy };
}

/** The PVE storage a service's backups land on: the rule the backup jobs use. */
export function storageFor(strategy: Strategy, service: Pick<Service, "datastore" | "namespace">): string {
  return storageIdFor(strategy.hosts.pve.storageId, service, strategy.datastores.length > 1);
}

export function findService(strategy: Strategy, name: string): Service {
  const service = strategy.services.find((s) => s.name === name);
  if (!service) throw badValue("--service", name, `one of ${strategy.services.map((s) => s.name).join(", ")}`, "is not a service of this stack");
  return service;
}

/** VM ids the config names, with the service that names them. */
export function configuredVmids(strategy: Strategy): Map<number, string> {
  const out = new Map<number, string>();
  for (const service of strategy.services) for (const id of service.guests.vmids ?? []) out.set(id, service.name);
  return out;
}
