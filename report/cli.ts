/**
 * `npm run report -- --stack homelab [--period weekly|monthly] [--out FILE] [--now ISO]
 *   [--restore-log FILE] [--truenas-url wss://HOST[:PORT]]`
 *
 * The strategy's weekly or monthly backup report as Markdown, read live from PBS and TrueNAS
 * and from the restore-test log. Credentials come from the environment (HOMELAB_PBS_TOKEN as
 * `user@realm!name:secret`, HOMELAB_TRUENAS_API_KEY); hosts and fingerprints from the stack file.
 *
 * The restore-test log is read from `--restore-log`, else where the restore tests write it
 * (`verification.restoreTests.log` of the stack); a missing log is "no restore tests recorded", a bad line is listed.
 *
 * Exit codes: 0 written, also when TrueNAS cannot be read (its sections say so, stderr gets one
 * warning line); 1 bad input (arguments, stack config, the PBS token, a PBS fingerprint or token
 * PBS refuses: one line per problem, nothing written); 3 anything else (PBS unreachable).
 */
import { writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { PbsApiError } from "../components/pbs/client";
import { FingerprintMismatchError } from "../components/pbs/tls";
import { formatProblem, show } from "../config/validate";
import type { Strategy } from "../config/strategy";
import { PlanInputError, reportFailure, validateStackFile } from "../plan/failure";
import { readStackFile, StackFileError } from "../plan/stack-file";
import { buildReport, type Report } from "./build";
import { PBS_TOKEN_ENV, pbsTokenFrom, truenasKeyFrom, type PbsToken } from "./credentials";
import { renderReport } from "./markdown";
import { readPbs, type PbsData } from "./pbs-source";
import { periodEnding, PERIODS, type Period, type PeriodName } from "./period";
import { readRestoreLog } from "./restore-log";
import { readTruenas, type TruenasData } from "./truenas-source";

const USAGE =
  "usage: npm run report -- --stack <name> | --stack-file <path> [--period weekly|monthly] [--out <file>] [--now <ISO time>] [--restore-log <file>] [--truenas-url <wss://host[:port]>]";

export interface ReportOptions {
  stackFile: string;
  period: PeriodName;
  now: Date;
  out?: string;
  /**
   * Where the restore tests append their results on the host that runs them; run the report
   * there, or copy the log and pass `--restore-log`.
   * @default the stack's `verification.restoreTests.log`
   */
  restoreLog?: string;
  /** For a TrueNAS API that is not on 443: the stack file holds only its host name. */
  truenasUrl?: string;
}

/** A date, or a date and time with a zone: a zoneless time would silently be this machine's. */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Date.parse rolls 2026-02-30 over into March; a date whose day does not survive was not a date. */
function isRealDate(text: string): boolean {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return false;
  const [y, m, d] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}

export function parseReportArgs(argv: string[], cwd: string = process.cwd(), clock: () => Date = () => new Date()): ReportOptions {
  let stack: string | undefined;
  let stackFile: string | undefined;
  let period = "weekly";
  let out: string | undefined;
  let now: string | undefined;
  let restoreLog: string | undefined;
  let truenasUrl: string | undefined;
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? (arg.split(/=(.*)/s, 2) as [string, string]) : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? "";
    switch (flag) {
      case "--stack": stack = value(); break;
      case "--stack-file": stackFile = value(); break;
      case "--period": period = value(); break;
      case "--out": out = value(); break;
      case "--now": now = value(); break;
      case "--restore-log": restoreLog = value(); break;
      case "--truenas-url": truenasUrl = value(); break;
      case "--help": case "-h": throw new PlanInputError([USAGE]);
      default: problems.push(`${arg}: unknown argument; ${USAGE}`);
    }
  }
  if (!(PERIODS as readonly string[]).includes(period)) problems.push(`--period: ${show(period)} is not a period; expected weekly or monthly`);
  if (!stack && !stackFile) problems.push(`--stack: is missing; ${USAGE}`);
  if (stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(stack)) problems.push(`--stack: ${show(stack)} is not a stack name; expected letters, digits, ., - or _`);
  if (out !== undefined && !out.trim()) problems.push("--out: is empty; expected a file path");
  if (restoreLog !== undefined && !restoreLog.trim()) problems.push("--restore-log: is empty; expected a file path");
  if (now !== undefined && (!ISO.test(now) || !isRealDate(now))) {
    problems.push(`--now: ${show(now)} is not a time; expected an ISO 8601 time with a zone such as 2026-11-28T08:00:00Z`);
  }
  if (truenasUrl !== undefined && !/^(wss|https):\/\/[^\s/]+(\/\S*)?$/.test(truenasUrl)) {
    problems.push(`--truenas-url: ${show(truenasUrl)} is not a TLS URL; expected wss://host[:port] (TrueNAS revokes an API key sent in clear)`);
  }
  if (problems.length) throw new PlanInputError(problems);
  return {
    stackFile: resolve(cwd, stackFile ?? `Pulumi.${stack}.yaml`),
    period: period as PeriodName,
    now: now !== undefined ? new Date(now) : clock(),
    ...(out ? { out: resolve(cwd, out) } : {}),
    ...(restoreLog ? { restoreLog: resolve(cwd, restoreLog) } : {}),
    ...(truenasUrl ? { truenasUrl } : {}),
  };
}

function loadStrategy(stackFile: string): { strategy: Strategy; stack: string } {
  try {
    const file = readStackFile(stackFile);
    return { strategy: validateStackFile(file), stack: file.stack };
  } catch (e) {
    if (e instanceof StackFileError) throw new PlanInputError([e.message]);
    throw e;
  }
}

/** PBS answers that mean the user must fix something, as one config-style line each. */
async function readPbsOrExplain(strategy: Strategy, token: PbsToken, period: Period): Promise<PbsData> {
  const pbs = strategy.hosts.pbs;
  try {
    return await readPbs(strategy, { url: `https://${pbs.host}:${pbs.port}`, fingerprint: pbs.fingerprint, tokenId: token.tokenId, tokenSecret: token.secret }, period);
  } catch (e) {
    if (e instanceof FingerprintMismatchError) {
      throw new PlanInputError([
        formatProblem({
          path: "hosts.pbs.fingerprint",
          message: `${JSON.stringify(pbs.fingerprint)} is not the certificate PBS at ${e.endpoint} presents (${e.actual ?? "none"}); expected the fingerprint \`proxmox-backup-manager cert info\` prints (nothing was sent)`,
        }),
      ]);
    }
    if (e instanceof PbsApiError && (e.status === 401 || e.status === 403)) {
      const why = e.status === 401 ? "PBS refused it" : "PBS says it lacks a privilege";
      throw new PlanInputError([`${PBS_TOKEN_ENV}: ${token.tokenId}:[secret]: ${why} (${e.pbsMessage || `HTTP ${e.status}`}); expected a token with Datastore.Audit on /datastore and Sys.Audit on /system`]);
    }
    throw e;
  }
}

export interface ReportResult {
  markdown: string;
  report: Report;
  /** One line each, for stderr. */
  warnings: string[];
}

export async function runReport(options: ReportOptions, env: NodeJS.ProcessEnv = process.env): Promise<ReportResult> {
  const { strategy, stack } = loadStrategy(options.stackFile);
  const token = pbsTokenFrom(env);
  if ("problem" in token) throw new PlanInputError([token.problem]);
  const period = periodEnding(options.period, options.now);
  // PBS first and alone: a wrong PBS config stops the run before any credential goes to TrueNAS.
  const pbsData = await readPbsOrExplain(strategy, token, period);
  const nas = strategy.hosts.truenas;
  const truenasUrl = options.truenasUrl ?? `wss://${nas.host}`;
  const key = truenasKeyFrom(env);
  const truenas: TruenasData =
    "missing" in key
      ? { available: false, reason: key.missing }
      : await readTruenas(strategy, { url: truenasUrl, username: nas.apiUser, apiKey: key.apiKey, ...(nas.fingerprint ? { fingerprint: nas.fingerprint } : {}), connectTimeoutMs: 10_000, callTimeoutMs: 30_000 });
  const restoreLog = readRestoreLog(options.restoreLog ?? strategy.verification.restoreTests.log);
  const report = buildReport(strategy, stack, period, {
    pbs: pbsData,
    truenas,
    restoreLog,
    pbsEndpoint: `${strategy.hosts.pbs.host}:${strategy.hosts.pbs.port}`,
    truenasEndpoint: truenasUrl.replace(/^\w+:\/\//, ""),
  });
  const warnings: string[] = [];
  if (!truenas.available) warnings.push(`report: warning: TrueNAS not read (${truenas.reason}); replication, pool and off-site state are marked unknown`);
  if (restoreLog.problems.length) warnings.push(`report: warning: ${restoreLog.problems.length} line(s) of ${basename(restoreLog.path)} could not be read; the report lists them`);
  return { markdown: renderReport(report), report, warnings };
}

async function main(): Promise<number> {
  try {
    const options = parseReportArgs(process.argv.slice(2));
    const { markdown, warnings } = await runReport(options);
    if (options.out) {
      try {
        writeFileSync(options.out, markdown);
      } catch (e) {
        throw new PlanInputError([`--out: ${show(options.out)} cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected a writable file path`]);
      }
    } else process.stdout.write(markdown);
    for (const w of warnings) process.stderr.write(`${w}\n`);
    return 0;
  } catch (e) {
    return reportFailure(e, "report");
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
