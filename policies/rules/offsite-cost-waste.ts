import { DEFAULT_PRICES, KB_PER_GB, type AwsStorageClass } from "../../components/offsite/prices";
import { num, ResourceIndex, str, T, type ModelResource } from "../../model/resource";
import { bad, na, ok, type Finding, type Rule } from "../rule";

/** Below this average size the archive classes' per-object overhead is a large share of the bill. */
export const SMALL_OBJECT_KB = 128;

const CLASSES = DEFAULT_PRICES.aws.classes;
const isAwsClass = (value: string | undefined): value is AwsStorageClass => value !== undefined && value in CLASSES;
const overheadKb = (cls: AwsStorageClass): number => CLASSES[cls].overheadKbAtTierRate + CLASSES[cls].overheadKbAtStandardRate;

interface Transition {
  days: number;
  storageClass: AwsStorageClass;
}

function transitionsOf(rule: Record<string, unknown>): Transition[] {
  const list = Array.isArray(rule["transitions"]) ? (rule["transitions"] as Record<string, unknown>[]) : [];
  return list.flatMap((t) => {
    const cls = str(t["storageClass"]);
    const days = num(t["days"]) ?? 0;
    return isAwsClass(cls) ? [{ days, storageClass: cls }] : [];
  });
}

/** Early deletions: an object moved into a class with a minimum duration, then expired before it ends. */
function earlyDeletions(lifecycle: ModelResource): string[] {
  const rules = Array.isArray(lifecycle.props["rules"]) ? (lifecycle.props["rules"] as Record<string, unknown>[]) : [];
  const out: string[] = [];
  for (const rule of rules) {
    if (str(rule["status"]) === "Disabled") continue;
    const expiration = rule["expiration"] as Record<string, unknown> | undefined;
    const expireDay = num(expiration?.["days"]);
    for (const t of transitionsOf(rule)) {
      const min = CLASSES[t.storageClass].minStorageDays;
      if (expireDay !== undefined && expireDay - t.days < min) {
        out.push(`rule ${str(rule["id"]) ?? "?"} moves objects to ${t.storageClass} on day ${t.days} and expires them on day ${expireDay}, before its ${min}-day minimum: every object is billed ${min - (expireDay - t.days)} days it is not kept`);
      }
    }
  }
  return out;
}

/** Classes objects of this bucket end up in: the sync's upload class and every lifecycle transition. */
function archiveClassesOf(bucket: string, index: ResourceIndex): AwsStorageClass[] {
  const classes = new Set<AwsStorageClass>();
  for (const sync of index.of(T.nasCloudSync)) {
    const cls = str(sync.props["storageClass"]);
    if (str(sync.props["bucket"]) === bucket && isAwsClass(cls)) classes.add(cls);
  }
  for (const lifecycle of index.of(T.bucketLifecycle)) {
    if (str(lifecycle.props["bucket"]) !== bucket) continue;
    const rules = Array.isArray(lifecycle.props["rules"]) ? (lifecycle.props["rules"] as Record<string, unknown>[]) : [];
    for (const rule of rules) for (const t of transitionsOf(rule)) classes.add(t.storageClass);
  }
  return [...classes].filter((c) => overheadKb(c) > 0);
}

export const offsiteCostWaste: Rule = {
  id: "HB-COST",
  name: "offsite-cost-waste",
  description:
    "Off-site storage costs what it must and no more: no object is deleted before its storage class's minimum duration (it is billed for the rest anyway), and no class of small objects sits in an archive class whose per-object overhead (40 KB for Glacier Flexible Retrieval and Deep Archive) outweighs the data.",
  fix: "Expire objects no earlier than the transition day plus the class's minimum (90 days Glacier, 180 days Deep Archive); for small objects, bundle them (larger archives, fewer objects) or keep that class in a non-archive storage class.",
  enforcement: "advisory",
  check({ resources }) {
    const index = new ResourceIndex(resources);
    const findings: Finding[] = [];
    for (const lifecycle of index.of(T.bucketLifecycle)) {
      const subject = `${lifecycle.type}::${lifecycle.name}`;
      const waste = earlyDeletions(lifecycle);
      findings.push(...(waste.length > 0 ? waste.map((w) => bad(subject, `${str(lifecycle.props["bucket"]) ?? lifecycle.name}: ${w}`, lifecycle.urn)) : [ok(subject)]));
      if (str(lifecycle.props["transitionDefaultMinimumObjectSize"]) === "varies_by_storage_class") {
        findings.push(bad(subject, `${str(lifecycle.props["bucket"]) ?? lifecycle.name}: transitionDefaultMinimumObjectSize varies_by_storage_class moves objects under 128 KB into archive classes, each paying the per-object overhead`, lifecycle.urn));
      }
    }
    for (const bucket of index.of(T.bucket)) {
      const subject = `${bucket.type}::${bucket.name}`;
      const tags = (bucket.props["tags"] ?? {}) as Record<string, unknown>;
      const gb = num(tags["homelab-backup:expected-gb"]);
      const objects = num(tags["homelab-backup:expected-objects"]);
      const name = str(bucket.props["bucket"]) ?? bucket.name;
      if (gb === undefined || objects === undefined || objects === 0) {
        findings.push(na(subject, "no expected size and object count (tags homelab-backup:expected-gb/-objects)"));
        continue;
      }
      const archive = archiveClassesOf(name, index);
      if (archive.length === 0) {
        findings.push(na(subject, "objects stay in classes without per-object overhead"));
        continue;
      }
      const avgKb = (gb * KB_PER_GB) / objects;
      const worst = archive.reduce((a, b) => (overheadKb(b) > overheadKb(a) ? b : a));
      findings.push(
        avgKb < SMALL_OBJECT_KB
          ? bad(subject, `${name}: ${objects} objects of ${avgKb.toFixed(1)} KB on average go to ${worst}, whose ${overheadKb(worst)} KB per-object overhead adds ${Math.round((overheadKb(worst) / avgKb) * 100)} % to the stored size`, bucket.urn)
          : ok(subject),
      );
    }
    return findings;
  },
};
