/** Runs the rules over model resources: the one implementation behind the pack and the plan. */
import { deriveCopies } from "../model";
import type { ModelResource } from "../model/resource";
import type { PolicyConfig } from "./config";
import type { Finding, Rule } from "./rule";
import { RULES } from "./rules";

export interface Violation {
  id: string;
  policy: string;
  enforcement: "mandatory" | "advisory";
  subject: string;
  urn?: string;
  message: string;
  fix: string;
  /** Set when an exemption in the policy config covers it: the violation is reported, not counted. */
  exemptReason?: string;
}

export function findingsOf(rule: Rule, resources: readonly ModelResource[], config: PolicyConfig): Finding[] {
  return rule.check({ resources, classes: deriveCopies(resources), config });
}

/** Non-compliant findings of every rule, exemptions applied. */
export function runRules(resources: readonly ModelResource[], config: PolicyConfig, rules: readonly Rule[] = RULES): Violation[] {
  const classes = deriveCopies(resources);
  const out: Violation[] = [];
  for (const rule of rules) {
    for (const f of rule.check({ resources, classes, config })) {
      if (f.status !== "non-compliant") continue;
      const exemption = config.exemptions.find((e) => e.rule === rule.id && e.subject === f.subject);
      out.push({
        id: rule.id,
        policy: rule.name,
        enforcement: rule.enforcement,
        subject: f.subject,
        ...(f.urn ? { urn: f.urn } : {}),
        message: f.message,
        fix: rule.fix,
        ...(exemption ? { exemptReason: exemption.reason } : {}),
      });
    }
  }
  return out;
}

/** Mandatory violations that no exemption covers: what makes the plan exit 2. */
export function blocking(violations: readonly Violation[]): Violation[] {
  return violations.filter((v) => v.enforcement === "mandatory" && !v.exemptReason);
}
