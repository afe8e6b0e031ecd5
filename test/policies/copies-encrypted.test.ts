import { test } from "node:test";
import assert from "node:assert/strict";
import { copiesEncrypted } from "../../policies/rules/copies-encrypted";
import { change, compliantTopology, failures } from "./fixture";

test("HB-ENCRYPTED compliant: client-side encrypted PBS storages carry through to NAS and cloud", () => {
  assert.deepEqual(failures(copiesEncrypted, compliantTopology()), []);
});

test("HB-ENCRYPTED fails for every copy downstream of an unencrypted storage", () => {
  const t = change(compliantTopology(), "pbs-homelab", { generateEncryptionKey: false });
  assert.deepEqual(failures(copiesEncrypted, t), ["data class apps: PBS homelab, TrueNAS tank/replica/homelab not encrypted"]);
});

test("HB-ENCRYPTED boundary: SSE-KMS alone keeps the off-site copy encrypted", () => {
  const t = change(compliantTopology(), "pbs-critical", { generateEncryptionKey: false });
  assert.deepEqual(failures(copiesEncrypted, t), ["data class db: PBS critical, TrueNAS tank/replica/critical not encrypted"]);
});
