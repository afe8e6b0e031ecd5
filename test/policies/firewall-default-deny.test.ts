import { test } from "node:test";
import assert from "node:assert/strict";
import { firewallDefaultDeny } from "../../policies/rules/firewall-default-deny";
import type { ModelResource } from "../../model/resource";
import { compliantTopology, failures, run } from "./fixture";

const CLUSTER = "proxmoxve:cluster/firewallLegacy:FirewallLegacy";
const GROUP = "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy";

function net(inputPolicy: string, ports: string[]): ModelResource[] {
  return [
    ...compliantTopology(),
    { type: CLUSTER, name: "fw", urn: "urn:fw", protect: false, props: { enabled: true, inputPolicy } },
    { type: GROUP, name: "backup-flows", urn: "urn:g", protect: false, props: { rules: ports.map((p) => ({ action: "ACCEPT", dport: p, proto: "tcp" })) } },
  ];
}

test("HB-FIREWALL compliant: input DROP, only 8007/22/443 accepted", () => {
  assert.deepEqual(failures(firewallDefaultDeny, net("DROP", ["8007", "22", "443"])), []);
});

test("HB-FIREWALL fails on ACCEPT input policy and on an extra port", () => {
  assert.deepEqual(failures(firewallDefaultDeny, net("ACCEPT", ["8007"])), ['the cluster firewall is on with input policy "ACCEPT"; expected on with DROP']);
  assert.deepEqual(failures(firewallDefaultDeny, net("DROP", ["8007", "3306"])), ["backup-flows accepts ports the topology does not need: 3306/tcp"]);
});

test("HB-FIREWALL has nothing to judge without a backup network", () => {
  assert.deepEqual(run(firewallDefaultDeny, compliantTopology()), []);
});
