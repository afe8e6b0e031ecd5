/**
 * `npm run restore -- --stack homelab [flags]`: the restore wizard, or the same restore from flags.
 * Every failure is one line on stderr and an exit code (args.ts lists them), never a stack trace.
 */
import { parseOptions, USAGE } from "./args";
import { Cancelled, UsageError } from "./errors";
import { EXIT, runRestore } from "./flow";
import { terminalAsker } from "./prompts";

export async function main(argv: readonly string[]): Promise<number> {
  const now = (): Date => new Date();
  const options = parseOptions(argv, process.cwd(), now());
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  let abandon: (() => void) | undefined;
  let warnedAt = 0;
  // Killing the tool mid-restore could leave a guest half-written with nobody rolling it back:
  // the first Ctrl-C only warns, a second one within 5 s leaves (and records that it did).
  process.on("SIGINT", () => {
    if (abandon === undefined) process.exit(130);
    if (Date.now() - warnedAt < 5000) {
      abandon();
      process.stderr.write("\nabandoned; the audit log records it. Check the guest now.\n");
      process.exit(130);
    }
    warnedAt = Date.now();
    process.stderr.write("\na restore is running; stopping now can leave the guest half-restored with no rollback. Press Ctrl-C again within 5 s to abandon it anyway.\n");
  });
  return runRestore(options, {
    env: process.env,
    cwd: process.cwd(),
    now,
    out: (text) => process.stdout.write(text),
    tty,
    ...(tty ? { asker: await terminalAsker() } : {}),
    onRunning: (fn) => {
      abandon = fn;
    },
  });
}

/** The one line a failure before any change prints: the message, never a stack trace. */
export function failureLine(error: unknown): string {
  if (error instanceof UsageError || error instanceof Cancelled) return error.message;
  return `restore: ${error instanceof Error ? error.message : String(error)}; nothing was changed`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${failureLine(error)}\n`);
      process.exit(EXIT.nothingDone);
    },
  );
}
