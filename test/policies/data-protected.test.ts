import { test } from "node:test";
import assert from "node:assert/strict";
import { dataProtected } from "../../policies/rules/data-protected";
import { change, compliantTopology, failures } from "./fixture";

test("HB-PROTECTED compliant: every data-bearing resource is protected", () => {
  assert.deepEqual(failures(dataProtected, compliantTopology()), []);
});

test("HB-PROTECTED fails on an unprotected bucket and on destroy-data", () => {
  let t = change(compliantTopology(), "critical-bucket", {}, { protect: false, retainOnDelete: false });
  assert.deepEqual(failures(dataProtected, t), ["critical-bucket is not protected from deletion (protect or retainOnDelete)"]);
  t = change(compliantTopology(), "homelab-datastore", { destroyDataOnDelete: true });
  assert.deepEqual(failures(dataProtected, t), ["homelab-datastore deletes its backup data when the resource is deleted"]);
});

test("HB-PROTECTED boundary: retainOnDelete alone is enough", () => {
  const t = change(compliantTopology(), "critical-bucket", {}, { protect: false, retainOnDelete: true });
  assert.deepEqual(failures(dataProtected, t), []);
});
