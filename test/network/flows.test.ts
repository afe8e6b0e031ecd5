import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { StrategyInput } from "../../config/schema";
import type { Strategy } from "../../config/strategy";
import { normalizeCidr, normalizeSet } from "../../components/network/cidr";
import { firewallPlan, type FirewallPlan } from "../../components/network/firewall";
import { deriveFlows, renderFlowTable, repositoryEndpoint, type Flow } from "../../components/network/flows";
import { rawStackConfig, stackStrategy, strategyFrom } from "./strategy";

const triple = (f: Flow) => `${f.from}>${f.to}:${f.port}/${f.proto}`;

describe("deriveFlows on the stack files", () => {
  test("homelab: each PVE node to PBS's API (agents use borg, never the PBS API), the NAS pulling from PBS, the agents' borg repositories on the NAS, the NAS to the off-site store", () => {
    const flows = deriveFlows(stackStrategy("homelab"));
    assert.deepEqual(
      flows.map((f) => [f.from, f.to, f.port, f.proto]),
      [
        ["truenas", "offsite", 443, "tcp"],
        ["truenas", "pbs", 22, "tcp"],
        ["pve1", "pbs", 8007, "tcp"],
        ["pve2", "pbs", 8007, "tcp"],
        ["pve3", "pbs", 8007, "tcp"],
        ["db01", "truenas", 22, "tcp"],
        ["docker01", "truenas", 22, "tcp"],
        // hosts.truenas.monitorUser: the capacity check on PBS reads the NAS pool.
        ["pbs", "truenas", 443, "tcp"],
      ],
    );
    const byTriple = new Map(flows.map((f) => [triple(f), f]));
    assert.deepEqual(byTriple.get("pve2>pbs:8007/tcp")?.fromAddresses, ["10.20.0.12"]);
    assert.deepEqual(byTriple.get("pve2>pbs:8007/tcp")?.toAddresses, ["10.20.0.20"]);
    assert.deepEqual(byTriple.get("db01>truenas:22/tcp")?.toAddresses, ["10.20.0.30"]);
    assert.deepEqual(byTriple.get("truenas>offsite:443/tcp")?.toAddresses, ["0.0.0.0/0"]);
    assert.match(byTriple.get("truenas>offsite:443/tcp")?.why ?? "", /VPN wg-offsite/);
  });

  test("lab: one node, no agents, the off-site store through the default egress path", () => {
    const flows = deriveFlows(stackStrategy("lab"));
    assert.deepEqual(flows.map(triple), ["truenas>offsite:443/tcp", "truenas>pbs:22/tcp", "labpve>pbs:8007/tcp"]);
    assert.match(flows[0]?.why ?? "", /egress wan/);
  });

  test("moving PBS moves every flow that reaches it", () => {
    const flows = deriveFlows(stackStrategy("homelab", (raw) => (raw.hosts.pbs.backupAddress = "10.20.0.40")));
    for (const f of flows.filter((x) => x.to === "pbs")) assert.deepEqual(f.toAddresses, ["10.20.0.40"]);
    assert.ok(flows.every((f) => !f.toAddresses.includes("10.20.0.20")));
  });

  test("a PBS on another port gets that port, and a repository on a custom SSH port opens that port", () => {
    const flows = deriveFlows(
      stackStrategy("homelab", (raw) => {
        raw.hosts.pbs.port = 8443;
        raw.agents = raw.agents?.map((a, i) => (i === 0 ? { ...a, repository: "ssh://borg@truenas.home.arpa:2222/./db01" } : a));
      }),
    );
    assert.ok(flows.some((f) => triple(f) === "pve1>pbs:8443/tcp"));
    assert.ok(flows.some((f) => triple(f) === "db01>truenas:2222/tcp"));
    assert.ok(!flows.some((f) => f.port === 8007));
  });

  test("no off-site datastore, no flow to the off-site store", () => {
    const flows = deriveFlows(stackStrategy("lab", offsiteOff));
    assert.ok(!flows.some((f) => f.to === "offsite"));
  });

  test("a host name used twice fails with both roles named", () => {
    assert.throws(
      () => deriveFlows(stackStrategy("homelab", (raw) => (raw.agents = raw.agents?.map((a, i) => (i === 0 ? { ...a, name: "pve1" } : a))))),
      /host name "pve1" names both a pve host and a agent host/,
    );
  });

  test("renderFlowTable: a header and one aligned line per flow with from, to, port and why", () => {
    const flows = deriveFlows(stackStrategy("lab"));
    const lines = renderFlowTable(flows).split("\n");
    assert.equal(lines.length, 2 + flows.length);
    assert.match(lines[0] ?? "", /^from\s+to\s+port\s+why$/);
    assert.match(lines[4] ?? "", /^labpve\s+pbs\s+8007\/tcp\s+vzdump backups/);
    assert.equal(new Set(lines.slice(2).map((l) => l.indexOf(l.split(/\s{2,}/)[3] as string))).size, 1, "the why column starts at one offset");
  });
});

describe("address forms PVE stores", () => {
  test("host bits zeroed, /32 dropped", () => {
    assert.equal(normalizeCidr("10.20.0.5/24"), "10.20.0.0/24");
    assert.equal(normalizeCidr("10.20.0.5/32"), "10.20.0.5");
    assert.equal(normalizeCidr("10.20.0.5"), "10.20.0.5");
    assert.equal(normalizeCidr("0.0.0.0/0"), "0.0.0.0/0");
    assert.equal(normalizeCidr("192.168.77.200/20"), "192.168.64.0/20");
    assert.deepEqual(normalizeSet(["10.0.0.9", "10.0.0.10/32", "10.0.0.9/32", "10.0.0.0/8"]), ["10.0.0.0/8", "10.0.0.9", "10.0.0.10"]);
  });

  test("normalizing is idempotent and keeps the address inside its subnet", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        const n = normalizeCidr(`${ip}/${prefix}`);
        assert.equal(normalizeCidr(n), n);
        if (prefix === 32) assert.equal(n, normalizeCidr(ip));
        else assert.ok(n.endsWith(`/${prefix}`));
      }),
    );
  });
});

describe("repositoryEndpoint", () => {
  test("ssh URLs, scp-style and local paths", () => {
    assert.deepEqual(repositoryEndpoint("ssh://borg@10.20.0.30/mnt/tank/borg/db01"), { host: "10.20.0.30", port: 22 });
    assert.deepEqual(repositoryEndpoint("ssh://borg@NAS.home.arpa:2222/./repo"), { host: "nas.home.arpa", port: 2222 });
    assert.deepEqual(repositoryEndpoint("ssh://nas/repo"), { host: "nas", port: 22 });
    assert.deepEqual(repositoryEndpoint("borg@10.20.0.30:/mnt/tank/borg/x"), { host: "10.20.0.30", port: 22 });
    assert.equal(repositoryEndpoint("/srv/borg/repo"), undefined);
    assert.equal(repositoryEndpoint("file:///srv/borg/repo"), undefined);
    assert.equal(repositoryEndpoint("~/borg"), undefined);
  });
});

// --- properties over generated topologies -------------------------------------------------

/** Where a generated agent keeps its borg repository. */
type RepoKind = "nas-ip" | "nas-name" | "pbs" | "elsewhere" | "local";

function repositoryUrl(kind: RepoKind, agent: string): string {
  switch (kind) {
    case "nas-ip":
      return `ssh://borg@10.98.0.30/mnt/labtank/borg/${agent}`;
    case "nas-name":
      return `borg@lab-nas.home.arpa:/mnt/labtank/borg/${agent}`;
    case "pbs":
      return `ssh://borg@lab-pbs.home.arpa/backup/borg/${agent}`;
    case "elsewhere":
      return `ssh://borg@borg.example.net/./${agent}`;
    case "local":
      return `/srv/borg/${agent}`;
  }
}

interface GenAgent { name: string; address: string; repo: RepoKind }
interface Topology { nodes: number; pbsHost: number; agents: GenAgent[]; offsite: boolean }

function offsiteOff(raw: StrategyInput): void {
  raw.tiers = { critical: { rpo: "1h", rto: "1h", schedule: "*-*-* *:00", offsite: false }, important: { rpo: "24h", rto: "4h", schedule: "*-*-* 02:00", offsite: false } };
  raw.datastores = raw.datastores?.map((d, i) => (i === 0 ? { ...d, offsite: false } : d));
}

const repoKind = fc.constantFrom<RepoKind>("nas-ip", "nas-name", "pbs", "elsewhere", "local");
const agentsArb = fc
  .uniqueArray(fc.integer({ min: 100, max: 199 }), { maxLength: 5 })
  .chain((hosts) => fc.tuple(...hosts.map(() => repoKind)).map((repos) => hosts.map((h, i): GenAgent => ({ name: `agent${h}`, address: `10.98.0.${h}`, repo: repos[i] as RepoKind }))));
const topologyArb: fc.Arbitrary<Topology> = fc.record({
  nodes: fc.integer({ min: 1, max: 4 }),
  pbsHost: fc.integer({ min: 20, max: 29 }),
  agents: agentsArb,
  offsite: fc.boolean(),
});

function rawFor(t: Topology): StrategyInput {
  const raw = rawStackConfig("lab");
  raw.hosts.pve.nodes = Array.from({ length: t.nodes }, (_, i) => ({ name: `node${i + 1}`, address: `10.99.0.${11 + i}`, backupAddress: `10.98.0.${11 + i}` }));
  raw.hosts.pbs.backupAddress = `10.98.0.${t.pbsHost}`;
  raw.agents = t.agents.map((a) => ({ name: a.name, address: a.address, service: "database-vms", repository: repositoryUrl(a.repo, a.name) }));
  if (!t.offsite) offsiteOff(raw);
  return raw;
}

// Validating a strategy takes tens of milliseconds, so the properties validate the two base
// topologies once and vary the validated Strategy the way the validator would resolve the config.
const bases = {
  on: strategyFrom(rawFor({ nodes: 1, pbsHost: 20, agents: [{ name: "template", address: "10.98.0.100", repo: "local" }], offsite: true })),
  off: strategyFrom(rawFor({ nodes: 1, pbsHost: 20, agents: [{ name: "template", address: "10.98.0.100", repo: "local" }], offsite: false })),
};

function strategyFor(t: Topology): Strategy {
  const base = t.offsite ? bases.on : bases.off;
  const template = base.agents[0] as Strategy["agents"][number];
  const node = base.hosts.pve.nodes[0] as Strategy["hosts"]["pve"]["nodes"][number];
  return {
    ...base,
    hosts: {
      ...base.hosts,
      pve: { ...base.hosts.pve, nodes: Array.from({ length: t.nodes }, (_, i) => ({ ...node, name: `node${i + 1}`, address: `10.99.0.${11 + i}`, backupAddress: `10.98.0.${11 + i}` })) },
      pbs: { ...base.hosts.pbs, backupAddress: `10.98.0.${t.pbsHost}` },
    },
    agents: t.agents.map((a) => ({ ...template, name: a.name, address: a.address, repository: repositoryUrl(a.repo, a.name) })),
  };
}

/** What the topology needs, written from the generator's knowledge, independently of deriveFlows. */
function neededTriples(t: Topology): Set<string> {
  const out = new Set<string>();
  for (let i = 1; i <= t.nodes; i++) out.add(`node${i}>pbs:8007/tcp`);
  out.add("truenas>pbs:22/tcp");
  for (const a of t.agents) {
    if (a.repo === "nas-ip" || a.repo === "nas-name") out.add(`${a.name}>truenas:22/tcp`);
    if (a.repo === "pbs") out.add(`${a.name}>pbs:22/tcp`);
  }
  if (t.offsite) out.add("truenas>offsite:443/tcp");
  return out;
}

function declaredAddresses(s: Strategy): Map<string, string> {
  return new Map([
    ...s.hosts.pve.nodes.map((n): [string, string] => [n.name, n.backupAddress]),
    [s.hosts.pbs.name, s.hosts.pbs.backupAddress],
    [s.hosts.truenas.name, s.hosts.truenas.backupAddress],
    ["offsite", normalizeCidr(s.network.offsitePath.cidr)],
    ...s.agents.map((a): [string, string] => [a.name, a.address]),
  ]);
}

/** Every (source address, destination address, port) an ACCEPT rule lets through. */
function acceptedTriples(plan: FirewallPlan): Set<string> {
  const expand = (ref: string | undefined): string[] => {
    if (ref === undefined) return ["any"];
    if (ref.startsWith("+")) {
      const set = plan.ipsets.find((s) => s.name === ref.slice(1));
      assert.ok(set, `rule references IP set ${ref} that is not declared`);
      return set.cidrs.map((c) => c.name);
    }
    return ref.split(",");
  };
  const out = new Set<string>();
  for (const r of plan.rules.filter((x) => x.action === "ACCEPT")) {
    for (const s of expand(r.source)) for (const d of expand(r.dest)) out.add(`${s}>${d}:${r.dport}/${r.proto}`);
  }
  return out;
}

describe("properties of derived flows", () => {
  test("generated topologies are valid configurations (the validator accepts them)", () => {
    fc.assert(
      fc.property(topologyArb, (t) => {
        const parsed = strategyFrom(rawFor(t));
        assert.deepEqual(deriveFlows(parsed), deriveFlows(strategyFor(t)));
      }),
      { numRuns: 15 },
    );
  });

  test("every flow's endpoints are declared hosts, with their declared addresses", () => {
    fc.assert(
      fc.property(topologyArb, (t) => {
        const s = strategyFor(t);
        const declared = declaredAddresses(s);
        for (const f of deriveFlows(s)) {
          assert.ok(declared.has(f.from), `${f.from} is declared`);
          assert.ok(declared.has(f.to), `${f.to} is declared`);
          assert.deepEqual(f.fromAddresses, [declared.get(f.from)]);
          assert.deepEqual(f.toAddresses, [declared.get(f.to)]);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("the flows are exactly what the topology needs: no more, no less, no duplicates, only ports 8007, 22 and 443", () => {
    fc.assert(
      fc.property(topologyArb, (t) => {
        const flows = deriveFlows(strategyFor(t));
        const triples = flows.map(triple);
        assert.equal(new Set(triples).size, triples.length, "no duplicates");
        assert.deepEqual(new Set(triples), neededTriples(t));
        const pairs = new Set(flows.map((f) => `${f.to}:${f.port}`));
        assert.deepEqual(pairs, new Set([...neededTriples(t)].map((x) => x.split(">")[1]?.split("/")[0])));
        for (const f of flows) assert.ok([8007, 22, 443].includes(f.port), `port ${f.port}`);
      }),
      { numRuns: 200 },
    );
  });

  test("adding a host agent adds exactly its own flows and keeps every other flow", () => {
    fc.assert(
      fc.property(topologyArb, fc.integer({ min: 200, max: 250 }), repoKind, (t, host, repo) => {
        const extra: GenAgent = { name: `new${host}`, address: `10.98.0.${host}`, repo };
        const before = new Set(deriveFlows(strategyFor(t)).map(triple));
        const after = deriveFlows(strategyFor({ ...t, agents: [...t.agents, extra] }));
        const added = after.filter((f) => !before.has(triple(f)));
        assert.ok([...before].every((x) => after.some((f) => triple(f) === x)), "nothing removed");
        // An agent whose repository is on neither the NAS nor PBS needs no flow of the backup VLAN.
        assert.ok(added.every((f) => f.from === extra.name), "only the new agent's flows");
        assert.deepEqual(new Set(added.map(triple)), new Set([...neededTriples({ ...t, agents: [extra] })].filter((x) => x.startsWith(`${extra.name}>`))));
      }),
      { numRuns: 200 },
    );
  });

  test("the order does not depend on the order of nodes and agents in the config", () => {
    fc.assert(
      fc.property(topologyArb, (t) => {
        const s = strategyFor(t);
        const reversed = { ...s, hosts: { ...s.hosts, pve: { ...s.hosts.pve, nodes: [...s.hosts.pve.nodes].reverse() } }, agents: [...s.agents].reverse() };
        assert.deepEqual(deriveFlows(reversed), deriveFlows(s));
      }),
      { numRuns: 200 },
    );
  });

  test("the firewall's ACCEPT rules let through exactly the flows' address pairs and ports, and end in logged drops", () => {
    fc.assert(
      fc.property(topologyArb, (t) => {
        const s = strategyFor(t);
        const flows = deriveFlows(s);
        const plan = firewallPlan(s, flows);
        const expected = new Set(flows.map((f) => `${f.fromAddresses[0]}>${f.to === "offsite" ? "any" : f.toAddresses[0]}:${f.port}/${f.proto}`));
        assert.deepEqual(acceptedTriples(plan), expected);
        const firstDrop = plan.rules.findIndex((r) => r.action === "DROP");
        assert.ok(plan.rules.slice(firstDrop).every((r) => r.action === "DROP" && r.log === "info"), "drops come last and log");
        assert.deepEqual(plan.rules.slice(firstDrop).map((r) => r.dest), ["+backup-pbs", "+backup-nas"]);
        for (const set of plan.ipsets) for (const c of set.cidrs) assert.equal(normalizeCidr(c.name), c.name, "stored as PVE stores it");
      }),
      { numRuns: 200 },
    );
  });
});
