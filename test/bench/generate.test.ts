import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseStrategy } from "../../config/validate";
import { syntheticConfig } from "../../bench/generate";

test("the bench's synthetic strategies are valid and have the size asked for", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 20 }), (services, nodes) => {
      const r = parseStrategy(syntheticConfig({ services, nodes }));
      assert.ok(r.ok, !r.ok ? r.problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join("\n") : "");
      assert.equal(r.strategy.services.length, services);
      assert.equal(r.strategy.hosts.pve.nodes.length, nodes);
      assert.equal(r.strategy.agents.length, Math.floor(services / 10));
      // Critical services go off-site, so the off-site chain scales with the size too.
      assert.equal(r.strategy.services.filter((s) => s.offsite).length, Math.ceil(services / 3));
    }),
    { numRuns: 15 },
  );
});
