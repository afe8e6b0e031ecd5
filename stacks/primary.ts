/**
 * The primary tier's PBS side, from the strategy: one datastore component per datastore, with
 * its namespaces, one prune job per namespace (the strictest keep policy of the services in it),
 * the verify job, PVE's token and ACLs, and the notification targets.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Secrets } from "../config/load";
import type { KeepPolicy, Strategy } from "../config/strategy";
import { projectDatastoreGb } from "../components/pbs/capacity";
import type { PbsConnectionArgs } from "../components/pbs/provider";
import { JOB_EVENT_TYPES, PbsDatastoreStack, type NotificationEndpointSpec, type PruneJobSpec } from "../components/pbs/primary";

export interface PrimaryTier {
  datastores: Record<string, PbsDatastoreStack>;
  /** PVE's token per datastore. */
  pveTokens: Record<string, { id: pulumi.Output<string>; secret: pulumi.Output<string> }>;
  resources: pulumi.Resource[];
  /** The admin connection the PBS resources use (token secret as a Pulumi secret). */
  connection: PbsConnectionArgs;
}

/** Combines keep policies so every service in a namespace keeps at least what it asked for. */
export function strictestKeep(policies: readonly KeepPolicy[]): KeepPolicy {
  const out: KeepPolicy = {};
  for (const p of policies) {
    for (const [k, v] of Object.entries(p) as [keyof KeepPolicy, number | undefined][]) {
      if (v !== undefined) out[k] = Math.max(out[k] ?? 0, v);
    }
  }
  return out;
}

function endpoints(strategy: Strategy, secrets: Secrets): NotificationEndpointSpec[] {
  const secretOf = (name: string) => secrets.notificationSecrets?.apply((m) => m[name] ?? "");
  return strategy.monitoring.targets.map((t): NotificationEndpointSpec => {
    switch (t.type) {
      case "smtp":
        return {
          type: "smtp", name: t.name, server: t.server, port: t.port, mode: t.mode, fromAddress: t.from, mailto: t.mailto,
          ...(t.username ? { username: t.username, ...(secretOf(t.name) ? { password: pulumi.secret(secretOf(t.name) as pulumi.Output<string>) } : {}) } : {}),
        };
      case "gotify":
        return { type: "gotify", name: t.name, server: t.server, token: pulumi.secret(secretOf(t.name) ?? "") };
      case "webhook":
        return { type: "webhook", name: t.name, url: t.url, method: "post" };
    }
  });
}

/** PVE's token on a datastore for a rotation epoch: `pve-<store>-<epoch start>`, at most 32 characters. */
export function pveTokenName(datastore: string, keeper: string): string {
  return `pve-${datastore.slice(0, 16)}-${keeper}`;
}

export function createPrimary(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets, adminToken: pulumi.Output<string>, tokenKeeper: string): PrimaryTier {
  const pbs = strategy.hosts.pbs;
  const connection = {
    url: `https://${pbs.host}:${pbs.port}`,
    fingerprint: pbs.fingerprint,
    tokenId: `${pbs.adminUser}!${pbs.adminTokenName}`,
    tokenSecret: pulumi.secret(adminToken),
  };
  const allowDestroy = new Set(strategy.protection.allowDestroy.map((a) => a.name));
  const datastores: Record<string, PbsDatastoreStack> = {};
  const pveTokens: PrimaryTier["pveTokens"] = {};
  strategy.datastores.forEach((d, i) => {
    const services = strategy.services.filter((s) => s.datastore === d.name);
    const byNamespace = new Map<string | undefined, KeepPolicy[]>();
    for (const s of services) {
      const keeps = byNamespace.get(s.namespace);
      if (keeps) keeps.push(s.keep);
      else byNamespace.set(s.namespace, [s.keep]);
    }
    const pruneJobs: PruneJobSpec[] = [...byNamespace].map(([ns, keeps]) => ({
      ...(ns ? { ns } : {}),
      schedule: d.pruneSchedule,
      ...strictestKeep(keeps),
      comment: `homelab-backup: ${services.filter((s) => s.namespace === ns).map((s) => s.name).join(", ")}`,
    }));
    // Targets are global in PBS: the first datastore declares them, the others only match to them.
    const targets = endpoints(strategy, secrets);
    const stack = new PbsDatastoreStack(
      d.name,
      {
        connection,
        name: d.name,
        path: d.path,
        comment: `homelab-backup: ZFS dataset ${d.dataset}${d.offsite ? ", synced off-site" : ""}`,
        gcSchedule: d.gcSchedule,
        verifyNew: d.verifyNew,
        allowDestroy: allowDestroy.has(d.name),
        destroyDataOnDelete: d.destroyDataOnDelete,
        ...(pbs.poolCapacityGb !== undefined
          ? {
              capacity: {
                pool: d.dataset.split("/")[0] as string,
                poolGb: pbs.poolCapacityGb,
                projectedGb: projectDatastoreGb(services, pbs.dailyChangePercent),
                thresholdPercent: strategy.monitoring.capacityThresholdPercent,
              },
            }
          : {}),
        namespaces: d.namespaceNames,
        pruneJobs,
        verifyJob: { schedule: d.verify.schedule, ignoreVerified: d.verify.ignoreVerified, outdatedAfterDays: d.verify.outdatedAfterDays },
        pveAccess: { user: pbs.pveUser, tokenName: pveTokenName(d.name, tokenKeeper), namespaces: d.namespaceNames },
        notificationEndpoints: i === 0 ? targets : [],
        ...(i === 0 || targets.length === 0
          ? {}
          : {
              notificationMatchers: [{
                name: `${d.name}-jobs`.slice(0, 32),
                targets: targets.map((t) => t.name),
                matchSeverity: ["warning", "error"],
                matchField: [`exact:type=${JOB_EVENT_TYPES}`, `exact:datastore=${d.name}`],
                mode: "all" as const,
                comment: `jobs of datastore ${d.name}`,
              }],
            }),
      },
      { parent },
    );
    datastores[d.name] = stack;
    if (stack.pveTokenId && stack.pveTokenSecret) pveTokens[d.name] = { id: stack.pveTokenId, secret: stack.pveTokenSecret };
  });
  return { datastores, pveTokens, resources: Object.values(datastores), connection };
}
