/**
 * The Proxmox VE firewall as plain data, rendered from the flows: IP sets per role, one security
 * group holding an ACCEPT rule per (client role, destination, port) and a logged DROP for
 * everything else that reaches PBS or the NAS. Pure, so the component only registers it and tests
 * read it directly.
 */
import { isAnyAddress, normalizeSet } from "./cidr";
import { declaredHosts, OFFSITE_ENDPOINT, type Flow, type FlowTopology, type HostRole, type Proto } from "./flows";

/** IP set roles: one set per kind of host (agents share one). */
export type IpSetRole = "pve" | "pbs" | "truenas" | "agents" | "offsite";

export interface IpSetSpec {
  role: IpSetRole;
  /** PVE IP set name, referenced in rules as `+<name>`. */
  name: string;
  comment: string;
  /** Normalized entries, each commented with the host it belongs to. */
  cidrs: { name: string; comment: string }[];
}

export interface FirewallRuleSpec {
  type: "in" | "out";
  action: "ACCEPT" | "DROP";
  proto?: Proto;
  dport?: string;
  /** `+ipset` or a comma-separated address list; absent = any. */
  source?: string;
  dest?: string;
  /** PVE log level; set on the catch-all drops. */
  log?: string;
  comment: string;
}

export interface FirewallPlan {
  ipsets: IpSetSpec[];
  /** Security group name (PVE allows at most 18 characters). */
  groupName: string;
  /** ACCEPT rules first, then the logged drops: PVE stops at the first match. */
  rules: FirewallRuleSpec[];
}

/** The log level of the catch-all drops; `info` is what PVE's own log view filters on. */
export const DROP_LOG_LEVEL = "info";

const ROLE_OF: Record<HostRole, IpSetRole> = { pve: "pve", pbs: "pbs", truenas: "truenas", agent: "agents", offsite: "offsite" };
const ROLE_ORDER: readonly IpSetRole[] = ["pve", "pbs", "truenas", "agents", "offsite"];
const SET_SUFFIX: Record<IpSetRole, string> = { pve: "pve", pbs: "pbs", truenas: "nas", agents: "agents", offsite: "offsite" };
const SET_COMMENT: Record<IpSetRole, string> = {
  pve: "PVE nodes' backup VLAN addresses",
  pbs: "the PBS host's backup VLAN address",
  truenas: "the NAS's backup VLAN address",
  agents: "host backup agents",
  offsite: "the off-site path's subnet",
};

/** A prefix for the IP set and group names: PVE caps group names at 18 characters. */
export function checkNamePrefix(prefix: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,9}$/.test(prefix)) {
    throw new Error(`firewall name prefix "${prefix}" is invalid; expected 1-10 letters, digits, - or _, starting with a letter`);
  }
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Renders the flows into IP sets and rules. Flows to undeclared hosts are a programming error. */
export function firewallPlan(topology: FlowTopology, flows: readonly Flow[], prefix = "backup"): FirewallPlan {
  checkNamePrefix(prefix);
  const hosts = declaredHosts(topology);
  const roleOf = new Map(hosts.map((h) => [h.name, ROLE_OF[h.role]]));
  const members = new Map<IpSetRole, { name: string; comment: string }[]>();
  for (const h of hosts) {
    const role = ROLE_OF[h.role];
    const list = members.get(role) ?? [];
    members.set(role, list);
    for (const a of h.addresses) list.push({ name: a, comment: h.name });
  }
  const setName = (role: IpSetRole) => `${prefix}-${SET_SUFFIX[role]}`;
  const setAddresses = (role: IpSetRole) => normalizeSet((members.get(role) ?? []).map((m) => m.name));
  const used = new Set<IpSetRole>();

  const roleFor = (name: string): IpSetRole => {
    const role = roleOf.get(name);
    if (role === undefined) throw new Error(`flow endpoint "${name}" is not a declared host`);
    return role;
  };
  // An IP set reference when the addresses are exactly a role's set, else the explicit list.
  const reference = (role: IpSetRole, addresses: readonly string[]): string | undefined => {
    if (addresses.some(isAnyAddress)) return undefined;
    if (same(addresses, setAddresses(role))) {
      used.add(role);
      return `+${setName(role)}`;
    }
    return addresses.join(",");
  };

  interface Group { fromRole: IpSetRole; to: string; port: number; proto: Proto; froms: string[]; sources: string[]; dests: string[] }
  const groups = new Map<string, Group>();
  for (const f of flows) {
    const fromRole = roleFor(f.from);
    roleFor(f.to);
    const key = `${fromRole}>${f.to}:${f.port}/${f.proto}`;
    const g = groups.get(key) ?? { fromRole, to: f.to, port: f.port, proto: f.proto, froms: [], sources: [], dests: [] };
    g.froms.push(f.from);
    g.sources.push(...f.fromAddresses);
    g.dests.push(...f.toAddresses);
    groups.set(key, g);
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      (a.to < b.to ? -1 : a.to > b.to ? 1 : 0) || a.port - b.port || (a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0) ||
      ROLE_ORDER.indexOf(a.fromRole) - ROLE_ORDER.indexOf(b.fromRole),
  );

  const rules: FirewallRuleSpec[] = ordered.map((g) => {
    const toRole = roleFor(g.to);
    const source = reference(g.fromRole, normalizeSet(g.sources));
    const dest = reference(toRole, normalizeSet(g.dests));
    return {
      // Traffic to the off-site store leaves the site: the NAS's outbound side is what a rule can hold.
      type: g.to === OFFSITE_ENDPOINT ? "out" : "in",
      action: "ACCEPT",
      proto: g.proto,
      dport: String(g.port),
      ...(source !== undefined ? { source } : {}),
      ...(dest !== undefined ? { dest } : {}),
      comment: `homelab-backup: ${[...new Set(g.froms)].join(", ")} -> ${g.to} ${g.port}/${g.proto}`,
    };
  });

  // Everything else that reaches the backup hosts is dropped and logged, so a missing flow shows up
  // in the firewall log instead of as a silent timeout.
  for (const role of ["pbs", "truenas"] as const) {
    used.add(role);
    rules.push({ type: "in", action: "DROP", dest: `+${setName(role)}`, log: DROP_LOG_LEVEL, comment: `homelab-backup: anything else to ${SET_SUFFIX[role]}` });
  }

  const ipsets = ROLE_ORDER.filter((r) => used.has(r)).map((role) => ({
    role,
    name: setName(role),
    comment: `homelab-backup: ${SET_COMMENT[role]}`,
    cidrs: normalizeSet((members.get(role) ?? []).map((m) => m.name)).map((name) => ({
      name,
      comment: [...new Set((members.get(role) ?? []).filter((m) => m.name === name).map((m) => m.comment))].join(", "),
    })),
  }));
  return { ipsets, groupName: `${prefix}-flows`, rules };
}
