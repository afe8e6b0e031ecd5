/**
 * A small topology that keeps every promise, as the model reads it: a critical service going
 * off-site and an on-site-only important one. Each rule's spec breaks exactly one thing.
 */
import { deriveCopies } from "../../model";
import { T, type ModelResource } from "../../model/resource";
import { DEFAULT_POLICY_CONFIG, resolvePolicyConfig, type PolicyConfig } from "../../policies/config";
import type { Finding, Rule } from "../../policies/rule";

let n = 0;
function r(type: string, name: string, props: Record<string, unknown>, extra: Partial<ModelResource> = {}): ModelResource {
  n += 1;
  return { type, name, urn: `urn:pulumi:test::homelab-backup::${type}::${name}`, props, protect: false, secretProps: [], ...extra };
}

export function compliantTopology(): ModelResource[] {
  const locked = { protect: true, retainOnDelete: true };
  return [
    r(T.pveJob, "backup-db", { resourceId: "backup-db", schedule: "*-*-* *:00", storage: "pbs-critical", vmids: ["101"], notesTemplate: "{{guestname}} · service db · tier critical" }),
    r(T.pveJob, "backup-apps", { resourceId: "backup-apps", schedule: "*-*-* 02:00", storage: "pbs-homelab", pool: "apps", notesTemplate: "{{guestname}} · service apps · tier important" }),
    r(T.pveStorage, "pbs-critical", { resourceId: "pbs-critical", datastore: "critical", generateEncryptionKey: true, password: "[secret]" }, { ...locked, secretProps: ["password"] }),
    r(T.pveStorage, "pbs-homelab", { resourceId: "pbs-homelab", datastore: "homelab", generateEncryptionKey: true, password: "[secret]" }, { ...locked, secretProps: ["password"] }),
    r(T.pbsDatastore, "critical-datastore", { name: "critical", path: "/backup/critical", gcSchedule: "*-*-* 05:40", destroyDataOnDelete: false }, locked),
    r(T.pbsDatastore, "homelab-datastore", { name: "homelab", path: "/backup/homelab", gcSchedule: "*-*-* 05:45", destroyDataOnDelete: false }, locked),
    r(T.pbsPrune, "critical-prune", { jobId: "critical-root", store: "critical", schedule: "*-*-* 05:35", keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }),
    r(T.pbsPrune, "homelab-prune", { jobId: "homelab-root", store: "homelab", schedule: "*-*-* 05:15", keepDaily: 14, keepWeekly: 4, keepMonthly: 12 }),
    r(T.pbsVerify, "critical-verify", { jobId: "critical-verify", store: "critical", schedule: "Sat *-*-* 06:35" }),
    r(T.pbsVerify, "homelab-verify", { jobId: "homelab-verify", store: "homelab", schedule: "Sat *-*-* 07:00" }),
    r(T.nasReplication, "replicate-backup", { sourceDatasets: ["backup"], recursive: true, targetDataset: "tank/replica", readonly: "SET", schedule: { minute: "0", hour: "6" }, lifetimeValue: 30, lifetimeUnit: "DAY" }, locked),
    r(T.nasCloudSync, "offsite-critical", { path: "/mnt/tank/replica/critical", bucket: "lab-critical", transferMode: "COPY" }),
    r(T.bucket, "critical-bucket", { bucket: "lab-critical" }, locked),
    r(T.bucketLock, "critical-lock", { bucket: "lab-critical", rule: { defaultRetention: { mode: "COMPLIANCE", days: 2555 } } }),
    r(T.bucketSse, "critical-sse", { bucket: "lab-critical", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] }),
    r(T.bucketLifecycle, "critical-lifecycle", { bucket: "lab-critical", rules: [{ id: "critical", status: "Enabled", expiration: { days: 2555 } }] }),
    r(T.kmsKey, "offsite-key", { enableKeyRotation: true }, locked),
    r("homelab:verify:RestoreTest", "restore-test", {}),
    // What the restore test deploys: its script's settings name the services it covers.
    r(T.command, "restore-test-deploy", { create: "STORAGE=pbs-critical\nSVC_NAME=(db)\nMONTHLY=(db)\n" }, {
      urn: "urn:pulumi:test::homelab-backup::homelab:verify:RestoreTest$command:remote:Command::restore-test-deploy",
    }),
  ];
}

/** The topology with one resource's props (or options) changed. */
export function change(resources: ModelResource[], name: string, props: Record<string, unknown>, extra: Partial<ModelResource> = {}): ModelResource[] {
  let found = false;
  const out = resources.map((res) => {
    if (res.name !== name) return res;
    found = true;
    return { ...res, ...extra, props: { ...res.props, ...props } };
  });
  if (!found) throw new Error(`fixture has no resource ${name}`);
  return out;
}

export function without(resources: ModelResource[], ...names: string[]): ModelResource[] {
  return resources.filter((res) => !names.includes(res.name));
}

export function run(rule: Rule, resources: ModelResource[], config: Partial<PolicyConfig> = {}): Finding[] {
  return rule.check({ resources, classes: deriveCopies(resources), config: resolvePolicyConfig(config) });
}

export function failures(rule: Rule, resources: ModelResource[], config: Partial<PolicyConfig> = {}): string[] {
  return run(rule, resources, config).filter((f) => f.status === "non-compliant").map((f) => f.message);
}

export { DEFAULT_POLICY_CONFIG };
