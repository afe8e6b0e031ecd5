import { test } from "node:test";
import assert from "node:assert/strict";
import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { STACK_POLICIES, toStackPolicy } from "../../policies/pack";
import { RULES } from "../../policies/rules";
import { threeTwoOne } from "../../policies/rules/three-two-one";
import { compliantTopology, without } from "./fixture";

function policyResources(names: string[] = []): PolicyResource[] {
  return without(compliantTopology(), ...names).map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    opts: { protect: r.protect, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }) as unknown as PolicyResource);
}

async function violations(resources: PolicyResource[], settings?: object): Promise<string[]> {
  const out: string[] = [];
  const report: ReportViolation = (message: string) => void out.push(message);
  const args = { resources, stackTags: new Map(), getConfig: () => ({ settings }), notApplicable: () => { throw new Error("n/a"); } } as unknown as StackValidationArgs;
  await toStackPolicy(threeTwoOne).validateStack(args, report);
  return out;
}

test("every rule becomes a CrossGuard stack policy with its id, enforcement and fix", () => {
  assert.equal(STACK_POLICIES.length, RULES.length);
  for (const [i, p] of STACK_POLICIES.entries()) {
    assert.equal(p.name, RULES[i]!.name);
    assert.equal(p.enforcementLevel, RULES[i]!.enforcement);
    assert.match(p.description, new RegExp(`^\\[${RULES[i]!.id}\\] .+ Fix: `));
  }
  assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length, "rule ids are unique");
});

test("the CrossGuard policy reports what the offline rule finds, and honours exemptions with reasons", async () => {
  assert.deepEqual(await violations(policyResources()), []);
  const found = await violations(policyResources(["offsite-critical"]));
  assert.deepEqual(found, [`[HB-321] data class db has 0 off-site, expected at least 1. Fix: ${threeTwoOne.fix}`]);
  assert.deepEqual(await violations(policyResources(["offsite-critical"]), { exemptions: [{ rule: "HB-321", subject: "db", reason: "lab copy only, accepted by the owner" }] }), []);
  await assert.rejects(violations(policyResources(), { exemptions: [{ rule: "HB-321", subject: "db", reason: "" }] }), /exemptions\[0\]\.reason: "" is too short/);
});
