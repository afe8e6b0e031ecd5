/**
 * The remote steps of a timer check, shared by `CapacityCheck` and `FreshnessCheck`:
 *
 *   install ─► secrets (root-only env file from stdin) ─► deploy (scripts, units, timer on)
 *
 * Removing a check stops its timer and removes what it wrote: a monitor holds no data worth
 * keeping, and its token should not outlive it.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { shellQuote } from "../agents/shell";
import { rootStep, sshConnection, type HostConnection } from "./connection";
import type { CheckKind, CheckLayout } from "./layout";
import { deployFilesScript, installPackagesScript, removeSecretsScript, secretsFileScript, type HostFile } from "./remote-steps";
import { renderCheckUnits } from "./systemd";

export interface CheckStepsInput {
  kind: CheckKind;
  layout: CheckLayout;
  connection: HostConnection;
  onCalendar: string;
  /** Executable files besides the units, the check script first. */
  files: HostFile[];
  /** Commands the scripts need, and the Debian package of each. */
  packages: Record<string, string>;
  /** The env file's text; secret. */
  env: pulumi.Input<string>;
}

/** What the deploy step writes, path by path, with modes. */
export function checkFiles(input: Pick<CheckStepsInput, "kind" | "layout" | "onCalendar" | "files">): HostFile[] {
  const units = renderCheckUnits(input.kind, input.layout, input.onCalendar);
  return [
    ...input.files,
    { path: `${input.layout.unitDir}/${units.serviceName}`, mode: "0644", content: units.service },
    { path: `${input.layout.unitDir}/${units.timerName}`, mode: "0644", content: units.timer },
  ];
}

export function checkDeployScript(input: Pick<CheckStepsInput, "kind" | "layout" | "onCalendar" | "files">): string {
  const units = renderCheckUnits(input.kind, input.layout, input.onCalendar);
  return deployFilesScript(`homelab-backup ${input.kind} check`, checkFiles(input), ["systemctl daemon-reload", `systemctl enable --now ${units.timerName}`]);
}

export function checkRemoveScript(input: Pick<CheckStepsInput, "kind" | "layout" | "onCalendar" | "files">): string {
  const units = renderCheckUnits(input.kind, input.layout, input.onCalendar);
  const paths = checkFiles(input).map((f) => shellQuote(f.path));
  return [
    "set -eu",
    `if [ -e ${shellQuote(`${input.layout.unitDir}/${units.timerName}`)} ]; then`,
    `  systemctl disable --now ${units.timerName}`,
    "fi",
    `rm -f ${paths.join(" ")}`,
    `rm -rf ${shellQuote(input.layout.stateDir)}`,
    "systemctl daemon-reload",
  ].join("\n");
}

/** Registers the three steps under `parent`; returns the deploy step. */
export function checkSteps(name: string, parent: pulumi.Resource, input: CheckStepsInput): remote.Command {
  const connection = sshConnection(input.connection);
  const root = (s: string) => rootStep(input.connection, s);
  const install = new remote.Command(`${name}-install`, { connection, create: root(installPackagesScript(input.packages)) }, { parent });
  const secrets = new remote.Command(
    `${name}-secrets`,
    {
      connection,
      create: root(secretsFileScript(input.layout.envFile)),
      stdin: pulumi.secret(input.env),
      delete: root(removeSecretsScript(input.layout.envFile)),
      logging: "stderr",
    },
    { parent, dependsOn: [install] },
  );
  return new remote.Command(
    `${name}-deploy`,
    {
      connection,
      create: root(checkDeployScript(input)),
      // No triggers: a changed script is an update (create runs again), not a replacement.
      delete: root(checkRemoveScript(input)),
    },
    // Should it be replaced, the old timer goes before the new one starts, not after.
    { parent, dependsOn: [secrets], deleteBeforeReplace: true },
  );
}
