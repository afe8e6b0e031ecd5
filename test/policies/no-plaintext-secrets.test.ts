import { test } from "node:test";
import assert from "node:assert/strict";
import { looksSecret, noPlaintextSecrets } from "../../policies/rules/no-plaintext-secrets";
import { change, compliantTopology, failures, run } from "./fixture";

test("HB-SECRETS compliant when secret inputs are secrets", () => {
  assert.deepEqual(failures(noPlaintextSecrets, compliantTopology()), []);
});

test("HB-SECRETS fails on a plaintext password, also nested", () => {
  let t = change(compliantTopology(), "pbs-homelab", { password: "hunter2" }, { secretProps: [] });
  assert.deepEqual(failures(noPlaintextSecrets, t), ["pbs-homelab has plaintext secret inputs: password"]);
  t = change(compliantTopology(), "offsite-critical", { connection: { url: "wss://nas", apiKey: "1-abc" } });
  assert.deepEqual(failures(noPlaintextSecrets, t), ["offsite-critical has plaintext secret inputs: connection.apiKey"]);
});

test("HB-SECRETS boundary: ids, names and fingerprints are not secrets; unknown secretness is not judged", () => {
  assert.equal(looksSecret("tokenId"), false);
  assert.equal(looksSecret("tokenName"), false);
  assert.equal(looksSecret("tokenSecret"), true);
  const t = change(compliantTopology(), "pbs-homelab", { password: "x" }, { secretProps: undefined });
  assert.equal(run(noPlaintextSecrets, t).find((f) => f.subject.endsWith("pbs-homelab"))?.status, "not-applicable");
});
