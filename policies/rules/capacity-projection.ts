import { num, ResourceIndex, str, T, type ModelResource } from "../../model/resource";
import { bad, na, ok, type Finding, type Rule } from "../rule";

interface PoolUse {
  pool: string;
  poolGb: number;
  thresholdPercent: number;
  projectedGb: number;
  stores: ModelResource[];
}

export const capacityProjection: Rule = {
  id: "HB-CAPACITY",
  name: "capacity-projection",
  description:
    "The datastores sharing a ZFS pool are expected to fit under the strategy's capacity alert (80 %): a topology that is projected to cross it alerts from the day it is applied, and a full pool stops every backup.",
  fix: "Grow the pool (hosts.pbs.poolCapacityGb once grown), shorten on-site retention, or move services to a datastore on another pool. The projection is each service's sizeGb plus its retained daily changes (hosts.pbs.dailyChangePercent).",
  enforcement: "advisory",
  check({ resources }) {
    const pools = new Map<string, PoolUse>();
    const findings: Finding[] = [];
    for (const store of new ResourceIndex(resources).of(T.pbsDatastore)) {
      const capacity = store.props["capacity"] as Record<string, unknown> | undefined;
      const pool = str(capacity?.["pool"]);
      const poolGb = num(capacity?.["poolGb"]);
      const projectedGb = num(capacity?.["projectedGb"]);
      const thresholdPercent = num(capacity?.["thresholdPercent"]) ?? 80;
      if (!pool || poolGb === undefined || projectedGb === undefined) {
        findings.push(na(`${store.type}::${store.name}`, "no capacity projection (set hosts.pbs.poolCapacityGb)"));
        continue;
      }
      const use = pools.get(pool) ?? { pool, poolGb, thresholdPercent, projectedGb: 0, stores: [] };
      use.projectedGb += projectedGb;
      use.stores.push(store);
      pools.set(pool, use);
    }
    for (const use of pools.values()) {
      const subject = `pool ${use.pool}`;
      const percent = use.poolGb > 0 ? (use.projectedGb / use.poolGb) * 100 : Infinity;
      const names = use.stores.map((s) => str(s.props["name"]) ?? s.name).join(", ");
      findings.push(
        // The checks alert at the threshold itself (>=), so a projection that reaches it fails too.
        percent >= use.thresholdPercent
          ? bad(subject, `pool ${use.pool} (datastores ${names}) is projected to hold ${use.projectedGb} GB of ${use.poolGb} GB (${Math.round(percent)} %), at or above the ${use.thresholdPercent} % alert`, use.stores[0]?.urn)
          : ok(subject, `projected ${use.projectedGb} GB of ${use.poolGb} GB (${Math.round(percent)} %)`),
      );
    }
    return findings;
  },
};
