/**
 * A backup namespace inside a datastore (`/admin/datastore/{store}/namespace`). Namespaces have no
 * settings, so every field is immutable and there is nothing to update.
 *
 * Delete never sends `delete-groups`: PBS then refuses to remove a namespace that still holds
 * backup groups, and that refusal is what we want. Emptying a namespace of backups is a decision
 * for a person, not a side effect of a config change.
 */
import { isNotFound, isRecord, seg } from "./client";
import { NAMESPACE, SAFE_ID, type CheckFailure, type FieldTable, type Props } from "./fields";
import { STORE } from "./job-fields";
import { type ResourceSpec } from "./provider";

export const NAMESPACE_FIELDS: FieldTable = {
  store: { ...STORE, immutable: true },
  parent: { api: "parent", kind: "string", immutable: true, omitWhen: "", maxLength: 256, pattern: NAMESPACE, expected: "a namespace path (a/b)" },
  name: { api: "name", kind: "string", required: true, immutable: true, maxLength: 32, pattern: SAFE_ID, expected: "one namespace level: letters, digits, ., - or _" },
};

/** `parent/name`, or `name` under the root namespace. */
export function namespacePath(inputs: Props): string {
  const parent = typeof inputs.parent === "string" ? inputs.parent : "";
  return parent === "" ? String(inputs.name) : `${parent}/${String(inputs.name)}`;
}

export function namespaceId(store: string, ns: string): string {
  return `${store}:${ns}`;
}

function validateNamespace(inputs: Props): CheckFailure[] {
  const depth = namespacePath(inputs).split("/").length;
  return depth > 7 ? [{ property: "name", reason: `namespace ${namespacePath(inputs)} is ${depth} levels deep; PBS allows 7` }] : [];
}

const collection = (store: unknown): string => `/admin/datastore/${seg(String(store))}/namespace`;

export const namespaceSpec: ResourceSpec = {
  kind: "namespace",
  fields: NAMESPACE_FIELDS,
  validate: validateNamespace,
  async create(client, inputs) {
    await client.post(collection(inputs.store), { parent: inputs.parent, name: inputs.name });
    return { id: namespaceId(String(inputs.store), namespacePath(inputs)), outs: { path: namespacePath(inputs) } };
  },
  async read(client, _id, props) {
    let list: unknown;
    try {
      list = await client.get(collection(props.store), { parent: typeof props.parent === "string" ? props.parent : undefined });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const ns = namespacePath(props);
    const found = Array.isArray(list) && list.some((entry) => isRecord(entry) && entry.ns === ns);
    return found ? { store: props.store, parent: props.parent, name: props.name, path: ns } : undefined;
  },
  async update() {
    // Every field is immutable, so diff never asks for an update.
  },
  async delete(client, _id, props) {
    try {
      // No `delete-groups`: see the module comment.
      await client.delete(collection(props.store), { ns: namespacePath(props) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
  computed: ["path"],
};
