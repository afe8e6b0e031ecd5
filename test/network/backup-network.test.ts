import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Strategy } from "../../config/strategy";
import { one, ofType, settle, startMocks, type Registered } from "./harness";
import { stackStrategy } from "./strategy";

const VLAN = "proxmoxve:network/linux/vlan:Vlan";
const IPSET = "proxmoxve:firewall/ipsetLegacy:IpsetLegacy";
const GROUP = "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy";
const RULES = "proxmoxve:firewall/rulesLegacy:RulesLegacy";
const CLUSTER = "proxmoxve:cluster/firewallLegacy:FirewallLegacy";
const NODE_FW = "proxmoxve:node/firewall:Firewall";
const SDN_ZONE = "proxmoxve:sdn/zone/vlan:Vlan";
const SDN_VNET = "proxmoxve:sdn/vnet:Vnet";
const SDN_SUBNET = "proxmoxve:sdn/subnet:Subnet";
const SDN_APPLY = "proxmoxve:sdn/applier:Applier";
const COMPONENT = "homelab:network:BackupNetwork";

type Rule = Record<string, unknown>;

let resources: Registered[];
let network: typeof import("../../components/network/backup-network");
let homelab: Strategy;
let lab: Strategy;

function rulesOf(component: string): Rule[] {
  return one(resources, GROUP, `${component}-group`).inputs["rules"] as Rule[];
}
function ipsetsOf(component: string): Record<string, string[]> {
  return Object.fromEntries(ofType(resources, IPSET, component).map((r) => [r.inputs["name"] as string, (r.inputs["cidrs"] as { name: string }[]).map((c) => c.name)]));
}
const accept = (r: Rule) => r["action"] === "ACCEPT";
const brief = (r: Rule) => [r["type"], r["action"], r["proto"], r["dport"], r["source"], r["dest"]];

describe("BackupNetwork under mocks", () => {
  before(async () => {
    resources = await startMocks();
    const proxmoxve = await import("@muhlba91/pulumi-proxmoxve");
    network = await import("../../components/network/backup-network");
    const { BackupNetwork } = network;
    homelab = stackStrategy("homelab");
    lab = stackStrategy("lab");
    const provider = new proxmoxve.Provider("pve", { endpoint: "https://pve.test:8006", insecure: false });
    new BackupNetwork("homelab", { strategy: homelab, provider });
    new BackupNetwork("lab", { strategy: lab, provider });
    // The lab with a host agent whose borg repository is on the NAS.
    const labAgent = stackStrategy("lab", (raw) => {
      raw.agents = [{ name: "web01", address: "10.98.0.60", service: "lab-apps", repository: "ssh://borg@10.98.0.30/mnt/labtank/borg/web01" }];
    });
    new BackupNetwork("labagent", { strategy: labAgent, provider });
    // The homelab with a third agent whose repository is elsewhere: it needs PBS, not the NAS.
    const more = stackStrategy("homelab", (raw) => {
      raw.agents = [...(raw.agents ?? []), { name: "mail01", address: "10.20.0.53", service: "database-vms", repository: "ssh://borg@borg.example.net/./mail01" }];
    });
    new BackupNetwork("more", { strategy: more, provider });
    new BackupNetwork("labsdn", { strategy: stackStrategy("lab", (raw) => (raw.network.backupVlan.mode = "sdn")), provider, enforce: false, manageClusterRules: false, namePrefix: "bk" });
    await settle();
  });

  test("homelab: a VLAN 20 interface on each node with its backup address and the subnet's prefix, no gateway", () => {
    const vlans = ofType(resources, VLAN, "homelab");
    assert.deepEqual(
      vlans.map((v) => [v.inputs["nodeName"], v.inputs["name"], v.inputs["address"], v.inputs["gateway"]]),
      [
        ["pve1", "vmbr0.20", "10.20.0.11/24", undefined],
        ["pve2", "vmbr0.20", "10.20.0.12/24", undefined],
        ["pve3", "vmbr0.20", "10.20.0.13/24", undefined],
      ],
    );
    assert.equal(ofType(resources, SDN_ZONE, "homelab").length, 0, "interface mode declares no SDN zone");
  });

  test("homelab: IP sets for PVE nodes, PBS, the NAS and the host agents, stored as PVE stores them", () => {
    assert.deepEqual(ipsetsOf("homelab"), {
      "backup-pve": ["10.20.0.11", "10.20.0.12", "10.20.0.13"],
      "backup-pbs": ["10.20.0.20"],
      "backup-nas": ["10.20.0.30"],
      "backup-agents": ["10.20.0.51", "10.20.0.52"],
    });
  });

  test("homelab: the security group accepts exactly the derived flows, then drops and logs the rest", () => {
    assert.deepEqual(rulesOf("homelab").map(brief), [
      ["out", "ACCEPT", "tcp", "443", "+backup-nas", undefined],
      ["in", "ACCEPT", "tcp", "22", "+backup-nas", "+backup-pbs"],
      ["in", "ACCEPT", "tcp", "8007", "+backup-pve", "+backup-pbs"],
      ["in", "ACCEPT", "tcp", "22", "+backup-agents", "+backup-nas"],
      ["in", "ACCEPT", "tcp", "443", "+backup-pbs", "+backup-nas"],
      ["in", "DROP", undefined, undefined, undefined, "+backup-pbs"],
      ["in", "DROP", undefined, undefined, undefined, "+backup-nas"],
    ]);
    for (const r of rulesOf("homelab").filter((x) => !accept(x))) assert.equal(r["log"], "info");
  });

  test("nothing but 8007, 22 and 443 is ever accepted, in any stack", () => {
    const all = ofType(resources, GROUP).flatMap((g) => g.inputs["rules"] as Rule[]);
    assert.ok(all.length > 0);
    for (const r of all.filter(accept)) assert.ok(["8007", "22", "443"].includes(r["dport"] as string), `port ${String(r["dport"])}`);
    for (const r of all) assert.ok(accept(r) || r["action"] === "DROP");
  });

  test("homelab: the datacenter gets the group, input policy DROP with logged, rate-limited drops, switched on after the rules", () => {
    const rules = one(resources, RULES, "homelab-cluster-rules");
    assert.deepEqual(rules.inputs["rules"], [{ securityGroup: "backup-flows", comment: "homelab-backup: backup network flows" }]);
    assert.equal(rules.inputs["nodeName"], undefined, "cluster scope");
    const cluster = one(resources, CLUSTER, "homelab-cluster-firewall");
    assert.equal(cluster.inputs["enabled"], true);
    assert.equal(cluster.inputs["inputPolicy"], "DROP");
    assert.deepEqual(cluster.inputs["logRatelimit"], { enabled: true, burst: 5, rate: "1/second" });
    const group = one(resources, GROUP, "homelab-group");
    assert.ok(cluster.dependencies.includes(rules.urn) && cluster.dependencies.includes(group.urn), "the policy waits for the rules");
    for (const set of ofType(resources, IPSET, "homelab")) assert.ok(group.dependencies.includes(set.urn), "the group waits for its IP sets");
    assert.deepEqual(
      ofType(resources, NODE_FW, "homelab").map((n) => [n.inputs["nodeName"], n.inputs["logLevelIn"]]),
      [["pve1", "info"], ["pve2", "info"], ["pve3", "info"]],
    );
  });

  test("every child is parented to its component and uses the PVE provider", () => {
    const components = new Map(ofType(resources, COMPONENT).map((c) => [c.name, c.urn]));
    assert.equal(components.size, 5);
    for (const r of resources.filter((x) => x.custom && x.type !== "pulumi:providers:proxmoxve")) {
      const owner = r.name.split("-")[0] as string;
      assert.equal(r.parent, components.get(owner), `${r.type}::${r.name} is a child of ${owner}`);
      assert.match(r.urn, new RegExp(`\\$${r.type.replace(/[/$]/g, (c) => `\\${c}`)}::`));
    }
  });

  test("lab: one node on VLAN 98, no agents so no agent IP set, the default egress path", () => {
    assert.deepEqual(
      ofType(resources, VLAN, "lab").map((v) => [v.inputs["nodeName"], v.inputs["name"], v.inputs["address"]]),
      [["labpve", "vmbr0.98", "10.98.0.11/24"]],
    );
    assert.deepEqual(ipsetsOf("lab"), { "backup-pve": ["10.98.0.11"], "backup-pbs": ["10.98.0.20"], "backup-nas": ["10.98.0.30"] });
    assert.deepEqual(rulesOf("lab").filter(accept).map(brief), [
      ["out", "ACCEPT", "tcp", "443", "+backup-nas", undefined],
      ["in", "ACCEPT", "tcp", "22", "+backup-nas", "+backup-pbs"],
      ["in", "ACCEPT", "tcp", "8007", "+backup-pve", "+backup-pbs"],
    ]);
  });

  test("adding a host agent to the lab adds its IP set and its one rule: SSH to the NAS for its borg repository", () => {
    const base = rulesOf("lab").map(brief);
    const withAgent = rulesOf("labagent").map(brief);
    const added = withAgent.filter((r) => !base.some((b) => JSON.stringify(b) === JSON.stringify(r)));
    assert.deepEqual(added, [["in", "ACCEPT", "tcp", "22", "+backup-agents", "+backup-nas"]]);
    assert.ok(base.every((b) => withAgent.some((r) => JSON.stringify(r) === JSON.stringify(b))), "no rule removed");
    assert.deepEqual(ipsetsOf("labagent")["backup-agents"], ["10.98.0.60"]);
  });

  test("a third homelab agent with its repository off the NAS gets no rule: agents never reach PBS's API", () => {
    // No rule takes all three agents, so no agents IP set: the two NAS clients are named.
    assert.equal(ipsetsOf("more")["backup-agents"], undefined);
    const rules = rulesOf("more").filter(accept).map(brief);
    assert.ok(!rules.some((r) => r[3] === "8007" && String(r[4]).includes("agents")));
    assert.ok(!rules.some((r) => String(r[4]).includes("10.20.0.53")), "the third agent is in no rule");
    assert.deepEqual(rules.find((r) => r[3] === "22" && r[5] === "+backup-nas"), ["in", "ACCEPT", "tcp", "22", "10.20.0.51,10.20.0.52", "+backup-nas"]);
  });

  test("SDN mode: a VLAN zone on the nodes' bridge, a vnet tagged 98, the subnet, and an applier after them", () => {
    const zone = one(resources, SDN_ZONE, "labsdn-sdn-zone");
    assert.deepEqual([zone.inputs["resourceId"], zone.inputs["bridge"], zone.inputs["nodes"]], ["bkz98", "vmbr0", ["labpve"]]);
    const vnet = one(resources, SDN_VNET, "labsdn-sdn-vnet");
    assert.deepEqual([vnet.inputs["resourceId"], vnet.inputs["zone"], vnet.inputs["tag"]], ["bkv98", "bkz98", 98]);
    const subnet = one(resources, SDN_SUBNET, "labsdn-sdn-subnet");
    assert.deepEqual([subnet.inputs["cidr"], subnet.inputs["vnet"], subnet.inputs["gateway"]], ["10.98.0.0/24", "bkv98", undefined]);
    const applier = one(resources, SDN_APPLY, "labsdn-sdn-apply");
    for (const r of [zone, vnet, subnet]) assert.ok(applier.dependencies.includes(r.urn), `applier after ${r.name}`);
    assert.equal(ofType(resources, VLAN, "labsdn").length, 1, "the node still gets its address on a VLAN interface");
  });

  test("a staged rollout: enforce false leaves the datacenter firewall off, manageClusterRules false leaves the datacenter rules alone, and the prefix names the sets", () => {
    assert.equal(one(resources, CLUSTER, "labsdn-cluster-firewall").inputs["enabled"], false);
    assert.equal(ofType(resources, RULES, "labsdn").length, 0);
    assert.deepEqual(Object.keys(ipsetsOf("labsdn")), ["bk-pve", "bk-pbs", "bk-nas"]);
    assert.equal(one(resources, GROUP, "labsdn-group").inputs["name"], "bk-flows");
  });

  test("SDN mode refuses nodes on different bridges, naming each", () => {
    const mixed = stackStrategy("homelab", (raw) => {
      raw.network.backupVlan.mode = "sdn";
      raw.hosts.pve.nodes = raw.hosts.pve.nodes.map((n, i) => (i === 2 ? { ...n, interface: "vmbr1" } : n));
    });
    assert.throws(
      () => new network.BackupNetwork("mixed", { strategy: mixed, provider: undefined as never }),
      /vmbr0 \(pve1\), vmbr0 \(pve2\), vmbr1 \(pve3\); expected the same hosts\.pve\.nodes\[\]\.interface on every node/,
    );
  });

  test("VLAN interface names stay within Linux's 15 characters", () => {
    assert.deepEqual(network.vlanInterface("vmbr0", 20), { name: "vmbr0.20" });
    assert.deepEqual(network.vlanInterface("enp129s0f1np1", 4094), { name: "vlan4094", interface: "enp129s0f1np1", vlan: 4094 });
    assert.deepEqual(network.sdnIds(4094), { zone: "bkz4094", vnet: "bkv4094" });
  });

  test("flows given in the arguments replace the derived ones, and must name declared hosts", () => {
    assert.throws(
      () =>
        new network.BackupNetwork("bogus", {
          strategy: lab,
          provider: undefined as never,
          flows: [{ from: "intruder", fromAddresses: ["10.98.0.99"], to: "pbs", toAddresses: ["10.98.0.20"], port: 8007, proto: "tcp", why: "test" }],
        }),
      /flow endpoint "intruder" is not a declared host/,
    );
  });
});
