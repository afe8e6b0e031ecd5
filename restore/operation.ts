/**
 * One restore, decided: which point, which guest, where to. The dry run prints it with the API
 * calls each step makes; execute.ts carries it out.
 */
import type { Service } from "../config/strategy";
import { isoUtc } from "./format";
import type { GuestType } from "./pve/api";
import type { RestorePoint } from "./points";
import { describePoint } from "./points";

export interface Operation {
  readonly stack: string;
  readonly service: Service;
  readonly guest: {
    readonly vmid: number;
    readonly type: GuestType;
    /** Its node, or where a missing guest is restored. */
    readonly node: string;
    readonly name?: string;
    readonly exists: boolean;
    readonly running: boolean;
  };
  readonly point: RestorePoint;
  /** Where the safety copy goes: the service's own storage, never a replica mounted only to read from. */
  readonly safetyStorage: string;
  /** Why this point (and this copy) was chosen. */
  readonly why: string;
  /** What the user asked for: `latest`, a time, or `chosen` in the wizard's list. */
  readonly requested: string;
  readonly target: { readonly mode: "new" | "in-place"; readonly vmid: number; readonly node: string };
  /** Run inside the guest through its QEMU agent once it answers; exit 0 passes. */
  readonly check?: string;
  readonly validateTimeoutMs: number;
}

const kindOf = (type: GuestType): string => (type === "qemu" ? "VM" : "container");

/** The plan as a person reads it before saying yes, and as `--dry-run` prints it. */
export function describeOperation(op: Operation, now: Date): string[] {
  const { guest, target, point } = op;
  const base = `/nodes/${target.node}/${guest.type}`;
  const at = `${base}/${target.vmid}`;
  const restoreCall =
    guest.type === "qemu"
      ? `POST ${base} vmid=${target.vmid} archive=${point.volid}`
      : `POST ${base} vmid=${target.vmid} ostemplate=${point.volid} restore=1`;
  const validate = [
    `POST ${at}/status/start: start it`,
    guest.type === "qemu"
      ? `POST ${at}/agent/ping: until the QEMU guest agent answers (up to ${Math.round(op.validateTimeoutMs / 1000)} s; a guest without an agent is judged by its running state)`
      : `GET ${at}/status/current: it must be running (containers have no agent)`,
    ...(op.check
      ? guest.type === "qemu"
        ? [`POST ${at}/agent/exec /bin/sh -c ${JSON.stringify(op.check)}: the check must exit 0`]
        : [`(the check ${JSON.stringify(op.check)} is skipped: PVE's API cannot run a command in a container)`]
      : []),
  ];
  const lines = [
    `Service   ${op.service.name} (tier ${op.service.tier.name}, RTO ${op.service.tier.rto})`,
    `Guest     ${guest.vmid}${guest.name ? ` ${guest.name}` : ""} (${kindOf(guest.type)}, ${guest.exists ? `${guest.running ? "running" : "stopped"} on ${guest.node}` : "not on the cluster"})`,
    `Point     ${point.volid}`,
    `          ${describePoint(point, now)}`,
    `          why: ${op.why}`,
  ];
  const steps: string[] = [];
  let failure: string[];
  if (target.mode === "new") {
    lines.push(`Target    new ${kindOf(guest.type)} ${target.vmid} on ${target.node}: a copy; ${guest.vmid} is not touched`);
    steps.push(
      `${restoreCall} unique=1: restore into ${target.vmid} with new MAC addresses`,
      `PUT ${at}/config net<N>=<as restored>,link_down=1 onboot=0 ${guest.type === "qemu" ? "name" : "hostname"}=<name>-restored: disconnect every network device, so the copy cannot clash with ${guest.vmid} on the network (reconnect it yourself when ready)`,
      ...validate,
    );
    failure = [`POST ${at}/status/stop (if running), DELETE ${at}?purge=1&destroy-unreferenced-disks=1: remove the copy`];
  } else if (guest.exists) {
    lines.push(`Target    in place over ${guest.vmid} on ${target.node}: replaces its disks and config`);
    steps.push(
      ...(guest.running ? [`POST ${at}/status/shutdown timeout=120 forceStop=1: stop it, so the safety copy holds every last write`] : []),
      `POST /nodes/${target.node}/vzdump vmid=${guest.vmid} storage=${op.safetyStorage} mode=snapshot protected=1 remove=0: the safety copy, kept protected from prune`,
      `${restoreCall} force=1: restore over ${guest.vmid}`,
      ...validate,
      ...(guest.running ? [] : [`POST ${at}/status/shutdown: it was stopped before, so it is stopped again`]),
    );
    failure = [
      `POST ${at}/status/stop (if running), ${restoreCall.replace(point.volid, "<safety copy>")} force=1: put the safety copy back`,
      guest.running ? `POST ${at}/status/start and wait for the agent: running again, as it was` : "left stopped, as it was",
    ];
  } else {
    lines.push(`Target    ${guest.vmid} on ${target.node}, which is not on the cluster: nothing to protect`);
    steps.push(`${restoreCall}: restore ${guest.vmid}`, ...validate);
    failure = [`POST ${at}/status/stop (if running), DELETE ${at}?purge=1&destroy-unreferenced-disks=1: ${guest.vmid} did not exist before, so it does not after`];
  }
  lines.push("Steps", ...steps.map((s, i) => `  ${i + 1}. ${s}`), "On failure", ...failure.map((s) => `  - ${s}`));
  lines.push(`Requested --at ${op.requested === "chosen" ? isoUtc(point.time) : op.requested}`);
  return lines;
}
