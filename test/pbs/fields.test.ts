import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  checkConnection,
  checkFields,
  deleteList,
  diffFields,
  fromApi,
  sameValue,
  toApi,
  updateBody,
  UNKNOWN,
  type FieldTable,
  type Props,
} from "../../components/pbs/fields";
import { decodePropertyString, encodePropertyString } from "../../components/pbs/property-string";
import { decodeMaintenanceMode, decodeTuning, encodeMaintenanceMode, encodeTuning } from "../../components/pbs/datastore";
import { decodeKeyValues, encodeKeyValues } from "../../components/pbs/notifications";

/** A table with every behaviour the real ones use. */
const TABLE: FieldTable = {
  id: { api: "id", kind: "string", required: true, immutable: true },
  store: { api: "store", kind: "string", required: true },
  a: { api: "a-a", kind: "string", deletable: true },
  b: { api: "b-b", kind: "integer", deletable: true },
  c: { api: "c-c", kind: "boolean", deletable: true },
  d: { api: "d-d", kind: "strings", deletable: true },
  reset: { api: "reset", kind: "string", resetWith: "" },
  local: { kind: "boolean" },
};

const value = {
  a: fc.string(),
  b: fc.integer(),
  c: fc.boolean(),
  d: fc.array(fc.string(), { maxLength: 3 }),
  reset: fc.string({ minLength: 1 }),
};
/** Props for TABLE with each optional field present or absent. */
const props: fc.Arbitrary<Props> = fc.record(
  {
    id: fc.constantFrom("job-a", "job-b"),
    store: fc.constantFrom("s1", "s2"),
    a: value.a,
    b: value.b,
    c: value.c,
    d: value.d,
    reset: value.reset,
    local: fc.boolean(),
  },
  { requiredKeys: ["id", "store"] },
);

/** What PBS does with a PUT: remove the `delete` entries, then set the given values. */
function applyPut(server: Record<string, unknown>, body: Record<string, unknown>): Record<string, unknown> {
  const next = { ...server };
  for (const key of (body.delete as string[] | undefined) ?? []) delete next[key];
  for (const [k, v] of Object.entries(body)) if (k !== "delete") next[k] = v;
  return next;
}

describe("delete list and PUT body", () => {
  it("the delete list is exactly the deletable fields set before and absent now, sorted", () => {
    fc.assert(
      fc.property(props, props, (olds, news) => {
        const list = deleteList(TABLE, olds, news);
        const expected = Object.entries(TABLE)
          .filter(([k, s]) => s.deletable && olds[k] !== undefined && news[k] === undefined)
          .map(([, s]) => s.api as string)
          .sort();
        assert.deepEqual(list, expected);
        assert.deepEqual([...list].sort(), list);
        for (const api of list) {
          const key = Object.keys(TABLE).find((k) => TABLE[k].api === api) as string;
          assert.equal(news[key], undefined, "never deletes a field that is still wanted");
        }
      }),
    );
  });

  it("applying the PUT to the old server state yields the new desired state", () => {
    fc.assert(
      fc.property(props, props, (olds, news) => {
        const before = toApi(TABLE, olds, "create");
        const after = applyPut(before, updateBody(TABLE, olds, news));
        const wanted = toApi(TABLE, { ...news, id: olds.id }, "create");
        // A field without a delete list is reset to its default value, which PBS treats as unset.
        if (news.reset === undefined && olds.reset !== undefined) wanted.reset = "";
        assert.deepEqual(after, wanted);
      }),
    );
  });

  it("sends nothing when nothing the API knows about changed, and never sends immutable or provider-only fields", () => {
    fc.assert(
      fc.property(props, fc.boolean(), (olds, local) => {
        assert.deepEqual(updateBody(TABLE, olds, { ...olds, local }), {});
        const body = updateBody(TABLE, olds, { ...olds, id: "job-z" });
        assert.equal(body.id, undefined);
      }),
    );
  });

  it("a removed field without a delete entry is sent with its reset value", () => {
    assert.deepEqual(updateBody(TABLE, { id: "x", store: "s", reset: "hello" }, { id: "x", store: "s" }), { reset: "" });
  });
});

describe("diff", () => {
  it("replaces only when an immutable field changed; everything else is an in-place update", () => {
    fc.assert(
      fc.property(props, props, (olds, news) => {
        const d = diffFields(TABLE, olds, news);
        assert.deepEqual(d.replaces, olds.id === news.id ? [] : ["id"]);
        const anyChange = Object.keys(TABLE).some((k) => !sameValue(olds[k], news[k]));
        assert.equal(d.changes, anyChange);
      }),
    );
  });

  it("a changed connection is a change (so the new token reaches state), never a replacement", () => {
    const conn = { url: "https://a:8007", fingerprint: "AA", tokenId: "a@pam!t", tokenSecret: "one" };
    const olds = { id: "x", store: "s", connection: conn };
    assert.deepEqual(diffFields(TABLE, olds, { ...olds }), { changes: false, replaces: [] });
    assert.deepEqual(diffFields(TABLE, olds, { ...olds, connection: { ...conn, tokenSecret: "two" } }), { changes: true, replaces: [] });
  });

  it("an unknown (preview) value of an immutable field means replacement", () => {
    assert.deepEqual(diffFields(TABLE, { id: "x", store: "s" }, { id: UNKNOWN, store: "s" }).replaces, ["id"]);
  });

  it("sameValue ignores key order and treats absent and undefined alike", () => {
    assert.ok(sameValue({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }));
    assert.ok(!sameValue([1, 2], [2, 1]));
    assert.ok(!sameValue({ a: 1 }, { a: "1" }));
  });
});

describe("check", () => {
  it("rejects unknown properties, wrong types and missing required fields, and applies defaults", () => {
    const table: FieldTable = { ...TABLE, mode: { api: "mode", kind: "string", defaultValue: "tls", oneOf: ["tls", "starttls"] } };
    const { inputs, failures } = checkFields(table, { id: "x", b: "3", bogus: 1 });
    assert.deepEqual(
      failures.map((f) => f.property).sort(),
      ["b", "bogus", "store"],
    );
    assert.equal(inputs.mode, "tls");
    assert.match(failures.find((f) => f.property === "b")?.reason ?? "", /expected an integer/);
  });

  it("drops values PBS treats as absent, and never quotes a secret", () => {
    const table: FieldTable = {
      disable: { api: "disable", kind: "boolean", omitWhen: false },
      password: { api: "password", kind: "string", secret: true, maxLength: 4 },
    };
    const { inputs, failures } = checkFields(table, { disable: false, password: "much-too-long-secret" });
    assert.equal("disable" in inputs, false);
    assert.deepEqual(failures, [{ property: "password", reason: "invalid value (not shown: secret)" }]);
  });

  it("skips validation of values unknown during preview", () => {
    const { failures } = checkFields(TABLE, { id: "x", store: "s", b: UNKNOWN });
    assert.deepEqual(failures, []);
  });

  it("validates the connection without quoting the token secret", () => {
    const secret = "s3cr3t-value";
    const failures = checkConnection({ url: "http://pbs:8007", fingerprint: "zz", tokenId: "root", tokenSecret: secret, maxRetries: -1 });
    assert.deepEqual(failures.map((f) => f.property), ["connection.url", "connection.fingerprint", "connection.tokenId", "connection.maxRetries"]);
    assert.ok(!JSON.stringify(failures).includes(secret));
    assert.deepEqual(checkConnection({ url: "https://pbs:8007", fingerprint: "AB:".repeat(31) + "AB", tokenId: "root@pam!t", tokenSecret: "x" }), []);
    assert.deepEqual(checkConnection(undefined), [{ property: "connection", reason: "required" }]);
  });

  it("reads API values back into input shape, coercing 1/0 and ignoring unknown keys", () => {
    assert.deepEqual(fromApi(TABLE, { id: "x", store: "s", "c-c": 1, "b-b": "4", digest: "abc", other: 1 }), { id: "x", store: "s", c: true, b: 4 });
  });
});

describe("property strings", () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

  it("round-trips any values, including commas, quotes, backslashes and whitespace", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, fc.string()), { selector: ([k]) => k, minLength: 1, maxLength: 5 }), (entries) => {
        const text = encodePropertyString(entries);
        assert.deepEqual(decodePropertyString(text), Object.fromEntries(entries));
      }),
    );
  });

  it("writes plain values unquoted, as PBS prints them", () => {
    assert.equal(encodePropertyString([["chunk-order", "inode"], ["sync-level", "file"], ["x", undefined]]), "chunk-order=inode,sync-level=file");
    assert.equal(encodePropertyString([["message", 'disk swap, "soon"']]), 'message="disk swap, \\"soon\\""');
    assert.throws(() => encodePropertyString([["bad key", "v"]]), /not an identifier/);
    assert.throws(() => decodePropertyString('a="unterminated'), /unterminated/);
  });

  it("tuning, maintenance mode and webhook key/values survive encode → decode", () => {
    fc.assert(
      fc.property(
        fc.record({ chunkOrder: fc.constantFrom("none", "inode"), syncLevel: fc.constantFrom("none", "file", "filesystem") }, { requiredKeys: [] }),
        fc.record({ type: fc.constantFrom("read-only" as const, "offline" as const), message: fc.string({ maxLength: 64 }) }, { requiredKeys: ["type"] }),
        fc.dictionary(fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/), fc.string()),
        (tuning, mode, pairs) => {
          // fast-check builds null-prototype records; compare plain copies.
          const t: Props = { ...tuning };
          if (Object.keys(t).length > 0) assert.deepEqual(decodeTuning(encodeTuning(t)), t);
          assert.deepEqual(decodeMaintenanceMode(encodeMaintenanceMode(mode)), { ...mode });
          const kv = { ...pairs };
          assert.deepEqual(decodeKeyValues(encodeKeyValues(kv)), kv);
        },
      ),
    );
  });
});
