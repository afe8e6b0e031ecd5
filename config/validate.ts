/**
 * The edge of the program: raw config in, a typed Strategy or every problem out. Pure, so the
 * plan, the Pulumi program and the tests share one implementation.
 */
import type { z } from "zod";
import { parseCalendarEvent, maxIntervalMinutes } from "./calendar";
import { formatDuration, MINUTES_PER_DAY, parseDuration } from "./duration";
import { calendarToCron, CronConversionError } from "../components/truenas/cron";
import { groupJobs, snapshotTimingProblems, sourceRetentionProblem } from "../components/truenas/pbs-consistency";
import { agentSpecFromStrategy } from "../components/agents/from-strategy";
import { resolveAgentSpec } from "../components/agents/spec";
import { cidrsOverlap, ipInCidr } from "./net";
import { mergePrices, type PriceOverrides } from "../components/offsite/prices";
import { DEFAULT_TIERS, SECRET_KEYS, strategySchema, type RawStrategy } from "./schema";
import type { Datastore, KeepPolicy, OffsiteClass, Service, Strategy, Tier } from "./strategy";

export const PROJECT = "homelab-backup";

/** One problem with the config: the key path (without the project prefix) and what is wrong. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export type ParseResult = { ok: true; strategy: Strategy } | { ok: false; problems: ConfigProblem[] };

/** `homelab-backup:services[2].tier: "gold" is not a declared tier; expected one of ...` */
export function formatProblem(problem: ConfigProblem): string {
  return `${PROJECT}:${problem.path}: ${problem.message}`;
}

function pathText(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Shows a received value in a message; long values are cut so a line stays readable. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function zodProblem(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = pathText(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: path === "" ? key : `${path}.${key}`,
      message: "unknown key; expected one of the keys in the README's config reference (check the spelling)",
    }));
  }
  const received = "input" in issue ? issue.input : undefined;
  if (issue.code === "invalid_type" && received === undefined) {
    return [{ path, message: `is missing; expected ${issue.expected === "array" ? "a list" : `a ${issue.expected}`}` }];
  }
  let message = issue.message.replace(/^Invalid input: /, "");
  if (issue.code === "invalid_value" && "values" in issue) {
    message = `expected one of ${issue.values.map((v) => String(v)).join(", ")}`;
  } else if (issue.code === "invalid_union" && "discriminator" in issue) {
    message = "expected type to be one of smtp, gotify, webhook";
  } else if (issue.code === "too_small" && issue.origin === "number" && !/expected/.test(message)) {
    message = `expected ${issue.inclusive ? "at least" : "more than"} ${String(issue.minimum)}`;
  } else if (issue.code === "too_big" && issue.origin === "number" && !/expected/.test(message)) {
    message = `expected ${issue.inclusive ? "at most" : "less than"} ${String(issue.maximum)}`;
  }
  return [{ path, message: `${show(received)} is invalid; ${message}` }];
}

/**
 * The prune policy of a service: its own retention combined with the strategy's on-site GFS
 * minimums (daily 7, weekly 4, monthly 12). Hourly backups keep the last day of hours.
 */
export function keepPolicyFor(
  retentionDays: number,
  intervalMinutes: number,
  onsite: RawStrategy["retention"]["onsite"],
): KeepPolicy {
  const keep: KeepPolicy = {};
  if (intervalMinutes < MINUTES_PER_DAY) keep.keepHourly = onsite.hourly;
  if (intervalMinutes <= MINUTES_PER_DAY) keep.keepDaily = Math.max(retentionDays, onsite.daily);
  const weeks = intervalMinutes > MINUTES_PER_DAY && intervalMinutes <= 7 * MINUTES_PER_DAY ? Math.ceil(retentionDays / 7) : 0;
  keep.keepWeekly = Math.max(weeks, onsite.weekly);
  // 30.4375 days: the mean month, so "1y" keeps 12 monthlies, not 13.
  const months = intervalMinutes > 7 * MINUTES_PER_DAY ? Math.ceil(retentionDays / 30.4375) : 0;
  keep.keepMonthly = Math.max(months, onsite.monthly);
  return keep;
}

function duplicates<T>(items: readonly T[], key: (t: T) => string, path: (i: number) => string, what: string): ConfigProblem[] {
  const seen = new Map<string, number>();
  const out: ConfigProblem[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined) out.push({ path: path(i), message: `${show(k)} is a duplicate ${what} (also at index ${first}); expected unique ${what}s` });
    else seen.set(k, i);
  });
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The cross-field checks that still make sense when the schema failed elsewhere (tier
 * references, duplicate service names), read defensively from the raw values, so one run
 * reports every problem instead of hiding these behind an unrelated typo.
 */
function referenceProblems(values: Record<string, unknown>): ConfigProblem[] {
  const services = Array.isArray(values["services"]) ? (values["services"] as unknown[]) : [];
  const tiers = Object.keys(isRecord(values["tiers"]) ? values["tiers"] : DEFAULT_TIERS);
  const problems: ConfigProblem[] = [];
  const names = new Map<string, number>();
  services.forEach((s, i) => {
    if (!isRecord(s)) return;
    if (typeof s["tier"] === "string" && !tiers.includes(s["tier"])) {
      problems.push({ path: `services[${i}].tier`, message: `${show(s["tier"])} is not a declared tier; expected one of ${tiers.join(", ")}` });
    }
    if (typeof s["name"] === "string") {
      const first = names.get(s["name"]);
      if (first !== undefined) problems.push({ path: `services[${i}].name`, message: `${show(s["name"])} is a duplicate service name (also at index ${first}); expected unique service names` });
      else names.set(s["name"], i);
    }
  });
  return problems;
}

/**
 * Validates raw config (the project's keys without prefix, values already JSON-parsed) and
 * resolves it into a Strategy. Reports every problem, not just the first.
 */
export function parseStrategy(raw: Record<string, unknown>): ParseResult {
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if ((SECRET_KEYS as readonly string[]).includes(key)) continue;
    values[key] = value;
  }
  const parsed = strategySchema.safeParse(values, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, problems: [...parsed.error.issues.flatMap(zodProblem), ...referenceProblems(values)] };
  }
  const cfg = parsed.data;

  // Tiers
  const tiers = new Map<string, Tier>();
  for (const [name, t] of Object.entries(cfg.tiers)) {
    const tier: Tier = {
      name,
      rpo: t.rpo,
      rpoMinutes: parseDuration(t.rpo) as number,
      rto: t.rto,
      rtoMinutes: parseDuration(t.rto) as number,
      schedule: parseCalendarEvent(t.schedule),
      offsite: t.offsite,
      ...(t.onsiteOnlyReason !== undefined ? { onsiteOnlyReason: t.onsiteOnlyReason } : {}),
    };
    tiers.set(name, tier);
    const interval = maxIntervalMinutes(tier.schedule);
    if (interval > tier.rpoMinutes) {
      problems.push({
        path: `tiers.${name}.schedule`,
        message: `${show(t.schedule)} leaves up to ${formatDuration(interval)} between backups, longer than the tier's RPO of ${t.rpo}; expected a schedule at least as frequent as the RPO`,
      });
    }
  }
  const tierNames = [...tiers.keys()].join(", ");

  // Datastores
  const datastores: Datastore[] = cfg.datastores.map((d) => {
    const dataset = d.dataset ?? `${cfg.hosts.pbs.zfsPool}/${d.name}`;
    return {
      ...d,
      path: d.path ?? `/${dataset}`,
      gc: parseCalendarEvent(d.gcSchedule),
      prune: parseCalendarEvent(d.pruneSchedule),
      snapshot: parseCalendarEvent(d.snapshotSchedule),
      replication: parseCalendarEvent(d.replicationSchedule),
      replicaDataset: `${cfg.hosts.truenas.replicaRoot ?? `${cfg.hosts.truenas.pool}/replica`}/${d.name}`,
      replicaRetentionDays: Math.ceil((parseDuration(d.replicaRetention) as number) / MINUTES_PER_DAY),
      verifySchedule: parseCalendarEvent(d.verify.schedule),
      dataset,
      namespaceNames: [],
    };
  });
  problems.push(...duplicates(cfg.datastores, (d) => d.name, (i) => `datastores[${i}].name`, "datastore name"));
  problems.push(...duplicates(datastores, (d) => d.path, (i) => `datastores[${i}].path`, "datastore path"));
  problems.push(...duplicates(datastores, (d) => d.dataset, (i) => `datastores[${i}].dataset`, "datastore dataset"));
  const datastoreByName = new Map(datastores.map((d) => [d.name, d]));

  // Services
  const services: Service[] = [];
  problems.push(...duplicates(cfg.services, (s) => s.name, (i) => `services[${i}].name`, "service name"));
  cfg.services.forEach((s, i) => {
    const at = `services[${i}]`;
    const tier = tiers.get(s.tier);
    if (!tier) {
      problems.push({ path: `${at}.tier`, message: `${show(s.tier)} is not a declared tier; expected one of ${tierNames}` });
      return;
    }
    if (!s.guests.vmids?.length && !s.guests.pool && !s.guests.tags?.length) {
      problems.push({ path: `${at}.guests`, message: `${show(s.guests)} selects no guest; expected vmids, a pool or tags` });
    }
    const offsite = s.offsite ?? tier.offsite;
    const datastoreName = s.datastore ?? cfg.datastores.find((d) => d.offsite === offsite)?.name ?? (cfg.datastores[0]?.name as string);
    const datastore = datastoreByName.get(datastoreName);
    if (!datastore) {
      problems.push({
        path: `${at}.datastore`,
        message: `${show(s.datastore)} is not a declared datastore; expected one of ${cfg.datastores.map((d) => d.name).join(", ")}`,
      });
      return;
    }
    const schedule = s.schedule !== undefined ? parseCalendarEvent(s.schedule) : tier.schedule;
    const interval = maxIntervalMinutes(schedule);
    const schedulePath = s.schedule !== undefined ? `${at}.schedule` : `${at}.tier`;
    if (interval > tier.rpoMinutes && s.schedule !== undefined) {
      problems.push({
        path: schedulePath,
        message: `${show(schedule.source)} leaves up to ${formatDuration(interval)} between backups, longer than tier ${show(tier.name)}'s RPO of ${tier.rpo}; expected a schedule at least as frequent as the RPO`,
      });
    }
    const retentionMinutes = parseDuration(s.retention) as number;
    if (retentionMinutes < interval) {
      problems.push({
        path: `${at}.retention`,
        message: `${show(s.retention)} is shorter than the schedule's interval of ${formatDuration(interval)}, so no backup would survive until the next; expected at least ${formatDuration(interval)}`,
      });
    }
    const retentionDays = Math.ceil(retentionMinutes / MINUTES_PER_DAY);
    const expected = s.expectedDuration !== undefined ? (parseDuration(s.expectedDuration) as number) : Math.min(120, Math.floor(interval / 2));
    if (expected >= interval) {
      problems.push({
        path: `${at}.expectedDuration`,
        message: `${show(s.expectedDuration)} is as long as the schedule's interval of ${formatDuration(interval)}, so runs would overlap; expected less than ${formatDuration(interval)}`,
      });
    }
    const namespace = datastore.namespaces === "per-tier" ? tier.name : undefined;
    if (namespace && !datastore.namespaceNames.includes(namespace)) datastore.namespaceNames.push(namespace);
    services.push({
      name: s.name,
      ...(s.description !== undefined ? { description: s.description } : {}),
      tier,
      guests: s.guests,
      schedule,
      intervalMinutes: interval,
      retention: s.retention,
      retentionDays,
      keep: keepPolicyFor(retentionDays, interval, cfg.retention.onsite),
      datastore: datastore.name,
      ...(namespace !== undefined ? { namespace } : {}),
      mode: s.mode,
      offsite,
      expectedDurationMinutes: expected,
      sizeGb: s.sizeGb,
      ...(s.healthcheckUrl !== undefined ? { healthcheckUrl: s.healthcheckUrl } : {}),
      ...(s.checkCommand !== undefined ? { checkCommand: s.checkCommand } : {}),
    });
  });

  // A PBS datastore deduplicates into one chunk store, so it goes off-site whole or not at all:
  // an on-site service on an off-site datastore costs money and leaks on-site data; an off-site
  // service on an on-site datastore silently never leaves the site.
  services.forEach((service) => {
    const datastore = datastoreByName.get(service.datastore) as Datastore;
    if (service.offsite !== datastore.offsite) {
      const index = cfg.services.findIndex((s) => s.name === service.name);
      problems.push({
        path: `services[${index}].datastore`,
        message: `${show(datastore.name)} ${datastore.offsite ? "goes off-site" : "stays on-site"} but service ${show(service.name)} ${service.offsite ? "goes off-site" : "stays on-site"}; a datastore's chunk store is replicated whole, so expected a datastore whose offsite setting is ${service.offsite}`,
      });
    }
  });

  // TrueNAS schedules are cron: refuse what cron cannot say, here rather than at apply.
  const cronChecks: [string, string][] = [
    ["offsite.syncSchedule", cfg.offsite.syncSchedule],
    ["offsite.yearlySyncSchedule", cfg.offsite.yearlySyncSchedule],
    ...cfg.datastores.map((d, i): [string, string] => [`datastores[${i}].replicationSchedule`, d.replicationSchedule]),
    ...cfg.hosts.truenas.localDatasets.map((l, i): [string, string] => [`hosts.truenas.localDatasets[${i}].schedule`, l.schedule]),
  ];
  for (const [path, schedule] of cronChecks) {
    try {
      calendarToCron(parseCalendarEvent(schedule));
    } catch (e) {
      if (!(e instanceof CronConversionError)) throw e;
      problems.push({ path, message: `${show(schedule)} cannot be a TrueNAS schedule: ${e.message}` });
    }
  }

  // A replica is only as good as the snapshot it copies: PBS must be idle when it is taken.
  datastores.forEach((d, i) => {
    const here = services.filter((s) => s.datastore === d.name);
    if (here.length === 0) return;
    const job = (name: string, schedule: Datastore["gc"], minutes: number) => ({ name, schedule, expectedDurationMinutes: minutes });
    const timing = snapshotTimingProblems({
      snapshot: d.snapshot,
      backups: groupJobs(here.map((s) => job(`backup-${s.name}`, s.schedule, s.expectedDurationMinutes))),
      gc: job("gc", d.gc, 15),
      otherJobs: [job("prune", d.prune, 5)],
    });
    for (const t of timing.slice(0, 3)) problems.push({ path: `datastores[${i}].snapshotSchedule`, message: `${show(d.snapshotSchedule)}: ${t}; expected a time when the datastore is idle, after its backups and before GC` });
    const keep = sourceRetentionProblem(d.snapshot, 7, d.replication);
    if (keep) problems.push({ path: `datastores[${i}].replicationSchedule`, message: `${show(d.replicationSchedule)}: ${keep}` });
  });

  // Guests selected by more than one service would be backed up twice under two policies.
  const owner = new Map<number, string>();
  cfg.services.forEach((s, i) => {
    for (const id of s.guests.vmids ?? []) {
      const other = owner.get(id);
      if (other !== undefined && other !== s.name) {
        problems.push({ path: `services[${i}].guests.vmids`, message: `${id} is already backed up by service ${show(other)}; expected each VM id in one service` });
      } else owner.set(id, s.name);
    }
  });

  // Restore tests: scratch guests must never collide with a production guest.
  const rt = cfg.verification.restoreTests;
  const scratch = rt.scratchVmids;
  if (scratch.from > scratch.to) {
    problems.push({ path: "verification.restoreTests.scratchVmids", message: `${scratch.from}-${scratch.to} is empty; expected from <= to` });
  } else {
    for (const [id, service] of owner) {
      if (id >= scratch.from && id <= scratch.to) {
        problems.push({ path: "verification.restoreTests.scratchVmids", message: `${scratch.from}-${scratch.to} contains VM ${id} of service ${show(service)}; expected a range no production guest uses` });
      }
    }
  }
  if (rt.node !== undefined && !cfg.hosts.pve.nodes.some((n) => n.name === rt.node)) {
    problems.push({ path: "verification.restoreTests.node", message: `${show(rt.node)} is not a PVE node; expected one of ${cfg.hosts.pve.nodes.map((n) => n.name).join(", ")}` });
  }
  (rt.monthlyServices ?? []).forEach((name, i) => {
    if (!cfg.services.some((s) => s.name === name)) {
      problems.push({ path: `verification.restoreTests.monthlyServices[${i}]`, message: `${show(name)} is not a service; expected one of ${cfg.services.map((s) => s.name).join(", ")}` });
    }
  });

  // Hosts and network
  const nodes = cfg.hosts.pve.nodes;
  problems.push(...duplicates(nodes, (n) => n.name, (i) => `hosts.pve.nodes[${i}].name`, "node name"));
  const vlan = cfg.network.backupVlan;
  const onVlan: { path: string; address: string }[] = [
    ...nodes.map((n, i) => ({ path: `hosts.pve.nodes[${i}].backupAddress`, address: n.backupAddress })),
    { path: "hosts.pbs.backupAddress", address: cfg.hosts.pbs.backupAddress },
    { path: "hosts.truenas.backupAddress", address: cfg.hosts.truenas.backupAddress },
  ];
  for (const { path, address } of onVlan) {
    if (!ipInCidr(address, vlan.subnet)) {
      problems.push({ path, message: `${show(address)} is outside the backup VLAN ${vlan.subnet}; expected an address in ${vlan.subnet}` });
    }
  }
  problems.push(...duplicates(onVlan, (a) => a.address, (i) => onVlan[i]?.path as string, "backup address").map((p) => ({ ...p, path: p.path })));
  const subnets = Object.entries(cfg.network.subnets);
  for (const [name, subnet] of subnets) {
    if (cidrsOverlap(subnet, vlan.subnet)) {
      problems.push({ path: `network.subnets.${name}`, message: `${show(subnet)} overlaps the backup VLAN subnet ${vlan.subnet}; expected disjoint subnets` });
    }
  }
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      const [a, sa] = subnets[i] as [string, string];
      const [b, sb] = subnets[j] as [string, string];
      if (cidrsOverlap(sa, sb)) problems.push({ path: `network.subnets.${b}`, message: `${show(sb)} overlaps subnet ${a} (${sa}); expected disjoint subnets` });
    }
  }

  // Monitoring
  problems.push(...duplicates(cfg.monitoring.targets, (t) => t.name, (i) => `monitoring.targets[${i}].name`, "notification target name"));

  // Agents
  problems.push(...duplicates(cfg.agents, (a) => a.name, (i) => `agents[${i}].name`, "agent name"));
  const serviceByName = new Map(services.map((s) => [s.name, s]));
  const agents: Strategy["agents"] = [];
  cfg.agents.forEach((a, i) => {
    const service = serviceByName.get(a.service);
    if (!service) {
      problems.push({ path: `agents[${i}].service`, message: `${show(a.service)} is not a declared service; expected one of ${services.map((s) => s.name).join(", ")}` });
      return;
    }
    // An ssh:// repository on the NAS pins the NAS's key unless the agent names its own.
    const repoHost = /^ssh:\/\/(?:[^@/]+@)?([^:/]+)/.exec(a.repository)?.[1];
    const nas = cfg.hosts.truenas;
    const hostKey = a.repositoryHostKey ?? (repoHost !== undefined && (repoHost === nas.host || repoHost === nas.backupAddress || repoHost === nas.name) ? nas.sshHostKey : undefined);
    const resolvedAgent = { ...a, schedule: service.schedule, keep: service.keep, tier: service.tier, ...(hostKey !== undefined ? { repositoryHostKey: hostKey } : {}) };
    // The agent's own rules (exclusions, paths, database fields) are checked here, at the edge,
    // so a bad agent is one line per problem like any other config error.
    try {
      resolveAgentSpec(agentSpecFromStrategy(resolvedAgent, { passwordRef: (x, db) => (db.password ? `${x.name}.${db.kind}.${db.name}` : undefined) }));
    } catch (e) {
      const lines = (e as Error).message.split("\n").slice(1).map((l) => l.trim()).filter(Boolean);
      for (const line of lines.length ? lines : [(e as Error).message]) problems.push({ path: `agents[${i}]`, message: line });
    }
    agents.push(resolvedAgent);
  });

  // Off-site
  problems.push(...duplicates(cfg.offsite.classes, (c) => c.name, (i) => `offsite.classes[${i}].name`, "off-site class"));
  const classes: OffsiteClass[] = cfg.offsite.classes.map((c) => {
    const retention = cfg.retention.offsite[c.name];
    return { ...c, retention, retentionDays: Math.round((parseDuration(retention) as number) / MINUTES_PER_DAY) };
  });

  // Price overrides must name prices the table has, as numbers: a typo would price nothing.
  if (cfg.offsite.prices) {
    try {
      mergePrices(cfg.offsite.prices as PriceOverrides);
    } catch (e) {
      const m = /^(prices[^:]*): (.*)$/.exec((e as Error).message);
      problems.push({ path: `offsite.${m?.[1] ?? "prices"}`, message: m?.[2] ?? (e as Error).message });
    }
  }

  // Protection opt-ins must name something that exists, or a typo silently protects nothing.
  const dataNames = new Set([...datastores.map((d) => d.name), ...classes.map((c) => `${cfg.hosts.offsite.bucketPrefix}-${c.name}`), ...cfg.agents.map((a) => a.name)]);
  cfg.protection.allowDestroy.forEach((entry, i) => {
    if (!dataNames.has(entry.name)) {
      problems.push({ path: `protection.allowDestroy[${i}].name`, message: `${show(entry.name)} names no data-bearing resource; expected one of ${[...dataNames].join(", ")}` });
    }
  });

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    strategy: {
      site: cfg.site,
      hosts: cfg.hosts,
      datastores,
      tiers: [...tiers.values()],
      services,
      retention: cfg.retention,
      exclusions: cfg.exclusions,
      network: cfg.network,
      security: cfg.security,
      monitoring: cfg.monitoring,
      agents,
      verification: {
        restoreTests: {
          ...rt,
          node: rt.node ?? (cfg.hosts.pve.nodes[0] as { name: string }).name,
          weeklyEvent: parseCalendarEvent(rt.weekly),
          monthlyEvent: parseCalendarEvent(rt.monthly),
          databaseEvent: parseCalendarEvent(rt.databaseSchedule),
          monthlyServices: rt.monthlyServices ?? services.filter((s) => s.offsite).map((s) => s.name),
          maxBackupAgeMinutes: parseDuration(rt.maxBackupAge) as number,
          bootTimeoutMinutes: parseDuration(rt.bootTimeout) as number,
        },
        checks: { capacity: parseCalendarEvent(cfg.verification.checks.capacity), freshness: parseCalendarEvent(cfg.verification.checks.freshness) },
      },
      offsite: {
        syncSchedule: parseCalendarEvent(cfg.offsite.syncSchedule),
        yearlySyncSchedule: parseCalendarEvent(cfg.offsite.yearlySyncSchedule),
        rcloneEncryption: cfg.offsite.rcloneEncryption,
        classes,
        ...(cfg.offsite.prices ? { prices: cfg.offsite.prices as PriceOverrides } : {}),
      },
      protection: cfg.protection,
      nasDatasets: cfg.hosts.truenas.localDatasets.map((l) => ({
        dataset: l.dataset,
        schedule: parseCalendarEvent(l.schedule),
        retentionDays: Math.ceil((parseDuration(l.retention) as number) / MINUTES_PER_DAY),
        recursive: l.recursive,
      })),
    },
  };
}

/**
 * Secret keys must be Pulumi secrets: a plaintext value in a stack file is a leak, and a missing
 * one fails the deployment late. Returns the problems for the given key set.
 */
export function checkSecretKeys(
  raw: Record<string, unknown>,
  isSecret: (key: string) => boolean,
  required: readonly string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const key of SECRET_KEYS) {
    if (key in raw && !isSecret(key)) {
      problems.push({ path: key, message: `is set in plaintext; expected a secret: pulumi config set --secret ${PROJECT}:${key} <value>` });
    }
  }
  for (const key of required) {
    if (!(key in raw)) problems.push({ path: key, message: `is missing; expected a secret: pulumi config set --secret ${PROJECT}:${key} <value>` });
  }
  return problems;
}
