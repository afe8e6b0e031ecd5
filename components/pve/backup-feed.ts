import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { remote } from "@pulumi/command";
import { asRoot } from "../agents/shell";
import type { Strategy } from "../../config/strategy";
import { backupJobArgs } from "./backup-job";
import { setMasterPubkeyScript, setStorageCredentialsScript, setStorageEncryptionKeyScript } from "./master-key";
import { storageIdFor } from "./storage-id";

export { storageIdFor };

/** One PVE `pbs` storage: a datastore (and namespace) PVE writes to. */
export interface PbsStorageTarget {
  /** PVE storage id, e.g. `pbs-backup-critical`. */
  storageId: string;
  datastore: string;
  namespace?: string;
  /** Token id PVE authenticates with (`user@realm!name`). */
  tokenId: pulumi.Input<string>;
  /** The token's secret; must be a Pulumi secret. */
  tokenSecret: pulumi.Input<string>;
}

export interface PveBackupFeedArgs {
  /** The validated strategy. */
  strategy: Strategy;
  /** Provider for the PVE cluster. */
  provider: proxmoxve.Provider;
  /** One storage per datastore/namespace the services write to. */
  targets: PbsStorageTarget[];
  /**
   * Mail recipients for failed jobs.
   * @default the mailto of the first smtp notification target, or none
   */
  mailto?: string[];
  /**
   * Where retention is enforced: "pbs" leaves keep-all on the PVE side.
   * @default "pbs"
   */
  pruneOn?: "pbs" | "pve";
  /** Hook script (pre-backup health checks) each service's job runs, by service name. @default none */
  hookScripts?: Record<string, string>;
  /**
   * The PBS master public key set on every encrypting storage, the recovery path of a lost
   * storage key, and the SSH login on a PVE node it is set through.
   * @default none (only the storages' own keys, re-exported as `encryptionKeys`)
   */
  masterKey?: {
    publicKeyPem: pulumi.Input<string>;
  };
  /**
   * The library's current PBS encryption key file (a secret), set on every storage and, after a
   * rotation, changed in place through `node`. Without it PVE generates each storage's key once.
   * @default none
   */
  encryptionKey?: pulumi.Input<string>;
  /**
   * A PVE node's management address and the deploy login (the private key a secret), through
   * which storage settings the provider cannot change in place are set: the master public key,
   * and the PBS token after a rotation. Without it the storages keep their first token.
   * @default none
   */
  node?: { host: string; user: string; port: number; privateKey: pulumi.Input<string> };
}


/**
 * The primary tier's feed on the PVE side: `pbs` storages pointing at the PBS datastores with
 * client-side encryption, and one vzdump job per service of the strategy.
 */
export class PveBackupFeed extends pulumi.ComponentResource {
  /** Storage ids by target, in declaration order. */
  public readonly storageIds: pulumi.Output<string[]>;
  /** The client-side encryption key of each storage, as Pulumi secrets (recover backups with them). */
  public readonly encryptionKeys: pulumi.Output<Record<string, string>>;
  /** Fingerprint of each storage's encryption key. */
  public readonly encryptionKeyFingerprints: pulumi.Output<Record<string, string>>;
  /** Job resource ids by service. */
  public readonly jobIds: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: PveBackupFeedArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:pve:BackupFeed", name, {}, opts);
    const { strategy } = args;
    const childOpts = { parent: this, provider: args.provider };
    const multiple = strategy.datastores.length > 1;
    const pbs = strategy.hosts.pbs;

    const storages = new Map<string, proxmoxve.storage.Pbs>();
    for (const target of args.targets) {
      if (!strategy.security.clientSideEncryption) {
        pulumi.log.warn(`storage ${target.storageId}: client-side encryption is off; backups leave PVE unencrypted`, this);
      }
      const storage = new proxmoxve.storage.Pbs(
        target.storageId,
        {
          resourceId: target.storageId,
          server: pbs.backupAddress,
          datastore: target.datastore,
          ...(target.namespace ? { namespace: target.namespace } : {}),
          username: target.tokenId,
          password: pulumi.secret(target.tokenSecret),
          fingerprint: pbs.fingerprint,
          contents: ["backup"],
          nodes: strategy.hosts.pve.nodes.map((n) => n.name),
          // Either the library's key, or PVE generates a KDF-less key (the only kind its pbs
          // storage accepts) and the provider returns it as a secret output, re-exported below.
          ...(args.encryptionKey && strategy.security.clientSideEncryption
            ? { encryptionKey: pulumi.secret(args.encryptionKey) }
            : { generateEncryptionKey: strategy.security.clientSideEncryption }),
          backups: { keepAll: true },
        },
        {
          ...childOpts,
          additionalSecretOutputs: ["generatedEncryptionKey"],
          protect: true,
          // A rotated token would make the provider replace the storage; the node step below
          // changes it in place instead.
          ...(args.node ? { ignoreChanges: ["username", "password", ...(args.encryptionKey ? ["encryptionKey", "generateEncryptionKey"] : [])] } : {}),
        },
      );
      storages.set(target.storageId, storage);
      const node = args.node;
      if (!node) continue;
      const sudo = (script: string) => asRoot(script, node.user);
      const connection = { host: node.host, user: node.user, port: node.port, privateKey: pulumi.secret(node.privateKey) };
      new remote.Command(
        `${target.storageId}-credentials`,
        {
          connection,
          create: pulumi.output(target.tokenId).apply((id) => sudo(setStorageCredentialsScript(target.storageId, id))),
          stdin: pulumi.secret(pulumi.output(target.tokenSecret).apply((s) => `${s}\n`)),
          logging: "stderr",
        },
        // Kept when dropped: the storage keeps working with what was set last.
        { parent: this, dependsOn: [storage], retainOnDelete: true },
      );
      if (args.encryptionKey && strategy.security.clientSideEncryption) {
        new remote.Command(
          `${target.storageId}-encryption-key`,
          {
            connection,
            create: sudo(setStorageEncryptionKeyScript(target.storageId)),
            // The key file changes with the epoch, so each rotation runs the step again.
            stdin: pulumi.secret(pulumi.output(args.encryptionKey).apply((k) => `${k}\n`)),
            logging: "stderr",
          },
          // Kept when dropped: the storage keeps the key it was given last.
          { parent: this, dependsOn: [storage], retainOnDelete: true },
        );
      }
      if (args.masterKey && strategy.security.clientSideEncryption) {
        const { publicKeyPem } = args.masterKey;
        new remote.Command(
          `${target.storageId}-master-pubkey`,
          { connection, create: pulumi.output(publicKeyPem).apply((pem) => sudo(setMasterPubkeyScript(target.storageId, pem))) },
          // No delete: dropping the command must not drop the recovery path of existing backups.
          { parent: this, dependsOn: [storage], retainOnDelete: true },
        );
      }
    }

    const mailto =
      args.mailto ??
      strategy.monitoring.targets.flatMap((t) => (t.type === "smtp" ? t.mailto : [])).slice(0, 10);
    const jobs = new Map<string, proxmoxve.backup.Job>();
    for (const service of strategy.services) {
      const storageId = storageIdFor(strategy.hosts.pve.storageId, service, multiple);
      const storage = storages.get(storageId);
      if (!storage) {
        throw new Error(`service ${service.name}: no PBS storage target ${storageId}; expected one of ${[...storages.keys()].join(", ")}`);
      }
      const vmids = service.guests.vmids?.map(String);
      const tagged = service.guests.tags?.length
        ? proxmoxve.getVmsLegacyOutput({ tags: service.guests.tags }, { parent: this, provider: args.provider }).vms.apply((vms) =>
            vms.map((vm) => String(vm.vmId)),
          )
        : undefined;
      const plain = backupJobArgs(
        service,
        {
          storage: storageId,
          excludePaths: strategy.exclusions.paths,
          stdexcludes: strategy.exclusions.stdexcludes,
          mailto,
          pruneOn: args.pruneOn ?? "pbs",
          ...(args.hookScripts?.[service.name] ? { script: args.hookScripts[service.name] } : {}),
        },
        vmids,
      );
      const job = new proxmoxve.backup.Job(
        `backup-${service.name}`,
        {
          ...plain,
          ...(tagged ? { vmids: pulumi.all([tagged]).apply(([t]) => [...new Set([...(vmids ?? []), ...t])]) } : {}),
          storage: storage.resourceId,
        },
        { ...childOpts, dependsOn: [storage] },
      );
      jobs.set(service.name, job);
    }

    this.storageIds = pulumi.output([...storages.keys()]);
    this.encryptionKeys = pulumi.secret(
      pulumi.all(Object.fromEntries([...storages].map(([id, s]) => [id, s.generatedEncryptionKey]))),
    );
    this.encryptionKeyFingerprints = pulumi.all(
      Object.fromEntries([...storages].map(([id, s]) => [id, s.encryptionKeyFingerprint])),
    );
    this.jobIds = pulumi.all(Object.fromEntries([...jobs].map(([name, j]) => [name, j.resourceId])));
    this.registerOutputs({
      storageIds: this.storageIds,
      encryptionKeys: this.encryptionKeys,
      encryptionKeyFingerprints: this.encryptionKeyFingerprints,
      jobIds: this.jobIds,
    });
  }
}
