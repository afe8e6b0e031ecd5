import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CACHE_DIR, DynamicResource, SerializedProvider, loaderFlags, sourceVersion } from "../../components/dynamic/serialized-provider";
import { startMocks, settle } from "../network/harness";

const ID = `test-provider-${process.pid}`;
const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, unknown>) {
    return { id: String(inputs["name"]), outs: inputs };
  },
};
const cacheFile = join(CACHE_DIR, `${ID}-${sourceVersion()}.js`);

describe("dynamic providers serialized once per source version", () => {
  after(() => rmSync(cacheFile, { force: true }));

  test("the text is the SDK's own serialization of the provider", async () => {
    const fresh = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false })).text;
    const text = await new SerializedProvider(ID, provider).serialized();
    assert.equal(text, fresh);
    assert.match(text, /exports.handler/);
  });

  test("a later program reads the cached text instead of serializing again", async () => {
    assert.ok(existsSync(cacheFile), "the first serialization was cached");
    writeFileSync(cacheFile, `${readFileSync(cacheFile, "utf8")}\n// marker`);
    assert.match(await new SerializedProvider(ID, provider).serialized(), /\/\/ marker$/);
  });

  test("writing a new version keeps the provider's newest versions only, and no other provider's are touched", async () => {
    // Five earlier versions, oldest first, and another provider's text.
    const earlier = [1, 2, 3, 4, 5].map((n) => join(CACHE_DIR, `${ID}-${String(n).repeat(32)}.js`));
    earlier.forEach((path, i) => {
      writeFileSync(path, "earlier version");
      const at = new Date(Date.now() - (10 - i) * 60_000);
      utimesSync(path, at, at);
    });
    const other = join(CACHE_DIR, `${ID}x-${"0".repeat(32)}.js`);
    writeFileSync(other, "another provider");
    const current = readFileSync(cacheFile, "utf8");
    rmSync(cacheFile);
    try {
      // A missing text (never written, or pruned by another run) is serialized again, not an error.
      await new SerializedProvider(ID, provider).serialized();
      assert.ok(existsSync(cacheFile), "the current version is written");
      assert.deepEqual(earlier.map((path) => existsSync(path)), [false, false, true, true, true], "the current one and the three newest earlier ones stay");
      assert.ok(existsSync(other), "another provider's text stays");
    } finally {
      for (const path of [...earlier, other]) rmSync(path, { force: true });
      writeFileSync(cacheFile, current);
    }
  });

  test("the cache can be switched off", async () => {
    process.env["HOMELAB_BACKUP_PROVIDER_CACHE"] = "off";
    try {
      assert.doesNotMatch(await new SerializedProvider(ID, provider).serialized(), /marker/);
    } finally {
      delete process.env["HOMELAB_BACKUP_PROVIDER_CACHE"];
    }
  });

  test("the version covers the lock file and every component and config source", () => {
    assert.match(sourceVersion(), /^[0-9a-f]{32}$/);
    assert.throws(() => new SerializedProvider("Bad Id", provider), /provider id "Bad Id" is invalid/);
  });

  test("only module hooks enter the version, by package: a profiled run, the tsx CLI and --import tsx share the cache", () => {
    assert.deepEqual(
      loaderFlags(["--import", "tsx", "--cpu-prof", "--cpu-prof-dir=/tmp/p", "--max-old-space-size=4096", "-r", "ts-node/register", "--loader=@scope/hooks/esm", "--inspect"]),
      ["@scope/hooks", "ts-node", "tsx"],
    );
    assert.deepEqual(loaderFlags(["--require=./hook.js", "--enable-source-maps"]), ["./hook.js"]);
    // The tsx CLI and `--import tsx` are one compiler: a plan and the tests share the cache.
    assert.deepEqual(
      loaderFlags(["--require", "/work/x/node_modules/tsx/dist/preflight.cjs", "--import", "file:///work/x/node_modules/tsx/dist/loader.mjs"]),
      loaderFlags(["--import", "tsx"]),
    );
  });

  test("a dynamic resource registers as dynamic.Resource does, with the cached text", async () => {
    const resources = await startMocks();
    class Thing extends DynamicResource {
      constructor(name: string) {
        super(new SerializedProvider(ID, provider), name, { name }, undefined, "test", "Thing");
      }
    }
    new Thing("one");
    await settle();
    const one = resources.find((r) => r.name === "one");
    assert.equal(one?.type, "pulumi-nodejs:dynamic/test:Thing");
    assert.equal(one?.plain["__provider"], readFileSync(cacheFile, "utf8"));
    assert.throws(() => new (class extends DynamicResource {
      constructor() {
        super(new SerializedProvider(ID, provider), "two", { __provider: "x" }, undefined, "test", "Thing");
      }
    })(), /must not define the __provider key/);
  });
});
