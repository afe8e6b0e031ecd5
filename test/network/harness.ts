/**
 * The mock runtime for component tests: strict invokes, and a record of every registration with
 * what the public mock API hides (parent, protect, retainOnDelete, dependencies, which inputs were
 * secret), read from the mock monitor's requests as plan/record.ts does.
 */
import * as pulumi from "@pulumi/pulumi";
import { redact } from "../../plan/record";

export interface Registered {
  type: string;
  name: string;
  urn: string;
  parent: string;
  custom: boolean;
  /** Inputs with secret values as "[secret]". */
  inputs: Record<string, unknown>;
  /** Inputs with secrets unwrapped, as a provider would receive them. */
  plain: Record<string, unknown>;
  /** Names of the inputs that held a secret. */
  secretInputs: string[];
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  dependencies: string[];
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A serialized property value with secrets replaced by their values. */
export function unwrap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrap(record["value"]);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
type Callback = (err: unknown, response?: { getUrn(): string }) => void;

/** Provider-computed outputs a test wants resources to have, by type. */
export type StateFn = (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** Sets strict mocks and starts recording; call before importing the components under test. */
export async function startMocks(state: StateFn = () => ({})): Promise<Registered[]> {
  const resources: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...(await state(args.type, args.name, unwrap(args.inputs) as Record<string, unknown>)) } }),
      call: (args) => {
        throw new Error(`unmocked invoke ${args.token}`);
      },
    },
    "homelab-backup",
    "test",
    false,
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = (require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } }).MockMonitor.prototype;
  const original = proto["registerResource"] as (this: unknown, req: MonitorRequest, cb: Callback) => Promise<void>;
  proto["registerResource"] = function (this: unknown, req: MonitorRequest, callback: Callback) {
    return original.call(this, req, (err, response) => {
      if (!err && response) {
        const inputs: Record<string, unknown> = {};
        const plain: Record<string, unknown> = {};
        const secretInputs: string[] = [];
        for (const [key, raw] of Object.entries(req.getObject()?.toJavaScript() ?? {})) {
          const r = redact(raw);
          inputs[key] = r.value;
          plain[key] = unwrap(raw);
          if (r.secret) secretInputs.push(key);
        }
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          parent: req.getParent(),
          custom: req.getCustom(),
          inputs,
          plain,
          secretInputs,
          protect: req.getProtect() === true,
          retainOnDelete: req.getRetainondelete() === true,
          deleteBeforeReplace: req.getDeletebeforereplace(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          dependencies: req.getDependenciesList(),
        });
      }
      callback(err, response);
    });
  };
  return resources;
}

/** The value of an output, awaited. */
export function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until every registration has reached the mock monitor. */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

export function ofType(resources: readonly Registered[], type: string, under?: string): Registered[] {
  return resources.filter((r) => r.type === type && (under === undefined || r.name.startsWith(`${under}-`)));
}

export function one(resources: readonly Registered[], type: string, name: string): Registered {
  const found = resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}; have ${resources.map((r) => `${r.type}::${r.name}`).join(", ")}`);
  return found[0] as Registered;
}
