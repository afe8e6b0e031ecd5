/**
 * The pack's knobs: where a user may reasonably differ from the seed strategy. Defaults are the
 * seed's promises; a stack lowers them in `policies/config.<stack>.json` (the same file the CLI
 * takes with `--policy-pack-config`), and every exemption carries a reason.
 */
export interface TierPolicy {
  /** Most minutes a job of this tier may leave between two backups. */
  rpoMinutes: number;
  /** Why the tier stays on-site (3-2-1's off-site copy is then reported, not required). */
  onsiteOnlyReason?: string;
}

export interface Exemption {
  /** Rule id, e.g. "HB-321". */
  rule: string;
  /** The data class or `type::name` exempted. */
  subject: string;
  /** Required: why this is acceptable. */
  reason: string;
}

export interface PolicyConfig {
  minCopies: number;
  minMedia: number;
  minOffsite: number;
  tiers: Record<string, TierPolicy>;
  /** Tiers that need an immutable or offline copy. */
  immutableTiers: string[];
  /** Tiers that need a restore test. */
  restoreTestTiers: string[];
  onsite: { daily: number; weekly: number; monthly: number };
  /** Off-site retention per class, in days. */
  offsiteDays: { monthly: number; yearly: number; critical: number };
  exemptions: Exemption[];
}

export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  minCopies: 3,
  minMedia: 2,
  minOffsite: 1,
  tiers: {
    critical: { rpoMinutes: 60 },
    important: { rpoMinutes: 1440, onsiteOnlyReason: "the strategy sends critical data only off-site (cost)" },
    archive: { rpoMinutes: 35 * 1440, onsiteOnlyReason: "the strategy sends critical data only off-site (cost)" },
  },
  immutableTiers: ["critical"],
  restoreTestTiers: ["critical"],
  onsite: { daily: 7, weekly: 4, monthly: 12 },
  offsiteDays: { monthly: 730, yearly: 1825, critical: 2555 },
  exemptions: [],
};

/** Merges a partial config over the defaults; an exemption without a reason is an error. */
export function resolvePolicyConfig(partial: Partial<PolicyConfig> | undefined): PolicyConfig {
  const config: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...(partial ?? {}) };
  config.tiers = { ...DEFAULT_POLICY_CONFIG.tiers, ...(partial?.tiers ?? {}) };
  config.onsite = { ...DEFAULT_POLICY_CONFIG.onsite, ...(partial?.onsite ?? {}) };
  config.offsiteDays = { ...DEFAULT_POLICY_CONFIG.offsiteDays, ...(partial?.offsiteDays ?? {}) };
  config.exemptions.forEach((e, i) => {
    if (!e.reason || e.reason.trim().length < 10) {
      throw new Error(`exemptions[${i}].reason: ${JSON.stringify(e.reason ?? null)} is too short; expected why rule ${e.rule} does not apply to ${e.subject} (10 characters or more)`);
    }
  });
  return config;
}
