/**
 * One run of the restore tool, from the stack file to the exit code: connect, decide (flags or
 * wizard), say which copy will be read and why, show the plan, confirm, execute with progress,
 * then write the audit line and notify. Returns the exit code (args.ts lists them).
 */
import type { Strategy } from "../config/strategy";
import { isSha256Fingerprint } from "../components/pbs/tls";
import type { Options } from "./args";
import { appendAudit, auditPath, auditRecord, checkAuditWritable, whoAmI } from "./audit";
import { AuthError, loginWithTicket, tokenFromEnv } from "./pve/auth";
import { PveApiError, PveClient, type PveConnection } from "./pve/client";
import { listBackups, listGuests, nextFreeId } from "./pve/api";
import { badValue, Cancelled, missing, UsageError } from "./errors";
import { execute, type ExecResult } from "./execute";
import { clock, isoUtc, shortUtc } from "./format";
import { guestsOf } from "./guests";
import { notify } from "./notify";
import { describeOperation, type Operation } from "./operation";
import type { ReplicaLookup } from "./point-in-time";
import { restorePoints } from "./points";
import { Progress } from "./progress";
import type { Asker } from "./prompts";
import { decideGuest, decidePoint, decideService, decideTarget, proposeNewId } from "./questions";
import { lookupReplica, mountSteps, truenasAccess } from "./replica";
import { loadStack, storageFor } from "./stack";

export interface Io {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
  readonly out: (text: string) => void;
  readonly tty: boolean;
  /** Present when a person can answer (a terminal); prompts for secrets use it even with --yes. */
  readonly asker?: Asker;
  /** Called once the restore starts changing things, with what to record if it is abandoned. */
  readonly onRunning?: (abandon: (() => void) | undefined) => void;
}

export const EXIT = { ok: 0, nothingDone: 1, rolledBack: 2, needsAttention: 3, replicaOnly: 4 } as const;

async function connect(strategy: Strategy, options: Options, io: Io): Promise<PveClient> {
  const fingerprint = io.env.PVE_FINGERPRINT;
  if (fingerprint !== undefined && fingerprint !== "" && !isSha256Fingerprint(fingerprint)) {
    throw new UsageError(`PVE_FINGERPRINT: ${JSON.stringify(fingerprint)} is invalid; expected a SHA-256 fingerprint, 32 colon-separated hex bytes (pvenode cert info)`);
  }
  const connection: PveConnection = { url: strategy.hosts.pve.endpoint, ...(fingerprint ? { fingerprint } : {}) };
  const user = options.user;
  if (user === undefined) {
    let token;
    try {
      token = tokenFromEnv(io.env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (token) return new PveClient(connection, { kind: "token", ...token });
    if (!io.asker) throw missing("PVE_API_TOKEN", "user@realm!tokenid=secret in the environment, or --user <user@realm> at a terminal");
  }
  const asker = io.asker;
  if (!asker) throw new UsageError(`--user: ${JSON.stringify(user)} needs a terminal to ask for the password; expected PVE_API_TOKEN for runs without one`);
  const username = user ?? (await asker.input("PVE user (user@realm):", { validate: (v) => (/^[^\s@]+@[A-Za-z0-9._-]+$/.test(v) ? true : "expected user@realm, such as root@pam") }));
  try {
    return await loginWithTicket(connection, username, { password: (m) => asker.password(m), secondFactor: (m) => asker.input(`${m}:`) });
  } catch (error) {
    if (error instanceof AuthError) throw new UsageError(error.message);
    throw error;
  }
}

export async function runRestore(options: Options, io: Io): Promise<number> {
  const stack = loadStack(options.stackFile);
  const { strategy } = stack;
  const client = await connect(strategy, options, io);
  // Questions are for a person; --yes means "no questions", so a missing answer is an error.
  const asker = options.yes ? undefined : io.asker;
  const say = (line = ""): void => io.out(`${line}\n`);

  const nodes = strategy.hosts.pve.nodes.map((n) => n.name);
  if (options.node !== undefined && !nodes.includes(options.node)) throw badValue("--node", options.node, `one of ${nodes.join(", ")}`, "is not a node of this stack");
  const service = await decideService(strategy, options.service, asker);
  const storage = options.storage ?? storageFor(strategy, service);
  const listNode = options.node ?? nodes[0] ?? "localhost";
  const [cluster, everything] = await Promise.all([
    listGuests(client),
    listBackups(client, listNode, storage).catch((error: unknown) => {
      if (options.storage !== undefined && error instanceof PveApiError && /does not exist/.test(error.pveMessage)) {
        throw badValue("--storage", options.storage, "a PVE storage id that exists (pvesm status)", "is not a storage of the cluster");
      }
      throw error;
    }),
  ]);
  const counts = new Map<number, number>();
  for (const b of everything) counts.set(b.vmid, (counts.get(b.vmid) ?? 0) + 1);
  const guest = await decideGuest(service, guestsOf(service, cluster, everything), counts, options.guest, asker);
  const points = restorePoints(storage, await listBackups(client, guest.node ?? listNode, storage, guest.vmid), guest.vmid);

  const datastore = strategy.datastores.find((d) => d.name === service.datastore);
  const replica = async (): Promise<ReplicaLookup> => {
    const dataset = datastore?.replicaDataset ?? "(no replica)";
    if (options.storage !== undefined) return { ok: false, dataset, why: `--storage ${options.storage} was given, so only that storage is read` };
    const access = truenasAccess(strategy, io.env);
    if (!access.ok) return { ok: false, dataset, why: access.why };
    return lookupReplica(access.access, dataset);
  };
  const { choice, requested } = await decidePoint(service, points, options.at, asker, replica, io.now);

  if (choice.copy !== "none") say();
  for (const note of choice.notes) say(`note: ${note}`);
  if (choice.copy === "none") {
    const oldest = points[points.length - 1];
    throw new UsageError(
      `--at: ${JSON.stringify(options.atText ?? requested)} has no restore point: ${choice.why}; expected ${oldest ? `a time at or after ${isoUtc(oldest.time)}, the oldest backup` : "a guest with backups"}`,
    );
  }
  if (choice.copy === "replica") {
    say(`Reading from: the TrueNAS replica, not PBS. Why: ${choice.why}.`);
    say();
    for (const line of mountSteps(strategy, stack.name, service, guest.vmid, storage, choice)) say(line);
    return EXIT.replicaOnly;
  }
  say(`Reading from: PBS, ${choice.point.volid}. Why: ${choice.why}.`);

  const target = await decideTarget(strategy, guest, cluster, options, asker, async () => proposeNewId(await nextFreeId(client), strategy, cluster));
  if (options.node !== undefined && target.mode === "in-place" && guest.node !== undefined && guest.node !== options.node) {
    throw new UsageError(`--node: ${JSON.stringify(options.node)} is not where guest ${guest.vmid} runs; expected ${guest.node} (in place restores on the guest's node)`);
  }
  const node = options.node ?? guest.node ?? listNode;
  const op: Operation = {
    stack: stack.name,
    service,
    guest: { vmid: guest.vmid, type: guest.type, node: guest.node ?? node, ...(guest.name ? { name: guest.name } : {}), exists: guest.node !== undefined, running: guest.status === "running" },
    point: choice.point,
    safetyStorage: storageFor(strategy, service),
    why: choice.why,
    requested,
    target: { mode: target.mode, vmid: target.vmid, node },
    // The flag overrides the service's own check command from the stack config.
    ...((options.check ?? service.checkCommand) ? { check: (options.check ?? service.checkCommand) as string } : {}),
    validateTimeoutMs: options.validateTimeoutMs,
  };
  say();
  for (const line of describeOperation(op, io.now())) say(line);
  say();
  if (options.dryRun) {
    say("Dry run: nothing was changed.");
    return EXIT.ok;
  }
  if (!options.yes) {
    if (!asker) throw missing("--yes", "--yes to restore without a prompt (or --dry-run to only see the plan)");
    const inPlace = op.target.mode === "in-place" && op.guest.exists;
    const ok = await asker.confirm(inPlace ? `Replace ${op.guest.vmid} with this backup (its current state is backed up first)?` : `Restore into ${op.target.vmid}?`, !inPlace);
    if (!ok) throw new Cancelled();
  }

  const logPath = auditPath(options.auditLog, io.env, io.cwd);
  try {
    checkAuditWritable(logPath);
  } catch (error) {
    throw new UsageError(`--audit-log: ${JSON.stringify(logPath)} cannot be written (${(error as Error).message}); expected a writable file, since every restore is recorded`);
  }
  const started = io.now();
  const progress = new Progress({ write: io.out, tty: io.tty, rtoMinutes: service.tier.rtoMinutes, rtoText: service.tier.rto });
  const who = { ...whoAmI(io.env), pve: client.authId };
  io.onRunning?.(() => {
    const abandoned = { outcome: "abandoned" as const, error: "abandoned with Ctrl-C while running; check the guest", steps: [], notes: [] };
    appendAudit(logPath, auditRecord(op, abandoned, started, progress.elapsedMs(), who));
  });
  let result: ExecResult;
  try {
    result = await execute(op, { client, reporter: progress, pollMs: pollInterval(io.env), taskTimeoutMs: 24 * 3_600_000 });
  } finally {
    io.onRunning?.(undefined);
  }
  const record = auditRecord(op, result, started, progress.elapsedMs(), who);
  try {
    appendAudit(logPath, record);
  } catch (error) {
    say(`WARNING: the audit line could not be written to ${logPath}: ${(error as Error).message}`);
    say(JSON.stringify(record));
  }

  say();
  const verdict: Record<typeof result.outcome, string> = {
    restored: `Restored ${shortUtc(op.point.time)} into ${op.target.vmid}.`,
    "rolled-back": `The restore failed; ${op.guest.vmid} is back as it was (from the safety copy ${result.safetyCopy ?? "?"}).`,
    removed: `The restore failed; ${op.target.vmid} was removed, nothing is left behind.`,
    "not-started": `The restore did not start; ${op.guest.vmid} is as it was.`,
    "rollback-failed": `The restore failed AND putting things back failed: ${op.target.vmid} needs a person now.`,
  };
  say(verdict[result.outcome]);
  if (result.error) say(`Cause: ${result.error}`);
  say(`Took ${clock(progress.elapsedMs())} of the ${service.tier.name} tier's RTO ${service.tier.rto}${record.rto.met ? "." : " (RTO MISSED)."}`);
  say(`Audit: ${logPath}`);
  for (const d of await notify(strategy, record, logPath, io.env)) say(`Notify ${d.target} (${d.type}): ${d.sent ? "sent" : "not sent"}, ${d.detail}`);
  return result.outcome === "restored" ? EXIT.ok : result.outcome === "rollback-failed" ? EXIT.needsAttention : EXIT.rolledBack;
}

/** `RESTORE_POLL_MS`: how often tasks and the guest agent are polled. @default 2000 */
function pollInterval(env: NodeJS.ProcessEnv): number {
  const n = Number(env.RESTORE_POLL_MS);
  return Number.isInteger(n) && n > 0 ? n : 2000;
}
