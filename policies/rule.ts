/**
 * The rule shape, after cdk-nag: one rule a file with a stable id, why it exists and how to fix
 * a violation; a check returns compliant / non-compliant / not-applicable findings. The same
 * rules run as a CrossGuard pack (`pulumi preview --policy-pack policies`) and in the offline plan.
 */
import type { DataClass } from "../model";
import type { ModelResource } from "../model/resource";
import type { PolicyConfig } from "./config";

export type Status = "compliant" | "non-compliant" | "not-applicable";

export interface Finding {
  status: Status;
  /** What was judged: a data class name or a resource's `type::name`. */
  subject: string;
  /** URN of the resource at fault, when there is one (CrossGuard attaches the violation to it). */
  urn?: string;
  message: string;
}

export interface RuleContext {
  resources: readonly ModelResource[];
  classes: readonly DataClass[];
  config: PolicyConfig;
}

export interface Rule {
  /** Stable id, e.g. `HB-321`; never reused. */
  id: string;
  /** CrossGuard policy name (kebab-case). */
  name: string;
  /** Why the rule exists. */
  description: string;
  /** What a reviewer does about a violation. */
  fix: string;
  enforcement: "mandatory" | "advisory";
  check(ctx: RuleContext): Finding[];
}

export const ok = (subject: string, message = "compliant"): Finding => ({ status: "compliant", subject, message });
export const na = (subject: string, message: string): Finding => ({ status: "not-applicable", subject, message });
export const bad = (subject: string, message: string, urn?: string): Finding => ({ status: "non-compliant", subject, message, ...(urn ? { urn } : {}) });
