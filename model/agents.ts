/**
 * Data classes of the host agents, read from what the agent deploys: its borgmatic config (in
 * the `<agent>-deploy` command) says which sources, databases and volumes it protects, where its
 * repository is and which checks verify it; its repository init says how it is encrypted.
 */
import { originalCopy, type Copy, type DataClass } from "./copies";
import { offsiteCopiesOf } from "./downstream";
import { str, T, type ModelResource, type ResourceIndex } from "./resource";

const key = (r: ModelResource) => `${r.type}::${r.name}`;

export interface DeployedAgent {
  name: string;
  service?: string;
  repositories: string[];
  databases: boolean;
  docker: boolean;
  configs: boolean;
  checks: string[];
  schedule?: string;
  keep?: Record<string, number>;
}

/** Reads the borgmatic config an agent's deploy command writes. */
export function readDeployedAgent(name: string, script: string): DeployedAgent {
  const list = (section: string) => {
    const m = new RegExp(`\\n\\s*${section}:\\n((?:\\s+- .*\\n)+)`).exec(script);
    return m ? (m[1] as string).split("\n").map((l) => l.trim().replace(/^- /, "")).filter(Boolean) : [];
  };
  const service = /\(service ([^)]+)\)/.exec(script)?.[1];
  const keep: Record<string, number> = {};
  for (const m of script.matchAll(/\n\s*keep_(hourly|daily|weekly|monthly|yearly): (\d+)/g)) keep[m[1] as string] = Number(m[2]);
  const sources = list("source_directories");
  return {
    name,
    ...(service ? { service } : {}),
    repositories: list("repositories").map((r) => r.replace(/^path: /, "")),
    databases: /\n\s*(postgresql|mysql|mariadb|mongodb)_databases:/.test(script),
    docker: /\/var\/lib\/docker\/volumes|QUIESCE=\([^)]/.test(script),
    configs: sources.some((s) => !s.includes("/docker/volumes")),
    checks: [...script.matchAll(/\n\s*- name: (repository|archives|data|extract|spot)\n\s*frequency: ([^\n]+)/g)].map((m) => `${m[1]} every ${m[2]}`),
    ...(/OnCalendar=([^\n]+)/.exec(script) ? { schedule: (/OnCalendar=([^\n]+)/.exec(script) as RegExpExecArray)[1] as string } : {}),
    ...(Object.keys(keep).length ? { keep } : {}),
  };
}

/** `ssh://borg@10.20.0.30/mnt/tank/borg/db01` → `/mnt/tank/borg/db01`; a local path as is. */
export function repositoryPath(repository: string): string {
  const m = /^ssh:\/\/[^/]+(\/.*)$/.exec(repository);
  return m ? (m[1] as string) : repository;
}

export function agentClasses(index: ResourceIndex, tierOf: (service: string | undefined) => string | undefined): DataClass[] {
  const commands = index.of(T.command);
  const out: DataClass[] = [];
  for (const agent of index.of(T.agent)) {
    const deploy = commands.find((c) => c.parentUrn === agent.urn && c.name.endsWith("-deploy"));
    const script = deploy ? str(deploy.props["create"]) : undefined;
    if (!deploy || !script) continue;
    const deployed = readDeployedAgent(agent.name, script);
    const init = commands.find((c) => c.parentUrn === agent.urn && c.name.endsWith("-repo-init"));
    const initText = init ? (str(init.props["create"]) ?? "") : "";
    const encrypted = !/--encryption(=| )none/.test(initText) && /--encryption|repokey|keyfile/.test(initText + script);
    const copiesOf = (what: string): Copy[] => {
      const copies: Copy[] = [originalCopy(`${agent.name} ${what}`)];
      for (const repository of deployed.repositories) {
        const path = repositoryPath(repository);
        const onNas = path.startsWith("/mnt/");
        const repo: Copy = {
          location: `borg ${repository}`,
          kind: "borg-repository",
          resource: key(init ?? deploy),
          medium: onNas ? "nas" : "local-disk",
          site: "onsite",
          encrypted,
          immutable: false,
          verified: deployed.checks.length > 0,
          verification: deployed.checks.length ? `borgmatic checks: ${deployed.checks.join(", ")}` : "no consistency checks",
          ...(deployed.keep ? { keep: deployed.keep, retention: Object.entries(deployed.keep).map(([k, v]) => `${k} ${v}`).join(", ") } : {}),
          // The repository has no delete command: removing the agent leaves it in place.
          protected: init !== undefined && (init.retainOnDelete === true || init.props["delete"] === undefined),
        };
        copies.push(repo, ...(onNas ? offsiteCopiesOf(path, repo, index) : []));
      }
      return copies;
    };
    const tier = tierOf(deployed.service);
    const base = { job: key(deploy), ...(tier ? { tier } : {}), ...(deployed.schedule ? { schedule: deployed.schedule } : {}) };
    if (deployed.databases) out.push({ ...base, name: `${agent.name}/database-dumps`, kind: "database-dumps", copies: copiesOf("database dumps") });
    if (deployed.docker) out.push({ ...base, name: `${agent.name}/docker-volumes`, kind: "docker-volumes", copies: copiesOf("Docker volumes") });
    if (deployed.configs) out.push({ ...base, name: `${agent.name}/configs`, kind: "configs", copies: copiesOf("configuration files") });
  }
  return out;
}
