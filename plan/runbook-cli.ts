/**
 * `npm run runbook -- --stack homelab [--stack-file PATH] [--out FILE]`
 *
 * Plans the stack offline (the same run as `npm run plan`) and writes its DR runbook as Markdown.
 * Exit codes: 0 written (also when policies are violated: the runbook says so at the top), 1
 * invalid config or usage (one line per problem, nothing written), 3 the plan itself failed.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { objectivesOf } from "./against";
import { plan, PlanInputError, reportFailure, validateStackFile, writeStdout } from "./cli";
import { renderRunbook } from "./runbook";
import { readStackFile, StackFileError } from "./stack-file";

const USAGE = "usage: npm run runbook -- --stack <name> | --stack-file <path> [--out <file>]";

export interface RunbookCliOptions {
  stackFile: string;
  out?: string;
}

export function parseRunbookArgs(argv: string[], cwd: string = process.cwd()): RunbookCliOptions {
  let stack: string | undefined;
  let stackFile: string | undefined;
  let out: string | undefined;
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? (arg.split(/=(.*)/s, 2) as [string, string]) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--stack": stack = value(); break;
      case "--stack-file": stackFile = value(); break;
      case "--out": out = value(); break;
      case "--help": case "-h": throw new PlanInputError([USAGE]);
      default: problems.push(`${arg}: unknown argument; ${USAGE}`);
    }
  }
  if (!stack && !stackFile) problems.push(`--stack: is missing; ${USAGE}`);
  if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) problems.push(`--stack: "${stack}" is not a stack name; expected letters, digits, ., - or _`);
  if (out !== undefined && !out.trim()) problems.push(`--out: is empty; expected a file path`);
  if (problems.length) throw new PlanInputError(problems);
  return { stackFile: resolve(cwd, stackFile ?? `Pulumi.${stack}.yaml`), ...(out ? { out } : {}) };
}

export async function runbook(options: RunbookCliOptions): Promise<string> {
  let strategy;
  try {
    strategy = validateStackFile(readStackFile(options.stackFile));
  } catch (e) {
    if (e instanceof StackFileError) throw new PlanInputError([e.message]);
    throw e;
  }
  const { document } = await plan({ stackFile: options.stackFile, format: "json" });
  return renderRunbook(document, { objectives: objectivesOf(strategy) });
}

async function main(): Promise<number> {
  try {
    const options = parseRunbookArgs(process.argv.slice(2));
    const text = await runbook(options);
    if (options.out) writeFileSync(options.out, text);
    // A pipe takes 64 KB at once; exiting before it drains would cut the JSON short.
    else await writeStdout(text);
    return 0;
  } catch (e) {
    return reportFailure(e, "runbook");
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
