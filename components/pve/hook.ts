/**
 * `BackupHook`: deploys the vzdump hook (pre-backup health checks, issue #12) to every PVE node
 * over SSH with @pulumi/command, three steps per node:
 *
 *   install (curl, jq, openssl) ─► secrets (root-only env file from stdin) ─► deploy (hook, entries)
 *
 * Set each service's `backup.Job` `script` to `jobScripts[<service>]` (or every job's to
 * `scriptPath`, which tells jobs apart by storage only). The hook calls homelab-backup-notify, so
 * deploy the `Notifier` on the same nodes first (`dependsOn`).
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { shellQuote, writeFileScript } from "../agents/shell";
import { MonitoringArgsError, checkName, rootStep, sshConnection, type HostConnection } from "../monitoring/connection";
import { deployFilesScript, installPackagesScript, removeSecretsScript, secretsFileScript, type HostFile } from "../monitoring/remote-steps";
import {
  DEFAULT_HOOK_LAYOUT,
  HOOK_STUB,
  jobScriptPath,
  renderHookEnv,
  renderHookScript,
  renderJobEntry,
  resolveBackupHookSpec,
  type BackupHookLayout,
  type BackupHookSpec,
  type ResolvedBackupHookSpec,
} from "./hook-script";

export const BACKUP_HOOK_TYPE = "homelab:pve:BackupHook";

/** A PVE node that runs vzdump jobs. */
export interface BackupHookNode {
  /** The node's name; names its steps (`<component>-<node>-deploy`). */
  name: string;
  /** SSH login on the node. */
  connection: HostConnection;
}

export interface BackupHookArgs extends BackupHookSpec {
  /** Every node of the cluster: a job may run on any of them. */
  nodes: BackupHookNode[];
  /** Secret of the audit token `pbs.tokenId` (DatastoreAudit only); a secret. */
  pbsTokenSecret: pulumi.Input<string>;
}

/** What the deploy step writes on every node. */
export function hookFiles(spec: ResolvedBackupHookSpec, layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): HostFile[] {
  return [
    { path: layout.scriptPath, mode: "0755", content: renderHookScript(spec, layout) },
    ...spec.jobs.map((j) => ({ path: jobScriptPath(j.name, layout), mode: "0755", content: renderJobEntry(j.name, layout) })),
  ];
}

/** Removing the hook leaves a pass-through stub: vzdump refuses to run a job whose hook is missing. */
export function hookRemoveScript(layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): string {
  return ["set -eu", `if [ -e ${shellQuote(layout.scriptPath)} ]; then`, writeFileScript(layout.scriptPath, HOOK_STUB, "0755"), "fi"].join("\n");
}

export class BackupHook extends pulumi.ComponentResource {
  /** The shared hook; as a job's `script` it checks by storage (exact when one job uses it). */
  readonly scriptPath: string;
  /** Each job's entry point by job (service) name: set as that job's `script`. */
  readonly jobScripts: Record<string, string>;
  /** The deploy step of each node by node name, for `dependsOn` of the backup jobs. */
  readonly deployed: Record<string, remote.Command>;

  constructor(name: string, args: BackupHookArgs, opts?: pulumi.ComponentResourceOptions) {
    super(BACKUP_HOOK_TYPE, name, {}, opts);
    const spec = resolveBackupHookSpec(args, `backup hook ${name}`);
    const problems: string[] = [];
    if (args.nodes.length === 0) problems.push("nodes is empty; expected every PVE node that runs backup jobs");
    args.nodes.forEach((n, i) => checkName(`nodes[${i}].name`, n.name, problems));
    if (new Set(args.nodes.map((n) => n.name)).size !== args.nodes.length) problems.push("nodes has a name twice");
    if (problems.length > 0) throw new MonitoringArgsError(`backup hook ${name}`, problems);

    const layout = DEFAULT_HOOK_LAYOUT;
    this.scriptPath = layout.scriptPath;
    this.jobScripts = Object.fromEntries(spec.jobs.map((j) => [j.name, jobScriptPath(j.name, layout)]));
    const files = hookFiles(spec, layout);
    const env = pulumi.output(args.pbsTokenSecret).apply(renderHookEnv);

    this.deployed = {};
    for (const node of args.nodes) {
      const connection = sshConnection(node.connection);
      const root = (s: string) => rootStep(node.connection, s);
      const install = new remote.Command(
        `${name}-${node.name}-install`,
        { connection, create: root(installPackagesScript({ curl: "curl", jq: "jq", openssl: "openssl" })) },
        { parent: this },
      );
      const secrets = new remote.Command(
        `${name}-${node.name}-secrets`,
        { connection, create: root(secretsFileScript(layout.envFile)), stdin: pulumi.secret(env), delete: root(removeSecretsScript(layout.envFile)), logging: "stderr" },
        { parent: this, dependsOn: [install] },
      );
      this.deployed[node.name] = new remote.Command(
        `${name}-${node.name}-deploy`,
        {
          connection,
          create: root(deployFilesScript(`homelab-backup vzdump hook on ${node.name}`, files)),
          // No triggers: a changed hook is an update (create runs again), not a replacement.
          delete: root(hookRemoveScript(layout)),
        },
        { parent: this, dependsOn: [secrets], deleteBeforeReplace: true },
      );
    }

    this.registerOutputs({ scriptPath: this.scriptPath, jobScripts: this.jobScripts });
  }
}
