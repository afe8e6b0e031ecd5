import { T } from "../../model/resource";
import { bad, ok, type Rule } from "../rule";

/** Resources whose deletion would delete backup data or the keys to read it. */
export const DATA_BEARING = new Set<string>([T.pbsDatastore, T.bucket, T.kmsKey, T.nasReplication, T.pveStorage]);

export const dataProtected: Rule = {
  id: "HB-PROTECTED",
  name: "data-protected",
  description: "Every data-bearing resource (datastores, buckets, keys, replicated datasets, the storages holding encryption keys) is protected from deletion, and no datastore deletes its data on destroy (AWS Backup's manual-deletion-disabled control).",
  fix: "Keep protect on (the default); to let one go, name it in protection.allowDestroy with a reason, which also exempts it here.",
  enforcement: "mandatory",
  check({ resources }) {
    return resources
      .filter((r) => DATA_BEARING.has(r.type))
      .map((r) => {
        const subject = `${r.type}::${r.name}`;
        if (r.props["destroyDataOnDelete"] === true) return bad(subject, `${r.name} deletes its backup data when the resource is deleted`, r.urn);
        if (r.props["forceDestroy"] === true) return bad(subject, `${r.name} may be destroyed with its objects (forceDestroy)`, r.urn);
        return r.protect || r.retainOnDelete === true ? ok(subject) : bad(subject, `${r.name} is not protected from deletion (protect or retainOnDelete)`, r.urn);
      });
  },
};
