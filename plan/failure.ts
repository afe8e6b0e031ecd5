/**
 * How the project's command-line tools (plan, runbook, report, restore) fail: bad input is one
 * line per problem with its config key or flag, exit code 1 and no stack trace; anything else is
 * exit code 3. Kept free of the Pulumi SDK so tools that never run the program start fast.
 */
import { checkSecretKeys, formatProblem, parseStrategy, PROJECT } from "../config/validate";
import type { StackFile } from "./stack-file";

/** A problem the user must fix: printed as lines, exit code 1, nothing else happens. */
export class PlanInputError extends Error {
  constructor(public readonly lines: string[]) {
    super(lines.join("\n"));
  }
}

/** Validates the stack file: every problem as one line, none of them a stack trace. */
export function validateStackFile(file: StackFile) {
  const result = parseStrategy(file.raw);
  const secretSet = new Set(file.secretKeys);
  const problems = checkSecretKeys(file.raw, (key) => secretSet.has(`${PROJECT}:${key}`), []);
  if (!result.ok || problems.length) {
    const all = [...(result.ok ? [] : result.problems), ...problems];
    throw new PlanInputError(all.map(formatProblem));
  }
  return result.strategy;
}

/** Resolves once the text is handed to the OS, so a `process.exit` after it loses nothing. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

/**
 * Prints a failure for the user and returns the exit code: 1 for bad input (one line per
 * problem, no stack trace), 3 for anything else.
 */
export function reportFailure(e: unknown, command: string): number {
  if (e instanceof PlanInputError) {
    process.stderr.write(e.lines.join("\n") + "\n");
    return 1;
  }
  // A ConfigError raised inside the program (same validation, reached another way).
  if (e instanceof Error && e.name === "RunError") {
    process.stderr.write(e.message + "\n");
    return 1;
  }
  process.stderr.write(`${command} failed: ${e instanceof Error ? e.message : String(e)}\n`);
  return 3;
}
