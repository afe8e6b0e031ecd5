import type { PlanDocument } from "../document";

/**
 * The JSON contract: `stack`, `resources` (type, name, parent, inputs with secrets as
 * "[secret]"), `schedules`, `retention`, `notes`, `outputs`, `copies`, `violations`, `cost` (when
 * the off-site tier is declared). Keys are only ever added, never renamed.
 */
export function renderJson(doc: PlanDocument): string {
  const resources = doc.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent,
    protect: r.protect,
    retainOnDelete: r.retainOnDelete,
    inputs: r.inputs,
  }));
  return (
    JSON.stringify(
      {
        stack: doc.stack,
        stackFile: doc.stackFile,
        resources,
        schedules: doc.schedules,
        retention: doc.retention,
        notes: doc.notes,
        outputs: doc.outputs,
        copies: doc.copies,
        violations: doc.violations,
        // Added with the review: a base planned as JSON needs it to compare cost.
        ...(doc.cost ? { cost: doc.cost } : {}),
      },
      null,
      2,
    ) + "\n"
  );
}
