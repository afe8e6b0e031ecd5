/**
 * Strict Pulumi mocks for the off-site archive: every registered resource with its inputs and the
 * options the public mock API hides (parent, protect, retainOnDelete, replacementTrigger,
 * provider; pulumi/pulumi#14421), and every invoke. An invoke without an answer throws.
 * Import this first and call `setupMocks()` before importing the component.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";

export interface Registered {
  type: string;
  name: string;
  urn: string;
  parent: string;
  /** Inputs as the provider would get them (secrets unwrapped). */
  inputs: Record<string, unknown>;
  /** Input names whose values were secrets. */
  secretInputs: string[];
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  replacementTrigger: unknown;
  additionalSecretOutputs: string[];
  /** Provider reference (`urn::id`), empty for the default provider. */
  provider: string;
}

export const registered: Registered[] = [];
export const invokes: string[] = [];

const ANSWERS: Record<string, Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDAEXAMPLE", id: ACCOUNT },
  "aws:index/getPartition:getPartition": { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" },
};

/** Provider-computed outputs the component reads. */
function state(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  switch (type) {
    case "aws:s3/bucket:Bucket":
      return { id: String(inputs["bucket"]), state: { ...inputs, arn: `arn:aws:s3:::${String(inputs["bucket"])}` } };
    case "aws:kms/key:Key":
      return { id: `${name}-0000`, state: { ...inputs, keyId: `${name}-0000`, arn: `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${name}-0000` } };
    case "aws:iam/user:User":
      return { id: String(inputs["name"]), state: { ...inputs, arn: `arn:aws:iam::${ACCOUNT}:user${String(inputs["path"] ?? "/")}${String(inputs["name"])}` } };
    case "aws:iam/accessKey:AccessKey":
      return { id: `AKIA${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`.slice(0, 20), state: { ...inputs, secret: `secret-of-${name}` } };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
function isSecretValue(v: unknown): boolean {
  return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getProvider(): string;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
type Callback = (err: unknown, response?: { getUrn(): string }) => void;

let pending = 0;

export async function setupMocks(): Promise<void> {
  const inputsByKey = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        inputsByKey.set(`${args.type}::${args.name}`, args.inputs as Record<string, unknown>);
        return state(args.type, args.name, args.inputs as Record<string, unknown>);
      },
      call: (args) => {
        invokes.push(args.token);
        const answer = ANSWERS[args.token];
        if (!answer) throw new Error(`Mock not implemented: ${args.token}`);
        return answer;
      },
    },
    "project",
    "stack",
    false,
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mocks = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } };
  const proto = mocks.MockMonitor.prototype;
  const original = proto["registerResource"] as (this: unknown, req: MonitorRequest, cb: Callback) => Promise<void>;
  proto["registerResource"] = function (this: unknown, req: MonitorRequest, callback: Callback) {
    pending++;
    return original.call(this, req, (err, response) => {
      pending--;
      if (!err && response) {
        const raw = req.getObject()?.toJavaScript() ?? {};
        registered.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          parent: req.getParent(),
          inputs: inputsByKey.get(`${req.getType()}::${req.getName()}`) ?? {},
          secretInputs: Object.entries(raw).filter(([, v]) => isSecretValue(v)).map(([k]) => k),
          protect: req.getProtect() === true,
          retainOnDelete: req.getRetainondelete() === true,
          deleteBeforeReplace: req.getDeletebeforereplace(),
          replacementTrigger: req.getReplacementTrigger()?.toJavaScript(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          provider: req.getProvider(),
        });
      }
      callback(err, response);
    });
  };
}

/** Resolves an output's value (unknowns are never produced by these mocks). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until every registration in flight has finished and no new one starts for a while. */
export async function settle(): Promise<void> {
  let quiet = 0;
  let last = registered.length;
  while (quiet < 25) {
    await new Promise((r) => setImmediate(r));
    if (pending === 0 && registered.length === last) quiet++;
    else {
      quiet = 0;
      last = registered.length;
    }
  }
}

export function named(type: string, name: string): Registered {
  const r = registered.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name}; have ${registered.map((x) => `${x.type}::${x.name}`).join(", ")}`);
  return r;
}

/** Resources whose name starts with `prefix` (one component's children), as sorted `type::name`. */
export function inventory(prefix: string): string[] {
  return registered
    .filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`))
    .map((r) => `${r.type}::${r.name}`)
    .sort();
}
