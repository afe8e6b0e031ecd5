import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { recordProgram, type RecordedResource } from "../../plan/record";
import { parseStrategy } from "../../config/validate";
import { withPlaceholderSecrets } from "../../plan/placeholders";
import { asPulumiConfig, syntheticConfig } from "../../bench/generate";

/**
 * Dependencies stay local: a test, hook or job waits for what its own host needs. A component in
 * `dependsOn` is expanded by the SDK into its whole subtree for every dependent, so one broad
 * `dependsOn` per agent makes the plan quadratic in agents.
 */
describe("dependencies of per-host resources stay on their host", () => {
  let resources: RecordedResource[];
  let restoreNode: string;
  before(async () => {
    // Five agents, each with a database: five database restore tests.
    const raw = syntheticConfig({ services: 50, nodes: 2 });
    const parsed = parseStrategy(raw);
    if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
    restoreNode = parsed.strategy.verification.restoreTests.node;
    const { config, secretKeys } = withPlaceholderSecrets(parsed.strategy, asPulumiConfig(raw), []);
    const recording = await recordProgram({ project: "homelab-backup", stack: "deps", config, secretKeys }, async () => (await import("../../stacks/program")).runProgram);
    resources = recording.resources;
  });

  const byUrn = () => new Map(resources.map((r) => [r.urn, r]));
  const within = (urn: string, ancestor: string, index: Map<string, RecordedResource>): boolean => {
    for (let at: string | undefined = urn; at !== undefined; at = index.get(at)?.parent) if (at === ancestor) return true;
    return false;
  };

  test("a database restore test waits for its own agent and the notify command on its host, and for no other agent", () => {
    const index = byUrn();
    const agents = resources.filter((r) => r.type === "homelab:agents:BorgmaticAgent");
    const tests = resources.filter((r) => r.type === "homelab:verify:DatabaseRestoreTest");
    assert.equal(agents.length, 5);
    assert.equal(tests.length, 5);
    for (const t of tests) {
      const host = t.name.replace(/-restore-test$/, "");
      const own = agents.find((a) => a.name === host);
      assert.ok(own, `an agent named ${host}`);
      const notify = resources.find((r) => r.type === "command:remote:Command" && r.name === `notify-${host}-deploy`);
      assert.ok(notify, `the notify deploy step on ${host}`);
      assert.ok(t.dependencies.includes(notify.urn), `${t.name} waits for ${notify.name}`);
      assert.ok(t.dependencies.some((d) => within(d, own.urn, index)), `${t.name} waits for its agent`);
      for (const other of agents.filter((a) => a !== own)) {
        assert.ok(!t.dependencies.some((d) => within(d, other.urn, index)), `${t.name} must not wait for ${other.name}`);
      }
    }
  });

  test("a node's restore test waits for the notify command on that node, not on the agents", () => {
    const index = byUrn();
    const agents = resources.filter((r) => r.type === "homelab:agents:BorgmaticAgent");
    const restoreTests = resources.filter((r) => r.type === "homelab:verify:RestoreTest");
    assert.ok(restoreTests.length > 0);
    for (const t of restoreTests) {
      const notify = resources.find((r) => r.type === "command:remote:Command" && r.name === `notify-${restoreNode}-deploy`);
      assert.ok(notify, `the notify deploy step on ${restoreNode}`);
      assert.ok(t.dependencies.includes(notify.urn), `${t.name} waits for the notify command on its node ${restoreNode}`);
      assert.ok(!t.dependencies.some((d) => /notify-.*-deploy$/.test(d) && d !== notify.urn), `${t.name} waits for no other host's notify command`);
      assert.ok(!t.dependencies.some((d) => agents.some((a) => within(d, a.urn, index))), `${t.name} must not wait for agents`);
    }
  });
});
