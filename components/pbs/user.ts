/**
 * A PBS user (`/access/users`). Used for the account PVE's token belongs to: created without a
 * password, so it can only act through its API tokens.
 */
import { COMMENT, type FieldTable } from "./fields";
import { sectionSpec, type ResourceSpec } from "./provider";

export const USER_ID = /^[^\s:/@!]+@[A-Za-z0-9_-]+$/;

export const USER_FIELDS: FieldTable = {
  userid: { api: "userid", kind: "string", required: true, immutable: true, maxLength: 64, pattern: USER_ID, expected: "user@realm" },
  comment: COMMENT,
  email: { api: "email", kind: "string", deletable: true, pattern: /^[^\s@]+@[^\s@]+$/, expected: "an e-mail address" },
  // PBS's user update has no delete entries for these two; removing them means restoring the defaults.
  enable: { api: "enable", kind: "boolean", resetWith: true },
  expire: { api: "expire", kind: "integer", min: 0, omitWhen: 0, resetWith: 0 },
};

export const userSpec: ResourceSpec = sectionSpec({
  kind: "user",
  fields: USER_FIELDS,
  collection: "/access/users",
  idField: "userid",
  digestOnDelete: true,
});
