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
import { BackupNetwork, flowTableRows } from "../components/network";
import { epochKeeper, KeyRing, keyInventory, rotationEpoch } from "../components/keys";
import { createPbsMasterKey } from "../components/keys/master-key";
import { pveNodeConnection } from "./hosts";
import { createMonitoring, MONITOR_USER, pveNotifyTargets } from "./monitoring";
import { createVerification } from "./verification";
import { PveNotifications } from "../components/pve/notifications";
import { createAgents } from "./agents";
import { createOffsite } from "./offsite";
import { createSecondary } from "./secondary";

export interface BackupTopologyArgs {
  strategy: Strategy;
  secrets: Secrets;
  /** The date rotation epochs are computed from. @default now */
  now?: Date;
}

function required(secrets: Secrets, key: Exclude<keyof Secrets, "notificationSecrets" | "agentDatabasePasswords">): pulumi.Output<string> {
  const value = secrets[key];
  if (!value) throw new pulumi.RunError(`homelab-backup:${key}: is missing; expected a secret: pulumi config set --secret homelab-backup:${key} <value>`);
  return value;
}

/**
 * The key inventory as this topology is wired today: the PBS encryption key is PVE's generated
 * key (a new one would make the provider replace the protected storage, and old backups need the
 * old one), PVE's and the monitoring's PBS tokens rotate by epoch name, and host agents use borg
 * only, so no agent holds a PBS token.
 */
export function wiredKeyInventory(strategy: Strategy, now: Date) {
  const keyPeriod = strategy.security.encryptionKeyRotationDays;
  const notRotated = "not rotated: a new key would replace the protected PVE storage, and old backups need this one (README, keys)";
  const epoch = rotationEpoch(now, strategy.security.keyRotationDays);
  return keyInventory(strategy, now, keyPeriod !== undefined ? { encryptionKeyPeriodDays: keyPeriod } : {})
    // Not created by this topology: agents use borg only, so none holds a PBS token.
    .filter((k) => !k.key.startsWith("PBS API token for host agent"))
    .map((k) => {
      // PVE's generated key unless the library's keys are switched on.
      const pinned = k.key.startsWith("PBS client encryption key") && keyPeriod === undefined;
      const borg = k.key.startsWith("borg passphrase");
      return {
        key: k.key.replace(/ \(generation [^)]+\)/, ""),
        protects: k.protects,
        owner: k.key.startsWith("PBS master key") ? "BackupTopology: Node crypto in a create-only dynamic provider, set on every PVE pbs storage" : k.owner,
        rotation: pinned ? notRotated : borg ? "not rotated: generated once, protected and retained" : k.rotation,
        nextRotation: pinned || borg ? "" : (k.nextRotation?.toISOString().slice(0, 10) ?? ""),
        oldVersionsKept: pinned
          ? "one key, PVE's; keep the pbsEncryptionKeys output (pulumi stack output --show-secrets); each backup also carries it encrypted to the master key"
          : borg
            ? "one passphrase; the repository key is in the borgRepositoryKeys output"
            : k.oldVersionsKept,
      };
    })
    .concat(
      (["checks", "hook"] as const).map((token) => ({
        key: `PBS API token ${MONITOR_USER}!${token}-<epoch>`,
        protects: token === "checks" ? "the capacity and freshness checks' read-only view of PBS" : "the vzdump hook's read-only view of the datastores",
        owner: "stacks/monitoring.ts: epoch-named, the new token created before the old one is deleted",
        rotation: `automatic every ${strategy.security.keyRotationDays} days`,
        nextRotation: epoch.nextRotation.toISOString().slice(0, 10),
        oldVersionsKept: "none: deleted once the checks and the hook hold the new token",
      })),
    );
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

    // Tokens carry the rotation epoch in their names: the first `pulumi up` of a new epoch creates
    // the new ones, points every consumer at them, and deletes the old ones last.
    // One instant for every epoch: tokens and sync keys must not land either side of a boundary.
    const now = args.now ?? new Date();
    const tokenKeeper = epochKeeper(rotationEpoch(now, strategy.security.keyRotationDays));
    const primary = createPrimary(this, strategy, secrets, required(secrets, "pbsApiToken"), tokenKeeper);

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
    // Alerts, checks and the pre-backup hook, each with a read-only PBS token of its own.
    const monitoring = createMonitoring(this, strategy, secrets, primary.connection, primary.resources, tokenKeeper);

    // The recovery root: each backup's key, encrypted to this key pair, travels with the backup.
    const master = strategy.security.clientSideEncryption ? createPbsMasterKey("homelab", this) : undefined;
    // Opt-in: the library's encryption keys, one per epoch, earlier ones kept while backups need them.
    const keyPeriod = strategy.security.encryptionKeyRotationDays;
    const ring = master && keyPeriod !== undefined ? new KeyRing("keys", { strategy, now, periodDays: keyPeriod, masterKey: master }, { parent: this }) : undefined;
    const feed = new PveBackupFeed(
      "pve",
      {
        strategy,
        provider: pve,
        targets: [...targets.values()],
        hookScripts: monitoring.hookScripts,
        node: pveNodeConnection(strategy, secrets, strategy.verification.restoreTests.node),
        ...(master ? { masterKey: { publicKeyPem: master.publicKeyPem } } : {}),
        ...(ring?.currentPbsEncryptionKey ? { encryptionKey: ring.currentPbsEncryptionKey } : {}),
      },
      // The hook must be on every node before a job names it: vzdump refuses a missing script.
      { parent: this, dependsOn: [...primary.resources, monitoring.hook] },
    );

    // PVE's own alerts for failed vzdump runs, to the same targets as PBS's and the scripts'.
    new PveNotifications(
      "pve-notify",
      {
        spec: {
          targets: pveNotifyTargets(strategy),
          jobIds: strategy.services.map((s) => `backup-${s.name}`),
        },
        connection: pveNodeConnection(strategy, secrets, strategy.verification.restoreTests.node),
        ...(secrets.notificationSecrets ? { secrets: secrets.notificationSecrets } : {}),
      },
      { parent: this, dependsOn: [feed] },
    );

    // Firewall and VLAN from the flows the topology needs; nothing else is opened.
    const network = new BackupNetwork("backup-net", { strategy, provider: pve }, { parent: this });
    const offsite = createOffsite(this, strategy, secrets, tokenKeeper);
    const replica = createSecondary(this, strategy, required(secrets, "truenasApiKey"), offsite.targets);

    const agents = createAgents(this, strategy, secrets);
    // Each restore test runs after the notify command on its host and, for databases, its agent.
    createVerification(this, strategy, secrets, pve, { notifier: monitoring.notifier, agents });

    this.outputs = {
      datastores: pulumi.output(strategy.datastores.map((d) => d.name)),
      pveStorages: feed.storageIds,
      pveJobs: feed.jobIds,
      encryptionKeyFingerprints: feed.encryptionKeyFingerprints,
      pbsEncryptionKeys: feed.encryptionKeys,
      ...(ring?.retainedPbsKeys && ring.pbsKeyFingerprints ? { retainedPbsKeys: ring.retainedPbsKeys, pbsKeyFingerprints: ring.pbsKeyFingerprints } : {}),
      ...(master
        ? { pbsMasterPublicKey: master.publicKeyPem, pbsMasterPrivateKey: master.privateKeyPem, pbsMasterKeyPassphrase: master.passphrase }
        : {}),
      truenasPublicKey: replica.publicKey,
      pbsAuthorizedKey: replica.authorizedKey,
      offsiteBuckets: pulumi.output(offsite.archive.bucketNames),
      // Plain data the plan renders: what the off-site tier costs and cannot do on this provider.
      offsiteCost: pulumi.output(offsite.archive.cost as unknown as Record<string, unknown>),
      offsiteNotes: pulumi.output([...offsite.archive.notes]),
      backupFlows: pulumi.output(flowTableRows(network.flows) as unknown as Record<string, string>[]),
      keyInventory: pulumi.output(wiredKeyInventory(strategy, now)),
      borgRepositoryKeys: pulumi.secret(pulumi.all(Object.fromEntries(agents.map((a, i) => [strategy.agents[i]?.name ?? String(i), a.repositoryKey])))),
    };
    this.registerOutputs(this.outputs);
  }

  /** The stack outputs the program exports. */
  stackOutputs(): Record<string, pulumi.Output<unknown>> {
    return this.outputs;
  }
}
