/**
 * Restore tests: the PVE node's weekly random and monthly full restore of guests into isolated
 * scratch guests, and the agent hosts' database restores into scratch databases. Generators are
 * pure (options in, script and units out); the components ship their output over SSH.
 */
export {
  DEFAULT_LOG_PATH,
  DEFAULT_NOTIFY_COMMAND,
  RestoreTestConfigError,
  scheduleOnCalendar,
  type Schedule,
  type VerifyConnection,
} from "./common";
export * from "./restore-test-script";
export * from "./database-restore-script";
export * from "./from-strategy";
export { renderUnits, type UnitOptions, type UnitPair } from "./systemd";
export {
  RESTORE_TEST_DEPLOY_DEFAULTS,
  RESTORE_TEST_TYPE,
  RestoreTest,
  restoreTestDeployScript,
  restoreTestDisableScript,
  restoreTestFiles,
  type RestoreTestArgs,
  type RestoreTestFile,
} from "./restore-test";
export {
  DATABASE_RESTORE_DEPLOY_DEFAULTS,
  DATABASE_RESTORE_TEST_TYPE,
  DatabaseRestoreTest,
  databaseRestoreTestDeployScript,
  databaseRestoreTestDisableScript,
  databaseRestoreTestFiles,
  type DatabaseRestoreTestArgs,
  type DatabaseRestoreTestFiles,
} from "./database-restore-test";
