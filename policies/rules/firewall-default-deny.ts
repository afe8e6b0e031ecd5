import { str } from "../../model/resource";
import { bad, ok, type Rule } from "../rule";

const CLUSTER_FIREWALL = "proxmoxve:cluster/firewallLegacy:FirewallLegacy";
const SECURITY_GROUP = "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy";
/** The ports the topology needs: PBS's API, SSH for replication and borg, HTTPS off-site. */
export const BACKUP_PORTS = new Set(["8007", "22", "443"]);

export const firewallDefaultDeny: Rule = {
  id: "HB-FIREWALL",
  name: "firewall-default-deny",
  description: "The backup VLAN's firewall is default-deny (cluster input policy DROP) and its security groups accept only the ports the topology's flows need (8007, 22, 443).",
  fix: "Keep the cluster firewall's input policy DROP and derive rules from the topology (components/network); remove hand-added ACCEPT rules for other ports.",
  enforcement: "mandatory",
  check({ resources }) {
    const clusters = resources.filter((r) => r.type === CLUSTER_FIREWALL);
    const findings = clusters.map((r) =>
      r.props["enabled"] === true && str(r.props["inputPolicy"]) === "DROP"
        ? ok(`${r.type}::${r.name}`)
        : bad(`${r.type}::${r.name}`, `the cluster firewall is ${r.props["enabled"] === true ? "on" : "off"} with input policy ${JSON.stringify(r.props["inputPolicy"] ?? "ACCEPT")}; expected on with DROP`, r.urn),
    );
    for (const group of resources.filter((r) => r.type === SECURITY_GROUP)) {
      const rules = Array.isArray(group.props["rules"]) ? (group.props["rules"] as Record<string, unknown>[]) : [];
      const extra = rules.filter((x) => x["action"] === "ACCEPT" && !BACKUP_PORTS.has(String(x["dport"] ?? "any")));
      findings.push(
        extra.length
          ? bad(`${group.type}::${group.name}`, `${group.name} accepts ports the topology does not need: ${extra.map((x) => `${String(x["dport"] ?? "any")}/${String(x["proto"] ?? "any")}`).join(", ")}`, group.urn)
          : ok(`${group.type}::${group.name}`),
      );
    }
    if (clusters.length === 0 && resources.some((r) => r.type === SECURITY_GROUP)) {
      findings.push(bad("cluster firewall", "backup flows are declared but no cluster firewall with input policy DROP is"));
    }
    return findings;
  },
};
