// TEMPORARY until components/pbs lands.
import * as pulumi from "@pulumi/pulumi";
import type { Strategy } from "../config/strategy";
export function createPrimary(_parent: pulumi.Resource, strategy: Strategy, _adminToken: pulumi.Output<string>) {
  const pveTokens: Record<string, { id: pulumi.Output<string>; secret: pulumi.Output<string> }> = {};
  for (const d of strategy.datastores) pveTokens[d.name] = { id: pulumi.output(`${strategy.hosts.pbs.pveUser}!pve`), secret: pulumi.secret("x") };
  return { pveTokens, resources: [] as pulumi.Resource[] };
}
