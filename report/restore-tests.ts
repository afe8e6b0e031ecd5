/**
 * Disaster-recovery test results of a period, held against the stack's RTOs (the tier's, when
 * the service is still in the stack; the RTO the test recorded otherwise), and the strategy's
 * monthly verification checklist: a full restore of a critical VM, a database restore and an
 * application restore.
 */
import type { Service, Strategy, Tier } from "../config/strategy";
import type { Period } from "./period";
import type { RestoreLog, RestoreTest } from "./restore-log";

export interface RestoreResult {
  test: RestoreTest;
  service?: Service;
  rtoSeconds: number;
  /** null when the test recorded no total duration (a failure before the end). */
  withinRto: boolean | null;
  /** Passed and within the RTO: what counts as a restore test done. */
  good: boolean;
}

export interface ChecklistItem {
  item: string;
  done: boolean;
  evidence: string;
}

export interface RestoreSummary {
  found: boolean;
  results: RestoreResult[];
  /** Lines of another site in the same log, left out. */
  otherSites: number;
  checklist: ChecklistItem[];
}

/** The strategy's "critical": the tier that must be back first. */
export function mostCriticalTier(strategy: Strategy): Tier | undefined {
  return [...strategy.tiers].sort((a, b) => a.rtoMinutes - b.rtoMinutes)[0];
}

export function restoreSummary(strategy: Strategy, log: RestoreLog, period: Period): RestoreSummary {
  const results: RestoreResult[] = [];
  let otherSites = 0;
  for (const test of log.tests) {
    if (test.at < period.start || test.at >= period.end) continue;
    if (test.site !== strategy.site) {
      otherSites++;
      continue;
    }
    const service = strategy.services.find((s) => s.name === test.service);
    const rtoSeconds = service ? service.tier.rtoMinutes * 60 : test.rtoSeconds;
    const withinRto = test.totalSeconds === null ? null : test.totalSeconds <= rtoSeconds;
    results.push({ test, ...(service ? { service } : {}), rtoSeconds, withinRto, good: test.result === "pass" && withinRto === true });
  }
  results.sort((a, b) => a.test.at - b.test.at);
  const critical = mostCriticalTier(strategy)?.name;
  const tierOf = (r: RestoreResult) => r.service?.tier.name ?? (r.test.kind !== "database" ? r.test.tier : undefined);
  const item = (name: string, matches: (r: RestoreResult) => boolean): ChecklistItem => {
    const candidates = results.filter(matches);
    const good = candidates.filter((r) => r.good).pop();
    const last = candidates[candidates.length - 1];
    const evidence = good
      ? `${good.test.service ?? "no service"} on ${good.test.ts.slice(0, 10)} (line ${good.test.line})`
      : last
        ? `only ${last.test.result === "pass" ? "over the RTO" : "failed"}: ${last.test.service ?? "no service"} on ${last.test.ts.slice(0, 10)}`
        : "none in the period";
    return { item: name, done: good !== undefined, evidence };
  };
  return {
    found: log.found,
    results,
    otherSites,
    checklist: [
      item(`Full restore test of a ${critical ?? "critical"}-tier VM`, (r) => r.test.kind === "monthly" && tierOf(r) === critical),
      item("Database restore test", (r) => r.test.kind === "database"),
      item("Application restore test (a monthly VM test of another tier)", (r) => r.test.kind === "monthly" && tierOf(r) !== critical),
    ],
  };
}
