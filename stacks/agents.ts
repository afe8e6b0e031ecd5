/**
 * Host agents from the strategy: borgmatic on each host config names, following its service's
 * schedule and retention, with a passphrase the library generates and keeps.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Secrets } from "../config/load";
import type { Strategy } from "../config/strategy";
import { BorgmaticAgent } from "../components/agents/agent";
import { agentSpecFromStrategy } from "../components/agents/from-strategy";
import { agentConnection } from "./hosts";

/** The spec an agent is deployed with; the database restore test reads the same. */
export function agentSpec(agent: Strategy["agents"][number]) {
  return agentSpecFromStrategy(agent, { passwordRef: (a, db) => (db.password ? `${a.name}.${db.kind}.${db.name}` : undefined) });
}

export function createAgents(parent: pulumi.Resource, strategy: Strategy, secrets: Secrets): BorgmaticAgent[] {
  const allowDestroy = new Set(strategy.protection.allowDestroy.map((a) => a.name));
  return strategy.agents.map((agent) => {
    // The passphrase is the repository's key to everything: generated once, kept, never replaced.
    const passphrase = new random.RandomPassword(
      `${agent.name}-borg-passphrase`,
      { length: 48, special: false },
      { parent, additionalSecretOutputs: ["result"], ...(allowDestroy.has(agent.name) ? {} : { protect: true, retainOnDelete: true }) },
    );
    const spec = agentSpec(agent);
    const databasePasswords: Record<string, pulumi.Input<string>> = {};
    for (const db of agent.databases) {
      if (!db.password) continue;
      const ref = `${agent.name}.${db.kind}.${db.name}`;
      databasePasswords[ref] = pulumi.secret((secrets.agentDatabasePasswords ?? pulumi.output({} as Record<string, string>)).apply((m) => m[ref] ?? ""));
    }
    return new BorgmaticAgent(
      agent.name,
      {
        spec,
        connection: agentConnection(agent, secrets),
        passphrase: pulumi.secret(passphrase.result),
        databasePasswords,
      },
      { parent },
    );
  });
}
