/**
 * PBS notification targets (`/config/notifications/endpoints/{smtp,gotify,webhook}/{name}`) and
 * matchers (`/config/notifications/matchers/{name}`), PBS 3.2+ (webhook 3.3+).
 *
 * Secrets (smtp password, gotify token, webhook secrets) are secret inputs. PBS keeps them in
 * notifications-priv.cfg and never returns them, so `read` cannot see drift in them and keeps the
 * values from state. smtp `mode` is always sent: the server default is not documented reliably.
 */
import { isRecord, type ApiValue } from "./client";
import { COMMENT, SAFE_ID, type CheckFailure, type FieldSpec, type FieldTable, type Props } from "./fields";
import { decodePropertyString, encodePropertyString } from "./property-string";
import { sectionSpec, type ResourceSpec } from "./provider";

const NAME: FieldSpec = {
  api: "name", kind: "string", required: true, immutable: true, minLength: 2, maxLength: 32,
  pattern: SAFE_ID, expected: "letters, digits, ., - or _",
};
const DISABLE: FieldSpec = { api: "disable", kind: "boolean", deletable: true };
const typeField = (type: string): FieldSpec => ({ kind: "string", required: true, immutable: true, oneOf: [type] });

/** Name/value pairs as PBS's webhook wants them: `name=<n>,value=<base64>` property strings. */
export function encodeKeyValues(value: unknown): ApiValue {
  const entries = isRecord(value) ? Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  return entries.map(([name, v]) =>
    encodePropertyString([["name", name], ["value", Buffer.from(String(v), "utf8").toString("base64")]]),
  );
}

export function decodeKeyValues(value: unknown): Record<string, string> | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const item of value) {
    const entry = decodePropertyString(String(item));
    // defineProperty: a header named "__proto__" must stay a header, not become the prototype.
    if (entry.name !== undefined) {
      Object.defineProperty(out, entry.name, { value: Buffer.from(entry.value ?? "", "base64").toString("utf8"), enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function validateKeyValues(value: unknown): string | undefined {
  if (!isRecord(value)) return "expected an object of name: value";
  for (const [name, v] of Object.entries(value)) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) return `name "${name}" may hold only letters, digits, - and _`;
    if (typeof v !== "string") return `the value of ${name} must be a string`;
  }
  return undefined;
}

const EMAIL = /^[^\s@,]+@[^\s@,]+$/;

export const SMTP_FIELDS: FieldTable = {
  type: typeField("smtp"),
  name: NAME,
  server: { api: "server", kind: "string", required: true, pattern: /^[A-Za-z0-9.:[\]-]+$/, expected: "a host name or address" },
  port: { api: "port", kind: "integer", deletable: true, min: 1, max: 65535 },
  mode: { api: "mode", kind: "string", defaultValue: "tls", oneOf: ["insecure", "starttls", "tls"] },
  username: { api: "username", kind: "string", deletable: true },
  password: { api: "password", kind: "string", deletable: true, writeOnly: true, secret: true },
  fromAddress: { api: "from-address", kind: "string", required: true, pattern: EMAIL, expected: "an e-mail address" },
  mailto: { api: "mailto", kind: "strings", deletable: true, pattern: EMAIL, expected: "e-mail addresses" },
  mailtoUser: { api: "mailto-user", kind: "strings", deletable: true, pattern: /^[^\s:/@]+@[A-Za-z0-9_-]+$/, expected: "PBS users (user@realm)" },
  author: { api: "author", kind: "string", deletable: true },
  comment: COMMENT,
  disable: DISABLE,
};

export const GOTIFY_FIELDS: FieldTable = {
  type: typeField("gotify"),
  name: NAME,
  server: { api: "server", kind: "string", required: true, pattern: /^https?:\/\/\S+$/, expected: "the Gotify server URL" },
  token: { api: "token", kind: "string", required: true, writeOnly: true, secret: true },
  comment: COMMENT,
  disable: DISABLE,
};

export const WEBHOOK_FIELDS: FieldTable = {
  type: typeField("webhook"),
  name: NAME,
  url: { api: "url", kind: "string", required: true, pattern: /^https?:\/\/\S+$/, expected: "an http(s) URL" },
  method: { api: "method", kind: "string", defaultValue: "post", oneOf: ["post", "put"] },
  headers: { api: "header", kind: "object", deletable: true, omitWhen: {}, encode: encodeKeyValues, decode: decodeKeyValues, validate: validateKeyValues },
  // PBS stores the body template base64-encoded.
  body: {
    api: "body", kind: "string", deletable: true,
    encode: (v) => Buffer.from(String(v), "utf8").toString("base64"),
    decode: (v) => Buffer.from(String(v), "base64").toString("utf8"),
  },
  secrets: {
    api: "secret", kind: "object", deletable: true, omitWhen: {}, writeOnly: true, secret: true,
    encode: encodeKeyValues, validate: validateKeyValues,
  },
  comment: COMMENT,
  disable: DISABLE,
};

function validateSmtp(inputs: Props): CheckFailure[] {
  const none = (v: unknown): boolean => !Array.isArray(v) || v.length === 0;
  return none(inputs.mailto) && none(inputs.mailtoUser)
    ? [{ property: "mailto", reason: "an smtp target needs at least one recipient in mailto or mailtoUser" }]
    : [];
}

const endpointSpec = (type: string, fields: FieldTable, validate?: (inputs: Props) => CheckFailure[]): ResourceSpec =>
  sectionSpec({
    kind: `${type} notification target`,
    fields,
    collection: `/config/notifications/endpoints/${type}`,
    idField: "name",
    digestOnDelete: false,
    validate,
  });

export const smtpSpec = endpointSpec("smtp", SMTP_FIELDS, validateSmtp);
export const gotifySpec = endpointSpec("gotify", GOTIFY_FIELDS);
export const webhookSpec = endpointSpec("webhook", WEBHOOK_FIELDS);

export const SEVERITIES = ["info", "notice", "warning", "error", "unknown"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const MATCHER_FIELDS: FieldTable = {
  name: NAME,
  targets: { api: "target", kind: "strings", deletable: true, pattern: SAFE_ID, expected: "target names" },
  matchSeverity: { api: "match-severity", kind: "strings", deletable: true, oneOf: SEVERITIES },
  matchField: {
    api: "match-field", kind: "strings", deletable: true,
    pattern: /^(exact|regex):[A-Za-z0-9_-]+=\S.*$/, expected: "exact:<field>=<v1,v2> or regex:<field>=<re>",
  },
  matchCalendar: { api: "match-calendar", kind: "strings", deletable: true, pattern: /^\S.*$/, expected: "a calendar range such as mon-fri 9:00-17:00" },
  mode: { api: "mode", kind: "string", deletable: true, oneOf: ["all", "any"] },
  invertMatch: { api: "invert-match", kind: "boolean", deletable: true },
  comment: COMMENT,
  disable: DISABLE,
};

export const matcherSpec: ResourceSpec = sectionSpec({
  kind: "notification matcher",
  fields: MATCHER_FIELDS,
  collection: "/config/notifications/matchers",
  idField: "name",
  digestOnDelete: false,
});
