/**
 * Which data classes a restore test covers, read from the registered resources: the restore
 * test's deploy command carries the generated script, whose settings list the services it draws
 * from weekly (`SVC_NAME`) and restores in full monthly (`MONTHLY`); a database restore test is
 * a component named `<agent>-restore-test`.
 */
import { ResourceIndex, str, T, type ModelResource } from "./resource";

export const RESTORE_TEST_TYPE = "homelab:verify:RestoreTest";
export const DATABASE_RESTORE_TEST_TYPE = "homelab:verify:DatabaseRestoreTest";

export interface RestoreTestCoverage {
  /** Services in some weekly random draw. */
  weekly: Set<string>;
  /** Services restored in full every month. */
  monthly: Set<string>;
  /** Agents whose database dumps are restored into scratch databases. */
  databaseAgents: Set<string>;
}

/** The words of a bash array assignment in a script: `NAME=(a 'b c' d)` → ["a", "b c", "d"]. */
export function bashArray(script: string, name: string): string[] {
  const m = new RegExp(`^${name}=\\(([^)]*)\\)$`, "m").exec(script);
  if (!m) return [];
  return [...(m[1] as string).matchAll(/'([^']*)'|(\S+)/g)].map((w) => (w[1] ?? w[2]) as string);
}

const underRestoreTest = (r: ModelResource): boolean => r.urn.includes(`${RESTORE_TEST_TYPE}$`);

export function restoreTestCoverage(resources: readonly ModelResource[]): RestoreTestCoverage {
  const index = new ResourceIndex(resources);
  const coverage: RestoreTestCoverage = { weekly: new Set(), monthly: new Set(), databaseAgents: new Set() };
  for (const command of index.of(T.command).filter(underRestoreTest)) {
    const script = str(command.props["create"]) ?? "";
    for (const s of bashArray(script, "SVC_NAME")) coverage.weekly.add(s);
    for (const s of bashArray(script, "MONTHLY")) coverage.monthly.add(s);
  }
  for (const test of index.of(DATABASE_RESTORE_TEST_TYPE)) coverage.databaseAgents.add(test.name.replace(/-restore-test$/, ""));
  return coverage;
}
