/**
 * Dynamic providers, serialized once per source version instead of once per program run.
 *
 * `pulumi.dynamic.Resource` serializes its provider's closure (every function and local module it
 * reaches) on every run: seconds of TypeScript parsing and inspector round trips for the same
 * text each time, most of the plan's time and of every `pulumi preview`. The serialized text
 * depends only on the provider's source, the SDK and Node, so it is kept on disk under a key made
 * of exactly those, and a resource carries it as `__provider` the way `dynamic.Resource` does.
 * The engine sees the same resource: type `pulumi-nodejs:dynamic/<module>:<Type>`, served by the
 * dynamic provider host.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";

const ROOT = resolve(__dirname, "..", "..");
/** The sources a provider closure can reach: the components and the config they import. */
const SOURCE_DIRS = ["components", "config"];
/** Where the serialized texts live; `HOMELAB_BACKUP_PROVIDER_CACHE=off` disables it. */
export const CACHE_DIR = join(ROOT, "node_modules", ".cache", "homelab-backup", "dynamic-providers");

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  // Entries with their types: no stat call per file.
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return entry.isFile() && /\.(ts|js)$/.test(entry.name) ? [path] : [];
    });
}

/**
 * The module hooks that compile the sources, as package names: `--import tsx` and the tsx CLI's
 * `--require …/node_modules/tsx/dist/preflight.cjs --import file:///…/node_modules/tsx/dist/loader.mjs`
 * are the same compiler, `tsx` (the lock file pins its version), so a plan and the tests share one
 * cache entry. Profiling, inspector and memory flags change no function text and are left out; a
 * hook outside node_modules counts as its path.
 */
export function loaderFlags(execArgv: readonly string[]): string[] {
  const out = new Set<string>();
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!["--import", "--require", "-r", "--loader", "--experimental-loader"].includes(name)) continue;
    const value = inline ?? (i + 1 < execArgv.length ? (execArgv[++i] as string) : "");
    out.add(loaderIdentity(value));
  }
  return [...out].sort();
}

function loaderIdentity(specifier: string): string {
  const path = specifier.replace(/^file:\/\//, "");
  const inModules = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inModules) return inModules[1] as string;
  if (path.startsWith(".") || path.startsWith("/")) return path;
  // A bare specifier: its package.
  const parts = path.split("/");
  return (path.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

let sourceDigest: string | undefined;

/** One hash of everything the serialized text depends on besides the provider's id. */
export function sourceVersion(): string {
  if (sourceDigest === undefined) {
    const hash = createHash("sha256");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    hash.update(`node ${process.version}\nsdk ${(require("@pulumi/pulumi/package.json") as { version: string }).version}\nroot ${ROOT}\n`);
    // The loader compiles the sources (tsx, ts-node): its hooks shape the function text.
    hash.update(`loaders ${Object.keys(require.extensions).join(",")} ${loaderFlags(process.execArgv).join(" ")}\n`);
    const lock = join(ROOT, "package-lock.json");
    if (existsSync(lock)) hash.update(readFileSync(lock));
    for (const file of SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)))) {
      hash.update(`\n${relative(ROOT, file)}\n`);
      hash.update(readFileSync(file));
    }
    sourceDigest = hash.digest("hex").slice(0, 32);
  }
  return sourceDigest;
}

/** A provider with a stable id; its serialization is computed at most once per source version. */
export class SerializedProvider {
  private text?: Promise<string>;

  constructor(
    /** Names the provider in the cache, e.g. "pbs". */
    readonly id: string,
    readonly provider: pulumi.dynamic.ResourceProvider,
  ) {
    if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new Error(`provider id ${JSON.stringify(id)} is invalid; expected lowercase letters, digits and -`);
  }

  serialized(): Promise<string> {
    this.text ??= this.load();
    return this.text;
  }

  private async load(): Promise<string> {
    const useCache = process.env["HOMELAB_BACKUP_PROVIDER_CACHE"] !== "off";
    const file = join(CACHE_DIR, `${this.id}-${sourceVersion()}.js`);
    if (useCache) {
      try {
        return readFileSync(file, "utf8");
      } catch {
        // Not cached yet, or pruned by another run just now: serialize it again.
      }
    }
    const provider = this.provider;
    // allowSecrets off: a provider closure that captured a secret must fail, not be cached.
    const text = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false })).text;
    if (useCache) {
      try {
        mkdirSync(CACHE_DIR, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, text);
        renameSync(tmp, file);
        pruneOldVersions(this.id);
      } catch {
        // A read-only checkout still plans; it only pays the serialization again next time.
      }
    }
    return text;
  }
}

/** How many versions of one provider's text stay: a plan, the tests and `pulumi preview` may each key their own. */
const KEPT_VERSIONS = 4;

/**
 * Drops the oldest texts of one provider: every edit makes a new version, and a checkout only
 * reads its recent ones. Several are kept, so environments whose loaders differ (the Pulumi CLI's
 * ts-node, this project's tsx) do not delete each other's on every run.
 */
function pruneOldVersions(id: string): void {
  const pattern = new RegExp(`^${id}-[0-9a-f]{32}\\.js$`);
  const versions = readdirSync(CACHE_DIR)
    .filter((entry) => pattern.test(entry))
    .flatMap((entry) => {
      try {
        return [{ path: join(CACHE_DIR, entry), written: statSync(join(CACHE_DIR, entry)).mtimeMs }];
      } catch {
        return []; // removed meanwhile by another run
      }
    })
    .sort((a, b) => b.written - a.written);
  for (const old of versions.slice(KEPT_VERSIONS)) rmSync(old.path, { force: true });
}

/**
 * A custom resource served by a dynamic provider, registered as `dynamic.Resource` registers
 * one; the difference is only where the `__provider` text comes from.
 */
export abstract class DynamicResource extends pulumi.CustomResource {
  constructor(provider: SerializedProvider, name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions | undefined, module: string, type: string) {
    if (props["__provider"] !== undefined) throw new Error("A dynamic resource must not define the __provider key");
    super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, __provider: provider.serialized() }, opts);
  }
}
