/** A PBS prune job (`/config/prune`): the only place retention lives (datastores no longer carry keep-*). */
import { COMMENT, type CheckFailure, type FieldTable, type Props } from "./fields";
import { JOB_ID, MAX_DEPTH, namespaceDepthFailures, NS, STORE } from "./job-fields";
import { sectionSpec, type ResourceSpec } from "./provider";

const KEEP = { kind: "integer", deletable: true, min: 1 } as const;

export const KEEP_FIELDS = ["keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"] as const;

export const PRUNE_JOB_FIELDS: FieldTable = {
  jobId: JOB_ID,
  store: STORE,
  schedule: { api: "schedule", kind: "string", required: true, calendar: true },
  ns: NS,
  maxDepth: MAX_DEPTH,
  keepLast: { ...KEEP, api: "keep-last" },
  keepHourly: { ...KEEP, api: "keep-hourly" },
  keepDaily: { ...KEEP, api: "keep-daily" },
  keepWeekly: { ...KEEP, api: "keep-weekly" },
  keepMonthly: { ...KEEP, api: "keep-monthly" },
  keepYearly: { ...KEEP, api: "keep-yearly" },
  comment: COMMENT,
  // PBS stores `disable` only when true, so false and absent are the same.
  disable: { api: "disable", kind: "boolean", deletable: true, omitWhen: false },
};

export function validatePruneJob(inputs: Props): CheckFailure[] {
  const failures = namespaceDepthFailures(inputs);
  if (KEEP_FIELDS.every((k) => inputs[k] === undefined)) {
    failures.push({ property: "keepLast", reason: "a prune job without keep-* options keeps everything; set at least one of keepLast..keepYearly" });
  }
  return failures;
}

export const pruneJobSpec: ResourceSpec = sectionSpec({
  kind: "prune job",
  fields: PRUNE_JOB_FIELDS,
  collection: "/config/prune",
  idField: "jobId",
  digestOnDelete: true,
  validate: validatePruneJob,
});
