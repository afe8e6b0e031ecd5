/**
 * TrueNAS's error shapes turned into errors that quote TrueNAS's own field and message, and
 * never a secret.
 *
 * A JSON-RPC error from the middleware carries `data = {error, errname, reason, trace, extra}`.
 * Validation failures use code -32602 with `extra` as `[attribute, message, errno]` triples
 * (`["periodic_snapshot_create.dataset", "Dataset not found", 22]`); other failures use -32001
 * with `reason`. A failed job carries the same triples in `exc_info.extra`.
 *
 * Every error class sets `this.message` itself: Pulumi's closure serializer rebuilds a class that
 * extends Error without Error's constructor, and the engine reports only `error.message`.
 */

/** One `[attribute, message, errno]` triple from a ValidationErrors. */
export interface ValidationIssue {
  /** TrueNAS's attribute path, e.g. `replication_create.naming_schema`; empty when TrueNAS gave none. */
  readonly attribute: string;
  readonly message: string;
  readonly errno: number | undefined;
}

/** The `data` member of a middleware JSON-RPC error. */
export interface TruenasErrorData {
  readonly error?: number | null;
  readonly errname?: string | null;
  readonly reason?: string | null;
  readonly extra?: unknown;
}

const ENOENT = 2;

/** TrueNAS answered a call with an error. */
export class TruenasApiError extends Error {
  constructor(
    message: string,
    readonly method: string,
    /** JSON-RPC error code: -32602 validation, -32001 call error, -32601 unknown method. */
    readonly rpcCode: number,
    readonly errname: string | undefined,
    /** Validation triples, secrets redacted. */
    readonly issues: readonly ValidationIssue[],
  ) {
    super(message);
    this.message = message;
    this.name = "TruenasApiError";
  }
}

/** A TrueNAS job ended FAILED or ABORTED, or did not end in time. */
export class TruenasJobError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly jobId: number,
    readonly state: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(message);
    this.message = message;
    this.name = "TruenasJobError";
  }
}

/** The connection failed, dropped, or a call timed out. */
export class TruenasConnectionError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.message = message;
    this.name = "TruenasConnectionError";
  }
}

/** The API key was refused (`auth.login_ex` did not answer SUCCESS). */
export class TruenasAuthError extends Error {
  constructor(
    message: string,
    readonly responseType: string,
  ) {
    super(message);
    this.message = message;
    this.name = "TruenasAuthError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads `extra` as validation triples; anything else gives none. */
export function parseIssues(extra: unknown): ValidationIssue[] {
  if (!Array.isArray(extra)) return [];
  const issues: ValidationIssue[] = [];
  for (const item of extra) {
    if (!Array.isArray(item) || item.length < 2) continue;
    const [attribute, message, errno] = item as unknown[];
    issues.push({
      attribute: typeof attribute === "string" ? attribute : "",
      message: String(message),
      errno: typeof errno === "number" ? errno : undefined,
    });
  }
  return issues;
}

/**
 * Replaces every secret with `***`: the whole value, and each line of a multi-line one (a private
 * key quoted line by line is still a leak).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length >= 4) needles.add(secret);
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 16) needles.add(line.trim());
  }
  let out = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) out = out.split(needle).join("***");
  return out;
}

function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => (i.attribute ? `${i.attribute}: ${i.message}` : i.message)).join("; ");
}

/** `[EINVAL] x: y\n` → `x: y`. */
function cleanReason(reason: string): string {
  return reason.replace(/^\[[A-Z]+\]\s*/, "").trim();
}

/** The error for a JSON-RPC error object answering `method`. */
export function apiErrorFrom(method: string, error: unknown, secrets: readonly string[]): TruenasApiError {
  const e = isRecord(error) ? error : {};
  const code = typeof e.code === "number" ? e.code : 0;
  const data: TruenasErrorData = isRecord(e.data) ? (e.data as TruenasErrorData) : {};
  const issues = parseIssues(data.extra).map((i) => ({
    attribute: redact(i.attribute, secrets),
    message: redact(i.message, secrets),
    errno: i.errno,
  }));
  const errname = typeof data.errname === "string" ? data.errname : undefined;
  let detail: string;
  if (issues.length > 0) detail = formatIssues(issues);
  else if (typeof data.reason === "string" && data.reason.trim() !== "") detail = cleanReason(redact(data.reason, secrets));
  else detail = redact(typeof e.message === "string" ? e.message : "unknown error", secrets);
  const hint =
    code === -32601
      ? " (this TrueNAS does not have that method; 25.04 or newer is required)"
      : errname === "EACCES"
        ? " (the API key's user lacks a role this call needs)"
        : "";
  return new TruenasApiError(`TrueNAS rejected ${method}: ${detail}${hint}`, method, code, errname, issues);
}

/** The error for a job that ended in `job.state` other than SUCCESS. */
export function jobErrorFrom(method: string, job: Record<string, unknown>, secrets: readonly string[]): TruenasJobError {
  const id = typeof job.id === "number" ? job.id : -1;
  const state = String(job.state);
  const excInfo = isRecord(job.exc_info) ? job.exc_info : {};
  const issues = parseIssues(excInfo.extra).map((i) => ({
    attribute: redact(i.attribute, secrets),
    message: redact(i.message, secrets),
    errno: i.errno,
  }));
  const detail =
    issues.length > 0
      ? formatIssues(issues)
      : typeof job.error === "string" && job.error !== ""
        ? cleanReason(redact(job.error, secrets))
        : state === "ABORTED"
          ? "the job was aborted"
          : "no error message";
  return new TruenasJobError(`TrueNAS job ${method} (#${id}) ${state === "ABORTED" ? "was aborted" : "failed"}: ${detail}`, method, id, state, issues);
}

/** A missing object: TrueNAS's InstanceNotFound (ENOENT, "... does not exist"). */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof TruenasApiError)) return false;
  if (error.errname === "ENOENT") return true;
  return error.issues.some((i) => i.errno === ENOENT || /does not exist/.test(i.message));
}
