import { test } from "node:test";
import assert from "node:assert/strict";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { sdkClassFor } from "../../bench/sdk-classes";

test("the baseline finds each type's own SDK class, by the class's declared type token", () => {
  assert.equal(sdkClassFor("proxmoxve:backup/job:Job"), proxmoxve.backup.Job);
  assert.equal(sdkClassFor("proxmoxve:network/linux/vlan:Vlan"), proxmoxve.network.linux.Vlan);
  assert.equal(sdkClassFor("proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy"), proxmoxve.cluster.firewall.security.GroupLegacy);
  assert.equal(sdkClassFor("pulumi:providers:proxmoxve"), proxmoxve.Provider);
  assert.equal(sdkClassFor("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"), aws.s3.BucketLifecycleConfiguration);
  assert.equal(sdkClassFor("random:index/randomPassword:RandomPassword"), random.RandomPassword);
  assert.equal(sdkClassFor("command:remote:Command"), command.remote.Command);
});

test("types no SDK package defines, or that resolve to a class of another type, have no class", () => {
  assert.equal(sdkClassFor("pulumi-nodejs:dynamic/pbs:Datastore"), undefined);
  assert.equal(sdkClassFor("homelab:pve:BackupFeed"), undefined);
  assert.equal(sdkClassFor("proxmoxve:backup/job:Nothing"), undefined);
  // The path finds aws.s3.Bucket, whose own token differs: no class rather than the wrong one.
  assert.equal(sdkClassFor("aws:s3/other:Bucket"), undefined);
});
