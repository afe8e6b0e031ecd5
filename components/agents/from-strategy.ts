/**
 * From the validated strategy's agent entry to an `AgentSpec`: the service's tier gives schedule
 * and retention, the strategy's exclusions join the agent's excludes.
 */
import type { KeepPolicy, Strategy } from "../../config/strategy";
import type { AgentCheck, AgentDatabase, AgentLayout, AgentRetention, AgentSpec, EncryptionMode } from "./spec";

export type StrategyAgent = Strategy["agents"][number];

export interface FromStrategyOptions {
  /** Extra borg exclude patterns, e.g. the strategy's `exclusions.paths`. @default [] */
  excludes?: string[];
  /** Password reference of a database; none means the database needs no password. @default none */
  passwordRef?: (agent: StrategyAgent, db: StrategyAgent["databases"][number]) => string | undefined;
  /** @default "repokey-blake2" */
  encryption?: EncryptionMode;
  /** @default DEFAULT_CHECKS */
  checks?: AgentCheck[];
  /** @default the spec's defaults */
  layout?: Partial<AgentLayout>;
}

/** The keep policy of the agent's service as borg prune counts (hourly kept only when the tier backs up hourly). */
export function retentionFromKeep(keep: KeepPolicy): AgentRetention {
  return {
    ...(keep.keepHourly !== undefined ? { keepHourly: keep.keepHourly } : {}),
    keepDaily: keep.keepDaily ?? 0,
    keepWeekly: keep.keepWeekly ?? 0,
    keepMonthly: keep.keepMonthly ?? 0,
    ...(keep.keepYearly !== undefined ? { keepYearly: keep.keepYearly } : {}),
  };
}

/** The known_hosts line for an ssh:// repository's server: `host key` or `[host]:port key`. */
export function knownHostsLine(repository: string, hostKey: string): string {
  const m = /^ssh:\/\/(?:[^@/]+@)?([^:/]+)(?::(\d+))?/.exec(repository);
  if (!m) return hostKey;
  const host = m[2] !== undefined && m[2] !== "22" ? `[${m[1]}]:${m[2]}` : (m[1] as string);
  return `${host} ${hostKey}`;
}

export function agentSpecFromStrategy(agent: StrategyAgent, options: FromStrategyOptions = {}): AgentSpec {
  const databases: AgentDatabase[] = agent.databases.map((db) => {
    const ref = options.passwordRef?.(agent, db);
    return {
      kind: db.kind,
      name: db.name,
      hostname: db.hostname,
      ...(db.port !== undefined ? { port: db.port } : {}),
      ...(db.username !== undefined ? { username: db.username } : {}),
      ...(ref !== undefined ? { passwordSecretRef: ref } : {}),
    };
  });
  return {
    host: { name: agent.name, address: agent.address, sshUser: agent.sshUser, sshPort: agent.sshPort },
    service: agent.service,
    repository: {
      url: agent.repository,
      ...(options.encryption ? { encryption: options.encryption } : {}),
      ...(agent.repositoryHostKey !== undefined ? { knownHosts: knownHostsLine(agent.repository, agent.repositoryHostKey) } : {}),
    },
    sources: [...agent.paths],
    excludes: [...(options.excludes ?? [])],
    databases,
    docker: agent.docker.map((d) => ({ container: d.container, volumes: [...d.volumes], stopDuringBackup: d.stopDuringBackup })),
    retention: retentionFromKeep(agent.keep),
    ...(options.checks ? { checks: options.checks } : {}),
    schedule: agent.schedule,
    ...(agent.healthcheckUrl !== undefined ? { healthcheckUrl: agent.healthcheckUrl } : {}),
    ...(options.layout ? { layout: options.layout } : {}),
  };
}
