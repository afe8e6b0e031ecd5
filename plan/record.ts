/**
 * Runs the real program under the Pulumi SDK's mock runtime and records every registered
 * resource: the only module that knows about the mock runtime. Mocks are strict: an invoke
 * this file does not answer throws, naming its token.
 */
import * as pulumi from "@pulumi/pulumi";

/** What the engine would receive for one resource, with secrets redacted. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent resource; undefined for top-level resources. */
  parent?: string;
  custom: boolean;
  /** Inputs as registered; secret values are "[secret]", unknowns "[unknown]". */
  inputs: Record<string, unknown>;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  dependencies: string[];
  /** Input names whose values were secret. */
  secretInputs: string[];
}

export interface Recording {
  resources: RecordedResource[];
  /** Stack outputs; secret ones are "[secret]". */
  outputs: Record<string, unknown>;
}

export interface RecordOptions {
  project: string;
  stack: string;
  /** Full config keys (`project:key`) to string values, as the CLI would pass them. */
  config: Record<string, string>;
  /** Full config keys that are secrets. */
  secretKeys: string[];
  /**
   * Keep each dynamic resource's serialized provider in its recorded inputs instead of a
   * placeholder (the bench replays them).
   * @default false
   */
  keepProviderText?: boolean;
}

export type Program = () => Record<string, pulumi.Output<unknown>>;

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";

/** Redacts secrets in a serialized property value; reports whether it held any. */
export function redact(value: unknown): { value: unknown; secret: boolean } {
  if (value === UNKNOWN) return { value: "[unknown]", secret: false };
  if (Array.isArray(value)) {
    let secret = false;
    const out = value.map((v) => {
      const r = redact(v);
      secret ||= r.secret;
      return r.value;
    });
    return { value: out, secret };
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const sig = record[SIG_KEY];
    if (sig === SECRET_SIG) return { value: "[secret]", secret: true };
    if (sig === RESOURCE_SIG) return { value: record["urn"], secret: false };
    if (sig === ASSET_SIG) return { value: record["text"] ?? record["path"] ?? "[asset]", secret: false };
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      const r = redact(v);
      secret ||= r.secret;
      out[k] = r.value;
    }
    return { value: out, secret };
  }
  return { value, secret: false };
}

/** Outputs the providers compute, so dependent resources see realistic values. */
function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  // A dynamic resource's provider text (tens of kilobytes) is not state anything reads.
  const { __provider: _provider, ...state }: Record<string, unknown> = inputs;
  if (type === "proxmoxve:storage/pbs:Pbs") {
    state["generatedEncryptionKey"] = "plan-placeholder-encryption-key";
    state["encryptionKeyFingerprint"] = "plan:fingerprint:" + name;
  }
  if (type === "pulumi-nodejs:dynamic/pbs:ApiToken") {
    state["tokenId"] = `${String(inputs["userid"])}!${String(inputs["tokenName"])}`;
    state["secret"] = "plan-placeholder-token-secret";
  }
  if (type.startsWith("aws:")) {
    state["arn"] ??= `arn:aws:${type.split(":")[1]?.split("/")[0]}:::${name}`;
    if (type === "aws:s3/bucket:Bucket") state["bucket"] ??= inputs["bucket"] ?? name;
    if (type === "aws:kms/key:Key") state["keyId"] = `${name}-key-id`;
    if (type === "aws:iam/accessKey:AccessKey") state["secret"] = "plan-placeholder-secret";
  }
  if (type.startsWith("random:")) {
    state["result"] ??= `plan-${name}`;
    state["hex"] ??= "00";
  }
  if (type.startsWith("command:")) state["stdout"] ??= "";
  return state;
}

function answerInvoke(token: string, _inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "proxmoxve:index/getVmsLegacy:getVmsLegacy":
      // Tag selections are resolved by PVE at preview; offline there is no cluster to ask.
      return { vms: [] };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "000000000000", arn: "arn:aws:iam::000000000000:user/plan", userId: "plan", id: "000000000000" };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getRegion:getRegion":
      return { name: "eu-central-1", region: "eu-central-1", id: "eu-central-1" };
    default:
      throw new Error(`the offline plan has no answer for invoke ${token}; add one to plan/record.ts`);
  }
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

/**
 * Runs `program` with the given config under mocks and returns what it registered. The mock
 * monitor's `registerResource` is wrapped because the public mock API hides parent, protect and
 * retainOnDelete (pulumi/pulumi#14421), which the plan and the protection model need.
 */
export async function recordProgram(options: RecordOptions, loadProgram: () => Promise<Program>): Promise<Recording> {
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig(options.config, options.secretKeys);
  await pulumi.runtime.setMocks(
    {
      // Buckets are named by their id, as in AWS, so configurations that reference them match.
      newResource: (args) => ({
        id: args.type === "aws:s3/bucket:Bucket" ? String(args.inputs["bucket"] ?? args.name) : `${args.name}-id`,
        state: computedState(args.type, args.name, args.inputs),
      }),
      call: (args) => answerInvoke(args.token, args.inputs),
    },
    options.project,
    options.stack,
    true,
  );

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mocksModule = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } };
  const proto = mocksModule.MockMonitor.prototype;
  const original = proto["registerResource"] as (this: unknown, req: MonitorRequest, cb: Callback) => Promise<void>;
  proto["registerResource"] = function (this: unknown, req: MonitorRequest, callback: Callback) {
    return original.call(this, req, (err, response) => {
      if (!err && response) {
        const inputs: Record<string, unknown> = {};
        const secretInputs: string[] = [];
        for (const [key, raw] of Object.entries(req.getObject()?.toJavaScript() ?? {})) {
          if (key === "__provider") {
            inputs[key] = options.keepProviderText ? raw : "[serialized dynamic provider]";
            continue;
          }
          const r = redact(raw);
          inputs[key] = r.value;
          if (r.secret) secretInputs.push(key);
        }
        const parent = req.getParent();
        resources.push({
          urn: response.getUrn(),
          type: req.getType(),
          name: req.getName(),
          ...(parent ? { parent } : {}),
          custom: req.getCustom(),
          inputs,
          protect: req.getProtect() === true,
          retainOnDelete: req.getRetainondelete() === true,
          deleteBeforeReplace: req.getDeletebeforereplace(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          dependencies: req.getDependenciesList(),
          secretInputs,
        });
      }
      callback(err, response);
    });
  };

  // The SDK captures a stack trace for every resource and promise it creates (for its leak
  // report and source positions, neither of which the plan shows); deep component stacks mapped
  // through source maps were half the plan's time, so they are not captured while it runs.
  const sourceMaps = process.sourceMapsEnabled;
  const stackLimit = Error.stackTraceLimit;
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;

  // The monitor sees a resource once its inputs resolve, an order that timing decides; the plan
  // lists resources in the order the program declared them, so the same program reads the same.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeResource = require("@pulumi/pulumi/runtime/resource") as { registerResource: (...args: unknown[]) => unknown };
  const declare = runtimeResource.registerResource;
  const declared = new Map<string, number>();
  runtimeResource.registerResource = function (this: unknown, ...args: unknown[]) {
    const key = `${String(args[2])}::${String(args[3])}`;
    if (!declared.has(key)) declared.set(key, declared.size);
    return declare.apply(this, args);
  };
  const byDeclaration = (a: RecordedResource, b: RecordedResource): number =>
    (declared.get(`${a.type}::${a.name}`) ?? Infinity) - (declared.get(`${b.type}::${b.name}`) ?? Infinity);

  // A failed registration (say, a dynamic provider that cannot be serialized) leaves outputs
  // that never resolve; the first unhandled rejection ends the run with its error instead.
  let fail: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const onRejection = (reason: unknown) => fail(reason);
  process.on("unhandledRejection", onRejection);
  try {
    const run = async (): Promise<Recording> => {
      const program = await loadProgram();
      const exported = program();
      const outputs: Record<string, unknown> = {};
      for (const [key, output] of Object.entries(exported)) {
        // In a preview an output the provider computes is unknown, and apply never runs for it.
        const known = await (output as unknown as { isKnown: Promise<boolean> }).isKnown;
        if (!known) {
          outputs[key] = "[unknown until apply]";
          continue;
        }
        const value = await new Promise<unknown>((resolve) => output.apply(resolve));
        outputs[key] = (await pulumi.isSecret(output)) ? "[secret]" : redact(value).value;
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
      await settings.waitForRPCs();
      return { resources: [...resources].sort(byDeclaration), outputs };
    };
    return await Promise.race([run(), failed]);
  } finally {
    process.off("unhandledRejection", onRejection);
    proto["registerResource"] = original;
    runtimeResource.registerResource = declare;
    process.setSourceMapsEnabled(sourceMaps);
    Error.stackTraceLimit = stackLimit;
  }
}
