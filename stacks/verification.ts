/**
 * The strategy's restore tests: on the restore node, a weekly random and a monthly full restore
 * per PBS storage into scratch guests on an isolated bridge; on every agent with databases, a
 * monthly restore of its latest dumps into scratch databases. All report through the notify
 * command and the log `npm run report` reads.
 */
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { storageIdFor } from "../components/pve/storage-id";
import { DatabaseRestoreTest, productionVmidsFromStrategy, RestoreTest, restoreTestServicesFromStrategy } from "../components/verify";
import type { Notifier } from "../components/monitoring";
import { agentSpec } from "./agents";
import { agentConnection, pveNodeConnection } from "./hosts";

export interface Verification {
  restoreTests: RestoreTest[];
  databaseTests: DatabaseRestoreTest[];
  resources: pulumi.Resource[];
}

/** Services per PVE storage, in the strategy's order: one restore test reads one storage. */
export function servicesByStorage(strategy: Strategy): Map<string, Strategy["services"]> {
  const multiple = strategy.datastores.length > 1;
  const out = new Map<string, Strategy["services"]>();
  for (const s of strategy.services) {
    const id = storageIdFor(strategy.hosts.pve.storageId, s, multiple);
    const list = out.get(id);
    if (list) list.push(s);
    else out.set(id, [s]);
  }
  return out;
}

/** The notify command's deploy step on one host; the whole notifier if that host has none. */
function notifyOn(notifier: Notifier, host: string): pulumi.Resource {
  return notifier.deployed[host] ?? notifier;
}

/** A systemd-safe unit name per storage id (ids may hold `_`, `.` and capitals). */
export function restoreTestUnit(storage: string): string {
  return `homelab-backup-restore-test-${storage.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}

/** What each test must wait for: the notify command on its host, and for a database test its agent. */
export interface VerificationDependencies {
  notifier: Notifier;
  /** The agents' components, in the order of `strategy.agents`. */
  agents: readonly pulumi.Resource[];
}

/**
 * Each test waits only for what its own host needs. Depending on every agent made each agent's
 * test wait on all the others, and the SDK expands a component into its whole subtree for
 * every dependent: quadratic in agents.
 */
export function createVerification(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets, provider: proxmoxve.Provider, deps: VerificationDependencies): Verification {
  const rt = strategy.verification.restoreTests;
  if (!rt.enabled) return { restoreTests: [], databaseTests: [], resources: [] };
  // A bridge with no ports: restored guests boot with nothing to talk to.
  const bridge = new proxmoxve.network.linux.Bridge(
    "restore-test-bridge",
    { nodeName: rt.node, name: rt.bridge, ports: [], autostart: true, comment: "homelab-backup restore tests: isolated, no uplink" },
    { parent, provider },
  );
  const connection = pveNodeConnection(strategy, secrets, rt.node);
  const production = productionVmidsFromStrategy(strategy.services);
  const byStorage = servicesByStorage(strategy);
  const units = new Map<string, string>();
  for (const storage of byStorage.keys()) {
    const unit = restoreTestUnit(storage);
    const other = units.get(unit);
    if (other !== undefined) throw new pulumi.RunError(`restore tests of storages ${other} and ${storage} would share the unit ${unit}; expected storage ids that differ in more than case, "_" or "."`);
    units.set(unit, storage);
  }
  const restoreTests = [...byStorage].map(
    ([storage, services]) =>
      new RestoreTest(
        `restore-test-${storage}`,
        {
          site: strategy.site,
          storage,
          unitName: restoreTestUnit(storage),
          scratchRange: { from: rt.scratchVmids.from, to: rt.scratchVmids.to },
          isolatedBridge: rt.bridge,
          productionVmids: production,
          services: restoreTestServicesFromStrategy(services),
          // Config order, as before; a set keeps thousands of services linear.
          monthlyServices: ((inStorage) => rt.monthlyServices.filter((name) => inStorage.has(name)))(new Set(services.map((s) => s.name))),
          bootTimeoutSeconds: rt.bootTimeoutMinutes * 60,
          maxBackupAgeHours: Math.ceil(rt.maxBackupAgeMinutes / 60),
          logPath: rt.log,
          targetStorage: rt.scratchStorage,
          weeklySchedule: rt.weeklyEvent,
          monthlySchedule: rt.monthlyEvent,
          connection,
        },
        { parent, dependsOn: [notifyOn(deps.notifier, rt.node), bridge] },
      ),
  );
  const databaseTests: DatabaseRestoreTest[] = [];
  for (const [index, agent] of strategy.agents.entries()) {
    if (agent.databases.length === 0) continue;
    const own = deps.agents[index];
    const checkQueries = Object.fromEntries(agent.databases.filter((d) => d.checkQuery).map((d) => [`${d.kind}.${d.name}`, d.checkQuery as string]));
    databaseTests.push(
      new DatabaseRestoreTest(
        `${agent.name}-restore-test`,
        {
          site: strategy.site,
          agent: agentSpec(agent),
          service: agent.service,
          rtoMinutes: agent.tier.rtoMinutes,
          ...(Object.keys(checkQueries).length > 0 ? { checkQueries } : {}),
          logPath: rt.log,
          schedule: rt.databaseEvent,
          connection: agentConnection(agent, secrets),
        },
        { parent, dependsOn: [notifyOn(deps.notifier, agent.name), ...(own ? [own] : [])] },
      ),
    );
  }
  return { restoreTests, databaseTests, resources: [bridge, ...restoreTests, ...databaseTests] };
}
