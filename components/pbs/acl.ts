/**
 * One ACL entry (`/access/acl`): a role for a user or token on a path. PBS's ACL PUT adds or
 * replaces an entry (`delete: true` removes it), so path, role and auth id identify the entry and
 * only `propagate` is updated in place.
 *
 * Deleting a datastore removes the ACLs under `/datastore/<name>`, so a missing entry on delete is
 * already deleted.
 */
import { isNotFound, isRecord, type PbsClient } from "./client";
import { type FieldTable, type Props } from "./fields";
import { type ResourceSpec } from "./provider";

export const ROLES = [
  "Admin", "Audit", "NoAccess",
  "DatastoreAdmin", "DatastoreReader", "DatastoreBackup", "DatastorePowerUser", "DatastoreAudit",
  "RemoteAudit", "RemoteAdmin", "RemoteSyncOperator",
  "TapeAudit", "TapeAdmin", "TapeOperator", "TapeReader",
] as const;
export type Role = (typeof ROLES)[number];

export const ACL_FIELDS: FieldTable = {
  path: { api: "path", kind: "string", required: true, immutable: true, pattern: /^\/([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/, expected: "/ or /segment(/segment)*" },
  role: { api: "role", kind: "string", required: true, immutable: true, oneOf: ROLES },
  authId: {
    api: "auth-id", kind: "string", required: true, immutable: true,
    pattern: /^[^\s:/@!]+@[A-Za-z0-9_-]+(![A-Za-z0-9_][A-Za-z0-9._-]*)?$/, expected: "user@realm or user@realm!token",
  },
  // PBS's default is true; say it explicitly so state and server agree.
  propagate: { api: "propagate", kind: "boolean", defaultValue: true },
};

export function aclId(props: Props): string {
  return `${String(props.path)}|${String(props.authId)}|${String(props.role)}`;
}

/** The entry for `props` in a GET /access/acl answer, if present. */
export function findAclEntry(list: unknown, props: Props): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.find(
    (e): e is Record<string, unknown> =>
      isRecord(e) && e.path === props.path && e.ugid === props.authId && e.roleid === props.role,
  );
}

async function current(client: PbsClient, props: Props): Promise<{ entry: Record<string, unknown> | undefined; digest: string | undefined }> {
  const response = await client.request("GET", "/access/acl", { query: { path: String(props.path), exact: true } });
  return { entry: findAclEntry(response.data, props), digest: response.digest };
}

async function put(client: PbsClient, props: Props, extra: Record<string, unknown>): Promise<void> {
  const { digest } = await current(client, props);
  await client.put("/access/acl", { path: props.path, role: props.role, "auth-id": props.authId, ...extra, digest });
}

export const aclSpec: ResourceSpec = {
  kind: "ACL entry",
  fields: ACL_FIELDS,
  async create(client, inputs) {
    await put(client, inputs, { propagate: inputs.propagate });
    return { id: aclId(inputs) };
  },
  async read(client, _id, props) {
    try {
      const { entry } = await current(client, props);
      if (!entry) return undefined;
      return { path: props.path, role: props.role, authId: props.authId, propagate: entry.propagate === true || entry.propagate === 1 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  },
  async update(client, _id, olds, news) {
    if (olds.propagate !== news.propagate) await put(client, news, { propagate: news.propagate });
  },
  async delete(client, _id, props) {
    const { entry, digest } = await current(client, props);
    if (!entry) return;
    await client.put("/access/acl", { path: props.path, role: props.role, "auth-id": props.authId, delete: true, digest });
  },
};
