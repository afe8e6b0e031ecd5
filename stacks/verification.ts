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
    out.set(id, [...(out.get(id) ?? []), s]);
  }
  return out;
}

/** A systemd-safe unit name per storage id (ids may hold `_`, `.` and capitals). */
export function restoreTestUnit(storage: string): string {
  return `homelab-backup-restore-test-${storage.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}

export function createVerification(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets, provider: proxmoxve.Provider, dependsOn: pulumi.Resource[]): Verification {
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
  const units = new Map<string, string>();
  for (const storage of servicesByStorage(strategy).keys()) {
    const unit = restoreTestUnit(storage);
    const other = units.get(unit);
    if (other !== undefined) throw new pulumi.RunError(`restore tests of storages ${other} and ${storage} would share the unit ${unit}; expected storage ids that differ in more than case, "_" or "."`);
    units.set(unit, storage);
  }
  const restoreTests = [...servicesByStorage(strategy)].map(
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
          monthlyServices: rt.monthlyServices.filter((name) => services.some((s) => s.name === name)),
          bootTimeoutSeconds: rt.bootTimeoutMinutes * 60,
          maxBackupAgeHours: Math.ceil(rt.maxBackupAgeMinutes / 60),
          logPath: rt.log,
          targetStorage: rt.scratchStorage,
          weeklySchedule: rt.weeklyEvent,
          monthlySchedule: rt.monthlyEvent,
          connection,
        },
        { parent, dependsOn: [...dependsOn, bridge] },
      ),
  );
  const databaseTests: DatabaseRestoreTest[] = [];
  for (const agent of strategy.agents.filter((a) => a.databases.length > 0)) {
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
        { parent, dependsOn },
      ),
    );
  }
  return { restoreTests, databaseTests, resources: [bridge, ...restoreTests, ...databaseTests] };
}
