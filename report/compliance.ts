/**
 * Compliance per service, the strategy's promises one cell each: backed up within the RPO,
 * verified, restore-tested in the period, replicated to the NAS, off-site where its tier says.
 * A cell is met, not met, unknown (its source could not be read) or not applicable.
 */
import { maxIntervalMinutes } from "../config/calendar";
import type { Service, Strategy } from "../config/strategy";
import { formatSpan, formatTime } from "./period";
import type { RestoreSummary } from "./restore-tests";
import type { ServiceStatus } from "./status";
import type { TruenasData } from "./truenas-source";

export type Verdict = "met" | "not met" | "unknown" | "n/a";

export interface Cell {
  verdict: Verdict;
  text: string;
}

export interface ComplianceRow {
  service: string;
  tier: string;
  rpo: Cell;
  verified: Cell;
  restoreTested: Cell;
  replicated: Cell;
  offsite: Cell;
  /** Every applicable cell met: yes; any not met: no; otherwise unknown. */
  compliant: "yes" | "no" | "unknown";
}

/** A run may start late and take a while: an hour past the schedule is still "the last run". */
const REPLICATION_GRACE_SECONDS = 3600;
/** Off-site syncs move the whole replica and can take most of a day. */
const OFFSITE_GRACE_SECONDS = 86_400;

const met = (text: string): Cell => ({ verdict: "met", text });
const notMet = (text: string): Cell => ({ verdict: "not met", text });
const unknown = (text: string): Cell => ({ verdict: "unknown", text });

export function rpoCell(status: ServiceStatus, now: number): Cell {
  if (status.status === "none") return notMet("no backup on PBS");
  const g = status.stalest;
  const limit = `RPO ${status.service.tier.rpo} + ${status.service.expectedDurationMinutes} min run`;
  if (status.status === "fresh") return met(`newest ${formatSpan(now - (status.newest as number))} old (≤ ${limit})`);
  if (g?.newest === undefined) return notMet(`${g?.guest ?? "a guest"} has no backup`);
  return notMet(`${g.guest} last backed up ${formatSpan(now - g.newest)} ago (> ${limit})`);
}

export function verifiedCell(strategy: Strategy, status: ServiceStatus, now: number): Cell {
  const failed = status.verification.failed[0];
  if (failed) {
    const more = status.verification.failed.length > 1 ? ` and ${status.verification.failed.length - 1} more` : "";
    return notMet(`verification failed: ${failed.type}/${failed.id} of ${formatTime(failed.time)}${more}`);
  }
  const outdatedDays = strategy.datastores.find((d) => d.name === status.service.datastore)?.verify.outdatedAfterDays ?? 30;
  const ok = status.verification.newestOk;
  if (ok === undefined) return notMet("no snapshot verified");
  if (now - ok > outdatedDays * 86_400) return notMet(`newest verified snapshot is ${formatSpan(now - ok)} old (> ${outdatedDays} d)`);
  return met(`newest verified snapshot ${formatSpan(now - ok)} old`);
}

export function restoreCell(service: Service, restores: RestoreSummary): Cell {
  if (!restores.found) return notMet("no restore tests recorded");
  const own = restores.results.filter((r) => r.test.service === service.name);
  const good = own.filter((r) => r.good).pop();
  if (good) return met(`${good.test.kind} test passed ${good.test.ts.slice(0, 10)} in ${formatSpan(good.test.totalSeconds as number)} (RTO ${service.tier.rto})`);
  const last = own[own.length - 1];
  if (!last) return notMet("no restore test in the period");
  if (last.test.result === "pass") return notMet(`passed ${last.test.ts.slice(0, 10)} but took ${formatSpan(last.test.totalSeconds as number)} (> RTO ${service.tier.rto})`);
  return notMet(`failed ${last.test.ts.slice(0, 10)}${last.test.reason ? `: ${last.test.reason}` : ""}`);
}

export function replicatedCell(strategy: Strategy, status: ServiceStatus, truenas: TruenasData, now: number): Cell {
  if (!truenas.available) return unknown("TrueNAS not read");
  const d = strategy.datastores.find((x) => x.name === status.service.datastore);
  const rep = truenas.replications.find((r) => r.datastore === status.service.datastore);
  if (!d || !rep?.task) return notMet(`no replication task targets ${d?.replicaDataset ?? status.service.datastore}`);
  if (rep.state === "ERROR") return notMet(`${rep.task} failed${rep.at !== undefined ? ` ${formatTime(rep.at)}` : ""}: ${rep.error ?? "no error text"}`);
  if (rep.state !== "SUCCESS" || rep.at === undefined) return notMet(`${rep.task} has not succeeded yet (state ${rep.state ?? "unknown"})`);
  const allowed = maxIntervalMinutes(d.replication) * 60 + REPLICATION_GRACE_SECONDS;
  if (now - rep.at > allowed) return notMet(`last replicated ${formatSpan(now - rep.at)} ago, longer than its schedule allows`);
  if (status.oldest === undefined || status.oldest >= rep.at) {
    return notMet(`no backup of the service predates the last replication (${formatTime(rep.at)})`);
  }
  return met(`replicated ${formatTime(rep.at)}`);
}

export function offsiteCell(strategy: Strategy, service: Service, truenas: TruenasData, now: number): Cell {
  if (!service.offsite) return { verdict: "n/a", text: `on-site by tier${service.tier.onsiteOnlyReason ? `: ${service.tier.onsiteOnlyReason}` : ""}` };
  if (!truenas.available) return unknown("TrueNAS not read");
  const d = strategy.datastores.find((x) => x.name === service.datastore);
  const path = `/mnt/${d?.replicaDataset ?? ""}`;
  const sync = truenas.offsite.find((s) => s.path === path);
  if (!sync) return notMet(`no cloud sync of ${path}`);
  if (sync.state === undefined || sync.at === undefined) return notMet("the off-site sync has no run recorded");
  if (sync.state !== "SUCCESS") return notMet(`last off-site sync ${sync.state} ${formatTime(sync.at)}${sync.error ? `: ${sync.error}` : ""}`);
  const allowed = maxIntervalMinutes(strategy.offsite.syncSchedule) * 60 + OFFSITE_GRACE_SECONDS;
  if (now - sync.at > allowed) return notMet(`last off-site sync ${formatSpan(now - sync.at)} ago, longer than its schedule allows`);
  return met(`synced ${formatTime(sync.at)}`);
}

export function complianceRow(strategy: Strategy, status: ServiceStatus, restores: RestoreSummary, truenas: TruenasData, now: number): ComplianceRow {
  const service = status.service;
  const cells = {
    rpo: rpoCell(status, now),
    verified: verifiedCell(strategy, status, now),
    restoreTested: restoreCell(service, restores),
    replicated: replicatedCell(strategy, status, truenas, now),
    offsite: offsiteCell(strategy, service, truenas, now),
  };
  const verdicts = Object.values(cells).map((c) => c.verdict);
  const compliant = verdicts.includes("not met") ? "no" : verdicts.includes("unknown") ? "unknown" : "yes";
  return { service: service.name, tier: service.tier.name, ...cells, compliant };
}
