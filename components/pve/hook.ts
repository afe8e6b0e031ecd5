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

/** The file the deploy step writes on every node: the shared hook. */
export function hookFiles(spec: ResolvedBackupHookSpec, layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): HostFile[] {
  return [{ path: layout.scriptPath, mode: "0755", content: renderHookScript(spec, layout) }];
}

/**
 * Writes each job's entry point (exactly `renderJobEntry`) from one list of job names, in a loop on
 * the node. A heredoc per job made the deploy step a megabyte per node at 2,000 services, kept in
 * the state and carried by every plan; the list is a few bytes a job. Job names are checked
 * (`[a-z0-9_-]`), so they need no quoting and cannot end the list early.
 */
export function jobEntriesScript(jobs: readonly string[], layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): string {
  const dir = shellQuote(layout.jobDir);
  // The entry's text around the job name, split where renderJobEntry puts the name.
  const comment = ['# vzdump hook of the homelab-backup job "', '"; written by Pulumi. Set as the job\'s script.'];
  const exec = [`exec ${shellQuote(layout.scriptPath)} --job `, ' "$@"'];
  return [
    `install -d ${dir}`,
    "while IFS= read -r job; do",
    `  { printf '%s\\n' '#!/bin/sh'; printf '%s%s%s\\n' ${shellQuote(comment[0] as string)} "$job" ${shellQuote(comment[1] as string)}; printf '%s%s%s\\n' ${shellQuote(exec[0] as string)} "$job" ${shellQuote(exec[1] as string)}; } > ${dir}/"$job.new"`,
    `  chmod 0755 ${dir}/"$job.new"`,
    `  mv -f ${dir}/"$job.new" ${dir}/"$job"`,
    "done <<'HOMELAB_BACKUP_JOBS'",
    ...jobs,
    "HOMELAB_BACKUP_JOBS",
  ].join("\n");
}

/** The deploy step of a node, labelled for it: the hook, then every job's entry point. */
export function hookDeployScript(spec: ResolvedBackupHookSpec, layout: BackupHookLayout = DEFAULT_HOOK_LAYOUT): (label: string) => string {
  // Built once; every node gets the same files.
  const files = hookFiles(spec, layout);
  const after = [jobEntriesScript(spec.jobs.map((j) => j.name), layout)];
  return (label) => deployFilesScript(label, files, after);
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
    const env = pulumi.output(args.pbsTokenSecret).apply(renderHookEnv);

    this.deployed = {};
    const deployScript = hookDeployScript(spec, layout);
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
          create: root(deployScript(`homelab-backup vzdump hook on ${node.name}`)),
          // No triggers: a changed hook is an update (create runs again), not a replacement.
          delete: root(hookRemoveScript(layout)),
        },
        { parent: this, dependsOn: [secrets], deleteBeforeReplace: true },
      );
    }

    this.registerOutputs({ scriptPath: this.scriptPath, jobScripts: this.jobScripts });
  }
}
