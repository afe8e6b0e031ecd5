/**
 * The restore-test log: JSON lines, one per test, appended by the restore tests. A bad line is
 * reported with its line number and skipped, never a crash: one torn write must not hide a
 * month of results. Unknown keys are allowed so the writer can add fields before the reader.
 *
 * The writer logs a failure even when it never got as far as a service or a guest, with those
 * fields null; such a line is a result (a failed test), not a malformed one.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { show } from "../config/validate";

const isoTime = z.string().refine((v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)), {
  error: "expected an ISO 8601 time such as 2026-11-28T08:00:00Z",
});
const seconds = z.number({ error: "expected a number of seconds" }).nonnegative({ error: "expected a number of seconds" });
const result = z.enum(["pass", "fail"], { error: "expected pass or fail" });
const text = z.string({ error: "expected a string" }).min(1, { error: "expected a non-empty string" });

const common = {
  ts: isoTime,
  site: text,
  service: text.nullable(),
  result,
  reason: z.string().optional(),
  rtoSeconds: seconds,
  restoreSeconds: seconds.nullable(),
  totalSeconds: seconds.nullable(),
};

const vmTest = z.looseObject({
  ...common,
  kind: z.enum(["weekly", "monthly"]),
  tier: text.nullable(),
  guest: z.union([z.number().int(), text], { error: "expected a guest id" }).nullable(),
  guestType: text.nullable(),
  volid: text.nullable(),
  backupTime: z.union([text, z.number()], { error: "expected the backup's time" }).nullable(),
  scratchVmid: z.number({ error: "expected a VM id" }).int({ error: "expected a VM id" }).nullable(),
  bootSeconds: seconds.nullable(),
});

const databaseTest = z.looseObject({
  ...common,
  kind: z.literal("database"),
  agent: text,
  engine: text.nullable(),
  database: text.nullable(),
  archive: text.nullable(),
});

const line = z
  .discriminatedUnion("kind", [vmTest, databaseTest], { error: "expected weekly, monthly or database" })
  // A pass without its duration cannot be held against the RTO, so it is not a usable result.
  .refine((t) => t.result === "fail" || t.totalSeconds !== null, { error: "expected totalSeconds for a passed test", path: ["totalSeconds"] });

export type VmRestoreTest = z.infer<typeof vmTest>;
export type DatabaseRestoreTest = z.infer<typeof databaseTest>;
export type RestoreTest = (VmRestoreTest | DatabaseRestoreTest) & { line: number; at: number };

export interface RestoreLog {
  path: string;
  /** False when the file does not exist: "no restore tests recorded". */
  found: boolean;
  tests: RestoreTest[];
  /** `<path>:<line>: <key>: <value>: expected ...`, one per bad line. */
  problems: string[];
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

export function parseRestoreLog(text: string, path: string): Pick<RestoreLog, "tests" | "problems"> {
  const tests: RestoreTest[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const at = `${path}:${i + 1}`;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      problems.push(`${at}: ${show(raw)}: is not JSON (${(e as Error).message}); expected one JSON object per line`);
      return;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      problems.push(`${at}: ${show(value)}: expected a JSON object`);
      return;
    }
    const parsed = line.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as z.core.$ZodIssue;
      // The discriminator's own issue has an empty path: it is about `kind`.
      const path = issue.path.length ? issue.path : ["kind"];
      const received = path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
      const message = issue.message.replace(/^Invalid input: /, "");
      problems.push(`${at}: ${pathOf(path)}: ${show(received)}: ${/^expected/.test(message) ? message : `expected ${message}`}`);
      return;
    }
    tests.push({ ...parsed.data, line: i + 1, at: Math.floor(Date.parse(parsed.data.ts) / 1000) });
  });
  return { tests, problems };
}

export function readRestoreLog(path: string): RestoreLog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { path, found: false, tests: [], problems: [] };
    return { path, found: false, tests: [], problems: [`${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected a readable JSON-lines file`] };
  }
  return { path, found: true, ...parseRestoreLog(text, path) };
}
