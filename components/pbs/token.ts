/**
 * A PBS API token (`/access/users/{userid}/token/{name}`).
 *
 * PBS shows the secret once, in the answer to the create call, so it is kept from create as the
 * `secret` output (marked secret) and carried through updates and reads. PUT changes only
 * comment, enable and expire; a new name is a new token, so it replaces. A new token has no
 * privileges: grant them with Acl resources.
 */
import { isNotFound, isRecord, seg } from "./client";
import { COMMENT, fromApi, SAFE_ID, toApi, updateBody, type FieldTable, type Props } from "./fields";
import { type ResourceSpec } from "./provider";
import { USER_ID } from "./user";

export const TOKEN_FIELDS: FieldTable = {
  userid: { kind: "string", required: true, immutable: true, inPath: true, pattern: USER_ID, expected: "user@realm" },
  tokenName: { kind: "string", required: true, immutable: true, inPath: true, maxLength: 64, pattern: SAFE_ID, expected: "letters, digits, ., - or _" },
  // The token update has no delete list; PBS clears a comment sent as "".
  comment: { ...COMMENT, deletable: false, resetWith: "" },
  enable: { api: "enable", kind: "boolean", resetWith: true },
  expire: { api: "expire", kind: "integer", min: 0, omitWhen: 0, resetWith: 0 },
};

export function tokenPath(props: Props): string {
  return `/access/users/${seg(String(props.userid))}/token/${seg(String(props.tokenName))}`;
}

export const tokenSpec: ResourceSpec = {
  kind: "API token",
  fields: TOKEN_FIELDS,
  computed: ["tokenId", "secret"],
  async create(client, inputs) {
    const answer = await client.post(tokenPath(inputs), toApi(TOKEN_FIELDS, inputs, "create"));
    if (!isRecord(answer) || typeof answer.value !== "string" || typeof answer.tokenid !== "string") {
      throw new Error(`PBS created token ${String(inputs.userid)}!${String(inputs.tokenName)} but returned no secret; delete it and try again`);
    }
    return { id: answer.tokenid, outs: { tokenId: answer.tokenid, secret: answer.value } };
  },
  async read(client, _id, props) {
    try {
      // userid and tokenName are path parameters; the provider keeps them from state.
      return fromApi(TOKEN_FIELDS, (await client.getWithDigest(tokenPath(props))).data);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  },
  async update(client, _id, olds, news) {
    const body = updateBody(TOKEN_FIELDS, olds, news);
    if (Object.keys(body).length === 0) return;
    const { digest } = await client.getWithDigest(tokenPath(news));
    await client.put(tokenPath(news), { ...body, digest });
  },
  async delete(client, _id, props) {
    try {
      const { digest } = await client.getWithDigest(tokenPath(props));
      await client.delete(tokenPath(props), { digest });
    } catch (error) {
      // Gone with its user.
      if (!isNotFound(error)) throw error;
    }
  },
};
