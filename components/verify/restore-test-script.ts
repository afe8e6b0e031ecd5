/**
 * The restore test a PVE node runs from systemd timers: restore a backup from the PBS storage to
 * a scratch guest id, put its NICs on an isolated bridge with the link down, boot it, wait for
 * the QEMU guest agent (or, for a container, a command inside it), and destroy it again,
 * whatever happened. Weekly it tests one random recent backup of a guest in scope; monthly,
 * every guest of the named services. Each tested guest becomes one JSON line in the log.
 *
 * Safety rests on three things, each enough alone for what it covers:
 * - every state-changing PVE command goes through one bash function that refuses an id outside
 *   the scratch range, a production id (the config's, every guest resolved in scope, and every
 *   existing guest that does not carry the mark), and the TS validation below refuses a range
 *   that overlaps the config's production ids;
 * - a guest is destroyed only when this run restored it or it carries the mark tag;
 * - ids are taken only when no guest has them, and restores never pass `--force`, so PVE itself
 *   refuses to restore over an existing guest.
 *
 * PVE command formats this relies on (pve-storage `pvesm list`, pve-manager `/cluster/resources`,
 * qemu-server and pve-container): see test/verify/fake-pve.ts, which replays them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../agents/shell";
import {
  absolutePathProblems,
  BASH_COMMON,
  DEFAULT_LOG_PATH,
  DEFAULT_NOTIFY_COMMAND,
  positiveProblems,
  RestoreTestConfigError,
  rtoMillis,
  rtoSecondsText,
  textProblems,
} from "./common";

/** PVE's vmid bounds (`pve-vmid`). */
export const PVE_VMID_MIN = 100;
export const PVE_VMID_MAX = 999_999_999;
/** The tag (and description prefix) that marks a scratch guest; only marked guests are ever cleaned up. */
export const SCRATCH_MARK = "homelab-backup-restore-test";

export type GuestKind = "vm" | "ct" | "auto";
export const GUEST_KINDS: readonly GuestKind[] = ["vm", "ct", "auto"];

/** A service whose guests the restore test may pick, as the strategy names them. */
export interface RestoreTestService {
  /** The strategy's service name; in the log. Letters, digits, `-`, `_`, `.`. */
  service: string;
  /** The service's tier (critical, important, archive); in the log. */
  tier: string;
  /** The tier's recovery time objective: a test whose restore and boot take longer fails. */
  rtoMinutes: number;
  /** Guests by id. @default [] */
  vmids?: number[];
  /** Guests by PVE pool, resolved on the node at run time. @default none */
  pool?: string;
  /** Guests carrying any of these PVE tags, resolved at run time. @default [] */
  tags?: string[];
  /** Which backups count: QEMU VMs, containers, or both ("auto"). */
  kind: GuestKind;
}

/** The inclusive range of guest ids the test may create, and destroy, scratch guests in. */
export interface ScratchRange {
  from: number;
  to: number;
}

/** Everything the PVE restore-test script does; plain data, it decides what the script contains. */
export interface RestoreTestScriptOptions {
  /** The strategy's site name; in the log and the notifications. */
  site: string;
  /** The PVE storage id of the PBS datastore the backups are read from (`pbs-backup`). */
  storage: string;
  /** Ids the scratch guests may take; must not hold a production id. */
  scratchRange: ScratchRange;
  /** A bridge with no uplink on the node: restored NICs go there, link down. */
  isolatedBridge: string;
  /** Every guest id the config knows as production; never restored over, started or destroyed. */
  productionVmids: number[];
  /** The services whose guests are in scope. */
  services: RestoreTestService[];
  /** Services whose every guest the monthly run tests. @default [] */
  monthlyServices?: string[];
  /** How long a guest may take from start to answering its agent. @default 600 */
  bootTimeoutSeconds?: number;
  /** Only backups newer than this count as recent; the monthly run fails a guest without one. @default 168 (7 days) */
  maxBackupAgeHours?: number;
  /** JSON lines, one per tested guest. @default "/var/log/homelab-backup/restore-tests.jsonl" */
  logPath?: string;
  /** Lock file and the record of the restore in progress. @default "/var/lib/homelab-backup/restore-test" */
  stateDir?: string;
  /** @default "/usr/local/sbin/homelab-backup-notify" */
  notifyCommand?: string;
  /** PVE storage the scratch guests' disks go to. @default the storages named in the backup */
  targetStorage?: string;
  /**
   * Fail a QEMU guest whose backup does not enable the guest agent (its boot cannot be proven);
   * false counts "running" as booted for those.
   * @default true
   */
  requireGuestAgent?: boolean;
  /** Seconds between boot probes and between destroy retries. @default 5 */
  pollSeconds?: number;
}

export interface ResolvedRestoreTestOptions extends Required<Omit<RestoreTestScriptOptions, "targetStorage">> {
  targetStorage?: string;
}

export const RESTORE_TEST_DEFAULTS = {
  monthlyServices: [] as string[],
  bootTimeoutSeconds: 600,
  maxBackupAgeHours: 168,
  logPath: DEFAULT_LOG_PATH,
  stateDir: "/var/lib/homelab-backup/restore-test",
  notifyCommand: DEFAULT_NOTIFY_COMMAND,
  requireGuestAgent: true,
  pollSeconds: 5,
};

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const STORAGE_ID = /^[a-z][a-z0-9_.-]*[a-z0-9]$/i;
const POOL_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i;
const BRIDGE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

function isVmid(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= PVE_VMID_MIN && n <= PVE_VMID_MAX;
}

/**
 * Problems with a scratch range against the production ids: bounds, order, and every production
 * id inside it (named). Empty when the range is safe to hand to the script.
 */
export function scratchRangeProblems(range: ScratchRange, productionVmids: readonly number[]): string[] {
  const problems: string[] = [];
  const { from, to } = range ?? ({} as ScratchRange);
  if (!isVmid(from)) problems.push(`scratchRange.from ${JSON.stringify(from)} is not a guest id from ${PVE_VMID_MIN} to ${PVE_VMID_MAX}`);
  if (!isVmid(to)) problems.push(`scratchRange.to ${JSON.stringify(to)} is not a guest id from ${PVE_VMID_MIN} to ${PVE_VMID_MAX}`);
  if (problems.length > 0) return problems;
  if (from > to) return [`scratchRange ${from}-${to} is empty: from must not be above to`];
  const inside = [...new Set(productionVmids.filter((id) => id >= from && id <= to))].sort((a, b) => a - b);
  if (inside.length > 0) {
    problems.push(`scratchRange ${from}-${to} holds production guest${inside.length > 1 ? "s" : ""} ${inside.join(", ")}; move the range to ids no guest uses`);
  }
  return problems;
}

/** Every problem with the options, one line each; empty when the script may be rendered. */
export function restoreTestProblems(options: RestoreTestScriptOptions): string[] {
  const o = options;
  const problems: string[] = [];
  textProblems("site", o.site, problems);
  if (typeof o.site === "string" && !SERVICE_NAME.test(o.site)) problems.push(`site ${JSON.stringify(o.site)} is invalid; expected letters, digits, "-", "_" or "."`);
  if (typeof o.storage !== "string" || !STORAGE_ID.test(o.storage)) problems.push(`storage ${JSON.stringify(o.storage)} is not a PVE storage id`);
  if (o.targetStorage !== undefined && !STORAGE_ID.test(o.targetStorage)) problems.push(`targetStorage ${JSON.stringify(o.targetStorage)} is not a PVE storage id`);
  if (typeof o.isolatedBridge !== "string" || !BRIDGE.test(o.isolatedBridge)) problems.push(`isolatedBridge ${JSON.stringify(o.isolatedBridge)} is not a Linux bridge name (up to 15 characters)`);

  const production = Array.isArray(o.productionVmids) ? o.productionVmids : [];
  for (const id of production) if (!isVmid(id)) problems.push(`productionVmids holds ${JSON.stringify(id)}, which is not a guest id`);
  const services = Array.isArray(o.services) ? o.services : [];
  if (services.length === 0) problems.push("services is empty; expected at least one service whose guests are tested");
  const named = services.flatMap((s) => (Array.isArray(s?.vmids) ? s.vmids : []));
  problems.push(...scratchRangeProblems(o.scratchRange, [...production, ...named.filter(isVmid)]));

  const seen = new Set<string>();
  services.forEach((s, i) => {
    const at = `services[${i}]`;
    if (typeof s?.service !== "string" || !SERVICE_NAME.test(s.service)) problems.push(`${at}.service ${JSON.stringify(s?.service)} is invalid; expected letters, digits, "-", "_" or "."`);
    else if (seen.has(s.service)) problems.push(`${at}.service ${JSON.stringify(s.service)} appears twice`);
    else seen.add(s.service);
    if (typeof s?.tier !== "string" || !SERVICE_NAME.test(s.tier)) problems.push(`${at}.tier ${JSON.stringify(s?.tier)} is invalid`);
    positiveProblems(`${at}.rtoMinutes`, s?.rtoMinutes, problems);
    if (typeof s?.rtoMinutes === "number" && s.rtoMinutes > 0 && rtoMillis(s.rtoMinutes) < 1) problems.push(`${at}.rtoMinutes ${s.rtoMinutes} is below a millisecond`);
    if (!GUEST_KINDS.includes(s?.kind)) problems.push(`${at}.kind ${JSON.stringify(s?.kind)} is not one of ${GUEST_KINDS.join(", ")}`);
    for (const id of s?.vmids ?? []) {
      if (!isVmid(id)) problems.push(`${at}.vmids holds ${JSON.stringify(id)}, which is not a guest id`);
    }
    if (s?.pool !== undefined && !POOL_ID.test(s.pool)) problems.push(`${at}.pool ${JSON.stringify(s.pool)} is not a PVE pool id`);
    for (const tag of s?.tags ?? []) {
      if (!TAG.test(tag)) problems.push(`${at}.tags holds ${JSON.stringify(tag)}, which is not a PVE tag`);
      // A scratch guest carries the mark; a service selecting it would test (and protect) scratch guests.
      if (tag.toLowerCase() === SCRATCH_MARK) problems.push(`${at}.tags holds ${SCRATCH_MARK}, the mark of scratch guests`);
    }
    if ((s?.vmids ?? []).length === 0 && s?.pool === undefined && (s?.tags ?? []).length === 0) {
      problems.push(`${at} (${s?.service}) selects no guest; expected vmids, a pool or tags`);
    }
  });
  for (const name of o.monthlyServices ?? []) {
    if (!services.some((s) => s?.service === name)) problems.push(`monthlyServices names ${JSON.stringify(name)}, which is not one of the services`);
  }
  if (o.bootTimeoutSeconds !== undefined) positiveProblems("bootTimeoutSeconds", o.bootTimeoutSeconds, problems, true);
  if (o.maxBackupAgeHours !== undefined) positiveProblems("maxBackupAgeHours", o.maxBackupAgeHours, problems);
  if (o.pollSeconds !== undefined) positiveProblems("pollSeconds", o.pollSeconds, problems);
  if (o.logPath !== undefined) absolutePathProblems("logPath", o.logPath, problems);
  if (o.stateDir !== undefined) absolutePathProblems("stateDir", o.stateDir, problems);
  if (o.notifyCommand !== undefined) absolutePathProblems("notifyCommand", o.notifyCommand, problems);
  return problems;
}

/**
 * The options with defaults applied.
 * @throws RestoreTestConfigError listing every problem
 */
export function resolveRestoreTestOptions(options: RestoreTestScriptOptions): ResolvedRestoreTestOptions {
  const problems = restoreTestProblems(options);
  if (problems.length > 0) throw new RestoreTestConfigError(`restore test of site ${options?.site ?? "?"}`, problems);
  return {
    ...RESTORE_TEST_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as ResolvedRestoreTestOptions;
}

const q = shellQuote;
const bashArray = (values: readonly string[]) => `(${values.map((v) => q(v)).join(" ")})`;

/** The script's text. */
export function renderRestoreTestScript(options: RestoreTestScriptOptions): string {
  const o = resolveRestoreTestOptions(options);
  const production = [...new Set(o.productionVmids)].sort((a, b) => a - b);
  const svc = o.services;
  return `#!/bin/bash
# homelab-backup restore test of site "${o.site}" on this PVE node. Written by Pulumi: edits here are overwritten.
#   $0 weekly    restore one random recent backup of a guest in scope, boot it isolated, destroy it
#   $0 monthly   the same for every guest of: ${o.monthlyServices.length > 0 ? o.monthlyServices.join(", ") : "(no service named)"}
#   $0 cleanup   only destroy the scratch guests a crashed run left behind
# Scratch guests take ids ${o.scratchRange.from}-${o.scratchRange.to} and carry the tag ${SCRATCH_MARK}.
# HOMELAB_RESTORE_TEST_SEED=<n> makes the weekly pick repeatable.
set -uo pipefail
export LC_ALL=C
umask 077

SCRIPT_NAME=homelab-backup-restore-test
SITE=${q(o.site)}
STORAGE=${q(o.storage)}
SCRATCH_FROM=${o.scratchRange.from}
SCRATCH_TO=${o.scratchRange.to}
BRIDGE=${q(o.isolatedBridge)}
BOOT_TIMEOUT=${o.bootTimeoutSeconds}
POLL=${o.pollSeconds}
MAX_AGE=${Math.round(o.maxBackupAgeHours * 3600)}
LOG=${q(o.logPath)}
STATE_DIR=${q(o.stateDir)}
NOTIFY=${q(o.notifyCommand)}
TARGET_STORAGE=${q(o.targetStorage ?? "")}
REQUIRE_AGENT=${o.requireGuestAgent ? 1 : 0}
MARK=${SCRATCH_MARK}
declare -A PROD=(${production.map((id) => `[${id}]=1`).join(" ")})
SVC_NAME=${bashArray(svc.map((s) => s.service))}
SVC_TIER=${bashArray(svc.map((s) => s.tier))}
SVC_RTO_MS=(${svc.map((s) => rtoMillis(s.rtoMinutes)).join(" ")})
SVC_RTO_S=(${svc.map((s) => rtoSecondsText(s.rtoMinutes)).join(" ")})
SVC_KIND=${bashArray(svc.map((s) => s.kind))}
SVC_VMIDS=${bashArray(svc.map((s) => (s.vmids ?? []).join(" ")))}
SVC_POOL=${bashArray(svc.map((s) => s.pool ?? ""))}
SVC_TAGS=${bashArray(svc.map((s) => (s.tags ?? []).join(" ")))}
MONTHLY=${bashArray(o.monthlyServices)}
${BASH_COMMON}
${PVE_BODY}`;
}

/** The part of the script that does not depend on the options (bash kept as bash, beside this file). */
const PVE_BODY = readFileSync(join(__dirname, "pve-restore-test.sh"), "utf8");
