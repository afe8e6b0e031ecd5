/**
 * `FreshnessCheck`: a timer on the PBS host that alerts when a service's newest backups are
 * older than its tier's RPO, and when a backup task runs past its job's expected duration.
 */
import * as pulumi from "@pulumi/pulumi";
import type { remote } from "@pulumi/command";
import type { HostConnection } from "./connection";
import { checkSteps } from "./check-steps";
import { renderFreshnessEnv, renderFreshnessScript, resolveFreshnessSpec, type FreshnessSpec } from "./freshness-script";
import { checkUnitNames, defaultCheckLayout } from "./layout";

export const FRESHNESS_CHECK_TYPE = "homelab:monitoring:FreshnessCheck";

export interface FreshnessCheckArgs extends FreshnessSpec {
  /** The host the timer runs on: the PBS host. */
  connection: HostConnection;
  /**
   * Secret of the audit token `pbs.tokenId`; a secret. The token needs DatastoreAudit on each
   * datastore and Audit on `/system/tasks` (without the latter PBS lists only the token's own
   * tasks, and long-running backups go unseen).
   */
  pbsTokenSecret: pulumi.Input<string>;
}

export class FreshnessCheck extends pulumi.ComponentResource {
  /** The timer's unit name on the host. */
  readonly timerUnit: string;
  /** The timer's `OnCalendar=` value. */
  readonly onCalendar: string;
  /** The deploy step, for `dependsOn`. */
  readonly deployed: remote.Command;

  constructor(name: string, args: FreshnessCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FRESHNESS_CHECK_TYPE, name, {}, opts);
    const spec = resolveFreshnessSpec(args, `freshness check ${name}`);
    const layout = defaultCheckLayout("freshness");
    this.timerUnit = checkUnitNames("freshness").timer;
    this.onCalendar = spec.schedule;
    this.deployed = checkSteps(name, this, {
      kind: "freshness",
      layout,
      connection: args.connection,
      onCalendar: spec.schedule,
      files: [{ path: layout.scriptPath, mode: "0700", content: renderFreshnessScript(spec, layout) }],
      packages: { curl: "curl", jq: "jq", openssl: "openssl" },
      env: pulumi.output(args.pbsTokenSecret).apply(renderFreshnessEnv),
    });
    this.registerOutputs({ timerUnit: this.timerUnit, onCalendar: this.onCalendar });
  }
}
