import { T } from "../../model/resource";
import { bad, ok, type Rule } from "../rule";

export const syncNeverDeletes: Rule = {
  id: "HB-SYNC",
  name: "sync-never-deletes",
  description: "Syncs never propagate deletions off-site: a TrueNAS cloud sync runs in COPY mode (SYNC deletes off-site objects when the NAS loses them; MOVE deletes the source).",
  fix: "Set the cloud sync task's transfer mode to COPY.",
  enforcement: "mandatory",
  check({ resources }) {
    return resources
      .filter((r) => r.type === T.nasCloudSync)
      .map((r) => {
        const mode = r.props["transferMode"] ?? r.props["transfer_mode"];
        return mode === "COPY" ? ok(`${r.type}::${r.name}`) : bad(`${r.type}::${r.name}`, `${r.name} transfers in ${JSON.stringify(mode)} mode; expected COPY`, r.urn);
      });
  },
};
