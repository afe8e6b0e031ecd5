/**
 * `PveNotifications`: PVE's notification endpoints, the matcher for failed backup jobs, and
 * `notification-mode notification-system` on every job, set over SSH on one node (the cluster
 * configuration is shared). See notifications-script.ts for why the provider cannot do it.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { asRoot } from "../agents/shell";
import { pveNotificationSecrets, pveNotificationsScript, type PveNotificationsSpec } from "./notifications-script";

export const PVE_NOTIFICATIONS_TYPE = "homelab:pve:Notifications";

export interface PveNotificationsArgs {
  /** Targets, the matcher name and the backup job ids; plain, they decide the script. */
  spec: PveNotificationsSpec;
  /** A PVE node's management address and the deploy login; the private key a secret. */
  connection: { host: string; user: string; port: number; privateKey: pulumi.Input<string> };
  /** Target name → its secret (gotify token, smtp password); secrets. @default {} */
  secrets?: pulumi.Input<Record<string, string>>;
}

export class PveNotifications extends pulumi.ComponentResource {
  /** The names of the endpoints the matcher sends failed vzdump runs to. */
  public readonly targets: string[];

  constructor(name: string, args: PveNotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PVE_NOTIFICATIONS_TYPE, name, {}, opts);
    const script = pveNotificationsScript(args.spec);
    const { connection } = args;
    new remote.Command(
      `${name}-apply`,
      {
        connection: { host: connection.host, user: connection.user, port: connection.port, privateKey: pulumi.secret(connection.privateKey) },
        create: asRoot(script, connection.user),
        stdin: pulumi.secret(pulumi.output(args.secrets ?? {}).apply((s) => pveNotificationSecrets(args.spec.targets, s))),
        logging: "stderr",
      },
      // Kept when dropped: removing the component leaves PVE's notifications as they are.
      { parent: this, retainOnDelete: true },
    );
    this.targets = args.spec.targets.map((t) => t.name);
    this.registerOutputs({ targets: this.targets });
  }
}
