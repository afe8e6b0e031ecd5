/**
 * Pulumi's mock runtime, strict (any invoke fails), recording every registration with what the
 * public mock API hides (pulumi/pulumi#14421): parent, options, and the inputs as serialized for
 * the engine, secrets still wrapped, so a test can tell a secret input from a plaintext one.
 * One program per test file: the runtime is a per-process singleton.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  /** Inputs as serialized for the engine: secrets still wrapped in their signature objects. */
  raw: Record<string, unknown>;
  deleteBeforeReplace: boolean;
  retainOnDelete: boolean;
  dependencies: string[];
  additionalSecretOutputs: string[];
}

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
type Callback = (err: unknown, response?: { getUrn(): string }) => void;

export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Provider-computed state a test wants a resource to have, merged over its inputs. */
export type MockState = (type: string, name: string) => Record<string, unknown>;

export const registered: Registered[] = [];
/** Outputs each component registered last, by URN. */
export const componentOutputs = new Map<string, Record<string, unknown>>();

export async function startMocks(state: MockState = () => ({})): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => ({ id: `${a.name}-id`, state: { ...a.inputs, ...(a.type === "command:remote:Command" ? { stdout: "", stderr: "" } : {}), ...state(a.type, a.name) } }),
      call: (a) => {
        throw new Error(`unmocked invoke ${a.token}`);
      },
    },
    "homelab-backup",
    "test",
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mocks = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } };
  const proto = mocks.MockMonitor.prototype;
  const register = proto["registerResource"] as (this: unknown, req: MonitorRequest, cb: Callback) => Promise<void>;
  proto["registerResource"] = function (this: unknown, req: MonitorRequest, callback: Callback) {
    return register.call(this, req, (err, response) => {
      if (!err && response) {
        registered.push({
          urn: response.getUrn(),
          type: req.getType(),
          name: req.getName(),
          parent: req.getParent(),
          custom: req.getCustom(),
          raw: req.getObject()?.toJavaScript() ?? {},
          deleteBeforeReplace: req.getDeletebeforereplace(),
          retainOnDelete: req.getRetainondelete() === true,
          dependencies: req.getDependenciesList(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        });
      }
      callback(err, response);
    });
  };
  const outputs = proto["registerResourceOutputs"] as (this: unknown, req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined }, cb: Callback) => unknown;
  proto["registerResourceOutputs"] = function (this: unknown, req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined }, callback: Callback) {
    componentOutputs.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
    return outputs.call(this, req, callback);
  };
}

/** Waits until every registration the program started has reached the mock monitor. */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Every string in `value` outside secret wrappers. */
export function plainStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) plainStrings(v, out);
  else if (typeof value === "object" && value !== null && !isSecretValue(value)) for (const v of Object.values(value)) plainStrings(v, out);
  return out;
}

/** An input, unwrapped if secret. */
export function input(r: Registered, key: string): unknown {
  const v = r.raw[key];
  return isSecretValue(v) ? (v as { value: unknown }).value : v;
}

export function find(type: string, name: string): Registered {
  const r = registered.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}; have ${registered.map((x) => `${x.type}::${x.name}`).join(", ")}`);
  return r;
}

export function command(name: string): Registered {
  return find("command:remote:Command", name);
}

/** The content a deploy step writes to `path` (the heredoc between its delimiter lines). */
export function writtenContent(script: string, path: string): string | undefined {
  const lines = script.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`cat > ${path}.new <<'`) || l.startsWith(`cat > '${path}.new' <<'`));
  if (start < 0) return undefined;
  const delimiter = /<<'([^']+)'$/.exec(lines[start] as string)?.[1];
  const end = lines.indexOf(delimiter as string, start + 1);
  return lines.slice(start + 1, end).join("\n") + "\n";
}
