/**
 * The isolated backup network on the Proxmox VE side: the backup VLAN on every node (or as an SDN
 * zone and vnet), the nodes' addresses on it, and the cluster firewall rendered from the flows the
 * topology needs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type { Strategy } from "../../config/strategy";
import { normalizeCidr, prefixLength } from "./cidr";
import { DROP_LOG_LEVEL, firewallPlan, type FirewallPlan } from "./firewall";
import { deriveFlows, type Flow } from "./flows";

export interface BackupNetworkArgs {
  /** The validated strategy: PVE nodes, PBS, TrueNAS, host agents, the backup VLAN and the off-site path. */
  strategy: Strategy;
  /** Provider for the PVE cluster; every child uses it. */
  provider: proxmoxve.Provider;
  /**
   * The flows the firewall lets through; every endpoint must be a declared host.
   * @default deriveFlows(strategy)
   */
  flows?: Flow[];
  /**
   * Whether the cluster firewall is switched on. With `false` the IP sets, group and rules are
   * declared but the datacenter firewall stays off, for a first rollout that can be inspected in
   * the GUI before it can lock anything out.
   * @default true
   */
  enforce?: boolean;
  /**
   * Whether this component owns the datacenter's rule list (one rule: the backup security group).
   * The provider's cluster rules resource replaces the whole list, so import existing datacenter
   * rules first (`pulumi import proxmoxve:firewall/rulesLegacy:RulesLegacy <name> cluster`) or set
   * `false` and insert the group yourself.
   * @default true
   */
  manageClusterRules?: boolean;
  /**
   * Prefix of the IP set and security group names (1-10 characters).
   * @default "backup"
   */
  namePrefix?: string;
}

/**
 * The node's VLAN interface: `<raw>.<id>` (PVE's usual form), or `vlan<id>` on top of the raw
 * device when the dotted name would pass Linux's 15-character interface name limit.
 */
export function vlanInterface(rawDevice: string, vlanId: number): { name: string; interface?: string; vlan?: number } {
  const dotted = `${rawDevice}.${vlanId}`;
  return dotted.length <= 15 ? { name: dotted } : { name: `vlan${vlanId}`, interface: rawDevice, vlan: vlanId };
}

/** SDN ids are at most 8 lowercase letters and digits. */
export function sdnIds(vlanId: number): { zone: string; vnet: string } {
  return { zone: `bkz${vlanId}`, vnet: `bkv${vlanId}` };
}

export class BackupNetwork extends pulumi.ComponentResource {
  /** The flows the firewall allows, in their stable order. */
  public readonly flows: readonly Flow[];
  /** The IP sets and rules, as registered. */
  public readonly firewall: FirewallPlan;
  /** Each declared host's backup VLAN address with the subnet's prefix (`10.20.0.11/24`). */
  public readonly addresses: Readonly<Record<string, string>>;
  /** The security group to insert into PBS or TrueNAS guests' own firewall rules. */
  public readonly securityGroupName: string;
  /** The node VLAN interfaces as PVE names them, by node. */
  public readonly vlanInterfaces: Readonly<Record<string, string>>;
  /** Every child, for `dependsOn` of resources that need the network in place. */
  public readonly resources: readonly pulumi.Resource[];

  constructor(name: string, args: BackupNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab:network:BackupNetwork", name, {}, opts);
    const { strategy } = args;
    const enforce = args.enforce ?? true;
    const vlan = strategy.network.backupVlan;
    const prefix = prefixLength(vlan.subnet);
    const nodes = strategy.hosts.pve.nodes;
    const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({ parent: this, provider: args.provider, ...extra });
    const resources: pulumi.Resource[] = [];

    // Every check runs before the first child registers, so a refused config leaves nothing half-declared.
    const bridges = [...new Set(nodes.map((n) => n.interface))];
    if (vlan.mode === "sdn" && bridges.length !== 1) {
      throw new Error(
        `network.backupVlan.mode "sdn": a VLAN zone uses one bridge on every node, but the nodes use ${nodes.map((n) => `${n.interface} (${n.name})`).join(", ")}; expected the same hosts.pve.nodes[].interface on every node`,
      );
    }
    this.flows = args.flows ?? deriveFlows(strategy);
    this.firewall = firewallPlan(strategy, this.flows, args.namePrefix ?? "backup");
    this.securityGroupName = this.firewall.groupName;
    this.addresses = Object.fromEntries([
      ...nodes.map((n) => [n.name, `${normalizeCidr(n.backupAddress)}/${prefix}`]),
      [strategy.hosts.pbs.name, `${normalizeCidr(strategy.hosts.pbs.backupAddress)}/${prefix}`],
      [strategy.hosts.truenas.name, `${normalizeCidr(strategy.hosts.truenas.backupAddress)}/${prefix}`],
    ]);

    // The nodes' own addresses live on a VLAN interface in both modes: an SDN VLAN zone bridges
    // guests onto the VLAN but gives the host no address on it.
    const vlanInterfaces: Record<string, string> = {};
    for (const node of nodes) {
      const iface = vlanInterface(node.interface, vlan.id);
      vlanInterfaces[node.name] = iface.name;
      resources.push(
        new proxmoxve.network.linux.Vlan(
          `${name}-vlan-${node.name}`,
          {
            nodeName: node.name,
            ...iface,
            address: this.addresses[node.name] as string,
            // No gateway: the backup VLAN is isolated, and a second default route would take over
            // the node's management traffic.
            autostart: true,
            comment: `homelab-backup: backup VLAN ${vlan.id} (${normalizeCidr(vlan.subnet)})`,
          },
          child(),
        ),
      );
    }
    this.vlanInterfaces = vlanInterfaces;

    if (vlan.mode === "sdn") {
      const ids = sdnIds(vlan.id);
      const zone = new proxmoxve.sdn.zone.Vlan(`${name}-sdn-zone`, { resourceId: ids.zone, bridge: bridges[0] as string, nodes: nodes.map((n) => n.name) }, child());
      const vnet = new proxmoxve.sdn.Vnet(
        `${name}-sdn-vnet`,
        { resourceId: ids.vnet, zone: zone.resourceId, tag: vlan.id, alias: `homelab-backup VLAN ${vlan.id}` },
        child({ dependsOn: [zone] }),
      );
      const subnet = new proxmoxve.sdn.Subnet(`${name}-sdn-subnet`, { cidr: normalizeCidr(vlan.subnet), vnet: vnet.resourceId, snat: false }, child({ dependsOn: [vnet] }));
      // SDN objects are pending until applied; the applier re-runs whenever their spec changes.
      const applier = new proxmoxve.sdn.Applier(
        `${name}-sdn-apply`,
        {},
        child({ dependsOn: [zone, vnet, subnet], replacementTrigger: JSON.stringify({ ids, bridge: bridges[0], nodes: nodes.map((n) => n.name), tag: vlan.id, subnet: normalizeCidr(vlan.subnet) }) }),
      );
      resources.push(zone, vnet, subnet, applier);
    }

    const ipsets = this.firewall.ipsets.map(
      (set) => new proxmoxve.firewall.IpsetLegacy(`${name}-ipset-${set.role}`, { name: set.name, comment: set.comment, cidrs: set.cidrs }, child()),
    );
    const group = new proxmoxve.cluster.firewall.security.GroupLegacy(
      `${name}-group`,
      {
        name: this.firewall.groupName,
        comment: "homelab-backup: backup traffic derived from the topology",
        rules: this.firewall.rules.map((r) => ({ ...r, enabled: true })),
      },
      child({ dependsOn: ipsets }),
    );
    resources.push(...ipsets, group);

    const beforeEnabling: pulumi.Resource[] = [group];
    if (args.manageClusterRules ?? true) {
      const clusterRules = new proxmoxve.firewall.RulesLegacy(
        `${name}-cluster-rules`,
        { rules: [{ securityGroup: this.firewall.groupName, comment: "homelab-backup: backup network flows" }] },
        child({ dependsOn: [group] }),
      );
      resources.push(clusterRules);
      beforeEnabling.push(clusterRules);
    }
    // Drops by the input policy are logged per node; the cluster's rate limit keeps a flood of
    // them out of syslog.
    for (const node of nodes) {
      const nodeFirewall = new proxmoxve.node.Firewall(`${name}-node-firewall-${node.name}`, { nodeName: node.name, enabled: true, logLevelIn: DROP_LOG_LEVEL }, child());
      resources.push(nodeFirewall);
      beforeEnabling.push(nodeFirewall);
    }
    // Switched on last, so the DROP policy never applies before the rules that let backups through.
    const cluster = new proxmoxve.cluster.FirewallLegacy(
      `${name}-cluster-firewall`,
      {
        enabled: enforce,
        inputPolicy: "DROP",
        outputPolicy: "ACCEPT",
        forwardPolicy: "ACCEPT",
        logRatelimit: { enabled: true, burst: 5, rate: "1/second" },
      },
      child({ dependsOn: beforeEnabling }),
    );
    resources.push(cluster);
    this.resources = resources;

    this.registerOutputs({
      flows: this.flows,
      addresses: this.addresses,
      securityGroupName: this.securityGroupName,
      vlanInterfaces: this.vlanInterfaces,
      ipsets: this.firewall.ipsets.map((s) => s.name),
    });
  }
}
