/**
 * The "before" side of `--against`: a stack file, or the stack file as it is at a git ref,
 * planned by this checkout's code in a child process. A child because the Pulumi mock runtime is
 * a per-process singleton whose config store merges between runs: a second program in the same
 * process would see the first one's keys.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Strategy } from "../config/strategy";
import type { DataClass } from "../model";
import type { Violation } from "../policies/run";
import type { TierObjective } from "./diff";
import { emptyDocument } from "./diff";
import type { PlanDocument, PlanResource, RetentionRow, ScheduleRow } from "./document";
import type { AgainstInfo } from "./render/review";
import { StackFileError } from "./stack-file";

/** Thrown for a `--against` the user must fix; the CLI prints the lines and exits 1. */
export class AgainstInputError extends Error {
  constructor(public readonly lines: string[]) {
    super(lines.join("\n"));
  }
}

export interface PlannedBase {
  info: AgainstInfo;
  /** The base's tier objectives (empty for a stack that did not exist). */
  objectives: TierObjective[];
  document: Promise<PlanDocument>;
  /** Stops the child plan (when the "after" side failed first). */
  cancel(): void;
}

export function objectivesOf(strategy: Pick<Strategy, "tiers">): TierObjective[] {
  return strategy.tiers.map((t) => ({ tier: t.name, rpo: t.rpo, rpoMinutes: t.rpoMinutes, rto: t.rto, rtoMinutes: t.rtoMinutes }));
}

/** A PlanDocument from the plan's JSON output: the contract only adds keys, so an older plan reads too. */
export function documentFromJson(json: unknown): PlanDocument {
  if (json === null || typeof json !== "object") throw new Error("the plan's JSON is not an object");
  const d = json as Record<string, unknown>;
  const stack = typeof d["stack"] === "string" ? d["stack"] : "unknown";
  const list = <T>(key: string) => (Array.isArray(d[key]) ? (d[key] as T[]) : []);
  const resources: PlanResource[] = list<Omit<PlanResource, "urn">>("resources").map((r) => ({
    ...r,
    // The JSON has no URNs; this one is unique per type and name, which is all the review needs.
    urn: `urn:pulumi:${stack}::json::${r.type}::${r.name}`,
  }));
  const extra = Object.fromEntries(Object.entries(d).filter(([k]) => !["stack", "stackFile", "resources", "schedules", "retention", "outputs", "notes", "flows", "keys", "copies", "violations"].includes(k)));
  return {
    ...extra,
    stack,
    stackFile: typeof d["stackFile"] === "string" ? d["stackFile"] : "",
    resources,
    schedules: list<ScheduleRow>("schedules"),
    retention: list<RetentionRow>("retention"),
    outputs: d["outputs"] && typeof d["outputs"] === "object" ? (d["outputs"] as Record<string, unknown>) : {},
    notes: list<string>("notes"),
    flows: list<NonNullable<PlanDocument["flows"]>[number]>("flows"),
    keys: list<NonNullable<PlanDocument["keys"]>[number]>("keys"),
    copies: list<DataClass>("copies"),
    violations: list<Violation>("violations"),
  };
}

function git(cwd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, stdout: r.stdout ?? "", stderr: (r.stderr ?? "").trim() };
}

/**
 * Resolves `--against` to a stack file on disk: the path itself, or `git show <ref>:<path>` of
 * the stack file (and its policy config, which decides exemptions) into a temporary directory
 * under the same file name, so the stack name and its policy lookup stay the same.
 */
export function resolveAgainst(against: string, afterStackFile: string, cwd: string): { path?: string; info: AgainstInfo; cleanup(): void } {
  const asPath = resolve(cwd, against);
  if (existsSync(asPath) && statSync(asPath).isFile()) {
    return { path: asPath, info: { label: against, kind: "file", source: relative(cwd, asPath) || asPath }, cleanup: () => undefined };
  }
  const dir = dirname(afterStackFile);
  const top = git(dir, ["rev-parse", "--show-toplevel"]);
  if (!top.ok) throw new AgainstInputError([`--against: "${against}" is not a file, and ${dir} is not in a git checkout to read it as a ref; expected a stack file or a git ref`]);
  const commit = git(dir, ["rev-parse", "--verify", "--quiet", `${against}^{commit}`]);
  if (!commit.ok) throw new AgainstInputError([`--against: "${against}" is neither a file nor a git ref; expected a stack file or a git ref (a branch, tag or commit; in CI fetch it first)`]);
  const root = realpathSync(top.stdout.trim());
  const rel = relative(root, realpathSync(afterStackFile)).split(sep).join("/");
  const source = `${against}:${rel}`;
  const shown = git(root, ["show", source]);
  if (!shown.ok) {
    // A stack added by the change: compared with nothing, everything it protects is new.
    return { info: { label: against, kind: "git", source, missing: true }, cleanup: () => undefined };
  }
  const tmp = mkdtempSync(join(tmpdir(), "plan-against-"));
  const path = join(tmp, basename(afterStackFile));
  writeFileSync(path, shown.stdout);
  const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(afterStackFile))?.[1];
  if (stack) {
    const relDir = dirname(rel) === "." ? "" : `${dirname(rel)}/`;
    const policy = git(root, ["show", `${against}:${relDir}policies/config.${stack}.json`]);
    if (policy.ok) {
      mkdirSync(join(tmp, "policies"));
      writeFileSync(join(tmp, "policies", `config.${stack}.json`), policy.stdout);
    }
  }
  return { path, info: { label: against, kind: "git", source }, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** Plans a stack file in a child process (`plan/cli.ts --format json`) and reads its document. */
export function planInChild(stackFile: string): { done: Promise<PlanDocument>; cancel(): void } {
  const cli = join(__dirname, "cli.ts");
  const child = spawn(process.execPath, ["--import", pathToFileURL(require.resolve("tsx")).href, cli, "--stack-file", stackFile, "--format", "json"], {
    cwd: dirname(__dirname),
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<PlanDocument>((resolveDone, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      // 0 and 2 both print the plan; 2 only says the base already violated a mandatory policy.
      if (code === 0 || code === 2) {
        try {
          resolveDone(documentFromJson(JSON.parse(stdout)));
        } catch (e) {
          reject(new Error(`the plan of ${stackFile} printed no JSON document (${(e as Error).message})`));
        }
      } else if (code === 1) {
        reject(new AgainstInputError(stderr.trim().split("\n").filter(Boolean)));
      } else {
        reject(new Error(`planning ${stackFile} failed (exit ${code}): ${stderr.trim()}`));
      }
    });
  });
  done.catch(() => undefined);
  return { done, cancel: () => void child.kill() };
}

/**
 * Starts planning the base. The stack file is validated here first (cheap, no runtime), so a
 * base that this code cannot read fails with its problems named instead of a child's exit code.
 */
export function startBase(against: string, afterStackFile: string, cwd: string, validate: (path: string) => Strategy): PlannedBase {
  const resolved = resolveAgainst(against, afterStackFile, cwd);
  const prefix = `--against ${against}: `;
  if (!resolved.path) {
    const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(afterStackFile))?.[1] ?? basename(afterStackFile);
    return { info: resolved.info, objectives: [], document: Promise.resolve(emptyDocument(stack, basename(afterStackFile))), cancel: () => undefined };
  }
  let strategy: Strategy;
  try {
    strategy = validate(resolved.path);
  } catch (e) {
    resolved.cleanup();
    if (e instanceof StackFileError) throw new AgainstInputError([prefix + e.message]);
    const lines = (e as { lines?: unknown }).lines;
    if (Array.isArray(lines)) throw new AgainstInputError(lines.map((l) => `${prefix}${String(l)}`));
    throw e;
  }
  const child = planInChild(resolved.path);
  const done = child.done.then(
    (doc) => {
      resolved.cleanup();
      return doc;
    },
    (e: unknown) => {
      resolved.cleanup();
      if (e instanceof AgainstInputError) throw new AgainstInputError(e.lines.map((l) => prefix + l));
      throw e;
    },
  );
  done.catch(() => undefined);
  return { info: resolved.info, objectives: objectivesOf(strategy), document: done, cancel: child.cancel };
}
