/** Restore points: the backups PVE lists on a storage, newest first, as the wizard shows them. */
import type { BackupEntry } from "./pve/api";
import { humanSize, shortUtc, span } from "./format";

export interface RestorePoint extends BackupEntry {
  readonly time: Date;
  readonly storage: string;
}

export function restorePoints(storage: string, entries: readonly BackupEntry[], vmid: number): RestorePoint[] {
  return entries
    .filter((e) => e.vmid === vmid)
    .map((e) => ({ ...e, storage, time: new Date(e.ctime * 1000) }))
    .sort((a, b) => b.time.getTime() - a.time.getTime());
}

/** A point whose last verification failed would restore damaged data: never picked, shown disabled. */
export function isUsable(point: RestorePoint): boolean {
  return point.verification !== "failed";
}

export function verificationText(point: RestorePoint): string {
  if (point.verification === "ok") return "verified";
  if (point.verification === "failed") return "verification FAILED";
  return "not verified yet";
}

/** `2026-11-27 02:00 UTC (1d 8h ago) · 8.0 GiB · verified · protected`, and the notes when `withNotes`. */
export function describePoint(point: RestorePoint, now: Date, withNotes = true): string {
  const parts = [
    `${shortUtc(point.time)} (${span(now.getTime() - point.time.getTime())} ago)`,
    humanSize(point.size),
    verificationText(point),
    ...(point.protected ? ["protected"] : []),
    ...(withNotes && point.notes ? [point.notes] : []),
  ];
  return parts.join(" · ");
}
