/**
 * The Pulumi program: config in, topology out. Shared by `index.ts` (the CLI's entry) and the
 * offline plan, so both run exactly the same code.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadSecrets, loadStrategy } from "../config/load";
import { BackupTopology } from "./topology";

export function runProgram(): Record<string, pulumi.Output<unknown>> {
  const strategy = loadStrategy();
  const secrets = loadSecrets();
  const topology = new BackupTopology(strategy.site, { strategy, secrets });
  return topology.stackOutputs();
}
