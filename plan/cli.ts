/**
 * `npm run plan -- --stack homelab [--stack-file PATH] [--format text|markdown|json] [--out FILE] [--against REF|FILE]`
 *
 * Runs the real program under the SDK's mock runtime with a stack's config file: no Pulumi CLI,
 * no credentials, no network. Exit codes: 0 planned, 1 invalid config or usage, 2 a mandatory
 * policy is violated (the plan is still printed). `--against` adds the protection review of the
 * change and leaves these codes as they are: 2 still means the new version violates a mandatory
 * policy; a weakening is the reviewer's decision, never an exit code.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { PolicyConfig } from "../policies/config";
import { blocking } from "../policies/run";
import { AgainstInputError, objectivesOf, startBase } from "./against";
import { diffProtection, type ProtectionDiff } from "./diff";
import { buildDocument, type PlanDocument } from "./document";
import { recordProgram } from "./record";
import { renderJson } from "./render/json";
import { renderMarkdown } from "./render/markdown";
import { renderReviewMarkdown, renderReviewText, type AgainstInfo } from "./render/review";
import { renderText } from "./render/text";
import { withPlaceholderSecrets } from "./placeholders";
import { PROJECT } from "../config/validate";
import { readStackFile, StackFileError, type StackFile } from "./stack-file";
import { PlanInputError, reportFailure, validateStackFile, writeStdout } from "./failure";

// Re-exported: the CLIs built on the plan (runbook) import them from here.
export { PlanInputError, reportFailure, validateStackFile, writeStdout };

export type Format = "text" | "markdown" | "json";

export interface PlanOptions {
  stackFile: string;
  format: Format;
  out?: string;
  /** A git ref or a stack file to compare with: adds the protection review. */
  against?: string;
}


const USAGE = "usage: npm run plan -- --stack <name> | --stack-file <path> [--format text|markdown|json] [--out <file>] [--against <git-ref|stack-file>]";

export function parseArgs(argv: string[], cwd: string = process.cwd()): PlanOptions {
  let stack: string | undefined;
  let stackFile: string | undefined;
  let format: string = "text";
  let out: string | undefined;
  let against: string | undefined;
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? (arg.split(/=(.*)/s, 2) as [string, string]) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--stack": stack = value(); break;
      case "--stack-file": stackFile = value(); break;
      case "--format": format = value() ?? ""; break;
      case "--out": out = value(); break;
      case "--against": against = value() ?? ""; break;
      case "--help": case "-h": throw new PlanInputError([USAGE]);
      default: problems.push(`${arg}: unknown argument; ${USAGE}`);
    }
  }
  if (!["text", "markdown", "json"].includes(format)) problems.push(`--format: "${format}" is not a format; expected text, markdown or json`);
  if (!stack && !stackFile) problems.push(`--stack: is missing; ${USAGE}`);
  if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) problems.push(`--stack: "${stack}" is not a stack name; expected letters, digits, ., - or _`);
  if (against !== undefined && !against.trim()) problems.push(`--against: is empty; expected a git ref (origin/main) or a stack file`);
  if (problems.length) throw new PlanInputError(problems);
  return { stackFile: resolve(cwd, stackFile ?? `Pulumi.${stack}.yaml`), format: format as Format, ...(out ? { out } : {}), ...(against ? { against } : {}) };
}


export async function plan(options: PlanOptions, cwd: string = process.cwd()): Promise<{ document: PlanDocument; rendered: string; diff?: ProtectionDiff }> {
  // The base plans in a child process while this one plans the change.
  let base: ReturnType<typeof startBase> | undefined;
  try {
    base = options.against ? startBase(options.against, options.stackFile, cwd, (path) => validateStackFile(readStackFile(path))) : undefined;
    const after = await planOne(options);
    if (!base) return { ...after, rendered: renderPlan(options.format, after.document) };
    const before = await base.document;
    const diff = diffProtection(before, after.document, { objectives: { before: base.objectives, after: after.objectives } });
    return { document: after.document, diff, rendered: renderPlan(options.format, after.document, { diff, info: base.info }) };
  } catch (e) {
    base?.cancel();
    if (e instanceof AgainstInputError) throw new PlanInputError(e.lines);
    throw e;
  }
}

/** The plan in a format, with the review of a change on top when there is one. */
export function renderPlan(format: Format, document: PlanDocument, review?: { diff: ProtectionDiff; info: AgainstInfo }): string {
  if (!review) return format === "json" ? renderJson(document) : format === "markdown" ? renderMarkdown(document) : renderText(document);
  const ctx = { against: review.info, afterBlocking: blocking(document.violations).length };
  if (format === "json") {
    // The plan's keys stay as they are; the review is one more key.
    return JSON.stringify({ ...JSON.parse(renderJson(document)), diff: { against: review.info, ...review.diff } }, null, 2) + "\n";
  }
  if (format === "markdown") return `${renderReviewMarkdown(review.diff, ctx)}\n---\n\n${renderMarkdown(document)}`;
  return `${renderReviewText(review.diff, ctx)}\n${renderText(document)}`;
}

async function planOne(options: PlanOptions): Promise<{ document: PlanDocument; objectives: ReturnType<typeof objectivesOf> }> {
  let file: StackFile;
  try {
    file = readStackFile(options.stackFile);
  } catch (e) {
    if (e instanceof StackFileError) throw new PlanInputError([e.message]);
    throw e;
  }
  const strategy = validateStackFile(file);
  const notes: string[] = [];
  const { config, secretKeys, unset } = withPlaceholderSecrets(strategy, file.config, file.secretKeys);
  if (unset.length) {
    notes.push(`secrets not set in ${file.path.split("/").pop()}: ${unset.join(", ")} (the plan uses placeholders; set them with pulumi config set --secret before pulumi up)`);
  }
  for (const service of strategy.services) {
    if (service.guests.tags?.length) {
      notes.push(`${service.name}: guests with tags ${service.guests.tags.join(", ")} are resolved by PVE at preview; the offline plan cannot list them`);
    }
  }
  const recording = await recordProgram(
    { project: PROJECT, stack: file.stack, config, secretKeys },
    async () => (await import("../stacks/program")).runProgram,
  );
  const policyConfig = readPolicyConfig(file);
  const document = buildDocument({
    stack: file.stack,
    stackFile: file.path.split("/").pop() as string,
    resources: recording.resources,
    outputs: recording.outputs,
    notes,
    ...(policyConfig ? { policyConfig } : {}),
  });
  return { document, objectives: objectivesOf(strategy) };
}

/**
 * The stack's policy settings: `policies/config.<stack>.json`, the file a CLI user passes with
 * `--policy-pack-config`, in the `{ "<policy>": { "settings": {...} } }` shape; every policy
 * shares the same settings, so the first one found is used.
 */
export function readPolicyConfig(file: StackFile): Partial<PolicyConfig> | undefined {
  const path = join(dirname(file.path), "policies", `config.${file.stack}.json`);
  if (!existsSync(path)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new PlanInputError([`${path}: is not valid JSON (${(e as Error).message})`]);
  }
  const entries = Object.values((doc ?? {}) as Record<string, { settings?: Partial<PolicyConfig> }>);
  return entries.find((e) => e?.settings)?.settings;
}


async function main(): Promise<number> {
  try {
    const options = parseArgs(process.argv.slice(2));
    const { rendered, document } = await plan(options);
    if (options.out) writeFileSync(options.out, rendered);
    // A pipe takes 64 KB at once; exiting before it drains would cut the JSON short.
    else await writeStdout(rendered);
    return blocking(document.violations).length > 0 ? 2 : 0;
  } catch (e) {
    return reportFailure(e, "plan");
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
