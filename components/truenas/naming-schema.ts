/**
 * Snapshot naming schemas (`auto-%Y-%m-%d_%H-%M`): the strftime template both sides of a
 * replication must agree on, because a PULL task finds the source's snapshots only by parsing
 * their names with it. Rules mirror zettarepl's `validate_snapshot_naming_schema`.
 */

export const DEFAULT_NAMING_SCHEMA = "auto-%Y-%m-%d_%H-%M";

/** Why TrueNAS would refuse this naming schema, or undefined when it is valid. */
export function namingSchemaProblem(schema: string): string | undefined {
  if (schema === "") return "the naming schema is empty";
  if (schema.includes("%%")) return "% is not an allowed character in ZFS snapshot name";
  const bad = schema.match(/[^0-9A-Za-z %_.:-]/g);
  if (bad) {
    return bad.length === 1
      ? `${bad[0]} is not an allowed character in ZFS snapshot name`
      : `${bad.join("")} are not allowed characters in ZFS snapshot name`;
  }
  if (schema.includes("%s")) {
    return /%[^s]/.test(schema) ? "No other placeholder can be used with %s in naming schema" : undefined;
  }
  for (const s of ["%Y", "%m", "%d", "%H", "%M"]) {
    if (!schema.includes(s)) return `${s} must be present in snapshot naming schema`;
  }
  if (/%z/.test(schema) && schema.includes(":")) {
    return "%z and `:` can't be present in snapshot naming schema at the same time";
  }
  return undefined;
}

/**
 * The placeholders the PBS host's snapshot unit renders with `date`. %z and %s are left out: the
 * first needs TrueNAS's `+`→`:` rewrite, the second drops the fields retention reads.
 */
const PORTABLE = /%[YmdHMS]/g;

/** Why a naming schema cannot be rendered by `date` on the source host, or undefined. */
export function portableSchemaProblem(schema: string): string | undefined {
  const problem = namingSchemaProblem(schema);
  if (problem) return problem;
  const rest = schema.replace(PORTABLE, "");
  if (rest.includes("%")) return "only %Y %m %d %H %M %S are supported for snapshots the PBS host takes";
  return undefined;
}

/** The snapshot name a schema gives for a UTC instant (`%Y %m %d %H %M %S` only). */
export function renderSnapshotName(schema: string, at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  const values: Record<string, string> = {
    "%Y": String(at.getUTCFullYear()),
    "%m": pad(at.getUTCMonth() + 1),
    "%d": pad(at.getUTCDate()),
    "%H": pad(at.getUTCHours()),
    "%M": pad(at.getUTCMinutes()),
    "%S": pad(at.getUTCSeconds()),
  };
  return schema.replace(PORTABLE, (p) => values[p] as string);
}
