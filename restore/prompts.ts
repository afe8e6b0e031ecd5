/**
 * The questions the wizard asks, behind a small interface so the flow does not care whether a
 * person answers (inquirer on a terminal) or flags already did.
 */
import { Cancelled } from "./errors";

export interface Choice<T> {
  readonly name: string;
  readonly value: T;
  readonly description?: string;
  /** Shown but not selectable, with the reason. */
  readonly disabled?: string;
}

export interface Asker {
  select<T>(message: string, choices: readonly Choice<T>[], defaultValue?: T): Promise<T>;
  input(message: string, options?: { default?: string; validate?: (value: string) => true | string }): Promise<string>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  /** Hidden input; the answer is never echoed or kept by the asker. */
  password(message: string): Promise<string>;
}

/** Ctrl-C at a prompt is a cancel, not a crash. */
async function guarded<T>(prompt: Promise<T>): Promise<T> {
  try {
    return await prompt;
  } catch (error) {
    if (error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError")) throw new Cancelled();
    throw error;
  }
}

export async function terminalAsker(): Promise<Asker> {
  const inquirer = await import("@inquirer/prompts");
  return {
    select: <T>(message: string, choices: readonly Choice<T>[], defaultValue?: T) =>
      guarded(
        inquirer.select<T>({
          message,
          choices: choices.map((c) => ({ name: c.name, value: c.value, ...(c.description ? { description: c.description } : {}), ...(c.disabled ? { disabled: c.disabled } : {}) })),
          ...(defaultValue !== undefined ? { default: defaultValue } : {}),
          pageSize: 12,
          loop: false,
        }),
      ),
    input: (message, options = {}) =>
      guarded(inquirer.input({ message, ...(options.default !== undefined ? { default: options.default } : {}), ...(options.validate ? { validate: options.validate } : {}) })),
    confirm: (message, defaultValue) => guarded(inquirer.confirm({ message, default: defaultValue })),
    password: (message) => guarded(inquirer.password({ message, mask: false })),
  };
}
