/** Host backup agents: borgmatic config, systemd units and scripts from a typed spec, and the component that deploys them. */
export * from "./spec";
export * from "./borgmatic-config";
export * from "./systemd";
export * from "./quiesce";
export * from "./commands";
export * from "./from-strategy";
export { asRoot, shellQuote } from "./shell";
export { AGENT_TYPE, BorgmaticAgent, type BorgmaticAgentArgs, type BorgmaticAgentConnection } from "./agent";
