/** A minimal valid raw config (project keys, prefix stripped) for validation tests to mutate. */
export function minimalConfig(): Record<string, unknown> {
  return {
    hosts: {
      pve: { endpoint: "https://pve.test:8006", nodes: [{ name: "pve1", address: "10.0.10.11", backupAddress: "10.20.0.11" }] },
      pbs: {
        host: "pbs.test",
        fingerprint: Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase()).join(":"),
        backupAddress: "10.20.0.20",
      },
      truenas: { host: "nas.test", backupAddress: "10.20.0.30", pbsHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest" },
      offsite: { bucketPrefix: "test-offsite" },
    },
    services: [
      { name: "db", tier: "critical", guests: { vmids: [101] }, retention: "7d" },
      { name: "apps", tier: "important", guests: { pool: "apps" }, retention: "14d" },
    ],
    network: { backupVlan: { id: 20, subnet: "10.20.0.0/24" }, subnets: { management: "10.0.10.0/24" } },
  };
}

/** Deep-clones and applies a mutation. */
export function withConfig(mutate: (c: any) => void): Record<string, unknown> {
  const c = structuredClone(minimalConfig());
  mutate(c);
  return c;
}
