/**
 * Failures the CLI prints as one line and an exit code, never a stack trace. Anything else that
 * escapes is a bug or an outage, and is printed as one line too (cli.ts).
 */

/** Bad input: a flag, a value, or what the stack file says. Nothing was done. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** `--flag: "value" is invalid; expected ...`, the one shape every input problem is reported in. */
export function badValue(flag: string, value: string, expected: string, problem = "is invalid"): UsageError {
  return new UsageError(`${flag}: ${JSON.stringify(value)} ${problem}; expected ${expected}`);
}

export function missing(flag: string, expected: string): UsageError {
  return new UsageError(`${flag}: is missing; expected ${expected}`);
}

/** The user declined, or pressed Ctrl-C at a prompt. Nothing was done. */
export class Cancelled extends Error {
  constructor() {
    super("cancelled; nothing was changed");
    this.name = "Cancelled";
  }
}
