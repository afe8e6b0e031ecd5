/**
 * Monitoring as the strategy asks for it: the notify command on every host that alerts, the
 * capacity and freshness checks on the PBS host, and the pre-backup hook on every PVE node. Each
 * script reads PBS with a read-only token of its own; none of them holds the admin token.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { changedShare } from "../components/pbs/capacity";
import { Acl, ApiToken, User } from "../components/pbs/resources";
import type { PbsConnectionArgs } from "../components/pbs/provider";
import { CapacityCheck, FreshnessCheck, Notifier, type NotifyTarget } from "../components/monitoring";
import { onCalendar } from "../components/agents/systemd";
import { BackupHook } from "../components/pve/hook";
import type { PveNotificationTarget } from "../components/pve/notifications-script";
import { storageIdFor } from "../components/pve/storage-id";
import { agentConnection, pbsHostConnection, pveNodeConnection } from "./hosts";

/** The PBS user the monitoring tokens belong to (tokens get the intersection of its grants and theirs). */
export const MONITOR_USER = "homelab-monitor@pbs";

export interface Monitoring {
  hook: BackupHook;
  notifier: Notifier;
  /** Each service's hook entry point, for its backup job's `script`. */
  hookScripts: Record<string, string>;
  resources: pulumi.Resource[];
}

/** GB a run of the service writes: the chunks that changed since the last run (incremental). */
export function expectedRunGb(service: Strategy["services"][number], dailyChangePercent: number): number {
  return Math.max(1, Math.ceil(service.sizeGb * changedShare(service.intervalMinutes / 1440, dailyChangePercent)));
}

/** The same targets as PVE's notification endpoints (the smtp ones with their server settings). */
export function pveNotifyTargets(strategy: Strategy): PveNotificationTarget[] {
  return strategy.monitoring.targets.map((t): PveNotificationTarget => {
    switch (t.type) {
      case "smtp":
        return { type: "smtp", name: t.name, server: t.server, port: t.port, mode: t.mode, from: t.from, mailto: t.mailto, ...(t.username ? { username: t.username } : {}) };
      case "gotify":
        return { type: "gotify", name: t.name, server: t.server };
      case "webhook":
        return { type: "webhook", name: t.name, url: t.url };
    }
  });
}

/** Agent hosts get the notify command too: their database restore tests report through it. */
function agentHosts(strategy: Strategy, secrets: Secrets) {
  if (!secrets.agentSshPrivateKey) return [];
  return strategy.agents
    .filter((a) => a.databases.length > 0 && strategy.verification.restoreTests.enabled)
    .map((a) => ({ name: a.name, connection: agentConnection(a, secrets) }));
}

export function notifyTargets(strategy: Strategy): NotifyTarget[] {
  return strategy.monitoring.targets.map((t): NotifyTarget => {
    switch (t.type) {
      case "gotify":
        return { type: "gotify", name: t.name, server: t.server };
      case "webhook":
        return { type: "webhook", name: t.name, url: t.url };
      case "smtp":
        return { type: "smtp", name: t.name, from: t.from, mailto: t.mailto };
    }
  });
}

export function createMonitoring(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets, connection: PbsConnectionArgs, dependsOn: pulumi.Resource[], tokenKeeper: string): Monitoring {
  const pbs = strategy.hosts.pbs;
  const nas = strategy.hosts.truenas;
  const stores = strategy.datastores.map((d) => d.name);
  const opts = { parent, dependsOn };
  const user = new User("pbs-monitor-user", { connection, userid: MONITOR_USER, comment: "homelab-backup monitoring (read-only tokens)" }, opts);
  const after = { parent, dependsOn: [user] };
  // Named for the rotation epoch: a new epoch's tokens replace these, created first.
  const checksName = `checks-${tokenKeeper}`;
  const hookName = `hook-${tokenKeeper}`;
  const checksToken = new ApiToken("pbs-monitor-checks", { connection, userid: MONITOR_USER, tokenName: checksName, comment: "capacity and freshness checks" }, after);
  const hookToken = new ApiToken("pbs-monitor-hook", { connection, userid: MONITOR_USER, tokenName: hookName, comment: "vzdump pre-backup hook" }, after);
  const acls: pulumi.Resource[] = [];
  // The user: what any of its tokens may at most see. Audit on /system/tasks shows the running
  // backups of PVE's token, which the duration alert needs.
  for (const [authId, who, dep] of [[MONITOR_USER, "user", user], [checksToken.tokenId, "checks", checksToken]] as const) {
    acls.push(new Acl(`pbs-monitor-acl-${who}-datastores`, { connection, path: "/datastore", role: "DatastoreAudit", authId, propagate: true }, { parent, dependsOn: [dep] }));
    acls.push(new Acl(`pbs-monitor-acl-${who}-tasks`, { connection, path: "/system/tasks", role: "Audit", authId, propagate: false }, { parent, dependsOn: [dep] }));
  }
  // The hook sees exactly the datastores the jobs write to.
  for (const store of stores) {
    acls.push(new Acl(`pbs-monitor-acl-hook-${store}`, { connection, path: `/datastore/${store}`, role: "DatastoreAudit", authId: hookToken.tokenId, propagate: true }, { parent, dependsOn: [hookToken] }));
  }

  const pbsHost = pbsHostConnection(strategy, secrets);
  const nodes = strategy.hosts.pve.nodes.map((n) => ({ name: n.name, connection: pveNodeConnection(strategy, secrets, n.name) }));
  const notificationSecret = (name: string) => secrets.notificationSecrets?.apply((m) => m[name] ?? "");
  const gotifyTokens = Object.fromEntries(strategy.monitoring.targets.filter((t) => t.type === "gotify").map((t) => [t.name, pulumi.secret(notificationSecret(t.name) ?? "")]));
  const notifier = new Notifier(
    "notify",
    { hosts: [{ name: pbs.name, connection: pbsHost }, ...nodes, ...agentHosts(strategy, secrets)], targets: notifyTargets(strategy), gotifyTokens },
    { parent },
  );

  const onPbs = { host: "127.0.0.1", port: pbs.port, fingerprint: pbs.fingerprint };
  const checkOpts = { parent, dependsOn: [notifier, ...acls] };
  const capacity = new CapacityCheck(
    "capacity",
    {
      connection: pbsHost,
      pbs: { ...onPbs, tokenId: `${MONITOR_USER}!${checksName}` },
      pbsTokenSecret: checksToken.secret,
      datastores: stores,
      thresholdPercent: strategy.monitoring.capacityThresholdPercent,
      // The project's schedule syntax, as systemd 252 reads it (`*:*/15` becomes `*:0/15`).
      schedule: onCalendar(strategy.verification.checks.capacity),
      // The NAS pool too, read over its API with a read-only user's key, when config names one.
      ...(nas.monitorUser !== undefined && secrets.truenasMonitorApiKey
        ? {
            truenas: { host: nas.backupAddress, ...(nas.fingerprint ? { fingerprint: nas.fingerprint } : {}), username: nas.monitorUser, pools: [nas.pool] },
            truenasApiKey: pulumi.secret(secrets.truenasMonitorApiKey),
          }
        : {}),
    },
    checkOpts,
  );
  // Guests chosen by pool or tag are known only to PVE at run time; those services are listed
  // in the README as checked by the report, not by the timer.
  const watched = strategy.services.filter((s) => (s.guests.vmids ?? []).length > 0);
  const freshness = new FreshnessCheck(
    "freshness",
    {
      connection: pbsHost,
      pbs: { ...onPbs, tokenId: `${MONITOR_USER}!${checksName}` },
      pbsTokenSecret: checksToken.secret,
      pbsNode: pbs.node,
      services: watched.map((s) => ({
        name: s.name,
        datastore: s.datastore,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        vmids: s.guests.vmids as number[],
        rpoMinutes: s.tier.rpoMinutes,
        expectedDurationMinutes: s.expectedDurationMinutes,
      })),
      // The project's schedule syntax, as systemd 252 reads it (`*:*/15` becomes `*:0/15`).
      schedule: onCalendar(strategy.verification.checks.freshness),
    },
    checkOpts,
  );

  const multiple = strategy.datastores.length > 1;
  const hook = new BackupHook(
    "backup-hook",
    {
      nodes,
      // PVE reaches PBS over the backup VLAN, as its storage does.
      pbs: { host: pbs.backupAddress, port: pbs.port, fingerprint: pbs.fingerprint, tokenId: `${MONITOR_USER}!${hookName}` },
      pbsTokenSecret: hookToken.secret,
      jobs: strategy.services.map((s) => ({
        name: s.name,
        storageId: storageIdFor(strategy.hosts.pve.storageId, s, multiple),
        datastore: s.datastore,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        expectedSizeGb: expectedRunGb(s, pbs.dailyChangePercent),
        expectedDurationMinutes: s.expectedDurationMinutes,
        ...(s.healthcheckUrl ? { healthcheckUrl: s.healthcheckUrl } : {}),
      })),
      capacityThresholdPercent: strategy.monitoring.capacityThresholdPercent,
    },
    { parent, dependsOn: [notifier, ...acls] },
  );
  return { hook, notifier, hookScripts: hook.jobScripts, resources: [notifier, capacity, freshness, hook, ...acls] };
}
