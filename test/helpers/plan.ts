import { plan } from "../../plan/cli";
import type { PlanDocument, PlanResource } from "../../plan/document";

/** Plans a stack file in this process (one per test file: the mock runtime is a singleton). */
export async function planStack(stack: string): Promise<PlanDocument> {
  const { document } = await plan({ stackFile: `${__dirname}/../../Pulumi.${stack}.yaml`, format: "json" });
  return document;
}

export function ofType(doc: PlanDocument, type: string): PlanResource[] {
  return doc.resources.filter((r) => r.type === type);
}

export function named(doc: PlanDocument, type: string, name: string): PlanResource {
  const r = doc.resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name}; have ${doc.resources.map((x) => `${x.type}::${x.name}`).join(", ")}`);
  return r;
}
