/**
 * Synthetic strategies of any size, for the bench: services spread over the three tiers and over
 * the PVE nodes, critical ones on the off-site datastore, a host agent per ten services. The
 * output is raw config (what a stack file holds), so the bench measures the whole program.
 */

export interface Size {
  services: number;
  nodes: number;
}

const TIERS = ["critical", "important", "archive"] as const;

export function syntheticConfig({ services, nodes }: Size): Record<string, unknown> {
  if (services < 1 || nodes < 1 || nodes > 200) throw new Error(`size ${services} services / ${nodes} nodes is out of range`);
  const nodeList = Array.from({ length: nodes }, (_, i) => ({
    name: `pve${i + 1}`,
    address: `10.100.${Math.floor(i / 200)}.${(i % 200) + 10}`,
    backupAddress: `10.16.0.${(i % 200) + 10}`,
  }));
  return {
    hosts: {
      pve: { endpoint: "https://pve.bench:8006", nodes: nodeList },
      pbs: { host: "pbs.bench", fingerprint: Array.from({ length: 32 }, () => "AB").join(":"), backupAddress: "10.16.1.20" },
      truenas: { host: "nas.bench", backupAddress: "10.16.1.30", pbsHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbench" },
      offsite: { bucketPrefix: "bench-offsite" },
    },
    network: { backupVlan: { id: 16, subnet: "10.16.0.0/16" }, subnets: { management: "10.100.0.0/16" } },
    services: Array.from({ length: services }, (_, i) => {
      const tier = TIERS[i % 3] as (typeof TIERS)[number];
      return {
        name: `svc-${i + 1}`,
        tier,
        guests: { vmids: [1000 + i] },
        retention: tier === "critical" ? "7d" : tier === "important" ? "14d" : "4w",
        ...(tier === "archive" ? { schedule: "Sun *-*-* 03:00" } : {}),
      };
    }),
    agents: Array.from({ length: Math.floor(services / 10) }, (_, i) => ({
      name: `agent-${i + 1}`,
      address: `10.16.2.${(i % 240) + 10}`.replace(/\.2\./, `.${2 + Math.floor(i / 240)}.`),
      service: `svc-${i * 10 + 1}`,
      repository: `ssh://borg@10.16.1.30/mnt/tank/borg/agent-${i + 1}`,
      databases: [{ kind: "postgresql", name: "all" }],
    })),
    monitoring: { targets: [{ type: "webhook", name: "ntfy", url: "https://ntfy.bench/backups" }] },
  };
}

/** The stack-file form of a synthetic config (full keys, JSON values), as the CLI passes it. */
export function asPulumiConfig(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) out[`homelab-backup:${k}`] = JSON.stringify(v);
  return out;
}
