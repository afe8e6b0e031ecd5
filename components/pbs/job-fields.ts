/** Fields prune and verify jobs share, and the namespace-depth rule PBS applies to both. */
import { DATASTORE_NAME, NAMESPACE, SAFE_ID, type CheckFailure, type FieldSpec, type Props } from "./fields";

export const JOB_ID: FieldSpec = {
  api: "id", kind: "string", required: true, immutable: true, minLength: 3, maxLength: 32,
  pattern: SAFE_ID, expected: "3-32 letters, digits, ., - or _",
};
export const STORE: FieldSpec = {
  api: "store", kind: "string", required: true,
  pattern: DATASTORE_NAME, expected: "a datastore name",
};
export const NS: FieldSpec = {
  api: "ns", kind: "string", deletable: true, omitWhen: "", maxLength: 256,
  pattern: NAMESPACE, expected: "a namespace path of up to 7 levels (a/b/c)",
};
export const MAX_DEPTH: FieldSpec = { api: "max-depth", kind: "integer", deletable: true, min: 0, max: 7 };

/** The deepest namespace a job reaches (its ns depth plus max-depth) may not pass PBS's 7 levels. */
export function namespaceDepthFailures(inputs: Props): CheckFailure[] {
  const depth = typeof inputs.ns === "string" && inputs.ns !== "" ? inputs.ns.split("/").length : 0;
  const maxDepth = typeof inputs.maxDepth === "number" ? inputs.maxDepth : 0;
  return depth + maxDepth > 7
    ? [{ property: "maxDepth", reason: `ns "${String(inputs.ns)}" is ${depth} levels deep, so max-depth can be at most ${7 - depth}` }]
    : [];
}
