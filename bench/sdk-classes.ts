/**
 * The provider SDK's own class for a resource type token, as a user writing the stack by hand
 * would construct it (`new proxmoxve.backup.Job(...)`, `new aws.s3.Bucket(...)`): the bench's
 * baseline registers through these, because their constructors (every output property declared,
 * default options, version) are part of the SDK floor, not of this library.
 */
import * as pulumi from "@pulumi/pulumi";

export type ResourceClass = new (name: string, args: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const PACKAGES: Record<string, string> = {
  proxmoxve: "@muhlba91/pulumi-proxmoxve",
  aws: "@pulumi/aws",
  random: "@pulumi/random",
  command: "@pulumi/command",
};

/**
 * `proxmoxve:network/linux/vlan:Vlan` is exported as `network.linux.Vlan`, `command:remote:Command`
 * as `remote.Command`, `random:index/randomPassword:RandomPassword` as `RandomPassword`, and a
 * provider `pulumi:providers:aws` as `Provider`. Returns undefined for types no SDK package
 * defines (dynamic resources), which the baseline registers as plain custom resources.
 */
export function sdkClassFor(type: string, load: (pkg: string) => unknown = require): ResourceClass | undefined {
  const parts = type.split(":");
  let pkg: string | undefined;
  let path: string[];
  if (parts[0] === "pulumi" && parts[1] === "providers") {
    pkg = parts[2];
    path = ["Provider"];
  } else {
    pkg = parts[0];
    const modules = (parts[1] ?? "").split("/");
    if (modules.length > 1) modules.pop();
    path = [...modules.filter((m) => m !== "index"), parts[2] ?? ""];
  }
  const moduleName = pkg === undefined ? undefined : PACKAGES[pkg];
  if (moduleName === undefined) return undefined;
  let value: unknown = load(moduleName);
  for (const key of path) value = value === undefined || value === null ? undefined : (value as Record<string, unknown>)[key];
  if (typeof value !== "function") return undefined;
  const declared = (value as { __pulumiType?: unknown }).__pulumiType;
  const token = parts[0] === "pulumi" ? parts[2] : type;
  return declared === token ? (value as ResourceClass) : undefined;
}
