/**
 * From the validated strategy to restore-test args: each service's guests, tier and RTO, and
 * every guest id the config names as production. Pools and tags stay names: the script resolves
 * them on the node at run time, where their members are known.
 */
import type { Strategy } from "../../config/strategy";
import type { GuestKind, RestoreTestService } from "./restore-test-script";

/** The strategy's services as the restore test's candidates; `kind` applies to all of them. */
export function restoreTestServicesFromStrategy(services: Strategy["services"], kind: GuestKind = "auto"): RestoreTestService[] {
  return services.map((s) => ({
    service: s.name,
    tier: s.tier.name,
    rtoMinutes: s.tier.rtoMinutes,
    ...(s.guests.vmids && s.guests.vmids.length > 0 ? { vmids: [...s.guests.vmids] } : {}),
    ...(s.guests.pool !== undefined ? { pool: s.guests.pool } : {}),
    ...(s.guests.tags && s.guests.tags.length > 0 ? { tags: [...s.guests.tags] } : {}),
    kind,
  }));
}

/** Every guest id the services name; pool and tag members are added by the script at run time. */
export function productionVmidsFromStrategy(services: Strategy["services"]): number[] {
  return [...new Set(services.flatMap((s) => s.guests.vmids ?? []))].sort((a, b) => a - b);
}

/** The services of the tiers the strategy's monthly full restore test covers (critical by default). */
export function monthlyServicesFromStrategy(services: Strategy["services"], tiers: readonly string[] = ["critical"]): string[] {
  return services.filter((s) => tiers.includes(s.tier.name)).map((s) => s.name);
}
