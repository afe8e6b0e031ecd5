/** The backup network: flows derived from the topology, the PVE firewall rendered from them, and the backup VLAN. */
export { deriveFlows, declaredHosts, flowTableRows, renderFlowTable, repositoryEndpoint, OFFSITE_ENDPOINT, type Flow, type FlowTableRow, type FlowTopology, type DeclaredHost, type HostRole, type Proto } from "./flows";
export { firewallPlan, DROP_LOG_LEVEL, type FirewallPlan, type FirewallRuleSpec, type IpSetSpec, type IpSetRole } from "./firewall";
export { normalizeCidr, normalizeSet } from "./cidr";
export { BackupNetwork, vlanInterface, sdnIds, type BackupNetworkArgs } from "./backup-network";
