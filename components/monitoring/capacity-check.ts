/**
 * `CapacityCheck`: a timer on the PBS host that checks how full the PBS datastores (and the
 * TrueNAS pools) are, alerts through homelab-backup-notify above the threshold and projects the
 * days until full from the trend.
 */
import * as pulumi from "@pulumi/pulumi";
import type { remote } from "@pulumi/command";
import { renderCapacityEnv, renderCapacityScript, resolveCapacitySpec, type CapacitySpec } from "./capacity-script";
import { checkSteps } from "./check-steps";
import { checkUnitNames, defaultCheckLayout } from "./layout";
import { TRUENAS_QUERY_SCRIPT } from "./truenas-query";
import { MonitoringArgsError, type HostConnection } from "./connection";

export const CAPACITY_CHECK_TYPE = "homelab:monitoring:CapacityCheck";

export interface CapacityCheckArgs extends CapacitySpec {
  /** The host the timer runs on: the PBS host (it reaches the PBS API on 127.0.0.1 and the NAS on the backup VLAN). */
  connection: HostConnection;
  /** Secret of the audit token `pbs.tokenId` (DatastoreAudit on each datastore); a secret. */
  pbsTokenSecret: pulumi.Input<string>;
  /** API key of `truenas.username` (READONLY_ADMIN role); a secret. Required with `truenas`. @default none */
  truenasApiKey?: pulumi.Input<string>;
}

export class CapacityCheck extends pulumi.ComponentResource {
  /** The timer's unit name on the host. */
  readonly timerUnit: string;
  /** The timer's `OnCalendar=` value. */
  readonly onCalendar: string;
  /** The deploy step, for `dependsOn`. */
  readonly deployed: remote.Command;

  constructor(name: string, args: CapacityCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CAPACITY_CHECK_TYPE, name, {}, opts);
    const spec = resolveCapacitySpec(args, `capacity check ${name}`);
    if ((args.truenas === undefined) !== (args.truenasApiKey === undefined)) {
      throw new MonitoringArgsError(`capacity check ${name}`, [
        args.truenas ? "truenasApiKey is missing; expected the API key of truenas.username" : "truenasApiKey is set but truenas is not; expected both or neither",
      ]);
    }
    const layout = defaultCheckLayout("capacity");
    this.timerUnit = checkUnitNames("capacity").timer;
    this.onCalendar = spec.schedule;
    const env = pulumi
      .all([pulumi.output(args.pbsTokenSecret), pulumi.output(args.truenasApiKey)])
      .apply(([secret, key]) => renderCapacityEnv(secret, key));
    const files = [{ path: layout.scriptPath, mode: "0700", content: renderCapacityScript(spec, layout) }];
    if (spec.truenas) files.push({ path: layout.truenasQuery, mode: "0755", content: TRUENAS_QUERY_SCRIPT });
    this.deployed = checkSteps(name, this, {
      kind: "capacity",
      layout,
      connection: args.connection,
      onCalendar: spec.schedule,
      files,
      packages: { curl: "curl", jq: "jq", openssl: "openssl", ...(spec.truenas ? { python3: "python3" } : {}) },
      env,
    });
    this.registerOutputs({ timerUnit: this.timerUnit, onCalendar: this.onCalendar });
  }
}
