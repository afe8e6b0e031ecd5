/**
 * `Notifier`: installs `homelab-backup-notify` on each host (the PBS host, every PVE node) over
 * SSH with @pulumi/command, three steps per host, each re-run only when its own script changes:
 *
 *   install (curl, jq) ─► secrets (root-only env file from stdin) ─► deploy (the script)
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { MonitoringArgsError, checkName, checkNumber, rootStep, sshConnection, type HostConnection } from "./connection";
import {
  DEFAULT_NOTIFY_LAYOUT,
  renderNotifyEnv,
  renderNotifyScript,
  validateTargets,
  type NotifyTarget,
} from "./notify-script";
import { deployFilesScript, installPackagesScript, removeSecretsScript, secretsFileScript } from "./remote-steps";
import { shellQuote } from "../agents/shell";

export const NOTIFIER_TYPE = "homelab:monitoring:Notifier";

/** A host that gets the notify command. */
export interface NotifierHost {
  /** Names the host's steps (`<component>-<name>-deploy`); lowercase letters, digits, "-". */
  name: string;
  /** SSH login on the host. */
  connection: HostConnection;
}

export interface NotifierArgs {
  /** Every host whose scripts notify: the PBS host and each PVE node. */
  hosts: NotifierHost[];
  /** Where messages go; plain data (see `NotifyTarget`). An empty list logs to syslog only. */
  targets: NotifyTarget[];
  /**
   * Gotify application tokens by target name; secrets. Every gotify target needs one.
   * @default {}
   */
  gotifyTokens?: Record<string, pulumi.Input<string>>;
  /**
   * Bearer tokens of webhook targets (an ntfy access token) by target name; secrets.
   * @default {}
   */
  webhookTokens?: Record<string, pulumi.Input<string>>;
  /** Seconds each delivery may take. @default 20 */
  timeoutSeconds?: number;
}

/** Packages by the command the script needs from them. */
const NOTIFY_PACKAGES = { curl: "curl", jq: "jq" };

export class Notifier extends pulumi.ComponentResource {
  /** Where the command is on every host: `/usr/local/sbin/homelab-backup-notify`. */
  readonly command: string;
  /** The deploy step of each host by host name, for `dependsOn` of scripts that call the command. */
  readonly deployed: Record<string, remote.Command>;

  constructor(name: string, args: NotifierArgs, opts?: pulumi.ComponentResourceOptions) {
    super(NOTIFIER_TYPE, name, {}, opts);
    const gotify = args.gotifyTokens ?? {};
    const webhook = args.webhookTokens ?? {};
    validateTargets(args.targets, { gotify: Object.keys(gotify), webhook: Object.keys(webhook) }, `notifier ${name}`);
    const problems: string[] = [];
    if (args.hosts.length === 0) problems.push("hosts is empty; expected the hosts whose scripts notify");
    args.hosts.forEach((h, i) => checkName(`hosts[${i}].name`, h.name, problems));
    if (new Set(args.hosts.map((h) => h.name)).size !== args.hosts.length) problems.push("hosts has a name twice");
    checkNumber("timeoutSeconds", args.timeoutSeconds ?? 20, 1, 300, problems);
    if (problems.length > 0) throw new MonitoringArgsError(`notifier ${name}`, problems);

    const layout = DEFAULT_NOTIFY_LAYOUT;
    this.command = layout.scriptPath;
    const script = renderNotifyScript(args.targets, { timeoutSeconds: args.timeoutSeconds });
    const secretNames = [...Object.keys(gotify), ...Object.keys(webhook)];
    // Only the values go through `all`; the names stay plain so a missing token fails at construction.
    const env = pulumi
      .all(secretNames.map((n) => pulumi.output((gotify[n] ?? webhook[n]) as pulumi.Input<string>)))
      .apply((values) => renderNotifyEnv(args.targets, Object.fromEntries(secretNames.map((n, i) => [n, values[i] as string]))));

    this.deployed = {};
    // One list for every host, so its deploy body is built once.
    const files = [{ path: layout.scriptPath, mode: "0755", content: script }];
    for (const host of args.hosts) {
      const connection = sshConnection(host.connection);
      const root = (s: string) => rootStep(host.connection, s);
      const install = new remote.Command(`${name}-${host.name}-install`, { connection, create: root(installPackagesScript(NOTIFY_PACKAGES)) }, { parent: this });
      const secrets = new remote.Command(
        `${name}-${host.name}-secrets`,
        { connection, create: root(secretsFileScript(layout.envFile)), stdin: pulumi.secret(env), delete: root(removeSecretsScript(layout.envFile)), logging: "stderr" },
        { parent: this, dependsOn: [install] },
      );
      this.deployed[host.name] = new remote.Command(
        `${name}-${host.name}-deploy`,
        {
          connection,
          create: root(deployFilesScript(`homelab-backup-notify on ${host.name}`, files)),
          // No triggers: a changed script is an update (create runs again), not a replacement.
          delete: root(`set -eu\nrm -f ${shellQuote(layout.scriptPath)}`),
        },
        { parent: this, dependsOn: [secrets], deleteBeforeReplace: true },
      );
    }

    this.registerOutputs({ command: this.command });
  }
}
