/**
 * How `pulumi up` reaches the hosts it deploys scripts to over SSH (@pulumi/command): the PVE
 * nodes' and the PBS host's management addresses, with the one deploy key (`hostSshPrivateKey`).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";

export interface HostConnection {
  host: string;
  /** Plain: it decides whether scripts run through `sudo -n`. */
  user: string;
  port: number;
  /** Secret. */
  privateKey: pulumi.Output<string>;
}

function deployKey(secrets: Secrets): pulumi.Output<string> {
  const key = secrets.hostSshPrivateKey;
  if (!key) throw new pulumi.RunError("homelab-backup:hostSshPrivateKey: is missing; expected a secret: pulumi config set --secret homelab-backup:hostSshPrivateKey < deploy_key");
  return pulumi.secret(key);
}

export function pveNodeConnection(strategy: Strategy, secrets: Secrets, nodeName: string): HostConnection {
  const node = strategy.hosts.pve.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`no PVE node ${nodeName}; expected one of ${strategy.hosts.pve.nodes.map((n) => n.name).join(", ")}`);
  return { host: node.address, user: strategy.hosts.pve.sshUser, port: 22, privateKey: deployKey(secrets) };
}

/** An agent host's SSH login, with the agents' deploy key (`agentSshPrivateKey`). */
export function agentConnection(agent: Strategy["agents"][number], secrets: Secrets): HostConnection {
  const key = secrets.agentSshPrivateKey;
  if (!key) throw new pulumi.RunError("homelab-backup:agentSshPrivateKey: is missing; expected a secret: pulumi config set --secret homelab-backup:agentSshPrivateKey \"$(cat key)\"");
  return { host: agent.address, user: agent.sshUser, port: agent.sshPort, privateKey: pulumi.secret(key) };
}

export function pbsHostConnection(strategy: Strategy, secrets: Secrets): HostConnection {
  return { host: strategy.hosts.pbs.host, user: strategy.hosts.pbs.sshUser, port: 22, privateKey: deployKey(secrets) };
}
