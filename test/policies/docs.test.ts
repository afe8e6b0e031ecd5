import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RULES } from "../../policies/rules";

test("the README's rule table lists every rule with its id, name and level", () => {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  for (const rule of RULES) {
    const row = readme.split("\n").find((l) => l.startsWith(`| ${rule.id} |`));
    assert.ok(row, `no README row for ${rule.id}`);
    assert.ok(row.includes(`\`${rule.name}\``), `${rule.id} row names ${rule.name}`);
    assert.ok(row.includes(rule.enforcement), `${rule.id} row says ${rule.enforcement}`);
  }
});
