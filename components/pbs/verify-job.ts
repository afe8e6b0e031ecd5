/** A PBS verify job (`/config/verify`): re-reads chunks and checks their digests on a schedule. */
import { COMMENT, type FieldTable } from "./fields";
import { JOB_ID, MAX_DEPTH, namespaceDepthFailures, NS, STORE } from "./job-fields";
import { sectionSpec, type ResourceSpec } from "./provider";

export const VERIFY_JOB_FIELDS: FieldTable = {
  jobId: JOB_ID,
  store: STORE,
  // Optional in PBS: without a schedule the job only runs by hand.
  schedule: { api: "schedule", kind: "string", deletable: true, calendar: true },
  ns: NS,
  maxDepth: MAX_DEPTH,
  ignoreVerified: { api: "ignore-verified", kind: "boolean", deletable: true },
  // 0 is deprecated in PBS (it means "always re-verify"); leave it unset for "never outdated".
  outdatedAfterDays: { api: "outdated-after", kind: "integer", deletable: true, min: 1 },
  comment: COMMENT,
};

export const verifyJobSpec: ResourceSpec = sectionSpec({
  kind: "verify job",
  fields: VERIFY_JOB_FIELDS,
  collection: "/config/verify",
  idField: "jobId",
  digestOnDelete: true,
  validate: namespaceDepthFailures,
});
