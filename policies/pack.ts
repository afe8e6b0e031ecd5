/**
 * The rules as CrossGuard stack policies. Separate from index.ts because constructing a
 * PolicyPack starts the analyzer server; this module only builds the policy objects.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { deriveCopies } from "../model";
import type { ModelResource } from "../model/resource";
import { resolvePolicyConfig, type PolicyConfig } from "./config";
import type { Rule } from "./rule";
import { RULES } from "./rules";

export function fromPolicyResource(r: PolicyResource): ModelResource {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props as Record<string, unknown>,
    protect: r.opts.protect,
    ...(r.parent ? { parentUrn: r.parent.urn } : {}),
  };
}

export function toStackPolicy(rule: Rule): StackValidationPolicy {
  return {
    name: rule.name,
    description: `[${rule.id}] ${rule.description} Fix: ${rule.fix}`,
    enforcementLevel: rule.enforcement,
    configSchema: { properties: { settings: { type: "object" } } },
    validateStack: (args, reportViolation) => {
      const settings = (args.getConfig<{ settings?: Partial<PolicyConfig> }>().settings ?? undefined) as Partial<PolicyConfig> | undefined;
      const config = resolvePolicyConfig(settings);
      const resources = args.resources.map(fromPolicyResource);
      for (const f of rule.check({ resources, classes: deriveCopies(resources), config })) {
        if (f.status !== "non-compliant") continue;
        if (config.exemptions.some((e) => e.rule === rule.id && e.subject === f.subject)) continue;
        reportViolation(`[${rule.id}] ${f.message}. Fix: ${rule.fix}`, f.urn);
      }
    },
  };
}

export const STACK_POLICIES: StackValidationPolicy[] = RULES.map(toStackPolicy);
