/**
 * The backup network's traffic, derived from the topology: which host talks to which, on what
 * port, and why. The firewall is rendered from these flows, never written by hand, so adding a
 * host agent or moving PBS changes the rules with it.
 */
import type { Strategy } from "../../config/strategy";
import { normalizeCidr, normalizeSet } from "./cidr";

export type Proto = "tcp" | "udp";

/** One permitted connection: `from` opens connections to `to` on `port`. */
export interface Flow {
  /** Declared host name of the client side (a PVE node, PBS, TrueNAS or a host agent). */
  from: string;
  /** Its addresses, normalized as PVE stores them. */
  fromAddresses: string[];
  /** Declared host name of the server side (PBS, TrueNAS, or `offsite`). */
  to: string;
  toAddresses: string[];
  port: number;
  proto: Proto;
  /** The part of the topology that needs this flow, for the plan and the rule comment. */
  why: string;
}

/** The endpoint name of the off-site object store (`hosts.offsite`). */
export const OFFSITE_ENDPOINT = "offsite";

/** What kind of host a declared name is: decides the IP set it belongs to. */
export type HostRole = "pve" | "pbs" | "truenas" | "agent" | "offsite";

export interface DeclaredHost {
  name: string;
  role: HostRole;
  /** Normalized addresses on the backup network (or the off-site path's subnet). */
  addresses: string[];
}

/** The parts of the strategy the flows depend on; a whole Strategy fits. */
export type FlowTopology = Pick<Strategy, "hosts" | "agents" | "datastores" | "network">;

const SSH_PORT = 22;
const HTTPS_PORT = 443;

/**
 * Every host the flows may name, in a stable order. Names must be unique across roles, or a rule
 * would be ambiguous about whom it lets in; a clash is a configuration error.
 */
export function declaredHosts(topology: FlowTopology): DeclaredHost[] {
  const { pve, pbs, truenas } = topology.hosts;
  const hosts: DeclaredHost[] = [
    ...pve.nodes.map((n): DeclaredHost => ({ name: n.name, role: "pve", addresses: [normalizeCidr(n.backupAddress)] })),
    { name: pbs.name, role: "pbs", addresses: [normalizeCidr(pbs.backupAddress)] },
    { name: truenas.name, role: "truenas", addresses: [normalizeCidr(truenas.backupAddress)] },
    { name: OFFSITE_ENDPOINT, role: "offsite", addresses: [normalizeCidr(topology.network.offsitePath.cidr)] },
    ...topology.agents.map((a): DeclaredHost => ({ name: a.name, role: "agent", addresses: [normalizeCidr(a.address)] })),
  ];
  const seen = new Map<string, HostRole>();
  for (const h of hosts) {
    const other = seen.get(h.name);
    if (other !== undefined) {
      throw new Error(`host name "${h.name}" names both a ${other} host and a ${h.role} host; expected unique names across PVE nodes, PBS, TrueNAS, host agents and "${OFFSITE_ENDPOINT}"`);
    }
    seen.set(h.name, h.role);
  }
  return hosts;
}

/**
 * Host and port of a borg repository URL: `ssh://[user@]host[:port]/path` or borg 1.x's
 * scp-style `[user@]host:path`. Undefined for a local path, which needs no network flow.
 */
export function repositoryEndpoint(url: string): { host: string; port: number } | undefined {
  const ssh = /^ssh:\/\/(?:[^@/]+@)?(\[[^\]]+\]|[^:/@]+)(?::(\d+))?(?:\/|$)/i.exec(url);
  if (ssh) return { host: (ssh[1] as string).toLowerCase(), port: ssh[2] !== undefined ? Number(ssh[2]) : SSH_PORT };
  if (/^(\/|file:|~)/.test(url) || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  const scp = /^(?:[^@/:]+@)?([^@/:]+):/.exec(url);
  return scp ? { host: (scp[1] as string).toLowerCase(), port: SSH_PORT } : undefined;
}

function isHost(host: string, names: readonly string[]): boolean {
  return names.some((n) => n.toLowerCase() === host);
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable order: by destination, then port and protocol, then client; independent of config order. */
function flowOrder(a: Flow, b: Flow): number {
  return compare(a.to, b.to) || compare(a.port, b.port) || compare(a.proto, b.proto) || compare(a.from, b.from);
}

/**
 * The flows the topology needs and nothing else:
 * - each PVE node → PBS on the PBS API port (vzdump writes to the datastores through it);
 * - TrueNAS → PBS on SSH (the NAS pulls the datastore datasets with ZFS replication);
 * - a host agent → TrueNAS (or PBS) on SSH when its borg repository is on that host (agents
 *   back up with borg only, so they never talk to the PBS API);
 * - TrueNAS → the off-site endpoint on HTTPS, when a datastore goes off-site, through the path
 *   `network.offsitePath` names.
 */
export function deriveFlows(topology: FlowTopology): Flow[] {
  const hosts = declaredHosts(topology);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const { pbs, truenas } = topology.hosts;
  const pbsHost = byName.get(pbs.name) as DeclaredHost;
  const nasHost = byName.get(truenas.name) as DeclaredHost;
  const flows = new Map<string, Flow>();
  const add = (from: DeclaredHost, to: DeclaredHost, port: number, why: string) => {
    const flow: Flow = { from: from.name, fromAddresses: normalizeSet(from.addresses), to: to.name, toAddresses: normalizeSet(to.addresses), port, proto: "tcp", why };
    const key = `${flow.from}>${flow.to}:${flow.port}/${flow.proto}`;
    if (!flows.has(key)) flows.set(key, flow);
  };

  for (const node of hosts.filter((h) => h.role === "pve")) {
    add(node, pbsHost, pbs.port, "vzdump backups and restores through the PBS API");
  }
  add(nasHost, pbsHost, SSH_PORT, "ZFS replication: TrueNAS pulls the datastore datasets from the PBS host");
  for (const agent of topology.agents) {
    const host = byName.get(agent.name) as DeclaredHost;
    const repo = repositoryEndpoint(agent.repository);
    if (!repo) continue;
    if (isHost(repo.host, [truenas.backupAddress, truenas.host, truenas.name])) {
      add(host, nasHost, repo.port, `host agent ${agent.name}: borg repository on the NAS (${agent.repository})`);
    } else if (isHost(repo.host, [pbs.backupAddress, pbs.host, pbs.name])) {
      add(host, pbsHost, repo.port, `host agent ${agent.name}: borg repository on the PBS host (${agent.repository})`);
    }
  }
  if (truenas.monitorUser !== undefined) {
    add(pbsHost, nasHost, HTTPS_PORT, "capacity check on the PBS host reads the NAS pool over the TrueNAS API (read-only user)");
  }
  if (topology.datastores.some((d) => d.offsite)) {
    const path = topology.network.offsitePath;
    const via = path.kind === "vpn" ? `through VPN ${path.name}` : `through egress ${path.name}`;
    add(nasHost, byName.get(OFFSITE_ENDPOINT) as DeclaredHost, HTTPS_PORT, `off-site sync of the off-site datastore's replica to the object store, ${via}`);
  }
  return [...flows.values()].sort(flowOrder);
}

/** One line of the flow table the plan shows. */
export interface FlowTableRow {
  from: string;
  to: string;
  /** `8007/tcp` */
  port: string;
  why: string;
}

export function flowTableRows(flows: readonly Flow[]): FlowTableRow[] {
  return flows.map((f) => ({ from: f.from, to: f.to, port: `${f.port}/${f.proto}`, why: f.why }));
}

/** The flows as a column-aligned text table (from, to, port, why), one flow a line. */
export function renderFlowTable(flows: readonly Flow[]): string {
  const headers = ["from", "to", "port", "why"];
  const rows = flowTableRows(flows).map((r) => [r.from, r.to, r.port, r.why]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
