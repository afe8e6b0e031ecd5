import { test } from "node:test";
import assert from "node:assert/strict";
import { parseStrategy } from "../../config/validate";
import { agentSpecFromStrategy, knownHostsLine } from "../../components/agents/from-strategy";
import { borgSshCommand } from "../../components/agents/borgmatic-config";
import { resolveAgentSpec } from "../../components/agents/spec";
import { withConfig } from "../helpers/config";

const NAS_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAInaskey";

function agentWith(repository: string, extra: Record<string, unknown> = {}, nasKey: string | undefined = NAS_KEY) {
  const r = parseStrategy(
    withConfig((c) => {
      if (nasKey) c.hosts.truenas.sshHostKey = nasKey;
      c.agents = [{ name: "db01", address: "10.0.10.5", service: "db", repository, ...extra }];
    }),
  );
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.strategy.agents[0]!;
}

test("known_hosts lines name the host, with [host]:port off port 22", () => {
  assert.equal(knownHostsLine("ssh://borg@nas.test/mnt/tank/borg/db01", NAS_KEY), `nas.test ${NAS_KEY}`);
  assert.equal(knownHostsLine("ssh://borg@nas.test:2222/mnt/tank/borg/db01", NAS_KEY), `[nas.test]:2222 ${NAS_KEY}`);
  assert.equal(knownHostsLine("ssh://nas.test:22/x", NAS_KEY), `nas.test ${NAS_KEY}`);
});

test("a repository on the NAS pins the NAS's host key, and borg's ssh checks strictly", () => {
  const agent = agentWith("ssh://borg@nas.test/mnt/tank/borg/db01");
  assert.equal(agent.repositoryHostKey, NAS_KEY);
  const spec = agentSpecFromStrategy(agent);
  assert.equal(spec.repository.knownHosts, `nas.test ${NAS_KEY}`);
  const ssh = borgSshCommand(resolveAgentSpec(spec)) ?? "";
  assert.match(ssh, /StrictHostKeyChecking=yes/);
  assert.doesNotMatch(ssh, /accept-new/);
});

test("an agent's own repositoryHostKey wins; another server without one falls back to accept-new", () => {
  const own = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIownkey";
  assert.equal(agentWith("ssh://borg@nas.test/x", { repositoryHostKey: own }).repositoryHostKey, own);
  const elsewhere = agentWith("ssh://borg@other.test/x");
  assert.equal(elsewhere.repositoryHostKey, undefined);
  assert.match(borgSshCommand(resolveAgentSpec(agentSpecFromStrategy(elsewhere))) ?? "", /StrictHostKeyChecking=accept-new/);
});

test("a malformed host key is one config line", () => {
  const r = parseStrategy(withConfig((c) => (c.hosts.truenas.sshHostKey = "not a key")));
  assert.ok(!r.ok);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.path, "hosts.truenas.sshHostKey");
});
