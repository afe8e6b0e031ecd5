/**
 * The composition root: which components exist for a Strategy, and how they are wired. The
 * only place that knows every tier; components know only their own typed arguments.
 */
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { PveBackupFeed, storageIdFor, type PbsStorageTarget } from "../components/pve/backup-feed";
import { createPrimary } from "./primary";
import { createAgents } from "./agents";
import { createOffsite } from "./offsite";
import { createSecondary } from "./secondary";

export interface BackupTopologyArgs {
  strategy: Strategy;
  secrets: Secrets;
}

function required(secrets: Secrets, key: Exclude<keyof Secrets, "notificationSecrets" | "agentDatabasePasswords">): pulumi.Output<string> {
  const value = secrets[key];
  if (!value) throw new pulumi.RunError(`homelab-backup:${key}: is missing; expected a secret: pulumi config set --secret homelab-backup:${key} <value>`);
  return value;
}

export class BackupTopology extends pulumi.ComponentResource {
  private readonly outputs: Record<string, pulumi.Output<unknown>>;

  constructor(name: string, args: BackupTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:index:BackupTopology", name, {}, opts);
    const { strategy, secrets } = args;

    const pve = new proxmoxve.Provider(
      "pve",
      {
        endpoint: strategy.hosts.pve.endpoint,
        apiToken: required(secrets, "pveApiToken"),
        // Never skip verification: PVE's certificate must be trusted (or its CA installed).
        insecure: false,
      },
      { parent: this },
    );

    const primary = createPrimary(this, strategy, secrets, required(secrets, "pbsApiToken"));

    const multiple = strategy.datastores.length > 1;
    const targets = new Map<string, PbsStorageTarget>();
    for (const service of strategy.services) {
      const storageId = storageIdFor(strategy.hosts.pve.storageId, service, multiple);
      if (targets.has(storageId)) continue;
      const token = primary.pveTokens[service.datastore];
      if (!token) throw new Error(`datastore ${service.datastore} has no PVE token`);
      targets.set(storageId, {
        storageId,
        datastore: service.datastore,
        ...(service.namespace ? { namespace: service.namespace } : {}),
        tokenId: token.id,
        tokenSecret: token.secret,
      });
    }
    const feed = new PveBackupFeed("pve", { strategy, provider: pve, targets: [...targets.values()] }, { parent: this, dependsOn: primary.resources });

    const offsite = createOffsite(this, strategy, secrets);
    const replica = createSecondary(this, strategy, required(secrets, "truenasApiKey"), offsite.target);

    const agents = createAgents(this, strategy, secrets);

    this.outputs = {
      datastores: pulumi.output(strategy.datastores.map((d) => d.name)),
      pveStorages: feed.storageIds,
      pveJobs: feed.jobIds,
      encryptionKeyFingerprints: feed.encryptionKeyFingerprints,
      pbsEncryptionKeys: feed.encryptionKeys,
      truenasPublicKey: replica.publicKey,
      pbsAuthorizedKey: replica.authorizedKey,
      offsiteBuckets: pulumi.output(offsite.archive.bucketNames),
      // Plain data the plan renders: what the off-site tier costs and cannot do on this provider.
      offsiteCost: pulumi.output(offsite.archive.cost as unknown as Record<string, unknown>),
      offsiteNotes: pulumi.output([...offsite.archive.notes]),
      borgRepositoryKeys: pulumi.secret(pulumi.all(Object.fromEntries(agents.map((a, i) => [strategy.agents[i]?.name ?? String(i), a.repositoryKey])))),
    };
    this.registerOutputs(this.outputs);
  }

  /** The stack outputs the program exports. */
  stackOutputs(): Record<string, pulumi.Output<unknown>> {
    return this.outputs;
  }
}
