/**
 * Progress of a running restore: each step with its own time and the whole operation's time
 * against the tier's RTO, because "is this going to make the RTO?" is the question a person
 * watching a restore has. On a terminal the current line updates in place; in a log each step
 * gets a start and an end line, plus a line every 30 s while a long task runs.
 */
import { clock } from "./format";

export interface Reporter {
  begin(title: string): void;
  /** A poll of a long step happened. */
  tick(): void;
  end(ok: boolean, detail?: string): void;
  note(text: string): void;
}

export interface ProgressOptions {
  readonly write: (text: string) => void;
  readonly tty: boolean;
  readonly rtoMinutes: number;
  readonly rtoText: string;
  readonly now?: () => number;
}

export class Progress implements Reporter {
  readonly startedAt: number;
  private title = "";
  private stepStart = 0;
  private lastLogLine = 0;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  /** `1:04 of RTO 1h (2%)`. */
  budget(): string {
    const used = this.elapsedMs() / (this.options.rtoMinutes * 60_000);
    return `${clock(this.elapsedMs())} of RTO ${this.options.rtoText} (${Math.round(used * 100)}%${used > 1 ? ", OVER" : ""})`;
  }

  begin(title: string): void {
    this.title = title;
    this.stepStart = this.now();
    this.lastLogLine = this.stepStart;
    if (this.options.tty) this.options.write(`  … ${title}`);
    else this.options.write(`  … ${title}\n`);
  }

  tick(): void {
    const step = clock(this.now() - this.stepStart);
    if (this.options.tty) {
      this.options.write(`\r\x1b[K  … ${this.title} ${step} · ${this.budget()}`);
    } else if (this.now() - this.lastLogLine >= 30_000) {
      this.lastLogLine = this.now();
      this.options.write(`    still running: ${this.title} ${step} · ${this.budget()}\n`);
    }
  }

  end(ok: boolean, detail?: string): void {
    const line = `  ${ok ? "✓" : "✗"} ${this.title} (${clock(this.now() - this.stepStart)})${detail ? `: ${detail}` : ""}`;
    this.options.write(this.options.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  note(text: string): void {
    this.options.write(`    ${text}\n`);
  }
}
